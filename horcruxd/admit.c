/*
 * admit.c - counts by key for admission, the descriptor plan and the
 * refusal log's rate (see admit.h). No lws, no I/O besides getrandom(2)
 * for a table's seed, so the unit test drives every rule directly.
 *
 * The hash is FNV-1a started from a random seed: not a keyed MAC, but a
 * peer cannot choose addresses that land in one bucket without knowing
 * the seed, and a chain is never longer than the connections the other
 * limits already admitted.
 */
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "hx-util.h"

#define ADMIT_FD_CAP 1048576ULL
#define NS_PER_S 1000000000ULL

static uint64_t
hash_key(uint64_t seed, const char *key)
{
	uint64_t h = 1469598103934665603ULL ^ seed;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	return h;
}

void
admit_table_init(struct admit_table *t)
{
	memset(t, 0, sizeof *t);
}

void
admit_table_release(struct admit_table *t)
{
	struct admit_node *n, *next;
	size_t		   i;

	for (i = 0; i < t->nbuckets; i++) {
		for (n = t->buckets[i]; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(t->buckets);
	admit_table_init(t);
}

static struct admit_node *
find(const struct admit_table *t, const char *key, uint64_t h)
{
	struct admit_node *n;

	if (t->nbuckets == 0)
		return NULL;
	for (n = t->buckets[h & (t->nbuckets - 1)]; n != NULL; n = n->next) {
		if (n->hash == h && strcmp(n->key, key) == 0)
			return n;
	}
	return NULL;
}

unsigned
admit_count(const struct admit_table *t, const char *key)
{
	struct admit_node *n;

	if (t->nbuckets == 0)
		return 0;
	n = find(t, key, hash_key(t->seed, key));
	return n != NULL ? n->n : 0;
}

/* Double the buckets (16 at first), relinking nodes: their addresses stay. */
static void
grow(struct admit_table *t)
{
	struct admit_node **b, *n, *next;
	size_t		    i, nb = t->nbuckets ? t->nbuckets * 2 : 16;

	if (t->nbuckets == 0 &&
	    getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) !=
		(ssize_t)sizeof t->seed)
		t->seed = hx_mono_ns() ^ (uint64_t)(uintptr_t)t;
	b = xcalloc(nb, sizeof *b);
	for (i = 0; i < t->nbuckets; i++) {
		for (n = t->buckets[i]; n != NULL; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

struct admit_node *
admit_hold(struct admit_table *t, const char *key)
{
	struct admit_node *n;
	uint64_t	   h;
	size_t		   len;

	if (t->nbuckets == 0)
		grow(t);
	h = hash_key(t->seed, key);
	if ((n = find(t, key, h)) != NULL) {
		n->n++;
		return n;
	}
	if (t->nkeys >= t->nbuckets)
		grow(t);
	len = strlen(key) + 1;
	n = xmalloc(sizeof *n + len);
	memcpy(n->key, key, len);
	n->hash = h;
	n->n = 1;
	n->next = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = n;
	t->nkeys++;
	return n;
}

void
admit_drop(struct admit_table *t, struct admit_node *n)
{
	struct admit_node **pp;

	if (n == NULL || n->n == 0)
		return;
	if (--n->n > 0)
		return;
	for (pp = &t->buckets[n->hash & (t->nbuckets - 1)]; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			t->nkeys--;
			free(n);
			return;
		}
	}
}

uint64_t
admit_fd_need(unsigned max_clients)
{
	return (uint64_t)max_clients + ADMIT_FD_HTTP + ADMIT_FD_UNIX +
	    ADMIT_FD_FIXED + ADMIT_FD_OTHER;
}

void
admit_fd_share(uint64_t lim, unsigned max_clients, unsigned reserved_unix,
    unsigned listeners, struct admit_fds *out)
{
	uint64_t lws_fds, fixed = (uint64_t)listeners + 3, avail;

	if (lim > ADMIT_FD_CAP)
		lim = ADMIT_FD_CAP;
	out->lim = lim;
	lws_fds = lim > 2 * ADMIT_FD_OTHER ? lim - ADMIT_FD_OTHER : lim / 2;
	out->lws_fds = (unsigned)lws_fds;
	/* TCP peers may not take the last ADMIT_FD_UNIX from the socket. */
	if (lws_fds > fixed + 2 * ADMIT_FD_UNIX)
		out->tcp_max = (unsigned)(lws_fds - fixed - ADMIT_FD_UNIX);
	else
		out->tcp_max = (unsigned)(lws_fds > fixed * 2 ?
			(lws_fds - fixed) / 2 :
			1);
	/*
	 * Sessions: what lws may poll less the fixed ones and room for
	 * HTTP requests; a small limit gives half to each.
	 */
	avail = lws_fds > fixed ? lws_fds - fixed : 1;
	avail = avail > 2 * ADMIT_FD_HTTP ? avail - ADMIT_FD_HTTP : avail / 2;
	if (avail == 0)
		avail = 1;
	out->clients_max = (uint64_t)max_clients < avail ? max_clients :
							   (unsigned)avail;
	out->unix_reserved = reserved_unix;
	if (out->clients_max < max_clients &&
	    out->unix_reserved > out->clients_max / 2)
		out->unix_reserved = out->clients_max / 2;
}

unsigned
admit_refused(struct admit_refusals *r, uint64_t now_ns)
{
	unsigned n;

	r->pending++;
	if (r->last_ns != 0 && now_ns - r->last_ns < NS_PER_S)
		return 0;
	n = r->pending;
	r->pending = 0;
	r->last_ns = now_ns;
	return n;
}

unsigned
admit_refusals_due(struct admit_refusals *r, uint64_t now_ns)
{
	unsigned n;

	if (r->pending == 0 || now_ns - r->last_ns < NS_PER_S)
		return 0;
	n = r->pending;
	r->pending = 0;
	r->last_ns = now_ns;
	return n;
}
