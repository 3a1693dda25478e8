/*
 * test-config.c - the table-driven option parser: defaults, flags, files,
 * precedence, lists and every kind of bad value.
 */
#include <stdlib.h>
#include <string.h>

#include "hx-config.h"
#include "hx-util.h"
#include "tap.h"

static const char *colors[] = { "red", "green", NULL };

static int
check_even(const char *value, char **err)
{
	if (strlen(value) % 2 != 0) {
		*err = xstrdup("odd length");
		return -1;
	}
	return 0;
}

static const struct hx_opt table[] = {
	{ "config", 'c', HX_OPT_STRING, "/etc/x.conf", 0, 0, NULL, "FILE",
	  "config file", HX_OPT_CLI_ONLY, NULL },
	{ "foreground", 'f', HX_OPT_BOOL, "no", 0, 0, NULL, NULL, "fg",
	  HX_OPT_CLI_ONLY, NULL },
	{ "name", 0, HX_OPT_STRING, "alpha", 0, 0, NULL, "NAME", "a name", 0,
	  NULL },
	{ "count", 'n', HX_OPT_INT, "3", 1, 10, NULL, "N", "a count", 0,
	  NULL },
	{ "node_interval", 0, HX_OPT_SECONDS, "1", 0.1, 60, NULL, "SECONDS",
	  "period", 0, NULL },
	{ "verbose", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL, "talk", 0, NULL },
	{ "color", 0, HX_OPT_CHOICE, "red", 0, 0, colors, "COLOR", "c", 0,
	  NULL },
	{ "disks", 0, HX_OPT_LIST, "/", 0, 0, NULL, "MOUNT", "mounts", 0,
	  NULL },
	{ "even", 0, HX_OPT_STRING, NULL, 0, 0, NULL, "S", "even", 0,
	  check_even },
};

static int
parse(struct hx_config *cfg, char **err, int argc, ...)
{
	char	*argv[16];
	va_list	 ap;
	int	 i;

	argv[0] = "prog";
	va_start(ap, argc);
	for (i = 1; i <= argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc + 1] = NULL;
	return hx_config_parse_args(cfg, argc + 1, argv, err);
}

#define FRESH(cfg) do {							\
	hx_config_release(&cfg);					\
	hx_config_init(&cfg, table, HX_ARRAY_SIZE(table));		\
	free(err);							\
	err = NULL;							\
} while (0)

