/*
 * test-virt.c - unit tests for libvirt domain sampling (lib/hx-virt.c).
 *
 * The rate math is checked first with synthetic numbers, since no driver
 * can be made to run a counter backwards on demand. Then the sampler and
 * the REST documents run in-process against libvirt's test driver:
 * test:///default (one running domain "test", 2 vCPUs, a balloon, disk
 * vda and NIC testnet0) and a node file written to a temporary directory
 * with running, paused and shut-off domains, one of them named with
 * quotes, markup and non-ASCII. The test driver answers only state.* in
 * bulk, so everything else goes through the per-domain fallbacks; its
 * per-domain counters are derived from the wall clock, so they move but
 * can only be checked for range and direction, never for a value.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "tap.h"
#include "hx-event.h"
#include "hx-util.h"
#include "hx-virt.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)

#define ODD_NAME "q\"uote's <b> & \xc3\xbcn\xc3\xaf \xf0\x9f\x90\x8d"
#define ODD_NAME_XML \
	"q\"uote's &lt;b&gt; &amp; \xc3\xbcn\xc3\xaf \xf0\x9f\x90\x8d"
#define WEB_UUID "11111111-2222-3333-4444-555555555501"

/*
 * The test driver's namespace must be the versioned one: with
 * ".../domain/test" (no /1.0) the runstate elements are silently ignored
 * and every domain starts running.
 */
static const char node_xml[] =
    "<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
    "  <domain type='test'>\n"
    "    <name>web-1</name>\n"
    "    <uuid>" WEB_UUID "</uuid>\n"
    "    <memory unit='MiB'>1024</memory>\n"
    "    <currentMemory unit='MiB'>512</currentMemory>\n"
    "    <vcpu>2</vcpu>\n"
    "    <os><type>hvm</type></os>\n"
    "    <metadata>\n"
    "      <app:x xmlns:app='http://example.org/app'><devices><disk>\n"
    "        <target dev='decoy'/></disk></devices><!-- <disk> -->\n"
    "      </app:x>\n"
    "    </metadata>\n"
    "    <devices>\n"
    "      <disk type='file' device='disk'>\n"
    "        <source file='/var/lib/images/web-1.qcow2'/>\n"
    "        <target dev='vda' bus='virtio'/>\n"
    "      </disk>\n"
    "      <disk type='block' device='disk'>\n"
    "        <source dev='/dev/vg0/web-1-data'/>\n"
    "        <target dev='vdb' bus='virtio'/>\n"
    "      </disk>\n"
    "      <disk type='file' device='cdrom'>\n"
    "        <target dev='hdc' bus='ide'/>\n"
    "        <readonly/>\n"
    "      </disk>\n"
    "      <interface type='network'>\n"
    "        <mac address='52:54:00:aa:bb:01'/>\n"
    "        <source network='default'/>\n"
    "      </interface>\n"
    "      <interface type='bridge'>\n"
    "        <mac address='52:54:00:aa:bb:02'/>\n"
    "        <source bridge='br0'/>\n"
    "        <target dev='vnet7'/>\n"
    "        <model type='virtio'/>\n"
    "      </interface>\n"
    "      <memballoon model='virtio'/>\n"
    "    </devices>\n"
    "    <test:runstate>1</test:runstate>\n"
    "  </domain>\n"
    "  <domain type='test'>\n"
    "    <name>db-1</name>\n"
    "    <memory unit='MiB'>256</memory>\n"
    "    <vcpu>1</vcpu>\n"
    "    <os><type>hvm</type></os>\n"
    "    <test:runstate>3</test:runstate>\n"
    "  </domain>\n"
    "  <domain type='test'>\n"
    "    <name>off-1</name>\n"
    "    <memory unit='MiB'>256</memory>\n"
    "    <vcpu>1</vcpu>\n"
    "    <os><type>hvm</type></os>\n"
    "    <test:runstate>5</test:runstate>\n"
    "  </domain>\n"
    "  <domain type='test'>\n"
    "    <name>" ODD_NAME_XML "</name>\n"
    "    <memory unit='MiB'>128</memory>\n"
    "    <vcpu>1</vcpu>\n"
    "    <os><type>hvm</type></os>\n"
    "    <test:runstate>1</test:runstate>\n"
    "  </domain>\n"
    "</node>\n";

