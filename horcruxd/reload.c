/*
 * reload.c - SIGHUP's work (see reload.h): load a whole new settings set
 * the way start-up does (options_load: the same file, the same flags,
 * which keep winning), and only if all of it is valid, apply the keys
 * that can change live and name the ones that cannot.
 *
 * Which keys change live is the table below, each with what applying it
 * takes. The TLS certificate and key are read again on every SIGHUP, their
 * paths changed or not (a renewed certificate usually keeps its path), by
 * server_tls_reload before anything else is applied: refused material
 * (unreadable, expired, not matching, TLS turned on or off) refuses the
 * whole reload, and the old certificate stays in service. Every other key of the file (listen, socket, data_dir, the
 * limits lws sized its tables by, the history's and libvirt's settings,
 * which threads copied at start) keeps its running value and is logged as
 * needing a restart when the file says otherwise.
 *
 * Memory: the live struct options borrows strings from a configuration.
 * Restart keys stay borrowed from the start-up one (never freed before
 * exit); live keys are copied, all of them, from each applied reload's,
 * so the configuration before it is no longer borrowed from and is freed.
 * It does not watch the file: only a signal reloads.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "history.h"
#include "hx-log.h"
#include "hx-util.h"
#include "reload.h"
#include "server.h"
#include "virt.h"

struct reload {
	int			argc;
	char		      **argv;
	char		       *path; /* the config file, absolute */
	int			required; /* -c given: it must exist */
	const struct hx_config *start;
	struct hx_config	cur; /* applied last, when have_cur */
	int			have_cur;
	struct options	       *live;
	struct server	       *srv;
	struct collector       *col;
};

static void
apply_log(struct reload *r)
{
	hx_log_set_level((enum hx_log_level)r->live->log_level);
	hx_log_set_format((enum hx_log_format)r->live->log_format);
	server_sync_lws_log();
}

/* The Host names: ours (found again) and allowed_hosts. */
static void
apply_hosts(struct reload *r)
{
	http_hosts_release(r->srv);
	http_hosts_init(r->srv);
}

static void
apply_intervals(struct reload *r)
{
	collector_set_intervals(r->col, r->live->node_interval,
	    r->live->vm_interval);
	history_set_intervals(r->srv->history, r->live->node_interval,
	    r->live->vm_interval);
	virt_set_interval(r->srv->virt, r->live->vm_interval);
}

/* Read per request from srv->opts: copying it is applying it. */
static void
apply_nothing(struct reload *r)
{
	(void)r;
}

static const struct live_key {
	const char *name;
	void (*apply)(struct reload *r);
} live_keys[] = {
	{ "log_level", apply_log },
	{ "log_format", apply_log },
	{ "allowed_hosts", apply_hosts },
	{ "allowed_origins", apply_nothing },
	{ "node_interval", apply_intervals },
	{ "vm_interval", apply_intervals },
	{ "metrics_public", apply_nothing },
	/* Installed by server_tls_reload before any of these. */
	{ "tls_cert", apply_nothing },
	{ "tls_key", apply_nothing },
};

static const struct live_key *
live_key(const char *name)
{
	size_t i;

	for (i = 0; i < HX_ARRAY_SIZE(live_keys); i++)
		if (strcmp(live_keys[i].name, name) == 0)
			return &live_keys[i];
	return NULL;
}

/* Copy every live key's value from n into the running settings. */
static void
copy_live(struct options *live, const struct options *n)
{
	live->log_level = n->log_level;
	live->log_format = n->log_format;
	live->allowed_hosts = n->allowed_hosts;
	live->nallowed_hosts = n->nallowed_hosts;
	live->allowed_origins = n->allowed_origins;
	live->nallowed_origins = n->nallowed_origins;
	live->node_interval = n->node_interval;
	live->vm_interval = n->vm_interval;
	live->metrics_public = n->metrics_public;
	live->tls_cert = n->tls_cert;
	live->tls_key = n->tls_key;
}

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Do a and b, values of option o, mean the same setting? */
static int
same_value(const struct hx_opt *o, const struct hx_opt_value *a,
    const struct hx_opt_value *b)
{
	size_t i;

	switch (o->type) {
	case HX_OPT_INT:
	case HX_OPT_BOOL:
	case HX_OPT_CHOICE:
		return a->i == b->i;
	case HX_OPT_SECONDS:
		return a->d == b->d;
	case HX_OPT_LIST:
		if (a->nlist != b->nlist)
			return 0;
		for (i = 0; i < a->nlist; i++)
			if (strcmp(a->list[i], b->list[i]) != 0)
				return 0;
		return 1;
	case HX_OPT_STRING:
		break;
	}
	return same_str(a->str, b->str);
}

