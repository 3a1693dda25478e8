/*
 * reload.h - SIGHUP: read the configuration again and apply what can
 * change while sessions stay open (DESIGN §12).
 *
 * The signal handler only asks (server_request_reload); reload_run does
 * the work on the service thread, between two loop turns, so nothing it
 * changes is read half-way by that thread, and other threads get new
 * values only through their own setters (the collector's intervals, the
 * log level and format atomics).
 */
#ifndef HORCRUXD_RELOAD_H
#define HORCRUXD_RELOAD_H

#include "hx-config.h"
#include "options.h"

struct server;
struct collector;

struct reload;

/*
 * Prepare reloads of the daemon started with argv (kept: it must live as
 * long as the daemon) and start (the configuration it runs with, which
 * must outlive the reload), whose typed view is live (the very struct
 * srv->opts points to; a reload writes the keys it applies into it).
 * The config file is remembered as an absolute path, so a daemon that
 * changed directory reads the same file. Never returns NULL.
 */
struct reload *reload_new(int argc, char **argv, const struct hx_config *start,
    struct options *live, struct server *srv, struct collector *col);
/*
 * Read the file and the flags again and apply, or log why not:
 * "configuration reloaded: changed KEY, KEY" (or "no change"), a
 * warning per key that needs a restart, and on a bad file an error with
 * the reason while every old setting stays. Service thread only.
 */
void reload_run(struct reload *r);
/* Free r and the configuration it applied last. NULL is a no-op. */
void reload_free(struct reload *r);

#endif
