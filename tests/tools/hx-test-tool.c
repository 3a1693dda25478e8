/*
 * hx-test-tool.c - the pure modules inside the programs, driven from argv
 * and stdin, so tests can reach them without a daemon or a terminal (git's
 * t/helper/test-tool). One binary, one subcommand per module:
 *
 *	route-match PATTERN PATH	horcruxd/http-parse.c: a route pattern
 *	host-name HOST			horcruxd/http-parse.c: a Host header
 *	accepts-gzip VALUE		horcruxd/http-parse.c: does an
 *					Accept-Encoding value allow gzip
 *	access				horcruxd/access.c: privilege decisions
 *					over a store built from a fixture
 *	top-model			horcrux-top/model.c: messages, VM list,
 *					views
 *	coalesce [MAX]			horcruxd/outq.c: a session's coalescing
 *					slots and bounded FIFO
 *
 * Each subcommand's input and output is described above its function.
 * Exit codes: 0 done, 1 no match or a refused Host (route-match,
 * host-name) or gzip not allowed (accepts-gzip) or a bad fixture or script line, 2 usage.
 *
 * It deliberately does not fake libwebsockets or curses: only functions
 * that answer from memory are called (access.o is linked whole, but
 * access_resolve, which reads lws headers, never runs), with the daemon's
 * own sizes (the route buffer, the parameter count) so a test sees what
 * a request sees. It is not installed.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "access.h"
#include "http-int.h"
#include "http-parse.h"
#include "hx-rbac.h"
#include "hx-store.h"
#include "hx-util.h"
#include "ldap-realm.h"
#include "model.h"
#include "outq.h"

#define WORDS_MAX 8

struct tool_cmd {
	const char *name;
	const char *args;
	int (*run)(int, char **);
};

static const char *progname = "hx-test-tool";

static void usage(void) __attribute__((noreturn));

static void line_error(int lineno, const char *fmt, ...) HX_PRINTF(2, 3);

static void
line_error(int lineno, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: line %d: ", progname, lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Split line in place at spaces into at most max words; the last word
 * takes the rest of the line. Returns the number of words.
 */
static int
split_words(char *line, char **w, int max)
{
	int n = 0;

	while (n < max) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0')
			break;
		w[n++] = line;
		if (n == max)
			break;
		line += strcspn(line, " \t");
		if (*line == '\0')
			break;
		*line++ = '\0';
	}
	return n;
}

/*
 * A comma-separated list as a NULL-terminated array of pointers into s
 * (cut in place); "-" is the empty list. The caller frees the array.
 */
static char **
split_list(char *s, size_t *n)
{
	char **v = xcalloc(strlen(s) + 2, sizeof *v);
	char  *save = NULL, *w;

	*n = 0;
	if (strcmp(s, "-") == 0)
		return v;
	for (w = strtok_r(s, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save))
		v[(*n)++] = w;
	return v;
}

/* --- route-match, host-name ---------------------------------------------- */

/*
 * route-match PATTERN PATH: "match" and then one "param N: VALUE" line
 * per ":name" segment taken, exit 0; or "no match", exit 1. The buffer
 * and the parameter count are the daemon's (URI_MAX, ROUTE_PARAMS).
 */
static int
cmd_route_match(int argc, char **argv)
{
	const char *params[ROUTE_PARAMS] = { NULL };
	char	    buf[URI_MAX];
	int	    i;

	if (argc != 3)
		usage();
	if (!http_route_match(argv[1], argv[2], buf, sizeof buf, params,
		ROUTE_PARAMS)) {
		printf("no match\n");
		return 1;
	}
	printf("match\n");
	for (i = 0; i < ROUTE_PARAMS && params[i] != NULL; i++)
		printf("param %d: %s\n", i, params[i]);
	return 0;
}

/* host-name HOST: the name, exit 0; or "refused", exit 1. */
/* The LDAP realm's filter: PATTERN with %s and %D escaped (RFC 4515). */
static int
cmd_ldap_filter(int argc, char **argv)
{
	char *f;

	if (argc != 4)
		usage();
	f = ldap_realm_filter(argv[1], argv[2], argv[3]);
	printf("%s\n", f);
	free(f);
	return 0;
}

