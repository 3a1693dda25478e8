/*
 * hx-virt.c - libvirt domain sampling and the VM REST documents (see
 * hx-virt.h).
 *
 * A sample is one virConnectGetAllDomainStats call for the active
 * domains; for every group a domain's record lacks, that domain is asked
 * directly: virDomainGetInfo (cpu time, vCPUs, memory), virDomainMemoryStats
 * (balloon), and virDomainBlockStats / virDomainInterfaceStats for each
 * disk and NIC target named in its live XML. Drivers without bulk stats at
 * all get the same per-domain calls after virConnectListAllDomains.
 *
 * The bulk call does not wait for a domain's job (NOWAIT): the target of
 * an incoming migration allows none until the migration ends, and the
 * caller, the collector thread, would wait that long with every VM of
 * every connection unsampled. Counters that need the job (a disk's,
 * while another job runs) are then missing from that sample: -1.
 *
 * The domain XML is read with libxml2 rather than scanned with strstr:
 * libvirt copies <metadata> through verbatim, so any element name, comment
 * or CDATA can appear before <devices>, and a <disk> nests a <backingStore>
 * chain with sources of its own. Only direct children are looked at
 * (domain/devices/disk/target and the like).
 *
 * This file owns the baselines and the rules for when a value cannot be
 * trusted (first sample, a restarted domain, a counter that went
 * backwards, a device that came or went), which all give NaN or -1 rather
 * than a guess. It keeps no thread and takes no lock.
 *
 * Its private helpers carry the vs_ prefix (the virt sampler's):
 * horcruxd/virt.c exports virt_*, and one name should mean one thing.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hx-event.h"
#include "hx-util.h"
#include "hx-virt.h"

#define VIRT_GROUPS \
	(VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | \
	    VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU | \
	    VIR_DOMAIN_STATS_BLOCK | VIR_DOMAIN_STATS_INTERFACE)

/* One family of device counters as last read, for the next sample. */
struct vs_family {
	struct hx_virt_ctr *v; /* names owned */
	size_t		    n;
	uint64_t	    at; /* monotonic ns when read */
	int		    valid;
};

/* What a domain's previous sample left behind. */
struct vs_prev {
	char		 uuid[VIR_UUID_STRING_BUFLEN];
	unsigned int	 id; /* changes when it restarts */
	int64_t		 cpu_ns; /* -1: no baseline */
	uint64_t	 cpu_at;
	struct vs_family disks;
	struct vs_family nics;
};

struct hx_virt_sampler {
	struct vs_prev *prev; /* sorted by uuid */
	size_t		nprev;
};

/* Devices from a domain's XML, every field NULL when absent. */
struct vs_disk_conf {
	char *target;
	char *source;
	char *bus;
	char *device;
	int   has_source; /* an empty CD-ROM has none */
};

struct vs_nic_conf {
	char *target;
	char *mac;
	char *model;
	char *type;
	char *source;
};

struct vs_devs {
	struct vs_disk_conf *disks;
	size_t		     ndisks;
	struct vs_nic_conf  *nics;
	size_t		     nnics;
};

/* One domain's readings before any baseline is applied. */
struct vs_reading {
	int		       state;
	int64_t		       cpu_ns;
	int64_t		       vcpus;
	struct hx_virt_balloon bal;
	int		       have_disks; /* the group was read */
	int		       have_nics;
};

/* ---- the rate math ---------------------------------------------------- */

double
hx_virt_rate(int64_t prev, int64_t cur, uint64_t dt_ns)
{
	if (prev < 0 || cur < 0 || cur < prev || dt_ns == 0)
		return NAN;
	return (double)(cur - prev) * 1e9 / (double)dt_ns;
}

double
hx_virt_cpu_usage(uint64_t prev_ns, uint64_t cur_ns, uint64_t vcpus,
    uint64_t dt_ns)
{
	double u;

	if (vcpus == 0 || dt_ns == 0 || cur_ns < prev_ns)
		return NAN;
	u = (double)(cur_ns - prev_ns) / ((double)vcpus * (double)dt_ns) *
	    100.0;
	return u > 100.0 ? 100.0 : u;
}

static const struct hx_virt_ctr *
vs_ctr_find(const struct hx_virt_ctr *v, size_t n, const char *name)
{
	size_t i;

	/* A domain has a handful of devices: a scan is cheaper than a sort. */
	for (i = 0; i < n; i++) {
		if (v[i].name != NULL && strcmp(v[i].name, name) == 0)
			return &v[i];
	}
	return NULL;
}

