/*
 * test-spark.c - horcrux-top's sparklines without a terminal: the ring of
 * buckets (averages, gaps, moving on, samples too old), block characters
 * and the ASCII ramp (a gap is a space, zero the lowest block), the
 * figures of a range with and without the API's min/max arrays, a graph
 * column's value, and the model taking a history answer then live
 * samples (none counted twice).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "model.h"
#include "spark.h"
#include "tap.h"

#define STEP 10000

static void
test_ring(void)
{
	struct spark s;
	double	     c[SPARK_RING];

	spark_init(&s);
	spark_cells(&s, 100, c, 5);
	ok(isnan(c[0]) && isnan(c[4]), "an empty ring is all gaps");

	/* Two samples in bucket 100, one in 102: 101 is a gap. */
	spark_add(&s, STEP, 100 * STEP + 1, 10);
	spark_add(&s, STEP, 100 * STEP + 9999, 20);
	spark_add(&s, STEP, 102 * STEP, 50);
	spark_cells(&s, 102, c, 5);
	ok(isnan(c[0]) && isnan(c[1]), "before the first sample: gaps");
	is_near(c[2], 15, 1e-9, "a bucket is the average of its samples");
	ok(isnan(c[3]), "a bucket without a sample is a gap, not zero");
	is_near(c[4], 50, 1e-9, "the newest bucket on the right");

	spark_add(&s, STEP, 103 * STEP, NAN);
	is_int(s.head, 102, "a null sample does not move the ring");

	/* Far ahead: everything older leaves the ring. */
	spark_add(&s, STEP, (102 + SPARK_RING) * STEP, 7);
	spark_cells(&s, 102 + SPARK_RING, c, 2);
	ok(isnan(c[0]) && c[1] == 7, "a jump past the ring empties it");
	spark_cells(&s, 102, c, 1);
	ok(isnan(c[0]), "a bucket older than the ring reads as a gap");
	spark_add(&s, STEP, 102 * STEP, 99);
	spark_cells(&s, 102 + SPARK_RING, c, SPARK_RING);
	ok(isnan(c[0]), "a sample older than the ring is dropped");

	/* A history point sets its bucket as one sample. */
	spark_add(&s, STEP, (101 + SPARK_RING) * STEP, 1);
	spark_set(&s, STEP, (101 + SPARK_RING) * STEP, 40);
	spark_add(&s, STEP, (101 + SPARK_RING) * STEP + 5, 60);
	spark_cells(&s, 102 + SPARK_RING, c, 2);
	is_near(c[0], 50, 1e-9,
	    "set replaces the bucket, later samples "
	    "average with it");
	spark_set(&s, STEP, (101 + SPARK_RING) * STEP, NAN);
	spark_cells(&s, 102 + SPARK_RING, c, 2);
	ok(isnan(c[0]), "a null history point is a gap");

	is_int(spark_bucket(-1, STEP), -1, "buckets of negative times floor");
	is_int(spark_bucket(19999, STEP), 1, "bucket of 19999 ms");
}

static void
test_render(void)
{
	double cells[] = { NAN, 0, 12.5, 50, 99.9, 100, 250, NAN };
	char   out[64];
	size_t n;

	is_int(spark_level(NAN, 100), -1, "NaN has no level");
	is_int(spark_level(0, 100), 0, "zero is the lowest level");
	is_int(spark_level(-3, 100), 0, "below zero is the lowest level");
	is_int(spark_level(12.5, 100), 1, "12.5 of 100 is level 1");
	is_int(spark_level(100, 100), 7, "the top is level 7");
	is_int(spark_level(5, 0), 0, "no scale: level 0");

	n = spark_render(cells, 8, 100, 0, out, sizeof(out));
	is_int(n, 8, "eight cells rendered");
	is_str(out, " \u2581\u2582\u2585\u2588\u2588\u2588 ",
	    "UTF-8 blocks, gaps as spaces");
	spark_render(cells, 8, 100, 1, out, sizeof(out));
	is_str(out, " _.=### ", "gaps stay spaces in ASCII");
	spark_render(cells + 1, 3, 100, 1, out, sizeof(out));
	is_str(out, "_.=", "the ASCII ramp from the bottom");

	n = spark_render(cells, 8, 100, 0, out, 10);
	is_int(n, 3, "a short buffer takes whole cells only");
	is_int(strlen(out), 7, "and stays terminated");

	spark_block(8, 0, out);
	is_str(out, "\u2588", "eight eighths: the full block");
	spark_block(3, 0, out);
	is_str(out, "\u2583", "three eighths");
	spark_block(3, 1, out);
	is_str(out, ".", "a part in ASCII");
	spark_block(0, 0, out);
	is_str(out, " ", "nothing: blank");

	is_near(spark_max(cells, 8), 250, 0, "the largest finite value");
}

