/*
 * test-gorilla.c - the block codec: every kind of timestamp sequence and
 * every awkward double comes back bit for bit, a damaged stream is
 * refused, and the sizes of the common cases are what the layout says.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-gorilla.h"
#include "hx-util.h"
#include "tap.h"

#define MAXN 5000

static int64_t ts[MAXN];
static double  vs[MAXN][HX_GORILLA_MAXK];

/* splitmix64: a fixed-seed generator, so a failure is reproducible. */
static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
bits_of(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof u);
	return u;
}

static double
of_bits(uint64_t u)
{
	double v;

	memcpy(&v, &u, sizeof v);
	return v;
}

/*
 * Encode n points of k values from ts/vs, decode them, and compare bit
 * for bit. Returns the encoded size in bytes, or -1 on a mismatch.
 */
static long
round_trip(int n, unsigned k)
{
	struct hx_gorilla_enc e;
	struct hx_gorilla_dec d;
	int64_t		      t;
	double		      v[HX_GORILLA_MAXK];
	long		      size;
	int		      i, r;
	unsigned	      j;

	hx_gorilla_enc_init(&e, k);
	for (i = 0; i < n; i++)
		hx_gorilla_enc_add(&e, ts[i], vs[i]);
	size = (long)e.len;
	hx_gorilla_dec_init(&d, e.data, e.len, e.count, k);
	for (i = 0; i < n; i++) {
		if ((r = hx_gorilla_dec_next(&d, &t, v)) != 1) {
			printf("# point %d: decoder said %d\n", i, r);
			size = -1;
			goto out;
		}
		if (t != ts[i]) {
			printf("# point %d: t %lld, want %lld\n", i,
			    (long long)t, (long long)ts[i]);
			size = -1;
			goto out;
		}
		for (j = 0; j < k; j++) {
			if (bits_of(v[j]) != bits_of(vs[i][j])) {
				printf("# point %d value %u: %016llx, want "
				       "%016llx\n",
				    i, j, (unsigned long long)bits_of(v[j]),
				    (unsigned long long)bits_of(vs[i][j]));
				size = -1;
				goto out;
			}
		}
	}
	if (hx_gorilla_dec_next(&d, &t, v) != 0)
		size = -1;
out:
	hx_gorilla_enc_release(&e);
	return size;
}

static void
fill_values(int n, double v)
{
	int	 i;
	unsigned j;

	for (i = 0; i < n; i++)
		for (j = 0; j < HX_GORILLA_MAXK; j++)
			vs[i][j] = v;
}

static void
test_timestamps(void)
{
	int  i;
	long size;

	fill_values(MAXN, 1.0);

	/* Regular 1 s: after point 1, one bit of time and one of value. */
	for (i = 0; i < 120; i++)
		ts[i] = 1760000000000LL + i * 1000LL;
	size = round_trip(120, 1);
	ok(size > 0, "regular 1 s round trip");
	/* 128 bits for point 0, 19 for point 1, 2 each after. */
	is_int(size, (128 + 4 + 14 + 1 + 118 * 2 + 7) / 8,
	    "regular 1 s: 2 bits per point after the first two");

	/* Jittered by a few ms, as a collector's absolute deadlines are. */
	for (i = 0; i < MAXN; i++)
		ts[i] = 1760000000000LL + i * 1000LL + (int64_t)(rnd() % 4) - 2;
	fill_values(MAXN, 1.0);
	size = round_trip(MAXN, 1);
	ok(size > 0 && size <= (128 + 19 + (MAXN - 2) * 7 + 7) / 8,
	    "jitter of -2 .. 1 ms (dod -6 .. 6) round trips at 7 bits a point (%ld bytes)",
	    size);

	/* Each bucket's edges and beyond: big jumps both ways. */
	{
		static const int64_t steps[] = { 7, 8, -8, -9, 127, 128, -128,
			-129, 8191, 8192, -8192, -8193, 8388607, 8388608,
			-8388608, -8388609, 86400000LL * 365, -86400000LL * 365,
			INT64_MAX / 4, INT64_MIN / 4, 1, 0, 0, 7 };
		int64_t		     t = 0, d = 0;

		for (i = 0; i < (int)HX_ARRAY_SIZE(steps); i++) {
			d += steps[i];
			t += d;
			ts[i] = t;
		}
		ok(round_trip((int)HX_ARRAY_SIZE(steps), 1) > 0,
		    "bucket edges and big jumps");
	}

	/* Going backwards, and the extremes of int64. */
	ts[0] = INT64_MAX;
	ts[1] = INT64_MIN;
	ts[2] = 0;
	ts[3] = -1;
	ts[4] = INT64_MAX;
	ts[5] = INT64_MAX - 1;
	ts[6] = INT64_MIN;
	ok(round_trip(7, 1) > 0, "negative deltas and int64 extremes");

	/* Random timestamps. */
	for (i = 0; i < MAXN; i++)
		ts[i] = (int64_t)rnd();
	ok(round_trip(MAXN, 1) > 0, "random timestamps");

	/* One point and no point. */
	ts[0] = 42;
	ok(round_trip(1, 1) == 16, "one point is 16 bytes");
	ok(round_trip(0, 1) == 0, "no point is 0 bytes");
}

