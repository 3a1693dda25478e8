/*
 * cmd-history.c - the metrics history (DESIGN §8) from the command line:
 * `history SERIES...` as a table with one column per series, the API's
 * own JSON or CSV, and `history --list` for the series one may read.
 *
 * The daemon does the work: it expands the globs, picks the tier, buckets
 * and filters by privilege. This file only turns the friendly times of
 * --since and --until into what the API takes, and the answer into a
 * table: local times, values in their unit, '-' for a gap. It keeps
 * nothing and does no maths on the figures, so -o json and -o csv are the
 * daemon's answers as sent (JSON byte for byte; CSV too, unless stdout is
 * a terminal, where control characters of a name become '?').
 */
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hx-proto.h"

/* Ages the API understands, as "-N<unit>" (horcruxd's parse_time). */
static const char time_units[] = "smhdw";

/*
 * --since or --until as the API's from/to: an age ("90s", "1h", also
 * "-1h") stays relative to the daemon's clock, "now" is now, RFC 3339
 * passes through, a local time "YYYY-MM-DD HH:MM[:SS]" (as the table
 * prints it, 'T' also allowed) and epoch milliseconds become RFC 3339.
 * Returns a new string, or NULL when v is none of them.
 */
static char *
api_time(const char *v)
{
	struct tm tm;
	long long n;
	size_t	  len = strlen(v);
	char	  buf[40], *num;
	int	  used = 0, sec = 0, ok;
	time_t	  t;

	if (strcmp(v, "now") == 0)
		return xstrdup(v);
	if (len > 1 && strchr(time_units, v[len - 1]) != NULL) {
		num = xstrndup(v[0] == '-' ? v + 1 : v,
		    len - 1 - (v[0] == '-'));
		ok = num[0] >= '0' && num[0] <= '9' &&
		    hx_parse_ll(num, 0, 99999999, &n) == 0;
		free(num);
		return ok ? xasprintf("-%lld%c", n, v[len - 1]) : NULL;
	}
	if (hx_parse_ll(v, 0, 253402300799999LL, &n) == 0) {
		if (hx_rfc3339_ms((int64_t)n, buf, sizeof buf) != 0)
			return NULL;
		return xstrdup(buf);
	}
	if (hx_parse_rfc3339_ms(v) >= 0)
		return xstrdup(v);
	memset(&tm, 0, sizeof tm);
	if (sscanf(v, "%4d-%2d-%2d%*1[ T]%2d:%2d%n:%2d%n", &tm.tm_year,
		&tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &used, &sec,
		&used) < 5 ||
	    v[used] != '\0')
		return NULL;
	tm.tm_sec = sec;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || (t = mktime(&tm)) == (time_t)-1 ||
	    hx_rfc3339_ms((int64_t)t * 1000, buf, sizeof buf) != 0)
		return NULL;
	return xstrdup(buf);
}

