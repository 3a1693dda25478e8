/*
 * history-query.c - GET /api/metrics/history and GET /api/metrics/series
 * (DESIGN §8): what a caller may read, decided on the service thread,
 * and the query itself, run on the history's query thread against its
 * reader handle (the unflushed points included).
 *
 * Names. The engine stores VM series by UUID (vm:UUID:FIELD); callers
 * write and read them by the VM's current name (vm:NAME:FIELD). A VM's
 * fields are scalars, so FIELD is what follows the last ':' and NAME may
 * hold ':' (libvirt allows it); in a pattern the NAME part is one glob
 * part whose '*' runs over ':' too, so vm:*:cpu_usage finds "db:1". The
 * service thread hands the job the VMs of the inventory the caller may
 * audit, UUID and name; a stored series whose UUID is not among them
 * does not exist for this caller (no oracle: a named series the caller
 * may not read is just unknown). Node series need SysAudit on /nodes.
 *
 * Grid. With step=auto the finest tier that gives at most 2,000 points
 * over the range (and still holds its start) is served as it is: raw
 * samples without min/max, or the tier's 1-minute / 1-hour buckets. An
 * explicit step in seconds is served from the coarsest tier whose bucket
 * divides it, re-bucketed to step (avg weighted by the samples under
 * each bucket, min of mins, max of maxes). The 50,000-point cap counts
 * the grid: range / step for each series.
 *
 * This file does not touch the database's writer, the snapshot from the
 * query thread, or the connection: the reply goes back in the job.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "hx-event.h"
#include "hx-log.h"
#include "hx-rbac.h"
#include "hx-tsdb.h"
#include "hx-util.h"
#include "server.h"
#include "worker.h"

#define HQ_MAX_POINTS 50000 /* per reply: the grid, all series */
#define HQ_AUTO_POINTS 2000 /* step=auto's most points per series */

/* What the service thread decided for this caller. */
struct hq {
	int		      node_ok; /* SysAudit on /nodes */
	struct history_vm    *vms; /* the VMs it may audit */
	size_t		      nvms;
	struct history_limits lim;
	int64_t		      now_ms;
};

/* One series resolved: what it is called for the caller and in the db. */
struct hq_series {
	char *name; /* vm:NAME:... or node:... */
	char *stored; /* vm:UUID:... or node:... */
	char *unit;
	char *kind;
	int   is_vm;
	/* Points, filled by the query. */
	int64_t	 *t;
	double	 *v, *mn, *mx;
	uint32_t *n;
	size_t	  np, cap;
};

struct hq_list {
	struct hq_series *v;
	size_t		  n, cap;
	int		  dedupe; /* a later item: skip names
						   already listed (one list
						   call never repeats one) */
};

static void
hq_free(void *arg)
{
	struct hq *q = arg;

	if (q == NULL)
		return;
	history_vms_free(q->vms, q->nvms);
	free(q);
}

struct history_vm *
history_readable_vms(const struct identity *id, const struct snapshot *snap,
    size_t *n)
{
	struct history_vm *v;
	json_t		  *inv, *e;
	const char	  *name, *uuid;
	char		  *path;
	size_t		   i;

	*n = 0;
	if ((inv = snapshot_inventory(snap)) == NULL)
		return NULL;
	v = xcalloc(json_array_size(inv) + 1, sizeof *v);
	json_array_foreach(inv, i, e) {
		name = json_string_value(json_object_get(e, "id"));
		uuid = json_string_value(json_object_get(e, "uuid"));
		if (name == NULL || uuid == NULL)
			continue;
		path = hx_rbac_path_fill("/vms/{id}", name);
		if (access_allowed(id, HX_PRIV_VM_AUDIT, path)) {
			v[*n].uuid = xstrdup(uuid);
			v[*n].name = xstrdup(name);
			(*n)++;
		}
		free(path);
	}
	return v;
}

void
history_vms_free(struct history_vm *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].uuid);
		free(v[i].name);
	}
	free(v);
}

void
history_req_attach(struct job *j, const struct identity *id,
    const struct snapshot *snap, const struct history_limits *lim)
{
	struct hq *q = xcalloc(1, sizeof *q);

	q->node_ok = access_allowed(id, HX_PRIV_SYS_AUDIT, "/nodes");
	q->lim = *lim;
	q->now_ms = hx_wall_ms();
	q->vms = history_readable_vms(id, snap, &q->nvms);
	j->ctx = q;
	j->ctx_free = hq_free;
}

