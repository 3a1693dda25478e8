/*
 * replay.c - the replay ring of discrete events (see replay.h).
 */
#include <stdlib.h>

#include "hx-util.h"
#include "replay.h"

static size_t
frame_bytes(const struct frame *f)
{
	return f->len + (f->lesser != NULL ? f->lesser->len : 0);
}

void
replay_init(struct replay *r, size_t cap, uint64_t max_age_ns, size_t max_bytes)
{
	r->cap = cap > 0 ? cap : 1;
	r->e = xcalloc(r->cap, sizeof *r->e);
	r->head = r->len = 0;
	r->bytes = 0;
	r->max_bytes = max_bytes;
	r->max_age_ns = max_age_ns;
	r->newest = 0;
}

static void
drop_oldest(struct replay *r)
{
	struct replay_ent *e = &r->e[r->head];

	r->bytes -= frame_bytes(e->f);
	frame_unref(e->f);
	e->f = NULL;
	r->head = (r->head + 1) % r->cap;
	r->len--;
}

void
replay_release(struct replay *r)
{
	while (r->len > 0)
		drop_oldest(r);
	free(r->e);
	r->e = NULL;
}

void
replay_expire(struct replay *r, uint64_t now_ns)
{
	while (r->len > 0 && now_ns - r->e[r->head].at_ns > r->max_age_ns)
		drop_oldest(r);
}

void
replay_push(struct replay *r, struct frame *f, uint64_t now_ns)
{
	size_t b = frame_bytes(f);

	replay_expire(r, now_ns);
	while (r->len > 0 && (r->len == r->cap || r->bytes + b > r->max_bytes))
		drop_oldest(r);
	r->newest = f->seq;
	if (b > r->max_bytes)
		return; /* bigger than the whole ring: only its seq is kept */
	r->e[(r->head + r->len) % r->cap] = (struct replay_ent){ frame_ref(f),
		now_ns };
	r->len++;
	r->bytes += b;
}

/* The seq of the oldest retained event; newest + 1 when none is. */
static int64_t
oldest_seq(const struct replay *r)
{
	return r->len > 0 ? r->e[r->head].f->seq : r->newest + 1;
}

int
replay_covers(const struct replay *r, int64_t after)
{
	return after >= oldest_seq(r) - 1 && after <= r->newest;
}

void
replay_range(const struct replay *r, int64_t after, size_t *first, size_t *n)
{
	int64_t o = oldest_seq(r);

	*first = after + 1 > o ? (size_t)(after + 1 - o) : 0;
	*n = *first < r->len ? r->len - *first : 0;
}

struct frame *
replay_at(const struct replay *r, size_t i)
{
	return i < r->len ? r->e[(r->head + i) % r->cap].f : NULL;
}
