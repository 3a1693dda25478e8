/*
 * fuzz-ws.c - libFuzzer target for the WebSocket message handler's parse
 * step (horcruxd/ws-parse.c) and the topic lookups the session makes on
 * its result (lib/hx-proto.c): arbitrary bytes as one client message.
 * Contract checks: a BAD verdict carries a reason and no list; a
 * subscription carries a list of strings only; every name the topic
 * table finds is that topic's own name; batch and resume come only with
 * a topics message, and a resume's boot_id is a non-empty string within
 * WS_BOOT_ID_MAX and its after never negative.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-util.h"
#include "hx-proto.h"
#include "ws-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ws_msg_kind	 kind;
	struct ws_sub_opts	 opts;
	json_t			*list, *v;
	char			*why;
	const char		*name;
	size_t			 i;
	int			 t;

	kind = ws_parse_message((const char *)data, size, &list, &opts, &why);
	if (kind != WS_MSG_TOPICS && (opts.batch || opts.resume))
		abort();
	if (opts.resume &&
	    (opts.after < 0 || opts.boot_id[0] == '\0' ||
		strlen(opts.boot_id) > WS_BOOT_ID_MAX))
		abort();
	if (kind == WS_MSG_BAD) {
		if (why == NULL || list != NULL)
			abort();
	} else {
		if (why != NULL || !json_is_array(list))
			abort();
		json_array_foreach(list, i, v) {
			if ((name = json_string_value(v)) == NULL)
				abort();
			if ((t = hx_topic_find(name)) >= 0 &&
			    (t >= HX_TOPIC_COUNT || strcmp(hx_topics[t].name, name)))
				abort();
		}
	}
	json_decref(list);
	free(why);
	return 0;
}