/* "2026-12-05 14:03:07" in local time, ".250" added when ms is set. */
static void
local_time(int64_t t_ms, int ms, char *out, size_t len)
{
	struct tm tm;
	time_t	  t = (time_t)(t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000);
	size_t	  n;

	if (localtime_r(&t, &tm) == NULL ||
	    (n = strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
		snprintf(out, len, "%lld", (long long)t_ms);
		return;
	}
	if (ms)
		snprintf(out + n, len - n, ".%03d",
		    (int)(t_ms - (int64_t)t * 1000));
}

/* A duration: "42.0s", "03:25:07", "12d 04:10". */
static void
fmt_seconds(double v, char *out, size_t len)
{
	long long s = llround(v);

	if (v < 60)
		snprintf(out, len, "%.1fs", v);
	else if (s < 86400)
		snprintf(out, len, "%02lld:%02lld:%02lld", s / 3600,
		    s / 60 % 60, s % 60);
	else
		snprintf(out, len, "%lldd %02lld:%02lld", s / 86400,
		    s / 3600 % 24, s / 60 % 60);
}

/* One value in its unit, as the other tables print it; NULL for a gap. */
static const char *
fmt_value(const json_t *v, const char *unit, char *out, size_t len)
{
	double d;
	size_t n;

	if (!json_is_number(v))
		return NULL;
	d = json_number_value(v);
	if (unit == NULL)
		unit = "";
	if (strcmp(unit, "percent") == 0)
		snprintf(out, len, "%.1f%%", d);
	else if (strcmp(unit, "bytes") == 0)
		hx_fmt_bytes(d, out, len);
	else if (strcmp(unit, "bytes/s") == 0) {
		hx_fmt_bytes(d, out, len);
		n = strlen(out);
		snprintf(out + n, len - n, "/s");
	} else if (strcmp(unit, "seconds") == 0)
		fmt_seconds(d, out, len);
	else if (d == floor(d) && fabs(d) < 1e15)
		snprintf(out, len, "%.0f", d);
	else
		snprintf(out, len, "%.2f", d);
	return out;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The answer as a table: a TIME column over the union of the series'
 * times, then one column per series holding its value (the bucket's
 * average when stepped) or '-'.
 */
static void
print_table(struct cli *cli, const json_t *series)
{
	struct table *t;
	const json_t *s, *p;
	const char  **hdr, **row;
	long long    *ts;
	size_t	      ns = json_array_size(series), nts = 0, i, k, n, *pos;
	char	    **cells, when[48];
	int	      ms = 0;

	for (i = 0; i < ns; i++)
		nts += json_array_size(
		    json_object_get(json_array_get(series, i), "points"));
	ts = xcalloc(nts + 1, sizeof *ts);
	n = 0;
	json_array_foreach(series, i, s) {
		json_array_foreach(json_object_get(s, "points"), k, p)
			ts[n++] = json_integer_value(json_array_get(p, 0));
	}
	qsort(ts, n, sizeof *ts, cmp_ll);
	for (i = nts = 0; i < n; i++) {
		if (nts == 0 || ts[nts - 1] != ts[i])
			ts[nts++] = ts[i];
		if (ts[i] % 1000 != 0)
			ms = 1;
	}
	hdr = xcalloc(ns + 2, sizeof *hdr);
	hdr[0] = "TIME";
	json_array_foreach(series, i, s)
		hdr[i + 1] = jstr(s, "name") != NULL ? jstr(s, "name") : "?";
	t = table_new(hdr);
	/* table_add takes its cells as arguments: build each row's array. */
	row = xcalloc(ns + 1, sizeof *row);
	cells = xcalloc(ns + 1, sizeof *cells);
	for (i = 0; i <= ns; i++)
		cells[i] = xmalloc(48);
	pos = xcalloc(ns + 1, sizeof *pos);
	for (k = 0; k < nts; k++) {
		local_time(ts[k], ms, when, sizeof when);
		row[0] = when;
		json_array_foreach(series, i, s) {
			const json_t *pts = json_object_get(s, "points");

			p = json_array_get(pts, pos[i]);
			row[i + 1] = NULL;
			if (p != NULL &&
			    json_integer_value(json_array_get(p, 0)) == ts[k]) {
				row[i + 1] = fmt_value(json_array_get(p, 1),
				    jstr(s, "unit"), cells[i + 1], 48);
				pos[i]++;
			}
		}
		table_add_row(t, row);
	}
	table_print_free(cli, t);
	for (i = 0; i <= ns; i++)
		free(cells[i]);
	free(cells);
	free(row);
	free(pos);
	free(hdr);
	free(ts);
}

/* Whether pattern is a glob (the API's only wildcard is '*'). */
static int
is_glob(const char *s)
{
	return strchr(s, '*') != NULL;
}

/*
 * The API leaves out a named series it does not know (or the caller may
 * not read: no oracle) when others are found: say so, once a name. The
 * CSV is passed on unread, so only the table and JSON warn.
 */
static void
warn_missing(struct cmd_args *a, const json_t *series)
{
	const json_t *s;
	size_t	      i;
	int	      j, k, found;

	for (j = 0; j < a->argc; j++) {
		for (k = 0; k < j && strcmp(a->argv[k], a->argv[j]) != 0; k++)
			;
		if (is_glob(a->argv[j]) || k < j)
			continue;
		found = 0;
		json_array_foreach(series, i, s) {
			if (jstr(s, "name") != NULL &&
			    strcmp(jstr(s, "name"), a->argv[j]) == 0)
				found = 1;
		}
		if (!found)
			cli_warning("no series '%s'", a->argv[j]);
	}
}

/* CSV as received; on a terminal, each line's controls made inert. */
static void
put_csv(char *text, size_t len)
{
	char *line, *end;

	if (!isatty(STDOUT_FILENO)) {
		fwrite(text, 1, len, stdout);
		return;
	}
	for (line = text; *line != '\0'; line = end) {
		end = line + strcspn(line, "\r\n");
		if (*end == '\r')
			*end++ = '\0';
		if (*end == '\n')
			*end++ = '\0';
		else if (*end != '\0')
			*end++ = '\0';
		printf("%s\r\n", hx_term_safe(line));
	}
}

/* A CSV field, quoted (RFC 4180) when it needs to be. */
static void
csv_field(const char *s, int last)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL)
		fputs(s, stdout);
	else {
		putchar('"');
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				putchar('"');
			putchar(*p);
		}
		putchar('"');
	}
	fputs(last ? "\r\n" : ",", stdout);
}

/* Whether name matches one of the patterns ('*' stays within a part). */
static int
list_match(struct cmd_args *a, const char *name)
{
	char *n, *p, *c;
	int   j, hit = a->argc == 0;

	/*
	 * fnmatch's FNM_PATHNAME keeps '*' within a '/'-separated part:
	 * swap ':' and '/' in both so the parts are the series' own.
	 */
	n = xstrdup(name);
	for (c = n; *c != '\0'; c++)
		*c = *c == ':' ? '/' : *c == '/' ? ':' : *c;
	for (j = 0; !hit && j < a->argc; j++) {
		p = xstrdup(a->argv[j]);
		for (c = p; *c != '\0'; c++)
			*c = *c == ':' ? '/' : *c == '/' ? ':' : *c;
		hit = fnmatch(p, n, FNM_PATHNAME | FNM_NOESCAPE) == 0;
		free(p);
	}
	free(n);
	return hit;
}

