/*
 * topic.c - the topic table (see topic.h).
 */
#include <string.h>

#include "topic.h"

const struct topic topics[TOPIC_COUNT] = {
	[TOPIC_NODE_METRICS]  = { "node:metrics", HX_PRIV_SYS_AUDIT, "/nodes",
				  0, NULL, 0, 1 },
	[TOPIC_VM_METRICS]    = { "vm:metrics", HX_PRIV_VM_AUDIT, "/vms", 0,
				  NULL, 1, 1 },
	[TOPIC_VM_STATUS]     = { "vm:status", HX_PRIV_VM_AUDIT, "/vms", 0,
				  NULL, 1, 0 },
	[TOPIC_VM_EVENTS]     = { "vm:events", HX_PRIV_VM_AUDIT, "/vms", 0,
				  NULL, 1, 0 },
	[TOPIC_BACKUPS]       = { "backups", HX_PRIV_VM_AUDIT, "/vms", 0, NULL,
				  1, 0 },
	[TOPIC_MIGRATIONS]    = { "migrations", HX_PRIV_VM_AUDIT, "/vms", 0,
				  NULL, 1, 0 },
	/* Node alerts need SysAudit; alerts about VMs need VmAudit. */
	[TOPIC_ALERTS]        = { "alerts", HX_PRIV_SYS_AUDIT, "/nodes",
				  HX_PRIV_VM_AUDIT, "/vms", 0, 0 },
	[TOPIC_NOTIFICATIONS] = { "notifications", 0, "/", 0, NULL, 0, 0 },
};

int
topic_find(const char *name)
{
	int	i;

	for (i = 0; i < TOPIC_COUNT; i++) {
		if (strcmp(topics[i].name, name) == 0)
			return i;
	}
	return -1;
}
