/*
 * outq.h - a WebSocket session's outgoing frames: coalescing slots for
 * metrics and a bounded FIFO for everything else.
 *
 * A frame with a key (NodeMetrics, VmMetrics of one VM, Ping) replaces an
 * unsent frame with the same key, so a slow reader always gets the newest
 * value and never a backlog; a frame without a key waits its turn in a
 * FIFO of at most `max` frames. Frames are shared, never copied: the
 * queue holds a reference to each. No lws, no I/O: ws-session.c decides
 * when to write and what to do when the FIFO is full.
 */
#ifndef HORCRUXD_OUTQ_H
#define HORCRUXD_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct outq {
	struct frame **q; /* discrete frames, a ring */
	size_t	       qhead, qlen, qcap;
	struct frame **slots; /* coalesced metric frames, oldest key
					   first */
	size_t	       nslots, slotcap;
	size_t	       max; /* discrete frames at most */
	uint64_t       coalesced; /* slot frames replaced unsent */
};

void outq_init(struct outq *o, size_t max);
/*
 * Queue f, taking a reference. Returns 0, or -1 when f has no key and
 * `max` discrete frames are already waiting (nothing is queued then).
 */
int outq_push(struct outq *o, struct frame *f);
/*
 * The next frame to write, discrete events before metrics, or NULL when
 * nothing waits. The caller owns the returned reference.
 */
struct frame *outq_pop(struct outq *o);
int	      outq_empty(const struct outq *o);
/* Drop every queued frame; the queue stays usable. */
void outq_clear(struct outq *o);
/* Drop every queued frame and free the arrays. */
void outq_release(struct outq *o);

#endif