/* --- resolving names ------------------------------------------------------- */

static void
list_release(struct hq_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].stored);
		free(l->v[i].unit);
		free(l->v[i].kind);
		free(l->v[i].t);
		free(l->v[i].v);
		free(l->v[i].mn);
		free(l->v[i].mx);
		free(l->v[i].n);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int
list_has(const struct hq_list *l, const char *stored)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].stored, stored) == 0)
			return 1;
	}
	return 0;
}

static void
list_push(struct hq_list *l, char *name, const struct hx_tsdb_series_info *s,
    int is_vm)
{
	struct hq_series *e;

	if (l->dedupe && list_has(l, s->name)) {
		free(name);
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof *e);
	e->name = name;
	e->stored = xstrdup(s->name);
	e->unit = xstrdup(s->unit);
	e->kind = xstrdup(s->kind);
	e->is_vm = is_vm;
}

struct resolve {
	const struct hq *q;
	struct hq_list	*out;
	const char	*vm_part; /* the pattern's NAME part, or NULL */
};

static int
resolve_cb(const struct hx_tsdb_series_info *s, void *arg)
{
	struct resolve *rs = arg;
	const char     *uuid, *rest;
	size_t		i, ul;

	if (strncmp(s->name, "node:", 5) == 0) {
		if (rs->q->node_ok && rs->vm_part == NULL)
			list_push(rs->out, xstrdup(s->name), s, 0);
		return 0;
	}
	if (strncmp(s->name, "vm:", 3) != 0 ||
	    (rest = strchr(s->name + 3, ':')) == NULL)
		return 0;
	uuid = s->name + 3;
	ul = (size_t)(rest - uuid);
	for (i = 0; i < rs->q->nvms; i++) {
		if (strlen(rs->q->vms[i].uuid) != ul ||
		    strncmp(rs->q->vms[i].uuid, uuid, ul) != 0)
			continue;
		if (rs->vm_part == NULL ||
		    strcmp(rs->vm_part, rs->q->vms[i].name) == 0 ||
		    hx_tsdb_glob_match_part(rs->vm_part, rs->q->vms[i].name))
			list_push(rs->out,
			    xasprintf("vm:%s%s", rs->q->vms[i].name, rest), s,
			    1);
		break;
	}
	return 0;
}

static int
cmp_series(const void *a, const void *b)
{
	return strcmp(((const struct hq_series *)a)->name,
	    ((const struct hq_series *)b)->name);
}

/*
 * Add the series pattern names (a name or a glob, as the caller writes
 * it) to out, in name order. Returns 0, or -1 when the pattern is bad.
 */
static int
resolve(struct hx_tsdb *db, const struct hq *q, const char *pattern,
    struct hq_list *out)
{
	struct resolve rs = { q, out, NULL };
	const char    *p, *rest;
	char	      *stored_pat = NULL, *vm_part = NULL;
	size_t	       first = out->n, i;
	int	       rc;

	if (!hx_tsdb_glob_valid(pattern))
		return -1;
	for (p = pattern; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ',')
			return -1;
	}
	if (strncmp(pattern, "node:", 5) == 0 && pattern[5] != '\0') {
		if (!q->node_ok)
			return 0;
		rc = hx_tsdb_list(db, pattern, resolve_cb, &rs, NULL);
	} else if (strncmp(pattern, "vm:", 3) == 0 &&
	    (rest = strrchr(pattern + 3, ':')) != NULL && rest > pattern + 3 &&
	    rest[1] != '\0') {
		vm_part = xstrndup(pattern + 3, (size_t)(rest - pattern - 3));
		rs.vm_part = vm_part;
		rc = HX_TSDB_OK;
		if (strchr(vm_part, '*') == NULL) {
			/*
			 * A VM named in full: its UUID's series alone, not
			 * every VM's (a list of 30 names took 30 scans).
			 */
			for (i = 0; rc == HX_TSDB_OK && i < q->nvms; i++) {
				if (strcmp(q->vms[i].name, vm_part) != 0)
					continue;
				free(stored_pat);
				stored_pat = xasprintf("vm:%s%s",
				    q->vms[i].uuid, rest);
				rc = hx_tsdb_list(db, stored_pat, resolve_cb,
				    &rs, NULL);
			}
		} else {
			stored_pat = xasprintf("vm:*%s", rest);
			rc = hx_tsdb_list(db, stored_pat, resolve_cb, &rs,
			    NULL);
		}
	} else
		return -1;
	free(stored_pat);
	free(vm_part);
	if (rc == HX_TSDB_INVALID)
		return -1;
	if (out->n > first)
		qsort(out->v + first, out->n - first, sizeof *out->v,
		    cmp_series);
	return 0;
}

