/*
 * fuzz-msgpack.c - libFuzzer target for the MessagePack decoder
 * (lib/hx-msgpack.c) that horcruxd runs on a horcrux.msgpack session's
 * binary messages and the clients on every binary frame: arbitrary bytes
 * as one message. Contract checks: a refusal carries a message and no
 * value; a value re-encodes, and those bytes decode to an equal value;
 * the JSON text made of it parses back to that value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-msgpack.h"
#include "hx-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *bin;
	json_t	      *v, *again, *parsed;
	char	      *err = NULL, *text;
	size_t	       blen, tlen;

	v = hx_msgpack_decode(data, size, &err);
	if (v == NULL) {
		if (err == NULL)
			abort();
		free(err);
		return 0;
	}
	if (err != NULL)
		abort();
	if ((bin = hx_msgpack_encode(v, 16, &blen, &err)) == NULL)
		abort(); /* the decoder's depth cap is the encoder's */
	if ((again = hx_msgpack_decode(bin + 16, blen, &err)) == NULL ||
	    !json_equal(again, v))
		abort();
	if ((text = hx_msgpack_to_text(data, size, &tlen, &err)) == NULL)
		abort();
	/* Reals are written with 10 digits: compare the shapes only. */
	parsed = json_loadb(text, tlen, JSON_DECODE_ANY, NULL);
	if (parsed == NULL || json_typeof(parsed) != json_typeof(v))
		abort();
	json_decref(parsed);
	free(text);
	json_decref(again);
	free(bin);
	json_decref(v);
	return 0;
}
