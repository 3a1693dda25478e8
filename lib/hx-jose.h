/*
 * hx-jose.h - OpenID Connect ID token verification: a JSON Web Key Set
 * (RFC 7517) parsed into OpenSSL public keys, and a compact JWS (RFC 7515)
 * ID token checked against it and against what the relying party expects
 * (OpenID Connect Core §3.1.3.7).
 *
 * Only RS256 (RSA PKCS#1 v1.5, SHA-256, keys of 2048 bits or more) and
 * ES256 (ECDSA P-256, SHA-256, the signature raw r||s) are accepted; "none",
 * every HS* (a public key must never become an HMAC secret) and anything
 * else are refused before a key is looked at. Pure functions over memory:
 * no network, no clock (the caller passes now), nothing printed. Failures
 * come back as a lowercase one-line reason in *err (caller frees), fit for a
 * log line and for the message of a refused sign-in.
 */
#ifndef HX_JOSE_H
#define HX_JOSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define HX_JOSE_TOKEN_MAX 16384 /* longest ID token looked at, bytes */
#define HX_JOSE_JWKS_MAX 64 /* keys kept from one key set */
#define HX_JOSE_SKEW 60 /* seconds of clock skew allowed */

/* Results of hx_jose_verify(). */
enum {
	HX_JOSE_OK = 0,
	HX_JOSE_INVALID = -1, /* refused: *err says why */
	HX_JOSE_UNKNOWN_KID = -2, /* no key with the token's kid: refetch */
};

struct hx_jwks;

/*
 * Parse a JWKS document ({"keys":[...]}). Keys of type RSA (n, e) and EC
 * (crv P-256, x, y) whose "use", if present, is "sig" are kept with their
 * kid and alg; other keys (encryption keys, other curves, symmetric keys)
 * are skipped. Returns 0 with *out (free with hx_jwks_free), or -1 with
 * *err if the text is not such a document or holds no usable key.
 */
int hx_jwks_parse(const char *text, size_t len, struct hx_jwks **out,
    char **err);

/* Free a key set; NULL is a no-op. */
void hx_jwks_free(struct hx_jwks *ks);

/* How many usable keys the set holds. */
size_t hx_jwks_count(const struct hx_jwks *ks);

/* What the relying party expects of an ID token. */
struct hx_jose_expect {
	const char *issuer; /* iss must be exactly this */
	const char *audience; /* our client_id: aud (string or array), azp */
	const char *nonce; /* the nonce sent with the request */
	int64_t	    now; /* seconds since the epoch */
};

/*
 * Verify a compact JWS ID token: its header (alg RS256 or ES256, no
 * "crit"), a key of ks matching kid (or, without a kid, any key of the
 * algorithm's type) and its signature, then the claims: iss, aud (and azp
 * when present), exp and nbf with HX_JOSE_SKEW seconds of skew, iat not in
 * the future beyond the skew, nonce, and a non-empty string sub. Returns
 * HX_JOSE_OK with *claims (a new reference the caller decrefs),
 * HX_JOSE_UNKNOWN_KID if the token names a kid the set lacks (the caller
 * may refetch the set and try again), or HX_JOSE_INVALID; on failure *err
 * says why.
 */
int hx_jose_verify(const struct hx_jwks *ks, const char *token,
    const struct hx_jose_expect *want, json_t **claims, char **err);

#endif