void
hx_virt_ctrs_rate(const struct hx_virt_ctr *prev, size_t nprev,
    const struct hx_virt_ctr *cur, size_t ncur, uint64_t dt_ns, double *each_a,
    double *each_b, double *sum_a, double *sum_b)
{
	const struct hx_virt_ctr *p;
	double			  sa = 0, sb = 0, ra, rb;
	size_t			  i, na = 0, nb = 0;
	int			  back_a = 0, back_b = 0;

	for (i = 0; i < ncur; i++) {
		ra = rb = NAN;
		p = NULL;
		if (cur[i].name != NULL)
			p = vs_ctr_find(prev, nprev, cur[i].name);
		if (p != NULL) {
			if (p->a >= 0 && cur[i].a >= 0 && cur[i].a < p->a)
				back_a = 1;
			if (p->b >= 0 && cur[i].b >= 0 && cur[i].b < p->b)
				back_b = 1;
			ra = hx_virt_rate(p->a, cur[i].a, dt_ns);
			rb = hx_virt_rate(p->b, cur[i].b, dt_ns);
		}
		if (each_a != NULL)
			each_a[i] = ra;
		if (each_b != NULL)
			each_b[i] = rb;
		if (!isnan(ra)) {
			sa += ra;
			na++;
		}
		if (!isnan(rb)) {
			sb += rb;
			nb++;
		}
	}
	*sum_a = back_a || na == 0 ? NAN : sa;
	*sum_b = back_b || nb == 0 ? NAN : sb;
}

/* KiB as libvirt reports memory, to bytes; -1 stays -1, overflow too. */
static int64_t
vs_kib(int64_t kib)
{
	if (kib < 0 || kib > INT64_MAX / 1024)
		return -1;
	return kib * 1024;
}

int64_t
hx_virt_memory_used(const struct hx_virt_balloon *b)
{
	if (b->rss >= 0)
		return vs_kib(b->rss);
	if (b->current >= 0 && b->unused >= 0 && b->unused <= b->current)
		return vs_kib(b->current - b->unused);
	if (b->available >= 0 && b->usable >= 0 && b->usable <= b->available)
		return vs_kib(b->available - b->usable);
	return -1;
}

const char *
hx_virt_state_word(int state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return "running";
	case VIR_DOMAIN_PAUSED:
		return "paused";
	case VIR_DOMAIN_SHUTDOWN:
		return "shutdown";
	case VIR_DOMAIN_SHUTOFF:
		return "stopped";
	case VIR_DOMAIN_CRASHED:
		return "crashed";
	case VIR_DOMAIN_PMSUSPENDED:
		return "suspended";
	default:
		return "unknown";
	}
}

/* ---- sampler lifecycle ------------------------------------------------ */

struct hx_virt_sampler *
hx_virt_sampler_new(void)
{
	struct hx_virt_sampler *s;

	s = xcalloc(1, sizeof *s);
	return s;
}

static void
vs_family_release(struct vs_family *f)
{
	size_t i;

	/* The baseline's names are its own copies (see vs_family_set). */
	for (i = 0; i < f->n; i++)
		free((char *)f->v[i].name);
	free(f->v);
	memset(f, 0, sizeof *f);
}

static void
vs_prevs_free(struct vs_prev *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		vs_family_release(&v[i].disks);
		vs_family_release(&v[i].nics);
	}
	free(v);
}

void
hx_virt_sampler_free(struct hx_virt_sampler *s)
{
	if (s == NULL)
		return;
	vs_prevs_free(s->prev, s->nprev);
	free(s);
}

/* Free what one sample holds, not the sample itself. */
static void
vs_sample_release(struct hx_vm_sample *v)
{
	size_t i;

	free(v->vm_id);
	free(v->name);
	free(v->uuid);
	for (i = 0; i < v->ndisks; i++)
		free(v->disks[i].target);
	free(v->disks);
	for (i = 0; i < v->nnics; i++)
		free(v->nics[i].target);
	free(v->nics);
	memset(v, 0, sizeof *v);
}

void
hx_vm_samples_free(struct hx_vm_sample *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		vs_sample_release(&v[i]);
	free(v);
}

static struct hx_vm_dev *
vs_devs_dup(const struct hx_vm_dev *v, size_t n)
{
	struct hx_vm_dev *d = xcalloc(n + 1, sizeof *d);
	size_t		  i;

	for (i = 0; i < n; i++) {
		d[i] = v[i];
		d[i].target = v[i].target ? xstrdup(v[i].target) : NULL;
	}
	return d;
}

struct hx_vm_sample *
hx_vm_sample_dup(const struct hx_vm_sample *s)
{
	struct hx_vm_sample *d = xmalloc(sizeof *d);

	*d = *s;
	d->vm_id = s->vm_id ? xstrdup(s->vm_id) : NULL;
	d->name = s->name ? xstrdup(s->name) : NULL;
	d->uuid = s->uuid ? xstrdup(s->uuid) : NULL;
	d->m.vm_id = d->vm_id;
	d->m.vm_uuid = d->uuid;
	d->m.name = d->name;
	d->disks = vs_devs_dup(s->disks, s->ndisks);
	d->nics = vs_devs_dup(s->nics, s->nnics);
	return d;
}

static int
vs_prev_cmp(const void *a, const void *b)
{
	const struct vs_prev *x = a, *y = b;

	return strcmp(x->uuid, y->uuid);
}