static int
list_series(struct cli *cli, struct cmd_args *a)
{
	struct table *t;
	json_t	     *r, *s, *keep;
	size_t	      i;
	int	      rc;

	if ((rc = cli_api(cli, "GET", "/api/metrics/series", NULL, &r,
		 "list the history's series")) != CLI_OK)
		return rc;
	keep = json_array();
	json_array_foreach(json_object_get(r, "series"), i, s) {
		if (jstr(s, "name") != NULL && list_match(a, jstr(s, "name")))
			json_array_append(keep, s);
	}
	if (cli->out == OUT_JSON) {
		/* The API's shape, narrowed to the patterns. */
		json_object_set(r, "series", keep);
		out_json(r);
	} else if (cli->out == OUT_CSV) {
		fputs("name,unit,kind\r\n", stdout);
		json_array_foreach(keep, i, s) {
			csv_field(jstr(s, "name"), 0);
			csv_field(jstr(s, "unit") ? jstr(s, "unit") : "", 0);
			csv_field(jstr(s, "kind") ? jstr(s, "kind") : "", 1);
		}
	} else {
		t = table_new(
		    (const char *const[]){ "SERIES", "UNIT", "KIND", NULL });
		json_array_foreach(keep, i, s)
			table_add(t, jstr(s, "name"), jstr(s, "unit"),
			    jstr(s, "kind"));
		table_print_free(cli, t);
	}
	json_decref(keep);
	json_decref(r);
	return CLI_OK;
}

int
cmd_history(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	static const char *const when[] = { "since", "until" };
	const char		*step = cmd_flag(e, a, "step");
	struct hx_buf		 q;
	json_error_t		 jerr;
	json_t			*r;
	long long		 n;
	size_t			 len;
	char			*v, *names, *text, *path;
	int			 i, rc;

	if (cmd_flag_count(e, a, "list") > 0) {
		for (i = 0; i < 3; i++) {
			const char *f = i < 2 ? when[i] : "step";

			if (cmd_flag(e, a, f) != NULL)
				return cli_usage(e,
				    "--list lists names: --%s does "
				    "not apply",
				    f);
		}
		return list_series(cli, a);
	}
	if (a->argc == 0)
		return cli_usage(e, "'%s' needs %s (or --list)",
		    cmd_full_name(e), e->args);
	if (step != NULL && strcmp(step, "auto") != 0 &&
	    hx_parse_ll(step, 1, 100LL * 365 * 86400, &n) != 0)
		return cli_usage(e,
		    "--step: '%s' is not a whole number of "
		    "seconds or auto",
		    step);
	hx_buf_init(&q, 0);
	for (i = 0; i < a->argc; i++)
		hx_buf_addf(&q, "%s%s", i ? "," : "", a->argv[i]);
	names = hx_buf_detach(&q, NULL);
	hx_buf_init(&q, 0);
	v = hx_url_escape(names);
	hx_buf_addf(&q, "/api/metrics/history?series=%s", v);
	free(v);
	for (i = 0; i < 2; i++) {
		const char *t = cmd_flag(e, a, when[i]);
		char	   *at, *esc;

		if (t == NULL)
			continue;
		if ((at = api_time(t)) == NULL) {
			free(hx_buf_detach(&q, NULL));
			free(names);
			return cli_usage(e,
			    "--%s: '%s' is no time: give an age "
			    "such as 1h, now, RFC 3339, a local time such as "
			    "'2026-12-05 14:00' or epoch milliseconds",
			    when[i], t);
		}
		esc = hx_url_escape(at);
		hx_buf_addf(&q, "&%s=%s", i == 0 ? "from" : "to", esc);
		free(esc);
		free(at);
	}
	if (step != NULL)
		hx_buf_addf(&q, "&step=%s", step);
	if (cli->out == OUT_CSV)
		hx_buf_addf(&q, "&format=csv");
	path = hx_buf_detach(&q, NULL);
	rc = cli_api_text(cli, path, &text, &len, "read the history of '%s'",
	    names);
	free(path);
	free(names);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_CSV) {
		put_csv(text, len);
		free(text);
		return CLI_OK;
	}
	if ((r = json_loads(text, 0, &jerr)) == NULL) {
		cli_error("cannot read the history: the daemon's answer is "
			  "not JSON: %s",
		    jerr.text);
		free(text);
		return CLI_ERR;
	}
	warn_missing(a, json_object_get(r, "series"));
	if (cli->out == OUT_JSON) {
		/* Byte for byte but inert: the figures as the daemon wrote. */
		v = hx_json_term_safe(text);
		puts(v);
		free(v);
	} else
		print_table(cli, json_object_get(r, "series"));
	json_decref(r);
	free(text);
	return CLI_OK;
}
