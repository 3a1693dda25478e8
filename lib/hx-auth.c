/*
 * hx-auth.c - credential primitives (see hx-auth.h).
 *
 * Everything an attacker controls (PHC strings from a possibly tampered
 * database, API keys and session tokens from the network) is checked for
 * shape here before any library sees it, and every libjwt answer is
 * re-checked: libjwt 1.10.2 takes the algorithm from the token, never looks
 * at exp, and reads a string, real, boolean or null claim through
 * jwt_get_grant_int() as 0 with errno 0. Policy (lifetimes, lookups,
 * revocation, rate limits) belongs to the callers.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <argon2.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hx-auth.h"
#include "hx-util.h"

/* Accepted ranges for a stored PHC string (see hx_password_verify). */
#define PHC_MAX_LEN 256
#define PHC_M_MAX 1048576 /* KiB: 1 GiB */
#define PHC_T_MAX 10
#define PHC_P_MAX 16
#define PHC_SALT_MIN 8
#define PHC_SALT_MAX 64
#define PHC_HASH_MIN 16
#define PHC_HASH_MAX 64

/* Largest secret file hx_secret_load_or_create handles. */
#define SECRET_MAX 4096

/* HMAC-SHA256 is 32 bytes: 43 characters of base64url. */
#define JWT_SIG_LEN HX_B64URL_LEN(32)

/*
 * A valid argon2id hash of a random, forgotten password with the default
 * parameters: hx_password_burn() verifies against it. Regenerate it when
 * HX_ARGON2_* change (test-auth.c times burn against a fresh hash).
 */
static const char burn_phc[] =
    "$argon2id$v=19$m=19456,t=2,p=1$"
    "rJZ/ppjdL6rGZVs21LjMhw$P4RINWFjBoAjzU1Bu+GDQxh3jQ/7j9TZ0tTJkZzLovs";

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
hx_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t	       r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

char *
hx_hex_encode(const void *p, size_t n)
{
	static const char    digits[] = "0123456789abcdef";
	const unsigned char *in = p;
	char		    *s;
	size_t		     i;

	s = xmalloc(2 * n + 1);
	for (i = 0; i < n; i++) {
		s[2 * i] = digits[in[i] >> 4];
		s[2 * i + 1] = digits[in[i] & 0xf];
	}
	s[2 * n] = '\0';
	return s;
}

int
hx_b64url_encode(const void *p, size_t n, char *out, size_t outlen)
{
	const unsigned char *in = p;
	const char	    *a = b64url_alphabet;
	size_t		     i, o = 0;

	if (n > (SIZE_MAX - 1) / 4 * 3 || outlen < HX_B64URL_LEN(n) + 1)
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 0x3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[((in[i + 1] & 0xf) << 2) | (in[i + 2] >> 6)];
		out[o++] = a[in[i + 2] & 0x3f];
	}
	if (n - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 0x3) << 4];
	} else if (n - i == 2) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 0x3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[(in[i + 1] & 0xf) << 2];
	}
	out[o] = '\0';
	return 0;
}

