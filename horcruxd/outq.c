/*
 * outq.c - coalescing slots and the bounded FIFO (see outq.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hx-util.h"
#include "outq.h"

void
outq_init(struct outq *o, size_t max)
{
	memset(o, 0, sizeof *o);
	o->max = max;
}

static void
push_slot(struct outq *o, struct frame *f)
{
	size_t i;

	for (i = 0; i < o->nslots; i++) {
		if (strcmp(o->slots[i]->key, f->key) == 0) {
			frame_unref(o->slots[i]);
			o->slots[i] = frame_ref(f);
			o->coalesced++;
			return;
		}
	}
	if (o->nslots == o->slotcap) {
		o->slotcap = o->slotcap ? o->slotcap * 2 : 4;
		o->slots = xrealloc(o->slots, o->slotcap * sizeof *o->slots);
	}
	o->slots[o->nslots++] = frame_ref(f);
}

int
outq_push(struct outq *o, struct frame *f)
{
	size_t i;

	if (f->key != NULL) {
		push_slot(o, f);
		return 0;
	}
	if (o->qlen >= o->max)
		return -1;
	if (o->qlen == o->qcap) {
		/* Grow the ring and unwrap it at the same time. */
		size_t	       ncap = o->qcap ? o->qcap * 2 : 16;
		struct frame **nq = xmalloc(ncap * sizeof *nq);

		for (i = 0; i < o->qlen; i++)
			nq[i] = o->q[(o->qhead + i) % o->qcap];
		free(o->q);
		o->q = nq;
		o->qcap = ncap;
		o->qhead = 0;
	}
	o->q[(o->qhead + o->qlen) % o->qcap] = frame_ref(f);
	o->qlen++;
	return 0;
}

struct frame *
outq_pop(struct outq *o)
{
	struct frame *f;

	if (o->qlen > 0) {
		f = o->q[o->qhead];
		o->qhead = (o->qhead + 1) % o->qcap;
		o->qlen--;
		return f;
	}
	if (o->nslots > 0) {
		f = o->slots[0];
		memmove(o->slots, o->slots + 1,
		    (o->nslots - 1) * sizeof *o->slots);
		o->nslots--;
		return f;
	}
	return NULL;
}

int
outq_empty(const struct outq *o)
{
	return o->qlen == 0 && o->nslots == 0;
}

void
outq_clear(struct outq *o)
{
	size_t i;

	for (i = 0; i < o->qlen; i++)
		frame_unref(o->q[(o->qhead + i) % o->qcap]);
	o->qlen = o->qhead = 0;
	for (i = 0; i < o->nslots; i++)
		frame_unref(o->slots[i]);
	o->nslots = 0;
}

void
outq_release(struct outq *o)
{
	outq_clear(o);
	free(o->q);
	free(o->slots);
	o->q = o->slots = NULL;
	o->qcap = o->slotcap = 0;
}
