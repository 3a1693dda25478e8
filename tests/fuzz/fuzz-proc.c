/*
 * fuzz-proc.c - libFuzzer target for the /proc parsers (lib/hx-proc.c).
 *
 * Feeds the same arbitrary bytes, NUL-terminated, to every hx_proc_
 * parser, and checks the contract the sampler relies on: 0 with a usable
 * result, or -1 with a message and an empty result, never both, never a
 * crash, leak or undefined behaviour. It does not judge the parsed
 * values; the unit tests do that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-proc.h"
#include "hx-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The contract is broken: stop the fuzzer here, with a stack. */
#define CHECK(cond) do {						\
	if (!(cond))							\
		abort();						\
} while (0)

static int
keep_even(const char *name, void *arg)
{
	size_t	*calls = arg;

	(*calls)++;
	return strlen(name) % 2 == 0;
}

/* Check what every parser promises about its return value and err. */
static void
check_result(int r, char *err)
{
	CHECK(r == 0 || r == -1);
	CHECK((r == 0) == (err == NULL));
	if (err != NULL)
		CHECK(strncmp(err, "cannot parse /proc/", 19) == 0);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hx_proc_stat		 st;
	struct hx_proc_meminfo		 mi;
	struct hx_proc_diskstats	 ds;
	struct hx_proc_netdev		 nd;
	double				 la[3], up;
	char				*text, *err;
	size_t				 i, calls = 0;
	int				 r;

	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	err = NULL;
	r = hx_proc_stat_parse(text, &st, &err);
	check_result(r, err);
	if (r == 0) {
		CHECK(st.ncpus > 0 && st.total.id == -1);
		for (i = 1; i < st.ncpus; i++)
			CHECK(st.cpus[i - 1].id < st.cpus[i].id);
		for (i = 0; i < st.ncpus; i++)
			(void)hx_proc_cpu_usage(&st.total, &st.cpus[i]);
	} else
		CHECK(st.cpus == NULL && st.ncpus == 0);
	hx_proc_stat_release(&st);

	err = NULL;
	r = hx_proc_meminfo_parse(text, &mi, &err);
	check_result(r, err);
	if (r == 0)
		CHECK(!mi.available_estimated || mi.available <= mi.total);

	err = NULL;
	check_result(hx_proc_loadavg_parse(text, la, &err), err);
	err = NULL;
	check_result(hx_proc_uptime_parse(text, &up, &err), err);

	err = NULL;
	r = hx_proc_diskstats_parse(text, keep_even, &calls, &ds, &err);
	check_result(r, err);
	CHECK(ds.ndisks <= calls);
	for (i = 0; i < ds.ndisks; i++)
		CHECK(strlen(ds.disks[i].name) % 2 == 0);
	hx_proc_diskstats_release(&ds);
	err = NULL;
	check_result(hx_proc_diskstats_parse(text, NULL, NULL, &ds, &err), err);
	hx_proc_diskstats_release(&ds);

	err = NULL;
	r = hx_proc_netdev_parse(text, &nd, &err);
	check_result(r, err);
	for (i = 0; i < nd.nifs; i++)
		CHECK(*nd.ifs[i].name != '\0' &&
		    strcmp(nd.ifs[i].name, "lo") != 0);
	hx_proc_netdev_release(&nd);

	free(text);
	return 0;
}
