/*
 * ldap-realm.c - the LDAP realm's conversation with the directory, on
 * OpenLDAP's libldap (see ldap-realm.h).
 *
 * One connection per check, closed at its end: logins are rare, and a
 * connection kept open would need its own liveness rules. Every network
 * wait is bounded: LDAP_OPT_NETWORK_TIMEOUT for the connect (and the
 * TLS handshake), LDAP_OPT_TIMEOUT for each synchronous operation, and
 * the searches' own time limit, so a directory that accepts and never
 * answers costs one pool thread for at most a few timeouts.
 *
 * Values put into filters are escaped (RFC 4515); names are compared with
 * the mapped group DNs case-blind, ignoring blanks around ',' and '='.
 *
 * What it does not do: touch the store, decide HTTP answers or audit:
 * job-login.c does, from the result.
 */
#include <ctype.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx-rbac.h"
#include "hx-util.h"
#include "ldap-realm.h"

#define MAX_GROUPS 1000 /* size limit of the group search */

struct role_map {
	char *dn; /* normalized */
	char *role;
};

struct ldap_realm {
	char		*url, *ca_file, *bind_dn, *bind_password;
	char		*user_base, *user_filter, *group_base, *group_filter;
	int		 starttls;
	double		 timeout;
	struct role_map *map;
	size_t		 nmap;
};

/* dn lowercased, blanks around ',', '=' and '+' dropped. Caller frees. */
static char *
dn_norm(const char *dn)
{
	char  *out = xmalloc(strlen(dn) + 1), *o = out;
	size_t n;

	for (; *dn != '\0'; dn++) {
		if (*dn == ' ' || *dn == '\t') {
			/* a blank before a separator, or after one */
			n = strspn(dn, " \t");
			if (o == out || strchr(",=+", o[-1]) != NULL ||
			    dn[n] == '\0' || strchr(",=+", dn[n]) != NULL) {
				dn += n - 1;
				continue;
			}
		}
		*o++ = (char)tolower((unsigned char)*dn);
	}
	*o = '\0';
	return out;
}

static int
map_parse(struct ldap_realm *lr, const char *spec, char **err)
{
	char *copy = xstrdup(spec), *item, *next, *eq, *e = NULL;
	int   ret = -1;

	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, ';')) != NULL)
			*next++ = '\0';
		while (*item == ' ')
			item++;
		if (*item == '\0')
			continue;
		if ((eq = strrchr(item, '=')) == NULL || eq == item) {
			*err = xasprintf("ldap_group_role_map: '%s' is not "
					 "GROUP-DN=Role",
			    item);
			goto out;
		}
		*eq++ = '\0';
		while (*eq == ' ')
			eq++;
		if (hx_rbac_name_ok("role", eq, &e) != 0) {
			*err = xasprintf("ldap_group_role_map: %s", e);
			free(e);
			goto out;
		}
		lr->map = xrealloc(lr->map, (lr->nmap + 1) * sizeof *lr->map);
		lr->map[lr->nmap].dn = dn_norm(item);
		lr->map[lr->nmap].role = xstrdup(eq);
		lr->nmap++;
	}
	if (lr->nmap == 0) {
		*err = xstrdup("ldap_group_role_map is empty: no directory "
			       "user could log in");
		goto out;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

struct ldap_realm *
ldap_realm_new(const struct ldap_realm_cfg *c, char **err)
{
	struct ldap_realm *lr;
	int		   v;

	if (strncmp(c->url, "ldap://", 7) != 0 &&
	    strncmp(c->url, "ldaps://", 8) != 0) {
		*err = xasprintf("ldap_url: '%s' is not ldap://HOST[:PORT] or "
				 "ldaps://HOST[:PORT]",
		    c->url);
		return NULL;
	}
	if (c->starttls && strncmp(c->url, "ldaps://", 8) == 0) {
		*err = xstrdup("ldap_starttls is for an ldap:// URL; ldaps:// "
			       "is TLS already");
		return NULL;
	}
	if (c->user_base[0] == '\0') {
		*err = xstrdup("ldap_url is set but ldap_user_base is not");
		return NULL;
	}
	if (strstr(c->user_filter, "%s") == NULL) {
		*err = xasprintf("ldap_user_filter: '%s' has no %%s for the "
				 "username",
		    c->user_filter);
		return NULL;
	}
	lr = xcalloc(1, sizeof *lr);
	if (map_parse(lr, c->role_map, err) != 0) {
		ldap_realm_free(lr);
		return NULL;
	}
	lr->url = xstrdup(c->url);
	lr->ca_file = xstrdup(c->ca_file);
	lr->bind_dn = xstrdup(c->bind_dn);
	lr->bind_password = xstrdup(c->bind_password ? c->bind_password : "");
	lr->user_base = xstrdup(c->user_base);
	lr->user_filter = xstrdup(c->user_filter);
	lr->group_base = xstrdup(
	    c->group_base[0] != '\0' ? c->group_base : c->user_base);
	lr->group_filter = xstrdup(c->group_filter);
	lr->starttls = c->starttls;
	lr->timeout = c->timeout;
	/* libldap's global set-up now, on one thread, not in a race later. */
	(void)ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &v);
	return lr;
}