/* libvirt prints every error to stderr unless the program says otherwise. */
static void
quiet(void *arg, virErrorPtr e)
{
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static const struct hx_vm_sample *
find(const struct hx_vm_sample *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	}
	return NULL;
}

static int
in_pct(double v)
{
	return !isnan(v) && v >= 0 && v <= 100;
}

static int
rate_ok(double v)
{
	return !isnan(v) && v >= 0 && isfinite(v);
}

static int
sample(struct hx_virt_sampler *s, virConnectPtr c, struct hx_vm_sample **v,
    size_t *n)
{
	char *err = NULL;
	int   r;

	r = hx_virt_sample(s, c, hx_mono_ns(), v, n, &err);
	if (r != 0)
		printf("# hx_virt_sample: %s\n", tap_s(err));
	free(err);
	return r;
}

static void
test_state_words(void)
{
	is_str(hx_virt_state_word(VIR_DOMAIN_RUNNING), "running", "RUNNING");
	is_str(hx_virt_state_word(VIR_DOMAIN_BLOCKED), "running", "BLOCKED");
	is_str(hx_virt_state_word(VIR_DOMAIN_PAUSED), "paused", "PAUSED");
	is_str(hx_virt_state_word(VIR_DOMAIN_SHUTDOWN), "shutdown", "SHUTDOWN");
	is_str(hx_virt_state_word(VIR_DOMAIN_SHUTOFF), "stopped", "SHUTOFF");
	is_str(hx_virt_state_word(VIR_DOMAIN_CRASHED), "crashed", "CRASHED");
	is_str(hx_virt_state_word(VIR_DOMAIN_PMSUSPENDED), "suspended",
	    "PMSUSPENDED");
	is_str(hx_virt_state_word(VIR_DOMAIN_NOSTATE), "unknown", "NOSTATE");
	is_str(hx_virt_state_word(99), "unknown", "out of range state");
	is_str(hx_virt_state_word(-1), "unknown", "negative state");
}

static void
test_rate(void)
{
	is_near(hx_virt_rate(1000, 3000, SEC / 2), 4000, 1e-9,
	    "rate: 2000 bytes in 0.5 s is 4000 B/s");
	is_near(hx_virt_rate(5, 5, SEC), 0, 0, "rate: no change is 0");
	ok(isnan(hx_virt_rate(3000, 1000, SEC)),
	    "rate: a counter that went backwards gives NaN");
	ok(isnan(hx_virt_rate(0, 1000, 0)), "rate: no time gives NaN");
	ok(isnan(hx_virt_rate(-1, 1000, SEC)), "rate: unknown prev gives NaN");
	ok(isnan(hx_virt_rate(1000, -1, SEC)), "rate: unknown cur gives NaN");
	is_near(hx_virt_rate(INT64_MAX - 1000, INT64_MAX, 10 * MS), 100000,
	    1e-6, "rate: large counters keep their precision in the delta");
}

static void
test_cpu_usage(void)
{
	is_near(hx_virt_cpu_usage(1 * SEC, 2 * SEC, 2, SEC), 50, 1e-9,
	    "cpu: 1 s of 2 vCPUs over 1 s is 50%%");
	is_near(hx_virt_cpu_usage(0, 300 * MS, 4, 100 * MS), 75, 1e-9,
	    "cpu: 300 ms of 4 vCPUs over 100 ms is 75%%");
	is_near(hx_virt_cpu_usage(0, 3 * SEC, 2, SEC), 100, 0,
	    "cpu: more than vcpus x dt is clamped to 100");
	is_near(hx_virt_cpu_usage(7, 7, 1, SEC), 0, 0, "cpu: idle is 0");
	ok(isnan(hx_virt_cpu_usage(5 * SEC, 1 * SEC, 2, SEC)),
	    "cpu: cpu time that went backwards (restart) gives NaN");
	ok(isnan(hx_virt_cpu_usage(0, SEC, 0, SEC)), "cpu: 0 vCPUs gives NaN");
	ok(isnan(hx_virt_cpu_usage(0, SEC, 2, 0)), "cpu: no time gives NaN");
}

