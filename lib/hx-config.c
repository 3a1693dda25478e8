/*
 * hx-config.c - the table-driven option parser (see hx-config.h).
 *
 * Every value, from a default, a file line or a flag, goes through one
 * function (set_value) so validation cannot differ between the three.
 * It knows nothing of any program's keys; the tables live with programs.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hx-config.h"
#include "hx-util.h"

#define CONFIG_MAX_FILE (1024 * 1024)

static const char *bool_true[] = { "yes", "true", "on", "1", NULL };
static const char *bool_false[] = { "no", "false", "off", "0", NULL };

static int
word_in(const char *s, const char *const *list)
{
	int i;

	for (i = 0; list[i] != NULL; i++) {
		if (strcmp(s, list[i]) == 0)
			return i;
	}
	return -1;
}

static void
free_value(struct hx_opt_value *v)
{
	size_t i;

	free(v->str);
	for (i = 0; i < v->nlist; i++)
		free(v->list[i]);
	free(v->list);
	memset(v, 0, sizeof *v);
}

/*
 * Check value against o and store it. Returns 0, or -1 with *err holding
 * the reason alone ("'x' is not a number"); callers prefix where it came from.
 */
static int
set_value(const struct hx_opt *o, struct hx_opt_value *v, const char *value,
    enum hx_opt_source source, char **err)
{
	long long i = 0;
	double	  d = 0;
	char	 *end;
	int	  k;

	switch (o->type) {
	case HX_OPT_STRING:
	case HX_OPT_LIST:
		if (*value == '\0' && !(o->flags & HX_OPT_EMPTY_OK)) {
			*err = xstrdup("empty value");
			return -1;
		}
		break;
	case HX_OPT_INT:
		if (hx_parse_ll(value, (long long)o->min, (long long)o->max,
			&i) != 0) {
			errno = 0;
			(void)strtoll(value, &end, 10);
			if (*value == '\0' || *end != '\0')
				*err = xasprintf("'%s' is not a whole number",
				    value);
			else
				*err = xasprintf("'%s' is out of range "
						 "(%.0f to %.0f)",
				    value, o->min, o->max);
			return -1;
		}
		break;
	case HX_OPT_SECONDS:
		errno = 0;
		d = strtod(value, &end);
		if (*value == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(d) || isspace((unsigned char)*value)) {
			*err = xasprintf("'%s' is not a number of seconds",
			    value);
			return -1;
		}
		if (d < o->min || d > o->max) {
			*err = xasprintf("'%s' is out of range (%g to %g)",
			    value, o->min, o->max);
			return -1;
		}
		break;
	case HX_OPT_BOOL:
		if (word_in(value, bool_true) >= 0)
			i = 1;
		else if (word_in(value, bool_false) >= 0)
			i = 0;
		else {
			*err = xasprintf("'%s' is not yes or no", value);
			return -1;
		}
		break;
	case HX_OPT_CHOICE:
		if ((k = word_in(value, o->choices)) < 0) {
			struct hx_buf b;
			hx_buf_init(&b, 0);
			for (k = 0; o->choices[k] != NULL; k++)
				hx_buf_addf(&b, "%s%s", k ? ", " : "",
				    o->choices[k]);
			*err = xasprintf("'%s' is not one of: %s", value,
			    b.data);
			hx_buf_release(&b);
			return -1;
		}
		i = k;
		break;
	}
	if (o->check != NULL && o->check(value, err) != 0)
		return -1;

	if (o->type == HX_OPT_LIST) {
		/* A list given by flags replaces the file's and the default. */
		if (v->source < source) {
			free_value(v);
		}
		v->list = xrealloc(v->list, (v->nlist + 1) * sizeof *v->list);
		v->list[v->nlist++] = xstrdup(value);
	}
	free(v->str);
	v->str = xstrdup(value);
	v->i = i;
	v->d = d;
	v->source = source;
	return 0;
}

void
hx_config_init(struct hx_config *cfg, const struct hx_opt *table, size_t n)
{
	size_t i;
	char  *err = NULL;

	cfg->table = table;
	cfg->n = n;
	cfg->values = xcalloc(n, sizeof *cfg->values);
	for (i = 0; i < n; i++) {
		if (table[i].dflt == NULL)
			continue;
		/* A default that fails its own check is a programming error. */
		if (set_value(&table[i], &cfg->values[i], table[i].dflt,
			HX_SRC_DEFAULT, &err) != 0)
			abort();
	}
}