static struct vs_prev *
vs_prev_find(struct hx_virt_sampler *s, const char *uuid)
{
	struct vs_prev key;

	if (s->nprev == 0)
		return NULL;
	hx_strlcpy(key.uuid, uuid, sizeof key.uuid);
	return bsearch(&key, s->prev, s->nprev, sizeof *s->prev, vs_prev_cmp);
}

/* ---- typed parameters of a bulk stats record -------------------------- */

static const virTypedParameter *
vs_param(const virTypedParameter *p, int n, const char *field)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(p[i].field, field) == 0)
			return &p[i];
	}
	return NULL;
}

/* A non-negative integer parameter of any width, or -1. */
static int64_t
vs_param_int(const virTypedParameter *p, int n, const char *field)
{
	const virTypedParameter *t;

	if ((t = vs_param(p, n, field)) == NULL)
		return -1;
	switch (t->type) {
	case VIR_TYPED_PARAM_INT:
		return t->value.i >= 0 ? t->value.i : -1;
	case VIR_TYPED_PARAM_UINT:
		return t->value.ui;
	case VIR_TYPED_PARAM_LLONG:
		return t->value.l >= 0 ? (int64_t)t->value.l : -1;
	case VIR_TYPED_PARAM_ULLONG:
		return t->value.ul <= INT64_MAX ? (int64_t)t->value.ul : -1;
	default:
		return -1;
	}
}

static const char *
vs_param_str(const virTypedParameter *p, int n, const char *field)
{
	const virTypedParameter *t;

	if ((t = vs_param(p, n, field)) == NULL ||
	    t->type != VIR_TYPED_PARAM_STRING)
		return NULL;
	return t->value.s;
}

static int64_t
vs_ull(unsigned long long v)
{
	return v <= INT64_MAX ? (int64_t)v : -1;
}

/* ---- the domain XML --------------------------------------------------- */

static void
vs_devs_release(struct vs_devs *d)
{
	size_t i;

	for (i = 0; i < d->ndisks; i++) {
		free(d->disks[i].target);
		free(d->disks[i].source);
		free(d->disks[i].bus);
		free(d->disks[i].device);
	}
	free(d->disks);
	for (i = 0; i < d->nnics; i++) {
		free(d->nics[i].target);
		free(d->nics[i].mac);
		free(d->nics[i].model);
		free(d->nics[i].type);
		free(d->nics[i].source);
	}
	free(d->nics);
	memset(d, 0, sizeof *d);
}

static int
vs_is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

/* The first child element called name, or NULL. */
static xmlNodePtr
vs_child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n;

	if (parent == NULL)
		return NULL;
	for (n = parent->children; n != NULL; n = n->next) {
		if (vs_is(n, name))
			return n;
	}
	return NULL;
}

/* An attribute's value (caller frees), or NULL when n or it is absent. */
static char *
vs_attr(xmlNodePtr n, const char *name)
{
	xmlChar *v;
	char	*s;

	if (n == NULL || (v = xmlGetNoNsProp(n, (const xmlChar *)name)) == NULL)
		return NULL;
	s = xstrdup((const char *)v);
	xmlFree(v);
	return s;
}

/* The first of names that n carries, or NULL. */
static char *
vs_attr_any(xmlNodePtr n, const char *const *names)
{
	char *s;

	for (; *names != NULL; names++) {
		if ((s = vs_attr(n, *names)) != NULL)
			return s;
	}
	return NULL;
}

static void
vs_disk_conf(xmlNodePtr disk, struct vs_disk_conf *c)
{
	static const char *const attrs[] = { "file", "dev", "dir", "path",
		"name", NULL };
	xmlNodePtr		 src, tgt;
	char			*pool, *vol;

	tgt = vs_child(disk, "target");
	c->target = vs_attr(tgt, "dev");
	c->bus = vs_attr(tgt, "bus");
	c->device = vs_attr(disk, "device");
	if ((src = vs_child(disk, "source")) == NULL)
		return;
	c->has_source = 1;
	if ((c->source = vs_attr_any(src, attrs)) != NULL)
		return;
	pool = vs_attr(src, "pool");
	vol = vs_attr(src, "volume");
	if (pool != NULL && vol != NULL)
		c->source = xasprintf("%s/%s", pool, vol);
	free(pool);
	free(vol);
}

static void
vs_nic_conf(xmlNodePtr nic, struct vs_nic_conf *c)
{
	static const char *const attrs[] = { "network", "bridge", "dev", "path",
		NULL };

	c->type = vs_attr(nic, "type");
	c->mac = vs_attr(vs_child(nic, "mac"), "address");
	c->model = vs_attr(vs_child(nic, "model"), "type");
	c->target = vs_attr(vs_child(nic, "target"), "dev");
	c->source = vs_attr_any(vs_child(nic, "source"), attrs);
}

/*
 * Read dom's live XML into *d (released with vs_devs_release). Returns
 * 0, or -1 with *err set (caller frees).
 */
