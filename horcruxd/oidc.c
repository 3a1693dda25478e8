/*
 * oidc.c - the oidc realm's relying party: discovery, the key set cache,
 * pending sign-ins, the code exchange (libcurl, HTTPS only, no redirects
 * followed, bounded answers, timeouts) and the claims' mapping.
 *
 * Threads: the login pool's. One mutex guards the endpoints, the key set
 * and the pending sign-ins; a fetch runs outside it and installs its
 * result under it, so one slow provider answer never holds the lock
 * (two threads may fetch at once; the later result simply wins). The key
 * set is used under the lock: a verification takes well under a
 * millisecond. What it deliberately does not do: userinfo (the provider
 * must put the claims in the ID token), refresh tokens, logout at the
 * provider, or any write to the store.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "hx-auth.h"
#include "hx-jose.h"
#include "hx-log.h"
#include "hx-rbac.h"
#include "hx-util.h"
#include "oidc.h"

struct role_map {
	char *value; /* the claim's value */
	char *role;
};

struct pending {
	char	state[HX_B64URL_LEN(32) + 1];
	char	verifier[HX_B64URL_LEN(32) + 1];
	char	nonce[HX_B64URL_LEN(16) + 1];
	int64_t expires; /* seconds */
};

struct oidc {
	char		*realm, *display;
	char		*issuer, *client_id, *secret, *ca_file;
	char		*redirect_uri, *scopes;
	char		*role_claim, *username_claim;
	int		 auth_post; /* client_secret_post, else _basic */
	struct role_map *map;
	size_t		 nmap;

	pthread_mutex_t mu;
	/* Under mu. */
	char	       *authz_ep, *token_ep, *jwks_uri;
	struct hx_jwks *jwks;
	int64_t		jwks_at; /* seconds: last refetch tried */
	int64_t		disc_failed_at; /* seconds: last failed discovery */
	struct pending *pend;
	size_t		npend;
};

/* --- set-up ---------------------------------------------------------------- */

/* "value=Role;value=Role": the last '=' splits, so values may hold '='. */
static int
parse_role_map(struct oidc *oi, const char *text, char **err)
{
	char *copy = xstrdup(text), *p = copy, *item, *eq, *why = NULL;
	int   rc = 0;

	while (rc == 0 && (item = strsep(&p, ";")) != NULL) {
		while (*item == ' ')
			item++;
		if (*item == '\0')
			continue;
		if ((eq = strrchr(item, '=')) == NULL || eq == item ||
		    eq[1] == '\0') {
			rc = hx_fail(err, -1,
			    "oidc_role_map: '%s' is not VALUE=ROLE", item);
			break;
		}
		*eq = '\0';
		if (hx_rbac_role_name_ok(eq + 1, &why) != 0) {
			rc = hx_fail(err, -1, "oidc_role_map: %s", why);
			free(why);
			break;
		}
		oi->map = xrealloc(oi->map, (oi->nmap + 1) * sizeof *oi->map);
		oi->map[oi->nmap].value = xstrdup(item);
		oi->map[oi->nmap].role = xstrdup(eq + 1);
		oi->nmap++;
	}
	free(copy);
	if (rc == 0 && oi->nmap == 0)
		rc = hx_fail(err, -1,
		    "oidc_role_map is empty: no one could sign in with "
		    "oidc_issuer set");
	return rc;
}

static int
need(const char *key, const char *value, char **err)
{
	if (value == NULL || value[0] == '\0')
		return hx_fail(err, -1,
		    "%s is required when oidc_issuer is set", key);
	return 0;
}

