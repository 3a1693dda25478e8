/*
 * ws-parse.h - what a WebSocket client may say, parsed without a live
 * connection: {"topics":[...]} replaces the subscription, optionally with
 * "batch": true (VmMetricsBatch instead of VmMetrics) and "resume":
 * {"boot_id":B,"after":N} (replay what was missed, DESIGN §3);
 * {"unsubscribe":[...]} drops topics; anything else is a BAD_MESSAGE.
 * ws-session.c acts on the result; tests/fuzz/fuzz-ws.c drives it with
 * arbitrary bytes. Topic names are looked up in the topic table later,
 * so unknown names are not an error here.
 */
#ifndef HORCRUXD_WS_PARSE_H
#define HORCRUXD_WS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define WS_BOOT_ID_MAX 64 /* characters of a resume's boot_id */

enum ws_msg_kind {
	WS_MSG_BAD, /* *why says why */
	WS_MSG_TOPICS, /* replace the subscription with *list */
	WS_MSG_UNSUBSCRIBE /* drop the topics in *list */
};

/* What a topics message asks besides its topics. */
struct ws_sub_opts {
	int	batch; /* "batch": true */
	int	resume; /* "resume" was given: boot_id and after are set */
	char	boot_id[WS_BOOT_ID_MAX + 1];
	int64_t after; /* >= 0 */
};

/*
 * Parse one text message of len bytes. For TOPICS and UNSUBSCRIBE, *list
 * is a new reference to an array whose every element is a string, and
 * for TOPICS *opts says what else was asked (zeroed otherwise); for BAD,
 * *list is NULL and *why a message for the Error frame. The caller drops
 * *list and frees *why.
 */
enum ws_msg_kind ws_parse_message(const char *text, size_t len, json_t **list,
    struct ws_sub_opts *opts, char **why);

#endif
