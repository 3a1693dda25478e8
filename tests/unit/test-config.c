/*
 * test-config.c - the table-driven option parser: defaults, flags, files,
 * precedence, lists and every kind of bad value.
 */
#include <stdio.h>
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
	{ "count", 'n', HX_OPT_INT, "3", 1, 10, NULL, "N", "a count", 0, NULL },
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

/* A program's global options before its command words (horcrux-cli's). */
static const char	  *formats[] = { "table", "json", NULL };
static const struct hx_opt gtable[] = {
	{ .name = "connect",
	    .short_flag = 'c',
	    .type = HX_OPT_STRING,
	    .arg = "URL",
	    .help = "server",
	    .flags = HX_OPT_EMPTY_OK },
	{ .name = "output",
	    .short_flag = 'o',
	    .type = HX_OPT_CHOICE,
	    .choices = formats,
	    .arg = "FORMAT",
	    .help = "format" },
	{ .name = "bail",
	    .short_flag = 'e',
	    .type = HX_OPT_BOOL,
	    .help = "stop early",
	    .flags = HX_OPT_SHORT_ONLY },
	{ .name = "help",
	    .short_flag = 'h',
	    .type = HX_OPT_BOOL,
	    .help = "help",
	    .flags = HX_OPT_STOP },
	{ .name = "key_file",
	    .type = HX_OPT_STRING,
	    .arg = "FILE",
	    .help = "key",
	    .dflt = "k" },
	{ .name = "secret",
	    .type = HX_OPT_BOOL,
	    .help = "hidden",
	    .flags = HX_OPT_HIDDEN },
};

/* Parse words (NULL-terminated) from index 0 with how; the result in *r. */
static int
gparse(struct hx_config *cfg, int how, struct hx_args_result *r, char **err,
    char **words)
{
	int n = 0;

	hx_config_release(cfg);
	hx_config_init(cfg, gtable, HX_ARRAY_SIZE(gtable));
	free(*err);
	*err = NULL;
	while (words[n] != NULL)
		n++;
	return hx_config_parse_argv(cfg, n, words, 0, how, r, err);
}

/* What f wrote, as a string the caller frees. */
static char *
captured(FILE *f)
{
	long  n = ftell(f);
	char *s = xcalloc(1, (size_t)n + 1);

	rewind(f);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = '\0';
	fclose(f);
	return s;
}