int
oidc_new(const struct options *o, const char *realm, struct oidc **out,
    char **err)
{
	struct oidc *oi;
	char	    *s, *why = NULL;

	*out = NULL;
	if (o->oidc_issuer == NULL || o->oidc_issuer[0] == '\0')
		return 0;
	if (strncmp(o->oidc_issuer, "https://", 8) != 0)
		return hx_fail(err, -1,
		    "oidc_issuer '%s' is not an https:// URL", o->oidc_issuer);
	if (need("oidc_client_id", o->oidc_client_id, err) != 0 ||
	    need("oidc_client_secret_file", o->oidc_client_secret_file, err) !=
		0 ||
	    need("oidc_redirect_uri", o->oidc_redirect_uri, err) != 0 ||
	    need("oidc_role_map", o->oidc_role_map, err) != 0)
		return -1;
	if (strncmp(o->oidc_redirect_uri, "https://", 8) != 0 &&
	    strncmp(o->oidc_redirect_uri, "http://", 7) != 0)
		return hx_fail(err, -1, "oidc_redirect_uri '%s' is not a URL",
		    o->oidc_redirect_uri);
	if ((s = hx_read_secret(o->oidc_client_secret_file, &why)) == NULL) {
		hx_fail(err, -1, "oidc_client_secret_file: %s", why);
		free(why);
		return -1;
	}
	oi = xcalloc(1, sizeof *oi);
	oi->secret = s;
	if (parse_role_map(oi, o->oidc_role_map, err) != 0) {
		oidc_free(oi);
		return -1;
	}
	oi->realm = xstrdup(realm);
	oi->display = xstrdup(o->oidc_display);
	oi->issuer = xstrdup(o->oidc_issuer);
	oi->client_id = xstrdup(o->oidc_client_id);
	oi->ca_file = xstrdup(o->oidc_ca_file);
	oi->redirect_uri = xstrdup(o->oidc_redirect_uri);
	oi->scopes = xstrdup(o->oidc_scopes);
	oi->role_claim = xstrdup(o->oidc_role_claim);
	oi->username_claim = xstrdup(o->oidc_username_claim);
	oi->auth_post = strcmp(o->oidc_client_auth, "post") == 0;
	oi->pend = xcalloc(OIDC_STATES_MAX, sizeof *oi->pend);
	pthread_mutex_init(&oi->mu, NULL);
	*out = oi;
	return 0;
}

void
oidc_free(struct oidc *oi)
{
	size_t i;

	if (oi == NULL)
		return;
	for (i = 0; i < oi->nmap; i++) {
		free(oi->map[i].value);
		free(oi->map[i].role);
	}
	free(oi->map);
	if (oi->secret != NULL)
		explicit_bzero(oi->secret, strlen(oi->secret));
	free(oi->secret);
	free(oi->realm);
	free(oi->display);
	free(oi->issuer);
	free(oi->client_id);
	free(oi->ca_file);
	free(oi->redirect_uri);
	free(oi->scopes);
	free(oi->role_claim);
	free(oi->username_claim);
	free(oi->authz_ep);
	free(oi->token_ep);
	free(oi->jwks_uri);
	hx_jwks_free(oi->jwks);
	if (oi->pend != NULL) {
		explicit_bzero(oi->pend, OIDC_STATES_MAX * sizeof *oi->pend);
		pthread_mutex_destroy(&oi->mu);
	}
	free(oi->pend);
	free(oi);
}

const char *
oidc_realm(const struct oidc *oi)
{
	return oi->realm;
}

const char *
oidc_display(const struct oidc *oi)
{
	return oi->display;
}

/* --- HTTP ------------------------------------------------------------------ */

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct hx_buf *b = arg;

	if (hx_buf_add(b, p, size * n) != 0)
		return 0; /* over OIDC_HTTP_MAX: curl fails the transfer */
	return size * n;
}

/*
 * GET url (form NULL) or POST form to it; the answer's JSON object in
 * *doc. Returns the HTTP status, or -1 with *err when the provider could
 * not be reached or did not answer JSON.
 */
