/*
 * frame.c - refcounted, pre-serialized event frames (see frame.h).
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "frame.h"
#include "hx-event.h"
#include "hx-msgpack.h"
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
	free(f->bin);
	free(f);
}

char *
frame_text(const struct frame *f)
{
	return (char *)f->buf + LWS_PRE;
}

unsigned char *
frame_binary(struct frame *f, size_t *len)
{
	char *err = NULL;

	if (f->bin == NULL && !f->bin_failed) {
		f->bin = hx_msgpack_from_text(frame_text(f), f->len, LWS_PRE,
		    &f->bin_len, &err);
		f->bin_failed = f->bin == NULL;
		free(err);
	}
	*len = f->bin_len;
	return f->bin != NULL ? f->bin + LWS_PRE : NULL;
}

int64_t
frame_seq_next(void)
{
	static _Atomic int64_t seq;

	return ++seq;
}