static void
test_ctrs_rate(void)
{
	const struct hx_virt_ctr prev[] = {
		{ "vda", 1000, 2000 },
		{ "vdb", 500, 500 },
		{ "gone", 1, 1 },
	};
	const struct hx_virt_ctr cur[] = {
		{ "vdb", 1500, 700 }, { "vda", 3000, 2000 },
		{ "vdc", 10, 10 }, /* hot-plugged: no baseline */
	};
	const struct hx_virt_ctr back[] = {
		{ "vda", 3000, 2100 },
		{ "vdb", 400, 900 }, /* reads went backwards */
	};
	const struct hx_virt_ctr unk[] = {
		{ "vda", -1, 2500 },
		{ "vdb", -1, 600 },
	};
	double ea[3], eb[3], sa, sb;

	hx_virt_ctrs_rate(prev, 3, cur, 3, SEC, ea, eb, &sa, &sb);
	is_near(ea[0], 1000, 1e-9, "ctrs: vdb read rate matched by name");
	is_near(eb[0], 200, 1e-9, "ctrs: vdb write rate");
	is_near(ea[1], 2000, 1e-9, "ctrs: vda read rate");
	is_near(eb[1], 0, 0, "ctrs: vda idle write rate is 0");
	ok(isnan(ea[2]) && isnan(eb[2]), "ctrs: a new device has no rate");
	is_near(sa, 3000, 1e-9, "ctrs: read sum over matched devices");
	is_near(sb, 200, 1e-9, "ctrs: write sum over matched devices");

	hx_virt_ctrs_rate(prev, 3, back, 2, SEC / 2, ea, eb, &sa, &sb);
	ok(isnan(ea[1]), "ctrs: the device that went backwards has no rate");
	ok(isnan(sa),
	    "ctrs: a reset makes the family's read rate NaN, "
	    "not a dip");
	is_near(ea[0], 4000, 1e-9, "ctrs: the other device keeps its rate");
	is_near(sb, 200 + 800, 1e-9,
	    "ctrs: the write direction, which did not reset, still sums");

	hx_virt_ctrs_rate(prev, 3, unk, 2, SEC, ea, eb, &sa, &sb);
	ok(isnan(sa), "ctrs: unknown counters give a NaN sum");
	is_near(sb, 600, 1e-9, "ctrs: known counters still sum");

	hx_virt_ctrs_rate(NULL, 0, cur, 3, SEC, NULL, NULL, &sa, &sb);
	ok(isnan(sa) && isnan(sb), "ctrs: no baseline gives NaN sums");
	hx_virt_ctrs_rate(prev, 3, NULL, 0, SEC, NULL, NULL, &sa, &sb);
	ok(isnan(sa) && isnan(sb), "ctrs: no devices gives NaN sums");
	hx_virt_ctrs_rate(prev, 3, cur, 3, 0, ea, eb, &sa, &sb);
	ok(isnan(sa) && isnan(ea[0]), "ctrs: no time gives NaN");
}