static long
fetch_json(const struct oidc *oi, const char *url, const char *form,
    json_t **doc, char **err)
{
	CURL		  *e = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct hx_buf	   b;
	char		   ebuf[CURL_ERROR_SIZE] = "";
	long		   status = 0;
	CURLcode	   rc;

	*doc = NULL;
	if (e == NULL)
		return hx_fail(err, -1, "cannot make an HTTP client");
	hx_buf_init(&b, OIDC_HTTP_MAX);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (oi->ca_file[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, oi->ca_file);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)OIDC_HTTP_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)OIDC_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	if (form != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
		if (!oi->auth_post) {
			curl_easy_setopt(e, CURLOPT_HTTPAUTH,
			    (long)CURLAUTH_BASIC);
			curl_easy_setopt(e, CURLOPT_USERNAME, oi->client_id);
			curl_easy_setopt(e, CURLOPT_PASSWORD, oi->secret);
		}
	}
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(e);
	if (rc != CURLE_OK) {
		hx_buf_release(&b);
		return hx_fail(err, -1, "%s",
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc));
	}
	*doc = json_loadb(b.data != NULL ? b.data : "", b.len, 0, NULL);
	hx_buf_release(&b);
	if (!json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		return hx_fail(err, -1,
		    "answer (HTTP %ld) is not a JSON object", status);
	}
	return status;
}

/* --- discovery and keys ------------------------------------------------------ */

static int
https_member(json_t *doc, const char *name, char **out, char **err)
{
	const char *s = json_string_value(json_object_get(doc, name));

	if (s == NULL || strncmp(s, "https://", 8) != 0)
		return hx_fail(err, -1, "discovery document has no https:// %s",
		    name);
	*out = xstrdup(s);
	return 0;
}

/* Fetch the key set at uri into *ks. */
static int
fetch_jwks(const struct oidc *oi, const char *uri, struct hx_jwks **ks,
    char **err)
{
	json_t *doc;
	char   *text, *why = NULL;
	long	st;
	int	rc;

	if ((st = fetch_json(oi, uri, NULL, &doc, &why)) != 200) {
		json_decref(doc);
		rc = hx_fail(err, -1, "cannot fetch the key set %s: %s", uri,
		    why != NULL ? why : "not HTTP 200");
		free(why);
		return rc;
	}
	text = json_dumps(doc, 0);
	json_decref(doc);
	rc = hx_jwks_parse(text, strlen(text), ks, &why);
	free(text);
	if (rc != 0) {
		rc = hx_fail(err, -1, "key set %s: %s", uri, why);
		free(why);
	}
	return rc;
}

/*
 * Discover the endpoints and fetch the key set, unless done. Returns 0,
 * or -1 with *err.
 */
