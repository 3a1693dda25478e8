/*
 * keys.h - horcrux-top's key bindings: one table (keys, the name the help
 * screen and the man page show, what it does, the views it works in, the
 * handler). The key handler dispatches through it, the help screen is
 * drawn from it and --dump-keys prints it for the docs test, so the three
 * cannot drift.
 */
#ifndef TOP_KEYS_H
#define TOP_KEYS_H

#include <stddef.h>
#include <stdio.h>

#include "screen.h"

/* Views a binding works in (bits of enum top_view). */
#define KV_TABLE (1 << VIEW_TABLE)
#define KV_HELP (1 << VIEW_HELP)
#define KV_DETAIL (1 << VIEW_DETAIL)
#define KV_GRAPH (1 << VIEW_GRAPH)
#define KV_ALERTS (1 << VIEW_ALERTS)
#define KV_OTHER (KV_HELP | KV_DETAIL | KV_GRAPH | KV_ALERTS)
#define KV_ALL (KV_TABLE | KV_OTHER)

#define TOP_KEY_CODES 10

/* Groups of the key bar, in its order: view keys, VM actions, quit. */
enum top_key_group {
	KG_NONE,
	KG_VIEW,
	KG_VM,
	KG_QUIT
};

struct top_key {
	const char *name; /* as the help and man page show it */
	const char *help; /* one line for the help screen */
	int	    views; /* KV_* */
	/* The key bar: label ("h Help"; NULL: not on it), group, and rank
	 * (0 always shown; higher ranks go first when the width is short). */
	const char *bar;
	int	    group; /* enum top_key_group */
	int	    rank;
	/* getch() values, 0-terminated */
	int codes[TOP_KEY_CODES];
	/* Returns KEY_R_* flags for the one loop in horcrux-top.c. */
	int (*fn)(struct top_ui *ui, int key);
};

extern const struct top_key top_keys[];
extern const size_t	    top_nkeys;

/*
 * Handle one key from getch(): a confirmation or the filter being typed
 * takes it first, else the first binding of the current view with this
 * code. Returns KEY_R_* flags (0: a key the table view does not know).
 */
int keys_handle(struct top_ui *ui, int key);

/*
 * The key bar of the current view for cols columns into out: the
 * bindings' labels by group ("VM:" before the actions), dropping the
 * highest ranks until it fits; rank 0 (help, quit) always stays.
 */
void keys_bar(const struct top_ui *ui, int cols, char *out, size_t outlen);

/* The table for the docs test: "name<TAB>views<TAB>help" per binding. */
void keys_dump(FILE *f);

#endif