static void
test_memory_used(void)
{
	struct hx_virt_balloon b = { -1, -1, -1, -1, -1, -1 };

	is_int(hx_virt_memory_used(&b), -1, "memory: nothing reported is -1");
	b.current = 2048;
	b.maximum = 4096;
	is_int(hx_virt_memory_used(&b), -1,
	    "memory: the allocation alone is not passed off as use");
	b.available = 2000;
	b.usable = 1500;
	is_int(hx_virt_memory_used(&b), 500 * KIB,
	    "memory: available - usable when that is all there is");
	b.unused = 1024;
	is_int(hx_virt_memory_used(&b), 1024 * KIB,
	    "memory: current - unused before available - usable");
	b.rss = 300;
	is_int(hx_virt_memory_used(&b), 300 * KIB, "memory: rss first");
	b.rss = -1;
	b.unused = 4096;
	is_int(hx_virt_memory_used(&b), 500 * KIB,
	    "memory: unused above current is not trusted");
}

static void
test_default(void)
{
	struct hx_virt_sampler	  *s;
	struct hx_vm_sample	  *v1 = NULL, *v2 = NULL;
	const struct hx_vm_sample *a;
	virConnectPtr		   c;
	virDomainPtr		   dom;
	json_t			  *j, *m, *d;
	char			  *err = NULL;
	size_t			   n1 = 0, n2 = 0;

	if ((c = virConnectOpen("test:///default")) == NULL) {
		ok(0, "open test:///default: %s", virGetLastErrorMessage());
		return;
	}
	s = hx_virt_sampler_new();
	is_int(sample(s, c, &v1, &n1), 0, "default: first sample");
	is_int(n1, 1, "default: one active domain");
	if (n1 != 1)
		goto out;
	a = &v1[0];
	is_str(a->vm_id, "test", "default: vm_id is the domain name");
	is_str(a->name, "test", "default: name");
	ok(a->m.vm_id == a->vm_id && a->m.name == a->name,
	    "default: m.vm_id and m.name point at the sample's strings");
	is_str(a->uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f",
	    "default: uuid");
	is_str(a->state, "running", "default: state");
	ok(a->timestamp_ms > 0, "default: wall-clock timestamp");
	ok(isnan(a->m.cpu_usage), "default: first sample's cpu_usage is NaN");
	is_int(a->m.vcpus, 2, "default: vcpus (GetInfo fallback)");
	is_int(a->m.memory_bytes, 1 * GIB,
	    "default: memory_bytes is the balloon's RSS (MemoryStats)");
	is_int(a->m.memory_max_bytes, 8 * GIB, "default: memory_max_bytes");
	is_near(a->m.memory_usage, 12.5, 1e-9, "default: memory_usage");
	is_int(a->ndisks, 1, "default: one disk");
	is_int(a->nnics, 1, "default: one NIC");
	if (a->ndisks != 1 || a->nnics != 1)
		goto out;
	is_str(a->disks[0].target, "vda", "default: disk target");
	is_str(a->nics[0].target, "testnet0", "default: NIC target");
	ok(a->m.disk_read >= 0 && a->m.disk_write >= 0 &&
		a->m.network_rx >= 0 && a->m.network_tx >= 0,
	    "default: cumulative counters read (BlockStats, InterfaceStats)");
	is_int(a->m.disk_read, a->disks[0].a,
	    "default: disk_read sums the disks");
	ok(isnan(a->m.disk_read_bps) && isnan(a->m.network_tx_bps) &&
		isnan(a->disks[0].a_bps) && isnan(a->nics[0].a_bps),
	    "default: first sample's rates are NaN");

	sleep_ms(100);
	is_int(sample(s, c, &v2, &n2), 0, "default: second sample");
	is_int(n2, 1, "default: still one domain");
	if (n2 != 1)
		goto out;
	a = &v2[0];
	ok(in_pct(a->m.cpu_usage), "default: cpu_usage %.2f within 0..100",
	    a->m.cpu_usage);
	ok(rate_ok(a->m.disk_read_bps) && rate_ok(a->m.disk_write_bps),
	    "default: disk rates %.0f/%.0f >= 0", a->m.disk_read_bps,
	    a->m.disk_write_bps);
	ok(rate_ok(a->m.network_rx_bps) && rate_ok(a->m.network_tx_bps),
	    "default: network rates %.0f/%.0f >= 0", a->m.network_rx_bps,
	    a->m.network_tx_bps);
	ok(rate_ok(a->disks[0].a_bps) && rate_ok(a->nics[0].b_bps),
	    "default: per-device rates >= 0");
	is_near(a->m.disk_read_bps, a->disks[0].a_bps, 1e-6,
	    "default: family rate is the sum of the device rates");
	ok(a->m.disk_read >= v1[0].m.disk_read &&
		a->m.disk_write >= v1[0].m.disk_write &&
		a->m.network_rx >= v1[0].m.network_rx &&
		a->m.network_tx >= v1[0].m.network_tx,
	    "default: cumulative counters did not go backwards");

	/* GET /api/vms/:id with the latest sample. */
	dom = virDomainLookupByName(c, "test");
	j = hx_virt_domain_json(dom, a, &err);
	ok(j != NULL, "domain_json: built (%s)", tap_s(err));
	if (j != NULL) {
		is_str(json_string_value(json_object_get(j, "id")), "test",
		    "domain_json: id");
		is_str(json_string_value(json_object_get(j, "state")),
		    "running", "domain_json: state");
		is_int(json_integer_value(json_object_get(j, "vcpus")), 2,
		    "domain_json: vcpus");
		is_int(json_integer_value(json_object_get(j, "memory_bytes")),
		    2 * GIB, "domain_json: memory_bytes is the allocation");
		is_int(json_integer_value(
			   json_object_get(j, "memory_max_bytes")),
		    8 * GIB, "domain_json: max");
		ok(json_is_false(json_object_get(j, "autostart")) &&
			json_is_true(json_object_get(j, "persistent")),
		    "domain_json: autostart false, persistent true");
		d = json_array_get(json_object_get(j, "disks"), 0);
		is_str(json_string_value(json_object_get(d, "source")),
		    "/guest/diskimage1", "domain_json: disk source");
		is_str(json_string_value(json_object_get(d, "bus")), "virtio",
		    "domain_json: disk bus");
		d = json_array_get(json_object_get(j, "nics"), 0);
		is_str(json_string_value(json_object_get(d, "mac")),
		    "aa:bb:cc:dd:ee:ff", "domain_json: nic mac");
		is_str(json_string_value(json_object_get(d, "source")),
		    "default", "domain_json: nic source network");
		ok(json_is_null(json_object_get(d, "model")),
		    "domain_json: a missing nic model is null, not absent");
		m = json_object_get(j, "metrics");
		is_str(json_string_value(json_object_get(m, "vm_id")), "test",
		    "domain_json: metrics are the sample's VmMetrics");
		ok(json_is_number(json_object_get(m, "cpu_usage")) &&
			json_is_string(json_object_get(m, "timestamp")),
		    "domain_json: metrics carry cpu_usage and timestamp");
		json_decref(j);
	}
	free(err);
	err = NULL;
	j = hx_virt_domain_json(dom, NULL, &err);
	ok(j != NULL && json_is_null(json_object_get(j, "metrics")),
	    "domain_json: no sample gives metrics null");
	json_decref(j);
	free(err);
	virDomainFree(dom);
out:
	hx_vm_samples_free(v1, n1);
	hx_vm_samples_free(v2, n2);
	hx_virt_sampler_free(s);
	virConnectClose(c);
}