static int
cmd_host_name(int argc, char **argv)
{
	char name[256];

	if (argc != 2)
		usage();
	if (http_host_name(argv[1], name, sizeof name) != 0) {
		printf("refused\n");
		return 1;
	}
	printf("%s\n", name);
	return 0;
}

/*
 * accepts-gzip VALUE: "gzip", exit 0, when an Accept-Encoding of VALUE
 * allows a gzip answer; "identity", exit 1, when it does not.
 */
static int
cmd_accepts_gzip(int argc, char **argv)
{
	if (argc != 2)
		usage();
	if (!http_accepts_gzip(argv[1])) {
		printf("identity\n");
		return 1;
	}
	printf("gzip\n");
	return 0;
}

/* --- access -------------------------------------------------------------- */

/*
 * access: a fixture and questions on stdin, one per line ('#' starts a
 * comment). The fixture lines write a fresh store in a temporary
 * directory, as the worker would:
 *
 *	user NAME ROLES [disabled]	ROLES: "Auditor,VmUser" or "-"
 *	role NAME PRIVS			PRIVS: "VmAudit,SysAudit" or "-"
 *	acl PATH ROLE USER [no-propagate]
 *	key KEYID USER [ROLES]		ROLES: the key's subset ("-": an
 *					empty one); none: the user's rights
 *
 * Every user also gets a live session. A question first loads a snapshot
 * into the identity cache (again after any fixture line), resolves WHO as
 * the daemon re-checks a live identity (access_refresh): a user name is
 * that user's session, "key:KEYID" that API key, "anonymous" nobody. It
 * prints the question, " -> " and the answer:
 *
 *	allowed WHO PRIVS PATH		yes | no
 *	below WHO PRIVS PATH		yes | no (held at or below PATH)
 *	covers-role WHO ROLE [PATH]	yes | no | no such role
 *	covers-user WHO USER		yes | no
 *	me WHO				GET /api/auth/me's privileges, JSON
 *
 * An identity that no longer resolves (disabled user, unknown key)
 * answers "unauthenticated".
 */
struct access_run {
	char		     dir[1024];
	char		     db[1100];
	struct hx_store	    *st;
	struct access_cache *cache;
	int		     dirty;
};

static void
access_cleanup(struct access_run *a)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char			 p[1200];
	size_t			 i;

	access_cache_free(a->cache);
	hx_store_close(a->st);
	if (a->dir[0] == '\0')
		return;
	for (i = 0; i < HX_ARRAY_SIZE(sfx); i++) {
		snprintf(p, sizeof p, "%s%s", a->db, sfx[i]);
		unlink(p);
	}
	rmdir(a->dir);
}

static int
access_fixture(struct access_run *a, char **w, int n, int lineno)
{
	char	 jti[160], hash[65];
	char   **list = NULL;
	char	*err = NULL;
	size_t	 nl;
	hx_privs privs;
	int	 rc = HX_STORE_OK;
	int64_t	 far = (int64_t)time(NULL) + 86400;

	if (strcmp(w[0], "user") == 0 &&
	    (n == 3 || (n == 4 && strcmp(w[3], "disabled") == 0))) {
		list = split_list(w[2], &nl);
		rc = hx_store_user_add(a->st, w[1], "local", NULL, n == 3, NULL,
		    (const char *const *)list, &err);
		snprintf(jti, sizeof jti, "tool-%s", w[1]);
		if (rc == HX_STORE_OK)
			rc = hx_store_session_add(a->st, jti, w[1], far, far,
			    "csrf", NULL, &err);
	} else if (strcmp(w[0], "role") == 0 && n == 3) {
		list = split_list(w[2], &nl);
		if (hx_rbac_privs_parse((const char *const *)list, nl, &privs,
			&err) != 0)
			rc = HX_STORE_INVALID;
		else
			rc = hx_store_role_add(a->st, w[1], privs, &err);
	} else if (strcmp(w[0], "acl") == 0 &&
	    (n == 4 || (n == 5 && strcmp(w[4], "no-propagate") == 0))) {
		rc = hx_store_acl_put(a->st, w[1], w[2], w[3], n == 4, &err);
	} else if (strcmp(w[0], "key") == 0 && (n == 3 || n == 4)) {
		memset(hash, '0', 64);
		hash[64] = '\0';
		if (n == 4)
			list = split_list(w[3], &nl);
		rc = hx_store_key_add(a->st, w[1], w[2], NULL, hash,
		    (const char *const *)list, 0, &err);
	} else {
		line_error(lineno, "unknown or malformed line");
		return -1;
	}
	free(list);
	if (rc != HX_STORE_OK) {
		line_error(lineno, "%s", err != NULL ? err : "store error");
		free(err);
		return -1;
	}
	a->dirty = 1;
	return 0;
}