static int
discover(struct oidc *oi, char **err)
{
	json_t	       *doc = NULL;
	char	       *url, *why = NULL, *a = NULL, *t = NULL, *j = NULL;
	const char     *iss;
	struct hx_jwks *ks = NULL;
	size_t		n;
	long		st;
	int		done;
	int64_t		now = time(NULL), failed;

	pthread_mutex_lock(&oi->mu);
	done = oi->authz_ep != NULL && oi->jwks != NULL;
	failed = oi->disc_failed_at;
	pthread_mutex_unlock(&oi->mu);
	if (done)
		return 0;
	/*
	 * A provider that is down would hold a login thread for the whole
	 * timeout at every sign-in: after a failure, answer at once for a
	 * while, so password logins keep their threads.
	 */
	if (failed != 0 && now - failed < OIDC_RETRY_INTERVAL)
		return hx_fail(err, -1,
		    "the provider failed %lld s ago; not asked again before "
		    "%d s",
		    (long long)(now - failed), OIDC_RETRY_INTERVAL);
	n = strlen(oi->issuer);
	url = xasprintf("%.*s/.well-known/openid-configuration",
	    (int)(n > 0 && oi->issuer[n - 1] == '/' ? n - 1 : n), oi->issuer);
	st = fetch_json(oi, url, NULL, &doc, &why);
	if (st != 200) {
		hx_fail(err, -1, "cannot discover the provider at %s: %s", url,
		    why != NULL ? why : "not HTTP 200");
		goto fail;
	}
	/* A document for another issuer is a mix-up, not a provider. */
	iss = json_string_value(json_object_get(doc, "issuer"));
	if (iss == NULL || strcmp(iss, oi->issuer) != 0) {
		hx_fail(err, -1,
		    "discovery document at %s names issuer '%s', not '%s'", url,
		    iss != NULL ? iss : "", oi->issuer);
		goto fail;
	}
	if (https_member(doc, "authorization_endpoint", &a, err) != 0 ||
	    https_member(doc, "token_endpoint", &t, err) != 0 ||
	    https_member(doc, "jwks_uri", &j, err) != 0 ||
	    fetch_jwks(oi, j, &ks, err) != 0)
		goto fail;
	pthread_mutex_lock(&oi->mu);
	free(oi->authz_ep);
	free(oi->token_ep);
	free(oi->jwks_uri);
	hx_jwks_free(oi->jwks);
	oi->authz_ep = a;
	oi->token_ep = t;
	oi->jwks_uri = j;
	oi->jwks = ks;
	/* The rate limit counts refetches only: the first may come at once. */
	oi->jwks_at = 0;
	pthread_mutex_unlock(&oi->mu);
	log_info("oidc realm '%s': provider %s discovered, %zu signing key%s",
	    oi->realm, oi->issuer, hx_jwks_count(ks),
	    hx_jwks_count(ks) == 1 ? "" : "s");
	json_decref(doc);
	free(url);
	return 0;
fail:
	pthread_mutex_lock(&oi->mu);
	oi->disc_failed_at = now;
	pthread_mutex_unlock(&oi->mu);
	free(why);
	free(a);
	free(t);
	free(j);
	json_decref(doc);
	free(url);
	return -1;
}

/* --- start ------------------------------------------------------------------- */

static int
random_b64(size_t n, char *out, size_t outlen)
{
	unsigned char buf[32];

	if (n > sizeof buf || hx_random_bytes(buf, n) != 0)
		return -1;
	return hx_b64url_encode(buf, n, out, outlen);
}

/*
 * Append sep, name, '=' and s percent-encoded for a query string or a
 * form (RFC 3986's unreserved characters kept).
 */
static void
add_param(struct hx_buf *b, const char *sep, const char *name, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	hx_buf_addf(b, "%s%s=", sep, name);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			hx_buf_add(b, s, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			hx_buf_add(b, e, 3);
		}
	}
}

/* Drop expired sign-ins (under mu). */
static void
prune(struct oidc *oi, int64_t now)
{
	size_t i = 0;

	while (i < oi->npend) {
		if (oi->pend[i].expires <= now) {
			oi->pend[i] = oi->pend[--oi->npend];
			explicit_bzero(&oi->pend[oi->npend],
			    sizeof oi->pend[0]);
		} else
			i++;
	}
}

