/*
 * hx-alert.h - alert rules and the per-target state machine of DESIGN §9,
 * pure: no threads, no database, no clock of its own.
 *
 * A rule is either on a series glob (`vm:*:cpu_usage` op threshold) or on
 * a VM status (`status_of:"vm:*"`, `equals:"crashed"`). hx_alert_rule_parse
 * validates a rule's JSON and names the offending field; a series glob is
 * checked against lib/hx-proto's field tables, never against the VMs or
 * mounts there happen to be now (see hx_alert_series_known).
 *
 * Which rule applies. Several rules may match one series (or one VM for
 * status rules). Among the enabled ones of the same severity, only the
 * narrowest apply: the fewest wildcard characters ('*' and '?') in the
 * pattern, and at equal wildcards the most other characters. So
 * `vm:web-1:cpu_usage` (0 wildcards) overrides `vm:web-*:cpu_usage`,
 * which overrides `vm:*:cpu_usage` (1 wildcard each, 15 and 11 literal
 * characters), for the VMs each covers; a literal name beats any glob;
 * rules equally narrow all apply. Rules of another severity are not
 * overridden (a warning rule and a critical rule on one glob both apply).
 *
 * The state machine (hx_alert_step): idle -> pending while the condition
 * holds -> firing once it has held for_seconds (at once for 0) -> idle
 * (resolved) once the value is past clear_threshold: for > and >= once it
 * is below clear_threshold, for < and <= once it is above; without a
 * clear_threshold, once the condition no longer holds. An unknown value
 * (NaN) changes nothing. While a rule is silenced (silence_until in the
 * future) a pending target does not fire; one already firing still
 * resolves, so no client is left with an alert that never ends.
 *
 * What it does not do: keep targets, build events or alert ids (the
 * daemon's alert thread does), or know which notification targets exist
 * (a name in `notify` is checked for its syntax only).
 */
#ifndef HX_ALERT_H
#define HX_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum hx_alert_op {
	HX_ALERT_GT,
	HX_ALERT_GE,
	HX_ALERT_LT,
	HX_ALERT_LE
};

struct hx_alert_rule {
	char   *name;
	char   *series; /* glob; NULL for a status rule */
	char   *status_of; /* "vm:GLOB"; NULL for a series rule */
	char   *equals; /* the status word */
	int	op; /* enum hx_alert_op */
	double	threshold;
	double	clear; /* NaN: not given (threshold) */
	int64_t for_seconds;
	char   *severity; /* info, warning, critical */
	int	enabled;
	char  **notify; /* target names */
	size_t	nnotify;
	int64_t silence_until_ms; /* 0: not silenced */
};

/* Longest rule and notification target name. */
#define HX_ALERT_NAME_MAX 64

/*
 * Fill r from the JSON object o. When name is not NULL it is the rule's
 * name (a PUT's :name) and o's "name", if present, must equal it. Returns
 * 0, or -1 with *field (static: the JSON key at fault) and *err (caller
 * frees) set and r empty. Release r with hx_alert_rule_release.
 */
int hx_alert_rule_parse(json_t *o, const char *name, struct hx_alert_rule *r,
    const char **field, char **err);
/* The rule as the API writes it; the caller owns the result. */
json_t *hx_alert_rule_json(const struct hx_alert_rule *r);
/* Free what r holds and empty it; safe on an empty rule. */
void hx_alert_rule_release(struct hx_alert_rule *r);
/* The name syntax of rules and notification targets: [A-Za-z0-9_.-]{1,64}. */
int hx_alert_name_ok(const char *s);

/* Shell-style match: '*' any run of characters (':' too), '?' one. */
int hx_alert_glob(const char *pat, const char *s);
/* How many '*' and '?' pat holds: the lower, the narrower. */
int hx_alert_wildcards(const char *pat);
/*
 * Whether a series glob could match a series the protocol defines:
 * node:FIELD, node:cpu_per_core:N, node:load_average:1|5|15,
 * node:disk:MOUNT:FIELD, vm:NAME:FIELD, with FIELD a series field of
 * NodeMetrics, the disks or VmMetrics (globs allowed in every part).
 */
int hx_alert_series_known(const char *glob);
/* The status words a status rule may test (DESIGN §3). */
int hx_alert_status_known(const char *word);

/*
 * Whether rule i of rules[0..n) applies to subject (a series name, or
 * "vm:NAME" for status rules): enabled, of the same kind, matching, and
 * no enabled rule of its kind and severity matching subject is narrower.
 */
int hx_alert_applies(const struct hx_alert_rule *rules, size_t n, size_t i,
    const char *subject);

/* Does v meet r's condition? NaN never does. */
int hx_alert_holds(const struct hx_alert_rule *r, double v);
/* Is v past r's clear threshold (see above)? NaN never is. */
int hx_alert_cleared(const struct hx_alert_rule *r, double v);

enum hx_alert_phase {
	HX_ALERT_IDLE,
	HX_ALERT_PENDING,
	HX_ALERT_FIRING
};
enum hx_alert_change {
	HX_ALERT_NONE,
	HX_ALERT_FIRED,
	HX_ALERT_RESOLVED
};

/* One target's state under one rule. */
struct hx_alert_track {
	enum hx_alert_phase phase;
	int64_t		    pending_ms; /* when the condition began */
	double		    peak; /* worst value while firing */
	double		    value; /* the last value seen */
};

/*
 * Feed one observation taken at now_ms: holds (the condition is met),
 * cleared (past the clear threshold), v (the value, NaN for a status).
 * Returns the change it makes; t is updated.
 */
enum hx_alert_change hx_alert_step(const struct hx_alert_rule *r,
    struct hx_alert_track *t, int holds, int cleared, double v, int64_t now_ms);
/* hx_alert_step for a numeric rule and value v (NaN: no change). */
enum hx_alert_change hx_alert_feed(const struct hx_alert_rule *r,
    struct hx_alert_track *t, double v, int64_t now_ms);

/* Called by hx_alert_walk for every series of a sample. */
typedef void (*hx_alert_series_fn)(const char *name, double v, void *arg);
/*
 * Every series of a NodeMetrics (is_node) or VmMetrics struct at base, as
 * history names them (DESIGN §8) under prefix ("node", "vm:NAME").
 */
void hx_alert_walk(int is_node, const char *prefix, const void *base,
    hx_alert_series_fn fn, void *arg);

/* ">", ">=", "<", "<=". */
const char *hx_alert_op_name(int op);

#endif
