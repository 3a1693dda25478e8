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

/* peek near the end of the stream: the missing bytes read as 0. */
static __attribute__((noinline)) uint64_t
peek_tail(const uint8_t *p, size_t left, unsigned off)
{
	uint8_t	 tail[9];
	uint64_t w = 0;
	size_t	 i;

	memset(tail, 0, sizeof tail);
	memcpy(tail, p, left);
	for (i = 0; i < 8; i++)
		w = (w << 8) | tail[i];
	if (off != 0)
		w = (w << off) | (uint64_t)(tail[8] >> (8 - off));
	return w;
}

/*
 * The next 64 bits of the stream from the reader's position, the first
 * one in the most significant bit; bits past the end read as 0.
 */
static inline uint64_t
peek(const struct hx_gorilla_dec *d)
{
	const uint8_t *p = d->data + (d->pos >> 3);
	size_t	       left = (d->nbits >> 3) - (d->pos >> 3);
	unsigned       off = (unsigned)(d->pos & 7);
	uint64_t       w;

	if (left < 9)
		return peek_tail(p, left, off);
	memcpy(&w, p, sizeof w);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	if (off != 0)
		w = (w << off) | (uint64_t)(p[8] >> (8 - off));
	return w;
}

/*
 * The n (1 .. 64) bits that follow the first used bits of w, the next
 * 64 of the stream; read again from the stream when they run past w.
 */
static inline uint64_t
bits_after(struct hx_gorilla_dec *d, uint64_t w, unsigned used, unsigned n)
{
	uint64_t r;

	if (used + n <= 64)
		return (w << used) >> (64 - n);
	d->pos += used;
	r = peek(d) >> (64 - n);
	d->pos -= used;
	return r;
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

/*
 * The delta of delta: its prefix and bits read from one peek (two when
 * they run past it). -1 when the stream ends first.
 */
static int
get_dod(struct hx_gorilla_dec *d, uint64_t *dod)
{
	uint64_t w = peek(d), nw = ~w;
	unsigned ones, used, n;

	ones = nw == 0 ? 64 : (unsigned)__builtin_clzll(nw);
	if (ones > DOD_RAW)
		ones = DOD_RAW;
	used = ones < DOD_RAW ? ones + 1 : ones;
	n = ones == 0 ? 0 : ones == DOD_RAW ? 64 : dod_bucket[ones - 1].bits;
	if (used + n > d->nbits - d->pos)
		return -1;
	if (n == 0)
		*dod = 0;
	else if (n == 64)
		*dod = bits_after(d, w, used, 64);
	else
		*dod = (uint64_t)sext(bits_after(d, w, used, n), n);
	d->pos += used + n;
	return 0;
}

/* One value's XOR: '0', '10' + bits or '11' + window + bits (see .h). */
static int
get_value(struct hx_gorilla_dec *d, unsigned j)
{
	uint64_t w, lead, mm;
	unsigned used, m;

	if (d->pos >= d->nbits)
		return -1;
	w = peek(d);
	if ((w >> 63) == 0) {
		d->pos++;
		return 0;
	}
	if ((w >> 62) == 2) {
		if (d->lead[j] == 0xff)
			return -1;
		used = 2;
	} else {
		lead = (w >> 57) & 31;
		mm = (w >> 51) & 63;
		if (lead + mm + 1 > 64)
			return -1;
		d->lead[j] = (uint8_t)lead;
		d->trail[j] = (uint8_t)(64 - lead - mm - 1);
		used = 13;
	}
	m = 64 - d->lead[j] - d->trail[j];
	if (used + m > d->nbits - d->pos)
		return -1;
	d->prev_v[j] ^= bits_after(d, w, used, m) << d->trail[j];
	d->pos += used + m;
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