/* Load a new snapshot into the cache if the fixture changed. */
static int
access_load(struct access_run *a)
{
	struct hx_store_snapshot *snap;
	unsigned char		  key[ACCESS_JWT_KEY_LEN] = { 0 };
	char			 *err = NULL;

	if (!a->dirty && a->cache != NULL)
		return 0;
	if (hx_store_snapshot(a->st, &snap, &err) != HX_STORE_OK) {
		fprintf(stderr, "%s: snapshot: %s\n", progname, err);
		free(err);
		return -1;
	}
	if (a->cache == NULL)
		a->cache = access_cache_new(snap, key);
	else
		access_cache_retire(access_cache_swap(a->cache, snap));
	a->dirty = 0;
	return 0;
}

/* Resolve who; 0, or -1 when the credential does not resolve. */
static int
access_who(struct access_run *a, const char *who, struct identity *id)
{
	memset(id, 0, sizeof *id);
	if (strcmp(who, "anonymous") == 0)
		return 0;
	id->authenticated = 1;
	if (strncmp(who, "key:", 4) == 0) {
		id->kind = ACCESS_KEY;
		hx_strlcpy(id->cred, who + 4, sizeof id->cred);
	} else {
		id->kind = ACCESS_TOKEN;
		hx_strlcpy(id->name, who, sizeof id->name);
		snprintf(id->cred, sizeof id->cred, "tool-%s", who);
	}
	return access_refresh(a->cache, id);
}

static const char *
yes_no(int r)
{
	return r < 0 ? "no such role" : r ? "yes" : "no";
}

static int
access_question(struct access_run *a, char **w, int n, const char *q,
    int lineno)
{
	struct identity id;
	hx_privs	privs = 0;
	char	      **list, *err = NULL, *s;
	size_t		nl;
	json_t	       *j;
	int		r = 0;

	if (access_load(a) != 0)
		return -1;
	if ((strcmp(w[0], "allowed") == 0 || strcmp(w[0], "below") == 0) &&
	    n == 4) {
		list = split_list(w[2], &nl);
		r = hx_rbac_privs_parse((const char *const *)list, nl, &privs,
		    &err);
		free(list);
		if (r != 0) {
			line_error(lineno, "%s", err);
			free(err);
			return -1;
		}
	} else if (!(strcmp(w[0], "covers-role") == 0 && (n == 3 || n == 4)) &&
	    !(strcmp(w[0], "covers-user") == 0 && n == 3) &&
	    !(strcmp(w[0], "me") == 0 && n == 2)) {
		line_error(lineno, "unknown or malformed line");
		return -1;
	}
	printf("%s -> ", q);
	if (access_who(a, w[1], &id) != 0) {
		printf("unauthenticated\n");
		access_release(&id);
		return 0;
	}
	if (strcmp(w[0], "allowed") == 0)
		printf("%s\n", yes_no(access_allowed(&id, privs, w[3])));
	else if (strcmp(w[0], "below") == 0)
		printf("%s\n", yes_no(access_allowed_below(&id, privs, w[3])));
	else if (strcmp(w[0], "covers-role") == 0)
		printf("%s\n",
		    yes_no(access_covers_role(a->cache, &id, w[2],
			n == 4 ? w[3] : NULL)));
	else if (strcmp(w[0], "covers-user") == 0)
		printf("%s\n", yes_no(access_covers_user(a->cache, &id, w[2])));
	else {
		j = access_privileges_json(&id);
		s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		printf("%s\n", s);
		free(s);
		json_decref(j);
	}
	access_release(&id);
	return 0;
}

