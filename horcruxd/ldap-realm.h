/*
 * ldap-realm.h - the LDAP realm's directory conversation (DESIGN §11),
 * lws-free and blocking: it runs on the login pool, never on the service
 * thread or the identity worker.
 *
 * A check is one connection: StartTLS when asked, a bind with the
 * service account, a search for the user's DN, a search for their groups,
 * then (at a login, not at a renewal) a bind as the user with their
 * password. Every network step is bounded by the realm's timeout.
 */
#ifndef HORCRUXD_LDAP_REALM_H
#define HORCRUXD_LDAP_REALM_H

#include "hx-store.h"

struct ldap_realm;

/* The settings of a directory; strings are copied by ldap_realm_new. */
struct ldap_realm_cfg {
	const char *url; /* ldap://HOST[:PORT] or ldaps://... */
	int	    starttls; /* StartTLS on an ldap:// URL */
	const char *ca_file; /* "": the system's CAs */
	const char *bind_dn; /* "": anonymous searches */
	const char *bind_password; /* read from ldap_bind_password_file */
	const char *user_base;
	const char *user_filter; /* %s: the escaped username */
	const char *group_base; /* "": user_base */
	const char *group_filter; /* %s the username, %D the user's DN */
	const char *role_map; /* "GROUP-DN=Role;GROUP-DN=Role" */
	double	    timeout; /* seconds: connect, and each operation */
};

enum ldap_result {
	LDAP_REALM_OK,
	LDAP_REALM_DENIED, /* no such user, wrong password, ambiguous */
	LDAP_REALM_NO_GROUP, /* the user is in no mapped group */
	LDAP_REALM_UNAVAILABLE /* the directory cannot be asked */
};

/*
 * Check cfg (URL scheme, role map, StartTLS only on ldap://) and keep a
 * copy. Returns the realm (ldap_realm_free), or NULL with *err (caller
 * frees) naming the key at fault.
 */
struct ldap_realm *ldap_realm_new(const struct ldap_realm_cfg *cfg, char **err);
void		   ldap_realm_free(struct ldap_realm *lr);

/*
 * Ask the directory about user: with password, a login (the user's own
 * bind must succeed); with password NULL, a renewal (the service account
 * alone reads the groups). On LDAP_REALM_OK, *roles holds the mapped
 * roles (at least one; caller releases) and *email the user's mail
 * attribute or NULL (caller frees). *why (caller frees, may be NULL on
 * OK) says what happened, for the log and the audit detail; it never
 * holds the password.
 */
enum ldap_result ldap_realm_check(const struct ldap_realm *lr, const char *user,
    const char *password, struct hx_store_strv *roles, char **email,
    char **why);

/*
 * s with RFC 4515's escapes for a filter's assertion value: '*', '(',
 * ')', '\\', NUL and every byte outside printable ASCII as \XX. Caller
 * frees.
 */
char *ldap_realm_escape(const char *s);

/*
 * pattern with %s replaced by user and %D by dn (both escaped), %% by
 * %. Caller frees.
 */
char *ldap_realm_filter(const char *pattern, const char *user, const char *dn);

#endif
