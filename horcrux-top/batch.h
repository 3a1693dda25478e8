/*
 * batch.h - horcrux-top without curses (-b): one plain-text snapshot or one
 * JSON object (--json) per update on stdout, for scripts and logs.
 */
#ifndef TOP_BATCH_H
#define TOP_BATCH_H

#include <stdio.h>

#include "model.h"

/* Print the model as text (like top -b), a blank line after it. */
void batch_print_text(const struct top_model *m, FILE *f);

/* Print the model as one JSON object on one line:
 * {"timestamp", "node": NodeMetrics data, "vms": [...]}. */
void batch_print_json(const struct top_model *m, FILE *f);

#endif