static int
cmd_access(int argc, char **argv)
{
	struct access_run a;
	char		 *line = NULL, *copy, *w[WORDS_MAX], *err = NULL;
	const char	 *tmp = getenv("TMPDIR");
	size_t		  cap = 0;
	ssize_t		  len;
	int		  n, lineno = 0, rc = 0;

	if (argc != 1)
		usage();
	memset(&a, 0, sizeof a);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(a.dir, sizeof a.dir, "%s/hx-test-tool.XXXXXX",
		tmp) >= sizeof a.dir) {
		fprintf(stderr, "%s: TMPDIR is too long\n", progname);
		return 1;
	}
	if (mkdtemp(a.dir) == NULL) {
		fprintf(stderr, "%s: cannot create '%s': %s\n", progname, a.dir,
		    strerror(errno));
		return 1;
	}
	snprintf(a.db, sizeof a.db, "%s/identity.db", a.dir);
	if (hx_store_open(a.db, &a.st, &err) != HX_STORE_OK) {
		fprintf(stderr, "%s: cannot open '%s': %s\n", progname, a.db,
		    err);
		free(err);
		access_cleanup(&a);
		return 1;
	}
	while (rc == 0 && (len = getline(&line, &cap, stdin)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		copy = xstrdup(line);
		n = split_words(line, w, WORDS_MAX);
		if (n == 0 || w[0][0] == '#')
			;
		else if (strcmp(w[0], "user") == 0 ||
		    strcmp(w[0], "role") == 0 || strcmp(w[0], "acl") == 0 ||
		    strcmp(w[0], "key") == 0)
			rc = access_fixture(&a, w, n, lineno);
		else
			rc = access_question(&a, w, n, copy, lineno);
		free(copy);
	}
	free(line);
	access_cleanup(&a);
	return rc == 0 ? 0 : 1;
}

/* --- top-model ----------------------------------------------------------- */

/* Column names for view lines, in enum top_col order. */
static const char *const top_col_names[] = {
	[COL_NAME] = "name",
	[COL_STATE] = "state",
	[COL_CPU] = "cpu",
	[COL_MEMPCT] = "mempct",
	[COL_MEM] = "mem",
	[COL_DISK_RD] = "disk_rd",
	[COL_DISK_WR] = "disk_wr",
	[COL_NET_RX] = "net_rx",
	[COL_NET_TX] = "net_tx",
};
_Static_assert(HX_ARRAY_SIZE(top_col_names) == COL_COUNT,
    "a column without a name in hx-test-tool");

static void
top_print_view(const struct top_model *m, char **w, int n, int lineno, int *rc)
{
	const char *filter = NULL;
	size_t	   *idx, i, rows;
	int	    col, c, invert = 0, k;
	char	    cell[64];

	for (col = 0; col < COL_COUNT; col++) {
		if (strcmp(w[1], top_col_names[col]) == 0)
			break;
	}
	if (col == COL_COUNT) {
		line_error(lineno, "unknown column '%s'", w[1]);
		*rc = 1;
		return;
	}
	for (k = 2; k < n; k++) {
		if (strcmp(w[k], "invert") == 0)
			invert = 1;
		else if (strncmp(w[k], "filter=", 7) == 0)
			filter = w[k] + 7;
	}
	idx = xcalloc(m->nvms + 1, sizeof *idx);
	rows = model_view(m, (enum top_col)col, invert, filter, idx);
	printf("view %s: %zu of %zu\n", top_col_names[col], rows, m->nvms);
	for (i = 0; i < rows; i++) {
		for (c = 0; c < COL_COUNT; c++) {
			model_cell(&m->vms[idx[i]], (enum top_col)c, cell,
			    sizeof cell);
			printf("%s%s", c > 0 ? " " : "  ", cell);
		}
		printf("\n");
	}
	free(idx);
}

