/*
 * hx-gorilla.c - the bit writer, the bit reader and the block codec
 * (see hx-gorilla.h for the stream's layout).
 *
 * Bits go in a byte at a time: a point costs tens of bits and the
 * writer adds a few thousand points a second, so the byte loop, easy to
 * check, is enough. Bits come out 64 at a time: a query decodes hundreds
 * of thousands of points, and reading them a byte (and a prefix a bit)
 * at a time was most of its cost.
 */
#include <stdlib.h>
#include <string.h>

#include "hx-gorilla.h"
#include "hx-util.h"

/* --- bits ---------------------------------------------------------------- */

/* Append the low n (1 .. 64) bits of v, most significant first. */
static void
put(struct hx_gorilla_enc *e, uint64_t v, unsigned n)
{
	unsigned k;

	while (n > 0) {
		if (e->free == 0) {
			if (e->len == e->alloc) {
				e->alloc = e->alloc ? 2 * e->alloc : 64;
				e->data = xrealloc(e->data, e->alloc);
			}
			e->data[e->len++] = 0;
			e->free = 8;
		}
		k = n < e->free ? n : e->free;
		e->data[e->len - 1] |=
		    (uint8_t)(((v >> (n - k)) & ((1u << k) - 1))
			<< (e->free - k));
		e->free -= k;
		n -= k;
	}
}

/*
 * The next 64 bits of the stream from the reader's position, the first
 * one in the most significant bit; bits past the end read as 0.
 */
static uint64_t
peek(const struct hx_gorilla_dec *d)
{
	const uint8_t *p = d->data + (d->pos >> 3);
	size_t	       left = (d->nbits >> 3) - (d->pos >> 3);
	unsigned       off = (unsigned)(d->pos & 7);
	uint8_t	       tail[9];
	uint64_t       w;

	if (left < sizeof tail) {
		memset(tail, 0, sizeof tail);
		memcpy(tail, p, left);
		p = tail;
	}
	memcpy(&w, p, sizeof w);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	if (off != 0)
		w = (w << off) | (uint64_t)(p[8] >> (8 - off));
	return w;
}

/* Read n (1 .. 64) bits into *v. Returns 0, or -1 past the end. */
static int
get(struct hx_gorilla_dec *d, unsigned n, uint64_t *v)
{
	uint64_t w;

	if (n > d->nbits - d->pos)
		return -1;
	w = peek(d);
	*v = n == 64 ? w : w >> (64 - n);
	d->pos += n;
	return 0;
}

/* Count leading '1' bits, at most max, consuming them and the '0' after. */
static int
get_prefix(struct hx_gorilla_dec *d, unsigned max, unsigned *ones)
{
	uint64_t w = ~peek(d);
	unsigned n, used;

	/* w has a 1 where the stream has a 0; past the end reads 0 too. */
	n = w == 0 ? 64 : (unsigned)__builtin_clzll(w);
	if (n > max)
		n = max;
	used = n < max ? n + 1 : n;
	if (used > d->nbits - d->pos)
		return -1;
	d->pos += used;
	*ones = n;
	return 0;
}

static uint64_t
dbits(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof u);
	return u;
}

static double
bitsd(uint64_t u)
{
	double v;

	memcpy(&v, &u, sizeof v);
	return v;
}

/* Sign-extend the low n bits of u. */
static int64_t
sext(uint64_t u, unsigned n)
{
	uint64_t m = 1ULL << (n - 1);

	u &= (1ULL << n) - 1;
	return (int64_t)((u ^ m) - m);
}

/* --- the delta-of-delta buckets ------------------------------------------ */

static const struct {
	unsigned prefix; /* number of '1's before the '0' */
	unsigned bits;
} dod_bucket[] = {
	{ 1, 4 }, /* a collector's jitter of a few ms */
	{ 2, 8 },
	{ 3, 14 }, /* 1 s steps, from the first delta */
	{ 4, 24 },
};

#define DOD_RAW (HX_ARRAY_SIZE(dod_bucket) + 1) /* '1's before 64 bits */

/* --- encoder ------------------------------------------------------------- */

void
hx_gorilla_enc_init(struct hx_gorilla_enc *e, unsigned k)
{
	memset(e, 0, sizeof *e);
	e->k = k == 0 ? 1 : k > HX_GORILLA_MAXK ? HX_GORILLA_MAXK : k;
	memset(e->lead, 0xff, sizeof e->lead);
}

void
hx_gorilla_enc_release(struct hx_gorilla_enc *e)
{
	free(e->data);
	e->data = NULL;
	e->len = e->alloc = 0;
	e->free = 0;
	e->count = 0;
}

static void
put_dod(struct hx_gorilla_enc *e, uint64_t dod)
{
	int64_t	 s = (int64_t)dod;
	size_t	 i;
	unsigned n;

	if (dod == 0) {
		put(e, 0, 1);
		return;
	}
	for (i = 0; i < HX_ARRAY_SIZE(dod_bucket); i++) {
		n = dod_bucket[i].bits;
		if (s >= -(1LL << (n - 1)) && s < (1LL << (n - 1))) {
			/* prefix: the '1's then a '0' */
			put(e, ((1ULL << dod_bucket[i].prefix) - 1) << 1,
			    dod_bucket[i].prefix + 1);
			put(e, dod, n);
			return;
		}
	}
	put(e, (1ULL << DOD_RAW) - 1, DOD_RAW);
	put(e, dod, 64);
}

