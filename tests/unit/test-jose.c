/*
 * test-jose.c - ID token verification (lib/hx-jose.c) against keys made
 * here: an RSA 2048 and a P-256 key published in a JWKS, tokens signed
 * with OpenSSL directly (ES256 turned from DER into raw r||s as a provider
 * sends it), then every refusal: alg none, HS256 made with the public
 * key's bytes, an unknown alg, an unknown kid, another key under a known
 * kid, a key of the wrong type, a tampered payload, wrong iss, aud, azp
 * or nonce, expired (and the 60 s skew either side), iat in the future,
 * no sub, malformed tokens and key sets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

#include "hx-auth.h"
#include "hx-jose.h"
#include "hx-util.h"
#include "tap.h"

#define NOW 1800000000LL
#define ISS "https://idp.test:8443"
#define AUD "horcrux"

static EVP_PKEY *rsa, *ec, *rsa_other, *ec_other;

static char *
b64(const void *p, size_t n)
{
	char *s = xmalloc(HX_B64URL_LEN(n) + 1);

	hx_b64url_encode(p, n, s, HX_B64URL_LEN(n) + 1);
	return s;
}

static char *
bn_b64(EVP_PKEY *k, const char *name, size_t pad)
{
	BIGNUM	     *bn = NULL;
	unsigned char buf[1024];
	int	      n;

	EVP_PKEY_get_bn_param(k, name, &bn);
	n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64(buf, (size_t)n);
}

/* {"kty":"RSA",...} or {"kty":"EC",...} for k, with kid and use. */
static json_t *
jwk_of(EVP_PKEY *k, const char *kid)
{
	json_t *j;
	char   *a, *b;

	if (EVP_PKEY_is_a(k, "RSA")) {
		a = bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0);
		b = bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
		j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "RSA", "n", a,
		    "e", b, "kid", kid, "use", "sig");
	} else {
		a = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		b = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv",
		    "P-256", "x", a, "y", b, "kid", kid, "alg", "ES256");
	}
	free(a);
	free(b);
	return j;
}

static struct hx_jwks *
keyset(void)
{
	json_t	       *doc = json_pack("{s:[o,o,{s:s,s:s,s:s}]}", "keys",
		    jwk_of(rsa, "r1"), jwk_of(ec, "e1"), "kty", "oct", "k", "c2VjcmV0",
		    "kid", "h1");
	char	       *txt = json_dumps(doc, 0), *err = NULL;
	struct hx_jwks *ks = NULL;

	if (hx_jwks_parse(txt, strlen(txt), &ks, &err) != 0)
		printf("# keyset: %s\n", err);
	free(err);
	free(txt);
	json_decref(doc);
	return ks;
}

/* header.payload signed by k (NULL: empty signature) as alg says. */
static char *
sign(EVP_PKEY *k, const char *hdr, json_t *claims)
{
	char	     *h = b64(hdr, strlen(hdr)), *pj = json_dumps(claims, 0);
	char	     *p = b64(pj, strlen(pj));
	char	     *input = xasprintf("%s.%s", h, p), *s, *tok;
	unsigned char sig[1024], raw[64];
	size_t	      siglen = sizeof sig;
	EVP_MD_CTX   *md = EVP_MD_CTX_new();

	if (k == NULL) {
		s = xstrdup("");
	} else {
		EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k);
		EVP_DigestSign(md, sig, &siglen, (unsigned char *)input,
		    strlen(input));
		if (EVP_PKEY_is_a(k, "EC")) {
			const unsigned char *q = sig;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)siglen);

			BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
			ECDSA_SIG_free(es);
			s = b64(raw, 64);
		} else
			s = b64(sig, siglen);
	}
	tok = xasprintf("%s.%s", input, s);
	EVP_MD_CTX_free(md);
	free(h);
	free(pj);
	free(p);
	free(input);
	free(s);
	return tok;
}

/* sign() of claims that are then released: for the with() tokens. */
static char *
signo(EVP_PKEY *k, const char *hdr, json_t *claims)
{
	char *tok = sign(k, hdr, claims);

	json_decref(claims);
	return tok;
}

