/*
 * hx-proc.c - parsers for /proc/stat, /proc/meminfo, /proc/loadavg,
 * /proc/uptime, /proc/diskstats and /proc/net/dev, and df's arithmetic
 * (see hx-proc.h).
 *
 * The parsers walk the text in place with a line cursor and a token
 * cursor instead of sscanf or strtoull: those skip leading blanks, accept
 * signs and, for doubles, follow the locale's decimal point, and a monitor
 * that reads "-1" as 18446744073709551615 or "0.50" as 0 under a French
 * locale reports nonsense with confidence. This file does no I/O.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hx-proc.h"
#include "hx-util.h"

/* Larger than any NR_CPUS the kernel allows, small enough to fit an int. */
#define PROC_MAX_CPU_ID (1 << 22)

/* The kernel's diskstats unit, whatever the device's logical block size. */
#define PROC_SECTOR_SIZE 512

/* Columns of a diskstats line: 2.6.0-2.6.24 partitions, and everything else. */
#define DISKSTATS_OLD_COLS 7
#define DISKSTATS_MIN_COLS 14

/* Counters per interface in /proc/net/dev since 2.4: 8 receive, 8 transmit. */
#define NETDEV_MIN_FIELDS 16

struct line_cursor {
	const char  *p;
	const char  *end;
	unsigned int lineno;
};

struct tok {
	const char *s;
	size_t	    len;
};

/* Build the git-style message; line 0 means the whole file. Returns -1. */
static int HX_PRINTF(4, 5) proc_fail(char **err, const char *file,
    unsigned int line, const char *fmt, ...)
{
	va_list ap;
	char   *msg;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (line != 0)
		*err = xasprintf("cannot parse %s line %u: %s", file, line,
		    msg);
	else
		*err = xasprintf("cannot parse %s: %s", file, msg);
	free(msg);
	return -1;
}

/*
 * Copy a token into buf for an error message: cut to fit and with control
 * and non-ASCII bytes replaced, because the text may be anything and the
 * message ends up in logs and on terminals.
 */
