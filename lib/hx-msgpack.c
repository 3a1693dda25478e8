/*
 * hx-msgpack.c - JSON <-> MessagePack (see hx-msgpack.h).
 *
 * Encoding goes through msgpack-c's packer, which picks the smallest
 * integer and string forms. Decoding is our own strict reader over the
 * bytes: msgpack-c's unpacker allocates an array or map for the count a
 * header declares before it has seen a single element, so five hostile
 * bytes could ask it for gigabytes; here a count is checked against the
 * bytes left first, and what is built is jansson values only.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "hx-event.h"
#include "hx-msgpack.h"
#include "hx-util.h"

/* --- encoding ------------------------------------------------------- */

static int
buf_write(void *data, const char *p, size_t n)
{
	return hx_buf_add(data, p, n);
}

static int
pack(msgpack_packer *pk, const json_t *v, int depth)
{
	const char *key;
	json_t	   *x;
	size_t	    i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (depth >= HX_MSGPACK_DEPTH_MAX)
			return -1;
		msgpack_pack_map(pk, json_object_size(v));
		json_object_foreach((json_t *)v, key, x) {
			size_t kl = strlen(key);

			msgpack_pack_str(pk, kl);
			msgpack_pack_str_body(pk, key, kl);
			if (pack(pk, x, depth + 1) != 0)
				return -1;
		}
		return 0;
	case JSON_ARRAY:
		if (depth >= HX_MSGPACK_DEPTH_MAX)
			return -1;
		msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, x) {
			if (pack(pk, x, depth + 1) != 0)
				return -1;
		}
		return 0;
	case JSON_STRING:
		msgpack_pack_str(pk, json_string_length(v));
		msgpack_pack_str_body(pk, json_string_value(v),
		    json_string_length(v));
		return 0;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, (int64_t)json_integer_value(v));
		return 0;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(v));
		return 0;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		return 0;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		return 0;
	case JSON_NULL:
	default:
		msgpack_pack_nil(pk);
		return 0;
	}
}

unsigned char *
hx_msgpack_encode(const json_t *v, size_t headroom, size_t *len, char **err)
{
	msgpack_packer pk;
	struct hx_buf  b;
	unsigned char *out;
	size_t	       n;

	*len = 0;
	hx_buf_init(&b, 0); /* our own values: trusted, unbounded */
	/* The headroom's bytes are never read: any will do. */
	for (n = 0; n < headroom; n++)
		hx_buf_add(&b, "", 1);
	msgpack_packer_init(&pk, &b, buf_write);
	if (pack(&pk, v, 0) != 0) {
		hx_buf_release(&b);
		*err = xasprintf("cannot encode MessagePack: nested deeper "
				 "than %d",
		    HX_MSGPACK_DEPTH_MAX);
		return NULL;
	}
	out = (unsigned char *)hx_buf_detach(&b, &n);
	*len = n - headroom;
	return out;
}

unsigned char *
hx_msgpack_from_text(const char *text, size_t tlen, size_t headroom,
    size_t *len, char **err)
{
	json_error_t   je;
	json_t	      *v;
	unsigned char *out;

	*len = 0;
	v = json_loadb(text, tlen, JSON_DECODE_ANY, &je);
	if (v == NULL) {
		*err = xasprintf("cannot encode MessagePack: bad JSON: %s",
		    je.text);
		return NULL;
	}
	out = hx_msgpack_encode(v, headroom, len, err);
	json_decref(v);
	return out;
}

/* --- decoding ------------------------------------------------------- */

struct reader {
	const unsigned char *p;
	size_t		     len;
	size_t		     off;
	char		    *err;
};

static json_t *read_value(struct reader *r, int depth);

static json_t *
fail(struct reader *r, size_t at, const char *what)
{
	if (r->err == NULL)
		r->err = xasprintf("bad MessagePack at byte %zu: %s", at, what);
	return NULL;
}

