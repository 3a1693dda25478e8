/*
 * spark.h - horcrux-top's short history of a series: a ring of time
 * buckets (one cell of a sparkline each) filled from the history API's
 * answer and extended by live samples, and the pure helpers that turn
 * values into block characters and range figures. No curses and no I/O.
 *
 * One point per bucket, not per sample: a bucket of step_ms holds the
 * average of the samples that fell in it, so a sparkline's cell is a
 * fixed span of time whatever the daemon's sampling interval, the
 * history can be asked for at exactly that step, and a live sample
 * changes only the newest cell until the next bucket begins. A bucket
 * with no sample is a gap (drawn blank), never a zero.
 */
#ifndef TOP_SPARK_H
#define TOP_SPARK_H

#include <stddef.h>
#include <stdint.h>

/* Buckets a ring keeps: the widest sparkline, and what history fills. */
#define SPARK_RING 120

struct spark {
	int64_t	 head; /* bucket number (t / step) of the newest; -1: empty */
	double	 sum[SPARK_RING];
	uint32_t n[SPARK_RING];
};

void spark_init(struct spark *s);

/* The bucket number of wall time t_ms for buckets of step_ms. */
int64_t spark_bucket(int64_t t_ms, int64_t step_ms);

/*
 * Add a live sample at wall time t_ms to its bucket (averaged with what
 * the bucket holds); the ring moves on when t_ms is in a newer bucket,
 * leaving gaps for buckets nothing fell in. NaN (a null) adds nothing; a
 * sample older than the ring is dropped.
 */
void spark_add(struct spark *s, int64_t step_ms, int64_t t_ms, double v);

/*
 * Set the bucket of t_ms to v, as one sample (a point of the history
 * API's answer at this step); NaN makes it a gap.
 */
void spark_set(struct spark *s, int64_t step_ms, int64_t t_ms, double v);

/*
 * The ncells buckets ending with bucket end (oldest first) into out: each
 * bucket's average, NaN for a gap or one outside the ring.
 */
void spark_cells(const struct spark *s, int64_t end, double *out,
    size_t ncells);

/* The largest finite value of cells, or 0 when there is none. */
double spark_max(const double *cells, size_t n);

/*
 * The block level 0..7 of v on a scale from 0 to hi (values at or below
 * 0 are 0, at or above hi 7), or -1 for NaN.
 */
int spark_level(double v, double hi);

/*
 * The sparkline of n cells on a scale from 0 to hi into out (NUL-
 * terminated): the blocks U+2581..U+2588 in UTF-8, or the ASCII ramp
 * "_.:-=+*#" when ascii is set; a gap is a space. Returns the number of
 * cells written (fewer when out is too small: 3 bytes a cell in UTF-8).
 */
size_t spark_render(const double *cells, size_t n, double hi, int ascii,
    char *out, size_t outlen);

/*
 * One level of a bar of eighths (the graph view's columns): the block
 * character for eighths 1..8 (8: the full block) into out, or in ASCII
 * '#' for a full cell and '.' for a part. out holds at least 4 bytes.
 */
void spark_block(int eighths, int ascii, char *out);

/*
 * The figures of a range: the smallest of mins (the values when mins is
 * NULL), the mean of the values, the largest of maxs (or the values).
 * NaN entries are skipped; all three are NaN when no value is finite.
 */
void spark_stats(const double *v, const double *mins, const double *maxs,
    size_t n, double *mn, double *avg, double *mx);

/*
 * The value of plot column c of ncols over [from_ms, to_ms) from the n
 * points (t ascending, v) of step step_ms: the mean of the points that
 * start in the column, else the value of the point whose bucket covers
 * the column's start; NaN when there is none (a gap).
 */
double spark_column(const int64_t *t, const double *v, size_t n,
    int64_t step_ms, int64_t from_ms, int64_t to_ms, int c, int ncols);

#endif