/* Index of c in the base64url alphabet, or -1. */
static int
b64url_index(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

unsigned char *
hx_b64url_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out;
	unsigned long  acc = 0;
	size_t	       i, o = 0;
	int	       bits = 0, v;

	if (n % 4 == 1)
		return NULL;
	out = xmalloc(n / 4 * 3 + 3 + 1);
	for (i = 0; i < n; i++) {
		if ((v = b64url_index(s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	/* Canonical form only: the unused low bits must be zero. */
	if (acc != 0) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

int
hx_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* Passwords. */

/*
 * Parse a decimal PHC parameter at *sp up to the terminator: digits only,
 * no sign or leading zero, within [min, max]. Advances *sp past it.
 */
static int
phc_number(const char **sp, unsigned long min, unsigned long max,
    unsigned long *out)
{
	const char   *s = *sp;
	unsigned long v = 0;
	size_t	      n = 0;

	/* Eight digits at most: no overflow, and far above any bound. */
	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 8)
			return -1;
		v = v * 10 + (unsigned long)(s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v < min || v > max)
		return -1;
	*sp = s + n;
	*out = v;
	return 0;
}

/*
 * Check the length of an unpadded standard base64 field at *sp, up to the
 * next '$' or the end, decodes to [min, max] bytes. Advances *sp past it.
 */
static int
phc_b64(const char **sp, size_t min, size_t max)
{
	const char *s = *sp;
	size_t	    n = 0, bytes;

	while (s[n] != '\0' && s[n] != '$') {
		if (s[n] != '+' && s[n] != '/' &&
		    (s[n] == '-' || s[n] == '_' || b64url_index(s[n]) == -1))
			return -1;
		n++;
	}
	if (n % 4 == 1)
		return -1;
	bytes = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
	if (bytes < min || bytes > max)
		return -1;
	*sp = s + n;
	return 0;
}

/*
 * Accept only "$argon2id$v=19$m=M,t=T,p=P$salt$hash" with every field in
 * range. libargon2 would also take argon2i/d, version 16, a missing v= and
 * any cost a uint32_t can hold.
 */
static int
phc_check(const char *phc)
{
	static const char prefix[] = "$argon2id$v=19$m=";
	const char	 *s;
	unsigned long	  m, t, p;

	if (strnlen(phc, PHC_MAX_LEN + 1) > PHC_MAX_LEN)
		return -1;
	if (strncmp(phc, prefix, sizeof prefix - 1) != 0)
		return -1;
	s = phc + sizeof prefix - 1;
	if (phc_number(&s, 1, PHC_M_MAX, &m) == -1 || strncmp(s, ",t=", 3) != 0)
		return -1;
	s += 3;
	if (phc_number(&s, 1, PHC_T_MAX, &t) == -1 || strncmp(s, ",p=", 3) != 0)
		return -1;
	s += 3;
	if (phc_number(&s, 1, PHC_P_MAX, &p) == -1 || *s++ != '$')
		return -1;
	if (m < 8 * p)
		return -1;
	if (phc_b64(&s, PHC_SALT_MIN, PHC_SALT_MAX) == -1 || *s++ != '$')
		return -1;
	if (phc_b64(&s, PHC_HASH_MIN, PHC_HASH_MAX) == -1 || *s != '\0')
		return -1;
	return 0;
}

int
hx_password_hash(const char *password, char **phc, char **err)
{
	unsigned char salt[HX_ARGON2_SALT_LEN];
	size_t	      pwlen, enclen;
	char	     *enc;
	int	      r;

	pwlen = password == NULL ? 0 : strnlen(password, HX_PASSWORD_MAX + 1);
	if (pwlen == 0) {
		*err = xstrdup("password is empty");
		return -1;
	}
	if (pwlen > HX_PASSWORD_MAX) {
		*err = xasprintf("password is too long (over %d bytes)",
		    HX_PASSWORD_MAX);
		return -1;
	}
	if (hx_random_bytes(salt, sizeof salt) == -1) {
		*err = xasprintf("cannot get random bytes: %s",
		    strerror(errno));
		return -1;
	}
	enclen = argon2_encodedlen(HX_ARGON2_T, HX_ARGON2_M_KIB, HX_ARGON2_P,
	    sizeof salt, HX_ARGON2_HASH_LEN, Argon2_id);
	enc = xmalloc(enclen);
	r = argon2id_hash_encoded(HX_ARGON2_T, HX_ARGON2_M_KIB, HX_ARGON2_P,
	    password, pwlen, salt, sizeof salt, HX_ARGON2_HASH_LEN, enc,
	    enclen);
	if (r != ARGON2_OK) {
		free(enc);
		*err = xasprintf("cannot hash password: %s",
		    argon2_error_message(r));
		return -1;
	}
	*phc = enc;
	return 0;
}

int
hx_password_verify(const char *phc, const char *password)
{
	size_t pwlen;
	int    r;

	if (phc == NULL || phc_check(phc) == -1)
		return -1;
	pwlen = password == NULL ? 0 : strnlen(password, HX_PASSWORD_MAX + 1);
	if (pwlen == 0 || pwlen > HX_PASSWORD_MAX)
		return 0;
	r = argon2id_verify(phc, password, pwlen);
	if (r == ARGON2_OK)
		return 1;
	if (r == ARGON2_VERIFY_MISMATCH)
		return 0;
	return -1;
}

void
hx_password_burn(const char *password)
{
	/* The same path as a real verify, so the same checks and costs. */
	(void)hx_password_verify(burn_phc, password);
}

/* API keys. */

/* hex(SHA-256(secret text)) into hash_hex. */
static int
apikey_hash(const char *secret, char hash_hex[HX_APIKEY_HASH_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  mdlen;
	char	     *hex;

	if (EVP_Digest(secret, HX_APIKEY_SECRET_LEN, md, &mdlen, EVP_sha256(),
		NULL) != 1 ||
	    mdlen * 2 != HX_APIKEY_HASH_LEN)
		return -1;
	hex = hx_hex_encode(md, mdlen);
	memcpy(hash_hex, hex, HX_APIKEY_HASH_LEN + 1);
	free(hex);
	return 0;
}

int
hx_session_public_id(const char *jti, char out[HX_SESSION_ID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  mdlen;
	char	     *hex;

	out[0] = '\0';
	if (EVP_Digest(jti, strlen(jti), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < HX_SESSION_ID_LEN / 2)
		return -1;
	hex = hx_hex_encode(md, HX_SESSION_ID_LEN / 2);
	memcpy(out, hex, HX_SESSION_ID_LEN + 1);
	free(hex);
	return 0;
}

int
hx_apikey_new(char **token, char keyid[HX_APIKEY_ID_LEN + 1],
    char hash_hex[HX_APIKEY_HASH_LEN + 1], char **err)
{
	unsigned char id[HX_APIKEY_ID_LEN / 2], secret[32];
	char	      text[HX_APIKEY_SECRET_LEN + 1], *hex;

	if (hx_random_bytes(id, sizeof id) == -1 ||
	    hx_random_bytes(secret, sizeof secret) == -1) {
		*err = xasprintf("cannot get random bytes: %s",
		    strerror(errno));
		return -1;
	}
	if (hx_b64url_encode(secret, sizeof secret, text, sizeof text) == -1 ||
	    apikey_hash(text, hash_hex) == -1) {
		OPENSSL_cleanse(secret, sizeof secret);
		*err = xstrdup("cannot hash api key");
		return -1;
	}
	hex = hx_hex_encode(id, sizeof id);
	memcpy(keyid, hex, HX_APIKEY_ID_LEN + 1);
	free(hex);
	*token = xasprintf("hx_%s_%s", keyid, text);
	OPENSSL_cleanse(secret, sizeof secret);
	OPENSSL_cleanse(text, sizeof text);
	return 0;
}

int
hx_apikey_parse(const char *token, char keyid[HX_APIKEY_ID_LEN + 1],
    char hash_hex[HX_APIKEY_HASH_LEN + 1])
{
	const char *id, *secret;
	size_t	    i;
	int	    last;

	keyid[0] = '\0';
	hash_hex[0] = '\0';
	if (token == NULL ||
	    strnlen(token, HX_APIKEY_TOKEN_LEN + 1) != HX_APIKEY_TOKEN_LEN ||
	    strncmp(token, "hx_", 3) != 0)
		return -1;
	id = token + 3;
	for (i = 0; i < HX_APIKEY_ID_LEN; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') ||
			(id[i] >= 'a' && id[i] <= 'f')))
			return -1;
	}
	if (id[HX_APIKEY_ID_LEN] != '_')
		return -1;
	/* The secret may itself contain '_' and '-': base64url. */
	secret = id + HX_APIKEY_ID_LEN + 1;
	for (i = 0; i < HX_APIKEY_SECRET_LEN; i++) {
		if (b64url_index(secret[i]) == -1)
			return -1;
	}
	/* 43 characters carry 258 bits: the last 2 must be zero. */
	last = b64url_index(secret[HX_APIKEY_SECRET_LEN - 1]);
	if ((last & 0x3) != 0)
		return -1;
	if (apikey_hash(secret, hash_hex) == -1) {
		hash_hex[0] = '\0';
		return -1;
	}
	memcpy(keyid, id, HX_APIKEY_ID_LEN);
	keyid[HX_APIKEY_ID_LEN] = '\0';
	return 0;
}

int
hx_apikey_matches(const char *hash_hex_computed, const char *hash_hex_stored)
{
	if (hash_hex_computed == NULL || hash_hex_stored == NULL)
		return 0;
	if (strnlen(hash_hex_computed, HX_APIKEY_HASH_LEN + 1) !=
		HX_APIKEY_HASH_LEN ||
	    strnlen(hash_hex_stored, HX_APIKEY_HASH_LEN + 1) !=
		HX_APIKEY_HASH_LEN)
		return 0;
	return hx_ct_equal(hash_hex_computed, hash_hex_stored,
	    HX_APIKEY_HASH_LEN);
}

/* Session tokens. */

/*
 * Check a token's shape and its HMAC-SHA256 signature ourselves, before
 * libjwt parses anything: at most HX_JWT_MAX_LEN bytes, exactly three
 * base64url parts, the header and payload non-empty, and the signature
 * exactly the 43 characters we would write, compared in constant time.
 * Only the Debian build of libjwt compares its signatures in constant time
 * (CVE-2024-25189), and it lets through four-part or padded tokens.
 */
static int
jwt_check_signature(const unsigned char *key, size_t keylen, const char *token,
    char **err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int  maclen;
	char	      want[JWT_SIG_LEN + 1];
	size_t	      len, i, dots = 0, dot[2] = { 0, 0 };
	int	      same;

	len = strnlen(token, HX_JWT_MAX_LEN + 1);
	if (len == 0) {
		*err = xstrdup("token is empty");
		return -1;
	}
	if (len > HX_JWT_MAX_LEN) {
		*err = xasprintf("token is too long (over %d bytes)",
		    HX_JWT_MAX_LEN);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (token[i] == '.') {
			if (dots < 2)
				dot[dots] = i;
			dots++;
		} else if (b64url_index(token[i]) == -1) {
			*err = xstrdup("token is not base64url");
			return -1;
		}
	}
	if (dots != 2) {
		*err = xasprintf("token has %zu part%s, not 3", dots + 1,
		    dots == 0 ? "" : "s");
		return -1;
	}
	if (dot[0] == 0 || dot[1] == dot[0] + 1) {
		*err = xstrdup("token has an empty header or payload");
		return -1;
	}
	if (len - dot[1] - 1 != JWT_SIG_LEN) {
		*err = xstrdup("bad token signature");
		return -1;
	}
	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)token,
		dot[1], mac, &maclen) == NULL ||
	    maclen != 32 ||
	    hx_b64url_encode(mac, maclen, want, sizeof want) == -1) {
		*err = xstrdup("cannot compute token signature");
		return -1;
	}
	same = hx_ct_equal(want, token + dot[1] + 1, JWT_SIG_LEN);
	OPENSSL_cleanse(mac, sizeof mac);
	OPENSSL_cleanse(want, sizeof want);
	if (!same) {
		*err = xstrdup("bad token signature");
		return -1;
	}
	return 0;
}

static int
jwt_check_key(size_t keylen, char **err)
{
	if (keylen < HX_JWT_KEY_MIN) {
		*err = xasprintf("signing key is too short "
				 "(%zu bytes, need %d)",
		    keylen, HX_JWT_KEY_MIN);
		return -1;
	}
	if (keylen > INT_MAX) {
		*err = xstrdup("signing key is too long");
		return -1;
	}
	return 0;
}

int
hx_jwt_issue(const unsigned char *key, size_t keylen, const char *sub,
    const char *jti, int64_t iat, int64_t exp, char **token, char **err)
{
	jwt_t *jwt = NULL;
	char  *s, *why = NULL;
	int    r;

	if (jwt_check_key(keylen, err) == -1)
		return -1;
	if (sub == NULL || *sub == '\0' || jti == NULL || *jti == '\0') {
		*err = xstrdup("token subject or id is empty");
		return -1;
	}
	if (exp <= iat) {
		*err = xstrdup("token would expire before it is issued");
		return -1;
	}
	/* jwt_add_grant_int() takes a long. */
	if ((int64_t)(long)iat != iat || (int64_t)(long)exp != exp) {
		*err = xstrdup("token times are out of range");
		return -1;
	}
	if ((r = jwt_new(&jwt)) != 0) {
		*err = xasprintf("cannot create token: %s", strerror(r));
		return -1;
	}
	/* A failed jwt_set_alg() leaves alg=none: encode would not sign. */
	if ((r = jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen)) != 0 ||
	    (r = jwt_add_grant(jwt, "sub", sub)) != 0 ||
	    (r = jwt_add_grant(jwt, "jti", jti)) != 0 ||
	    (r = jwt_add_grant_int(jwt, "iat", (long)iat)) != 0 ||
	    (r = jwt_add_grant_int(jwt, "exp", (long)exp)) != 0) {
		jwt_free(jwt);
		*err = xasprintf("cannot build token: %s", strerror(r));
		return -1;
	}
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		jwt_free(jwt);
		*err = xstrdup("cannot build token: algorithm is not HS256");
		return -1;
	}
	s = jwt_encode_str(jwt);
	jwt_free(jwt);
	if (s == NULL) {
		*err = xstrdup("cannot encode token");
		return -1;
	}
	/* Never hand out a token hx_jwt_verify() would refuse to check. */
	if (jwt_check_signature(key, keylen, s, &why) == -1) {
		*err = xasprintf("cannot encode token: %s", why);
		free(why);
		free(s);
		return -1;
	}
	*token = s;
	return 0;
}