void
ldap_realm_free(struct ldap_realm *lr)
{
	size_t i;

	if (lr == NULL)
		return;
	for (i = 0; i < lr->nmap; i++) {
		free(lr->map[i].dn);
		free(lr->map[i].role);
	}
	free(lr->map);
	free(lr->url);
	free(lr->ca_file);
	free(lr->bind_dn);
	if (lr->bind_password != NULL)
		explicit_bzero(lr->bind_password, strlen(lr->bind_password));
	free(lr->bind_password);
	free(lr->user_base);
	free(lr->user_filter);
	free(lr->group_base);
	free(lr->group_filter);
	free(lr);
}

char *
ldap_realm_escape(const char *s)
{
	char  *out = xmalloc(strlen(s) * 3 + 1), *o = out;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '*' || ch == '(' || ch == ')' || ch == '\\' ||
		    ch < 0x20 || ch >= 0x7f)
			o += snprintf(o, 4, "\\%02x", ch);
		else
			*o++ = (char)ch;
	}
	*o = '\0';
	return out;
}

char *
ldap_realm_filter(const char *pattern, const char *user, const char *dn)
{
	char	   *eu = ldap_realm_escape(user), *ed = ldap_realm_escape(dn);
	size_t	    cap = strlen(pattern) + 1, n = 0, add;
	char	   *out;
	const char *p, *ins;

	for (p = pattern; *p != '\0'; p++)
		if (*p == '%')
			cap += strlen(eu) + strlen(ed);
	out = xmalloc(cap);
	for (p = pattern; *p != '\0'; p++) {
		ins = NULL;
		if (p[0] == '%' && p[1] == 's')
			ins = eu;
		else if (p[0] == '%' && p[1] == 'D')
			ins = ed;
		else if (p[0] == '%' && p[1] == '%')
			ins = "%";
		if (ins != NULL) {
			add = strlen(ins);
			memcpy(out + n, ins, add);
			n += add;
			p++;
		} else
			out[n++] = *p;
	}
	out[n] = '\0';
	free(eu);
	free(ed);
	return out;
}

/* libldap's words for rc, with the server's diagnostic when it gave one. */
static char *
ldap_words(LDAP *ld, int rc)
{
	char *diag = NULL, *out;

	if (ld != NULL)
		(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (diag != NULL && diag[0] != '\0')
		out = xasprintf("%s (%s)", ldap_err2string(rc), diag);
	else
		out = xstrdup(ldap_err2string(rc));
	ldap_memfree(diag);
	return out;
}

/* Could not talk to the directory at all (as opposed to an answer). */
static int
unreachable(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ||
	    rc == LDAP_CONNECT_ERROR || rc == LDAP_UNAVAILABLE ||
	    rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED ||
	    rc == LDAP_LOCAL_ERROR || rc == LDAP_NO_MEMORY ||
	    rc == LDAP_UNWILLING_TO_PERFORM;
}

static int
simple_bind(LDAP *ld, const char *dn, const char *pw)
{
	struct berval cred;

	cred.bv_val = (char *)pw;
	cred.bv_len = strlen(pw);
	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	    NULL);
}