static json_t *
good_claims(void)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "iss", ISS, "sub",
	    "u-42", "aud", AUD, "exp", (json_int_t)NOW + 300, "iat",
	    (json_int_t)NOW - 5, "nonce", "n0nce", "preferred_username",
	    "alice");
}

/* Verify tok with the standard expectations; *why gets the message. */
static int
check(struct hx_jwks *ks, char *tok, char **why)
{
	struct hx_jose_expect w = { ISS, AUD, "n0nce", NOW };
	json_t		     *c = NULL;
	int		      rc;

	free(*why);
	*why = NULL;
	rc = hx_jose_verify(ks, tok, &w, &c, why);
	if (rc == HX_JOSE_OK && c == NULL)
		rc = 99;
	json_decref(c);
	free(tok);
	return rc;
}

static void
refused(struct hx_jwks *ks, char *tok, const char *msg, const char *name)
{
	char *why = NULL;
	int   rc = check(ks, tok, &why);

	ok(rc == HX_JOSE_INVALID && why != NULL && strstr(why, msg) != NULL,
	    "refused: %s", name);
	if (rc != HX_JOSE_INVALID || why == NULL || strstr(why, msg) == NULL)
		printf("#   rc %d, message '%s', want '%s'\n", rc,
		    why != NULL ? why : "(null)", msg);
	free(why);
}

/* The good claims with one member set to v (NULL: removed). */
static json_t *
with(const char *name, json_t *v)
{
	json_t *c = good_claims();

	if (v == NULL)
		json_object_del(c, name);
	else
		json_object_set_new(c, name, v);
	return c;
}

#define RS "{\"alg\":\"RS256\",\"kid\":\"r1\"}"
#define ES "{\"alg\":\"ES256\",\"kid\":\"e1\"}"

static void
test_accepted(struct hx_jwks *ks)
{
	struct hx_jose_expect w = { ISS, AUD, "n0nce", NOW };
	json_t		     *c = good_claims(), *out = NULL;
	char		     *tok, *why = NULL;

	is_int(hx_jwks_count(ks), 2, "the set keeps RSA and EC, skips oct");
	tok = sign(rsa, RS, c);
	is_int(hx_jose_verify(ks, tok, &w, &out, &why), HX_JOSE_OK, "RS256");
	is_str(json_string_value(json_object_get(out, "preferred_username")),
	    "alice", "RS256: the claims come back");
	json_decref(out);
	free(tok);
	tok = sign(ec, ES, c);
	is_int(check(ks, tok, &why), HX_JOSE_OK, "ES256 (raw r||s)");
	tok = sign(ec, "{\"alg\":\"ES256\"}", c);
	is_int(check(ks, tok, &why), HX_JOSE_OK, "ES256 without a kid");
	json_decref(c);
	c = with("aud", json_pack("[s,s]", "other", AUD));
	json_object_set_new(c, "azp", json_string(AUD));
	is_int(check(ks, sign(rsa, RS, c), &why), HX_JOSE_OK,
	    "aud as an array with azp");
	json_decref(c);
	c = with("exp", json_integer(NOW - 59));
	is_int(check(ks, sign(rsa, RS, c), &why), HX_JOSE_OK,
	    "expired 59 s ago: inside the skew");
	json_decref(c);
	c = with("iat", json_integer(NOW + 59));
	is_int(check(ks, sign(rsa, RS, c), &why), HX_JOSE_OK,
	    "iat 59 s ahead: inside the skew");
	json_decref(c);
	free(why);
}