static int
vs_devs_read(virDomainPtr dom, struct vs_devs *d, char **err)
{
	xmlDocPtr  doc;
	xmlNodePtr root, devs, n;
	char	  *xml;
	size_t	   len, nd = 0, nn = 0;

	memset(d, 0, sizeof *d);
	if ((xml = virDomainGetXMLDesc(dom, 0)) == NULL) {
		*err = xasprintf("cannot get the XML of domain '%s': %s",
		    virDomainGetName(dom), virGetLastErrorMessage());
		return -1;
	}
	len = strlen(xml);
	doc = NULL;
	if (len <= INT_MAX)
		doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(xml);
	if (doc == NULL) {
		*err = xasprintf("cannot parse the XML of domain '%s'",
		    virDomainGetName(dom));
		return -1;
	}
	root = xmlDocGetRootElement(doc);
	devs = NULL;
	if (root != NULL && vs_is(root, "domain"))
		devs = vs_child(root, "devices");
	for (n = devs != NULL ? devs->children : NULL; n != NULL; n = n->next) {
		if (vs_is(n, "disk"))
			nd++;
		else if (vs_is(n, "interface"))
			nn++;
	}
	d->disks = xcalloc(nd, sizeof *d->disks);
	d->nics = xcalloc(nn, sizeof *d->nics);
	for (n = devs != NULL ? devs->children : NULL; n != NULL; n = n->next) {
		if (vs_is(n, "disk"))
			vs_disk_conf(n, &d->disks[d->ndisks++]);
		else if (vs_is(n, "interface"))
			vs_nic_conf(n, &d->nics[d->nnics++]);
	}
	xmlFreeDoc(doc);
	return 0;
}

/* ---- one domain's readings -------------------------------------------- */

static void
vs_memory_stats(virDomainPtr dom, struct hx_virt_balloon *b)
{
	virDomainMemoryStatStruct ms[VIR_DOMAIN_MEMORY_STAT_NR];
	int			  i, n;

	n = virDomainMemoryStats(dom, ms, VIR_DOMAIN_MEMORY_STAT_NR, 0);
	for (i = 0; i < n; i++) {
		switch (ms[i].tag) {
		case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
			b->current = vs_ull(ms[i].val);
			break;
		case VIR_DOMAIN_MEMORY_STAT_RSS:
			b->rss = vs_ull(ms[i].val);
			break;
		case VIR_DOMAIN_MEMORY_STAT_UNUSED:
			b->unused = vs_ull(ms[i].val);
			break;
		case VIR_DOMAIN_MEMORY_STAT_AVAILABLE:
			b->available = vs_ull(ms[i].val);
			break;
		case VIR_DOMAIN_MEMORY_STAT_USABLE:
			b->usable = vs_ull(ms[i].val);
			break;
		}
	}
}

/*
 * Disks and NICs from a bulk record: "block.count" / "net.count" say the
 * group is there (possibly with no device). The count comes from the
 * daemon: never allocate more entries than there are parameters.
 */
static int
vs_bulk_devs(const virTypedParameter *p, int np, const char *group,
    const char *ka, const char *kb, struct hx_vm_dev **devs, size_t *n)
{
	struct hx_vm_dev *d;
	const char	 *name;
	char		  key[64];
	int64_t		  count, i;

	snprintf(key, sizeof key, "%s.count", group);
	if ((count = vs_param_int(p, np, key)) < 0)
		return 0;
	if (count > np)
		count = np;
	*devs = xcalloc((size_t)count, sizeof **devs);
	for (i = 0; i < count; i++) {
		snprintf(key, sizeof key, "%s.%lld.name", group, (long long)i);
		if ((name = vs_param_str(p, np, key)) == NULL)
			continue;
		d = &(*devs)[(*n)++];
		d->target = xstrdup(name);
		snprintf(key, sizeof key, "%s.%lld.%s", group, (long long)i,
		    ka);
		d->a = vs_param_int(p, np, key);
		snprintf(key, sizeof key, "%s.%lld.%s", group, (long long)i,
		    kb);
		d->b = vs_param_int(p, np, key);
	}
	return 1;
}

/*
 * The per-domain fallback for block and interface counters: every disk
 * with a source and every NIC with a host-side target named in the live
 * XML. A device whose call fails is listed with -1 counters.
 */
static void
vs_fallback_devices(virDomainPtr dom, struct hx_vm_sample *v,
    struct vs_reading *r)
{
	virDomainBlockStatsStruct     bs;
	virDomainInterfaceStatsStruct is;
	struct vs_devs		      d;
	struct hx_vm_dev	     *k, *c;
	char			     *err = NULL;
	size_t			      i;