/* The keys of o, in order, joined by ','. */
static char *
keys(json_t *o)
{
	struct hx_buf b;
	const char   *k;
	json_t	     *val;

	hx_buf_init(&b, 0);
	json_object_foreach(o, k, val) {
		if (b.len > 0)
			hx_buf_add(&b, ",", 1);
		hx_buf_add(&b, k, strlen(k));
	}
	return hx_buf_detach(&b, NULL);
}

static void
test_node_json(virConnectPtr c, const struct hx_vm_sample *web)
{
	virDomainPtr dom;
	json_t	    *j, *back, *d;
	char	    *err = NULL, *text, *k;

	/* Summary of a shut-off domain. */
	dom = virDomainLookupByName(c, "off-1");
	j = hx_virt_domain_summary_json(dom, &err);
	k = j != NULL ? keys(j) : NULL;
	is_str(k, "id,name,uuid,state,vcpus,memory_max_bytes",
	    "summary: fields");
	is_str(json_string_value(json_object_get(j, "state")), "stopped",
	    "summary: shut off is stopped");
	is_int(json_integer_value(json_object_get(j, "memory_max_bytes")),
	    256 * MIB, "summary: memory_max_bytes");
	free(k);
	json_decref(j);

	/* Detail of a shut-off domain. */
	j = hx_virt_domain_json(dom, NULL, &err);
	k = j != NULL ? keys(j) : NULL;
	is_str(k,
	    "id,name,uuid,state,vcpus,memory_bytes,memory_max_bytes,"
	    "autostart,persistent,disks,nics,metrics",
	    "domain_json: fields");
	ok(j != NULL && json_is_null(json_object_get(j, "metrics")) &&
		json_array_size(json_object_get(j, "disks")) == 0,
	    "domain_json: stopped domain, no devices, metrics null");
	free(k);
	json_decref(j);
	virDomainFree(dom);

	/* A sample of one domain is refused for another. */
	dom = virDomainLookupByName(c, "db-1");
	j = hx_virt_domain_json(dom, web, &err);
	ok(j == NULL && err != NULL && strstr(err, "db-1") != NULL,
	    "domain_json: another domain's sample is refused: %s", tap_s(err));
	json_decref(j);
	free(err);
	err = NULL;
	j = hx_virt_domain_summary_json(dom, &err);
	is_str(json_string_value(json_object_get(j, "state")), "paused",
	    "summary: paused");
	json_decref(j);
	virDomainFree(dom);

	/* Devices of web-1, and the decoy in <metadata> is not one. */
	dom = virDomainLookupByName(c, "web-1");
	j = hx_virt_domain_json(dom, web, &err);
	ok(j != NULL, "domain_json: web-1 (%s)", tap_s(err));
	is_int(json_array_size(json_object_get(j, "disks")), 3,
	    "domain_json: three disks, none from <metadata>");
	d = json_array_get(json_object_get(j, "disks"), 1);
	is_str(json_string_value(json_object_get(d, "source")),
	    "/dev/vg0/web-1-data", "domain_json: block disk source");
	d = json_array_get(json_object_get(j, "disks"), 2);
	ok(json_is_null(json_object_get(d, "source")) &&
		strcmp(tap_s(json_string_value(json_object_get(d, "device"))),
		    "cdrom") == 0,
	    "domain_json: empty cdrom, source null");
	d = json_array_get(json_object_get(j, "nics"), 1);
	is_str(json_string_value(json_object_get(d, "type")), "bridge",
	    "domain_json: nic type");
	is_str(json_string_value(json_object_get(d, "source")), "br0",
	    "domain_json: nic bridge source");
	is_str(json_string_value(json_object_get(d, "model")), "virtio",
	    "domain_json: nic model");
	is_str(json_string_value(json_object_get(d, "target")), "testnet1",
	    "domain_json: nic target (renamed by the test driver)");
	is_str(json_string_value(json_object_get(j, "uuid")), WEB_UUID,
	    "domain_json: uuid");
	json_decref(j);
	virDomainFree(dom);

	/* A name with quotes, markup and non-ASCII round-trips. */
	dom = virDomainLookupByName(c, ODD_NAME);
	ok(dom != NULL, "odd name: looked up");
	j = dom != NULL ? hx_virt_domain_json(dom, NULL, &err) : NULL;
	text = j != NULL ? json_dumps(j, HX_JSON_FLAGS) : NULL;
	back = text != NULL ? json_loads(text, 0, NULL) : NULL;
	is_str(json_string_value(json_object_get(back, "id")), ODD_NAME,
	    "odd name: id round-trips through JSON text");
	is_str(json_string_value(json_object_get(back, "name")), ODD_NAME,
	    "odd name: name round-trips");
	ok(text != NULL && strstr(text, "q\\\"uote's <b> & ") != NULL,
	    "odd name: quote escaped, the rest verbatim UTF-8: %s",
	    tap_s(text));
	json_decref(back);
	free(text);
	json_decref(j);
	j = dom != NULL ? hx_virt_domain_summary_json(dom, &err) : NULL;
	text = j != NULL ? json_dumps(j, HX_JSON_FLAGS) : NULL;
	back = text != NULL ? json_loads(text, 0, NULL) : NULL;
	is_str(json_string_value(json_object_get(back, "id")), ODD_NAME,
	    "odd name: summary id round-trips");
	json_decref(back);
	free(text);
	json_decref(j);
	if (dom != NULL)
		virDomainFree(dom);
	free(err);
}

