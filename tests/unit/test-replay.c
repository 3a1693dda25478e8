/*
 * test-replay.c - resume's moving parts, lws-free: the seq spliced into
 * a built frame (and its lesser variant), the VmMetricsBatch made of
 * VmMetrics frames' data spans (horcruxd/frame.c), the replay ring's
 * retention by count, age and bytes and what it can give back
 * (horcruxd/replay.c), and the batch and resume keys of a topics
 * message (horcruxd/ws-parse.c). ASan catches a reference dropped twice
 * or kept.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "hx-event.h"
#include "hx-proto.h"
#include "hx-util.h"
#include "replay.h"
#include "tap.h"
#include "ws-parse.h"

#define TS 1760265045123LL
#define SEC 1000000000ULL

static struct frame *
note(const char *msg)
{
	return frame_new("Notification",
	    hx_event_notification("info", "t", msg, TS), HX_TOPIC_NOTIFICATIONS,
	    NULL, NULL);
}

/* The data object of f as its own JSON (checks the span is exact). */
static json_t *
data_of(const struct frame *f)
{
	return json_loadb(frame_text(f) + f->data_off, f->data_len, 0, NULL);
}

static void
test_seq(void)
{
	struct frame *f = note("a"), *full;
	json_t	     *d, *all;

	frame_set_seq(f, 42);
	is_int(f->seq, 42, "seq kept");
	is_str(frame_text(f),
	    "{\"type\":\"Notification\",\"data\":{\"seq\":42,\"level\":"
	    "\"info\",\"title\":\"t\",\"message\":\"a\",\"timestamp\":"
	    "\"2025-10-12T10:30:45.123Z\"}}",
	    "seq is data's first member");
	is_int((long long)f->len, (long long)strlen(frame_text(f)),
	    "len follows");
	d = data_of(f);
	ok(d != NULL && json_integer_value(json_object_get(d, "seq")) == 42,
	    "the data span still spans data");
	json_decref(d);
	all = json_loads(frame_text(f), 0, NULL);
	ok(all != NULL, "still one JSON object");
	json_decref(all);
	frame_unref(f);

	/* The private variant and the public one get the same number. */
	full = note("secret uri");
	frame_set_lesser(full, note("public"), NULL, HX_PRIV_SYS_AUDIT,
	    "/nodes");
	frame_set_seq(full, 7);
	ok(strstr(frame_text(full), "{\"seq\":7,") != NULL, "full has seq");
	ok(strstr(frame_text(full->lesser), "{\"seq\":7,") != NULL,
	    "lesser has the same seq");
	is_int(full->lesser->seq, 7, "lesser's seq field");
	frame_unref(full);

	/* An empty data object gets no stray comma. */
	f = frame_new("X", json_object(), -1, NULL, NULL);
	frame_set_seq(f, 3);
	is_str(frame_text(f), "{\"type\":\"X\",\"data\":{\"seq\":3}}",
	    "empty data");
	frame_unref(f);
}

static struct frame *
vm(const char *name, double cpu)
{
	struct hx_vm_metrics m;
	char		     key[64];

	memset(&m, 0, sizeof m);
	m.vm_id = m.name = name;
	m.cpu_usage = cpu;
	m.memory_usage = NAN;
	m.vcpus = 2;
	m.memory_bytes = m.memory_max_bytes = -1;
	m.disk_read = m.disk_write = m.network_rx = m.network_tx = -1;
	m.disk_read_bps = m.disk_write_bps = NAN;
	m.network_rx_bps = m.network_tx_bps = NAN;
	snprintf(key, sizeof key, "VmMetrics:%s", name);
	return frame_new("VmMetrics", hx_event_vm_metrics(&m, TS),
	    HX_TOPIC_VM_METRICS, key, name);
}

static void
test_batch(void)
{
	struct frame *v[2] = { vm("web-1", 12.5), vm("db-1", 3) }, *b;
	json_t	     *all, *vms, *d1;

	b = frame_new_vm_batch(TS, v, 2);
	all = json_loads(frame_text(b), 0, NULL);
	ok(all != NULL, "a batch is one JSON object");
	is_str(json_string_value(json_object_get(all, "type")),
	    "VmMetricsBatch", "its type");
	vms = json_object_get(json_object_get(all, "data"), "vms");
	is_int((long long)json_array_size(vms), 2, "two VMs");
	d1 = data_of(v[0]);
	ok(json_equal(json_array_get(vms, 0), d1),
	    "the first is web-1's VmMetrics data, as it was");
	json_decref(d1);
	is_str(json_string_value(
		   json_object_get(json_object_get(all, "data"), "timestamp")),
	    "2025-10-12T10:30:45.123Z", "one timestamp");
	is_str(b->key, "VmMetricsBatch", "coalesced as one key");
	is_int(b->topic, HX_TOPIC_VM_METRICS, "on vm:metrics");
	d1 = data_of(b);
	ok(json_equal(d1, json_object_get(all, "data")), "its data span");
	json_decref(d1);
	json_decref(all);
	frame_unref(b);

	b = frame_new_vm_batch(TS, v, 0);
	is_str(frame_text(b),
	    "{\"type\":\"VmMetricsBatch\",\"data\":{\"timestamp\":"
	    "\"2025-10-12T10:30:45.123Z\",\"vms\":[]}}",
	    "no visible VM: an empty batch");
	frame_unref(b);
	frame_unref(v[0]);
	frame_unref(v[1]);
}

