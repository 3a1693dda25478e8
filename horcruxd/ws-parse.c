/*
 * ws-parse.c - a client's WebSocket message into a request (see
 * ws-parse.h). Pure: JSON in, a verdict out, no session touched.
 */
#include <string.h>

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

/* "resume": {"boot_id": B, "after": N}; 0, or -1 with *why. */
static int
parse_resume(json_t *r, struct ws_sub_opts *opts, char **why)
{
	json_t	   *b, *a;
	const char *boot;

	if (!json_is_object(r)) {
		*why = xstrdup("\"resume\" must be an object "
			       "{\"boot_id\":\"...\",\"after\":N}");
		return -1;
	}
	b = json_object_get(r, "boot_id");
	a = json_object_get(r, "after");
	if (b == NULL || a == NULL || json_object_size(r) != 2) {
		*why = xstrdup("\"resume\" takes exactly \"boot_id\" and "
			       "\"after\"");
		return -1;
	}
	boot = json_string_value(b);
	if (boot == NULL || boot[0] == '\0' ||
	    json_string_length(b) > WS_BOOT_ID_MAX ||
	    strlen(boot) != json_string_length(b)) {
		*why = xasprintf("\"resume\": \"boot_id\" must be a string of "
				 "1 to %d characters",
		    WS_BOOT_ID_MAX);
		return -1;
	}
	if (!json_is_integer(a) || json_integer_value(a) < 0) {
		*why = xstrdup("\"resume\": \"after\" must be an integer "
			       "seq, 0 or more");
		return -1;
	}
	opts->resume = 1;
	hx_strlcpy(opts->boot_id, boot, sizeof opts->boot_id);
	opts->after = (int64_t)json_integer_value(a);
	return 0;
}

/* {"topics":[...], "batch":..., "resume":...}; 0, or -1 with *why. */
static int
parse_topics(json_t *msg, struct ws_sub_opts *opts, char **why)
{
	const char *k;
	json_t	   *v;

	json_object_foreach(msg, k, v) {
		if (strcmp(k, "topics") == 0) {
			if (!all_strings(v)) {
				*why = xstrdup("\"topics\" must be an array "
					       "of strings");
				return -1;
			}
		} else if (strcmp(k, "batch") == 0) {
			if (!json_is_boolean(v)) {
				*why = xstrdup("\"batch\" must be true or "
					       "false");
				return -1;
			}
			opts->batch = json_is_true(v);
		} else if (strcmp(k, "resume") == 0) {
			if (parse_resume(v, opts, why) != 0)
				return -1;
		} else {
			*why = xstrdup("a topics message takes only "
				       "\"topics\", \"batch\" and \"resume\"");
			return -1;
		}
	}
	return 0;
}

enum ws_msg_kind
ws_parse_message(const char *text, size_t len, json_t **list,
    struct ws_sub_opts *opts, char **why)
{
	json_error_t	 jerr;
	json_t		*msg, *topics_v, *unsub;
	enum ws_msg_kind kind = WS_MSG_BAD;

	*list = NULL;
	*why = NULL;
	memset(opts, 0, sizeof *opts);
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
	if (topics_v != NULL && unsub == NULL) {
		if (parse_topics(msg, opts, why) == 0) {
			kind = WS_MSG_TOPICS;
			*list = json_incref(topics_v);
		} else
			memset(opts, 0, sizeof *opts);
	} else if (unsub != NULL && topics_v == NULL &&
	    json_object_size(msg) == 1 && all_strings(unsub)) {
		kind = WS_MSG_UNSUBSCRIBE;
		*list = json_incref(unsub);
	} else
		*why = xstrdup("expected {\"topics\":[...]} (with optional "
			       "\"batch\" and \"resume\") or "
			       "{\"unsubscribe\":[...]}");
	json_decref(msg);
	return kind;
}
