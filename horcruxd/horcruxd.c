/*
 * horcruxd.c - start-up and shutdown of the daemon.
 *
 * Reads the options (table in options.c), prepares the data directory,
 * optionally daemonizes (the parent waits until the child is listening, so
 * `horcruxd` run by hand still reports "cannot bind ..." and exits 1),
 * starts the collector thread and runs the service loop until SIGTERM or
 * SIGINT; SIGHUP reloads the configuration (reload.c). Exit codes: 0 clean stop, 1 runtime or configuration error,
 * 2 command-line usage error.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "collector.h"
#include "alert.h"
#include "history.h"
#include "notify.h"
#include "oidc.h"
#include "hx-auth.h"
#include "hx-config.h"
#include "hx-log.h"
#include "hx-proto.h"
#include "job-identity.h"
#include "mailbox.h"
#include "options.h"
#include "reload.h"
#include "realm.h"
#include "server.h"
#include "virt.h"
#include "worker.h"

/* The audit log is purged at start-up and then this often. */
#define AUDIT_PURGE_MS (3600 * 1000)

static struct server server;
static struct realms realms;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("horcruxd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Only flags and lws_cancel_service: the work is the service thread's. */
static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		server_request_reload(&server);
	else
		server_request_stop(&server);
}

/* mkdir -p with mode for the last component; 0 or -1 with errno. */
static int
make_dirs(const char *path, mode_t mode)
{
	char *copy = xstrdup(path), *p;
	int   r = 0;

	for (p = copy + 1; *p != '\0' && r == 0; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
			r = -1;
		*p = '/';
	}
	if (r == 0 && mkdir(copy, mode) != 0 && errno != EEXIST)
		r = -1;
	free(copy);
	return r;
}

static void
prepare_data_dir(const char *dir)
{
	struct stat st;

	if (make_dirs(dir, 0700) != 0)
		die(1, "cannot create data directory '%s': %s", dir,
		    strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		die(1, "data directory '%s' is not a directory", dir);
	if (access(dir, W_OK | X_OK) != 0)
		die(1, "cannot write to data directory '%s': %s", dir,
		    strerror(errno));
}

/*
 * Loose modes on the state: what others may write (the directory, where
 * jwt.key and the database could be swapped, or the database itself) is
 * refused; what others may only read is warned about. The database holds
 * password hashes, not secrets that sign anything, so reading it is an
 * offline-guessing risk, not a takeover. jwt.key has its own stricter
 * rule in hx_secret_load_or_create(). A missing file is fine (first
 * start creates it 0600).
 */
static void
check_state_modes(const char *dir)
{
	static const struct {
		const char *name; /* NULL: the directory itself */
		const char *what;
	} state[] = {
		{ NULL, "data directory" },
		{ "horcrux.db", "identity database" },
		{ "horcrux.db-wal", "identity database journal" },
		{ "horcrux.db-shm", "identity database index" },
	};
	struct stat st;
	char	    path[PATH_MAX];
	unsigned    mode;
	size_t	    i;

	for (i = 0; i < HX_ARRAY_SIZE(state); i++) {
		if (state[i].name == NULL)
			hx_strlcpy(path, dir, sizeof path);
		else
			snprintf(path, sizeof path, "%s/%s", dir,
			    state[i].name);
		if (lstat(path, &st) != 0)
			continue;
		mode = (unsigned)(st.st_mode & 07777);
		if (st.st_mode & (S_IWGRP | S_IWOTH))
			die(1,
			    "%s '%s' is writable by group or others "
			    "(mode %04o); make it %s",
			    state[i].what, path, mode,
			    state[i].name == NULL ? "0700" : "0600");
		if (st.st_mode & (S_IRWXG | S_IRWXO))
			log_warn("%s '%s' is accessible by group or others "
				 "(mode %04o); %s is advised",
			    state[i].what, path, mode,
			    state[i].name == NULL ? "0700" : "0600");
	}
}

/*
 * Every client holds a descriptor: raise the soft limit to what
 * max_clients needs (admit_fd_need), up to the hard limit; never lower
 * it. Not to the hard limit itself: lws sizes its tables by the limit. A
 * hard limit too low is said by the server, which then admits fewer.
 */
static void
raise_fd_limit(const struct options *o)
{
	struct rlimit rl;
	rlim_t	      need = (rlim_t)admit_fd_need((unsigned)o->max_clients);

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ?
	    rl.rlim_max :
	    need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise RLIMIT_NOFILE to %llu: %s",
		    (unsigned long long)rl.rlim_cur, strerror(errno));
}