static void
put_value(struct hx_gorilla_enc *e, unsigned j, uint64_t v)
{
	uint64_t x = v ^ e->prev_v[j];
	unsigned lead, trail, m;

	e->prev_v[j] = v;
	if (x == 0) {
		put(e, 0, 1);
		return;
	}
	lead = (unsigned)__builtin_clzll(x);
	trail = (unsigned)__builtin_ctzll(x);
	if (lead > 31)
		lead = 31;
	if (e->lead[j] != 0xff && lead >= e->lead[j] && trail >= e->trail[j]) {
		m = 64 - e->lead[j] - e->trail[j];
		put(e, 2, 2);
		put(e, x >> e->trail[j], m);
		return;
	}
	m = 64 - lead - trail;
	put(e, 3, 2);
	put(e, lead, 5);
	put(e, m - 1, 6);
	put(e, x >> trail, m);
	e->lead[j] = (uint8_t)lead;
	e->trail[j] = (uint8_t)trail;
}

void
hx_gorilla_enc_add(struct hx_gorilla_enc *e, int64_t t, const double *v)
{
	uint64_t delta;
	unsigned j;

	if (e->count == 0) {
		put(e, (uint64_t)t, 64);
		for (j = 0; j < e->k; j++) {
			e->prev_v[j] = dbits(v[j]);
			put(e, e->prev_v[j], 64);
		}
		e->prev_delta = 0;
	} else {
		/* Modulo 2^64: the decoder undoes it exactly, whatever t. */
		delta = (uint64_t)t - (uint64_t)e->prev_t;
		put_dod(e, delta - e->prev_delta);
		e->prev_delta = delta;
		for (j = 0; j < e->k; j++)
			put_value(e, j, dbits(v[j]));
	}
	e->prev_t = t;
	e->count++;
}

/* --- decoder ------------------------------------------------------------- */

void
hx_gorilla_dec_init(struct hx_gorilla_dec *d, const void *data, size_t len,
    uint32_t count, unsigned k)
{
	memset(d, 0, sizeof *d);
	d->data = data;
	d->nbits = len * 8;
	d->left = count;
	d->k = k == 0 ? 1 : k > HX_GORILLA_MAXK ? HX_GORILLA_MAXK : k;
	memset(d->lead, 0xff, sizeof d->lead);
}

static int
get_dod(struct hx_gorilla_dec *d, uint64_t *dod)
{
	unsigned ones;
	uint64_t u;

	if (get_prefix(d, DOD_RAW, &ones) != 0)
		return -1;
	if (ones == 0) {
		*dod = 0;
		return 0;
	}
	if (ones == DOD_RAW)
		return get(d, 64, dod);
	if (get(d, dod_bucket[ones - 1].bits, &u) != 0)
		return -1;
	*dod = (uint64_t)sext(u, dod_bucket[ones - 1].bits);
	return 0;
}

static int
get_value(struct hx_gorilla_dec *d, unsigned j)
{
	unsigned ones, m;
	uint64_t lead, mm, x;

	if (get_prefix(d, 2, &ones) != 0)
		return -1;
	if (ones == 0)
		return 0;
	if (ones == 1) {
		if (d->lead[j] == 0xff)
			return -1;
	} else {
		if (get(d, 5, &lead) != 0 || get(d, 6, &mm) != 0 ||
		    lead + mm + 1 > 64)
			return -1;
		d->lead[j] = (uint8_t)lead;
		d->trail[j] = (uint8_t)(64 - lead - mm - 1);
	}
	m = 64 - d->lead[j] - d->trail[j];
	if (get(d, m, &x) != 0)
		return -1;
	d->prev_v[j] ^= x << d->trail[j];
	return 0;
}

int
hx_gorilla_dec_next(struct hx_gorilla_dec *d, int64_t *t, double *v)
{
	uint64_t u;
	unsigned j;

	if (d->left == 0)
		return 0;
	if (d->done == 0) {
		if (get(d, 64, &u) != 0)
			return -1;
		d->prev_t = (int64_t)u;
		for (j = 0; j < d->k; j++) {
			if (get(d, 64, &d->prev_v[j]) != 0)
				return -1;
		}
	} else {
		if (get_dod(d, &u) != 0)
			return -1;
		d->prev_delta += u;
		d->prev_t = (int64_t)((uint64_t)d->prev_t + d->prev_delta);
		for (j = 0; j < d->k; j++) {
			if (get_value(d, j) != 0)
				return -1;
		}
	}
	for (j = 0; j < d->k; j++)
		v[j] = bitsd(d->prev_v[j]);
	*t = d->prev_t;
	d->left--;
	d->done++;
	return 1;
}
