/*
 * hx-hash.c - a string-keyed open-addressing index (see hx-hash.h).
 *
 * FNV-1a over the key's bytes (folded to lower case for a case-blind
 * index) picks the home slot; the table is a power of two kept at most
 * half full, so probe runs stay short. Deleting shifts the following
 * entries of the run back (Knuth's algorithm R): no tombstones, no
 * rebuilds after churn. It is not meant for untrusted keys chosen to
 * collide: it indexes names and UUIDs the local libvirt gives us.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx-hash.h"
#include "hx-util.h"

#define HASH_MIN_SLOTS 16

struct hash_slot {
	char	*key; /* NULL: empty */
	uint64_t code;
	size_t	 val;
};

struct hx_hash {
	struct hash_slot *slots;
	size_t		  nslots; /* a power of two, or 0 */
	size_t		  n;
	int		  nocase;
};

static uint64_t
hash_code(const struct hx_hash *h, const char *key)
{
	uint64_t      c = 1469598103934665603ULL;
	unsigned char b;

	for (; *key != '\0'; key++) {
		b = (unsigned char)*key;
		if (h->nocase && b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		c ^= b;
		c *= 1099511628211ULL;
	}
	return c;
}

static int
hash_same(const struct hx_hash *h, const struct hash_slot *s, uint64_t code,
    const char *key)
{
	if (s->code != code)
		return 0;
	return h->nocase ? strcasecmp(s->key, key) == 0 :
			   strcmp(s->key, key) == 0;
}

struct hx_hash *
hx_hash_new(int nocase)
{
	struct hx_hash *h = xcalloc(1, sizeof *h);

	h->nocase = nocase;
	return h;
}

void
hx_hash_clear(struct hx_hash *h)
{
	size_t i;

	for (i = 0; i < h->nslots; i++) {
		free(h->slots[i].key);
		h->slots[i].key = NULL;
	}
	h->n = 0;
}

void
hx_hash_free(struct hx_hash *h)
{
	if (h == NULL)
		return;
	hx_hash_clear(h);
	free(h->slots);
	free(h);
}

/* The slot holding key, or the empty slot ending its probe run. */
static size_t
hash_find(const struct hx_hash *h, const char *key, uint64_t code)
{
	size_t mask = h->nslots - 1, i = (size_t)code & mask;

	while (
	    h->slots[i].key != NULL && !hash_same(h, &h->slots[i], code, key))
		i = (i + 1) & mask;
	return i;
}

static void
hash_grow(struct hx_hash *h)
{
	struct hash_slot *old = h->slots;
	size_t		  nold = h->nslots, i, j;

	h->nslots = nold ? nold * 2 : HASH_MIN_SLOTS;
	h->slots = xcalloc(h->nslots, sizeof *h->slots);
	for (i = 0; i < nold; i++) {
		if (old[i].key == NULL)
			continue;
		j = (size_t)old[i].code & (h->nslots - 1);
		while (h->slots[j].key != NULL)
			j = (j + 1) & (h->nslots - 1);
		h->slots[j] = old[i];
	}
	free(old);
}

int
hx_hash_get(const struct hx_hash *h, const char *key, size_t *val)
{
	size_t i;

	if (h->n == 0)
		return -1;
	i = hash_find(h, key, hash_code(h, key));
	if (h->slots[i].key == NULL)
		return -1;
	*val = h->slots[i].val;
	return 0;
}

/* Put key with val; replace says what to do when key is there. */
static int
hash_put(struct hx_hash *h, const char *key, size_t val, int replace)
{
	uint64_t code = hash_code(h, key);
	size_t	 i;

	if ((h->n + 1) * 2 > h->nslots)
		hash_grow(h);
	i = hash_find(h, key, code);
	if (h->slots[i].key != NULL) {
		if (!replace)
			return -1;
		h->slots[i].val = val;
		return 0;
	}
	h->slots[i].key = xstrdup(key);
	h->slots[i].code = code;
	h->slots[i].val = val;
	h->n++;
	return 0;
}

void
hx_hash_set(struct hx_hash *h, const char *key, size_t val)
{
	hash_put(h, key, val, 1);
}

int
hx_hash_add(struct hx_hash *h, const char *key, size_t val)
{
	return hash_put(h, key, val, 0);
}

int
hx_hash_del(struct hx_hash *h, const char *key)
{
	size_t mask, i, j, home;

	if (h->n == 0)
		return -1;
	mask = h->nslots - 1;
	i = hash_find(h, key, hash_code(h, key));
	if (h->slots[i].key == NULL)
		return -1;
	free(h->slots[i].key);
	h->slots[i].key = NULL;
	h->n--;
	/* Pull back every later entry of the run that may live in slot i. */
	for (j = (i + 1) & mask; h->slots[j].key != NULL; j = (j + 1) & mask) {
		home = (size_t)h->slots[j].code & mask;
		/* j's home lies cyclically in (i, j]: it must stay. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		h->slots[i] = h->slots[j];
		h->slots[j].key = NULL;
		i = j;
	}
	return 0;
}

size_t
hx_hash_count(const struct hx_hash *h)
{
	return h->n;
}
