/*
 * hx-config.h - table-driven configuration: one table of options drives the
 * `key = value` file parser, the --flag parser, --help and validation.
 *
 * A program declares a const array of struct hx_opt (tmux's options-table
 * shape) and gets: file parsing with `#` comments, flags spelled
 * `--node-interval` for key `node_interval` (flags win over the file),
 * repeatable keys, range and choice checks, a custom check per option, and
 * a generated help text. Errors name the key, the file and line or the
 * flag, and the reason. Nothing here prints or exits.
 *
 * A program whose options come before command words (horcrux-cli) parses
 * with hx_config_parse_argv, which stops at the first word and says what
 * stopped it, so the program can keep messages of its own.
 */
#ifndef HX_CONFIG_H
#define HX_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum hx_opt_type {
	HX_OPT_STRING,
	HX_OPT_INT,
	HX_OPT_SECONDS, /* a decimal number of seconds, e.g. 0.5 */
	HX_OPT_BOOL, /* file: yes/no/true/false/on/off/1/0; flag: no argument */
	HX_OPT_CHOICE, /* one of choices[] */
	HX_OPT_LIST /* repeatable string; each use appends */
};

#define HX_OPT_CLI_ONLY 0x1 /* a flag only (-c, -f, -h, -V), not a file key */
#define HX_OPT_HIDDEN 0x2 /* accepted, not in --help */
#define HX_OPT_SHORT_ONLY 0x4 /* spelled -e alone: name is only the key */
#define HX_OPT_EMPTY_OK 0x8 /* STRING: "" is a value (the program judges it) */
#define HX_OPT_STOP 0x10 /* argv: parsing stops after it (--help) */

struct hx_opt {
	const char	  *name; /* file key: "node_interval" */
	char		   short_flag; /* 'c', or 0 */
	enum hx_opt_type   type;
	const char	  *dflt; /* default as text, or NULL */
	double		   min, max; /* INT and SECONDS, inclusive */
	const char *const *choices; /* CHOICE: NULL-terminated */
	const char	  *arg; /* metavar in help: "SECONDS" */
	const char	  *help; /* one line */
	int		   flags;
	/* Extra validation: return 0, or -1 with *err (malloc'd reason). */
	int (*check)(const char *value, char **err);
};

enum hx_opt_source {
	HX_SRC_DEFAULT,
	HX_SRC_FILE,
	HX_SRC_FLAG
};

struct hx_opt_value {
	char		  *str; /* last value as text, or NULL */
	char		 **list; /* LIST: every value */
	size_t		   nlist;
	long long	   i; /* INT, BOOL, CHOICE (index) */
	double		   d; /* SECONDS */
	enum hx_opt_source source;
};

struct hx_config {
	const struct hx_opt *table;
	size_t		     n;
	struct hx_opt_value *values;
};

/* Prepare cfg for table (n entries) with every default applied. */
void hx_config_init(struct hx_config *cfg, const struct hx_opt *table,
    size_t n);
void hx_config_release(struct hx_config *cfg);

/*
 * Parse argv[1..] against the table. Stops at the first error: returns -1
 * with *err (caller frees) such as "unknown option '--foo'" or
 * "--node-interval: 'x' is not a number". Positional arguments are an error.
 */
int hx_config_parse_args(struct hx_config *cfg, int argc, char **argv,
    char **err);

/* How hx_config_parse_argv reads argv (or'ed). */
#define HX_ARGS_WORDS \
	0x1 /* the first non-option word ends the options;
				   so does "--", which is skipped */
#define HX_ARGS_SPLIT \
	0x2 /* a short flag's value is the next word,
				   never glued to it (-n5 is unknown) */

