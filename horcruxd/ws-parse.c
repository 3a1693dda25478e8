/*
 * ws-parse.c - a client's WebSocket message into a request (see
 * ws-parse.h). Pure: JSON in, a verdict out, no session touched.
 */
#include "hx-util.h"
#include "ws-parse.h"

static int
all_strings(json_t *list)
{
	json_t *v;
	size_t	i;

	if (!json_is_array(list))
		return 0;
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return 0;
	}
	return 1;
}

enum ws_msg_kind
ws_parse_message(const char *text, size_t len, json_t **list, char **why)
{
	json_error_t	 jerr;
	json_t		*msg, *topics_v, *unsub;
	enum ws_msg_kind kind = WS_MSG_BAD;

	*list = NULL;
	*why = NULL;
	msg = json_loadb(text != NULL ? text : "", len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (msg == NULL) {
		*why = xasprintf("malformed JSON: %s", jerr.text);
		return WS_MSG_BAD;
	}
	if (!json_is_object(msg)) {
		*why = xstrdup("a message must be a JSON object");
		json_decref(msg);
		return WS_MSG_BAD;
	}
	topics_v = json_object_get(msg, "topics");
	unsub = json_object_get(msg, "unsubscribe");
	if (topics_v != NULL && unsub == NULL && json_object_size(msg) == 1 &&
	    all_strings(topics_v)) {
		kind = WS_MSG_TOPICS;
		*list = json_incref(topics_v);
	} else if (unsub != NULL && topics_v == NULL &&
	    json_object_size(msg) == 1 && all_strings(unsub)) {
		kind = WS_MSG_UNSUBSCRIBE;
		*list = json_incref(unsub);
	} else
		*why = xstrdup("expected {\"topics\":[...]} or "
			       "{\"unsubscribe\":[...]}");
	json_decref(msg);
	return kind;
}