static void
test_argv(void)
{
	struct hx_config      cfg = { 0 };
	struct hx_args_result r;
	const struct hx_opt  *o;
	char		     *err = NULL, spec[64], *text;
	FILE		     *f;
	int		      w = HX_ARGS_WORDS | HX_ARGS_SPLIT;

	is_int(gparse(&cfg, w, &r, &err,
		   (char *[]){ "-c", "unix:/s", "-e", "user", "list", NULL }),
	    0, "argv: options, then words");
	is_int(r.next, 3, "argv: stops at the first word");
	is_int(r.stop, HX_ARGS_END, "argv: a word is the end");
	is_str(hx_config_str(&cfg, "connect"), "unix:/s", "argv: -c's value");
	is_int(hx_config_int(&cfg, "bail"), 1, "argv: short-only -e is set");
	is_int(gparse(&cfg, 0, &r, &err, (char *[]){ "-e", "user", NULL }), -1,
	    "argv: a word without HX_ARGS_WORDS is an error");
	is_int(r.stop, HX_ARGS_UNEXPECTED, "argv: ... said as unexpected");
	is_str(err, "unexpected argument 'user'", "argv: ... its message");

	is_int(gparse(&cfg, w, &r, &err, (char *[]){ "-e", "--", "-h", NULL }),
	    0, "argv: -- ends the options");
	is_int(r.next, 2, "argv: ... and is skipped");
	is_int(hx_config_get(&cfg, "help")->source, HX_SRC_DEFAULT,
	    "argv: ... what follows is not read");
	is_int(gparse(&cfg, w, &r, &err, (char *[]){ "-", NULL }), 0,
	    "argv: a lone - is a word");
	is_int(r.next, 0, "argv: ... where the options end");

	is_int(gparse(&cfg, w, &r, &err,
		   (char *[]){ "-o", "json", "--help", "--frob", NULL }),
	    1, "argv: a STOP option returns 1");
	is_int(r.stop, HX_ARGS_STOPPED, "argv: ... said as stopped");
	ok(r.opt == &gtable[3], "argv: ... naming the option");
	is_int(r.next, 3, "argv: ... the next word unread");
	is_int(hx_config_int(&cfg, "output"), 1, "argv: choice before it");

	is_int(gparse(&cfg, w, &r, &err, (char *[]){ "--bail", NULL }), -1,
	    "argv: a short-only option has no long spelling");
	is_int(r.stop, HX_ARGS_UNKNOWN, "argv: ... it is unknown");
	is_str(r.word, "--bail", "argv: ... the word is given back");
	is_str(err, "unknown option '--bail'", "argv: ... the message");
	is_int(r.next, 1, "argv: ... next is after it");

	is_int(gparse(&cfg, w, &r, &err, (char *[]){ "-cunix:/s", NULL }), -1,
	    "argv: HX_ARGS_SPLIT: no glued value");
	is_str(r.word, "-cunix:/s", "argv: ... the whole word is given back");
	is_int(gparse(&cfg, HX_ARGS_WORDS, &r, &err,
		   (char *[]){ "-cunix:/s", NULL }),
	    0, "argv: without it a glued value is read");
	is_str(hx_config_str(&cfg, "connect"), "unix:/s",
	    "argv: ... as the value");

	is_int(gparse(&cfg, w, &r, &err, (char *[]){ "-o", NULL }), -1,
	    "argv: a missing value");
	is_int(r.stop, HX_ARGS_NEEDS_VALUE, "argv: ... said as needing one");
	ok(r.opt == &gtable[1], "argv: ... naming the option");
	is_str(err, "-o needs a value (FORMAT)", "argv: ... the message");

	is_int(gparse(&cfg, w, &r, &err,
		   (char *[]){ "-o", "yaml", "-e", NULL }),
	    -1, "argv: a bad value");
	is_int(r.stop, HX_ARGS_BAD_VALUE, "argv: ... said as bad");
	is_str(r.value, "yaml", "argv: ... the value is given back");
	is_int(r.next, 2, "argv: ... next is after the value");
	is_str(err, "-o: 'yaml' is not one of: table, json",
	    "argv: ... the message");
	is_int(hx_config_parse_argv(&cfg, 3,
		   (char *[]){ "-o", "yaml", "-e", NULL }, r.next, w, &r, &err),
	    0, "argv: a caller may go on from next");
	is_int(hx_config_int(&cfg, "bail"), 1, "argv: ... and read the rest");
	free(err);
	err = NULL;

	is_int(gparse(&cfg, w, &r, &err, (char *[]){ "--help=x", NULL }), -1,
	    "argv: a value for a bool");
	is_int(r.stop, HX_ARGS_NO_VALUE, "argv: ... said as taking none");

	is_int(gparse(&cfg, w, &r, &err, (char *[]){ "--connect=", NULL }), 0,
	    "argv: HX_OPT_EMPTY_OK takes an empty value");
	is_str(hx_config_str(&cfg, "connect"), "", "argv: ... as the value");
	is_int(gparse(&cfg, w, &r, &err, (char *[]){ "--key-file=", NULL }), -1,
	    "argv: without it an empty value is refused");
	is_str(err, "--key-file: empty value", "argv: ... the message");

	ok(hx_config_lookup(gtable, HX_ARRAY_SIZE(gtable), "-c") == &gtable[0],
	    "lookup: a short flag");
	ok(hx_config_lookup(gtable, HX_ARRAY_SIZE(gtable), "--key-file") ==
		&gtable[4],
	    "lookup: a long flag");
	o = hx_config_lookup(gtable, HX_ARRAY_SIZE(gtable), "--connect=x");
	ok(o == NULL, "lookup: not with a value");
	o = hx_config_lookup(gtable, HX_ARRAY_SIZE(gtable), "--bail");
	ok(o == NULL, "lookup: not a short-only option's long form");
	ok(hx_config_lookup(gtable, HX_ARRAY_SIZE(gtable), "-e") == &gtable[2],
	    "lookup: a short-only option");

	hx_config_spec(&gtable[0], spec, sizeof spec);
	is_str(spec, "-c, --connect URL", "spec: short and long with value");
	hx_config_spec(&gtable[2], spec, sizeof spec);
	is_str(spec, "-e", "spec: short-only bool");
	hx_config_spec(&gtable[4], spec, sizeof spec);
	is_str(spec, "--key-file FILE", "spec: long only");

	f = tmpfile();
	hx_config_help(gtable, HX_ARRAY_SIZE(gtable), 20, f);
	text = captured(f);
	is_str(text,
	    "  -c, --connect URL    server\n"
	    "  -o, --output FORMAT  format\n"
	    "  -e                   stop early\n"
	    "  -h, --help           help\n"
	    "  --key-file FILE      key (default: k)\n",
	    "help: padded specs, defaults, hidden left out");
	free(text);
	{
		static const struct hx_opt wtable[] = {
			{ .name = "max_connections_per_address",
			    .type = HX_OPT_INT,
			    .arg = "N",
			    .help = "most",
			    .dflt = "128" },
			{ .name = "socket",
			    .type = HX_OPT_STRING,
			    .arg = "PATH",
			    .help = "Unix socket (local trust "
				    "for uid 0 and our uid)",
			    .dflt = "/run/horcrux/horcruxd.sock" },
		};

		f = tmpfile();
		hx_config_usage(wtable, HX_ARRAY_SIZE(wtable), "p", "[o]", f);
		text = captured(f);
		is_str(text,
		    "usage: p [o]\n\n"
		    "      --max-connections-per-address N\n"
		    "                                 most (default: 128)\n"
		    "      --socket PATH              Unix socket (local "
		    "trust for uid 0 and our uid)\n"
		    "                                 "
		    "(default: /run/horcrux/horcruxd.sock)\n",
		    "help: a long spec puts its help below, in the column; "
		    "help wraps at 80 with the default whole");
		free(text);
	}
	f = tmpfile();
	hx_config_dump(gtable, HX_ARRAY_SIZE(gtable), f);
	text = captured(f);
	ok(strstr(text, "bail\t-\te\tkey\t\n") != NULL,
	    "dump: a short-only option has no long flag");
	free(text);
	free(err);
	hx_config_release(&cfg);
}

