/*
 * frame.c - refcounted, pre-serialized event frames (see frame.h).
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "frame.h"
#include "hx-event.h"
#include "hx-proto.h"
#include "hx-util.h"

struct frame *
frame_new(const char *type, json_t *data, int topic, const char *key,
    const char *vm_id)
{
	struct frame *f;
	char	     *text;
	size_t	      len;

	f = xcalloc(1, sizeof *f);
	text = hx_event_frame(type, data, &len, &f->data_off, &f->data_len);
	f->refs = 1;
	f->topic = topic;
	f->key = key != NULL ? xstrdup(key) : NULL;
	f->vm_id = vm_id != NULL ? xstrdup(vm_id) : NULL;
	f->len = len;
	f->buf = xmalloc(LWS_PRE + len + 1);
	memcpy(f->buf + LWS_PRE, text, len + 1);
	free(text);
	return f;
}

void
frame_set_lesser(struct frame *f, struct frame *lesser, const char *owner,
    hx_privs privs, const char *path)
{
	frame_unref(f->lesser);
	free(f->owner);
	f->lesser = lesser;
	f->owner = owner != NULL ? xstrdup(owner) : NULL;
	f->full_privs = privs;
	f->full_path = path;
}

struct frame *
frame_ref(struct frame *f)
{
	f->refs++;
	return f;
}

void
frame_unref(struct frame *f)
{
	if (f == NULL || --f->refs > 0)
		return;
	frame_unref(f->lesser);
	free(f->owner);
	free(f->acl_path);
	free(f->key);
	free(f->vm_id);
	free(f->buf);
	free(f);
}

char *
frame_text(const struct frame *f)
{
	return (char *)f->buf + LWS_PRE;
}

struct frame *
frame_new_text(const char *text, size_t len, size_t data_off, size_t data_len,
    int topic, const char *key, const char *vm_id)
{
	struct frame *f;

	f = xcalloc(1, sizeof *f);
	f->refs = 1;
	f->topic = topic;
	f->key = key != NULL ? xstrdup(key) : NULL;
	f->vm_id = vm_id != NULL ? xstrdup(vm_id) : NULL;
	f->len = len;
	f->data_off = data_off;
	f->data_len = data_len;
	f->buf = xmalloc(LWS_PRE + len + 1);
	memcpy(f->buf + LWS_PRE, text, len);
	f->buf[LWS_PRE + len] = '\0';
	return f;
}

struct frame *
frame_new_vm_batch(int64_t ts_ms, struct frame *const *vms, size_t n)
{
	struct frame *f;
	struct hx_buf b;
	char	      ts[40];
	size_t	      i, off, len;
	char	     *text;

	if (hx_rfc3339_ms(ts_ms, ts, sizeof ts) != 0)
		ts[0] = '\0';
	hx_buf_init(&b, 0);
	hx_buf_addf(&b, "{\"type\":\"VmMetricsBatch\",\"data\":");
	off = b.len;
	hx_buf_addf(&b, "{\"timestamp\":\"%s\",\"vms\":[", ts);
	for (i = 0; i < n; i++) {
		if (i > 0)
			hx_buf_add(&b, ",", 1);
		hx_buf_add(&b, frame_text(vms[i]) + vms[i]->data_off,
		    vms[i]->data_len);
	}
	hx_buf_add(&b, "]}}", 3);
	text = hx_buf_detach(&b, &len);
	f = frame_new_text(text, len, off, len - off - 1, HX_TOPIC_VM_METRICS,
	    "VmMetricsBatch", NULL);
	free(text);
	return f;
}

/* Insert "seq":N (and a comma unless data is {}) after data's brace. */
static void
splice_seq(struct frame *f, int64_t seq)
{
	unsigned char *nb;
	char	       ins[40];
	size_t	       at, n;
	const char    *text = frame_text(f);

	f->seq = seq;
	if (f->data_len < 2 || text[f->data_off] != '{')
		return; /* not an object: nothing to splice into */
	n = (size_t)snprintf(ins, sizeof ins, "\"seq\":%lld%s", (long long)seq,
	    f->data_len == 2 ? "" : ",");
	at = LWS_PRE + f->data_off + 1;
	nb = xmalloc(LWS_PRE + f->len + n + 1);
	memcpy(nb, f->buf, at);
	memcpy(nb + at, ins, n);
	memcpy(nb + at + n, f->buf + at, LWS_PRE + f->len + 1 - at);
	free(f->buf);
	f->buf = nb;
	f->len += n;
	f->data_len += n;
}

void
frame_set_seq(struct frame *f, int64_t seq)
{
	splice_seq(f, seq);
	if (f->lesser != NULL)
		splice_seq(f->lesser, seq);
}