	if (vs_devs_read(dom, &d, &err) == -1) {
		/* Both groups stay unread; the baselines wait. */
		free(err);
		return;
	}
	if (!r->have_disks) {
		v->disks = xcalloc(d.ndisks, sizeof *v->disks);
		for (i = 0; i < d.ndisks; i++) {
			if (d.disks[i].target == NULL || !d.disks[i].has_source)
				continue;
			k = &v->disks[v->ndisks++];
			k->target = xstrdup(d.disks[i].target);
			k->a = k->b = -1;
			if (virDomainBlockStats(dom, k->target, &bs,
				sizeof bs) == 0) {
				/* libvirt reports -1 for what it lacks. */
				k->a = bs.rd_bytes >= 0 ? bs.rd_bytes : -1;
				k->b = bs.wr_bytes >= 0 ? bs.wr_bytes : -1;
			}
		}
		r->have_disks = 1;
	}
	if (!r->have_nics) {
		v->nics = xcalloc(d.nnics, sizeof *v->nics);
		for (i = 0; i < d.nnics; i++) {
			if (d.nics[i].target == NULL)
				continue;
			c = &v->nics[v->nnics++];
			c->target = xstrdup(d.nics[i].target);
			c->a = c->b = -1;
			if (virDomainInterfaceStats(dom, c->target, &is,
				sizeof is) == 0) {
				c->a = is.rx_bytes >= 0 ? is.rx_bytes : -1;
				c->b = is.tx_bytes >= 0 ? is.tx_bytes : -1;
			}
		}
		r->have_nics = 1;
	}
	vs_devs_release(&d);
}

/*
 * Fill r (and v's device arrays) from the bulk record p (np parameters;
 * none when the driver has no bulk stats), asking dom for every group the
 * record lacks. Returns 0, or -1 when dom turned out not to be active
 * (it stopped or vanished since it was listed).
 */
static int
vs_read_domain(virDomainPtr dom, const virTypedParameter *p, int np,
    struct hx_vm_sample *v, struct vs_reading *r)
{
	virDomainInfo info;
	int	      state, have_balloon;

	r->cpu_ns = vs_param_int(p, np, "cpu.time");
	r->vcpus = vs_param_int(p, np, "vcpu.current");
	r->bal.current = vs_param_int(p, np, "balloon.current");
	r->bal.maximum = vs_param_int(p, np, "balloon.maximum");
	r->bal.rss = vs_param_int(p, np, "balloon.rss");
	r->bal.unused = vs_param_int(p, np, "balloon.unused");
	r->bal.available = vs_param_int(p, np, "balloon.available");
	r->bal.usable = vs_param_int(p, np, "balloon.usable");
	have_balloon = r->bal.current >= 0 || r->bal.maximum >= 0;

	if ((r->state = (int)vs_param_int(p, np, "state.state")) < 0) {
		if (virDomainGetState(dom, &state, NULL, 0) == -1)
			return -1;
		r->state = state;
	}
	if (r->state == VIR_DOMAIN_SHUTOFF)
		return -1;

	if (r->cpu_ns < 0 || r->vcpus < 0 || !have_balloon) {
		if (virDomainGetInfo(dom, &info) == 0) {
			if (r->cpu_ns < 0)
				r->cpu_ns = vs_ull(info.cpuTime);
			if (r->vcpus < 0)
				r->vcpus = info.nrVirtCpu;
			if (!have_balloon) {
				r->bal.current = vs_ull(info.memory);
				r->bal.maximum = vs_ull(info.maxMem);
			}
		} else if (virDomainIsActive(dom) != 1)
			return -1;
	}
	if (!have_balloon)
		vs_memory_stats(dom, &r->bal);

	r->have_disks = vs_bulk_devs(p, np, "block", "rd.bytes", "wr.bytes",
	    &v->disks, &v->ndisks);
	r->have_nics = vs_bulk_devs(p, np, "net", "rx.bytes", "tx.bytes",
	    &v->nics, &v->nnics);
	if (!r->have_disks || !r->have_nics)
		vs_fallback_devices(dom, v, r);
	return 0;
}

/* ---- baselines -------------------------------------------------------- */

/* Make f the baseline of cur (n entries), read at now_ns. */
static void
vs_family_set(struct vs_family *f, const struct hx_virt_ctr *cur, size_t n,
    uint64_t now_ns)
{
	size_t i;

	f->v = xcalloc(n, sizeof *f->v);
	for (i = 0; i < n; i++) {
		f->v[i].name = xstrdup(cur[i].name);
		f->v[i].a = cur[i].a;
		f->v[i].b = cur[i].b;
	}
	f->n = n;
	f->at = now_ns;
	f->valid = 1;
}

/*
 * Rates of one family against prev (NULL: none), and its next baseline
 * in *next. When the family was not read this time, prev's baseline (if
 * any) moves to *next untouched, so the next rate spans both intervals.
 */
static void
vs_family_step(struct vs_family *prev, int have, const struct hx_virt_ctr *cur,
    size_t n, uint64_t now_ns, double *each_a, double *each_b, double *sum_a,
    double *sum_b, struct vs_family *next)
{
	size_t i;

	*sum_a = *sum_b = NAN;
	for (i = 0; i < n; i++)
		each_a[i] = each_b[i] = NAN;
	if (!have) {
		if (prev != NULL) {
			*next = *prev;
			memset(prev, 0, sizeof *prev);
		}
		return;
	}
	if (prev != NULL && prev->valid && now_ns > prev->at)
		hx_virt_ctrs_rate(prev->v, prev->n, cur, n, now_ns - prev->at,
		    each_a, each_b, sum_a, sum_b);
	vs_family_set(next, cur, n, now_ns);
}