/* --- the query string ------------------------------------------------------ */

/* Decode %XX and '+' in place. */
static void
url_decode(char *s)
{
	char *o = s, h[3];

	for (; *s != '\0'; s++) {
		if (*s == '%' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			h[0] = s[1];
			h[1] = s[2];
			h[2] = '\0';
			*o++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else
			*o++ = *s == '+' ? ' ' : *s;
	}
	*o = '\0';
}

/* "now", "-90s", "-15m", "-1h", "-2d", "-1w", or RFC 3339; -1 if bad. */
static int64_t
parse_time(const char *s, int64_t now)
{
	static const struct {
		char	u;
		int64_t ms;
	} units[] = { { 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 },
		{ 'd', 86400000 }, { 'w', 7 * 86400000LL } };
	long long n;
	char	 *end;
	size_t	  i;

	if (strcmp(s, "now") == 0)
		return now;
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
		n = strtoll(s + 1, &end, 10);
		for (i = 0; i < HX_ARRAY_SIZE(units); i++) {
			if (end[0] == units[i].u && end[1] == '\0' &&
			    n < 100000000LL)
				return now - (int64_t)n * units[i].ms;
		}
		return -1;
	}
	return hx_parse_rfc3339_ms(s);
}

struct hq_args {
	char *series;
	char *from, *to, *step, *format;
};

/* Split j->query into args (borrowing the copy *buf, which caller frees). */
static void
parse_query(const struct job *j, struct hq_args *a, char **buf)
{
	char *part, *save = NULL, *eq;

	memset(a, 0, sizeof *a);
	*buf = xstrdup(j->query != NULL ? j->query : "");
	for (part = strtok_r(*buf, "&", &save); part != NULL;
	     part = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(part, '=')) == NULL)
			continue;
		*eq++ = '\0';
		url_decode(eq);
		if (strcmp(part, "series") == 0)
			a->series = eq;
		else if (strcmp(part, "from") == 0)
			a->from = eq;
		else if (strcmp(part, "to") == 0)
			a->to = eq;
		else if (strcmp(part, "step") == 0)
			a->step = eq;
		else if (strcmp(part, "format") == 0)
			a->format = eq;
	}
}

/* --- the query ------------------------------------------------------------- */

struct collect {
	struct hq_series *s;
	int64_t		  step; /* 0: the points as they are */
};

static void
push_point(struct hq_series *s, int64_t t, double sum, double mn, double mx,
    uint32_t n)
{
	if (s->np == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->t = xrealloc(s->t, s->cap * sizeof *s->t);
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
		s->mn = xrealloc(s->mn, s->cap * sizeof *s->mn);
		s->mx = xrealloc(s->mx, s->cap * sizeof *s->mx);
		s->n = xrealloc(s->n, s->cap * sizeof *s->n);
	}
	s->t[s->np] = t;
	s->v[s->np] = sum;
	s->mn[s->np] = mn;
	s->mx[s->np] = mx;
	s->n[s->np] = n;
	s->np++;
}

/* Floor division: buckets of negative times start before them too. */
static int64_t
bucket_of(int64_t t, int64_t step)
{
	int64_t b = t / step * step;

	return b > t ? b - step : b;
}

static int
collect_cb(const struct hx_tsdb_point *p, void *arg)
{
	struct collect	 *c = arg;
	struct hq_series *s = c->s;
	int64_t		  b;
	size_t		  k;

	if (c->step == 0) {
		push_point(s, p->t, p->v, p->min, p->max, p->n);
		return 0;
	}
	/* Bucket sums: v holds the weighted sum until the end. */
	b = bucket_of(p->t, c->step);
	if (s->np == 0 || s->t[s->np - 1] != b)
		push_point(s, b, 0, NAN, NAN, 0);
	k = s->np - 1;
	if (p->n > 0) {
		s->v[k] += p->v * p->n;
		s->mn[k] = s->n[k] == 0 || p->min < s->mn[k] ? p->min :
							       s->mn[k];
		s->mx[k] = s->n[k] == 0 || p->max > s->mx[k] ? p->max :
							       s->mx[k];
		s->n[k] += p->n;
	}
	return 0;
}

