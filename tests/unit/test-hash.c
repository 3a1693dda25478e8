/*
 * test-hash.c - the string-keyed index (lib/hx-hash.c): set, add, get,
 * delete, case-blind keys, growth, and a long random churn checked
 * against a plain array, so that backward-shift deletion never loses a
 * key that sits behind a deleted one in a probe run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx-hash.h"
#include "hx-util.h"
#include "tap.h"

static void
test_basics(void)
{
	struct hx_hash *h = hx_hash_new(0);
	size_t		v = 99;

	ok(hx_hash_get(h, "a", &v) == -1 && v == 99, "empty: nothing found");
	ok(hx_hash_del(h, "a") == -1, "empty: nothing to delete");
	hx_hash_set(h, "a", 1);
	hx_hash_set(h, "b", 2);
	ok(hx_hash_get(h, "a", &v) == 0 && v == 1, "a is 1");
	ok(hx_hash_get(h, "b", &v) == 0 && v == 2, "b is 2");
	ok(hx_hash_get(h, "A", &v) == -1, "keys compare exactly");
	ok(hx_hash_get(h, "", &v) == -1, "the empty key is absent");
	hx_hash_set(h, "a", 3);
	ok(hx_hash_get(h, "a", &v) == 0 && v == 3, "set replaces");
	ok(hx_hash_add(h, "a", 4) == -1 && hx_hash_get(h, "a", &v) == 0 &&
		v == 3,
	    "add keeps the old value");
	ok(hx_hash_add(h, "c", 5) == 0 && hx_hash_get(h, "c", &v) == 0 &&
		v == 5,
	    "add adds a new key");
	is_int(hx_hash_count(h), 3, "three keys");
	ok(hx_hash_del(h, "a") == 0 && hx_hash_get(h, "a", &v) == -1,
	    "a deleted");
	ok(hx_hash_del(h, "a") == -1, "a deleted once only");
	is_int(hx_hash_count(h), 2, "two keys");
	hx_hash_clear(h);
	is_int(hx_hash_count(h), 0, "cleared");
	ok(hx_hash_get(h, "b", &v) == -1, "b gone after clear");
	hx_hash_set(h, "b", 7);
	ok(hx_hash_get(h, "b", &v) == 0 && v == 7, "usable after clear");
	hx_hash_free(h);
	hx_hash_free(NULL);

	h = hx_hash_new(1);
	hx_hash_set(h, "0B7E5A3C-0000-4000-8000-00000000000A", 1);
	ok(hx_hash_get(h, "0b7e5a3c-0000-4000-8000-00000000000a", &v) == 0 &&
		v == 1,
	    "nocase: a UUID in either case");
	ok(hx_hash_add(h, "0b7e5a3c-0000-4000-8000-00000000000A", 2) == -1,
	    "nocase: the same key in another case is there");
	ok(hx_hash_del(h, "0b7e5a3c-0000-4000-8000-00000000000a") == 0 &&
		hx_hash_count(h) == 0,
	    "nocase: deleted in another case");
	hx_hash_free(h);
}

/* Random keys from a small set, so runs collide, deletes hit and miss. */
static void
test_churn(void)
{
	enum {
		NKEYS = 3000,
		STEPS = 200000
	};
	struct hx_hash *h = hx_hash_new(0);
	long	       *model = xmalloc(NKEYS * sizeof *model);
	char		key[32];
	size_t		v, count = 0, i, bad = 0;
	unsigned int	seed = 16;
	int		k, op;

	for (k = 0; k < NKEYS; k++)
		model[k] = -1;
	for (i = 0; i < STEPS; i++) {
		k = rand_r(&seed) % NKEYS;
		op = rand_r(&seed) % 3;
		snprintf(key, sizeof key, "vm-%d", k);
		if (op == 0) {
			if ((hx_hash_del(h, key) == 0) != (model[k] >= 0))
				bad++;
			if (model[k] >= 0)
				count--;
			model[k] = -1;
		} else if (op == 1) {
			if (model[k] < 0)
				count++;
			model[k] = (long)i;
			hx_hash_set(h, key, i);
		} else {
			if (hx_hash_get(h, key, &v) == 0) {
				if (model[k] != (long)v)
					bad++;
			} else if (model[k] >= 0)
				bad++;
		}
	}
	ok(bad == 0, "%d random steps agree with a plain array", STEPS);
	is_int(hx_hash_count(h), count, "the count agrees");
	for (k = 0, bad = 0; k < NKEYS; k++) {
		snprintf(key, sizeof key, "vm-%d", k);
		if ((hx_hash_get(h, key, &v) == 0) != (model[k] >= 0) ||
		    (model[k] >= 0 && (long)v != model[k]))
			bad++;
	}
	is_str(bad == 0 ? "none" : "some", "none",
	    "every key checked at the end");
	free(model);
	hx_hash_free(h);
}

int
main(void)
{
	test_basics();
	test_churn();
	return done_testing();
}
