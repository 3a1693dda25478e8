/*
 * output.c - how answers look: aligned tables and "Key: value" blocks for
 * people, the API's own JSON for scripts, and small JSON field helpers.
 *
 * Column widths count display cells (UTF-8 aware through wcwidth), so a
 * user name in Cyrillic or CJK still lines up. Colour is only ever the
 * bold table header, and only when cli->color says stdout is a terminal
 * and NO_COLOR is unset. Nothing here talks to the daemon.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cli.h"

struct table {
	size_t ncols;
	size_t nrows;
	char **cells; /* nrows + 1 rows (header first) of ncols */
};

struct kv {
	size_t n;
	char **keys;
	char **vals;
};

/* Display cells of a UTF-8 string; invalid bytes count one each. */
static size_t
width(const char *s)
{
	mbstate_t st;
	size_t	  w = 0, n;
	wchar_t	  wc;
	int	  cw;

	memset(&st, 0, sizeof st);
	while (*s != '\0') {
		n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof st);
			w++;
			s++;
			continue;
		}
		cw = wcwidth(wc);
		w += cw > 0 ? (size_t)cw : 0;
		s += n;
	}
	return w;
}

/*
 * Make text from the daemon safe for a terminal, in place: C0 controls,
 * DEL, the C1 controls and the bidi controls each become one '?' (the
 * rule is hx_term_safe's, shared with horcrux-top), so a VM or user name
 * cannot move the cursor, retitle the window, read backwards or hide
 * itself. Returns s.
 */
char *
out_printable(char *s)
{
	return hx_term_safe(s);
}

struct table *
table_new(const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof *t);
	size_t	      i;

	while (headers[t->ncols] != NULL)
		t->ncols++;
	t->cells = xcalloc(t->ncols, sizeof *t->cells);
	for (i = 0; i < t->ncols; i++)
		t->cells[i] = xstrdup(headers[i]);
	return t;
}

void
table_add_row(struct table *t, const char *const *cells)
{
	const char *s;
	size_t	    i, base;

	t->nrows++;
	t->cells = xrealloc(t->cells,
	    (t->nrows + 1) * t->ncols * sizeof *t->cells);
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		s = cells[i];
		t->cells[base + i] = out_printable(
		    xstrdup(s != NULL && *s != '\0' ? s : "-"));
	}
}

void
table_add(struct table *t, ...)
{
	va_list	     ap;
	const char **row = xcalloc(t->ncols + 1, sizeof *row);
	size_t	     i;

	va_start(ap, t);
	for (i = 0; i < t->ncols; i++)
		row[i] = va_arg(ap, const char *);
	va_end(ap);
	table_add_row(t, row);
	free(row);
}

/* One CSV field (RFC 4180): quoted when it holds a comma, quote or EOL. */
static void
csv_field(const char *s, FILE *f)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* -o csv of a table: its header and rows, "-" cells empty, CR LF. */
static void
table_print_csv(struct table *t)
{
	size_t r, c;

	for (r = 0; r <= t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c > 0)
				fputc(',', stdout);
			csv_field(r > 0 && strcmp(s, "-") == 0 ? "" : s,
			    stdout);
		}
		fputs("\r\n", stdout);
	}
}

void
table_print_free(struct cli *cli, struct table *t)
{
	size_t *w, r, c, cw;

	if (cli->out == OUT_CSV) {
		table_print_csv(t);
		for (r = 0; r < (t->nrows + 1) * t->ncols; r++)
			free(t->cells[r]);
		free(t->cells);
		free(t);
		return;
	}
	w = xcalloc(t->ncols, sizeof *w);

	for (r = 0; r <= t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			cw = width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (r = 0; r <= t->nrows; r++) {
		if (r == 0 && cli->color)
			fputs("\033[1m", stdout);
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			fputs(s, stdout);
			if (c + 1 < t->ncols)
				printf("%*s", (int)(w[c] - width(s) + 2), "");
		}
		if (r == 0 && cli->color)
			fputs("\033[0m", stdout);
		fputc('\n', stdout);
	}
	for (r = 0; r < (t->nrows + 1) * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	free(t);
	free(w);
}

struct kv *
kv_new(void)
{
	return xcalloc(1, sizeof(struct kv));
}

void
kv_add(struct kv *kv, const char *key, const char *fmt, ...)
{
	va_list ap;

	kv->keys = xrealloc(kv->keys, (kv->n + 1) * sizeof *kv->keys);
	kv->vals = xrealloc(kv->vals, (kv->n + 1) * sizeof *kv->vals);
	kv->keys[kv->n] = xasprintf("%s:", key);
	va_start(ap, fmt);
	kv->vals[kv->n] = out_printable(xvasprintf(fmt, ap));
	va_end(ap);
	kv->n++;
}

void
kv_print_free(struct cli *cli, struct kv *kv)
{
	size_t i, w = 0;

	(void)cli;
	for (i = 0; i < kv->n; i++) {
		if (width(kv->keys[i]) > w)
			w = width(kv->keys[i]);
	}
	for (i = 0; i < kv->n; i++) {
		printf("%s%*s %s\n", kv->keys[i], (int)(w - width(kv->keys[i])),
		    "", kv->vals[i]);
		free(kv->keys[i]);
		free(kv->vals[i]);
	}
	free(kv->keys);
	free(kv->vals);
	free(kv);
}

void
out_json(const json_t *v)
{
	/* 15 digits: 49.99 stays 49.99, as the daemon wrote it. */
	char *s = json_dumps(v,
		 JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
		     JSON_REAL_PRECISION(15)),
	     *safe;

	/*
	 * jansson escapes C0 only; DEL, C1 and bidi controls are escaped
	 * too (the same strings to a parser, inert on a terminal). Other
	 * non-ASCII stays readable, so no JSON_ENSURE_ASCII.
	 */
	if (s != NULL) {
		safe = hx_json_term_safe(s);
		puts(safe);
		free(safe);
		free(s);
	}
}

const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

char *
jjoin(const json_t *o, const char *key, const char *sep)
{
	struct hx_buf b;
	json_t	     *a = json_object_get(o, key), *e;
	size_t	      i;

	hx_buf_init(&b, 0);
	json_array_foreach(a, i, e) {
		if (json_is_string(e))
			hx_buf_addf(&b, "%s%s", b.len ? sep : "",
			    json_string_value(e));
	}
	if (b.len == 0)
		hx_buf_add(&b, "-", 1);
	return hx_buf_detach(&b, NULL);
}

const char *
jnum(const json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.1f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "-");
	return buf;
}