/*
 * Read integer claim name. The type comes from jansson because libjwt
 * 1.10.2 answers 0 with errno 0 for "9999999999", 1.5, true and null; the
 * value comes from jwt_get_grant_int() and must agree (long may be 32 bits).
 */
static int
jwt_claim_int(jwt_t *jwt, json_t *claims, const char *name, int64_t *out,
    char **err)
{
	json_t *j;
	long	v;

	if ((j = json_object_get(claims, name)) == NULL) {
		*err = xasprintf("token has no '%s' claim", name);
		return -1;
	}
	if (!json_is_integer(j)) {
		*err = xasprintf("token claim '%s' is not an integer", name);
		return -1;
	}
	errno = 0;
	v = jwt_get_grant_int(jwt, name);
	if (errno != 0 || (json_int_t)v != json_integer_value(j)) {
		*err = xasprintf("cannot read token claim '%s'", name);
		return -1;
	}
	*out = v;
	return 0;
}

/* Read a non-empty string claim (jansson already refuses \u0000). */
static int
jwt_claim_str(json_t *claims, const char *name, char **out, char **err)
{
	json_t	   *j;
	const char *v;

	if ((j = json_object_get(claims, name)) == NULL) {
		*err = xasprintf("token has no '%s' claim", name);
		return -1;
	}
	if (!json_is_string(j)) {
		*err = xasprintf("token claim '%s' is not a string", name);
		return -1;
	}
	v = json_string_value(j);
	if (*v == '\0') {
		*err = xasprintf("token claim '%s' is empty", name);
		return -1;
	}
	*out = xstrdup(v);
	return 0;
}