/*
 * Append CSV field s to b, quoted (RFC 4180) when it holds a comma, a
 * quote or a line break.
 */
static void
csv_field(struct hx_buf *b, const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		hx_buf_add(b, s, strlen(s));
		return;
	}
	hx_buf_add(b, "\"", 1);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			hx_buf_add(b, "\"", 1);
		hx_buf_add(b, p, 1);
	}
	hx_buf_add(b, "\"", 1);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* timestamp,<series>,... rows over the union of the series' times. */
static void
reply_csv(struct job *j, const struct hq_list *l)
{
	struct hx_buf b;
	int64_t	     *ts;
	size_t	      i, k, nts = 0, all = 0, *pos;
	char	      cell[64];

	for (i = 0; i < l->n; i++)
		all += l->v[i].np;
	ts = xcalloc(all + 1, sizeof *ts);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].np > 0)
			memcpy(ts + nts, l->v[i].t, l->v[i].np * sizeof *ts);
		nts += l->v[i].np;
	}
	if (nts > 0)
		qsort(ts, nts, sizeof *ts, cmp_i64);
	for (i = k = 0; i < nts; i++) {
		if (k == 0 || ts[k - 1] != ts[i])
			ts[k++] = ts[i];
	}
	nts = k;
	pos = xcalloc(l->n + 1, sizeof *pos);
	hx_buf_init(&b, 0);
	hx_buf_add(&b, "timestamp", 9);
	for (i = 0; i < l->n; i++) {
		hx_buf_add(&b, ",", 1);
		csv_field(&b, l->v[i].name);
	}
	hx_buf_add(&b, "\r\n", 2);
	for (k = 0; k < nts; k++) {
		hx_rfc3339_ms(ts[k], cell, sizeof cell);
		hx_buf_add(&b, cell, strlen(cell));
		for (i = 0; i < l->n; i++) {
			hx_buf_add(&b, ",", 1);
			if (pos[i] < l->v[i].np && l->v[i].t[pos[i]] == ts[k]) {
				if (isfinite(l->v[i].v[pos[i]])) {
					/* The precision of the JSON reply. */
					snprintf(cell, sizeof cell, "%.10g",
					    l->v[i].v[pos[i]]);
					hx_buf_add(&b, cell, strlen(cell));
				}
				pos[i]++;
			}
		}
		hx_buf_add(&b, "\r\n", 2);
	}
	free(ts);
	free(pos);
	j->status = 200;
	j->raw = hx_buf_detach(&b, &j->raw_len);
	j->raw_type = "text/csv; charset=utf-8";
}

/* A JSON string as jansson writes it; NULL if s is not UTF-8. Caller frees. */
static char *
json_text(const char *s)
{
	json_t *j = json_string(s);
	char   *t;

	if (j == NULL)
		return NULL;
	t = json_dumps(j, JSON_ENCODE_ANY | HX_JSON_FLAGS);
	json_decref(j);
	return t;
}

