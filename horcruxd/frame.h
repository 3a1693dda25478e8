/*
 * frame.h - a serialized event, built once and shared by every session.
 *
 * The JSON text sits after LWS_PRE bytes of headroom so lws_write() can be
 * called on it in place for every receiver. Reference counts are touched
 * only on the service thread once a frame has been posted; the thread that
 * built it hands over its single reference with the post.
 */
#ifndef HORCRUXD_FRAME_H
#define HORCRUXD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hx-priv.h"

struct frame {
	unsigned       refs;
	int	       topic; /* index in the topic table, or -1 */
	char	      *key; /* coalescing key for metrics, or NULL */
	char	      *vm_id; /* per-VM filtering, or NULL */
	size_t	       len; /* bytes of JSON text */
	size_t	       data_off; /* span of the "data" object */
	size_t	       data_len;
	int64_t	       seq; /* a discrete event's seq, or 0 */
	unsigned char *buf; /* LWS_PRE headroom + text + NUL */
	/*
	 * A frame with private fields (who acted, a libvirt URI) goes only
	 * to its owner (user@realm) or to holders of any of full_privs at
	 * full_path; every other receiver gets lesser, the same event
	 * without them. Both are serialized once, as every frame is.
	 */
	char	     *acl_path; /* per-VM: "/vms/{escaped id}", made
					   once, on first need (service
					   thread only) */
	struct frame *lesser; /* NULL: one frame for everyone */
	char	     *owner; /* user@realm, or NULL */
	hx_privs      full_privs;
	const char   *full_path; /* static */
};

/*
 * Serialize {"type":type,"data":data} (data is stolen) into a new frame
 * with one reference. topic is a topic index or -1 (always delivered);
 * key makes it a coalesced metric (a newer frame with the same key
 * replaces an unsent one). Never returns NULL.
 */
struct frame *frame_new(const char *type, json_t *data, int topic,
    const char *key, const char *vm_id);
/*
 * Make f private: lesser (its reference taken) is what a receiver gets
 * who is not owner (may be NULL) and holds none of privs at path (a
 * static string).
 */
void frame_set_lesser(struct frame *f, struct frame *lesser, const char *owner,
    hx_privs privs, const char *path);
struct frame *frame_ref(struct frame *f);
/* Drop a reference; the last one frees. frame_unref(NULL) is a no-op. */
void frame_unref(struct frame *f);
/* The JSON text (NUL-terminated). */
char *frame_text(const struct frame *f);
/*
 * A frame from finished wire text {"type":..,"data":{..}} of len bytes
 * whose data object spans data_off/data_len (copied; the caller keeps
 * text). One reference; never returns NULL.
 */
struct frame *frame_new_text(const char *text, size_t len, size_t data_off,
    size_t data_len, int topic, const char *key, const char *vm_id);
/*
 * A VmMetricsBatch (DESIGN §3) of the n VmMetrics frames vms: their data
 * objects, copied as they are (never serialized again), in the order
 * given, under one timestamp ts_ms. Coalesced under the key
 * "VmMetricsBatch"; one reference; never returns NULL.
 */
struct frame *frame_new_vm_batch(int64_t ts_ms, struct frame *const *vms,
    size_t n);
/*
 * Give a discrete event its `seq` (DESIGN §3): "seq":N becomes the first
 * member of its data object, in f and in its lesser variant alike, and
 * f->seq is set. The service thread calls it as the frame enters the
 * fan-out, so seq rises in delivery order whichever thread built the
 * frame. Must be called at most once per frame, before it is shared.
 */
void frame_set_seq(struct frame *f, int64_t seq);

#endif
