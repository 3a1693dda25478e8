/*
 * test-msgpack.c - JSON <-> MessagePack (lib/hx-msgpack.c): every event
 * shape of GET /api/protocol round-trips to the same text byte for byte,
 * integers take their smallest form, reals stay float64, and every kind of
 * bad input is refused with a message that says what and where.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-event.h"
#include "hx-msgpack.h"
#include "hx-proto.h"
#include "hx-util.h"
#include "tap.h"

/* A value for a field of the protocol's description, or null. */
static json_t *
sample_value(const char *type, int n)
{
	if (strcmp(type, "string") == 0)
		return json_string(n % 2 ? "web-1" : "é \"q\" \\ \xe2\x98\x83");
	if (strcmp(type, "integer") == 0)
		return json_integer(n % 2 ? (json_int_t)1 << 53 : -42);
	if (strcmp(type, "number") == 0)
		return json_real(n % 2 ? 12.345 : 1e-7);
	if (strcmp(type, "number[]") == 0)
		return json_pack("[f,n,f]", 0.5, 99.999);
	if (strcmp(type, "string[]") == 0)
		return json_pack("[s,s]", "node:metrics", "");
	if (strcmp(type, "object[]") == 0)
		return json_pack("[{s:s,s:f,s:I}]", "mount", "/", "usage", 41.5,
		    "total_bytes", (json_int_t)1 << 40);
	return json_null();
}

/* Each event of the description, as a frame, through MessagePack. */
static void
test_events(void)
{
	json_t *d = hx_proto_describe(), *e, *f;
	size_t	i, j, n = 0, same = 0, equal = 0;

	json_array_foreach(json_object_get(d, "events"), i, e) {
		json_t	      *data = json_object();
		char	      *text, *back, *err = NULL;
		unsigned char *bin;
		size_t	       len, blen, tlen;
		json_t	      *a, *b;

		json_array_foreach(json_object_get(e, "fields"), j, f) {
			const char *type = json_string_value(
			    json_object_get(f, "type"));

			json_object_set_new(data,
			    json_string_value(json_object_get(f, "name")),
			    json_is_true(json_object_get(f, "nullable")) &&
				    j % 3 == 2 ?
				json_null() :
				sample_value(type, (int)j));
		}
		json_object_set_new(data, "timestamp",
		    json_string("2025-10-12T10:30:45.123Z"));
		text = hx_event_frame(json_string_value(
					  json_object_get(e, "type")),
		    data, &len, NULL, NULL);
		bin = hx_msgpack_from_text(text, len, 7, &blen, &err);
		back = bin ? hx_msgpack_to_text(bin + 7, blen, &tlen, &err) :
			     NULL;
		n++;
		if (back != NULL && tlen == len && strcmp(back, text) == 0)
			same++;
		else
			fprintf(stderr, "# %s: %s\n", text, err ? err : back);
		a = json_loads(text, 0, NULL);
		b = bin ? hx_msgpack_decode(bin + 7, blen, &err) : NULL;
		if (a != NULL && b != NULL && json_equal(a, b))
			equal++;
		json_decref(a);
		json_decref(b);
		free(text);
		free(back);
		free(bin);
		free(err);
	}
	is_int((int)n, HX_EV_COUNT, "the description has every event");
	is_int((int)same, (int)n,
	    "every event's frame comes back byte for byte");
	is_int((int)equal, (int)n, "and decodes to the same JSON value");
	/* The description itself: deeper, long strings, booleans. */
	{
		unsigned char *bin;
		char	      *err = NULL;
		size_t	       blen;
		json_t	      *back;

		bin = hx_msgpack_encode(d, 0, &blen, &err);
		back = hx_msgpack_decode(bin, blen, &err);
		ok(back != NULL && json_equal(back, d),
		    "GET /api/protocol's document round-trips");
		json_decref(back);
		free(bin);
	}
	json_decref(d);
}

/* Encode v, check its bytes (when want != NULL) and that it comes back. */
static void
enc(json_t *v, const char *want, size_t wlen, const char *what)
{
	unsigned char *bin;
	char	      *err = NULL;
	size_t	       blen;
	json_t	      *back;

	bin = hx_msgpack_encode(v, 0, &blen, &err);
	if (want != NULL)
		ok(bin != NULL && blen == wlen && memcmp(bin, want, wlen) == 0,
		    "%s: %zu bytes as expected", what, wlen);
	back = bin ? hx_msgpack_decode(bin, blen, &err) : NULL;
	ok(back != NULL && json_equal(back, v) &&
		json_typeof(back) == json_typeof(v),
	    "%s comes back", what);
	json_decref(back);
	json_decref(v);
	free(bin);
	free(err);
}