int
oidc_start(struct oidc *oi, char **url, char **err)
{
	struct pending p;
	unsigned char  md[EVP_MAX_MD_SIZE];
	unsigned int   mdlen = 0;
	char	       challenge[HX_B64URL_LEN(32) + 1], *why = NULL;
	struct hx_buf  b;
	int64_t	       now = time(NULL);

	*url = NULL;
	if (discover(oi, &why) != 0) {
		log_warn("oidc realm '%s': %s", oi->realm, why);
		free(why);
		return hx_fail(err, 503,
		    "the identity provider cannot be reached; try again later");
	}
	memset(&p, 0, sizeof p);
	if (random_b64(32, p.state, sizeof p.state) != 0 ||
	    random_b64(32, p.verifier, sizeof p.verifier) != 0 ||
	    random_b64(16, p.nonce, sizeof p.nonce) != 0 ||
	    EVP_Digest(p.verifier, strlen(p.verifier), md, &mdlen, EVP_sha256(),
		NULL) != 1 ||
	    hx_b64url_encode(md, mdlen, challenge, sizeof challenge) != 0)
		return hx_fail(err, 500, "internal error");
	p.expires = now + OIDC_STATE_TTL;
	hx_buf_init(&b, 0);
	pthread_mutex_lock(&oi->mu);
	prune(oi, now);
	if (oi->npend == OIDC_STATES_MAX) {
		pthread_mutex_unlock(&oi->mu);
		hx_buf_release(&b);
		return hx_fail(err, 429,
		    "too many sign-ins in progress; try again later");
	}
	oi->pend[oi->npend++] = p;
	hx_buf_addf(&b, "%s", oi->authz_ep);
	pthread_mutex_unlock(&oi->mu);
	add_param(&b, strchr(b.data, '?') != NULL ? "&" : "?", "response_type",
	    "code");
	add_param(&b, "&", "client_id", oi->client_id);
	add_param(&b, "&", "redirect_uri", oi->redirect_uri);
	add_param(&b, "&", "scope", oi->scopes);
	add_param(&b, "&", "state", p.state);
	add_param(&b, "&", "nonce", p.nonce);
	add_param(&b, "&", "code_challenge", challenge);
	add_param(&b, "&", "code_challenge_method", "S256");
	*url = hx_buf_detach(&b, NULL);
	explicit_bzero(&p, sizeof p);
	return 302;
}

/* --- finish ------------------------------------------------------------------ */