static void
test_values(void)
{
	static const double odd[] = { 0.0, -0.0, 1e308, -1e308, DBL_MAX,
		-DBL_MAX, DBL_MIN, 4.9e-324, -4.9e-324, 1.0, 0.1, 1.0 / 3.0 };
	int		    i, n;
	unsigned	    j;
	long		    size;

	for (i = 0; i < MAXN; i++)
		ts[i] = 1000LL * i;

	/* Equal values: 1 bit each. */
	fill_values(1000, 37.5);
	size = round_trip(1000, 1);
	ok(size > 0 && size <= (128 + 4 + 14 + 1 + 998 * 2 + 7) / 8,
	    "equal values round trip at 2 bits a point (%ld bytes)", size);

	/* NaN (unknown), with its payload and sign; infinities; -0.0. */
	n = 0;
	vs[n++][0] = NAN;
	vs[n++][0] = 1.5;
	vs[n++][0] = NAN;
	vs[n++][0] = NAN;
	vs[n++][0] = -NAN;
	vs[n++][0] = of_bits(0x7ff0000000000001ULL); /* signalling */
	vs[n++][0] = of_bits(0x7ff8dead0000beefULL); /* payload */
	vs[n++][0] = INFINITY;
	vs[n++][0] = -INFINITY;
	vs[n++][0] = -0.0;
	vs[n++][0] = 0.0;
	vs[n++][0] = -0.0;
	for (i = 0; i < (int)HX_ARRAY_SIZE(odd); i++)
		vs[n++][0] = odd[i];
	ok(round_trip(n, 1) > 0, "NaN, infinities, -0.0, 1e308, subnormals");

	/* Random bit patterns: every double, NaNs among them. */
	for (i = 0; i < MAXN; i++)
		for (j = 0; j < HX_GORILLA_MAXK; j++)
			vs[i][j] = of_bits(rnd());
	ok(round_trip(MAXN, 1) > 0, "random doubles (bit patterns)");
	ok(round_trip(MAXN, 4) > 0, "random doubles, four columns");

	/* Random doubles in a range, as a noisy gauge. */
	for (i = 0; i < MAXN; i++)
		for (j = 0; j < HX_GORILLA_MAXK; j++)
			vs[i][j] = (double)(rnd() % 100000) / 1000.0;
	ok(round_trip(MAXN, 3) > 0, "noisy gauge, three columns");

	/* A counter growing by varying amounts. */
	vs[0][0] = 1e12;
	for (i = 1; i < MAXN; i++)
		vs[i][0] = vs[i - 1][0] + (double)(rnd() % 5000000);
	ok(round_trip(MAXN, 1) > 0, "growing byte counter");
}

static void
test_damage(void)
{
	struct hx_gorilla_enc e;
	struct hx_gorilla_dec d;
	int64_t		      t;
	double		      v[1];
	int		      i, r = 1, got = 0;

	hx_gorilla_enc_init(&e, 1);
	for (i = 0; i < 50; i++) {
		v[0] = (double)(rnd() % 1000) / 7.0;
		hx_gorilla_enc_add(&e, 1000LL * i + (i % 3), v);
	}
	/* A count larger than what the bytes hold: -1, not a read past. */
	hx_gorilla_dec_init(&d, e.data, e.len, e.count + 20, 1);
	while ((r = hx_gorilla_dec_next(&d, &t, v)) == 1)
		got++;
	ok(r == -1 && got >= 50, "extra count ends in -1 (%d points)", got);
	/* Cut short. */
	hx_gorilla_dec_init(&d, e.data, e.len / 2, e.count, 1);
	got = 0;
	while ((r = hx_gorilla_dec_next(&d, &t, v)) == 1)
		got++;
	ok(r == -1 && got < 50, "a truncated block ends in -1 after %d", got);
	/* Nothing at all. */
	hx_gorilla_dec_init(&d, NULL, 0, 3, 1);
	ok(hx_gorilla_dec_next(&d, &t, v) == -1, "empty data, count 3: -1");
	hx_gorilla_enc_release(&e);
	hx_gorilla_enc_release(&e);
}

/*
 * The layout pinned by hand. Point 0: t 1000 and 1.0, 64 bits each.
 * Point 1: t 3000 (dod 2000: '1110' + 0x7d0 in 14 bits), 1.0 again
 * ('0'). Point 2: t 5000 (dod 0: '0'), 3.0 (x = 0x7ff8000000000000:
 * '11', lead 1 in 5 bits, m - 1 = 11 in 6 bits, twelve '1's). The 45
 * bits, padded with 3 zeros: 0xe1f40c25fff8.
 */
static void
test_layout(void)
{
	struct hx_gorilla_enc e;
	char		      hex[64];
	double		      v;
	size_t		      i;

	hx_gorilla_enc_init(&e, 1);
	v = 1.0;
	hx_gorilla_enc_add(&e, 1000, &v);
	hx_gorilla_enc_add(&e, 3000, &v);
	v = 3.0;
	hx_gorilla_enc_add(&e, 5000, &v);
	hex[0] = '\0';
	for (i = 0; i < e.len && 2 * i + 2 < sizeof hex; i++)
		snprintf(hex + 2 * i, 3, "%02x", e.data[i]);
	is_str(hex,
	    "00000000000003e83ff0000000000000"
	    "e1f40c25fff8",
	    "the bits of a three-point block");
	hx_gorilla_enc_release(&e);
}

int
main(void)
{
	test_layout();
	test_timestamps();
	test_values();
	test_damage();
	return done_testing();
}
