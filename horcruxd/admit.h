/*
 * admit.h - the bookkeeping behind admitting connections, lws-free: open
 * counts by key (sessions per user, sessions and TCP connections per
 * address) in hash tables kept at open and close, so admitting one more
 * costs the same with 10 or 10,000 open; how the descriptors are shared
 * out (RLIMIT_NOFILE against max_clients); and the rate of the refusal
 * log line. It decides nothing about HTTP: server.c answers the refusals.
 */
#ifndef HORCRUXD_ADMIT_H
#define HORCRUXD_ADMIT_H

#include <stddef.h>
#include <stdint.h>

/* One key's count; its address is stable while the count is above 0. */
struct admit_node {
	struct admit_node *next;
	uint64_t	   hash;
	unsigned	   n;
	char		   key[]; /* NUL-terminated */
};

/* Counts by key: chained buckets, doubled when fuller than one per bucket. */
struct admit_table {
	struct admit_node **buckets;
	size_t		    nbuckets; /* a power of two, or 0 before use */
	size_t		    nkeys;
	uint64_t	    seed; /* random: peers cannot aim at one bucket */
};

/* An empty table (no allocation until the first hold). */
void admit_table_init(struct admit_table *t);
/* Free every node and the buckets; the table is empty again. */
void admit_table_release(struct admit_table *t);
/* The count held for key, 0 when none. */
unsigned admit_count(const struct admit_table *t, const char *key);
/*
 * Count one more for key. Returns its node, owned by the table and valid
 * until the count drops back to 0: give it to admit_drop.
 */
struct admit_node *admit_hold(struct admit_table *t, const char *key);
/* Count one fewer on n (from admit_hold); at 0 the node is freed. */
void admit_drop(struct admit_table *t, struct admit_node *n);

/*
 * Descriptors beside the clients: the sampler's /proc and statvfs reads,
 * libvirt, SQLite, the log (ADMIT_FD_OTHER); of what lws may poll, some
 * kept from TCP peers for the Unix socket (ADMIT_FD_UNIX) and some for
 * HTTP requests and upgrades in progress (ADMIT_FD_HTTP).
 */
#define ADMIT_FD_OTHER 64
#define ADMIT_FD_UNIX 32
#define ADMIT_FD_HTTP 256
#define ADMIT_FD_FIXED 8 /* listeners and lws's wake-up pipe, at most */

/* The descriptors max_clients needs: the soft limit start-up asks for. */
uint64_t admit_fd_need(unsigned max_clients);

/* How lim descriptors (the soft limit in force) are shared out. */
struct admit_fds {
	uint64_t lim; /* lim, capped at 1,048,576 */
	unsigned lws_fds; /* what lws may poll */
	unsigned tcp_max; /* open TCP connections at once */
	unsigned clients_max; /* WebSocket sessions: max_clients or fewer */
	unsigned unix_reserved; /* of them, kept for the Unix socket */
};
/*
 * Share lim out: listeners is the number of listening sockets. When lim
 * cannot hold max_clients, clients_max is what it can (at least 1) and
 * unix_reserved at most half of it.
 */
void admit_fd_share(uint64_t lim, unsigned max_clients, unsigned reserved_unix,
    unsigned listeners, struct admit_fds *out);

/*
 * The refusal log line, once a second at most: the first refusal after a
 * quiet second is logged at once, later ones are counted and logged
 * together when the second is over (admit_refusals_due, from the tick).
 */
struct admit_refusals {
	uint64_t last_ns; /* when a line was last due; 0: never */
	unsigned pending; /* refusals not yet logged */
};
/* One refusal at now_ns: the count to log now, or 0 (counted for later). */
unsigned admit_refused(struct admit_refusals *r, uint64_t now_ns);
/* From the tick: the count to log now (a second has passed), or 0. */
unsigned admit_refusals_due(struct admit_refusals *r, uint64_t now_ns);

#endif
