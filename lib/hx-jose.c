/*
 * hx-jose.c - JWKS parsing and ID token (compact JWS) verification with
 * OpenSSL 3's EVP interface, for the OpenID Connect realm.
 *
 * The algorithm list is closed: RS256 and ES256. The token's header only
 * chooses between them and names a key; the key's own type (and its alg,
 * when the set gives one) must agree, so an RSA key can never be used as
 * an HMAC secret or an EC key for RS256. It deliberately does no network
 * I/O and keeps no cache: the daemon's OIDC client fetches the set and
 * decides when to fetch it again (HX_JOSE_UNKNOWN_KID).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "hx-auth.h"
#include "hx-jose.h"
#include "hx-util.h"

enum key_type {
	KEY_RSA,
	KEY_EC
};

struct jwk {
	enum key_type type;
	char	     *kid; /* NULL if the set gave none */
	char	     *alg; /* NULL if the set gave none */
	EVP_PKEY     *pkey;
};

struct hx_jwks {
	struct jwk *v;
	size_t	    n;
};

/* --- base64url ------------------------------------------------------------ */

/* A JSON member that is base64url text, decoded; NULL if absent or bad. */
static unsigned char *
b64_member(json_t *obj, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(obj, name));

	if (s == NULL)
		return NULL;
	return hx_b64url_decode(s, strlen(s), len);
}

/* --- keys ----------------------------------------------------------------- */

static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM   *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY     *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *
rsa_key(json_t *k)
{
	unsigned char  *n = NULL, *e = NULL;
	size_t		nlen = 0, elen = 0;
	BIGNUM	       *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY       *pkey = NULL;

	if ((n = b64_member(k, "n", &nlen)) == NULL ||
	    (e = b64_member(k, "e", &elen)) == NULL || nlen == 0 || elen == 0 ||
	    elen > 8)
		goto out;
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	/* Under 2048 bits is refused (NIST SP 800-131A), as is e < 3. */
	if (bn == NULL || be == NULL || BN_num_bits(bn) < 2048 ||
	    BN_num_bits(bn) > 8192 || !BN_is_odd(be) || BN_is_one(be))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	pkey = pkey_fromdata("RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return pkey;
}

static EVP_PKEY *
ec_key(json_t *k)
{
	unsigned char  *x = NULL, *y = NULL, pub[65];
	size_t		xlen = 0, ylen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY       *pkey = NULL;
	const char     *crv = json_string_value(json_object_get(k, "crv"));

	if (crv == NULL || strcmp(crv, "P-256") != 0 ||
	    (x = b64_member(k, "x", &xlen)) == NULL ||
	    (y = b64_member(k, "y", &ylen)) == NULL || xlen != 32 || ylen != 32)
		goto out;
	/* Uncompressed point: 0x04 || x || y; fromdata checks it is on P-256. */
	pub[0] = 0x04;
	memcpy(pub + 1, x, 32);
	memcpy(pub + 33, y, 32);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		"prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
		sizeof pub))
		goto out;
	pkey = pkey_fromdata("EC", bld);
	if (pkey != NULL) {
		/* fromdata does not always validate the point: do it here. */
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

		if (c == NULL || EVP_PKEY_public_check(c) != 1) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
		EVP_PKEY_CTX_free(c);
	}
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

int
hx_jwks_parse(const char *text, size_t len, struct hx_jwks **out, char **err)
{
	json_error_t	jerr;
	json_t	       *doc, *keys, *k;
	struct hx_jwks *ks;
	size_t		i;

	*out = NULL;
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return hx_fail(err, -1, "key set is not JSON: %s", jerr.text);
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys)) {
		json_decref(doc);
		return hx_fail(err, -1, "key set has no \"keys\" array");
	}
	ks = xcalloc(1, sizeof *ks);
	ks->v = xcalloc(HX_JOSE_JWKS_MAX, sizeof *ks->v);
	json_array_foreach(keys, i, k) {
		const char *kty = json_string_value(json_object_get(k, "kty"));
		const char *use = json_string_value(json_object_get(k, "use"));
		const char *kid = json_string_value(json_object_get(k, "kid"));
		const char *alg = json_string_value(json_object_get(k, "alg"));
		struct jwk  key;

		if (ks->n == HX_JOSE_JWKS_MAX || kty == NULL ||
		    (use != NULL && strcmp(use, "sig") != 0))
			continue;
		memset(&key, 0, sizeof key);
		if (strcmp(kty, "RSA") == 0) {
			key.type = KEY_RSA;
			key.pkey = rsa_key(k);
		} else if (strcmp(kty, "EC") == 0) {
			key.type = KEY_EC;
			key.pkey = ec_key(k);
		}
		if (key.pkey == NULL)
			continue;
		key.kid = kid != NULL ? xstrdup(kid) : NULL;
		key.alg = alg != NULL ? xstrdup(alg) : NULL;
		ks->v[ks->n++] = key;
	}
	json_decref(doc);
	if (ks->n == 0) {
		hx_jwks_free(ks);
		return hx_fail(err, -1,
		    "key set holds no RSA or P-256 signing key");
	}
	*out = ks;
	return 0;
}