static void
test_stats(void)
{
	double v[] = { 10, NAN, 30, 20 };
	double mins[] = { 5, NAN, 25, 1 };
	double maxs[] = { 15, NAN, 90, 21 };
	double none[] = { NAN, NAN };
	double lo, avg, hi;

	spark_stats(v, NULL, NULL, 4, &lo, &avg, &hi);
	ok(lo == 10 && hi == 30, "raw: min and max of the points");
	is_near(avg, 20, 1e-12, "raw: the mean, nulls skipped");
	spark_stats(v, mins, maxs, 4, &lo, &avg, &hi);
	ok(lo == 1 && hi == 90, "aggregated: min of mins, max of maxes");
	is_near(avg, 20, 1e-12, "aggregated: the mean of the averages");
	spark_stats(none, NULL, NULL, 2, &lo, &avg, &hi);
	ok(isnan(lo) && isnan(avg) && isnan(hi), "no point: no figures");
}

static void
test_column(void)
{
	int64_t t[] = { 0, 60000, 120000, 300000 };
	double	v[] = { 10, 20, 30, 40 };

	/* 6 minutes in 12 columns of 30 s, points every minute. */
	is_near(spark_column(t, v, 4, 60000, 0, 360000, 0, 12), 10, 0,
	    "a point starting in the column");
	is_near(spark_column(t, v, 4, 60000, 0, 360000, 1, 12), 10, 0,
	    "a column inside the bucket of an earlier point");
	ok(isnan(spark_column(t, v, 4, 60000, 0, 360000, 7, 12)),
	    "a column no bucket covers is a gap");
	is_near(spark_column(t, v, 4, 60000, 0, 360000, 0, 2), 20, 1e-12,
	    "a wide column: the mean of its points");
}

static void
test_model(void)
{
	struct top_model m;
	json_t		*h, *vms;
	double		 c[4];

	model_init(&m);
	m.spark_step_ms = STEP;
	vms = json_loads("[{\"id\":\"u-1\",\"name\":\"web-1\",\"state\":"
			 "\"running\"}]",
	    0, NULL);
	model_set_vm_list(&m, vms);
	json_decref(vms);
	h = json_loads("{\"series\":["
		       "{\"name\":\"node:cpu_usage\",\"points\":[[1000000,10],"
		       "[1010000,null],[1020000,30],[1030000,40]]},"
		       "{\"name\":\"node:load_average:1\",\"points\":[[1000000,"
		       "1]]},"
		       "{\"name\":\"vm:web-1:cpu_usage\",\"points\":[[1030000,"
		       "55]]},"
		       "{\"name\":\"vm:gone:cpu_usage\",\"points\":[[1030000,"
		       "1]]}]}",
	    0, NULL);
	is_int(model_apply_history(&m, h), 2,
	    "the host's CPU and a known VM's CPU applied, others ignored");
	json_decref(h);
	is_int(m.spark_end, 103, "the lines end at the answer's newest bucket");
	model_spark_cells(&m, &m.hist[TOP_HIST_CPU], c, 4);
	ok(c[0] == 10 && isnan(c[1]) && c[2] == 30 && c[3] == 40,
	    "history points in their buckets, a null as a gap");
	model_spark_cells(&m, m.vms[0].cpu_hist, c, 1);
	ok(c[0] == 55, "a VM's series found by its name");

	/* A live sample in the answer's newest bucket may be in its average
	 * already: not counted twice. One in a later bucket is new. */
	ok(model_apply(&m,
	       "{\"type\":\"VmMetrics\",\"data\":{\"vm_id\":\"u-1\",\"name\":"
	       "\"web-1\",\"cpu_usage\":99,\"timestamp\":"
	       "\"1970-01-01T00:17:10.400Z\"}}",
	       strlen("{\"type\":\"VmMetrics\",\"data\":{\"vm_id\":\"u-1\","
		      "\"name\":\"web-1\",\"cpu_usage\":99,\"timestamp\":"
		      "\"1970-01-01T00:17:10.400Z\"}}"),
	       1) != 0,
	    "a VmMetrics applies");
	model_spark_cells(&m, m.vms[0].cpu_hist, c, 1);
	ok(c[0] == 55,
	    "a live sample of the newest history bucket is not "
	    "added");
	model_apply(&m,
	    "{\"type\":\"VmMetrics\",\"data\":{\"vm_id\":\"u-1\",\"name\":"
	    "\"web-1\",\"cpu_usage\":65,\"timestamp\":"
	    "\"1970-01-01T00:17:21.000Z\"}}",
	    strlen("{\"type\":\"VmMetrics\",\"data\":{\"vm_id\":\"u-1\","
		   "\"name\":\"web-1\",\"cpu_usage\":65,\"timestamp\":"
		   "\"1970-01-01T00:17:21.000Z\"}}"),
	    2);
	is_int(m.spark_end, 104, "a sample in a later bucket moves the end on");
	model_spark_cells(&m, m.vms[0].cpu_hist, c, 2);
	ok(c[0] == 55 && c[1] == 65, "and has its own cell");
	is_int(model_apply_history(&m, json_null()), -1, "not an answer: -1");
	model_release(&m);
}

int
main(void)
{
	test_ring();
	test_render();
	test_stats();
	test_column();
	test_model();
	return done_testing();
}