static void
top_print_vm(struct top_model *m, const char *id)
{
	struct top_vm *vm = model_vm(m, id);
	int	       i;

	if (vm == NULL) {
		printf("vm %s: absent\n", id);
		return;
	}
	printf("vm %s: name %s state %s container %d vcpus %d metrics %d "
	       "flash_until %lld events %d\n",
	    vm->id, vm->name, vm->state, vm->container, vm->vcpus,
	    vm->has_metrics, (long long)vm->flash_until, vm->nev);
	for (i = 0; i < vm->nev; i++)
		printf("event: %s\n", vm->ev[i].text);
}

static void
top_print_changes(int ch)
{
	printf("changed:%s%s%s%s%s\n", ch == 0 ? " nothing" : "",
	    ch & TOP_CH_NODE ? " node" : "", ch & TOP_CH_VMS ? " vms" : "",
	    ch & TOP_CH_NOTE ? " note" : "",
	    ch & TOP_CH_SUBSCRIBED ? " subscribed" : "");
}

/*
 * top-model: a script on stdin, one line at a time ('#' starts a
 * comment). A line starting with '{' is a WebSocket message for
 * model_apply; it prints "changed: ..." (node, vms, note, subscribed or
 * nothing). The others:
 *
 *	now MS			the monotonic clock for what follows (0)
 *	hold 1|0		hold_metrics (the paused screen) on or off
 *	list JSON		model_set_vm_list: "list: ok" or "list: refused"
 *	view COL [invert] [filter=TEXT]
 *				"view COL: ROWS of VMS", then each row's
 *				cells (model_cell) in column order
 *	vm ID			a VM's fields and its events, newest first
 *	node KEY		model_node_num: the number or "unknown"
 *	counts			"running R total T"
 *	note			the note, its level, hidden topics, user,
 *				need_vm_list and no_node
 *
 * COL is name, state, cpu, mempct, mem, disk_rd, disk_wr, net_rx, net_tx.
 */
static int
cmd_top_model(int argc, char **argv)
{
	struct top_model m;
	char		*line = NULL, *w[WORDS_MAX];
	json_t		*j;
	size_t		 cap = 0;
	ssize_t		 len;
	int64_t		 now = 0;
	double		 v;
	int		 n, lineno = 0, rc = 0, running, total;

	if (argc != 1)
		usage();
	model_init(&m);
	while (rc == 0 && (len = getline(&line, &cap, stdin)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] == '{') {
			top_print_changes(
			    model_apply(&m, line, (size_t)len, now));
			continue;
		}
		if (strncmp(line, "list ", 5) == 0) {
			j = json_loads(line + 5, 0, NULL);
			printf("list: %s\n",
			    model_set_vm_list(&m, j) == 0 ? "ok" : "refused");
			json_decref(j);
			continue;
		}
		n = split_words(line, w, WORDS_MAX);
		if (n == 0 || w[0][0] == '#')
			continue;
		if (strcmp(w[0], "now") == 0 && n == 2)
			now = strtoll(w[1], NULL, 10);
		else if (strcmp(w[0], "hold") == 0 && n == 2)
			m.hold_metrics = strcmp(w[1], "1") == 0;
		else if (strcmp(w[0], "view") == 0 && n >= 2)
			top_print_view(&m, w, n, lineno, &rc);
		else if (strcmp(w[0], "vm") == 0 && n == 2)
			top_print_vm(&m, w[1]);
		else if (strcmp(w[0], "node") == 0 && n == 2) {
			v = model_node_num(&m, w[1]);
			if (isnan(v))
				printf("node %s: unknown\n", w[1]);
			else
				printf("node %s: %g\n", w[1], v);
		} else if (strcmp(w[0], "counts") == 0 && n == 1) {
			model_vm_counts(&m, &running, &total);
			printf("running %d total %d\n", running, total);
		} else if (strcmp(w[0], "note") == 0 && n == 1) {
			printf("note %d: %s\n", m.note_level, m.note);
			printf("hidden: %s\n", m.hidden);
			printf("user: %s\n", m.user);
			printf("need_vm_list %d no_node %d\n", m.need_vm_list,
			    m.no_node);
		} else {
			line_error(lineno, "unknown or malformed line");
			rc = 1;
		}
	}
	free(line);
	model_release(&m);
	return rc;
}

