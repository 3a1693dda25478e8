/*
 * batch.h - horcrux-top without curses (-b): one plain-text snapshot or one
 * JSON object (--json) per update on stdout, for scripts and logs.
 */
#ifndef TOP_BATCH_H
#define TOP_BATCH_H

#include <stdio.h>

#include "model.h"

/*
 * Print the model as text (like top -b), a blank line after it. server
 * is NULL for a lone host; with several, each host's block opens with a
 * line naming its server and whether it is connected (its figures are
 * the last it sent while away).
 */
void batch_print_text(const struct top_model *m, const char *server,
    int connected, FILE *f);

/* Print the model as one JSON object on one line:
 * {"timestamp", "node": NodeMetrics data, "vms": [...]}, with "server"
 * and "connected" first when server is not NULL (one object per host). */
void batch_print_json(const struct top_model *m, const char *server,
    int connected, FILE *f);

#endif
