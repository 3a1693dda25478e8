/*
 * realm.h - the realms a user may sign in with (DESIGN §11): local and
 * pam always, one LDAP realm when ldap_url is set, one OIDC realm when
 * oidc_issuer is set, each under its configured name. Built once at
 * start (a realm key needs a restart) and read by every thread after.
 */
#ifndef HORCRUXD_REALM_H
#define HORCRUXD_REALM_H

#include <jansson.h>

struct options;
struct ldap_realm;

enum realm_type {
	REALM_NONE,
	REALM_LOCAL,
	REALM_PAM,
	REALM_LDAP,
	REALM_OIDC
};

struct realms {
	const char	  *pam_service;
	char		  *ldap_name; /* NULL: no LDAP realm */
	struct ldap_realm *ldap; /* with ldap_name */
	char		  *oidc_name; /* NULL: no OIDC realm */
	char		  *oidc_display; /* the OIDC helper's: or NULL */
};

/*
 * Fill r from o (the LDAP realm's password file read now). Returns 0, or
 * -1 with *err (caller frees): a start-up failure.
 */
int  realms_init(struct realms *r, const struct options *o, char **err);
void realms_release(struct realms *r);

/* The type of the realm called name, REALM_NONE when there is none. */
enum realm_type realm_type(const struct realms *r, const char *name);
/* "local", "pam", "ldap", "oidc" (static). */
const char *realm_type_name(enum realm_type t);
/* The realm part of "user@realm" (points into who), or "local". */
const char *realm_of_who(const char *who);
/* The realms a password login accepts, as "'local', 'pam' or 'corp'". */
char *realms_password_names(const struct realms *r);
/* {"realms":[{name, type[, display]}...]}: GET /api/auth/realms. */
json_t *realms_json(const struct realms *r);

#endif