/* The decimal digits of t at p (as jansson writes an integer); the end. */
static char *
put_i64(char *p, int64_t t)
{
	char	 tmp[24];
	uint64_t u = t < 0 ? 0 - (uint64_t)t : (uint64_t)t;
	size_t	 n = 0;

	if (t < 0)
		*p++ = '-';
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* v as the JSON reply writes it (null when unknown) at p; the end. */
static char *
put_num(char *p, double v)
{
	if (!isfinite(v)) {
		memcpy(p, "null", 4);
		return p + 4;
	}
	return p + hx_json_dtoa(p, v);
}

/* A column of values, ",\"key\":[...]". */
static void
put_column(struct hx_buf *b, const char *key, const double *v, size_t n)
{
	char   cell[HX_JSON_DTOA_MAX + 1], *p;
	size_t k;

	hx_buf_addf(b, ",\"%s\":[", key);
	for (k = 0; k < n; k++) {
		p = cell;
		if (k > 0)
			*p++ = ',';
		p = put_num(p, v[k]);
		hx_buf_add(b, cell, (size_t)(p - cell));
	}
	hx_buf_add(b, "]", 1);
}

/*
 * The reply {"series":[{"name","unit","step","points","min","max"}]},
 * written straight into one buffer: a reply holds up to 50,000 points,
 * and a jansson tree of them (allocations per point, then json_dumps on
 * the service thread) cost several times the query. The bytes are those
 * json_dumps wrote with HX_JSON_FLAGS (hx_json_dtoa, jansson's own
 * string escaping, keys in insertion order); a series whose name or
 * unit is not UTF-8 is left out, as json_pack left it out.
 */
static void
reply_json(struct job *j, const struct hq_list *l, const int64_t *steps,
    int aggregated)
{
	const struct hq_series *s;
	struct hx_buf		b;
	char   cell[2 * HX_JSON_DTOA_MAX + 8], *p, *name, *unit;
	size_t i, k;
	int    first = 1;

	hx_buf_init(&b, 0);
	hx_buf_add(&b, "{\"series\":[", 11);
	for (i = 0; i < l->n; i++) {
		s = &l->v[i];
		name = json_text(s->name);
		unit = json_text(s->unit);
		if (name == NULL || unit == NULL) {
			free(name);
			free(unit);
			continue;
		}
		p = put_num(cell, (double)steps[i] / 1e3);
		*p = '\0';
		hx_buf_addf(&b,
		    "%s{\"name\":%s,\"unit\":%s,\"step\":%s,"
		    "\"points\":[",
		    first ? "" : ",", name, unit, cell);
		free(name);
		free(unit);
		first = 0;
		for (k = 0; k < s->np; k++) {
			p = cell;
			if (k > 0)
				*p++ = ',';
			*p++ = '[';
			p = put_i64(p, s->t[k]);
			*p++ = ',';
			p = put_num(p, s->v[k]);
			*p++ = ']';
			hx_buf_add(&b, cell, (size_t)(p - cell));
		}
		hx_buf_add(&b, "]", 1);
		if (aggregated) {
			put_column(&b, "min", s->mn, s->np);
			put_column(&b, "max", s->mx, s->np);
		}
		hx_buf_add(&b, "}", 1);
	}
	hx_buf_add(&b, "]}", 2);
	j->status = 200;
	j->raw = hx_buf_detach(&b, &j->raw_len);
	j->raw_type = "application/json";
}

void
job_history(struct job *j, const struct worker_env *env)
{
	const struct hq	 *q = j->ctx;
	struct hq_args	  a;
	struct hq_list	  l;
	struct collect	  c;
	enum hx_tsdb_tier tier = HX_TSDB_RAW;
	int64_t		  from, to, step = 0, range, grid, *steps = NULL;
	long long	  st;
	char		 *buf, *item, *next, *err = NULL;
	size_t		  i, k;
	int		  csv = 0, aggregated, rc;

	memset(&l, 0, sizeof l);
	parse_query(j, &a, &buf);
	if (a.format != NULL && strcmp(a.format, "csv") == 0)
		csv = 1;
	else if (a.format != NULL && strcmp(a.format, "json") != 0) {
		job_error(j, 422, "VALIDATION_ERROR",
		    "format must be json or "
		    "csv");
		goto out;
	}
	if (a.series == NULL || a.series[0] == '\0') {
		job_error(j, 400, "BAD_REQUEST",
		    "series is required: names "
		    "or globs such as node:cpu_usage,vm:*:cpu_usage");
		goto out;
	}
	from = parse_time(a.from != NULL ? a.from : "-1h", q->now_ms);
	to = parse_time(a.to != NULL ? a.to : "now", q->now_ms);
	if (from < 0 || to < 0) {
		job_error(j, 422, "VALIDATION_ERROR",
		    "from and to are RFC "
		    "3339 times, now, or relative such as -1h");
		goto out;
	}
	if (from >= to) {
		job_error(j, 422, "VALIDATION_ERROR", "from must be before to");
		goto out;
	}
	range = to - from;
	if (a.step != NULL && strcmp(a.step, "auto") != 0) {
		if (hx_parse_ll(a.step, 1, 100LL * 365 * 86400, &st) != 0) {
			job_error(j, 422, "VALIDATION_ERROR",
			    "step is a whole "
			    "number of seconds or auto");
			goto out;
		}
		step = (int64_t)st * 1000;
		if (step % hx_tsdb_bucket_ms(HX_TSDB_HOUR) == 0)
			tier = HX_TSDB_HOUR;
		else if (step % hx_tsdb_bucket_ms(HX_TSDB_MINUTE) == 0)
			tier = HX_TSDB_MINUTE;
	} else if (from >= q->now_ms - q->lim.keep_ms[HX_TSDB_RAW] &&
	    range / q->lim.node_ms <= HQ_AUTO_POINTS)
		tier = HX_TSDB_RAW;
	else if (from >= q->now_ms - q->lim.keep_ms[HX_TSDB_MINUTE] &&
	    range / hx_tsdb_bucket_ms(HX_TSDB_MINUTE) <= HQ_AUTO_POINTS)
		tier = HX_TSDB_MINUTE;
	else
		tier = HX_TSDB_HOUR;
	if (step == 0 && tier != HX_TSDB_RAW)
		step = hx_tsdb_bucket_ms(tier);
	for (item = a.series; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		/* An empty item (",," or a trailing comma) is a bad one. */
		if (resolve(env->tsdb, q, item, &l) != 0) {
			job_error(j, 400, "BAD_REQUEST",
			    "a series is a name or "
			    "a glob starting node: or vm:NAME:");
			goto out;
		}
		l.dedupe = 1;
	}
	if (l.n == 0) {
		job_error(j, 404, "NOT_FOUND", "no such series");
		goto out;
	}
	steps = xcalloc(l.n, sizeof *steps);
	for (i = 0, grid = 0; i < l.n; i++) {
		steps[i] = step != 0 ? step :
		    l.v[i].is_vm     ? q->lim.vm_ms :
				       q->lim.node_ms;
		grid += range / steps[i] + 1;
	}
	if (grid > HQ_MAX_POINTS) {
		job_error(j, 422, "VALIDATION_ERROR",
		    "too many points: "
		    "narrow the range, name fewer series or raise step (at "
		    "most 50000 per reply)");
		goto out;
	}
	aggregated = step != 0;
	for (i = 0; i < l.n; i++) {
		c.s = &l.v[i];
		c.step = step;
		rc = hx_tsdb_query(env->tsdb, l.v[i].stored, tier,
		    step != 0 ? bucket_of(from, step) : from, to, collect_cb,
		    &c, &err);
		if (rc != HX_TSDB_OK && rc != HX_TSDB_NOT_FOUND) {
			log_error("history: query of '%s': %s", l.v[i].stored,
			    err);
			free(err);
			job_error(j, 500, "INTERNAL",
			    "the history cannot be "
			    "read");
			goto out;
		}
		free(err);
		err = NULL;
		for (k = 0; step != 0 && k < c.s->np; k++) {
			if (c.s->n[k] > 0)
				c.s->v[k] /= c.s->n[k];
			else
				c.s->v[k] = NAN;
		}
	}
	if (csv)
		reply_csv(j, &l);
	else
		reply_json(j, &l, steps, aggregated);
out:
	free(steps);
	list_release(&l);
	free(buf);
}

void
job_history_series(struct job *j, const struct worker_env *env)
{
	const struct hq *q = j->ctx;
	struct hq_list	 l;
	struct resolve	 rs = { q, &l, NULL };
	json_t		*a = json_array();
	size_t		 i;
	char		*err = NULL;

	memset(&l, 0, sizeof l);

	if (hx_tsdb_list(env->tsdb, NULL, resolve_cb, &rs, &err) !=
	    HX_TSDB_OK) {
		log_error("history: cannot list series: %s", err);
		json_decref(a);
		job_error(j, 500, "INTERNAL", "the history cannot be read");
		goto out;
	}
	if (l.n > 0)
		qsort(l.v, l.n, sizeof *l.v, cmp_series);
	for (i = 0; i < l.n; i++)
		json_array_append_new(a,
		    json_pack("{s:s,s:s,s:s}", "name", l.v[i].name, "unit",
			l.v[i].unit, "kind", l.v[i].kind));
	j->status = 200;
	j->reply = json_pack("{s:o}", "series", a);
out:
	free(err);
	list_release(&l);
}