static int
parse(struct hx_config *cfg, char **err, int argc, ...)
{
	char   *argv[16];
	va_list ap;
	int	i;

	argv[0] = "prog";
	va_start(ap, argc);
	for (i = 1; i <= argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc + 1] = NULL;
	return hx_config_parse_args(cfg, argc + 1, argv, err);
}

#define FRESH(cfg) \
	do { \
		hx_config_release(&cfg); \
		hx_config_init(&cfg, table, HX_ARRAY_SIZE(table)); \
		free(err); \
		err = NULL; \
	} while (0)

int
main(void)
{
	struct hx_config	   cfg;
	const struct hx_opt_value *v;
	char			  *err = NULL;
	char			   flag[64];

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
		   "--verbose"),
	    0, "flags parse");
	is_near(hx_config_seconds(&cfg, "node_interval"), 0.5, 1e-9,
	    "--node-interval VALUE");
	is_int(hx_config_int(&cfg, "count"), 7, "-n VALUE");
	is_int(hx_config_int(&cfg, "verbose"), 1, "bool flag without value");
	is_int(hx_config_get(&cfg, "count")->source, HX_SRC_FLAG,
	    "source is the flag");

	/* --no-NAME: a file-key boolean set false; flag-only ones have none. */
	FRESH(cfg);
	is_int(parse(&cfg, &err, 2, "--verbose", "--no-verbose"), 0,
	    "--no-verbose parses");
	is_int(hx_config_int(&cfg, "verbose"), 0, "--no-verbose sets it false");
	is_int(hx_config_get(&cfg, "verbose")->source, HX_SRC_FLAG,
	    "--no-verbose is a flag's value");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 1, "--no-verbose=yes"), -1,
	    "--no-verbose takes no value");
	is_str(err, "--no-verbose takes no value", "and says so");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 1, "--no-foreground"), -1,
	    "a flag-only boolean has no --no- form");
	is_str(err, "unknown option '--no-foreground'", "it is unknown");
	FRESH(cfg);
	is_int(parse(&cfg, &err, 1, "--no-name"), -1,
	    "a string has no --no- form");

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
		   "verbose = on\ndisks = /a\ndisks = /b\ncolor = green\n",
		   &err),
	    0, "file parses");
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
		   "count = 9\ndisks = /file\nname = f\n", &err),
	    0, "file after flags");
	is_int(hx_config_int(&cfg, "count"), 2, "flag wins over file");
	v = hx_config_get(&cfg, "disks");
	is_int(v->nlist, 1, "flag list ignores the file's entries");
	is_str(v->list[0], "/flag", "flag list value kept");
	is_str(hx_config_str(&cfg, "name"), "f", "file value where no flag");

	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "name = a\nbogus = 1\n",
		   &err),
	    -1, "unknown key in file");
	is_str(err, "t.conf:2: unknown key 'bogus'", "unknown key names line");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "\n\ncount = 0\n", &err), -1,
	    "bad value in file");
	is_str(err, "t.conf:3: count: '0' is out of range (1 to 10)",
	    "bad value names file, line, key and reason");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "just words\n", &err), -1,
	    "line without =");
	is_str(err, "t.conf:1: expected 'key = value'", "missing = message");
	FRESH(cfg);
	is_int(hx_config_load_text(&cfg, "t.conf", "foreground = yes\n", &err),
	    -1, "flag-only option refused in a file");
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
	is_str(err,
	    "cannot read '/nonexistent/x.conf': No such file or "
	    "directory",
	    "missing file message");

	free(err);
	hx_config_release(&cfg);
	hx_config_release(&cfg);
	test_argv();
	return done_testing();
}
