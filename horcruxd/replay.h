/*
 * replay.h - the replay ring of DESIGN §3 "Batching and resume": the
 * newest discrete events (those that carry a seq), held by reference,
 * so a client that reconnects can ask for what it missed.
 *
 * Retention is the last `cap` events (10,000) and at most 15 minutes,
 * whichever is fewer, and at most `max_bytes` of frame text besides
 * (a cap on memory whatever the events' size). Because every discrete
 * event enters the ring in seq order, with no seq skipped, the entry at
 * index i of the retained run has seq oldest + i. Frames are shared,
 * never copied; the ring knows nothing of sessions, privileges or lws.
 * Service thread only.
 */
#ifndef HORCRUXD_REPLAY_H
#define HORCRUXD_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define REPLAY_EVENTS 10000
#define REPLAY_AGE_NS (15ULL * 60 * 1000000000ULL)
#define REPLAY_BYTES (16U * 1024 * 1024)

struct replay_ent {
	struct frame *f;
	uint64_t      at_ns; /* monotonic time it entered */
};

struct replay {
	struct replay_ent *e; /* a ring of cap entries */
	size_t		   cap, head, len;
	size_t		   bytes, max_bytes; /* frame text held, cap */
	uint64_t	   max_age_ns;
	int64_t		   newest; /* the newest seq pushed, 0: none yet */
};

/* An empty ring of at most cap events, max_age_ns old, max_bytes of text. */
void replay_init(struct replay *r, size_t cap, uint64_t max_age_ns,
    size_t max_bytes);
/* Drop every frame and free the ring. */
void replay_release(struct replay *r);
/*
 * Keep f (a reference is taken); f->seq must be newest + 1. The oldest
 * events leave to make room, and those older than the age limit.
 */
void replay_push(struct replay *r, struct frame *f, uint64_t now_ns);
/* Let events older than the age limit go. */
void replay_expire(struct replay *r, uint64_t now_ns);
/*
 * Can a client that saw everything up to seq `after` be given all it
 * missed? 1 when every event after it is still retained (or there is
 * none), 0 when some already left or `after` is beyond the newest.
 */
int replay_covers(const struct replay *r, int64_t after);
/*
 * The retained events after seq `after`, oldest first: *n of them from
 * index *first; fetch each with replay_at. Call when replay_covers.
 */
void replay_range(const struct replay *r, int64_t after, size_t *first,
    size_t *n);
/* The i-th retained event, oldest first (borrowed). */
struct frame *replay_at(const struct replay *r, size_t i);

#endif
