/*
 * prom.c - the Prometheus text exposition (see prom.h).
 *
 * A metric family's name comes from its field: a prefix (horcrux_node_,
 * horcrux_node_mount_ for an element of the mounts array, whose key field
 * names it, horcrux_vm_), the field's JSON name, then what its unit asks
 * of Prometheus' conventions: percent becomes a 0-1 `_ratio`, bytes/s a
 * `_bytes_per_second` gauge, bytes and seconds keep or gain their base
 * unit, and a counter (HX_F_COUNTER) ends in `_total`. The two shapes a
 * field's type cannot name (the label of a per-CPU array, the names of
 * the three load averages) are the small table below.
 *
 * It does not sample, lock or look up rights: the route gives it the
 * snapshot's figures and a filter.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "hx-proto.h"
#include "prom.h"

/* Where a field's shape alone does not say how Prometheus sees it. */
static const struct prom_special {
	const char *field;
	const char *label; /* DARRAY: the index's label */
	const char *names[3]; /* DOUBLES: one name per element */
} specials[] = {
	{ "cpu_per_core", "cpu", { NULL, NULL, NULL } },
	{ "load_average", NULL, { "load1", "load5", "load15" } },
};

/* One family being written: its header goes out before its first sample. */
struct family {
	char	    name[128];
	const char *type; /* "gauge" or "counter" */
	double	    div; /* the source is in 1/div units */
	char	    help[256];
	int	    started;
};