/* Sum of the known counters, or -1 when none is known. */
static int64_t
vs_sum(const struct hx_virt_ctr *v, size_t n, int b)
{
	int64_t sum = -1, x;
	size_t	i;

	for (i = 0; i < n; i++) {
		x = b ? v[i].b : v[i].a;
		if (x < 0)
			continue;
		sum = (sum < 0 ? 0 : sum) + x;
	}
	return sum;
}

/*
 * Rates of one family of devices (a domain's disks or its NICs) against
 * its baseline in prev (NULL: none), its next baseline into *next, and
 * the family's totals: sums of the counters when the group was read
 * (have), and of the rates.
 */
static void
vs_apply_family(struct hx_vm_dev *devs, size_t n, int have,
    struct vs_family *prev, uint64_t now_ns, int64_t *sum_a, int64_t *sum_b,
    double *bps_a, double *bps_b, struct vs_family *next)
{
	struct hx_virt_ctr *cur;
	double		   *ea, *eb;
	size_t		    i;

	cur = xcalloc(n, sizeof *cur);
	ea = xcalloc(n, sizeof *ea);
	eb = xcalloc(n, sizeof *eb);
	for (i = 0; i < n; i++) {
		cur[i].name = devs[i].target;
		cur[i].a = devs[i].a;
		cur[i].b = devs[i].b;
	}
	vs_family_step(prev, have, cur, n, now_ns, ea, eb, bps_a, bps_b, next);
	for (i = 0; i < n; i++) {
		devs[i].a_bps = ea[i];
		devs[i].b_bps = eb[i];
	}
	if (have) {
		*sum_a = vs_sum(cur, n, 0);
		*sum_b = vs_sum(cur, n, 1);
	}
	free(cur);
	free(ea);
	free(eb);
}

/*
 * Sample one domain into *v and its next baseline into *next. Returns 0,
 * or -1 (nothing to free) when the domain is to be left out.
 */
static int
vs_sample_domain(struct hx_virt_sampler *s, virDomainPtr dom,
    const virTypedParameter *p, int np, uint64_t now_ns, int64_t wall_ms,
    struct hx_vm_sample *v, struct vs_prev *next)
{
	struct vs_reading     r;
	struct vs_prev	     *prev;
	struct hx_vm_metrics *m = &v->m;
	char		      uuid[VIR_UUID_STRING_BUFLEN];
	const char	     *name;
	int64_t		      used, max;

	memset(v, 0, sizeof *v);
	memset(next, 0, sizeof *next);
	memset(&r, 0, sizeof r);
	if ((name = virDomainGetName(dom)) == NULL ||
	    virDomainGetUUIDString(dom, uuid) == -1)
		return -1;
	if (vs_read_domain(dom, p, np, v, &r) == -1) {
		vs_sample_release(v);
		return -1;
	}

	v->timestamp_ms = wall_ms;
	v->vm_id = xstrdup(name);
	v->name = xstrdup(name);
	v->uuid = xstrdup(uuid);
	v->state = hx_virt_state_word(r.state);
	m->vm_id = v->vm_id;
	m->vm_uuid = v->uuid;
	m->name = v->name;
	m->cpu_usage = m->memory_usage = NAN;
	m->disk_read_bps = m->disk_write_bps = NAN;
	m->network_rx_bps = m->network_tx_bps = NAN;
	m->disk_read = m->disk_write = m->network_rx = m->network_tx = -1;
	m->vcpus = r.vcpus;

	used = hx_virt_memory_used(&r.bal);
	max = vs_kib(r.bal.maximum);
	m->memory_bytes = used;
	m->memory_max_bytes = max;
	if (used >= 0 && max > 0)
		m->memory_usage = (double)used / (double)max * 100.0;

	/* A new id means the domain was restarted: its counters were too. */
	hx_strlcpy(next->uuid, uuid, sizeof next->uuid);
	next->id = virDomainGetID(dom);
	prev = vs_prev_find(s, uuid);
	if (prev != NULL && prev->id != next->id)
		prev = NULL;