/*
 * Fork; the parent waits for the child's "ready" byte and exits 0, or 1 if
 * the child failed (it has printed why). Returns the write end in the child.
 */
static int
daemonize(void)
{
	int   fds[2];
	char  c;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0)
		die(1, "cannot create a pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die(1, "cannot fork: %s", strerror(errno));
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() == -1)
		die(1, "cannot start a session: %s", strerror(errno));
	return fds[1];
}

static void
detach_stdio(int ready_fd)
{
	int fd;

	if (ready_fd < 0)
		return;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	(void)write(ready_fd, "1", 1);
	close(ready_fd);
	(void)chdir("/");
}

/*
 * Warn once if name, a what ("username", "role name", "key name"), breaks
 * the naming rule: "existing <thing> breaks the naming rule (why); it
 * keeps working<advice>".
 */
static void
warn_bad_name(const char *what, const char *name, const char *thing,
    const char *advice)
{
	char *why = NULL;

	if (hx_rbac_name_ok(what, name, &why) != 0)
		log_warn("existing %s breaks the naming rule (%s); it keeps "
			 "working%s",
		    thing, why, advice);
	free(why);
}

/*
 * Names made before DESIGN §5's one rule (hx_rbac_name_ok) keep working,
 * but an operator should rename them: "..", for one, can never be
 * addressed in a URL. One warning per name, at start-up only.
 */
static void
warn_bad_names(const struct hx_store_snapshot *snap)
{
	char  *thing;
	size_t i;

	for (i = 0; i < snap->users.n; i++)
		warn_bad_name("username", snap->users.v[i].username, "user",
		    ", but rename it");
	for (i = 0; i < snap->roles.n; i++)
		warn_bad_name("role name", snap->roles.v[i].name, "role",
		    ", but replace it");
	for (i = 0; i < snap->keys.n; i++) {
		if (snap->keys.v[i].name[0] == '\0')
			continue;
		thing = xasprintf("API key %s", snap->keys.v[i].keyid);
		warn_bad_name("key name", snap->keys.v[i].name, thing, "");
		free(thing);
	}
}

/*
 * Open the identity store once on this thread for the first snapshot (the
 * worker opens its own connection), and refuse to face a network while
 * nobody could log in: an open port with only local trust behind it is a
 * port nobody can use but everybody can probe.
 */
static struct access_cache *
open_identities(const struct options *o, const unsigned char *key, int wide)
{
	struct hx_store		 *st;
	struct hx_store_snapshot *snap;
	char			 *path, *err = NULL;
	int			  yes = 0;

	/* Everything is freed before die(): LeakSanitizer checks exits too. */
	path = xasprintf("%s/horcrux.db", o->data_dir);
	if (hx_store_open(path, &st, &err) != HX_STORE_OK) {
		fprintf(stderr, "horcruxd: cannot open '%s': %s\n", path, err);
		free(path);
		free(err);
		exit(1);
	}
	snap = NULL;
	if (hx_store_snapshot(st, &snap, &err) != HX_STORE_OK ||
	    hx_store_has_credentials(st, &yes, &err) != HX_STORE_OK) {
		fprintf(stderr, "horcruxd: cannot read '%s': %s\n", path, err);
		hx_store_close(st);
		hx_store_snapshot_free(snap);
		free(path);
		free(err);
		exit(1);
	}
	hx_store_close(st);
	free(path);
	warn_bad_names(snap);
	if (!yes && wide) {
		hx_store_snapshot_free(snap);
		die(1,
		    "refusing to listen on '%s:%d': no user has a password "
		    "or API key yet; create one over the Unix socket first, "
		    "e.g. curl --unix-socket %s -X POST http://localhost/api/"
		    "users -d '{\"username\":\"admin\",\"password\":\"...\","
		    "\"roles\":[\"Administrator\"]}'",
		    o->listen_host, o->listen_port, o->socket_path);
	}
	return access_cache_new(snap, key);
}

