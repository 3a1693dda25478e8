/*
 * hx-gorilla.h - the block codec of the metrics history: timestamps as
 * delta-of-delta, values XORed against the previous one, in a bit stream
 * (the scheme of Facebook's Gorilla paper, with buckets sized for
 * milliseconds: the smallest holds the few ms a collector's samples
 * jitter by, so a steady 1 s series costs 6 bits of time per point).
 *
 * A block holds points of one series in the order they were added; each
 * point is a timestamp (int64 milliseconds) and k doubles (1 for raw
 * samples; 4 for an aggregate: min, avg, max, count), each of the k
 * columns XORed against its own previous value, so an aggregated block is
 * k Gorilla value streams interleaved behind one timestamp stream.
 *
 * The stream, most significant bit first:
 *   point 0:   t as 64 bits, then each value's 64 bits.
 *   point i>0: dod = (t_i - t_i-1) - (t_i-1 - t_i-2), the first delta
 *              taken against 0, in two's complement modulo 2^64:
 *                '0'                  dod = 0
 *                '10'    + 4 bits     -8 .. 7
 *                '110'   + 8 bits     -128 .. 127
 *                '1110'  + 14 bits    -8192 .. 8191
 *                '11110' + 24 bits    -8388608 .. 8388607
 *                '11111' + 64 bits    anything
 *              then per value x = bits(v) ^ bits(previous v):
 *                '0'                 x = 0 (the same bits)
 *                '10' + m bits       x fits the previous window of
 *                                    leading/trailing zeros: its m
 *                                    meaningful bits
 *                '11' + 5 bits lead (capped at 31) + 6 bits (m - 1) +
 *                       m bits       a new window
 * The last byte is padded with zero bits. The count of points and k are
 * not in the stream: the caller keeps them (hx-tsdb's block row).
 *
 * Values travel as their 64-bit patterns, so every double comes back bit
 * for bit: NaN (an unknown sample; any payload and sign), the infinities,
 * -0.0 and subnormals. Timestamps may go backwards or jump by anything;
 * only the cost changes.
 *
 * Pure: no I/O, no clock, no printing; the encoder allocates with the
 * x-allocators (which abort on exhaustion).
 */
#ifndef HX_GORILLA_H
#define HX_GORILLA_H

#include <stddef.h>
#include <stdint.h>

#define HX_GORILLA_MAXK 4 /* values per point */

struct hx_gorilla_enc {
	uint8_t *data;
	size_t	 len; /* bytes, the partial last one too */
	size_t	 alloc;
	unsigned free; /* unused low bits of data[len - 1] */
	unsigned k;
	uint32_t count;
	int64_t	 prev_t;
	uint64_t prev_delta;
	uint64_t prev_v[HX_GORILLA_MAXK];
	uint8_t	 lead[HX_GORILLA_MAXK]; /* window; 0xff: none */
	uint8_t	 trail[HX_GORILLA_MAXK];
};

struct hx_gorilla_dec {
	const uint8_t *data;
	size_t	       nbits;
	size_t	       pos;
	unsigned       k;
	uint32_t       left; /* points still to read */
	uint32_t       done;
	int64_t	       prev_t;
	uint64_t       prev_delta;
	uint64_t       prev_v[HX_GORILLA_MAXK];
	uint8_t	       lead[HX_GORILLA_MAXK];
	uint8_t	       trail[HX_GORILLA_MAXK];
};

/* An empty block of k (1 .. HX_GORILLA_MAXK) values per point. */
void hx_gorilla_enc_init(struct hx_gorilla_enc *e, unsigned k);
/* Append one point; v holds k values. Never fails (allocation aborts). */
void hx_gorilla_enc_add(struct hx_gorilla_enc *e, int64_t t, const double *v);
/* Free the buffer; the encoder may be reused after _init. */
void hx_gorilla_enc_release(struct hx_gorilla_enc *e);

/*
 * Read count points of k values from len bytes at data (not copied: it
 * must outlive the decoder).
 */
void hx_gorilla_dec_init(struct hx_gorilla_dec *d, const void *data, size_t len,
    uint32_t count, unsigned k);
/*
 * The next point into *t and v[0 .. k-1]. Returns 1, 0 after the last
 * point, or -1 when the stream ends early (a damaged block).
 */
int hx_gorilla_dec_next(struct hx_gorilla_dec *d, int64_t *t, double *v);

#endif