static const char *
tok_show(const struct tok *t, char *buf, size_t size)
{
	size_t i, n;

	n = t->len < size - 4 ? t->len : size - 4;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t->s[i];
		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (n < t->len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/*
 * Check the text is there and complete, and set up a cursor over it. The
 * kernel ends every line with a newline; a missing last one means the read
 * stopped early, and the last number may be cut short.
 */
static int
lines_init(struct line_cursor *c, const char *text, const char *file,
    int allow_empty, char **err)
{
	size_t len;

	c->p = c->end = text;
	c->lineno = 0;
	if (text == NULL)
		return proc_fail(err, file, 0, "no text");
	if ((len = strlen(text)) == 0) {
		if (allow_empty)
			return 0;
		return proc_fail(err, file, 0, "empty");
	}
	if (text[len - 1] != '\n')
		return proc_fail(err, file, 0, "truncated (no final newline)");
	c->end = text + len;
	return 0;
}

/* Next line as [*ls, *le), le at its newline. Returns 0 at the end. */
static int
lines_next(struct line_cursor *c, const char **ls, const char **le)
{
	const char *nl;

	if (c->p >= c->end)
		return 0;
	/* lines_init made sure the text ends with a newline. */
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*ls = c->p;
	*le = nl;
	c->p = nl + 1;
	c->lineno++;
	return 1;
}

/* Next blank-separated token of [*p, e). Returns 0 when there is none. */
static int
tok_next(const char **p, const char *e, struct tok *t)
{
	const char *s = *p;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	if (s == e) {
		*p = s;
		return 0;
	}
	t->s = s;
	while (s < e && *s != ' ' && *s != '\t')
		s++;
	t->len = (size_t)(s - t->s);
	*p = s;
	return 1;
}

static int
tok_is(const struct tok *t, const char *word)
{
	size_t len = strlen(word);

	return t->len == len && memcmp(t->s, word, len) == 0;
}

/* Digits only, at least one, no overflow. Returns 0 or -1. */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t	 i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned int d = (unsigned char)s[i] - '0';
		if (d > 9)
			return -1;
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int
tok_u64(const struct tok *t, uint64_t *out)
{
	return parse_u64(t->s, t->len, out);
}

/*
 * A non-negative decimal "123" or "123.45", the only shape loadavg and
 * uptime print. Digits past the 17th after the point cannot change a
 * double and are skipped rather than overflow.
 */
static int
tok_decimal(const struct tok *t, double *out)
{
	const char *dot;
	size_t	    ilen, i;
	uint64_t    ip, frac = 0, scale = 1;

	dot = memchr(t->s, '.', t->len);
	ilen = dot != NULL ? (size_t)(dot - t->s) : t->len;
	if (parse_u64(t->s, ilen, &ip) == -1)
		return -1;
	if (dot != NULL) {
		if (ilen + 1 == t->len)
			return -1;
		for (i = ilen + 1; i < t->len; i++) {
			unsigned int d = (unsigned char)t->s[i] - '0';
			if (d > 9)
				return -1;
			if (scale < 100000000000000000ULL) {
				frac = frac * 10 + d;
				scale *= 10;
			}
		}
	}
	*out = (double)ip + (double)frac / (double)scale;
	return 0;
}

static int
cpu_cmp(const void *a, const void *b)
{
	const struct hx_proc_cpu *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

void
hx_proc_stat_release(struct hx_proc_stat *st)
{
	free(st->cpus);
	memset(st, 0, sizeof *st);
}

int
hx_proc_stat_parse(const char *text, struct hx_proc_stat *out, char **err)
{
	static const char *file = "/proc/stat";
	struct line_cursor c;
	struct hx_proc_cpu cpu;
	struct tok	   t;
	const char	  *ls, *le, *p;
	char		   show[40];
	uint64_t	   f[8], v, id;
	size_t		   n, alloc = 0, i;
	int		   have_total = 0;

	memset(out, 0, sizeof *out);
	if (lines_init(&c, text, file, 0, err) == -1)
		return -1;
	while (lines_next(&c, &ls, &le)) {
		p = ls;
		if (!tok_next(&p, le, &t))
			continue;
		/*
		 * "cpu" and "cpu" + digit are ours; any other line, even one
		 * a future kernel starts with "cpu", is not.
		 */
		if (t.len < 3 || memcmp(t.s, "cpu", 3) != 0 ||
		    (t.len > 3 && (t.s[3] < '0' || t.s[3] > '9')))
			continue;
		if (t.len == 3)
			id = UINT64_MAX;
		else if (parse_u64(t.s + 3, t.len - 3, &id) == -1 ||
		    id > PROC_MAX_CPU_ID) {
			proc_fail(err, file, c.lineno, "bad cpu name '%s'",
			    tok_show(&t, show, sizeof show));
			goto fail;
		}

		memset(f, 0, sizeof f);
		for (n = 0; tok_next(&p, le, &t); n++) {
			if (tok_u64(&t, &v) == -1) {
				proc_fail(err, file, c.lineno,
				    "bad number in field %zu: '%s'", n + 1,
				    tok_show(&t, show, sizeof show));
				goto fail;
			}
			if (n < HX_ARRAY_SIZE(f))
				f[n] = v;
		}
		/* user nice system idle, as 2.4 printed; the rest read as 0. */
		if (n < 4) {
			proc_fail(err, file, c.lineno,
			    "%zu fields, want at least 4", n);
			goto fail;
		}

		cpu.id = id == UINT64_MAX ? -1 : (int)id;
		cpu.user = f[0];
		cpu.nice = f[1];
		cpu.system = f[2];
		cpu.idle = f[3];
		cpu.iowait = f[4];
		cpu.irq = f[5];
		cpu.softirq = f[6];
		cpu.steal = f[7];

		if (cpu.id == -1) {
			if (have_total) {
				proc_fail(err, file, c.lineno,
				    "second 'cpu' line");
				goto fail;
			}
			out->total = cpu;
			have_total = 1;
			continue;
		}
		if (out->ncpus == alloc) {
			alloc = alloc == 0 ? 16 : alloc * 2;
			out->cpus = xrealloc(out->cpus,
			    alloc * sizeof *out->cpus);
		}
		out->cpus[out->ncpus++] = cpu;
	}
	if (!have_total) {
		proc_fail(err, file, 0, "no 'cpu' line");
		goto fail;
	}
	/* At least one CPU is always online. */
	if (out->ncpus == 0) {
		proc_fail(err, file, 0, "no 'cpuN' line");
		goto fail;
	}
	/* The kernel lists them in order; sorting makes that a guarantee. */
	qsort(out->cpus, out->ncpus, sizeof *out->cpus, cpu_cmp);
	for (i = 1; i < out->ncpus; i++) {
		if (out->cpus[i].id == out->cpus[i - 1].id) {
			proc_fail(err, file, 0, "cpu%d listed twice",
			    out->cpus[i].id);
			goto fail;
		}
	}
	return 0;

fail:
	hx_proc_stat_release(out);
	return -1;
}

/* The fields that count as busy time; idle and iowait are the rest. */
static const size_t cpu_busy_fields[] = {
	offsetof(struct hx_proc_cpu, user),
	offsetof(struct hx_proc_cpu, nice),
	offsetof(struct hx_proc_cpu, system),
	offsetof(struct hx_proc_cpu, irq),
	offsetof(struct hx_proc_cpu, softirq),
	offsetof(struct hx_proc_cpu, steal),
};

static uint64_t
cpu_field(const struct hx_proc_cpu *c, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)c + off, sizeof v);
	return v;
}

double
hx_proc_cpu_usage(const struct hx_proc_cpu *prev, const struct hx_proc_cpu *cur)
{
	uint64_t a, b, idle0, idle1;
	double	 busy = 0, idle;
	size_t	 i;

	for (i = 0; i < HX_ARRAY_SIZE(cpu_busy_fields); i++) {
		a = cpu_field(prev, cpu_busy_fields[i]);
		b = cpu_field(cur, cpu_busy_fields[i]);
		if (b < a)
			return NAN;
		busy += (double)(b - a);
	}
	if (__builtin_add_overflow(prev->idle, prev->iowait, &idle0) ||
	    __builtin_add_overflow(cur->idle, cur->iowait, &idle1) ||
	    idle1 < idle0)
		return NAN;
	idle = (double)(idle1 - idle0);
	if (busy + idle == 0)
		return NAN;
	return busy / (busy + idle) * 100.0;
}

int
hx_proc_cpu_split(const struct hx_proc_cpu *prev, const struct hx_proc_cpu *cur,
    struct hx_proc_cpu_split *out)
{
	double busy, all;

	out->user = out->system = out->iowait = out->steal = NAN;
	busy = hx_proc_cpu_usage(prev, cur);
	if (isnan(busy))
		return -1;
	/* The counters checked above cannot have gone backwards. */
	all = (double)(cur->user - prev->user) +
	    (double)(cur->nice - prev->nice) +
	    (double)(cur->system - prev->system) +
	    (double)(cur->irq - prev->irq) +
	    (double)(cur->softirq - prev->softirq) +
	    (double)(cur->steal - prev->steal) +
	    (double)(cur->idle + cur->iowait - prev->idle - prev->iowait);
	out->user = (double)(cur->user - prev->user + cur->nice - prev->nice) /
	    all * 100.0;
	out->system = (double)(cur->system - prev->system + cur->irq -
			  prev->irq + cur->softirq - prev->softirq) /
	    all * 100.0;
	out->steal = (double)(cur->steal - prev->steal) / all * 100.0;
	if (cur->iowait >= prev->iowait)
		out->iowait = (double)(cur->iowait - prev->iowait) / all *
		    100.0;
	return 0;
}

/* File system types that hold no disk space of their own. */
static const char *const pseudo_fs[] = {
	"autofs",
	"binfmt_misc",
	"bpf",
	"cgroup",
	"cgroup2",
	"configfs",
	"debugfs",
	"devpts",
	"devtmpfs",
	"efivarfs",
	"fusectl",
	"hugetlbfs",
	"mqueue",
	"nsfs",
	"overlay",
	"proc",
	"pstore",
	"ramfs",
	"rpc_pipefs",
	"securityfs",
	"selinuxfs",
	"squashfs",
	"sysfs",
	"tmpfs",
	"tracefs",
	"fuse.gvfsd-fuse",
	"fuse.portal",
	"fuse.lxcfs",
	"nfsd",
	"rootfs",
};

/* Decode the octal escapes of a mounts field in place. */
static void
mounts_unescape(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 3;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

char **
hx_proc_real_mounts(const char *text, size_t *n)
{
	char **out = NULL, **src = NULL, *copy = xstrdup(text), *line, *next;
	size_t i, k;

	*n = 0;
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		char *f[3], *p = line;
		int   nf, skip = 0;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		for (nf = 0; nf < 3; nf++) {
			while (*p == ' ')
				p++;
			if (*p == '\0')
				break;
			f[nf] = p;
			p += strcspn(p, " ");
			if (*p != '\0')
				*p++ = '\0';
		}
		if (nf < 3 || f[1][0] != '/')
			continue;
		for (k = 0; k < HX_ARRAY_SIZE(pseudo_fs); k++)
			skip |= strcmp(f[2], pseudo_fs[k]) == 0;
		for (k = 0; k < *n && !skip; k++)
			skip = strcmp(src[k], f[0]) == 0;
		if (skip)
			continue;
		mounts_unescape(f[1]);
		out = xrealloc(out, (*n + 1) * sizeof *out);
		src = xrealloc(src, (*n + 1) * sizeof *src);
		out[*n] = xstrdup(f[1]);
		src[*n] = xstrdup(f[0]);
		(*n)++;
	}
	/* "/" first, the rest in mount order. */
	for (i = 1; i < *n; i++)
		if (strcmp(out[i], "/") == 0) {
			char *root = out[i];

			memmove(&out[1], &out[0], i * sizeof *out);
			out[0] = root;
			break;
		}
	for (i = 0; i < *n; i++)
		free(src[i]);
	free(src);
	free(copy);
	return out;
}

/* The meminfo fields we use; the table drives parsing and the checks. */
static const struct {
	const char *key;
	size_t	    off;
	int	    required;
} meminfo_fields[] = {
	{ "MemTotal", offsetof(struct hx_proc_meminfo, total), 1 },
	{ "MemFree", offsetof(struct hx_proc_meminfo, free), 1 },
	{ "MemAvailable", offsetof(struct hx_proc_meminfo, available), 0 },
	{ "Buffers", offsetof(struct hx_proc_meminfo, buffers), 1 },
	{ "Cached", offsetof(struct hx_proc_meminfo, cached), 1 },
	{ "SwapTotal", offsetof(struct hx_proc_meminfo, swap_total), 1 },
	{ "SwapFree", offsetof(struct hx_proc_meminfo, swap_free), 1 },
};
#define MEMINFO_AVAILABLE 2

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t
mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

int
hx_proc_meminfo_parse(const char *text, struct hx_proc_meminfo *out, char **err)
{
	static const char *file = "/proc/meminfo";
	struct line_cursor c;
	struct tok	   t, key, unit;
	const char	  *ls, *le, *p, *colon;
	char		   show[40];
	uint64_t	   v;
	size_t		   i;
	int		   seen[HX_ARRAY_SIZE(meminfo_fields)] = { 0 };

	memset(out, 0, sizeof *out);
	if (lines_init(&c, text, file, 0, err) == -1)
		return -1;
	while (lines_next(&c, &ls, &le)) {
		if ((colon = memchr(ls, ':', (size_t)(le - ls))) == NULL)
			continue;
		key.s = ls;
		key.len = (size_t)(colon - ls);
		for (i = 0; i < HX_ARRAY_SIZE(meminfo_fields); i++) {
			if (tok_is(&key, meminfo_fields[i].key))
				break;
		}
		if (i == HX_ARRAY_SIZE(meminfo_fields))
			continue;

		p = colon + 1;
		if (!tok_next(&p, le, &t)) {
			proc_fail(err, file, c.lineno, "%s has no value",
			    meminfo_fields[i].key);
			goto fail;
		}
		if (tok_u64(&t, &v) == -1) {
			proc_fail(err, file, c.lineno,
			    "bad number for %s: '%s'", meminfo_fields[i].key,
			    tok_show(&t, show, sizeof show));
			goto fail;
		}
		if (!tok_next(&p, le, &unit) || !tok_is(&unit, "kB") ||
		    tok_next(&p, le, &t)) {
			proc_fail(err, file, c.lineno, "%s is not in kB",
			    meminfo_fields[i].key);
			goto fail;
		}
		if (v > UINT64_MAX / 1024) {
			proc_fail(err, file, c.lineno, "%s is too large",
			    meminfo_fields[i].key);
			goto fail;
		}
		if (seen[i]) {
			proc_fail(err, file, c.lineno, "%s given twice",
			    meminfo_fields[i].key);
			goto fail;
		}
		seen[i] = 1;
		v *= 1024;
		memcpy((char *)out + meminfo_fields[i].off, &v, sizeof v);
	}
	for (i = 0; i < HX_ARRAY_SIZE(meminfo_fields); i++) {
		if (meminfo_fields[i].required && !seen[i]) {
			proc_fail(err, file, 0, "no %s", meminfo_fields[i].key);
			goto fail;
		}
	}
	/*
	 * Before 3.14 there is no MemAvailable; free memory plus the page
	 * and buffer caches is what tools of the time reported, an
	 * overestimate (not all cache can be dropped) but the usual one.
	 */
	if (!seen[MEMINFO_AVAILABLE]) {
		v = add_sat(add_sat(out->free, out->buffers), out->cached);
		out->available = v < out->total ? v : out->total;
		out->available_estimated = 1;
	}
	return 0;

fail:
	memset(out, 0, sizeof *out);
	return -1;
}

/* Parse the first n blank-separated decimals of a one-line file. */
static int
parse_decimals(const char *text, const char *file, double *out, size_t n,
    char **err)
{
	struct line_cursor c;
	struct tok	   t;
	const char	  *ls, *le, *p;
	char		   show[40];
	double		   v[3];
	size_t		   i;

	if (lines_init(&c, text, file, 0, err) == -1 ||
	    !lines_next(&c, &ls, &le))
		return -1;
	p = ls;
	for (i = 0; i < n; i++) {
		if (!tok_next(&p, le, &t))
			return proc_fail(err, file, 0, "%zu fields, want %zu",
			    i, n);
		if (tok_decimal(&t, &v[i]) == -1)
			return proc_fail(err, file, 0,
			    "bad number in field %zu: '%s'", i + 1,
			    tok_show(&t, show, sizeof show));
	}
	memcpy(out, v, n * sizeof *out);
	return 0;
}

int
hx_proc_loadavg_parse(const char *text, double out[3], char **err)
{
	return parse_decimals(text, "/proc/loadavg", out, 3, err);
}

int
hx_proc_uptime_parse(const char *text, double *out, char **err)
{
	return parse_decimals(text, "/proc/uptime", out, 1, err);
}

void
hx_proc_diskstats_release(struct hx_proc_diskstats *ds)
{
	size_t i;

	for (i = 0; i < ds->ndisks; i++)
		free(ds->disks[i].name);
	free(ds->disks);
	memset(ds, 0, sizeof *ds);
}

int
hx_proc_diskstats_parse(const char *text, hx_proc_disk_filter keep, void *arg,
    struct hx_proc_diskstats *out, char **err)
{
	static const char *file = "/proc/diskstats";
	struct line_cursor c;
	struct tok	   t, name = { NULL, 0 };
	const char	  *ls, *le, *p;
	char		   show[40], *dup;
	uint64_t	   f[7], v, rd, wr;
	size_t		   n, cols, alloc = 0;

	memset(out, 0, sizeof *out);
	/* A host without block devices (some containers) has an empty file. */
	if (lines_init(&c, text, file, 1, err) == -1)
		return -1;
	while (lines_next(&c, &ls, &le)) {
		p = ls;
		memset(f, 0, sizeof f);
		for (n = 0; tok_next(&p, le, &t); n++) {
			/* Column 3 is the name, the others are counters. */
			if (n == 2) {
				name = t;
				continue;
			}
			if (tok_u64(&t, &v) == -1) {
				proc_fail(err, file, c.lineno,
				    "bad number in field %zu: '%s'", n + 1,
				    tok_show(&t, show, sizeof show));
				goto fail;
			}
			if (n > 2 && n - 3 < HX_ARRAY_SIZE(f))
				f[n - 3] = v;
		}
		cols = n;
		if (cols == 0)
			continue;
		if (cols == DISKSTATS_OLD_COLS) {
			/* reads, sectors read, writes, sectors written */
			rd = f[1];
			wr = f[3];
		} else if (cols >= DISKSTATS_MIN_COLS) {
			rd = f[2];
			wr = f[6];
		} else {
			proc_fail(err, file, c.lineno,
			    "%zu fields, want at least %d", cols,
			    DISKSTATS_MIN_COLS);
			goto fail;
		}

		dup = xstrndup(name.s, name.len);
		if (keep != NULL && !keep(dup, arg)) {
			free(dup);
			continue;
		}
		if (out->ndisks == alloc) {
			alloc = alloc == 0 ? 16 : alloc * 2;
			out->disks = xrealloc(out->disks,
			    alloc * sizeof *out->disks);
		}
		/*
		 * Wraps modulo 2^64 past 32 EiB; the sampler sees that as a
		 * counter reset, as it would the kernel's own wrap.
		 */
		out->disks[out->ndisks].name = dup;
		out->disks[out->ndisks].read_bytes = rd * PROC_SECTOR_SIZE;
		out->disks[out->ndisks].write_bytes = wr * PROC_SECTOR_SIZE;
		out->ndisks++;
	}
	return 0;

fail:
	hx_proc_diskstats_release(out);
	return -1;
}

void
hx_proc_netdev_release(struct hx_proc_netdev *nd)
{
	size_t i;

	for (i = 0; i < nd->nifs; i++)
		free(nd->ifs[i].name);
	free(nd->ifs);
	memset(nd, 0, sizeof *nd);
}

int
hx_proc_netdev_parse(const char *text, struct hx_proc_netdev *out, char **err)
{
	static const char *file = "/proc/net/dev";
	struct line_cursor c;
	struct tok	   t, name;
	const char	  *ls, *le, *p, *colon;
	char		   show[40];
	uint64_t	   rx = 0, tx = 0, v;
	size_t		   n, alloc = 0;

	memset(out, 0, sizeof *out);
	if (lines_init(&c, text, file, 0, err) == -1)
		return -1;
	/*
	 * Both header lines have '|' between the column groups; checking for
	 * it catches being handed some other file.
	 */
	while (c.lineno < 2) {
		if (!lines_next(&c, &ls, &le)) {
			proc_fail(err, file, 0, "no header");
			goto fail;
		}
		if (memchr(ls, '|', (size_t)(le - ls)) == NULL) {
			proc_fail(err, file, c.lineno, "bad header");
			goto fail;
		}
	}
	while (lines_next(&c, &ls, &le)) {
		p = ls;
		if (!tok_next(&p, le, &t))
			continue;
		/*
		 * The kernel refuses ':' in interface names, so the first one
		 * ends the name; the first counter may follow it directly.
		 */
		if ((colon = memchr(ls, ':', (size_t)(le - ls))) == NULL) {
			proc_fail(err, file, c.lineno, "no ':' after the name");
			goto fail;
		}
		p = ls;
		if (!tok_next(&p, colon, &name) || tok_next(&p, colon, &t)) {
			proc_fail(err, file, c.lineno, "bad interface name");
			goto fail;
		}
		p = colon + 1;
		for (n = 0; tok_next(&p, le, &t); n++) {
			if (tok_u64(&t, &v) == -1) {
				proc_fail(err, file, c.lineno,
				    "bad number in field %zu: '%s'", n + 1,
				    tok_show(&t, show, sizeof show));
				goto fail;
			}
			if (n == 0)
				rx = v;
			else if (n == 8)
				tx = v;
		}
		if (n < NETDEV_MIN_FIELDS) {
			proc_fail(err, file, c.lineno,
			    "%zu fields, want at least %d", n,
			    NETDEV_MIN_FIELDS);
			goto fail;
		}
		if (tok_is(&name, "lo"))
			continue;
		if (out->nifs == alloc) {
			alloc = alloc == 0 ? 16 : alloc * 2;
			out->ifs = xrealloc(out->ifs, alloc * sizeof *out->ifs);
		}
		out->ifs[out->nifs].name = xstrndup(name.s, name.len);
		out->ifs[out->nifs].rx_bytes = rx;
		out->ifs[out->nifs].tx_bytes = tx;
		out->nifs++;
	}
	return 0;

fail:
	hx_proc_netdev_release(out);
	return -1;
}

void
hx_fs_usage_from_statvfs(const struct statvfs *sv, struct hx_fs_usage *out)
{
	uint64_t bsize, blocks, bfree, bavail, used;

	/* Some filesystems leave f_frsize 0; df then uses f_bsize. */
	bsize = sv->f_frsize != 0 ? sv->f_frsize : sv->f_bsize;
	blocks = sv->f_blocks;
	bfree = sv->f_bfree;
	bavail = sv->f_bavail;
	used = blocks > bfree ? blocks - bfree : 0;

	out->total_bytes = mul_sat(blocks, bsize);
	out->used_bytes = mul_sat(used, bsize);
	out->avail_bytes = mul_sat(bavail, bsize);
	/* In blocks, so a saturated byte count cannot skew the ratio. */
	if (used == 0 && bavail == 0)
		out->usage = 0;
	else
		out->usage = (double)used / ((double)used + (double)bavail) *
		    100.0;
}