	next->cpu_ns = -1;
	if (r.cpu_ns >= 0) {
		/* Only a running (or blocked) VM uses CPU: a paused one's
		 * counter may still move (the test driver's clock does). */
		if (prev != NULL && prev->cpu_ns >= 0 &&
		    now_ns > prev->cpu_at && r.vcpus > 0 &&
		    (r.state == VIR_DOMAIN_RUNNING ||
			r.state == VIR_DOMAIN_BLOCKED))
			m->cpu_usage = hx_virt_cpu_usage((uint64_t)prev->cpu_ns,
			    (uint64_t)r.cpu_ns, (uint64_t)r.vcpus,
			    now_ns - prev->cpu_at);
		next->cpu_ns = r.cpu_ns;
		next->cpu_at = now_ns;
	} else if (prev != NULL) {
		next->cpu_ns = prev->cpu_ns;
		next->cpu_at = prev->cpu_at;
	}
	vs_apply_family(v->disks, v->ndisks, r.have_disks,
	    prev != NULL ? &prev->disks : NULL, now_ns, &m->disk_read,
	    &m->disk_write, &m->disk_read_bps, &m->disk_write_bps,
	    &next->disks);
	vs_apply_family(v->nics, v->nnics, r.have_nics,
	    prev != NULL ? &prev->nics : NULL, now_ns, &m->network_rx,
	    &m->network_tx, &m->network_rx_bps, &m->network_tx_bps,
	    &next->nics);
	return 0;
}

/* ---- a whole sample --------------------------------------------------- */

int
hx_virt_sample(struct hx_virt_sampler *s, virConnectPtr conn, uint64_t now_ns,
    struct hx_vm_sample **out, size_t *n, char **err)
{
	virDomainStatsRecordPtr *recs = NULL;
	virDomainPtr		*doms = NULL;
	struct hx_vm_sample	*v;
	struct vs_prev		*next;
	virDomainPtr		 dom;
	const virTypedParameter *p;
	int64_t			 wall_ms;
	size_t			 k = 0;
	int			 i, count, np;