/* Take (and forget) the pending sign-in of state; 0, or -1 if none. */
static int
take_state(struct oidc *oi, const char *state, struct pending *out)
{
	int64_t now = time(NULL);
	size_t	i;
	int	rc = -1;

	pthread_mutex_lock(&oi->mu);
	prune(oi, now);
	for (i = 0; i < oi->npend; i++) {
		if (strlen(state) == strlen(oi->pend[i].state) &&
		    hx_ct_equal(state, oi->pend[i].state, strlen(state))) {
			*out = oi->pend[i];
			oi->pend[i] = oi->pend[--oi->npend];
			explicit_bzero(&oi->pend[oi->npend],
			    sizeof oi->pend[0]);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&oi->mu);
	return rc;
}

static char *
form_escape(const char *s)
{
	struct hx_buf b;

	char *out;

	hx_buf_init(&b, 0);
	add_param(&b, "", "x", s);
	out = xstrdup(b.data + 2); /* after the "x=" */
	hx_buf_release(&b);
	return out;
}

/* POST the code to the token endpoint; the ID token in *idt. */
static int
exchange(struct oidc *oi, const char *code, const struct pending *p, char **idt,
    char **err)
{
	json_t	   *doc = NULL;
	char	   *c = form_escape(code), *r = form_escape(oi->redirect_uri);
	char	   *form, *why = NULL, *ep;
	const char *e, *d, *t;
	long	    st;
	int	    rc;

	form = xasprintf("grant_type=authorization_code&code=%s"
			 "&redirect_uri=%s&code_verifier=%s",
	    c, r, p->verifier);
	free(c);
	free(r);
	if (oi->auth_post) {
		char *id = form_escape(oi->client_id);
		char *sec = form_escape(oi->secret);
		char *f2 = xasprintf("%s&client_id=%s&client_secret=%s", form,
		    id, sec);

		explicit_bzero(sec, strlen(sec));
		free(id);
		free(sec);
		free(form);
		form = f2;
	}
	pthread_mutex_lock(&oi->mu);
	ep = xstrdup(oi->token_ep);
	pthread_mutex_unlock(&oi->mu);
	st = fetch_json(oi, ep, form, &doc, &why);
	explicit_bzero(form, strlen(form));
	free(form);
	if (st < 0) {
		log_warn("oidc realm '%s': token endpoint %s: %s", oi->realm,
		    ep, why);
		free(why);
		free(ep);
		return hx_fail(err, 503,
		    "the identity provider cannot be reached; try again later");
	}
	free(ep);
	e = json_string_value(json_object_get(doc, "error"));
	d = json_string_value(json_object_get(doc, "error_description"));
	t = json_string_value(json_object_get(doc, "id_token"));
	if (st != 200 || t == NULL) {
		if (e != NULL)
			rc = hx_fail(err, st >= 400 && st < 500 ? 400 : 502,
			    "the identity provider refused the sign-in code: "
			    "%.64s%s%.200s%s",
			    e, d != NULL ? " (" : "", d != NULL ? d : "",
			    d != NULL ? ")" : "");
		else
			rc = hx_fail(err, 502,
			    "the identity provider's token answer (HTTP %ld) "
			    "has no ID token",
			    st);
		json_decref(doc);
		return rc;
	}
	*idt = xstrdup(t);
	json_decref(doc);
	return 200;
}

/* Verify under the lock; on an unknown kid, refetch the set (rate-limited). */
static int
verify(struct oidc *oi, const char *idt, const struct pending *p,
    json_t **claims, char **err)
{
	struct hx_jose_expect w = { oi->issuer, oi->client_id, p->nonce,
		time(NULL) };
	struct hx_jwks	     *ks = NULL;
	char		     *uri = NULL, *why = NULL;
	int		      rc, again = 0;

	pthread_mutex_lock(&oi->mu);
	rc = hx_jose_verify(oi->jwks, idt, &w, claims, err);
	if (rc == HX_JOSE_UNKNOWN_KID &&
	    w.now - oi->jwks_at >= OIDC_JWKS_MIN_INTERVAL) {
		oi->jwks_at = w.now;
		uri = xstrdup(oi->jwks_uri);
		again = 1;
	}
	pthread_mutex_unlock(&oi->mu);
	if (!again)
		return rc;
	log_info("oidc realm '%s': ID token names an unknown key: fetching "
		 "the key set again",
	    oi->realm);
	if (fetch_jwks(oi, uri, &ks, &why) != 0) {
		log_warn("oidc realm '%s': %s", oi->realm, why);
		free(why);
		free(uri);
		return rc;
	}
	free(uri);
	free(*err);
	*err = NULL;
	pthread_mutex_lock(&oi->mu);
	hx_jwks_free(oi->jwks);
	oi->jwks = ks;
	rc = hx_jose_verify(oi->jwks, idt, &w, claims, err);
	pthread_mutex_unlock(&oi->mu);
	return rc;
}

/* The claim at a dotted path ("realm_access.roles"), or NULL. */
static json_t *
claim_at(json_t *claims, const char *path)
{
	char   *copy = xstrdup(path), *p = copy, *part;
	json_t *v = claims;

	while (v != NULL && (part = strsep(&p, ".")) != NULL)
		v = json_is_object(v) ? json_object_get(v, part) : NULL;
	free(copy);
	return v;
}

static void
add_role(struct hx_store_strv *roles, const char *role)
{
	size_t i;

	for (i = 0; i < roles->n; i++)
		if (strcmp(roles->v[i], role) == 0)
			return;
	/* NULL-terminated as well, for hx_store_user_external. */
	roles->v = xrealloc(roles->v, (roles->n + 2) * sizeof *roles->v);
	roles->v[roles->n++] = xstrdup(role);
	roles->v[roles->n] = NULL;
}

static void
map_value(const struct oidc *oi, const char *value, struct hx_store_strv *roles)
{
	size_t i;

	for (i = 0; i < oi->nmap; i++)
		if (strcmp(oi->map[i].value, value) == 0)
			add_role(roles, oi->map[i].role);
}

static int
map_claims(struct oidc *oi, json_t *claims, struct oidc_login *out, char **err)
{
	json_t	   *v = claim_at(claims, oi->username_claim), *rc, *e;
	const char *name = json_string_value(v), *email;
	char	   *why = NULL;
	size_t	    i;

	if (name == NULL)
		return hx_fail(err, 403,
		    "the ID token has no '%s' claim to name the user by",
		    oi->username_claim);
	if (hx_rbac_name_ok("username", name, &why) != 0) {
		free(why);
		return hx_fail(err, 403,
		    "the ID token's %s '%.64s' is not a usable user name",
		    oi->username_claim, name);
	}
	/* Known from here on, also for the audit line of a refusal. */
	out->username = xstrdup(name);
	rc = claim_at(claims, oi->role_claim);
	if (json_is_string(rc))
		map_value(oi, json_string_value(rc), &out->roles);
	else if (json_is_array(rc))
		json_array_foreach(rc, i, e)
			if (json_is_string(e))
				map_value(oi, json_string_value(e),
				    &out->roles);
	if (out->roles.n == 0)
		return hx_fail(err, 403,
		    "%s@%s has no role here: no value of the '%s' claim is "
		    "in oidc_role_map",
		    name, oi->realm, oi->role_claim);
	email = json_string_value(json_object_get(claims, "email"));
	out->email = email != NULL ? xstrdup(email) : NULL;
	out->subject = xstrdup(
	    json_string_value(json_object_get(claims, "sub")));
	return 200;
}

int
oidc_finish(struct oidc *oi, json_t *params, struct oidc_login *out, char **err)
{
	const char *state = json_string_value(json_object_get(params, "state")),
		   *code = json_string_value(json_object_get(params, "code")),
		   *e = json_string_value(json_object_get(params, "error")),
		   *d = json_string_value(
		       json_object_get(params, "error_description")),
		   *iss = json_string_value(json_object_get(params, "iss"));
	struct pending p;
	json_t	      *claims = NULL;
	char	      *idt = NULL, *why = NULL;
	int	       rc, bad_state;

	memset(out, 0, sizeof *out);
	memset(&p, 0, sizeof p);
	/*
	 * Whatever the answer, a state it names is spent; the provider's
	 * own error says more than a bad state would.
	 */
	bad_state = state == NULL || take_state(oi, state, &p) != 0;
	if (e != NULL)
		return hx_fail(err, 400,
		    "the identity provider did not sign you in: "
		    "%.64s%s%.200s%s",
		    e, d != NULL ? " (" : "", d != NULL ? d : "",
		    d != NULL ? ")" : "");
	if (bad_state)
		return hx_fail(err, 400,
		    "unknown, used or expired sign-in state: start again");
	/* RFC 9207: an answer from another issuer is a mix-up attack. */
	if (iss != NULL && strcmp(iss, oi->issuer) != 0)
		return hx_fail(err, 400,
		    "the answer comes from issuer '%.200s', not '%s'", iss,
		    oi->issuer);
	if (code == NULL || code[0] == '\0')
		return hx_fail(err, 400, "the callback carries no code");
	if ((rc = discover(oi, &why)) != 0) {
		log_warn("oidc realm '%s': %s", oi->realm, why);
		free(why);
		return hx_fail(err, 503,
		    "the identity provider cannot be reached; try again later");
	}
	if ((rc = exchange(oi, code, &p, &idt, err)) != 200)
		goto out;
	if (verify(oi, idt, &p, &claims, &why) != HX_JOSE_OK) {
		rc = hx_fail(err, 502, "the identity provider's %s", why);
		free(why);
		goto out;
	}
	rc = map_claims(oi, claims, out, err);
out:
	explicit_bzero(&p, sizeof p);
	free(idt);
	json_decref(claims);
	return rc;
}

void
oidc_login_release(struct oidc_login *l)
{
	size_t i;

	free(l->username);
	free(l->email);
	free(l->subject);
	for (i = 0; i < l->roles.n; i++)
		free(l->roles.v[i]);
	free(l->roles.v);
	memset(l, 0, sizeof *l);
}
