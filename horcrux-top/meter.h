/*
 * meter.h - horcrux-top's header meters as htop's meter classes: one const
 * table, one class per meter (the CPUs, CPU, memory, swap, mounts, load,
 * uptime, VM count, disk and network rates, the sparklines), each able to draw itself on
 * the screen and write its batch text. screen.c lays the classes out in
 * the header and batch.c on its lines; neither knows what a meter shows.
 * Meters read the model's typed NodeMetrics, never JSON keys.
 */
#ifndef TOP_METER_H
#define TOP_METER_H

#include "hx-util.h"
#include "model.h"

enum top_meter_id {
	METER_CPUS, /* a bar per CPU, or a grid of level cells */
	METER_CPU,
	METER_CPU_SPLIT, /* user, system, iowait, steal */
	METER_MEM,
	METER_SWAP,
	METER_MOUNTS, /* a bar per watched mount */
	METER_LOAD,
	METER_UPTIME,
	METER_VMS,
	METER_DISK,
	METER_NET,
	METER_HIST, /* sparklines: CPU, memory, network rx and tx */
	METER_COUNT
};

struct top_meter_class {
	const char *name;
	/*
	 * Draw in w columns from row y, column x, with screen.c's
	 * primitives. Returns the rows used. Only called with a NodeMetrics.
	 */
	int (*draw)(const struct top_model *m, int y, int x, int w);
	/*
	 * Append this meter's batch text (no newline at the end) to b.
	 * Returns 0 when it wrote nothing (an absent figure is left out).
	 */
	int (*text)(const struct top_model *m, struct hx_buf *b);
};

extern const struct top_meter_class top_meters[METER_COUNT];

#endif