struct reload *
reload_new(int argc, char **argv, const struct hx_config *start,
    struct options *live, struct server *srv, struct collector *col)
{
	struct reload *r = xcalloc(1, sizeof *r);
	char	       cwd[PATH_MAX];

	r->argc = argc;
	r->argv = argv;
	r->start = start;
	r->live = live;
	r->srv = srv;
	r->col = col;
	r->required = live->config_given;
	if (live->config_file[0] != '/' && getcwd(cwd, sizeof cwd) != NULL)
		r->path = xasprintf("%s/%s", cwd, live->config_file);
	else
		r->path = xstrdup(live->config_file);
	return r;
}

void
reload_run(struct reload *r)
{
	const struct hx_config *ref;
	const struct hx_opt    *o;
	const struct live_key  *lk;
	struct hx_config	cfg;
	struct options		n;
	struct hx_buf		changed;
	int			apply[HX_ARRAY_SIZE(live_keys)] = { 0 };
	char		       *err = NULL;
	size_t			i, k;
	int			nchanged = 0;

	log_info("SIGHUP: reading '%s' again", r->path);
	if (options_load(&cfg, r->argc, r->argv, r->path, r->required, &n,
		&err) != 0) {
		log_error("configuration not reloaded, the running settings "
			  "stay: %s",
		    err);
		free(err);
		return;
	}
	/* All or nothing: the certificate is the one part that may fail. */
	if (server_tls_reload(r->srv, &n, &err) != 0) {
		log_error("configuration not reloaded, the running settings "
			  "stay: %s",
		    err);
		free(err);
		hx_config_release(&cfg);
		return;
	}
	ref = r->have_cur ? &r->cur : r->start;
	hx_buf_init(&changed, 4096);
	for (i = 0; i < options_count; i++) {
		o = &options_table[i];
		if (o->flags & HX_OPT_CLI_ONLY)
			continue;
		if ((lk = live_key(o->name)) == NULL) {
			/* Running values are still the start-up ones. */
			if (!same_value(o, &r->start->values[i],
				&cfg.values[i]))
				log_warn("configuration reload: %s changed "
					 "but needs a restart; the running "
					 "value stays",
				    o->name);
			continue;
		}
		if (!same_value(o, &ref->values[i], &cfg.values[i])) {
			hx_buf_addf(&changed, "%s%s", nchanged > 0 ? ", " : "",
			    o->name);
			nchanged++;
			apply[lk - live_keys] = 1;
		}
	}
	if (nchanged == 0) {
		/* Nothing to copy: the running settings borrow as before. */
		hx_config_release(&cfg);
		log_info("configuration reloaded: no change");
		hx_buf_release(&changed);
		return;
	}
	copy_live(r->live, &n);
	if (r->have_cur)
		hx_config_release(&r->cur);
	r->cur = cfg;
	r->have_cur = 1;
	/* Each action once, however many of its keys changed. */
	for (i = 0; i < HX_ARRAY_SIZE(live_keys); i++) {
		if (!apply[i])
			continue;
		for (k = i + 1; k < HX_ARRAY_SIZE(live_keys); k++)
			if (live_keys[k].apply == live_keys[i].apply)
				apply[k] = 0;
		live_keys[i].apply(r);
	}
	log_info("configuration reloaded: changed %s", changed.data);
	hx_buf_release(&changed);
}

void
reload_free(struct reload *r)
{
	if (r == NULL)
		return;
	if (r->have_cur)
		hx_config_release(&r->cur);
	free(r->path);
	free(r);
}