static enum ldap_result
dir_open(const struct ldap_realm *lr, LDAP **out, char **why)
{
	struct timeval tv;
	LDAP	      *ld = NULL;
	char	      *w;
	int	       rc, v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND;
	int	       zero = 0;

	*out = NULL;
	tv.tv_sec = (time_t)lr->timeout;
	tv.tv_usec = (suseconds_t)((lr->timeout - (double)tv.tv_sec) * 1e6);
	if ((rc = ldap_initialize(&ld, lr->url)) != LDAP_SUCCESS) {
		*why = xasprintf("cannot use '%s': %s", lr->url,
		    ldap_err2string(rc));
		return LDAP_REALM_UNAVAILABLE;
	}
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) !=
		LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
		LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) !=
		LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) !=
		LDAP_OPT_SUCCESS ||
	    (lr->ca_file[0] != '\0' &&
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, lr->ca_file) !=
		    LDAP_OPT_SUCCESS) ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) !=
		LDAP_OPT_SUCCESS) {
		*why = xasprintf("cannot set up the connection to '%s' (TLS "
				 "settings: ldap_ca_file?)",
		    lr->url);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return LDAP_REALM_UNAVAILABLE;
	}
	if (lr->starttls &&
	    (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		w = ldap_words(ld, rc);
		*why = xasprintf("cannot start TLS with '%s': %s", lr->url, w);
		free(w);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return LDAP_REALM_UNAVAILABLE;
	}
	*out = ld;
	return LDAP_REALM_OK;
}

/* A failure of the directory, not of the user: UNAVAILABLE with why. */
static enum ldap_result
dir_fail(LDAP *ld, int rc, const char *what, const struct ldap_realm *lr,
    char **why)
{
	char *w = ldap_words(ld, rc);

	*why = xasprintf("%s at '%s': %s", what, lr->url, w);
	free(w);
	return LDAP_REALM_UNAVAILABLE;
}

/* The roles the groups of dn map to, pushed onto roles. */
static enum ldap_result
read_groups(const struct ldap_realm *lr, LDAP *ld, const char *user,
    const char *dn, struct timeval *tv, struct hx_store_strv *roles, char **why)
{
	static char *no_attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL, *e;
	char	    *filter, *gdn, *norm;
	size_t	     i, k;
	int	     rc, dup;

	filter = ldap_realm_filter(lr->group_filter, user, dn);
	rc = ldap_search_ext_s(ld, lr->group_base, LDAP_SCOPE_SUBTREE, filter,
	    no_attrs, 0, NULL, NULL, tv, MAX_GROUPS, &res);
	free(filter);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED &&
	    rc != LDAP_NO_SUCH_OBJECT) {
		ldap_msgfree(res);
		return dir_fail(ld, rc, "cannot search the groups", lr, why);
	}
	for (e = ldap_first_entry(ld, res); e != NULL;
	     e = ldap_next_entry(ld, e)) {
		if ((gdn = ldap_get_dn(ld, e)) == NULL)
			continue;
		norm = dn_norm(gdn);
		ldap_memfree(gdn);
		for (i = 0; i < lr->nmap; i++) {
			if (strcmp(norm, lr->map[i].dn) != 0)
				continue;
			for (k = 0, dup = 0; k < roles->n; k++)
				dup |= strcmp(roles->v[k], lr->map[i].role) ==
				    0;
			if (!dup) {
				roles->v = xrealloc(roles->v,
				    (roles->n + 2) * sizeof *roles->v);
				roles->v[roles->n++] = xstrdup(lr->map[i].role);
				roles->v[roles->n] = NULL;
			}
		}
		free(norm);
	}
	ldap_msgfree(res);
	return LDAP_REALM_OK;
}

