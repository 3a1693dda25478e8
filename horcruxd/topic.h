/*
 * topic.h - the WebSocket topic table of DESIGN §3.
 *
 * One table says each topic's name, whether its events are coalesced
 * metrics with a snapshot, whether they are filtered per VM, and the
 * privilege and ACL path a subscriber needs. Subscription handling,
 * snapshots and the authorization tests all read it.
 */
#ifndef HORCRUXD_TOPIC_H
#define HORCRUXD_TOPIC_H

#include "hx-priv.h"

enum topic_id {
	TOPIC_NODE_METRICS,
	TOPIC_VM_METRICS,
	TOPIC_VM_STATUS,
	TOPIC_VM_EVENTS,
	TOPIC_BACKUPS,
	TOPIC_MIGRATIONS,
	TOPIC_ALERTS,
	TOPIC_NOTIFICATIONS,
	TOPIC_COUNT
};

struct topic {
	const char	*name;
	hx_privs	 priv;		/* 0: every authenticated user */
	const char	*path;		/* ACL path checked to subscribe */
	hx_privs	 alt_priv;	/* or this, anywhere at or below */
	const char	*alt_path;	/* alt_path (alerts on VMs) */
	int		 per_vm;	/* events filtered by VmAudit per VM */
	int		 metric;	/* coalesced, snapshot on subscribe */
};

extern const struct topic topics[TOPIC_COUNT];

/* Index of a topic name, or -1. */
int topic_find(const char *name);

#endif
