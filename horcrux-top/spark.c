/*
 * spark.c - rings of time buckets and their block characters (see
 * spark.h). Bucket numbers are absolute (t / step), so every ring of one
 * step lines up in time and a slot is its bucket number modulo the ring.
 */
#include <math.h>
#include <string.h>

#include "spark.h"

void
spark_init(struct spark *s)
{
	memset(s, 0, sizeof(*s));
	s->head = -1;
}

int64_t
spark_bucket(int64_t t_ms, int64_t step_ms)
{
	int64_t b = t_ms / step_ms;

	return b * step_ms > t_ms ? b - 1 : b;
}

static size_t
slot(int64_t b)
{
	int64_t r = b % SPARK_RING;

	return (size_t)(r < 0 ? r + SPARK_RING : r);
}

/*
 * The slot of bucket b, the ring moved on to it when it is newer than the
 * head (the buckets passed over emptied); SIZE_MAX when b is older than
 * the ring.
 */
static size_t
reach(struct spark *s, int64_t b)
{
	int64_t k;

	if (s->head < 0 || b - s->head >= SPARK_RING) {
		memset(s->n, 0, sizeof(s->n));
		memset(s->sum, 0, sizeof(s->sum));
		s->head = b;
	} else if (b > s->head) {
		for (k = s->head + 1; k <= b; k++) {
			s->n[slot(k)] = 0;
			s->sum[slot(k)] = 0;
		}
		s->head = b;
	} else if (s->head - b >= SPARK_RING)
		return SIZE_MAX;
	return slot(b);
}

void
spark_add(struct spark *s, int64_t step_ms, int64_t t_ms, double v)
{
	size_t i;

	if (!isfinite(v) ||
	    (i = reach(s, spark_bucket(t_ms, step_ms))) == SIZE_MAX)
		return;
	s->sum[i] += v;
	s->n[i]++;
}

void
spark_set(struct spark *s, int64_t step_ms, int64_t t_ms, double v)
{
	size_t i = reach(s, spark_bucket(t_ms, step_ms));

	if (i == SIZE_MAX)
		return;
	s->sum[i] = isfinite(v) ? v : 0;
	s->n[i] = isfinite(v) ? 1 : 0;
}

void
spark_cells(const struct spark *s, int64_t end, double *out, size_t ncells)
{
	size_t i;

	for (i = 0; i < ncells; i++) {
		int64_t b = end - (int64_t)(ncells - 1 - i);

		if (s->head < 0 || b > s->head || s->head - b >= SPARK_RING ||
		    s->n[slot(b)] == 0)
			out[i] = NAN;
		else
			out[i] = s->sum[slot(b)] / s->n[slot(b)];
	}
}

double
spark_max(const double *cells, size_t n)
{
	double hi = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (isfinite(cells[i]) && cells[i] > hi)
			hi = cells[i];
	return hi;
}

int
spark_level(double v, double hi)
{
	int l;

	if (isnan(v))
		return -1;
	if (!(hi > 0) || v <= 0)
		return 0;
	l = (int)floor(v / hi * 8);
	return l > 7 ? 7 : l < 0 ? 0 : l;
}

static const char ascii_ramp[] = "_.:-=+*#";

size_t
spark_render(const double *cells, size_t n, double hi, int ascii, char *out,
    size_t outlen)
{
	size_t i, len = 0, need = ascii ? 1 : 3;

	for (i = 0; i < n && len + need < outlen; i++) {
		int l = spark_level(cells[i], hi);

		if (l < 0)
			out[len++] = ' ';
		else if (ascii)
			out[len++] = ascii_ramp[l];
		else {
			/* U+2581 + l: E2 96 81..88 */
			out[len++] = (char)0xe2;
			out[len++] = (char)0x96;
			out[len++] = (char)(0x81 + l);
		}
	}
	if (outlen > 0)
		out[len < outlen ? len : outlen - 1] = '\0';
	return i;
}

void
spark_block(int eighths, int ascii, char *out)
{
	if (eighths <= 0) {
		out[0] = ' ';
		out[1] = '\0';
	} else if (ascii) {
		out[0] = eighths >= 8 ? '#' : '.';
		out[1] = '\0';
	} else {
		out[0] = (char)0xe2;
		out[1] = (char)0x96;
		out[2] = (char)(0x80 + (eighths > 8 ? 8 : eighths));
		out[3] = '\0';
	}
}

void
spark_stats(const double *v, const double *mins, const double *maxs, size_t n,
    double *mn, double *avg, double *mx)
{
	double sum = 0, lo = NAN, hi = NAN;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		double a = mins != NULL && isfinite(mins[i]) ? mins[i] : v[i];
		double b = maxs != NULL && isfinite(maxs[i]) ? maxs[i] : v[i];

		if (isfinite(v[i])) {
			sum += v[i];
			k++;
		}
		if (isfinite(a) && (isnan(lo) || a < lo))
			lo = a;
		if (isfinite(b) && (isnan(hi) || b > hi))
			hi = b;
	}
	*mn = lo;
	*mx = hi;
	*avg = k > 0 ? sum / (double)k : NAN;
}

double
spark_column(const int64_t *t, const double *v, size_t n, int64_t step_ms,
    int64_t from_ms, int64_t to_ms, int c, int ncols)
{
	int64_t span = to_ms - from_ms;
	int64_t c0 = from_ms + span * c / ncols;
	int64_t c1 = from_ms + span * (c + 1) / ncols;
	double	sum = 0, cover = NAN;
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (t[i] >= c0 && t[i] < c1) {
			if (isfinite(v[i])) {
				sum += v[i];
				k++;
			}
		} else if (t[i] < c0 && t[i] + step_ms > c0)
			cover = v[i];
	}
	if (k > 0)
		return sum / (double)k;
	return isfinite(cover) ? cover : NAN;
}