static void
test_refused_alg(struct hx_jwks *ks)
{
	json_t	     *c = good_claims();
	char	     *tok, *dot, *h, *pj, *p, *input;
	unsigned char mac[32], pub[1024], *pp = pub;
	unsigned int  maclen = 0;
	int	      publen;

	refused(ks, sign(NULL, "{\"alg\":\"none\"}", c), "'none' is not",
	    "alg none, empty signature");
	/* alg none with a real RS256 signature attached. */
	tok = sign(rsa, RS, c);
	dot = strchr(tok, '.');
	h = b64("{\"alg\":\"none\",\"kid\":\"r1\"}", 25);
	input = xasprintf("%s%s", h, dot);
	free(tok);
	free(h);
	refused(ks, input, "'none' is not", "alg none, signature kept");
	/* HS256 keyed with the RSA public key's DER: the classic confusion. */
	publen = i2d_PUBKEY(rsa, &pp);
	h = b64("{\"alg\":\"HS256\",\"kid\":\"r1\"}", 26);
	pj = json_dumps(c, 0);
	p = b64(pj, strlen(pj));
	input = xasprintf("%s.%s", h, p);
	HMAC(EVP_sha256(), pub, publen, (unsigned char *)input, strlen(input),
	    mac, &maclen);
	free(h);
	h = b64(mac, maclen);
	tok = xasprintf("%s.%s", input, h);
	refused(ks, tok, "'HS256' is not", "HS256 with the public key");
	free(h);
	free(pj);
	free(p);
	free(input);
	refused(ks, sign(rsa, "{\"alg\":\"PS256\",\"kid\":\"r1\"}", c),
	    "'PS256' is not", "an unknown alg");
	refused(ks, sign(rsa, "{\"kid\":\"r1\"}", c), "no alg", "no alg");
	refused(ks,
	    sign(rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"x\"]}", c),
	    "crit", "a crit header");
	json_decref(c);
}

static void
test_refused_key(struct hx_jwks *ks)
{
	json_t *c = good_claims();
	char   *why = NULL, *tok, *dot;

	is_int(check(ks,
		   sign(rsa, "{\"alg\":\"RS256\",\"kid\":\"rotated\"}", c),
		   &why),
	    HX_JOSE_UNKNOWN_KID, "an unknown kid asks for a refetch");
	ok(why != NULL && strstr(why, "'rotated' is not in") != NULL,
	    "unknown kid: the message names it");
	free(why);
	why = NULL;
	refused(ks, sign(rsa_other, RS, c), "does not verify",
	    "RS256 signed by another key under a known kid");
	refused(ks, sign(ec_other, ES, c), "does not verify",
	    "ES256 signed by another key under a known kid");
	refused(ks, sign(rsa_other, "{\"alg\":\"RS256\"}", c),
	    "does not verify", "another key, no kid");
	refused(ks, sign(rsa, "{\"alg\":\"RS256\",\"kid\":\"e1\"}", c),
	    "does not verify", "RS256 naming the EC key");
	is_int(check(ks, sign(rsa, "{\"alg\":\"RS256\",\"kid\":\"h1\"}", c),
		   &why),
	    HX_JOSE_UNKNOWN_KID, "the skipped oct key is as good as unknown");
	free(why);
	why = NULL;
	/* Payload swapped under a valid signature. */
	tok = sign(rsa, RS, c);
	dot = strchr(tok, '.');
	dot[1] = dot[1] == 'e' ? 'f' : 'e';
	refused(ks, tok, "", "a tampered payload");
	/* Truncated ES256 signature. */
	tok = sign(ec, ES, c);
	tok[strlen(tok) - 4] = '\0';
	refused(ks, tok, "", "a short ES256 signature");
	json_decref(c);
}