/* --- coalesce ------------------------------------------------------------ */

/*
 * coalesce [MAX] < SCRIPT: an outq of MAX discrete frames (default 1024).
 * Lines: "push TYPE KEY|- LABEL" queues an event {"type":TYPE,"data":
 * {"label":LABEL}} with a coalescing key ("-": none) and prints "queued"
 * or "full"; "pop" prints the next frame as "TYPE LABEL" or "empty";
 * "drain" pops until empty; "clear" drops everything; "coalesced" prints
 * how many frames a newer one replaced unsent (GET /metrics' count). Frames still queued
 * at the end are released, so ASan sees a lost or doubled reference.
 */
static void
coalesce_pop(struct outq *o, int all)
{
	struct frame *f;
	json_t	     *j;

	do {
		if ((f = outq_pop(o)) == NULL) {
			printf("empty\n");
			return;
		}
		j = json_loads(frame_text(f), 0, NULL);
		printf("%s %s\n", json_string_value(json_object_get(j, "type")),
		    json_string_value(
			json_object_get(json_object_get(j, "data"), "label")));
		json_decref(j);
		frame_unref(f);
	} while (all);
}

static int
cmd_coalesce(int argc, char **argv)
{
	struct outq   o;
	struct frame *f;
	char	     *line = NULL, *w[WORDS_MAX];
	size_t	      cap = 0;
	long long     max = 1024;
	int	      n, lineno = 0, rc = 0;

	if (argc > 2 ||
	    (argc == 2 && hx_parse_ll(argv[1], 0, 1 << 20, &max) != 0))
		usage();
	outq_init(&o, (size_t)max);
	while (rc == 0 && getline(&line, &cap, stdin) != -1) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		n = split_words(line, w, WORDS_MAX);
		if (n == 0 || w[0][0] == '#')
			continue;
		if (strcmp(w[0], "push") == 0 && n == 4) {
			f = frame_new(w[1], json_pack("{ss}", "label", w[3]),
			    -1, strcmp(w[2], "-") == 0 ? NULL : w[2], NULL);
			printf("%s\n",
			    outq_push(&o, f) == 0 ? "queued" : "full");
			frame_unref(f);
		} else if (strcmp(w[0], "pop") == 0 && n == 1)
			coalesce_pop(&o, 0);
		else if (strcmp(w[0], "drain") == 0 && n == 1)
			coalesce_pop(&o, 1);
		else if (strcmp(w[0], "clear") == 0 && n == 1)
			outq_clear(&o);
		else if (strcmp(w[0], "coalesced") == 0 && n == 1)
			printf("coalesced %llu\n",
			    (unsigned long long)o.coalesced);
		else {
			line_error(lineno, "unknown or malformed line");
			rc = 1;
		}
	}
	free(line);
	outq_release(&o);
	return rc;
}

/* --- the table ----------------------------------------------------------- */

static const struct tool_cmd cmds[] = {
	{ "route-match", "PATTERN PATH", cmd_route_match },
	{ "host-name", "HOST", cmd_host_name },
	{ "ldap-filter", "PATTERN USER DN", cmd_ldap_filter },
	{ "accepts-gzip", "VALUE", cmd_accepts_gzip },
	{ "access", "< FIXTURE-AND-QUESTIONS", cmd_access },
	{ "top-model", "< SCRIPT", cmd_top_model },
	{ "coalesce", "[MAX] < SCRIPT", cmd_coalesce },
};

static void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage:");
	for (i = 0; i < HX_ARRAY_SIZE(cmds); i++)
		fprintf(stderr, "%s%s %s %s\n", i == 0 ? " " : "       ",
		    progname, cmds[i].name, cmds[i].args);
	exit(2);
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		usage();
	for (i = 0; i < HX_ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s'\n", progname, argv[1]);
	usage();
}