static void
test_numbers(void)
{
	enc(json_integer(0), "\x00", 1, "0");
	enc(json_integer(127), "\x7f", 1, "127 (fixint)");
	enc(json_integer(128), "\xcc\x80", 2, "128 (uint8)");
	enc(json_integer(-32), "\xe0", 1, "-32 (negative fixint)");
	enc(json_integer(-33), "\xd0\xdf", 2, "-33 (int8)");
	enc(json_integer(65536), "\xce\x00\x01\x00\x00", 5, "65536 (uint32)");
	enc(json_integer(INT64_MAX), "\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9,
	    "INT64_MAX");
	enc(json_integer(INT64_MIN), "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9,
	    "INT64_MIN");
	enc(json_real(1.5), "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", 9,
	    "1.5 as float64");
	enc(json_real(0.0), "\xcb\x00\x00\x00\x00\x00\x00\x00\x00", 9,
	    "0.0 stays a real");
	enc(json_real(-0.0), NULL, 0, "-0.0");
	enc(json_real(1.7976931348623157e308), NULL, 0, "DBL_MAX");
	enc(json_real(5e-324), NULL, 0, "the smallest denormal");
	enc(json_real(0.1), NULL, 0, "0.1");
	enc(json_true(), "\xc3", 1, "true");
	enc(json_false(), "\xc2", 1, "false");
	enc(json_null(), "\xc0", 1, "null");
	enc(json_string(""), "\xa0", 1, "empty string");
	enc(json_pack("{}"), "\x80", 1, "empty map");
	enc(json_pack("[]"), "\x90", 1, "empty array");
	enc(json_pack("{s:[i,s,b]}", "k", 1, "v", 1),
	    "\x81\xa1k\x93\x01\xa1v\xc3", 8, "a small map");
	{
		char	big[300];
		json_t *s;

		memset(big, 'x', sizeof big);
		s = json_stringn(big, sizeof big);
		enc(s, NULL, 0, "a 300-byte string (str16)");
	}
	{
		json_t *a = json_array();
		int	i;

		for (i = 0; i < 70000; i++)
			json_array_append_new(a, json_integer(i));
		enc(a, NULL, 0, "an array of 70,000 (array32)");
	}

	/* Forms our encoder never writes but a client may. */
	{
		char   *err = NULL;
		json_t *v;

		v = hx_msgpack_decode("\xca\x3f\xc0\x00\x00", 5, &err);
		ok(json_is_real(v) && json_real_value(v) == 1.5,
		    "float32 1.5 is read");
		json_decref(v);
		v = hx_msgpack_decode("\xd9\x01z", 3, &err);
		is_str(json_string_value(v), "z", "str8 is read");
		json_decref(v);
		v = hx_msgpack_decode("\xde\x00\x01\xa1k\xcd\x01\x00", 8, &err);
		ok(json_integer_value(json_object_get(v, "k")) == 256,
		    "map16 and uint16 are read");
		json_decref(v);
		v = hx_msgpack_decode("\xd2\xff\xff\xff\xfe", 5, &err);
		ok(json_integer_value(v) == -2, "int32 -2 is read");
		json_decref(v);
	}
}

/* Decoding buf must fail with a message containing want. */
static void
bad(const char *buf, size_t len, const char *want, const char *what)
{
	char   *err = NULL;
	json_t *v = hx_msgpack_decode(buf, len, &err);

	ok(v == NULL && err != NULL && strstr(err, want) != NULL,
	    "%s refused: %s", what, err ? err : "(accepted)");
	json_decref(v);
	free(err);
}

static void
test_refusals(void)
{
	char	deep[40];
	char   *err = NULL;
	json_t *v, *a;
	int	i;

	bad("", 0, "empty", "nothing");
	bad("\x92\xcd\x01", 3, "at byte 2: truncated", "an array cut short");
	bad("\xdd\xff\xff\xff\xff", 5, "array longer than the input",
	    "a 4-billion element array in 5 bytes");
	bad("\xdf\x7f\xff\xff\xff\xc0", 6, "map longer than the input",
	    "a huge map");
	bad("\xdb\xff\xff\xff\xff", 5, "string longer than the input",
	    "a 4 GB string");
	bad("\xcb\x00", 2, "truncated", "a cut float64");
	bad("\xc4\x01\x00", 3, "binary data", "bin8");
	bad("\xc7\x01\x05\x00", 4, "extension", "ext8");
	bad("\xd4\x01\x00", 3, "extension", "fixext1");
	bad("\xc1", 1, "0xc1", "the unused byte");
	bad("\x81\x01\x02", 3, "at byte 1: map key is not a string",
	    "an integer key");
	bad("\x81\x90\x02", 3, "map key is not a string", "an array key");
	bad("\x82\xa1k\x01\xa1k\x02", 7, "at byte 4: duplicate map key",
	    "a duplicate key");
	bad("\xa3"
	    "a\x00"
	    "b",
	    4, "NUL", "a NUL in a string");
	bad("\x81\xa2k\x00\xc0", 5, "NUL", "a NUL in a key");
	bad("\xa2\xc3\x28", 3, "not UTF-8", "bad UTF-8");
	bad("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9, "not a finite number",
	    "NaN");
	bad("\xca\x7f\x80\x00\x00", 5, "not a finite number", "float32 inf");
	bad("\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9, "out of range",
	    "2^63 as uint64");
	bad("\xc0\xc0", 2, "at byte 1: bytes after the value", "two values");

	/* 32 levels of arrays are fine, 33 are not. */
	memset(deep, 0x91, sizeof deep);
	deep[32] = (char)0xc0;
	v = hx_msgpack_decode(deep, 33, &err);
	ok(v != NULL, "32 nested arrays are read");
	json_decref(v);
	deep[32] = (char)0x91;
	deep[33] = (char)0xc0;
	bad(deep, 34, "nested too deep", "33 nested arrays");
	bad("\x81\x80\xc0", 3, "at byte 1: map key is not a string",
	    "a map as the key");

	/* And the encoder will not write what the decoder refuses. */
	v = a = json_array();
	for (i = 0; i < HX_MSGPACK_DEPTH_MAX; i++) {
		json_t *in = json_array();

		json_array_append_new(a, in);
		a = in;
	}
	ok(hx_msgpack_encode(v, 0, &(size_t){ 0 }, &err) == NULL &&
		err != NULL && strstr(err, "deeper") != NULL,
	    "33 nested arrays are not encoded");
	free(err);
	err = NULL;
	ok(hx_msgpack_from_text("{oops", 5, 0, &(size_t){ 0 }, &err) == NULL &&
		err != NULL && strstr(err, "bad JSON") != NULL,
	    "text that is not JSON is not encoded");
	free(err);
	json_decref(v);
}

int
main(void)
{
	test_events();
	test_numbers();
	test_refusals();
	return done_testing();
}
