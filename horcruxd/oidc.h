/*
 * oidc.h - the OpenID Connect relying party of the oidc realm (DESIGN
 * §11): discovery from oidc_issuer, the issuer's key set (cached, fetched
 * again on an unknown kid at most every OIDC_JWKS_MIN_INTERVAL seconds),
 * the pending sign-ins (state -> PKCE verifier, nonce, expiry; bounded, one
 * use), the authorization code exchange at the token endpoint, the ID
 * token's verification (lib/hx-jose) and the mapping of its claims to a
 * user name and roles.
 *
 * Every function that may touch the network (oidc_start, oidc_finish)
 * blocks for up to the HTTP timeouts: call them on the login pool, never
 * on the service thread. They are safe to call from several threads at
 * once (one mutex guards the discovered endpoints, the key set and the
 * pending sign-ins; no network I/O happens under it). What this module
 * does not do: write users or sessions (the identity worker does, with
 * the answer of oidc_finish), or speak HTTP to the browser.
 */
#ifndef HORCRUXD_OIDC_H
#define HORCRUXD_OIDC_H

#include <stdint.h>

#include <jansson.h>

#include "hx-store.h"
#include "options.h"

#define OIDC_STATE_TTL 600 /* seconds a sign-in may take */
#define OIDC_STATES_MAX 1024 /* pending sign-ins at once */
#define OIDC_JWKS_MIN_INTERVAL 10 /* seconds between key set fetches */
#define OIDC_RETRY_INTERVAL 10 /* seconds after a failed discovery */
#define OIDC_HTTP_TIMEOUT_MS 10000 /* whole request to the provider */
#define OIDC_CONNECT_TIMEOUT_MS 5000
#define OIDC_HTTP_MAX (256 * 1024) /* biggest provider answer read */

struct oidc;

/* Who signed in, as oidc_finish found them. */
struct oidc_login {
	char		    *username; /* from oidc_username_claim */
	char		    *email; /* the email claim, or NULL */
	char		    *subject; /* sub, for the audit line */
	struct hx_store_strv roles; /* mapped from oidc_role_claim;
					  v is also NULL-terminated */
};

/*
 * Make the relying party of o's oidc_* keys for the realm named realm:
 * reads oidc_client_secret_file
 * and parses oidc_role_map; no network yet. Returns 0 with *out (NULL when
 * oidc_issuer is empty: no oidc realm), or -1 with *err (caller frees) for
 * a missing or unreadable key.
 */
int oidc_new(const struct options *o, const char *realm, struct oidc **out,
    char **err);
/* Free it; NULL is a no-op. */
void oidc_free(struct oidc *oi);

/* The realm's name (oidc_realm) and its sign-in button text. */
const char *oidc_realm(const struct oidc *oi);
const char *oidc_display(const struct oidc *oi);

/*
 * Begin a sign-in: discover the provider if not done yet, remember a new
 * state with its PKCE verifier and nonce, and return in *url (caller
 * frees) the authorization endpoint's URL to send the browser to. Returns
 * 302, or the HTTP status of the failure with *err: 503 the provider
 * cannot be reached or its discovery document is wrong, 429 too many
 * sign-ins pending.
 */
int oidc_start(struct oidc *oi, char **url, char **err);

/*
 * Finish a sign-in from the callback's parameters (a JSON object of the
 * query's "state", "code", "iss", "error", "error_description" strings): take the
 * state (one use), exchange the code with its verifier, verify the ID
 * token, map its claims. Returns 200 with *out filled (release with
 * oidc_login_release), or the HTTP status of the failure with *err (caller
 * frees), a one-line message for the person signing in: 400 unknown, used
 * or expired state, the provider's error parameter or a refused code; 403
 * no mapped role or an unusable user name; 502 a token that does not
 * verify or a provider that answers nonsense; 503 a provider that cannot
 * be reached. Release *out with oidc_login_release either way: after a
 * refusal its username is the token's user when the token was good (for
 * the audit line), else NULL.
 */
int oidc_finish(struct oidc *oi, json_t *params, struct oidc_login *out,
    char **err);

void oidc_login_release(struct oidc_login *l);

#endif