int
hx_jwt_verify(const unsigned char *key, size_t keylen, const char *token,
    int64_t now, struct hx_jwt_claims *out, char **err)
{
	jwt_t	   *jwt = NULL;
	json_t	   *claims = NULL;
	const char *alg;
	char	   *grants = NULL;
	int	    r;

	memset(out, 0, sizeof *out);
	if (jwt_check_key(keylen, err) == -1)
		return -1;
	if (token == NULL) {
		*err = xstrdup("token is empty");
		return -1;
	}
	if (jwt_check_signature(key, keylen, token, err) == -1)
		return -1;

	/* Always pass the key: with NULL, libjwt accepts any token. */
	if ((r = jwt_decode(&jwt, token, key, (int)keylen)) != 0) {
		*err = xasprintf("cannot decode token: %s", strerror(r));
		return -1;
	}
	/* libjwt takes alg from the token and matches its name caselessly. */
	alg = jwt_get_header(jwt, "alg");
	if (jwt_get_alg(jwt) != JWT_ALG_HS256 || alg == NULL ||
	    strcmp(alg, "HS256") != 0) {
		*err = xstrdup("token algorithm is not HS256");
		goto fail;
	}
	if ((grants = jwt_get_grants_json(jwt, NULL)) == NULL ||
	    (claims = json_loads(grants, 0, NULL)) == NULL ||
	    !json_is_object(claims)) {
		*err = xstrdup("token claims are not a JSON object");
		goto fail;
	}
	if (jwt_claim_int(jwt, claims, "exp", &out->exp, err) == -1 ||
	    jwt_claim_int(jwt, claims, "iat", &out->iat, err) == -1 ||
	    jwt_claim_str(claims, "sub", &out->sub, err) == -1 ||
	    jwt_claim_str(claims, "jti", &out->jti, err) == -1)
		goto fail;
	if (out->exp <= now) {
		*err = xstrdup("token has expired");
		goto fail;
	}
	if (out->iat > now &&
	    (uint64_t)out->iat - (uint64_t)now > HX_JWT_IAT_SKEW) {
		*err = xstrdup("token is issued in the future");
		goto fail;
	}
	json_decref(claims);
	free(grants);
	jwt_free(jwt);
	return 0;

fail:
	hx_jwt_claims_release(out);
	json_decref(claims);
	free(grants);
	jwt_free(jwt);
	return -1;
}