int
main(void)
{
	struct hx_config		 cfg;
	const struct hx_opt_value	*v;
	char				*err = NULL;
	char				 flag[64];

	hx_config_init(&cfg, table, HX_ARRAY_SIZE(table));
	is_str(hx_config_str(&cfg, "name"), "alpha", "string default");
	is_int(hx_config_int(&cfg, "count"), 3, "int default");
	is_near(hx_config_seconds(&cfg, "node_interval"), 1.0, 1e-9,
	    "seconds default");
	v = hx_config_get(&cfg, "disks");
	is_int(v->nlist, 1, "list default has one value");
	is_str(v->list[0], "/", "list default value");
	ok(hx_config_get(&cfg, "even")->str == NULL, "no default stays NULL");
	ok(hx_config_get(&cfg, "nope") == NULL, "unknown key lookup is NULL");

	hx_config_flag_name("node_interval", flag, sizeof flag);
	is_str(flag, "node-interval", "key to flag name");

	/* Flags. */
	is_int(parse(&cfg, &err, 5, "--node-interval", "0.5", "-n", "7",
	    "--verbose"), 0, "flags parse");
	is_near(hx_config_seconds(&cfg, "node_interval"), 0.5, 1e-9,
	    "--node-interval VALUE");
	is_int(hx_config_int(&cfg, "count"), 7, "-n VALUE");
	is_int(hx_config_int(&cfg, "verbose"), 1, "bool flag without value");
	is_int(hx_config_get(&cfg, "count")->source, HX_SRC_FLAG,
	    "source is the flag");

	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--count=9", "-n4"), 0,
	    "--key=value and glued short flag");
	is_int(hx_config_int(&cfg, "count"), 4, "last flag wins");

	FRESH(cfg);
	is_int(parse(&cfg, &err, 1, "--bogus"), -1, "unknown long flag");
	is_str(err, "unknown option '--bogus'", "unknown long flag message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 1, "-z"), -1, "unknown short flag");
	is_str(err, "unknown option '-z'", "unknown short flag message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 1, "--count"), -1, "missing value");
	is_str(err, "--count needs a value (N)", "missing value message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--count", "11"), -1, "int over max");
	is_str(err, "--count: '11' is out of range (1 to 10)",
	    "int range message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--count", "3x"), -1, "int junk");
	is_str(err, "--count: '3x' is not a whole number", "int junk message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--node-interval", "0"), -1,
	    "seconds under min");
	is_str(err, "--node-interval: '0' is out of range (0.1 to 60)",
	    "seconds range message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--node-interval", "nan"), -1,
	    "seconds nan refused");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--node-interval", ""), -1,
	    "seconds empty refused");
	is_str(err, "--node-interval: '' is not a number of seconds",
	    "seconds empty message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--color", "blue"), -1, "bad choice");
	is_str(err, "--color: 'blue' is not one of: red, green",
	    "choice message lists the choices");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 1, "--verbose=yes"), -1,
	    "bool flag with a value");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--even", "abc"), -1, "custom check");
	is_str(err, "--even: odd length", "custom check message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 1, "stray"), -1, "positional argument");
	is_str(err, "unexpected argument 'stray'", "positional message");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--name", ""), -1, "empty string");

	/* Files. */
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf",
	    "# comment\n\n  name = beta   # trailing\ncount=5\n"
	    "verbose = on\ndisks = /a\ndisks = /b\ncolor = green\n", &err), 0,
	    "file parses");
	is_str(hx_config_str(&cfg, "name"), "beta", "file string, trimmed");
	is_int(hx_config_int(&cfg, "count"), 5, "file int");
	is_int(hx_config_int(&cfg, "verbose"), 1, "file bool 'on'");
	is_int(hx_config_int(&cfg, "color"), 1, "file choice index");
	v = hx_config_get(&cfg, "disks");
	is_int(v->nlist, 2, "file list replaces the default and appends");
	is_str(v->list[1], "/b", "second list value");

	FRESH(cfg);
	parse(&cfg, &err, 4, "--count", "2", "--disks", "/flag");
	is_int(hx_config_load_text(&cfg, "t.conf",
	    "count = 9\ndisks = /file\nname = f\n", &err), 0,
	    "file after flags");
	is_int(hx_config_int(&cfg, "count"), 2, "flag wins over file");
	v = hx_config_get(&cfg, "disks");
	is_int(v->nlist, 1, "flag list ignores the file's entries");
	is_str(v->list[0], "/flag", "flag list value kept");
	is_str(hx_config_str(&cfg, "name"), "f", "file value where no flag");

	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "name = a\nbogus = 1\n",
	    &err), -1, "unknown key in file");
	is_str(err, "t.conf:2: unknown key 'bogus'", "unknown key names line");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "\n\ncount = 0\n", &err),
	    -1, "bad value in file");
	is_str(err, "t.conf:3: count: '0' is out of range (1 to 10)",
	    "bad value names file, line, key and reason");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "just words\n", &err), -1,
	    "line without =");
	is_str(err, "t.conf:1: expected 'key = value'", "missing = message");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "foreground = yes\n",
	    &err), -1, "flag-only option refused in a file");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "verbose = maybe\n", &err),
	    -1, "bad bool in file");
	is_str(err, "t.conf:1: verbose: 'maybe' is not yes or no",
	    "bad bool message");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "name =\n", &err), -1,
	    "empty value in file");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "", &err), 0, "empty file");
	FRESH(cfg);
	is_int(hx_config_load_file(&cfg, "/nonexistent/x.conf", 0, &err), 1,
	    "missing optional file is not an error");
	is_int(hx_config_load_file(&cfg, "/nonexistent/x.conf", 1, &err), -1,
	    "missing required file is an error");
	is_str(err, "cannot read '/nonexistent/x.conf': No such file or "
	    "directory", "missing file message");

	free(err);
	hx_config_release(&cfg);
	hx_config_release(&cfg);
	return done_testing();
}