/* Push seq n (a fresh Notification) at time t; the ring keeps its ref. */
static void
push(struct replay *r, int64_t n, uint64_t t)
{
	struct frame *f = note("e");

	frame_set_seq(f, n);
	replay_push(r, f, t);
	frame_unref(f);
}

static void
test_ring(void)
{
	struct replay r;
	size_t	      first, n;
	int64_t	      i;

	replay_init(&r, 5, 15 * 60 * SEC, 1 << 20);
	ok(replay_covers(&r, 0), "empty: after 0 is covered (nothing yet)");
	ok(!replay_covers(&r, 1), "empty: after 1 is beyond the newest");
	for (i = 1; i <= 8; i++)
		push(&r, i, i * SEC);
	is_int((long long)r.len, 5, "at most cap events");
	is_int(replay_at(&r, 0)->seq, 4, "the oldest kept is 4");
	ok(replay_covers(&r, 3), "after 3: 4..8 all kept");
	ok(!replay_covers(&r, 2), "after 2: 3 is gone");
	ok(replay_covers(&r, 8), "after the newest: nothing to give");
	ok(!replay_covers(&r, 9), "after a seq not yet given: a gap");
	replay_range(&r, 5, &first, &n);
	is_int((long long)n, 3, "after 5: three events");
	is_int(replay_at(&r, first)->seq, 6, "from 6");
	is_int(replay_at(&r, first + n - 1)->seq, 8, "to 8");
	replay_range(&r, 8, &first, &n);
	is_int((long long)n, 0, "after 8: none");

	/* Age: 15 minutes after 6 entered, 4..6 have gone. */
	replay_expire(&r, 6 * SEC + 15 * 60 * SEC + 1);
	is_int(replay_at(&r, 0)->seq, 7, "expired by age");
	ok(!replay_covers(&r, 5), "after 5 is no longer covered");
	replay_expire(&r, 100 * 60 * SEC);
	is_int((long long)r.len, 0, "all expired");
	ok(replay_covers(&r, 8) && !replay_covers(&r, 7),
	    "empty again: only the newest is a place to resume from");
	replay_release(&r);

	/* Bytes: a cap of about two frames keeps two. */
	{
		struct frame *f = note("e");
		size_t	      one;

		frame_set_seq(f, 1);
		one = f->len;
		frame_unref(f);
		replay_init(&r, 100, 15 * 60 * SEC, 2 * one + 4);
		for (i = 1; i <= 4; i++)
			push(&r, i, SEC);
		is_int((long long)r.len, 2, "the byte cap holds");
		ok(r.bytes <= 2 * one + 4, "bytes counted");
		replay_release(&r);
	}
}

/* ws_parse_message on a NUL-terminated text. */
static enum ws_msg_kind
parse(const char *text, json_t **list, struct ws_sub_opts *o, char **why)
{
	return ws_parse_message(text, strlen(text), list, o, why);
}

static void
test_parse(void)
{
	struct ws_sub_opts o;
	json_t		  *list;
	char		  *why;

	is_int(parse("{\"topics\":[\"vm:metrics\"],\"batch\":true,"
		     "\"resume\":{\"boot_id\":\"ab\",\"after\":9}}",
		   &list, &o, &why),
	    WS_MSG_TOPICS, "topics with batch and resume");
	ok(o.batch && o.resume && strcmp(o.boot_id, "ab") == 0 && o.after == 9,
	    "the options");
	json_decref(list);
	free(why);
	is_int(parse("{\"topics\":[],\"batch\":\"yes\"}", &list, &o, &why),
	    WS_MSG_BAD, "batch not a boolean");
	ok(why != NULL && strstr(why, "batch") != NULL, "says batch: %s", why);
	ok(!o.batch && !o.resume, "no options on BAD");
	free(why);
	is_int(parse("{\"topics\":[],\"resume\":{\"boot_id\":\"\","
		     "\"after\":1}}",
		   &list, &o, &why),
	    WS_MSG_BAD, "empty boot_id");
	free(why);
	is_int(parse("{\"topics\":[],\"resume\":{\"boot_id\":\"a\","
		     "\"after\":1.5}}",
		   &list, &o, &why),
	    WS_MSG_BAD, "after not an integer");
	free(why);
	is_int(parse("{\"unsubscribe\":[],\"batch\":true}", &list, &o, &why),
	    WS_MSG_BAD, "batch only with topics");
	free(why);
}

int
main(void)
{
	test_seq();
	test_batch();
	test_ring();
	test_parse();
	return done_testing();
}