void
hx_jwt_claims_release(struct hx_jwt_claims *c)
{
	free(c->sub);
	free(c->jti);
	memset(c, 0, sizeof *c);
}

/* The secret file. */

/*
 * Load the secret at path. Returns 0, 1 if the file does not exist, or -1
 * with *err.
 */
static int
secret_load(const char *path, unsigned char *key, size_t keylen, char **err)
{
	struct stat st;
	size_t	    got = 0;
	ssize_t	    n;
	int	    fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 1;
		*err = xasprintf("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*err = xasprintf("cannot stat '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = xasprintf("'%s' is not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		*err = xasprintf("'%s' is accessible by group or others "
				 "(mode %04o); it must be 0600",
		    path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size != keylen) {
		*err = xasprintf("'%s' is %jd bytes, not %zu", path,
		    (intmax_t)st.st_size, keylen);
		goto fail;
	}
	while (got < keylen) {
		n = read(fd, key + got, keylen - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*err = xasprintf("cannot read '%s': %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0) {
			*err = xasprintf("'%s' is shorter than %zu bytes", path,
			    keylen);
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;

fail:
	OPENSSL_cleanse(key, keylen);
	close(fd);
	return -1;
}

/* fsync the directory holding path, so a new link survives a crash. */
static int
secret_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char	   *dir;
	int	    fd, r;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/*
 * Write a new secret to a private temporary file and link(2) it to path:
 * link never replaces, and path only ever names a complete file. If another
 * process linked first, load its secret instead.
 */
static int
secret_create(const char *path, unsigned char *key, size_t keylen, char **err)
{
	unsigned char rnd[8];
	char	     *tmp, *hex;
	size_t	      done = 0;
	ssize_t	      n;
	int	      fd, r;

	if (hx_random_bytes(key, keylen) == -1 ||
	    hx_random_bytes(rnd, sizeof rnd) == -1) {
		*err = xasprintf("cannot get random bytes: %s",
		    strerror(errno));
		goto fail;
	}
	hex = hx_hex_encode(rnd, sizeof rnd);
	tmp = xasprintf("%s.%s.tmp", path, hex);
	free(hex);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		*err = xasprintf("cannot create '%s': %s", path,
		    strerror(errno));
		free(tmp);
		goto fail;
	}
	while (done < keylen) {
		n = write(fd, key + done, keylen - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		done += (size_t)n;
	}
	if (done < keylen || fsync(fd) == -1) {
		*err = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		goto fail_unlink;
	}
	if (close(fd) == -1) {
		*err = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
		goto fail_unlink;
	}
	if (link(tmp, path) == -1) {
		if (errno != EEXIST) {
			*err = xasprintf("cannot create '%s': %s", path,
			    strerror(errno));
			goto fail_unlink;
		}
		unlink(tmp);
		free(tmp);
		/* Lost the race: the winner's file is complete. */
		r = secret_load(path, key, keylen, err);
		if (r == 1) {
			*err = xasprintf("cannot load '%s': it vanished", path);
			return -1;
		}
		return r;
	}
	unlink(tmp);
	free(tmp);
	if (secret_sync_dir(path) == -1) {
		*err = xasprintf("cannot sync the directory of '%s': %s", path,
		    strerror(errno));
		goto fail;
	}
	return 0;

fail_unlink:
	unlink(tmp);
	free(tmp);
fail:
	OPENSSL_cleanse(key, keylen);
	return -1;
}

int
hx_secret_load_or_create(const char *path, unsigned char *key, size_t keylen,
    char **err)
{
	int r;

	if (keylen == 0 || keylen > SECRET_MAX) {
		*err = xasprintf("cannot use a secret of %zu bytes", keylen);
		return -1;
	}
	if ((r = secret_load(path, key, keylen, err)) != 1)
		return r;
	return secret_create(path, key, keylen, err);
}
