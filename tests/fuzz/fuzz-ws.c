/*
 * fuzz-ws.c - libFuzzer target for the WebSocket message handler's parse
 * step (horcruxd/ws-parse.c) and the topic lookups the session makes on
 * its result (lib/hx-proto.c): arbitrary bytes as one client message.
 * Contract checks: a BAD verdict carries a reason and no list; a
 * subscription carries a list of strings only; every name the topic
 * table finds is that topic's own name.
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
	json_t			*list, *v;
	char			*why;
	const char		*name;
	size_t			 i;
	int			 t;

	kind = ws_parse_message((const char *)data, size, &list, &why);
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