void
hx_config_release(struct hx_config *cfg)
{
	size_t i;

	if (cfg->values == NULL)
		return;
	for (i = 0; i < cfg->n; i++)
		free_value(&cfg->values[i]);
	free(cfg->values);
	cfg->values = NULL;
}

void
hx_config_flag_name(const char *key, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < outlen; i++)
		out[i] = key[i] == '_' ? '-' : key[i];
	if (outlen > 0)
		out[i] = '\0';
}

static ssize_t
find_long(const struct hx_config *cfg, const char *flag, size_t len)
{
	char   name[128];
	size_t i;

	for (i = 0; i < cfg->n; i++) {
		if (cfg->table[i].flags & HX_OPT_SHORT_ONLY)
			continue;
		hx_config_flag_name(cfg->table[i].name, name, sizeof name);
		if (strlen(name) == len && strncmp(name, flag, len) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/*
 * "--no-NAME": a boolean that is also a file key, set false (DESIGN §12).
 * Flag-only booleans (-f, -h) have no negation: absent is their "no".
 */
static ssize_t
find_negated(const struct hx_config *cfg, const char *flag, size_t len)
{
	ssize_t k = find_long(cfg, flag, len);

	if (k < 0 || cfg->table[k].type != HX_OPT_BOOL ||
	    (cfg->table[k].flags & HX_OPT_CLI_ONLY))
		return -1;
	return k;
}

static ssize_t
find_short(const struct hx_config *cfg, char c)
{
	size_t i;

	for (i = 0; i < cfg->n; i++) {
		if (cfg->table[i].short_flag == c && c != 0)
			return (ssize_t)i;
	}
	return -1;
}

int
hx_config_parse_args(struct hx_config *cfg, int argc, char **argv, char **err)
{
	struct hx_args_result r;

	return hx_config_parse_argv(cfg, argc, argv, 1, 0, &r, err) < 0 ? -1 :
									  0;
}

/* Fill *r for a stop at argv[i] and return rc. */
static int
args_stop(struct hx_args_result *r, enum hx_args_stop stop, int next,
    const char *word, const struct hx_opt *o, int rc)
{
	r->stop = stop;
	r->next = next;
	r->word = word;
	r->opt = o;
	return rc;
}

int
hx_config_parse_argv(struct hx_config *cfg, int argc, char **argv, int start,
    int how, struct hx_args_result *r, char **err)
{
	const struct hx_opt *o;
	const char	    *arg, *value, *eq;
	char		     shown[160], *why = NULL;
	ssize_t		     k;
	int		     i, negated;

	memset(r, 0, sizeof *r);
	for (i = start; i < argc; i++) {
		arg = argv[i];
		value = NULL;
		eq = NULL;
		if ((how & HX_ARGS_WORDS) && strcmp(arg, "--") == 0)
			return args_stop(r, HX_ARGS_END, i + 1, NULL, NULL, 0);
		if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
			eq = strchr(arg + 2, '=');
			k = find_long(cfg, arg + 2,
			    eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
			if (eq != NULL)
				value = eq + 1;
			snprintf(shown, sizeof shown, "%.*s",
			    eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		} else if (arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0') {
			k = find_short(cfg, arg[1]);
			snprintf(shown, sizeof shown, "%s", arg);
		} else if (arg[0] == '-' && arg[1] != '\0') {
			/* -n5 style: a short flag glued to its value. */
			k = find_short(cfg, arg[1]);
			if (k >= 0 && cfg->table[k].type != HX_OPT_BOOL &&
			    !(how & HX_ARGS_SPLIT))
				value = arg + 2;
			else
				k = -1;
			snprintf(shown, sizeof shown, "-%c", arg[1]);
		} else if (how & HX_ARGS_WORDS)
			return args_stop(r, HX_ARGS_END, i, NULL, NULL, 0);
		else {
			*err = xasprintf("unexpected argument '%s'", arg);
			return args_stop(r, HX_ARGS_UNEXPECTED, i + 1, arg,
			    NULL, -1);
		}
		negated = 0;
		if (k < 0 && strncmp(arg, "--no-", 5) == 0 &&
		    (k = find_negated(cfg, arg + 5,
			 eq ? (size_t)(eq - arg - 5) : strlen(arg + 5))) >= 0)
			negated = 1;
		if (k < 0) {
			*err = xasprintf("unknown option '%s'", shown);
			return args_stop(r, HX_ARGS_UNKNOWN, i + 1, arg, NULL,
			    -1);
		}
		o = &cfg->table[k];
		if (o->type == HX_OPT_BOOL) {
			if (value != NULL) {
				*err = xasprintf("%s takes no value", shown);
				return args_stop(r, HX_ARGS_NO_VALUE, i + 1,
				    arg, o, -1);
			}
			value = negated ? "no" : "yes";
		} else if (value == NULL) {
			if (i + 1 >= argc) {
				*err = xasprintf("%s needs a value (%s)", shown,
				    o->arg ? o->arg : "VALUE");
				return args_stop(r, HX_ARGS_NEEDS_VALUE, i + 1,
				    arg, o, -1);
			}
			value = argv[++i];
		}
		if (set_value(o, &cfg->values[k], value, HX_SRC_FLAG, &why) !=
		    0) {
			*err = xasprintf("%s: %s", shown, why);
			free(why);
			r->value = value;
			return args_stop(r, HX_ARGS_BAD_VALUE, i + 1, arg, o,
			    -1);
		}
		if (o->flags & HX_OPT_STOP)
			return args_stop(r, HX_ARGS_STOPPED, i + 1, arg, o, 1);
	}
	return args_stop(r, HX_ARGS_END, i, NULL, NULL, 0);
}

const struct hx_opt *
hx_config_lookup(const struct hx_opt *table, size_t n, const char *word)
{
	struct hx_config cfg = { table, n, NULL };
	ssize_t		 k = -1;

	if (strncmp(word, "--", 2) == 0 && word[2] != '\0')
		k = find_long(&cfg, word + 2, strlen(word + 2));
	else if (word[0] == '-' && word[1] != '\0' && word[2] == '\0')
		k = find_short(&cfg, word[1]);
	return k >= 0 ? &table[k] : NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
hx_config_load_text(struct hx_config *cfg, const char *name, const char *text,
    char **err)
{
	char	*copy, *line, *next, *key, *value, *eq, *why = NULL;
	unsigned lineno = 0;
	ssize_t	 k;
	int	 r = 0;

	copy = xstrdup(text);
	for (line = copy; line != NULL && r == 0; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* '#' starts a comment anywhere: no value needs one. */
		if ((eq = strchr(line, '#')) != NULL)
			*eq = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			*err = xasprintf("%s:%u: expected 'key = value'", name,
			    lineno);
			r = -1;
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		for (k = 0; (size_t)k < cfg->n; k++) {
			if (strcmp(cfg->table[k].name, key) == 0)
				break;
		}
		if ((size_t)k == cfg->n ||
		    (cfg->table[k].flags & HX_OPT_CLI_ONLY)) {
			*err = xasprintf("%s:%u: unknown key '%s'", name,
			    lineno, key);
			r = -1;
			break;
		}
		if (cfg->values[k].source == HX_SRC_FLAG)
			continue; /* flags win over the file */
		if (set_value(&cfg->table[k], &cfg->values[k], value,
			HX_SRC_FILE, &why) != 0) {
			*err = xasprintf("%s:%u: %s: %s", name, lineno, key,
			    why);
			free(why);
			r = -1;
		}
	}
	free(copy);
	return r;
}

int
hx_config_load_file(struct hx_config *cfg, const char *path, int required,
    char **err)
{
	char *text;
	int   r;

	if ((text = hx_read_file(path, CONFIG_MAX_FILE, NULL)) == NULL) {
		if (errno == ENOENT && !required)
			return 1;
		*err = xasprintf("cannot read '%s': %s", path,
		    errno == EFBIG ? "file too large" : strerror(errno));
		return -1;
	}
	r = hx_config_load_text(cfg, path, text, err);
	free(text);
	return r;
}

const struct hx_opt_value *
hx_config_get(const struct hx_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n; i++) {
		if (strcmp(cfg->table[i].name, name) == 0)
			return &cfg->values[i];
	}
	return NULL;
}

static const struct hx_opt_value *
must_get(const struct hx_config *cfg, const char *name)
{
	const struct hx_opt_value *v = hx_config_get(cfg, name);

	if (v == NULL)
		abort();
	return v;
}

const char *
hx_config_str(const struct hx_config *cfg, const char *name)
{
	return must_get(cfg, name)->str;
}

long long
hx_config_int(const struct hx_config *cfg, const char *name)
{
	return must_get(cfg, name)->i;
}

double
hx_config_seconds(const struct hx_config *cfg, const char *name)
{
	return must_get(cfg, name)->d;
}

void
hx_config_spec(const struct hx_opt *o, char *out, size_t outlen)
{
	char	    flag[128];
	const char *arg = o->type == HX_OPT_BOOL || o->arg == NULL ? "" :
								     o->arg;

	hx_config_flag_name(o->name, flag, sizeof flag);
	if (o->flags & HX_OPT_SHORT_ONLY)
		snprintf(out, outlen, "-%c%s%s", o->short_flag, *arg ? " " : "",
		    arg);
	else if (o->short_flag)
		snprintf(out, outlen, "-%c, --%s%s%s", o->short_flag, flag,
		    *arg ? " " : "", arg);
	else
		snprintf(out, outlen, "--%s%s%s", flag, *arg ? " " : "", arg);
}

/*
 * Write text from column col, wrapped at HX_HELP_COLUMNS: a line that
 * would go past it continues on the next, indented to col. Words are
 * split at spaces; "(default: X)" is one word, so it never breaks, unless
 * it is longer than a whole line's room: then "(default:" and "X)" are two
 * (a long filter's default still keeps within the columns). A single word
 * longer than the room is written whole.
 */
static void
help_wrap(const char *help, const char *dflt, int col, FILE *f)
{
	char *text, *w, *next, *dw[2] = { NULL, NULL };
	int   at = col, len, first = 1, ndw = 0, i = 0;

	text = xstrdup(help);
	if (dflt != NULL) {
		dw[0] = xasprintf("(default: %s)", dflt);
		ndw = 1;
		if ((int)strlen(dw[0]) > HX_HELP_COLUMNS - col) {
			free(dw[0]);
			dw[0] = xstrdup("(default:");
			dw[1] = xasprintf("%s)", dflt);
			ndw = 2;
		}
	}
	for (w = text; w != NULL; w = next) {
		w += strspn(w, " ");
		if (*w == '\0') {
			if (i == ndw)
				break;
			w = dw[i++];
			next = w + strlen(w);
		} else if ((next = strchr(w, ' ')) != NULL)
			*next++ = '\0';
		else
			next = w + strlen(w);
		len = (int)strlen(w);
		if (!first && at + 1 + len > HX_HELP_COLUMNS) {
			fprintf(f, "\n%*s", col, "");
			at = col;
		} else if (!first) {
			fputc(' ', f);
			at++;
		}
		fputs(w, f);
		at += len;
		first = 0;
	}
	fputc('\n', f);
	free(dw[0]);
	free(dw[1]);
	free(text);
}

/*
 * "  SPEC HELP (default: X)" for each visible option, SPEC padded to
 * width; with indent, a long-only flag lines up with the long half of
 * "-c, --connect". A SPEC wider than width has its help on the next
 * line, in the same column as the others; help wraps within
 * HX_HELP_COLUMNS.
 */
static void
help_lines(const struct hx_opt *table, size_t n, int width, int indent, FILE *f)
{
	char   spec[192], left[200];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct hx_opt *o = &table[i];

		if (o->flags & HX_OPT_HIDDEN)
			continue;
		hx_config_spec(o, spec, sizeof spec);
		snprintf(left, sizeof left, "%s%s",
		    indent && !o->short_flag ? "    " : "", spec);
		if ((int)strlen(left) > width)
			fprintf(f, "  %s\n%*s", left, width + 3, "");
		else
			fprintf(f, "  %-*s ", width, left);
		help_wrap(o->help,
		    o->dflt != NULL && *o->dflt != '\0' &&
			    o->type != HX_OPT_BOOL ?
			o->dflt :
			NULL,
		    width + 3, f);
	}
}

void
hx_config_help(const struct hx_opt *table, size_t n, int width, FILE *f)
{
	help_lines(table, n, width, 0, f);
}

void
hx_config_usage(const struct hx_opt *table, size_t n, const char *prog,
    const char *synopsis, FILE *f)
{
	fprintf(f, "usage: %s %s\n\n", prog, synopsis);
	help_lines(table, n, 30, 1, f);
}

void
hx_config_dump(const struct hx_opt *table, size_t n, FILE *f)
{
	char   flag[128];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct hx_opt *o = &table[i];

		if (o->flags & HX_OPT_HIDDEN)
			continue;
		if (o->flags & HX_OPT_SHORT_ONLY)
			hx_strlcpy(flag, "-", sizeof flag);
		else
			hx_config_flag_name(o->name, flag, sizeof flag);
		fprintf(f, "%s\t%s\t%c\t%s\t%s\n", o->name, flag,
		    o->short_flag ? o->short_flag : '-',
		    (o->flags & HX_OPT_CLI_ONLY) ? "flag" : "key",
		    o->dflt ? o->dflt : "");
	}
}
