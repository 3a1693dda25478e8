/*
 * hx-msgpack.h - JSON values to MessagePack bytes and back, for the
 * `horcrux.msgpack` WebSocket subprotocol (DESIGN §3 "Binary").
 *
 * The mapping is the JSON one, value for value: objects are maps with
 * string keys, arrays are arrays, strings are strings, JSON integers are
 * MessagePack integers (the smallest form), JSON reals are float64, and
 * true, false and null are themselves. Nothing else is accepted on the
 * way in: no binary or extension types, no non-string keys, no NaN or
 * infinity, no NUL in strings (JSON text cannot carry them either), no
 * duplicate keys, no bytes after the value. The decoder never trusts a
 * declared length: every count is checked against the bytes left before
 * anything is built, and nesting is capped, so hostile input costs at most
 * its own size.
 */
#ifndef HX_MSGPACK_H
#define HX_MSGPACK_H

#include <stddef.h>

#include <jansson.h>

/* Containers nested deeper than this are refused both ways. */
#define HX_MSGPACK_DEPTH_MAX 32
/* Inputs longer than this are refused by the decoder. */
#define HX_MSGPACK_SIZE_MAX (16u << 20)

/*
 * Encode v as MessagePack after `headroom` uninitialised bytes (room for
 * a WebSocket header, as LWS_PRE). Returns the buffer (caller frees) and
 * *len, the encoded length without the headroom; NULL with *err (caller
 * frees) when v nests deeper than HX_MSGPACK_DEPTH_MAX.
 */
unsigned char *hx_msgpack_encode(const json_t *v, size_t headroom, size_t *len,
    char **err);

/*
 * Decode exactly one MessagePack value filling buf[0..len). Returns a new
 * reference (caller decrefs), or NULL with *err (caller frees), a message
 * that names the byte offset: "MessagePack map key at byte 1 is not a
 * string".
 */
json_t *hx_msgpack_decode(const void *buf, size_t len, char **err);

/*
 * JSON text (one value, as jansson parses it) to MessagePack, with
 * headroom as hx_msgpack_encode. NULL with *err when the text does not
 * parse.
 */
unsigned char *hx_msgpack_from_text(const char *text, size_t tlen,
    size_t headroom, size_t *len, char **err);

/*
 * MessagePack to compact JSON text as horcruxd writes its frames (reals
 * with 10 significant digits, HX_JSON_FLAGS), so a frame made from the
 * daemon's text comes back byte for byte (NUL-terminated, caller frees)
 * with *tlen; NULL with *err as hx_msgpack_decode.
 */
char *hx_msgpack_to_text(const void *buf, size_t len, size_t *tlen, char **err);

#endif