static void
test_refused_claims(struct hx_jwks *ks)
{
	struct hx_jose_expect w = { ISS, AUD, NULL, NOW };
	json_t		     *c, *out = NULL;
	char		     *why = NULL, *tok;

	refused(ks, signo(rsa, RS, with("iss", json_string(ISS "/x"))),
	    "issuer is not", "wrong iss");
	refused(ks, signo(rsa, RS, with("iss", NULL)), "issuer is not",
	    "no iss");
	refused(ks, signo(rsa, RS, with("aud", json_string("other"))),
	    "audience does not include 'horcrux'", "wrong aud");
	refused(ks, signo(rsa, RS, with("aud", json_pack("[s]", "other"))),
	    "audience does not include", "wrong aud array");
	refused(ks, signo(rsa, RS, with("aud", json_integer(1))),
	    "audience does not include", "aud not a string");
	refused(ks, signo(rsa, RS, with("azp", json_string("other"))),
	    "authorized party", "wrong azp");
	refused(ks, signo(rsa, RS, with("exp", json_integer(NOW - 61))),
	    "has expired", "expired 61 s ago");
	refused(ks, signo(rsa, RS, with("exp", NULL)), "no numeric exp",
	    "no exp");
	refused(ks, signo(rsa, RS, with("exp", json_string("soon"))),
	    "no numeric exp", "exp a string");
	refused(ks, signo(rsa, RS, with("iat", json_integer(NOW + 61))),
	    "in the future", "iat 61 s ahead");
	refused(ks, signo(rsa, RS, with("iat", NULL)), "no numeric iat",
	    "no iat");
	refused(ks, signo(rsa, RS, with("nbf", json_integer(NOW + 120))),
	    "not valid yet", "nbf ahead");
	refused(ks, signo(rsa, RS, with("nonce", json_string("other"))),
	    "nonce does not match", "wrong nonce");
	refused(ks, signo(rsa, RS, with("nonce", NULL)), "nonce does not match",
	    "no nonce");
	refused(ks, signo(rsa, RS, with("sub", NULL)), "no subject", "no sub");
	refused(ks, signo(rsa, RS, with("sub", json_string(""))), "no subject",
	    "empty sub");
	c = good_claims();
	tok = sign(rsa, RS, c);
	ok(hx_jose_verify(ks, tok, &w, &out, &why) == HX_JOSE_INVALID &&
		out == NULL && strstr(why, "nonce") != NULL,
	    "no nonce expected: refused");
	free(tok);
	free(why);
	json_decref(c);
}

static void
test_malformed(struct hx_jwks *ks)
{
	char  big[HX_JOSE_TOKEN_MAX + 2];
	char *err = NULL;

	struct hx_jwks *k2 = NULL;

	refused(ks, xstrdup("abc"), "not a compact JWS", "no dots");
	refused(ks, xstrdup("a.b"), "not a compact JWS", "two parts");
	refused(ks, xstrdup("a.b.c.d"), "not a compact JWS", "four parts");
	refused(ks, xstrdup("!!!.e30.AA"), "header is not", "header not b64");
	refused(ks, xstrdup("W10.e30.AA"), "header is not",
	    "header not an object");
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	refused(ks, xstrdup(big), "too long", "too long");
	ok(hx_jwks_parse("nope", 4, &k2, &err) == -1 && k2 == NULL &&
		strstr(err, "not JSON") != NULL,
	    "jwks: not JSON");
	free(err);
	ok(hx_jwks_parse("{}", 2, &k2, &err) == -1 &&
		strstr(err, "no \"keys\"") != NULL,
	    "jwks: no keys array");
	free(err);
	ok(hx_jwks_parse("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\","
			 "\"e\":\"AQAB\"}]}",
	       46, &k2, &err) == -1 &&
		strstr(err, "no RSA or P-256") != NULL,
	    "jwks: a 17-bit RSA key is refused");
	free(err);
	ok(hx_jwks_parse(
	       "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	       "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	       "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
	       strlen(
		   "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
		   "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		   "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}"),
	       &k2, &err) == -1,
	    "jwks: a point not on P-256 is refused");
	free(err);
	hx_jwks_free(NULL);
}

static void
test_b64(void)
{
	size_t	       n = 0;
	unsigned char *p = hx_b64url_decode("aGk", 3, &n);

	ok(p != NULL && n == 2 && memcmp(p, "hi", 2) == 0, "b64url: 'hi'");
	free(p);
	ok(hx_b64url_decode("aGl", 3, &n) == NULL, "b64url: non-canonical");
	ok(hx_b64url_decode("aGk=", 4, &n) == NULL, "b64url: padding");
	ok(hx_b64url_decode("a", 1, &n) == NULL, "b64url: one char");
}

int
main(void)
{
	struct hx_jwks *ks;

	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec_other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ks = keyset();
	ok(ks != NULL, "the JWKS parses");
	if (ks == NULL)
		return 1;
	test_b64();
	test_accepted(ks);
	test_refused_alg(ks);
	test_refused_key(ks);
	test_refused_claims(ks);
	test_malformed(ks);
	hx_jwks_free(ks);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_other);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec_other);
	return done_testing();
}