int
main(int argc, char **argv)
{
	struct hx_config     cfg;
	struct options	     opts;
	struct mailbox	    *mb;
	struct collector    *col;
	struct history	    *history = NULL;
	struct notify	    *notify;
	struct oidc	    *oidc = NULL;
	struct alerts	    *alerts;
	struct worker	    *worker, *lpool, *vworker = NULL;
	struct virt	    *virt = NULL;
	struct access_cache *cache;
	struct reload	    *reload;
	unsigned char	     key[ACCESS_JWT_KEY_LEN];
	char		    *db_path;
	struct sigaction     sa;
	char		    *err = NULL;
	int		     ready_fd = -1, r;

	hx_config_init(&cfg, options_table, options_count);
	if (hx_config_parse_args(&cfg, argc, argv, &err) != 0) {
		fprintf(stderr, "horcruxd: %s\nTry 'horcruxd --help'.\n", err);
		exit(2);
	}
	options_from_config(&cfg, &opts);
	if (opts.help) {
		hx_config_usage(options_table, options_count, "horcruxd",
		    "[options]", stdout);
		printf("\nEvery setting is also a key in %s.\n",
		    HORCRUXD_CONFIG_FILE);
		exit(0);
	}
	if (opts.version) {
		printf("horcruxd %s\n", HX_VERSION);
		exit(0);
	}
	if (opts.dump_options) {
		hx_config_dump(options_table, options_count, stdout);
		exit(0);
	}
	if (opts.dump_routes) {
		http_dump_routes(stdout, &opts);
		exit(0);
	}
	if (opts.dump_protocol) {
		/* The bytes GET /api/protocol answers, and a newline. */
		json_t *d = hx_proto_describe();

		json_dumpf(d, stdout, HX_JSON_FLAGS);
		putchar('\n');
		json_decref(d);
		exit(0);
	}
	r = hx_config_load_file(&cfg, opts.config_file, opts.config_given,
	    &err);
	if (r < 0)
		die(1, "%s", err);
	options_from_config(&cfg, &opts);
	if (options_check(&opts, &err) != 0)
		die(1, "%s", err);

	hx_log_open("horcruxd", (enum hx_log_level)opts.log_level,
	    opts.foreground ? stderr : NULL);
	hx_log_set_format((enum hx_log_format)opts.log_format);
	prepare_data_dir(opts.data_dir);
	check_state_modes(opts.data_dir);
	db_path = xasprintf("%s/horcrux.db", opts.data_dir);
	{
		char *kp = xasprintf("%s/jwt.key", opts.data_dir);

		if (hx_secret_load_or_create(kp, key, sizeof key, &err) != 0)
			die(1, "%s", err);
		free(kp);
	}
	raise_fd_limit(&opts);
	if (!opts.foreground)
		ready_fd = daemonize();
	/* The first /proc reading now, so a sample exists once ready. */
	col = collector_new(&opts);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	/*
	 * Before anything is allocated: refusing to start is an exit(). The
	 * wide-listener rule is decided on the addresses listen resolves to.
	 */
	memset(&server, 0, sizeof server);
	if (server_resolve_listen(&server, &opts, &err) != 0)
		die(1, "%s", err);
	cache = open_identities(&opts, key,
	    server_listens_beyond_loopback(&server));
	mb = mailbox_new();
	if (realms_init(&realms, &opts, &err) != 0)
		die(1, "%s", err);
	/*
	 * The OIDC realm: no network yet (libcurl, which notify_start sets up
	 * for the process, is first used by a sign-in, after start-up).
	 */
	if (oidc_new(&opts, opts.oidc_realm, &oidc, &err) != 0)
		die(1, "%s", err);
	if (oidc != NULL) {
		realms.oidc_name = xstrdup(oidc_realm(oidc));
		realms.oidc_display = xstrdup(oidc_display(oidc));
	}
	if ((worker = worker_start(db_path, key, &realms, NULL, mb, &err)) ==
	    NULL)
		die(1, "%s", err);
	explicit_bzero(key, sizeof key);
	/* Password checks on their own pool; their writes on the worker. */
	if ((lpool = worker_start_pool(db_path, opts.login_threads,
		 opts.login_queue, &realms, worker, mb, &err)) == NULL)
		die(1, "%s", err);
	worker_every(worker, AUDIT_PURGE_MS, job_audit_purge,
	    &opts.audit_retention_days);
	server_set_identity(&server, cache, worker);
	server.login_pool = lpool;
	server.realms = &realms;
	server.oidc = oidc;
	if (server_init(&server, &opts, mb, &err) != 0)
		die(1, "%s", err);
	/*
	 * libvirt after the listeners, so a start-up failure is one line;
	 * connections that fail now are retried in the background.
	 */
	if ((notify = notify_start(db_path, &opts, mb, &err)) == NULL)
		die(1, "%s", err);
	server.notify = notify;
	if ((alerts = alerts_start(&opts, db_path, mb, notify, &err)) == NULL)
		die(1, "%s", err);
	if (opts.nlibvirt_uris > 0) {
		if ((virt = virt_start(&opts, mb, &err)) == NULL ||
		    (vworker = worker_start(NULL, NULL, NULL, virt, mb,
			 &err)) == NULL)
			die(1, "%s", err);
	}
	virt_set_alerts(virt, alerts);
	server_set_virt(&server, virt, vworker);
	if (opts.history) {
		if ((history = history_start(&opts, mb, &err)) == NULL)
			die(1, "%s", err);
		server.history = history;
		collector_set_history(col, history);
	}
	/* Alerts do not depend on the history: history = off keeps them. */
	server.alerts = alerts;
	collector_set_alerts(col, alerts);
	/* A SIGHUP before the loop runs waits for it in reload_requested. */
	reload = reload_new(argc, argv, &cfg, &opts, &server, col);
	server.reload = reload;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (collector_start(col, mb, virt, &err) != 0)
		die(1, "%s", err);

	log_info("horcruxd %s ready (pid %ld)", HX_VERSION, (long)getpid());
	detach_stdio(ready_fd);
	server_run(&server);

	collector_stop(col);
	/* After the collector: nothing posts to it any more; it flushes. */
	history_stop(history);
	server.history = NULL;
	worker_stop(vworker);
	virt_stop(virt);
	/* After libvirt's thread and the collector: nothing posts to it. */
	alerts_stop(alerts);
	server.alerts = NULL;
	/*
	 * After the alert thread, which hands it notifications; before the
	 * mailbox goes: it answers waiting test jobs there.
	 */
	notify_stop(notify);
	server.notify = NULL;
	/* The pool hands jobs on to the worker: stop it first. */
	worker_stop(lpool);
	worker_stop(worker);
	/* After the pool, whose sign-in jobs use it. */
	server.oidc = NULL;
	oidc_free(oidc);
	server_release(&server);
	realms_release(&realms);
	access_cache_free(cache);
	mailbox_free(mb, job_free);
	/* After the server: its options borrowed from both configurations. */
	reload_free(reload);
	hx_config_release(&cfg);
	free(db_path);
	log_info("stopped");
	return 0;
}