	*out = NULL;
	*n = 0;
	count = virConnectGetAllDomainStats(conn, VIRT_GROUPS, &recs,
	    VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |
		VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
	if (count == -1) {
		/* No bulk stats in this driver: list, then ask each domain. */
		recs = NULL;
		count = virConnectListAllDomains(conn, &doms,
		    VIR_CONNECT_LIST_DOMAINS_ACTIVE);
		if (count == -1) {
			*err = xasprintf("cannot list domains: %s",
			    virGetLastErrorMessage());
			return -1;
		}
	}

	wall_ms = hx_wall_ms();
	v = xcalloc((size_t)count, sizeof *v);
	next = xcalloc((size_t)count, sizeof *next);
	for (i = 0; i < count; i++) {
		if (recs != NULL) {
			dom = recs[i]->dom;
			p = recs[i]->params;
			np = recs[i]->nparams;
		} else {
			dom = doms[i];
			p = NULL;
			np = 0;
		}
		if (vs_sample_domain(s, dom, p, np, now_ns, wall_ms, &v[k],
			&next[k]) == 0)
			k++;
	}
	if (recs != NULL)
		virDomainStatsRecordListFree(recs);
	if (doms != NULL) {
		for (i = 0; i < count; i++)
			virDomainFree(doms[i]);
		free(doms);
	}

	/* Domains no longer active lose their baselines here. */
	qsort(next, k, sizeof *next, vs_prev_cmp);
	vs_prevs_free(s->prev, s->nprev);
	s->prev = next;
	s->nprev = k;

	if (k == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = k;
	return 0;
}

/* ---- REST documents --------------------------------------------------- */

/* A JSON string, or null for NULL (or text jansson refuses as UTF-8). */
static json_t *
vs_str(const char *s)
{
	json_t *j;

	if (s == NULL || (j = json_string(s)) == NULL)
		return json_null();
	return j;
}

static json_t *
vs_count(int64_t v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

/*
 * Name, UUID and info of dom, with *err set (caller frees) on failure.
 * Returns 0 or -1.
 */
static int
vs_identify(virDomainPtr dom, const char **name, char *uuid,
    virDomainInfo *info, char **err)
{
	if ((*name = virDomainGetName(dom)) == NULL ||
	    virDomainGetUUIDString(dom, uuid) == -1) {
		*err = xasprintf("cannot identify domain: %s",
		    virGetLastErrorMessage());
		return -1;
	}
	if (virDomainGetInfo(dom, info) == -1) {
		*err = xasprintf("cannot read domain '%s': %s", *name,
		    virGetLastErrorMessage());
		return -1;
	}
	return 0;
}

json_t *
hx_virt_domain_summary_json(virDomainPtr dom, char **err)
{
	virDomainInfo info;
	char	      uuid[VIR_UUID_STRING_BUFLEN];
	const char   *name;
	json_t	     *o;

	if (vs_identify(dom, &name, uuid, &info, err) == -1)
		return NULL;
	o = json_object();
	json_object_set_new(o, "id", vs_str(name));
	json_object_set_new(o, "name", vs_str(name));
	json_object_set_new(o, "uuid", vs_str(uuid));
	json_object_set_new(o, "state",
	    json_string(hx_virt_state_word(info.state)));
	json_object_set_new(o, "vcpus", json_integer(info.nrVirtCpu));
	json_object_set_new(o, "memory_max_bytes",
	    vs_count(vs_kib(vs_ull(info.maxMem))));
	return o;
}

static json_t *
vs_rate_json(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

/*
 * The counters and rates of the device named target among devs (n of
 * them; none when the domain is not running); null where unknown.
 */
static void
vs_dev_figures(json_t *e, const struct hx_vm_dev *devs, size_t n,
    const char *target, int disk)
{
	const struct hx_vm_dev *d = NULL;
	size_t			i;

	for (i = 0; target != NULL && i < n && d == NULL; i++)
		if (devs[i].target != NULL &&
		    strcmp(devs[i].target, target) == 0)
			d = &devs[i];
	json_object_set_new(e, disk ? "read_bytes" : "rx_bytes",
	    vs_count(d != NULL ? d->a : -1));
	json_object_set_new(e, disk ? "write_bytes" : "tx_bytes",
	    vs_count(d != NULL ? d->b : -1));
	json_object_set_new(e, disk ? "read_bps" : "rx_bps",
	    vs_rate_json(d != NULL ? d->a_bps : NAN));
	json_object_set_new(e, disk ? "write_bps" : "tx_bps",
	    vs_rate_json(d != NULL ? d->b_bps : NAN));
}

static json_t *
vs_disks_json(const struct vs_devs *d, const struct hx_vm_sample *s)
{
	const struct vs_disk_conf *c;
	json_t			  *a, *e;
	size_t			   i;

	a = json_array();
	for (i = 0; i < d->ndisks; i++) {
		c = &d->disks[i];
		e = json_object();
		json_object_set_new(e, "target", vs_str(c->target));
		json_object_set_new(e, "source", vs_str(c->source));
		json_object_set_new(e, "bus", vs_str(c->bus));
		json_object_set_new(e, "device", vs_str(c->device));
		vs_dev_figures(e, s ? s->disks : NULL, s ? s->ndisks : 0,
		    c->target, 1);
		json_array_append_new(a, e);
	}
	return a;
}

static json_t *
vs_nics_json(const struct vs_devs *d, const struct hx_vm_sample *s)
{
	const struct vs_nic_conf *c;
	json_t			 *a, *e;
	size_t			  i;

	a = json_array();
	for (i = 0; i < d->nnics; i++) {
		c = &d->nics[i];
		e = json_object();
		json_object_set_new(e, "target", vs_str(c->target));
		json_object_set_new(e, "mac", vs_str(c->mac));
		json_object_set_new(e, "model", vs_str(c->model));
		json_object_set_new(e, "type", vs_str(c->type));
		json_object_set_new(e, "source", vs_str(c->source));
		vs_dev_figures(e, s ? s->nics : NULL, s ? s->nnics : 0,
		    c->target, 0);
		json_array_append_new(a, e);
	}
	return a;
}

json_t *
hx_virt_domain_json(virDomainPtr dom, const struct hx_vm_sample *latest,
    char **err)
{
	virDomainInfo  info;
	struct vs_devs d;
	char	       uuid[VIR_UUID_STRING_BUFLEN];
	const char    *name;
	json_t	      *o, *metrics;
	int	       autostart, persistent;

	if (vs_identify(dom, &name, uuid, &info, err) == -1)
		return NULL;
	if (latest != NULL &&
	    (latest->uuid == NULL || strcmp(latest->uuid, uuid) != 0)) {
		*err = xasprintf("cannot describe domain '%s': the sample "
				 "given is of another domain",
		    name);
		return NULL;
	}
	if (vs_devs_read(dom, &d, err) == -1)
		return NULL;

	o = json_object();
	json_object_set_new(o, "id", vs_str(name));
	json_object_set_new(o, "name", vs_str(name));
	json_object_set_new(o, "uuid", vs_str(uuid));
	json_object_set_new(o, "state",
	    json_string(hx_virt_state_word(info.state)));
	json_object_set_new(o, "vcpus", json_integer(info.nrVirtCpu));
	json_object_set_new(o, "memory_bytes",
	    vs_count(vs_kib(vs_ull(info.memory))));
	json_object_set_new(o, "memory_max_bytes",
	    vs_count(vs_kib(vs_ull(info.maxMem))));
	if (virDomainGetAutostart(dom, &autostart) == 0)
		json_object_set_new(o, "autostart", json_boolean(autostart));
	else
		json_object_set_new(o, "autostart", json_null());
	if ((persistent = virDomainIsPersistent(dom)) >= 0)
		json_object_set_new(o, "persistent", json_boolean(persistent));
	else
		json_object_set_new(o, "persistent", json_null());
	/* A stopped domain's last sample is history, not its metrics. */
	if (info.state == VIR_DOMAIN_SHUTOFF)
		latest = NULL;
	json_object_set_new(o, "disks", vs_disks_json(&d, latest));
	json_object_set_new(o, "nics", vs_nics_json(&d, latest));
	vs_devs_release(&d);

	if (latest != NULL)
		metrics = hx_event_vm_metrics(&latest->m, latest->timestamp_ms);
	else
		metrics = json_null();
	json_object_set_new(o, "metrics", metrics);
	return o;
}