void
hx_jwks_free(struct hx_jwks *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++) {
		EVP_PKEY_free(ks->v[i].pkey);
		free(ks->v[i].kid);
		free(ks->v[i].alg);
	}
	free(ks->v);
	free(ks);
}

size_t
hx_jwks_count(const struct hx_jwks *ks)
{
	return ks != NULL ? ks->n : 0;
}

/* --- signatures ----------------------------------------------------------- */

/* ES256's raw r||s (32 + 32 bytes) as the DER ECDSA-Sig-Value EVP wants. */
static unsigned char *
es256_der(const unsigned char *sig, size_t siglen, size_t *derlen)
{
	ECDSA_SIG     *es;
	BIGNUM	      *r, *s;
	unsigned char *der = NULL;
	int	       n;

	if (siglen != 64)
		return NULL;
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	es = ECDSA_SIG_new();
	if (r == NULL || s == NULL || es == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*derlen = (size_t)n;
	return der;
}

/* 1 if sig is key's SHA-256 signature of data, else 0. */
static int
sig_ok(const struct jwk *key, const char *data, size_t datalen,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX    *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	size_t	       derlen = 0;
	int	       ok = 0;

	if (md == NULL)
		return 0;
	if (key->type == KEY_EC) {
		if ((der = es256_der(sig, siglen, &derlen)) == NULL)
			goto out;
		sig = der;
		siglen = derlen;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) ==
		1 &&
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)data,
		datalen) == 1)
		ok = 1;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	return ok;
}

/* --- claims --------------------------------------------------------------- */

/* A NumericDate claim as seconds; -1 if absent, -2 if not a number. */
static int
numeric_date(json_t *claims, const char *name, int64_t *out)
{
	json_t *v = json_object_get(claims, name);

	if (v == NULL)
		return -1;
	if (!json_is_number(v))
		return -2;
	*out = (int64_t)json_number_value(v);
	return 0;
}

static int
aud_ok(json_t *claims, const char *client_id)
{
	json_t *aud = json_object_get(claims, "aud"), *v;
	size_t	i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), client_id) == 0;
	if (!json_is_array(aud))
		return 0;
	json_array_foreach(aud, i, v) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), client_id) == 0)
			return 1;
	}
	return 0;
}

static int
claims_ok(json_t *c, const struct hx_jose_expect *w, char **err)
{
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const char *nonce = json_string_value(json_object_get(c, "nonce"));
	const char *sub = json_string_value(json_object_get(c, "sub"));
	json_t	   *azp = json_object_get(c, "azp");
	int64_t	    exp = 0, iat = 0, nbf = 0;
	int	    r;

	if (iss == NULL || strcmp(iss, w->issuer) != 0)
		return hx_fail(err, -1, "ID token issuer is not '%s'",
		    w->issuer);
	if (!aud_ok(c, w->audience))
		return hx_fail(err, -1,
		    "ID token audience does not include '%s'", w->audience);
	if (azp != NULL &&
	    (!json_is_string(azp) ||
		strcmp(json_string_value(azp), w->audience) != 0))
		return hx_fail(err, -1, "ID token authorized party is not '%s'",
		    w->audience);
	if (numeric_date(c, "exp", &exp) != 0)
		return hx_fail(err, -1, "ID token has no numeric exp");
	if (w->now > exp + HX_JOSE_SKEW)
		return hx_fail(err, -1, "ID token has expired");
	if (numeric_date(c, "iat", &iat) != 0)
		return hx_fail(err, -1, "ID token has no numeric iat");
	if (iat > w->now + HX_JOSE_SKEW)
		return hx_fail(err, -1, "ID token is issued in the future");
	if ((r = numeric_date(c, "nbf", &nbf)) == -2 ||
	    (r == 0 && nbf > w->now + HX_JOSE_SKEW))
		return hx_fail(err, -1, "ID token is not valid yet");
	if (w->nonce == NULL || nonce == NULL || strcmp(nonce, w->nonce) != 0)
		return hx_fail(err, -1, "ID token nonce does not match");
	if (sub == NULL || sub[0] == '\0')
		return hx_fail(err, -1, "ID token has no subject");
	return 0;
}

