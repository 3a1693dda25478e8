/*
 * ws-parse.h - what a WebSocket client may say, parsed without a live
 * connection: {"topics":[...]} replaces the subscription,
 * {"unsubscribe":[...]} drops topics, anything else is a BAD_MESSAGE.
 * ws-session.c acts on the result; tests/fuzz/fuzz-ws.c drives it with
 * arbitrary bytes. Topic names are looked up in the topic table later,
 * so unknown names are not an error here.
 */
#ifndef HORCRUXD_WS_PARSE_H
#define HORCRUXD_WS_PARSE_H

#include <stddef.h>

#include <jansson.h>

enum ws_msg_kind {
	WS_MSG_BAD, /* *why says why */
	WS_MSG_TOPICS, /* replace the subscription with *list */
	WS_MSG_UNSUBSCRIBE /* drop the topics in *list */
};

/*
 * Parse one text message of len bytes. For TOPICS and UNSUBSCRIBE, *list
 * is a new reference to an array whose every element is a string; for
 * BAD, *list is NULL and *why a message for the Error frame. The caller
 * drops *list and frees *why.
 */
enum ws_msg_kind ws_parse_message(const char *text, size_t len, json_t **list,
    char **why);

#endif