static void
test_node(const char *uri)
{
	struct hx_virt_sampler	  *s;
	struct hx_vm_sample	  *v = NULL;
	const struct hx_vm_sample *a;
	virConnectPtr		   c, c2;
	virDomainPtr		   dom, dom2;
	size_t			   n = 0;
	unsigned int		   id;

	if ((c = virConnectOpen(uri)) == NULL) {
		ok(0, "open %s: %s", uri, virGetLastErrorMessage());
		return;
	}
	s = hx_virt_sampler_new();

	is_int(sample(s, c, &v, &n), 0, "node: first sample");
	is_int(n, 3, "node: running and paused domains, not the shut-off one");
	ok(find(v, n, "off-1") == NULL, "node: off-1 is not sampled");
	a = find(v, n, "db-1");
	is_str(a != NULL ? a->state : NULL, "paused",
	    "node: db-1 reported with state paused");
	a = find(v, n, ODD_NAME);
	ok(a != NULL, "node: the odd name is sampled intact");
	if (a != NULL) {
		is_str(a->state, "running", "node: odd name running");
		is_int(a->m.memory_bytes, -1,
		    "node: no balloon, no memory_bytes (never invented)");
		ok(isnan(a->m.memory_usage), "node: and memory_usage NaN");
		is_int(a->m.memory_max_bytes, 128 * MIB,
		    "node: memory_max_bytes still known");
		ok(a->ndisks == 0 && a->m.disk_read == -1 &&
			a->m.network_tx == -1 && isnan(a->m.disk_read_bps),
		    "node: no devices, counters -1");
	}
	a = find(v, n, "web-1");
	ok(a != NULL, "node: web-1 sampled");
	if (a != NULL) {
		is_int(a->ndisks, 2,
		    "node: web-1 two disks with a source "
		    "(the empty cdrom is left out)");
		is_str(a->ndisks > 1 ? a->disks[1].target : NULL, "vdb",
		    "node: second disk vdb");
		is_int(a->nnics, 2, "node: web-1 two NICs");
		is_str(a->nnics > 1 ? a->nics[1].target : NULL, "testnet1",
		    "node: NIC targets are testnetN on the test driver");
		is_int(a->m.memory_bytes, 256 * MIB,
		    "node: web-1 RSS from its balloon");
		is_near(a->m.memory_usage, 25, 1e-9,
		    "node: web-1 memory_usage");
		is_int(a->m.disk_read, a->disks[0].a + a->disks[1].a,
		    "node: disk_read sums both disks");
	}
	hx_vm_samples_free(v, n);

	sleep_ms(100);
	is_int(sample(s, c, &v, &n), 0, "node: second sample");
	a = find(v, n, "web-1");
	ok(a != NULL && in_pct(a->m.cpu_usage) &&
		rate_ok(a->m.disk_write_bps) && rate_ok(a->m.network_rx_bps),
	    "node: web-1 cpu_usage %.2f and rates now numeric",
	    a != NULL ? a->m.cpu_usage : NAN);
	a = find(v, n, "db-1");
	ok(a != NULL && isnan(a->m.cpu_usage),
	    "node: paused db-1 has no cpu_usage (though the test driver's "
	    "clock runs on)");
	if ((a = find(v, n, "web-1")) != NULL)
		test_node_json(c, a);
	hx_vm_samples_free(v, n);

	/* Destroy web-1: it leaves the sample, and its baseline goes. */
	dom = virDomainLookupByName(c, "web-1");
	is_int(virDomainDestroy(dom), 0, "node: destroy web-1");
	c2 = virConnectOpen(uri);
	dom2 = c2 != NULL ? virDomainLookupByName(c2, "web-1") : NULL;
	is_int(dom2 != NULL ? virDomainIsActive(dom2) : -1, 1,
	    "node: a second connection to the file still runs web-1 "
	    "(its own copy)");
	if (dom2 != NULL)
		virDomainFree(dom2);
	if (c2 != NULL)
		virConnectClose(c2);
	is_int(sample(s, c, &v, &n), 0, "node: sample after destroy");
	is_int(n, 2, "node: two domains left");
	ok(find(v, n, "web-1") == NULL, "node: a stopped domain disappears");
	hx_vm_samples_free(v, n);

	is_int(virDomainCreate(dom), 0, "node: start web-1 again");
	virDomainFree(dom);
	is_int(sample(s, c, &v, &n), 0, "node: sample after start");
	a = find(v, n, "web-1");
	ok(a != NULL && isnan(a->m.cpu_usage) && isnan(a->m.disk_read_bps),
	    "node: a domain that came back starts afresh (NaN)");
	hx_vm_samples_free(v, n);
	sleep_ms(20);
	is_int(sample(s, c, &v, &n), 0, "node: next sample");
	a = find(v, n, "web-1");
	ok(a != NULL && in_pct(a->m.cpu_usage), "node: and then has rates");
	hx_vm_samples_free(v, n);

	/* Restarted between two samples: same UUID, new id, new baseline. */
	dom = virDomainLookupByName(c, "web-1");
	id = virDomainGetID(dom);
	virDomainDestroy(dom);
	virDomainCreate(dom);
	virDomainFree(dom);
	dom = virDomainLookupByName(c, "web-1");
	ok(virDomainGetID(dom) != id, "node: restart gave a new id (%u -> %u)",
	    id, virDomainGetID(dom));
	virDomainFree(dom);
	is_int(sample(s, c, &v, &n), 0, "node: sample after restart");
	a = find(v, n, "web-1");
	ok(a != NULL && a->ndisks > 0 && isnan(a->m.cpu_usage) &&
		isnan(a->m.network_rx_bps) && isnan(a->disks[0].a_bps),
	    "node: a domain restarted between samples gets no rate");
	hx_vm_samples_free(v, n);

	hx_virt_sampler_free(s);
	virConnectClose(c);
}

int
main(void)
{
	char  dir[] = "/tmp/hx-test-virt-XXXXXX", *path, *uri;
	FILE *f;

	virSetErrorFunc(NULL, quiet);
	test_state_words();
	test_rate();
	test_cpu_usage();
	test_ctrs_rate();
	test_memory_used();
	test_default();

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	path = xasprintf("%s/node.xml", dir);
	if ((f = fopen(path, "w")) == NULL || fputs(node_xml, f) == EOF ||
	    fclose(f) == EOF)
		ok(0, "write %s: %s", path, strerror(errno));
	else {
		uri = xasprintf("test://%s", path);
		test_node(uri);
		free(uri);
	}
	unlink(path);
	rmdir(dir);
	free(path);

	hx_vm_samples_free(NULL, 0);
	hx_virt_sampler_free(NULL);
	return done_testing();
}
