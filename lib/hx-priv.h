/*
 * hx-priv.h - the privilege names of DESIGN §5, as one table.
 *
 * Privileges are bits so a set of them (a role, an identity's rights on a
 * path) is one integer. The daemon, the CLI's `privilege list` and the
 * tests all read this table; nothing else spells the names.
 */
#ifndef HX_PRIV_H
#define HX_PRIV_H

#include <stdint.h>

enum hx_priv {
	HX_PRIV_VM_ALLOCATE = 1u << 0,
	HX_PRIV_VM_CONFIG = 1u << 1,
	HX_PRIV_VM_POWER_MGMT = 1u << 2,
	HX_PRIV_VM_MIGRATE = 1u << 3,
	HX_PRIV_VM_SNAPSHOT = 1u << 4,
	HX_PRIV_VM_BACKUP = 1u << 5,
	HX_PRIV_VM_CONSOLE = 1u << 6,
	HX_PRIV_VM_AUDIT = 1u << 7,
	HX_PRIV_DATASTORE_ALLOCATE = 1u << 8,
	HX_PRIV_DATASTORE_AUDIT = 1u << 9,
	HX_PRIV_SYS_MODIFY = 1u << 10,
	HX_PRIV_SYS_AUDIT = 1u << 11,
	HX_PRIV_USER_MODIFY = 1u << 12,
	HX_PRIV_PERMISSIONS_MODIFY = 1u << 13,
	HX_PRIV_POOL_ALLOCATE = 1u << 14,
};

#define HX_PRIV_ALL ((1u << 15) - 1)
#define HX_PRIV_COUNT 15

typedef uint32_t hx_privs;

/* Name of a single privilege bit ("VmAudit"), or NULL. */
const char *hx_priv_name(enum hx_priv p);
/* Bit for a name, or 0 if unknown (names are case-sensitive). */
hx_privs hx_priv_from_name(const char *name);

#endif
