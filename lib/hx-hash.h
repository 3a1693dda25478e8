/*
 * hx-hash.h - a string-keyed index: each key maps to one size_t (an index
 * into the caller's array, most often).
 *
 * Open addressing with linear probing and backward-shift deletion, so
 * there are no tombstones and a lookup costs the same however many keys
 * came and went. The table keeps its own copy of every key; the values
 * are the caller's business. Keys compare exactly, or ignoring ASCII case
 * (UUIDs) when the index is made so. It is not thread-safe: its owner
 * guards it as it guards the array it indexes. It never prints or exits.
 */
#ifndef HX_HASH_H
#define HX_HASH_H

#include <stddef.h>

struct hx_hash;

/* An empty index (never NULL); nocase: keys compare ignoring ASCII case. */
struct hx_hash *hx_hash_new(int nocase);
/* Free the index and its key copies; NULL is a no-op. */
void hx_hash_free(struct hx_hash *h);
/* Forget every key, keeping the table's memory for reuse. */
void hx_hash_clear(struct hx_hash *h);
/* Returns 0 and sets *val when key is present, else -1 (*val untouched). */
int hx_hash_get(const struct hx_hash *h, const char *key, size_t *val);
/* Map key (copied) to val, replacing any value it had. */
void hx_hash_set(struct hx_hash *h, const char *key, size_t val);
/*
 * Map key to val only if key is absent. Returns 0 when it was added, -1
 * (the old value left in place) when key was there.
 */
int hx_hash_add(struct hx_hash *h, const char *key, size_t val);
/* Remove key. Returns 0 when it was there, -1 when it was not. */
int hx_hash_del(struct hx_hash *h, const char *key);
/* How many keys are present. */
size_t hx_hash_count(const struct hx_hash *h);

#endif
