/*
 * hx-priv.c - privilege names (see hx-priv.h).
 */
#include <string.h>

#include "hx-priv.h"
#include "hx-util.h"

static const char *priv_names[HX_PRIV_COUNT] = {
	"VmAllocate",
	"VmConfig",
	"VmPowerMgmt",
	"VmMigrate",
	"VmSnapshot",
	"VmBackup",
	"VmConsole",
	"VmAudit",
	"DatastoreAllocate",
	"DatastoreAudit",
	"SysModify",
	"SysAudit",
	"UserModify",
	"PermissionsModify",
	"PoolAllocate",
};

const char *
hx_priv_name(enum hx_priv p)
{
	int i;

	for (i = 0; i < HX_PRIV_COUNT; i++) {
		if ((hx_privs)p == (1u << i))
			return priv_names[i];
	}
	return NULL;
}

hx_privs
hx_priv_from_name(const char *name)
{
	int i;

	for (i = 0; i < HX_PRIV_COUNT; i++) {
		if (strcmp(name, priv_names[i]) == 0)
			return 1u << i;
	}
	return 0;
}
