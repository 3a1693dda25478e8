/*
 * realm.c - the set of sign-in realms (see realm.h): names, types, the
 * public list, and the LDAP realm's set-up from the options (its
 * service account's password read from ldap_bind_password_file, never
 * from the command line).
 *
 * What it does not do: check any password (job-login.c, ldap-realm.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hx-util.h"
#include "ldap-realm.h"
#include "options.h"
#include "realm.h"

int
realms_init(struct realms *r, const struct options *o, char **err)
{
	struct ldap_realm_cfg c;
	char		     *pw = NULL, *why = NULL;

	memset(r, 0, sizeof *r);
	r->pam_service = o->pam_service;
	if (o->ldap_url[0] == '\0')
		return 0;
	memset(&c, 0, sizeof c);
	if ((o->ldap_bind_dn[0] == '\0') !=
	    (o->ldap_bind_password_file[0] == '\0')) {
		*err = xstrdup("ldap_bind_dn and ldap_bind_password_file go "
			       "together");
		return -1;
	}
	if (o->ldap_bind_password_file[0] != '\0' &&
	    (pw = hx_read_secret(o->ldap_bind_password_file, &why)) == NULL) {
		*err = xasprintf("ldap_bind_password_file: %s", why);
		free(why);
		return -1;
	}
	c.url = o->ldap_url;
	c.starttls = o->ldap_starttls;
	c.ca_file = o->ldap_ca_file;
	c.bind_dn = o->ldap_bind_dn;
	c.bind_password = pw;
	c.user_base = o->ldap_user_base;
	c.user_filter = o->ldap_user_filter;
	c.group_base = o->ldap_group_base;
	c.group_filter = o->ldap_group_filter;
	c.role_map = o->ldap_group_role_map;
	c.timeout = o->ldap_timeout;
	r->ldap = ldap_realm_new(&c, err);
	if (pw != NULL)
		explicit_bzero(pw, strlen(pw));
	free(pw);
	if (r->ldap == NULL)
		return -1;
	r->ldap_name = xstrdup(o->ldap_realm);
	return 0;
}

void
realms_release(struct realms *r)
{
	ldap_realm_free(r->ldap);
	free(r->ldap_name);
	free(r->oidc_name);
	free(r->oidc_display);
	memset(r, 0, sizeof *r);
}

enum realm_type
realm_type(const struct realms *r, const char *name)
{
	if (name == NULL)
		return REALM_NONE;
	if (strcmp(name, "local") == 0)
		return REALM_LOCAL;
	if (strcmp(name, "pam") == 0)
		return REALM_PAM;
	if (r->ldap_name != NULL && strcmp(name, r->ldap_name) == 0)
		return REALM_LDAP;
	if (r->oidc_name != NULL && strcmp(name, r->oidc_name) == 0)
		return REALM_OIDC;
	return REALM_NONE;
}

const char *
realm_type_name(enum realm_type t)
{
	switch (t) {
	case REALM_LOCAL:
		return "local";
	case REALM_PAM:
		return "pam";
	case REALM_LDAP:
		return "ldap";
	case REALM_OIDC:
		return "oidc";
	default:
		return "none";
	}
}

const char *
realm_of_who(const char *who)
{
	const char *at = strrchr(who, '@');

	return at != NULL ? at + 1 : "local";
}

char *
realms_password_names(const struct realms *r)
{
	if (r->ldap_name != NULL)
		return xasprintf("'local', 'pam' or '%s'", r->ldap_name);
	return xstrdup("'local' or 'pam'");
}

/*
 * pam is listed: any account the PAM service accepts may sign in once an
 * administrator made it a pam user, so a sign-in form should offer it.
 */
json_t *
realms_json(const struct realms *r)
{
	json_t *a = json_array(), *o;

	json_array_append_new(a,
	    json_pack("{s:s,s:s}", "name", "local", "type", "local"));
	json_array_append_new(a,
	    json_pack("{s:s,s:s}", "name", "pam", "type", "pam"));
	if (r->ldap_name != NULL)
		json_array_append_new(a,
		    json_pack("{s:s,s:s}", "name", r->ldap_name, "type",
			"ldap"));
	if (r->oidc_name != NULL) {
		o = json_pack("{s:s,s:s}", "name", r->oidc_name, "type",
		    "oidc");
		if (r->oidc_display != NULL)
			json_object_set_new(o, "display",
			    json_string(r->oidc_display));
		json_array_append_new(a, o);
	}
	return json_pack("{s:o}", "realms", a);
}
