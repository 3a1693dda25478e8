/*
 * fuzz-config.c - libFuzzer target for the config file parser: arbitrary
 * bytes as a horcrux.conf against a table with every option type, and the
 * same bytes as argv words (one a line) for hx_config_parse_argv, going
 * on after each failure from where it says, as a completer does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-config.h"
#include "hx-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *choices[] = { "a", "b", NULL };

static const struct hx_opt table[] = {
	{ "s", 0, HX_OPT_STRING, "x", 0, 0, NULL, "S", "s", 0, NULL },
	{ "i", 0, HX_OPT_INT, "1", -5, 5, NULL, "N", "i", 0, NULL },
	{ "d", 0, HX_OPT_SECONDS, "1", 0.1, 10, NULL, "S", "d", 0, NULL },
	{ "b", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL, "b", 0, NULL },
	{ "c", 0, HX_OPT_CHOICE, "a", 0, 0, choices, "C", "c", 0, NULL },
	{ "l", 0, HX_OPT_LIST, "/", 0, 0, NULL, "L", "l", 0, NULL },
	{ "f", 'f', HX_OPT_BOOL, "no", 0, 0, NULL, NULL, "f", HX_OPT_CLI_ONLY,
	  NULL },
	{ "e", 'e', HX_OPT_BOOL, NULL, 0, 0, NULL, NULL, "e",
	  HX_OPT_CLI_ONLY | HX_OPT_SHORT_ONLY, NULL },
	{ "h", 'h', HX_OPT_BOOL, NULL, 0, 0, NULL, NULL, "h",
	  HX_OPT_CLI_ONLY | HX_OPT_STOP, NULL },
	{ "o", 'o', HX_OPT_STRING, NULL, 0, 0, NULL, "O", "o",
	  HX_OPT_CLI_ONLY | HX_OPT_EMPTY_OK, NULL },
};

#define ARGV_MAX	32

/* text's lines as argv words; the first byte of data chooses how. */
static void
fuzz_argv(char *text, int how)
{
	struct hx_config	 cfg;
	struct hx_args_result	 r;
	char			*argv[ARGV_MAX + 1], *p, *err = NULL;
	int			 argc = 0, i = 0, rc;

	for (p = text; argc < ARGV_MAX && p != NULL; argc++) {
		argv[argc] = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
	}
	argv[argc] = NULL;
	hx_config_init(&cfg, table, HX_ARRAY_SIZE(table));
	for (;;) {
		rc = hx_config_parse_argv(&cfg, argc, argv, i, how, &r, &err);
		free(err);
		err = NULL;
		if (r.next < i || r.next > argc || (rc != 0) != (r.stop !=
		    HX_ARGS_END))
			abort();
		if (rc == 0 || r.next == i || r.next >= argc)
			break;
		i = r.next;
	}
	hx_config_release(&cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hx_config	 cfg;
	char			*text, *err = NULL;

	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	hx_config_init(&cfg, table, HX_ARRAY_SIZE(table));
	(void)hx_config_load_text(&cfg, "fuzz.conf", text, &err);
	free(err);
	hx_config_release(&cfg);
	fuzz_argv(text, size > 0 ? data[0] & 3 : 0);
	free(text);
	return 0;
}