/* --- verification --------------------------------------------------------- */

static json_t *
decode_json_part(const char *s, size_t n)
{
	unsigned char *raw;
	size_t	       len;
	json_t	      *j;

	if ((raw = hx_b64url_decode(s, n, &len)) == NULL)
		return NULL;
	j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

int
hx_jose_verify(const struct hx_jwks *ks, const char *token,
    const struct hx_jose_expect *want, json_t **claims, char **err)
{
	const char    *dot1, *dot2, *alg, *kid;
	json_t	      *hdr = NULL, *pay = NULL;
	unsigned char *sig = NULL;
	size_t	       len, siglen = 0, i;
	enum key_type  type;
	int	       rc = HX_JOSE_INVALID, tried = 0, good = 0;

	*claims = NULL;
	len = strnlen(token, HX_JOSE_TOKEN_MAX + 1);
	if (len > HX_JOSE_TOKEN_MAX)
		return hx_fail(err, rc, "ID token is too long");
	if ((dot1 = memchr(token, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))) ==
		NULL ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
		return hx_fail(err, rc, "ID token is not a compact JWS");
	if ((hdr = decode_json_part(token, (size_t)(dot1 - token))) == NULL) {
		hx_fail(err, rc, "ID token header is not base64url JSON");
		goto out;
	}
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (alg == NULL) {
		hx_fail(err, rc, "ID token header has no alg");
		goto out;
	}
	if (strcmp(alg, "RS256") == 0)
		type = KEY_RSA;
	else if (strcmp(alg, "ES256") == 0)
		type = KEY_EC;
	else {
		hx_fail(err, rc,
		    "ID token algorithm '%.20s' is not accepted "
		    "(RS256 or ES256 only)",
		    alg);
		goto out;
	}
	if (json_object_get(hdr, "crit") != NULL) {
		hx_fail(err, rc, "ID token header has a crit member");
		goto out;
	}
	kid = json_string_value(json_object_get(hdr, "kid"));
	if (json_object_get(hdr, "kid") != NULL && kid == NULL) {
		hx_fail(err, rc, "ID token kid is not a string");
		goto out;
	}
	sig = hx_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token),
	    &siglen);
	if (sig == NULL || siglen == 0) {
		hx_fail(err, rc, "ID token signature is missing or malformed");
		goto out;
	}
	for (i = 0; i < hx_jwks_count(ks) && !good; i++) {
		const struct jwk *k = &ks->v[i];

		if (kid != NULL && (k->kid == NULL || strcmp(k->kid, kid) != 0))
			continue;
		tried++;
		if (k->type != type ||
		    (k->alg != NULL && strcmp(k->alg, alg) != 0))
			continue;
		good = sig_ok(k, token, (size_t)(dot2 - token), sig, siglen);
	}
	if (!good) {
		if (kid != NULL && tried == 0) {
			rc = hx_fail(err, HX_JOSE_UNKNOWN_KID,
			    "ID token key '%.64s' is not in the issuer's key set",
			    kid);
		} else
			hx_fail(err, rc, "ID token signature does not verify");
		goto out;
	}
	if ((pay = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1))) ==
	    NULL) {
		hx_fail(err, rc, "ID token payload is not base64url JSON");
		goto out;
	}
	if (claims_ok(pay, want, err) != 0)
		goto out;
	*claims = pay;
	pay = NULL;
	rc = HX_JOSE_OK;
out:
	free(sig);
	json_decref(hdr);
	json_decref(pay);
	return rc;
}