/* What stopped hx_config_parse_argv. */
enum hx_args_stop {
	HX_ARGS_END, /* argv ran out, or a word (HX_ARGS_WORDS) */
	HX_ARGS_STOPPED, /* an HX_OPT_STOP option: see opt */
	HX_ARGS_UNKNOWN, /* no such option (word) */
	HX_ARGS_NEEDS_VALUE, /* the option's value is missing */
	HX_ARGS_NO_VALUE, /* a value (--help=x) for a BOOL */
	HX_ARGS_BAD_VALUE, /* the option refused value */
	HX_ARGS_UNEXPECTED /* a positional word without HX_ARGS_WORDS */
};

struct hx_args_result {
	enum hx_args_stop    stop;
	int		     next; /* first word not read */
	const char	    *word; /* the word that stopped it, or NULL */
	const struct hx_opt *opt; /* its option, when it has one */
	const char	    *value; /* HX_ARGS_BAD_VALUE: the value */
};

/*
 * The general form of hx_config_parse_args: parse argv[start..] as how
 * says, and say in *r what stopped it and where, so a program with its
 * own wording can report a failure its way, or skip the word and go on
 * from r->next (a completer does). Returns 0 at the end of the options,
 * 1 after an HX_OPT_STOP option, -1 on a failure with *err (caller frees)
 * worded as hx_config_parse_args words it. The pointers in *r point into
 * argv and the table.
 */
int hx_config_parse_argv(struct hx_config *cfg, int argc, char **argv,
    int start, int how, struct hx_args_result *r, char **err);

/*
 * The option that word names exactly ("-c" or "--connect", no "=value"),
 * or NULL.
 */
const struct hx_opt *hx_config_lookup(const struct hx_opt *table, size_t n,
    const char *word);

/*
 * Read a `key = value` file. Values set by a flag are kept (flags win);
 * a LIST key given by flag ignores the file's entries. Returns 0, or -1
 * with *err naming the file, line and key ("f.conf:3: node_interval: '0'
 * is out of range (0.1 to 3600)"). A missing file is an error only when
 * required is non-zero (ENOENT otherwise returns 1).
 */
int hx_config_load_file(struct hx_config *cfg, const char *path, int required,
    char **err);

/* Parse config text as if read from a file called name (for tests). */
int hx_config_load_text(struct hx_config *cfg, const char *name,
    const char *text, char **err);

/* Look up an option's value by key; NULL if the key is not in the table. */
const struct hx_opt_value *hx_config_get(const struct hx_config *cfg,
    const char							*name);
/* Shorthands; the key must exist (they abort otherwise: a programming error). */
const char *hx_config_str(const struct hx_config *cfg, const char *name);
long long   hx_config_int(const struct hx_config *cfg, const char *name);
double	    hx_config_seconds(const struct hx_config *cfg, const char *name);

/* The width --help keeps within (a long word excepted). */
#define HX_HELP_COLUMNS 80

/*
 * Write the generated --help text for table to f: "usage: PROG SYNOPSIS",
 * then an option a line (or more: help wraps within HX_HELP_COLUMNS,
 * continuing in the help column).
 */
void hx_config_usage(const struct hx_opt *table, size_t n, const char *prog,
    const char *synopsis, FILE *f);

/*
 * How an option is spelled in help, into out: "-c, --connect URL",
 * "--api-key-file FILE", "-e", "-h, --help".
 */
void hx_config_spec(const struct hx_opt *o, char *out, size_t outlen);

/*
 * The visible options of table as help lines, "  SPEC HELP", SPEC padded
 * to width (a longer SPEC has its HELP on the next line, in the same
 * column); a default is added and HELP wrapped as in hx_config_usage.
 */
void hx_config_help(const struct hx_opt *table, size_t n, int width, FILE *f);

/*
 * One line per visible option for the docs test: key, --flag (or - for
 * HX_OPT_SHORT_ONLY), short flag (or -), "flag" or "key", default,
 * tab-separated.
 */
void hx_config_dump(const struct hx_opt *table, size_t n, FILE *f);

/* "node_interval" -> "node-interval" into out. */
void hx_config_flag_name(const char *key, char *out, size_t outlen);

#endif