static const struct prom_special *
special_of(const char *field)
{
	size_t i;

	for (i = 0; i < HX_ARRAY_SIZE(specials); i++) {
		if (strcmp(specials[i].field, field) == 0)
			return &specials[i];
	}
	return NULL;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* HELP text: a backslash and a newline escaped. */
static int
add_help(struct hx_buf *b, const char *s)
{
	int r;

	for (; *s != '\0'; s++) {
		if (*s == '\\')
			r = hx_buf_add(b, "\\\\", 2);
		else if (*s == '\n')
			r = hx_buf_add(b, "\\n", 2);
		else
			r = hx_buf_add(b, s, 1);
		if (r != 0)
			return -1;
	}
	return 0;
}

/*
 * The family of field f of event ev (name may replace the field's JSON
 * name, for an element of DOUBLES).
 */
static void
family_of(struct family *fam, const char *prefix, const char *ev,
    const struct hx_field *f, const char *name)
{
	const char *unit = f->unit != NULL ? f->unit : "";
	const char *base = name != NULL ? name : f->name;
	const char *counter = (f->flags & HX_F_COUNTER) ? "_total" : "";
	const char *note = "";
	size_t	    n = strlen(base);

	fam->div = 1;
	fam->started = 0;
	fam->type = (f->flags & HX_F_COUNTER) ? "counter" : "gauge";
	if (strcmp(unit, "percent") == 0) {
		snprintf(fam->name, sizeof fam->name, "%s%s_ratio%s", prefix,
		    base, counter);
		fam->div = 100;
		note = ", as a ratio (percent / 100)";
	} else if (strcmp(unit, "bytes/s") == 0) {
		if (ends_with(base, "_bps"))
			n -= 4;
		snprintf(fam->name, sizeof fam->name, "%s%.*s_bytes_per_second",
		    prefix, (int)n, base);
	} else if (strcmp(unit, "bytes") == 0 || strcmp(unit, "seconds") == 0) {
		snprintf(fam->name, sizeof fam->name, "%s%s%s%s%s", prefix,
		    base, ends_with(base, unit) ? "" : "_",
		    ends_with(base, unit) ? "" : unit, counter);
	} else
		snprintf(fam->name, sizeof fam->name, "%s%s%s", prefix, base,
		    counter);
	snprintf(fam->help, sizeof fam->help, "%s %s%s%s%s%s%s", ev, f->name,
	    f->doc != NULL ? ": " : "", f->doc != NULL ? f->doc : "", note,
	    unit[0] != '\0' && note[0] == '\0' ? ", in " : "",
	    note[0] == '\0' ? unit : "");
}

/* One sample line; the header first if the family has none yet. */
static int
emit(struct hx_buf *b, struct family *fam, const char *labels,
    const char *value)
{
	if (!fam->started) {
		fam->started = 1;
		if (hx_buf_addf(b, "# HELP %s ", fam->name) != 0 ||
		    add_help(b, fam->help) != 0 ||
		    hx_buf_addf(b, "\n# TYPE %s %s\n", fam->name, fam->type) !=
			0)
			return -1;
	}
	return hx_buf_addf(b, "%s%s%s%s %s\n", fam->name,
	    labels[0] != '\0' ? "{" : "", labels, labels[0] != '\0' ? "}" : "",
	    value);
}

static int
emit_double(struct hx_buf *b, struct family *fam, const char *labels, double v)
{
	char num[PROM_NUMBER_MAX];

	if (!isfinite(v))
		return 0; /* null in the event: no sample */
	prom_number(v / fam->div, num, sizeof num);
	return emit(b, fam, labels, num);
}

/*
 * The sample(s) of scalar field f of the struct at p. Whole numbers are
 * written exactly, never through a double.
 */
static int
emit_field(struct hx_buf *b, struct family *fam, const struct hx_field *f,
    const void *p, const char *labels)
{
	const char *at = (const char *)p + f->off;
	char	    num[PROM_NUMBER_MAX];
	int64_t	    i;
	uint64_t    u;

	switch (f->ctype) {
	case HX_C_DOUBLE:
		return emit_double(b, fam, labels, *(const double *)at);
	case HX_C_I64:
		memcpy(&i, at, sizeof i);
		if (i < 0)
			return 0;
		if (fam->div != 1)
			return emit_double(b, fam, labels, (double)i);
		snprintf(num, sizeof num, "%" PRId64, i);
		return emit(b, fam, labels, num);
	case HX_C_U64:
		memcpy(&u, at, sizeof u);
		if (fam->div != 1)
			return emit_double(b, fam, labels, (double)u);
		snprintf(num, sizeof num, "%" PRIu64, u);
		return emit(b, fam, labels, num);
	case HX_C_INT:
		return emit_double(b, fam, labels, *(const int *)at);
	default:
		return 0;
	}
}

/* "label=\"value\"" appended, after a comma when b is not empty. */
static int
add_label(struct hx_buf *b, const char *label, const char *value)
{
	if (hx_buf_addf(b, "%s%s=", b->len > 0 ? "," : "", label) != 0)
		return -1;
	return prom_label_value(b, value != NULL ? value : "");
}

/* --- node ------------------------------------------------------------- */

/* The mounts (or any array of the node): a family per series field. */
static int
render_array(struct hx_buf *b, const struct hx_field *af, const void *node)
{
	const struct hx_array *a = af->array;
	const struct hx_field *key = &a->fields[0], *f;
	const char *base = *(const char *const *)((const char *)node + af->off);
	size_t	    n, e, k;
	struct hx_buf l;
	struct family fam;
	char	      prefix[64];
	int	      r = 0;

	memcpy(&n, (const char *)node + a->count_off, sizeof n);
	snprintf(prefix, sizeof prefix, "horcrux_node_%s_", key->name);
	hx_buf_init(&l, 0);
	for (k = 1; k < a->nfields && r == 0; k++) {
		f = &a->fields[k];
		if (!(f->flags & HX_F_SERIES))
			continue;
		family_of(&fam, prefix, "NodeMetrics", f, NULL);
		for (e = 0; e < n && r == 0; e++) {
			const char *el = base + e * a->elem_size;

			if (a->ok_off != 0 &&
			    *(const int *)(el + a->ok_off) == 0)
				continue;
			hx_buf_reset(&l);
			add_label(&l, key->name,
			    *(const char *const *)(el + key->off));
			r = emit_field(b, &fam, f, el, l.data);
		}
	}
	hx_buf_release(&l);
	return r;
}

static int
render_node(struct hx_buf *b, const struct hx_node_metrics *nm)
{
	const struct hx_event_info *ev = &hx_events[HX_EV_NODE_METRICS];
	const struct hx_field	   *f;
	const struct prom_special  *sp;
	const double		   *d;
	struct family		    fam;
	char			    lab[64];
	size_t			    i, k;
	int			    count, r = 0;

	for (i = 0; i < ev->nfields && r == 0; i++) {
		f = &ev->fields[i];
		if (f->ctype == HX_C_ARRAY) {
			r = render_array(b, f, nm);
			continue;
		}
		if (!(f->flags & HX_F_SERIES))
			continue;
		sp = special_of(f->name);
		switch (f->ctype) {
		case HX_C_DOUBLES:
			d = (const double *)((const char *)nm + f->off);
			for (k = 0; k < f->size && r == 0; k++) {
				if (sp == NULL || k >= 3 ||
				    sp->names[k] == NULL)
					break;
				family_of(&fam, "horcrux_node_", ev->type, f,
				    sp->names[k]);
				r = emit_double(b, &fam, "", d[k]);
			}
			break;
		case HX_C_DARRAY:
			memcpy(&d, (const char *)nm + f->off, sizeof d);
			count = *(const int *)((const char *)nm + f->count_off);
			family_of(&fam, "horcrux_node_", ev->type, f, NULL);
			for (k = 0; d != NULL && k < (size_t)count && r == 0;
			     k++) {
				snprintf(lab, sizeof lab, "%s=\"%zu\"",
				    sp != NULL && sp->label != NULL ?
					sp->label :
					"index",
				    k);
				r = emit_double(b, &fam, lab, d[k]);
			}
			break;
		default:
			family_of(&fam, "horcrux_node_", ev->type, f, NULL);
			r = emit_field(b, &fam, f, nm, "");
			break;
		}
	}
	return r;
}

/* --- VMs -------------------------------------------------------------- */

/* The per-device counters of a sample, which the field tables do not hold. */
static const struct dev_family {
	const char *name;
	const char *help;
	int	    nic; /* nics, else disks */
	int	    b; /* the b counter, else a */
} dev_families[] = {
	{ "horcrux_vm_block_read_bytes_total",
	    "bytes read from one of a VM's disks (cumulative)", 0, 0 },
	{ "horcrux_vm_block_write_bytes_total",
	    "bytes written to one of a VM's disks (cumulative)", 0, 1 },
	{ "horcrux_vm_interface_receive_bytes_total",
	    "bytes received on one of a VM's interfaces (cumulative)", 1, 0 },
	{ "horcrux_vm_interface_transmit_bytes_total",
	    "bytes sent on one of a VM's interfaces (cumulative)", 1, 1 },
};

/* The states a VM can be in, each once, in libvirt's order. */
static size_t
vm_states(const char **out, size_t max)
{
	size_t n = 0, i;
	int    s;

	/* PMSUSPENDED is the last state libvirt defines without sentinels. */
	for (s = VIR_DOMAIN_NOSTATE; s <= VIR_DOMAIN_PMSUSPENDED; s++) {
		const char *w = hx_virt_state_word(s);

		for (i = 0; i < n && strcmp(out[i], w) != 0; i++)
			;
		if (i == n && n < max)
			out[n++] = w;
	}
	return n;
}

static int
render_vms(struct hx_buf *b, const struct prom_input *in)
{
	const struct hx_event_info *ev = &hx_events[HX_EV_VM_METRICS];
	const struct hx_vm_sample  *s;
	const struct hx_vm_dev	   *dev;
	const struct hx_field	   *f;
	struct hx_buf		   *lab, l;
	struct family		    fam;
	const char		   *states[16], *id, *uuid, *st;
	char			    num[PROM_NUMBER_MAX];
	size_t			    i, k, n, ns;
	json_t			   *e;
	int64_t			    v;
	int			    r = 0;

	/* The labels of each visible VM, once; NULL for the others. */
	lab = xcalloc(in->nvms + 1, sizeof *lab);
	for (i = 0; i < in->nvms; i++) {
		s = in->vms[i];
		if (s->vm_id == NULL ||
		    (in->vm_visible != NULL &&
			!in->vm_visible(s->vm_id, in->arg)))
			continue;
		hx_buf_init(&lab[i], 0);
		add_label(&lab[i], "vm", s->vm_id);
		add_label(&lab[i], "vm_uuid", s->uuid);
	}
	for (k = 0; k < ev->nfields && r == 0; k++) {
		f = &ev->fields[k];
		if (!(f->flags & HX_F_SERIES))
			continue;
		family_of(&fam, "horcrux_vm_", ev->type, f, NULL);
		for (i = 0; i < in->nvms && r == 0; i++) {
			if (lab[i].data != NULL)
				r = emit_field(b, &fam, f, &in->vms[i]->m,
				    lab[i].data);
		}
	}
	hx_buf_init(&l, 0);
	for (k = 0; k < HX_ARRAY_SIZE(dev_families) && r == 0; k++) {
		memset(&fam, 0, sizeof fam);
		hx_strlcpy(fam.name, dev_families[k].name, sizeof fam.name);
		hx_strlcpy(fam.help, dev_families[k].help, sizeof fam.help);
		fam.type = "counter";
		fam.div = 1;
		for (i = 0; i < in->nvms && r == 0; i++) {
			s = in->vms[i];
			if (lab[i].data == NULL)
				continue;
			n = dev_families[k].nic ? s->nnics : s->ndisks;
			for (ns = 0; ns < n && r == 0; ns++) {
				dev = dev_families[k].nic ? &s->nics[ns] :
							    &s->disks[ns];
				v = dev_families[k].b ? dev->b : dev->a;
				if (v < 0)
					continue;
				hx_buf_reset(&l);
				hx_buf_add(&l, lab[i].data, lab[i].len);
				add_label(&l, "device", dev->target);
				snprintf(num, sizeof num, "%" PRId64, v);
				r = emit(b, &fam, l.data, num);
			}
		}
	}
	for (i = 0; i < in->nvms; i++)
		hx_buf_release(&lab[i]);
	free(lab);

	/* Every VM of the inventory, running or not. */
	memset(&fam, 0, sizeof fam);
	hx_strlcpy(fam.name, "horcrux_vm_state", sizeof fam.name);
	hx_strlcpy(fam.help, "1 for the state the VM is in, 0 for the others",
	    sizeof fam.help);
	fam.type = "gauge";
	fam.div = 1;
	ns = vm_states(states, HX_ARRAY_SIZE(states));
	json_array_foreach(in->inventory, i, e) {
		if (r != 0)
			break;
		id = json_string_value(json_object_get(e, "id"));
		uuid = json_string_value(json_object_get(e, "uuid"));
		st = json_string_value(json_object_get(e, "state"));
		if (id == NULL ||
		    (in->vm_visible != NULL && !in->vm_visible(id, in->arg)))
			continue;
		for (k = 0; k < ns && r == 0; k++) {
			hx_buf_reset(&l);
			add_label(&l, "vm", id);
			add_label(&l, "vm_uuid", uuid);
			add_label(&l, "state", states[k]);
			r = emit(b, &fam, l.data,
			    st != NULL && strcmp(st, states[k]) == 0 ? "1" :
								       "0");
		}
	}
	hx_buf_release(&l);
	return r;
}

/* --- the daemon ------------------------------------------------------- */

static int
render_self(struct hx_buf *b, const struct prom_self *self)
{
	const struct {
		const char *name;
		const char *type;
		const char *help;
		uint64_t    v;
	} rows[] = {
		{ "horcrux_ws_sessions", "gauge", "open WebSocket sessions",
		    self->sessions },
		{ "horcrux_ws_sessions_msgpack", "gauge",
		    "open WebSocket sessions on the horcrux.msgpack subprotocol",
		    self->sessions_msgpack },
		{ "horcrux_ws_frames_sent_total", "counter",
		    "frames written to WebSocket sessions", self->frames_sent },
		{ "horcrux_ws_frames_coalesced_total", "counter",
		    "metric frames replaced, unsent, by a newer one of the same "
		    "subject",
		    self->frames_coalesced },
		{ "horcrux_ws_sessions_closed_slow_total", "counter",
		    "WebSocket sessions closed for not reading their events",
		    self->sessions_closed_slow },
	};
	size_t i;

	for (i = 0; i < HX_ARRAY_SIZE(rows); i++) {
		if (hx_buf_addf(b,
			"# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n",
			rows[i].name, rows[i].help, rows[i].name, rows[i].type,
			rows[i].name, rows[i].v) != 0)
			return -1;
	}
	return 0;
}

int
prom_render(struct hx_buf *b, const struct prom_input *in)
{
	if (in->node != NULL && render_node(b, in->node) != 0)
		return -1;
	if (render_vms(b, in) != 0)
		return -1;
	if (in->self != NULL && render_self(b, in->self) != 0)
		return -1;
	return 0;
}

/* --- numbers and labels ------------------------------------------------- */

void
prom_number(double v, char *out, size_t outlen)
{
	if (isnan(v))
		snprintf(out, outlen, "NaN");
	else if (isinf(v))
		snprintf(out, outlen, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == trunc(v) && fabs(v) < 1e15)
		snprintf(out, outlen, "%.0f", v);
	else {
		snprintf(out, outlen, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, outlen, "%.17g", v);
	}
}

/*
 * The length of the valid UTF-8 sequence at s (1-4), or 0 when the
 * bytes there are not one (overlong, a surrogate, beyond U+10FFFF,
 * cut short).
 */
static size_t
utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t	 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
prom_label_value(struct hx_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		     n;
	int		     r;

	if (hx_buf_add(b, "\"", 1) != 0)
		return -1;
	while (*p != '\0') {
		if (*p == '\\')
			r = hx_buf_add(b, "\\\\", 2), n = 1;
		else if (*p == '"')
			r = hx_buf_add(b, "\\\"", 2), n = 1;
		else if (*p == '\n')
			r = hx_buf_add(b, "\\n", 2), n = 1;
		else if ((n = utf8_len(p)) == 0)
			r = hx_buf_add(b, "\xef\xbf\xbd", 3), n = 1;
		else
			r = hx_buf_add(b, p, n);
		if (r != 0)
			return -1;
		p += n;
	}
	return hx_buf_add(b, "\"", 1);
}