/* The next n bytes, or NULL (and the error) when the input ends first. */
static const unsigned char *
take(struct reader *r, size_t n)
{
	const unsigned char *p;

	if (n > r->len - r->off) {
		fail(r, r->off, "truncated");
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static int
read_be(struct reader *r, size_t n, uint64_t *v)
{
	const unsigned char *p = take(r, n);
	size_t		     i;

	if (p == NULL)
		return -1;
	for (*v = 0, i = 0; i < n; i++)
		*v = *v << 8 | p[i];
	return 0;
}

/*
 * The next n bytes as a JSON string, refused when they hold a NUL (as
 * JSON text without \u0000) or are not UTF-8.
 */
static json_t *
read_str(struct reader *r, size_t at, size_t n)
{
	const unsigned char *p = take(r, n);
	json_t		    *s;

	if (p == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL)
		return fail(r, at, "string holds a NUL byte");
	if ((s = json_stringn((const char *)p, n)) == NULL)
		return fail(r, at, "string is not UTF-8");
	return s;
}

static json_t *
read_array(struct reader *r, size_t at, uint64_t n, int depth)
{
	json_t *a, *x;

	if (depth >= HX_MSGPACK_DEPTH_MAX)
		return fail(r, at, "nested too deep");
	/* Every element takes at least one byte. */
	if (n > r->len - r->off)
		return fail(r, at, "array longer than the input");
	a = json_array();
	while (n-- > 0) {
		if ((x = read_value(r, depth + 1)) == NULL) {
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, x);
	}
	return a;
}

static json_t *
read_map(struct reader *r, size_t at, uint64_t n, int depth)
{
	json_t *m, *k, *x;

	if (depth >= HX_MSGPACK_DEPTH_MAX)
		return fail(r, at, "nested too deep");
	/* Every entry takes at least two bytes. */
	if (n > (r->len - r->off) / 2)
		return fail(r, at, "map longer than the input");
	m = json_object();
	while (n-- > 0) {
		size_t	    kat = r->off;
		const char *key;

		if ((k = read_value(r, depth + 1)) == NULL)
			goto bad;
		if (!json_is_string(k)) {
			json_decref(k);
			fail(r, kat, "map key is not a string");
			goto bad;
		}
		key = json_string_value(k);
		if (json_object_get(m, key) != NULL) {
			json_decref(k);
			fail(r, kat, "duplicate map key");
			goto bad;
		}
		if ((x = read_value(r, depth + 1)) == NULL) {
			json_decref(k);
			goto bad;
		}
		json_object_set_new(m, key, x);
		json_decref(k);
	}
	return m;
bad:
	json_decref(m);
	return NULL;
}

static json_t *
read_real(struct reader *r, size_t at, double d)
{
	json_t *v;

	if (!isfinite(d) || (v = json_real(d)) == NULL)
		return fail(r, at, "not a finite number");
	return v;
}

static json_t *
read_value(struct reader *r, int depth)
{
	size_t	 at = r->off;
	uint64_t u;
	int	 b;

	if (r->off >= r->len)
		return fail(r, at, "truncated");
	b = r->p[r->off++];
	if (b <= 0x7f)
		return json_integer(b);
	if (b >= 0xe0)
		return json_integer(b - 0x100);
	if (b >= 0x80 && b <= 0x8f)
		return read_map(r, at, b & 0x0f, depth);
	if (b >= 0x90 && b <= 0x9f)
		return read_array(r, at, b & 0x0f, depth);
	if (b >= 0xa0 && b <= 0xbf)
		return read_str(r, at, b & 0x1f);
	switch (b) {
	case 0xc0:
		return json_null();
	case 0xc2:
		return json_false();
	case 0xc3:
		return json_true();
	case 0xc4:
	case 0xc5:
	case 0xc6:
		return fail(r, at, "binary data is not accepted");
	case 0xc7:
	case 0xc8:
	case 0xc9:
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		return fail(r, at, "extension types are not accepted");
	case 0xca: {
		float	 f;
		uint32_t w;

		if (read_be(r, 4, &u) != 0)
			return NULL;
		w = (uint32_t)u;
		memcpy(&f, &w, sizeof f);
		return read_real(r, at, f);
	}
	case 0xcb: {
		double d;

		if (read_be(r, 8, &u) != 0)
			return NULL;
		memcpy(&d, &u, sizeof d);
		return read_real(r, at, d);
	}
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		if (read_be(r, (size_t)1 << (b - 0xcc), &u) != 0)
			return NULL;
		if (u > INT64_MAX)
			return fail(r, at, "integer out of range");
		return json_integer((json_int_t)u);
	case 0xd0:
		if (read_be(r, 1, &u) != 0)
			return NULL;
		return json_integer((int8_t)u);
	case 0xd1:
		if (read_be(r, 2, &u) != 0)
			return NULL;
		return json_integer((int16_t)u);
	case 0xd2:
		if (read_be(r, 4, &u) != 0)
			return NULL;
		return json_integer((int32_t)u);
	case 0xd3:
		if (read_be(r, 8, &u) != 0)
			return NULL;
		return json_integer((json_int_t)(int64_t)u);
	case 0xd9:
	case 0xda:
	case 0xdb:
		if (read_be(r, (size_t)1 << (b - 0xd9), &u) != 0)
			return NULL;
		if (u > r->len - r->off)
			return fail(r, at, "string longer than the input");
		return read_str(r, at, (size_t)u);
	case 0xdc:
	case 0xdd:
		if (read_be(r, b == 0xdc ? 2 : 4, &u) != 0)
			return NULL;
		return read_array(r, at, u, depth);
	case 0xde:
	case 0xdf:
		if (read_be(r, b == 0xde ? 2 : 4, &u) != 0)
			return NULL;
		return read_map(r, at, u, depth);
	default: /* 0xc1, never used */
		return fail(r, at, "byte 0xc1 is not MessagePack");
	}
}

json_t *
hx_msgpack_decode(const void *buf, size_t len, char **err)
{
	struct reader r = { buf, len, 0, NULL };
	json_t	     *v;

	if (len > HX_MSGPACK_SIZE_MAX) {
		*err = xasprintf("bad MessagePack: %zu bytes, over the %u "
				 "accepted",
		    len, HX_MSGPACK_SIZE_MAX);
		return NULL;
	}
	if (len == 0) {
		*err = xstrdup("bad MessagePack: empty message");
		return NULL;
	}
	v = read_value(&r, 0);
	if (v != NULL && r.off != len) {
		json_decref(v);
		v = fail(&r, r.off, "bytes after the value");
	}
	if (v == NULL)
		*err = r.err;
	else
		free(r.err);
	return v;
}

char *
hx_msgpack_to_text(const void *buf, size_t len, size_t *tlen, char **err)
{
	json_t *v;
	char   *text;

	*tlen = 0;
	if ((v = hx_msgpack_decode(buf, len, err)) == NULL)
		return NULL;
	/*
	 * Written as the daemon writes its frames (hx_event_frame): their
	 * reals carry 10 significant digits, so a frame comes back byte for
	 * byte as a JSON session gets it.
	 */
	text = json_dumps(v, HX_JSON_FLAGS | JSON_ENCODE_ANY);
	json_decref(v);
	if (text == NULL) {
		*err = xstrdup("cannot write MessagePack as JSON");
		return NULL;
	}
	*tlen = strlen(text);
	return text;
}