enum ldap_result
ldap_realm_check(const struct ldap_realm *lr, const char *user,
    const char *password, struct hx_store_strv *roles, char **email, char **why)
{
	static char	*attrs[] = { "mail", NULL };
	struct timeval	 tv;
	struct berval  **mail;
	LDAPMessage	*res = NULL, *e;
	LDAP		*ld = NULL;
	char		*filter, *dn = NULL, *e2 = NULL;
	enum ldap_result r;
	int		 rc, n;

	*email = NULL;
	*why = NULL;
	roles->v = NULL;
	roles->n = 0;
	if (hx_rbac_name_ok("username", user, &e2) != 0) {
		*why = xasprintf("not a username: %s", e2);
		free(e2);
		return LDAP_REALM_DENIED;
	}
	/* An empty password is an unauthenticated bind: it always works. */
	if (password != NULL && password[0] == '\0') {
		*why = xstrdup("empty password");
		return LDAP_REALM_DENIED;
	}
	if ((r = dir_open(lr, &ld, why)) != LDAP_REALM_OK)
		return r;
	tv.tv_sec = (time_t)lr->timeout;
	tv.tv_usec = (suseconds_t)((lr->timeout - (double)tv.tv_sec) * 1e6);
	if (lr->bind_dn[0] != '\0' &&
	    (rc = simple_bind(ld, lr->bind_dn, lr->bind_password)) !=
		LDAP_SUCCESS) {
		r = dir_fail(ld, rc, "the service account cannot bind", lr,
		    why);
		goto out;
	}
	filter = ldap_realm_filter(lr->user_filter, user, "");
	rc = ldap_search_ext_s(ld, lr->user_base, LDAP_SCOPE_SUBTREE, filter,
	    attrs, 0, NULL, NULL, &tv, 2, &res);
	free(filter);
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		*why = xstrdup("more than one directory entry has this name");
		r = LDAP_REALM_DENIED;
		goto out;
	}
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
		r = dir_fail(ld, rc, "cannot search the users", lr, why);
		goto out;
	}
	n = rc == LDAP_SUCCESS ? ldap_count_entries(ld, res) : 0;
	if (n != 1 || (e = ldap_first_entry(ld, res)) == NULL ||
	    (dn = ldap_get_dn(ld, e)) == NULL) {
		*why = xstrdup(n > 1 ? "more than one directory entry has "
				       "this name" :
				       "no such user in the directory");
		/*
		 * A bind that must fail, so an unknown name costs the
		 * directory round trips a wrong password does.
		 */
		if (password != NULL) {
			char *fake = xasprintf("uid=%s,%s", user,
			    lr->user_base);

			(void)simple_bind(ld, fake, password);
			free(fake);
		}
		r = LDAP_REALM_DENIED;
		goto out;
	}
	if ((mail = ldap_get_values_len(ld, e, "mail")) != NULL) {
		if (mail[0] != NULL && mail[0]->bv_len > 0 &&
		    mail[0]->bv_len < 256 &&
		    memchr(mail[0]->bv_val, '\0', mail[0]->bv_len) == NULL)
			*email = xasprintf("%.*s", (int)mail[0]->bv_len,
			    mail[0]->bv_val);
		ldap_value_free_len(mail);
	}
	if ((r = read_groups(lr, ld, user, dn, &tv, roles, why)) !=
	    LDAP_REALM_OK)
		goto out;
	if (password != NULL) {
		rc = simple_bind(ld, dn, password);
		if (rc == LDAP_INVALID_CREDENTIALS) {
			*why = xstrdup("wrong password");
			r = LDAP_REALM_DENIED;
			goto out;
		}
		if (rc != LDAP_SUCCESS) {
			r = unreachable(rc) ?
			    dir_fail(ld, rc, "cannot bind as the user", lr,
				why) :
			    LDAP_REALM_DENIED;
			if (r == LDAP_REALM_DENIED)
				*why = ldap_words(ld, rc);
			goto out;
		}
	}
	if (roles->n == 0) {
		*why = xstrdup("in no group of ldap_group_role_map");
		r = LDAP_REALM_NO_GROUP;
		goto out;
	}
	r = LDAP_REALM_OK;
out:
	if (r != LDAP_REALM_OK) {
		hx_store_strv_release(roles);
		free(*email);
		*email = NULL;
	}
	ldap_memfree(dn);
	ldap_msgfree(res);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}
