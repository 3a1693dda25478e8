/*
 * test-admit.c - the admission bookkeeping (horcruxd/admit.c): counts by
 * key that come and go as sessions open and close (and stay right
 * through the table's growth), the descriptor plan against max_clients
 * and the refusal log's rate. A daemon test shows the results through
 * HTTP; here each rule is decided by the test's own clock.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "admit.h"
#include "tap.h"

#define S 1000000000ULL

static void
test_table(void)
{
	struct admit_table t;
	struct admit_node *a1, *a2, *b, *many[5000];
	char		   key[32];
	int		   i, bad = 0;

	admit_table_init(&t);
	is_int(admit_count(&t, "alice"), 0, "an empty table counts 0");
	a1 = admit_hold(&t, "alice");
	a2 = admit_hold(&t, "alice");
	b = admit_hold(&t, "bob");
	ok(a1 == a2, "one node per key");
	ok(b != a1 && b->n == 1, "another key, another node");
	is_int(admit_count(&t, "alice"), 2, "alice holds 2");
	is_int(admit_count(&t, "bob"), 1, "bob holds 1");
	is_int(admit_count(&t, "alic"), 0, "a prefix is another key");
	is_int(admit_count(&t, ""), 0, "the empty key is a key too");
	is_str(b->key, "bob", "the node keeps its key");
	/* Thousands of addresses: the buckets double, nodes stay put. */
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
		many[i] = admit_hold(&t, key);
	}
	ok(t.nbuckets >= 4096, "the table grew (%zu buckets)", t.nbuckets);
	is_int(admit_count(&t, "alice"), 2, "alice still holds 2");
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
		if (admit_count(&t, key) != 1 || many[i]->n != 1)
			bad++;
	}
	is_int(bad, 0, "every address counted once after the growth");
	for (i = 0; i < 5000; i += 2)
		admit_drop(&t, many[i]);
	is_int(admit_count(&t, "10.0.0.0"), 0, "a dropped key counts 0");
	is_int(admit_count(&t, "10.0.0.1"), 1, "its neighbour is kept");
	is_int((int)t.nkeys, 2 + 2500, "dropped keys are gone");
	admit_drop(&t, a1);
	is_int(admit_count(&t, "alice"), 1, "one closed: alice holds 1");
	admit_drop(&t, a2);
	is_int(admit_count(&t, "alice"), 0, "both closed: 0");
	a1 = admit_hold(&t, "alice");
	is_int(admit_count(&t, "alice"), 1, "and counts again from 1");
	admit_drop(&t, NULL);
	admit_table_release(&t);
	is_int(admit_count(&t, "bob"), 0, "released: empty");
	admit_table_release(&t);
}

static void
test_fds(void)
{
	struct admit_fds f;

	is_int((int)admit_fd_need(10000), 10360,
	    "max_clients 10000 asks for 10360 descriptors");
	admit_fd_share(admit_fd_need(10000), 10000, 16, 2, &f);
	is_int(f.clients_max, 10000, "what it asks for admits 10000");
	is_int(f.unix_reserved, 16, "and keeps 16 for the socket");
	ok(f.tcp_max >= 10000 - 16 + 200,
	    "TCP may hold every TCP session and requests beside (%u)",
	    f.tcp_max);
	ok(f.lws_fds + 64 <= f.lim, "64 stay outside lws");
	admit_fd_share(20000, 10000, 16, 2, &f);
	is_int(f.clients_max, 10000, "a larger limit admits max_clients");
	admit_fd_share(256, 10000, 16, 2, &f);
	ok(f.clients_max > 0 && f.clients_max < 256 - 64,
	    "256 descriptors admit fewer (%u)", f.clients_max);
	ok(f.tcp_max > 0 && f.tcp_max < f.lws_fds,
	    "TCP leaves some to the socket (%u of %u)", f.tcp_max, f.lws_fds);
	is_int(f.unix_reserved, 16, "16 of 93 still kept for the socket");
	admit_fd_share(1024, 10000, 900, 1, &f);
	ok(f.unix_reserved <= f.clients_max / 2,
	    "a reserve larger than what fits is halved (%u of %u)",
	    f.unix_reserved, f.clients_max);
	admit_fd_share(10, 3, 1, 1, &f);
	ok(f.clients_max >= 1 && f.tcp_max >= 1, "10 descriptors: at least 1");
	admit_fd_share(UINT64_MAX, 65536, 16, 1, &f);
	is_int((int)f.lim, 1048576, "no limit is taken as 1,048,576");
	is_int(f.clients_max, 65536, "and admits max_clients");
}

static void
test_refusals(void)
{
	struct admit_refusals r = { 0, 0 };
	unsigned	      sum = 0, lines = 0, n;
	uint64_t	      t0 = 100 * S, t;
	int		      i;

	is_int(admit_refused(&r, t0), 1, "the first refusal is logged at once");
	for (i = 1; i <= 36; i++)
		is_int(admit_refused(&r, t0 + (uint64_t)i * (S / 100)), 0,
		    "refusal %d in the same second waits", i);
	is_int(admit_refusals_due(&r, t0 + S / 2), 0,
	    "half a second later: nothing due");
	is_int(admit_refusals_due(&r, t0 + S), 36,
	    "a second later: one line counts the 36");
	is_int(admit_refusals_due(&r, t0 + 3 * S), 0, "then nothing is due");
	is_int(admit_refused(&r, t0 + 5 * S), 1,
	    "after a quiet second the next is logged at once");
	/* A burst of 10,000 over 3 s: at most 4 lines, every one counted. */
	r.last_ns = 0;
	r.pending = 0;
	for (i = 0; i < 10000; i++) {
		t = t0 + 10 * S + (uint64_t)i * (3 * S / 10000);
		if ((n = admit_refused(&r, t)) > 0) {
			sum += n;
			lines++;
		}
		if (i % 100 == 0 && (n = admit_refusals_due(&r, t)) > 0) {
			sum += n;
			lines++;
		}
	}
	if ((n = admit_refusals_due(&r, t0 + 20 * S)) > 0) {
		sum += n;
		lines++;
	}
	is_int(sum, 10000, "every refusal is counted in some line");
	ok(lines <= 5, "in %u lines, one a second at most", lines);
}

int
main(void)
{
	test_table();
	test_fds();
	test_refusals();
	return done_testing();
}
