/*
 * test-auth.c - credential primitives: encodings, Argon2id hashes and
 * hostile PHC strings, burn timing, API keys, session tokens against every
 * forgery we know of (built by hand, signed with libcrypto's HMAC), and the
 * secret file including two processes creating it at once.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hx-auth.h"
#include "hx-util.h"
#include "tap.h"

static int
has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

static char *
b64url(const void *p, size_t n)
{
	char *s = xmalloc(HX_B64URL_LEN(n) + 1);

	if (hx_b64url_encode(p, n, s, HX_B64URL_LEN(n) + 1) == -1)
		abort();
	return s;
}

/* Encodings, randomness, comparison. */

static void
test_encodings(void)
{
	static const struct {
		const char *in, *out;
	} vec[] = {
		/* RFC 4648 §10, unpadded */
		{ "", "" },
		{ "f", "Zg" },
		{ "fo", "Zm8" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
	};
	unsigned char bin[] = { 0x00, 0x01, 0xab, 0xff };
	unsigned char u[] = { 0xfb, 0xff };
	unsigned char r1[32], r2[32], zero[32] = { 0 }, *big;
	char	      small[4], *s;
	size_t	      i;

	s = hx_hex_encode(bin, sizeof bin);
	is_str(s, "0001abff", "hex of 00 01 ab ff");
	free(s);
	s = hx_hex_encode(bin, 0);
	is_str(s, "", "hex of nothing");
	free(s);

	for (i = 0; i < HX_ARRAY_SIZE(vec); i++) {
		s = b64url(vec[i].in, strlen(vec[i].in));
		is_str(s, vec[i].out, "base64url of '%s'", vec[i].in);
		free(s);
	}
	s = b64url(u, sizeof u);
	is_str(s, "-_8", "base64url uses - and _ (standard: +/8=)");
	free(s);
	is_int(hx_b64url_encode("foo", 3, small, sizeof small), -1,
	    "base64url refuses a buffer without room for the NUL");
	is_int(HX_B64URL_LEN(32), 43, "32 bytes are 43 base64url chars");

	ok(hx_random_bytes(r1, sizeof r1) == 0 &&
		hx_random_bytes(r2, sizeof r2) == 0,
	    "random bytes");
	ok(memcmp(r1, r2, sizeof r1) != 0 && memcmp(r1, zero, sizeof r1) != 0,
	    "two random draws differ and are not zero");
	big = xcalloc(1, 1 << 20);
	ok(hx_random_bytes(big, 1 << 20) == 0 &&
		memcmp(big + (1 << 20) - 32, zero, 32) != 0,
	    "1 MiB of random bytes fills the end too");
	free(big);

	is_int(hx_ct_equal("abcdef", "abcdef", 6), 1, "ct_equal: equal");
	is_int(hx_ct_equal("abcdef", "abcdeg", 6), 0, "ct_equal: last differs");
	is_int(hx_ct_equal("x", "y", 0), 1, "ct_equal: zero bytes are equal");
}

/* Passwords. */

static double
secs_since(uint64_t t0)
{
	return (double)(hx_mono_ns() - t0) / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
test_passwords(void)
{
	static const char *hostile[] = {
		"",
		"garbage",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
		"$argon2d$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=1048577,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=11,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=4294967295,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=0,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=17$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=2,p=16$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=-19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g$x",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRz-21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA=="
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=19456,t=2,p=1,x=1$c29tZXNhbHRzb21lc2FsdA"
		"$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	};
	unsigned char salt[16] = "0123456789abcdef";
	char	      enc[256], *phc = NULL, *phc2 = NULL, *err = NULL;
	char	     *longpw, *tampered;
	double	      tv[5], tb[5], ratio;
	uint64_t      t0;
	size_t	      i;
	int	      r, n;

	r = hx_password_hash("correct horse", &phc, &err);
	ok(r == 0 && phc != NULL && err == NULL, "hash a password");
	ok(has(phc, "$argon2id$v=19$m=19456,t=2,p=1$") && phc[0] == '$',
	    "PHC says argon2id v=19 m=19456,t=2,p=1: %s", phc);
	/* 31 bytes of prefix, 22 chars of salt (16 bytes), $, 43 (32 bytes). */
	is_int(strlen(phc), 31 + 22 + 1 + 43,
	    "PHC has a 16-byte salt and "
	    "32-byte hash");
	is_int(hx_password_verify(phc, "correct horse"), 1, "verify: match");
	is_int(hx_password_verify(phc, "correct horsE"), 0, "verify: mismatch");
	is_int(hx_password_verify(phc, "correct horse "), 0,
	    "verify: trailing space is a mismatch");
	is_int(hx_password_verify(phc, ""), 0, "verify: empty is a mismatch");
	is_int(hx_password_verify(phc, NULL), 0, "verify: NULL is a mismatch");
	ok(hx_password_hash("correct horse", &phc2, &err) == 0 &&
		strcmp(phc, phc2) != 0,
	    "same password, new salt, new PHC");
	is_int(hx_password_verify(phc2, "correct horse"), 1,
	    "the second hash verifies too");
	free(phc2);

	tampered = xstrdup(phc);
	tampered[strlen(tampered) - 2] = tampered[strlen(tampered) - 2] == 'A' ?
	    'B' :
	    'A';
	is_int(hx_password_verify(tampered, "correct horse"), 0,
	    "verify: a changed hash no longer matches");
	free(tampered);

	phc2 = NULL;
	r = hx_password_hash("", &phc2, &err);
	ok(r == -1 && phc2 == NULL && has(err, "empty"),
	    "hash refuses an empty password: %s", err);
	free(err);
	err = NULL;
	longpw = xmalloc(HX_PASSWORD_MAX + 2);
	memset(longpw, 'p', HX_PASSWORD_MAX + 1);
	longpw[HX_PASSWORD_MAX + 1] = '\0';
	r = hx_password_hash(longpw, &phc2, &err);
	ok(r == -1 && phc2 == NULL && has(err, "too long"),
	    "hash refuses 1025 bytes: %s", err);
	free(err);
	err = NULL;
	is_int(hx_password_verify(phc, longpw), 0,
	    "verify: 1025 bytes is a mismatch");
	longpw[HX_PASSWORD_MAX] = '\0';
	ok(hx_password_hash(longpw, &phc2, &err) == 0 &&
		hx_password_verify(phc2, longpw) == 1,
	    "1024 bytes hash and verify");
	free(phc2);
	free(longpw);

	/* Other sane parameters stay verifiable (a future policy change). */
	r = argon2id_hash_encoded(3, 12288, 1, "pw", 2, salt, sizeof salt, 32,
	    enc, sizeof enc);
	ok(r == ARGON2_OK && hx_password_verify(enc, "pw") == 1,
	    "argon2id m=12288,t=3 from elsewhere verifies");
	r = argon2i_hash_encoded(2, 19456, 1, "pw", 2, salt, sizeof salt, 32,
	    enc, sizeof enc);
	ok(r == ARGON2_OK && hx_password_verify(enc, "pw") == -1,
	    "a genuine argon2i PHC is refused: %s", enc);
	is_int(hx_password_verify(NULL, "pw"), -1, "NULL PHC is refused");
	for (i = 0; i < HX_ARRAY_SIZE(hostile); i++) {
		t0 = hx_mono_ns();
		r = hx_password_verify(hostile[i], "pw");
		ok(r == -1 && secs_since(t0) < 0.010,
		    "hostile PHC refused at once: '%s'", hostile[i]);
	}

	/* Burn vs verify: warm up, then compare medians of five each. */
	hx_password_verify(phc, "warm up");
	hx_password_burn("warm up");
	for (n = 0; n < 5; n++) {
		t0 = hx_mono_ns();
		hx_password_verify(phc, "wrong password");
		tv[n] = secs_since(t0);
		t0 = hx_mono_ns();
		hx_password_burn("wrong password");
		tb[n] = secs_since(t0);
	}
	qsort(tv, 5, sizeof tv[0], cmp_double);
	qsort(tb, 5, sizeof tb[0], cmp_double);
	ratio = tb[2] / tv[2];
	ok(ratio >= 0.5 && ratio <= 2.0 && tv[2] > 0.001,
	    "burn %.1f ms vs verify %.1f ms (ratio %.2f)", tb[2] * 1e3,
	    tv[2] * 1e3, ratio);
	free(phc);
}

/* API keys. */

static void
sha256_hex(const char *s, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  mdlen;
	char	     *hex;

	EVP_Digest(s, n, md, &mdlen, EVP_sha256(), NULL);
	hex = hx_hex_encode(md, mdlen);
	hx_strlcpy(out, hex, 65);
	free(hex);
}

/* A copy of token with len bytes at off replaced by with (may resize). */
static char *
splice(const char *token, size_t off, size_t len, const char *with)
{
	return xasprintf("%.*s%s%s", (int)off, token, with, token + off + len);
}

static void
test_apikeys(void)
{
	char  *tok = NULL, *err = NULL, *toks[100], *bad[32], *t;
	char   id[17], hash[65], pid[17], phash[65], want[65];
	char   ids[100][17];
	size_t i, j, nbad = 0;
	int    unique = 1;

	ok(hx_apikey_new(&tok, id, hash, &err) == 0 && tok != NULL,
	    "new api key");
	is_int(strlen(tok), HX_APIKEY_TOKEN_LEN, "token is 63 chars: %s", tok);
	ok(strncmp(tok, "hx_", 3) == 0 && strncmp(tok + 3, id, 16) == 0 &&
		tok[19] == '_',
	    "token is hx_<keyid>_<secret>");
	is_int(strlen(id), 16, "key id is 16 chars");
	is_int(strspn(id, "0123456789abcdef"), 16, "key id is lowercase hex");
	is_int(strlen(hash), 64, "hash is 64 chars");
	sha256_hex(tok + 20, 43, want);
	is_str(hash, want, "hash is SHA-256 of the 43-char secret");
	ok(hx_apikey_parse(tok, pid, phash) == 0, "parse the new token");
	is_str(pid, id, "parse gives the key id");
	is_str(phash, hash, "parse gives the same hash");
	is_int(hx_apikey_matches(phash, hash), 1, "matches: same hash");

	for (i = 0; i < 100; i++) {
		if (hx_apikey_new(&toks[i], ids[i], hash, &err) == -1)
			unique = 0;
	}
	for (i = 0; i < 100 && unique; i++) {
		for (j = i + 1; j < 100; j++) {
			if (strcmp(toks[i], toks[j]) == 0 ||
			    strcmp(ids[i], ids[j]) == 0)
				unique = 0;
		}
	}
	ok(unique, "100 new keys have distinct tokens and key ids");
	for (i = 0; i < 100; i++)
		free(toks[i]);

	/* The secret may start, end or be full of '_' and '-'. */
	t = xstrdup("hx_0123456789abcdef_-_________________________________"
		    "________A");
	ok(strlen(t) == 63 && hx_apikey_parse(t, pid, phash) == 0,
	    "a secret full of '_' and '-' is well formed");
	free(t);

	bad[nbad++] = xstrdup("");
	bad[nbad++] = xstrdup("hx_");
	bad[nbad++] = splice(tok, 0, 3, "HX_");
	bad[nbad++] = splice(tok, 0, 3, "hx-");
	bad[nbad++] = splice(tok, 0, 3, "xx_");
	bad[nbad++] = splice(tok, 0, 3, ""); /* no prefix */
	bad[nbad++] = splice(tok, 0, 0, "x"); /* junk in front */
	bad[nbad++] = splice(tok, 3, 1, "A"); /* upper-case id */
	bad[nbad++] = splice(tok, 3, 1, "g"); /* non-hex id */
	bad[nbad++] = splice(tok, 3, 1, ""); /* 15-char id */
	bad[nbad++] = splice(tok, 3, 0, "0"); /* 17-char id */
	bad[nbad++] = splice(tok, 19, 1, "-"); /* wrong separator */
	bad[nbad++] = splice(tok, 19, 0, "_"); /* extra underscore */
	bad[nbad++] = splice(tok, 2, 0, "_"); /* hx__ */
	bad[nbad++] = splice(tok, 62, 1, ""); /* 42-char secret */
	bad[nbad++] = splice(tok, 63, 0, "A"); /* 44-char secret */
	bad[nbad++] = splice(tok, 63, 0, "_"); /* trailing _ */
	bad[nbad++] = splice(tok, 63, 0, "="); /* padding */
	bad[nbad++] = splice(tok, 63, 0, " "); /* trailing space */
	bad[nbad++] = splice(tok, 63, 0, "\n"); /* trailing newline */
	bad[nbad++] = splice(tok, 30, 1, "+"); /* standard base64 */
	bad[nbad++] = splice(tok, 30, 1, "/");
	bad[nbad++] = splice(tok, 30, 1, ".");
	bad[nbad++] = splice(tok, 62, 1, "B"); /* non-canonical end */
	bad[nbad++] = splice(tok, 62, 1, "_"); /* non-canonical end */
	bad[nbad++] = splice(tok, 20, 43, ""); /* no secret */
	bad[nbad++] = splice(tok, 3, 16, ""); /* no key id */
	for (i = 0; i < nbad; i++) {
		id[0] = 'x';
		hash[0] = 'x';
		/* Print up to a newline: TAP is line-based. */
		ok(hx_apikey_parse(bad[i], id, hash) == -1 && id[0] == '\0' &&
			hash[0] == '\0',
		    "malformed api key %zu refused, outputs "
		    "cleared: '%.*s'",
		    i, (int)strcspn(bad[i], "\n"), bad[i]);
		free(bad[i]);
	}
	is_int(hx_apikey_parse(NULL, id, hash), -1, "NULL api key refused");

	ok(hx_apikey_parse(tok, pid, phash) == 0, "parse again");
	hx_strlcpy(want, phash, sizeof want);
	want[63] = want[63] == '0' ? '1' : '0';
	is_int(hx_apikey_matches(phash, want), 0, "matches: last char differs");
	want[63] = phash[63];
	want[0] = want[0] == '0' ? '1' : '0';
	is_int(hx_apikey_matches(phash, want), 0,
	    "matches: first char differs");
	is_int(hx_apikey_matches(phash, NULL), 0, "matches: NULL stored");
	is_int(hx_apikey_matches(NULL, phash), 0, "matches: NULL computed");
	is_int(hx_apikey_matches("abc", "abc"), 0, "matches: short strings");
	t = xasprintf("%sx", phash);
	is_int(hx_apikey_matches(t, t), 0, "matches: 65-char strings");
	free(t);
	free(tok);
}

/* Session tokens. */

static unsigned char jkey[32];

/*
 * header.payload.signature by hand. md NULL: sig is used as is (may be "").
 */
static char *
forge(const char *header, const char *payload, const EVP_MD *md,
    const unsigned char *key, size_t keylen, const char *sig)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int  maclen;
	char	     *h, *p, *input, *s, *tok;

	h = b64url(header, strlen(header));
	p = b64url(payload, strlen(payload));
	input = xasprintf("%s.%s", h, p);
	if (md != NULL) {
		if (HMAC(md, keylen == 0 ? (const unsigned char *)"" : key,
			(int)keylen, (unsigned char *)input, strlen(input), mac,
			&maclen) == NULL)
			abort();
		s = b64url(mac, maclen);
	} else
		s = xstrdup(sig);
	tok = xasprintf("%s.%s", input, s);
	free(h);
	free(p);
	free(input);
	free(s);
	return tok;
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* Expect hx_jwt_verify to refuse tok (freed) with a reason. */
static void
refused(char *tok, int64_t now, const char *why_has, const char *name)
{
	struct hx_jwt_claims c;
	char		    *err = NULL;
	int		     r;

	r = hx_jwt_verify(jkey, sizeof jkey, tok, now, &c, &err);
	ok(r == -1 && err != NULL && has(err, why_has) && c.sub == NULL &&
		c.jti == NULL,
	    "refused: %s (%s)", name, err ? err : "no error");
	free(err);
	hx_jwt_claims_release(&c);
	free(tok);
}

static char *
payload(int64_t now, const char *extra)
{
	return xasprintf("{\"sub\":\"alice@local\",\"jti\":\"s1\","
			 "\"iat\":%lld,\"exp\":%lld%s}",
	    (long long)now, (long long)now + 7200, extra);
}

static void
test_jwt(void)
{
	struct hx_jwt_claims c;
	unsigned char	     other[32], shortkey[31];
	int64_t		     now = 1760000000;
	char		    *tok = NULL, *err = NULL, *t, *pl, *h, *big;
	const char	    *dot;
	size_t		     len;
	int		     r;

	hx_random_bytes(jkey, sizeof jkey);
	hx_random_bytes(other, sizeof other);
	memcpy(shortkey, jkey, sizeof shortkey);

	r = hx_jwt_issue(jkey, sizeof jkey, "alice@local", "s1", now,
	    now + 7200, &tok, &err);
	ok(r == 0 && tok != NULL && err == NULL, "issue a token");
	h = b64url(HS256, strlen(HS256));
	ok(strncmp(tok, h, strlen(h)) == 0 && tok[strlen(h)] == '.',
	    "header is {\"alg\":\"HS256\",\"typ\":\"JWT\"}");
	free(h);
	r = hx_jwt_verify(jkey, sizeof jkey, tok, now, &c, &err);
	ok(r == 0 && err == NULL, "verify it");
	is_str(c.sub, "alice@local", "sub");
	is_str(c.jti, "s1", "jti");
	is_int(c.iat, now, "iat");
	is_int(c.exp, now + 7200, "exp");
	hx_jwt_claims_release(&c);
	ok(c.sub == NULL && c.jti == NULL, "release clears the claims");
	ok(hx_jwt_verify(jkey, sizeof jkey, tok, now + 7199, &c, &err) == 0,
	    "valid one second before exp");
	hx_jwt_claims_release(&c);
	refused(xstrdup(tok), now + 7200, "expired", "at exp");
	refused(xstrdup(tok), now + 100000, "expired", "long after exp");
	refused(xstrdup(tok), now - 61, "future", "iat 61 s ahead of now");
	ok(hx_jwt_verify(jkey, sizeof jkey, tok, now - 60, &c, &err) == 0,
	    "iat 60 s ahead of now is tolerated");
	hx_jwt_claims_release(&c);
	r = hx_jwt_verify(other, sizeof other, tok, now, &c, &err);
	ok(r == -1 && has(err, "signature"), "another key refuses it: %s", err);
	free(err);
	err = NULL;
	r = hx_jwt_verify(shortkey, sizeof shortkey, tok, now, &c, &err);
	ok(r == -1 && has(err, "too short"), "verify refuses a 31-byte key: %s",
	    err);
	free(err);
	err = NULL;

	/* Issue refusals: none may produce a token. */
	t = NULL;
	r = hx_jwt_issue(shortkey, sizeof shortkey, "a", "b", now, now + 1, &t,
	    &err);
	ok(r == -1 && t == NULL && has(err, "too short"),
	    "issue refuses a 31-byte key: %s", err);
	free(err);
	err = NULL;
	r = hx_jwt_issue(jkey, 0, "a", "b", now, now + 1, &t, &err);
	ok(r == -1 && t == NULL, "issue refuses an empty key (no alg=none)");
	free(err);
	err = NULL;
	r = hx_jwt_issue(jkey, sizeof jkey, "", "b", now, now + 1, &t, &err);
	ok(r == -1 && t == NULL, "issue refuses an empty sub");
	free(err);
	err = NULL;
	r = hx_jwt_issue(jkey, sizeof jkey, "a", NULL, now, now + 1, &t, &err);
	ok(r == -1 && t == NULL, "issue refuses a NULL jti");
	free(err);
	err = NULL;
	r = hx_jwt_issue(jkey, sizeof jkey, "a", "b", now, now, &t, &err);
	ok(r == -1 && t == NULL, "issue refuses exp == iat");
	free(err);
	err = NULL;
	big = xmalloc(5000);
	memset(big, 'u', 4999);
	big[4999] = '\0';
	r = hx_jwt_issue(jkey, sizeof jkey, big, "b", now, now + 1, &t, &err);
	ok(r == -1 && t == NULL && has(err, "too long"),
	    "issue refuses a token verify would refuse: %s", err);
	free(err);
	err = NULL;

	/* The hand-built forger makes tokens we accept when honest. */
	pl = payload(now, "");
	t = forge(HS256, pl, EVP_sha256(), jkey, sizeof jkey, NULL);
	ok(hx_jwt_verify(jkey, sizeof jkey, t, now, &c, &err) == 0 &&
		has(c.sub, "alice"),
	    "a hand-built honest token is accepted");
	hx_jwt_claims_release(&c);
	free(t);
	t = forge("{\"alg\":\"HS256\"}", pl, EVP_sha256(), jkey, sizeof jkey,
	    NULL);
	ok(hx_jwt_verify(jkey, sizeof jkey, t, now, &c, &err) == 0,
	    "a header without typ is accepted");
	hx_jwt_claims_release(&c);
	free(t);

	/* Algorithm attacks. */
	refused(forge("{\"alg\":\"none\"}", pl, NULL, NULL, 0, ""), now,
	    "signature", "alg none, empty signature");
	refused(forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", pl, EVP_sha256(),
		    jkey, sizeof jkey, NULL),
	    now, "", "alg none, signed with our key");
	refused(forge("{\"alg\":\"none\"}", pl, NULL, NULL, 0,
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
	    now, "signature", "alg none, junk signature");
	refused(forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", pl, EVP_sha512(),
		    jkey, sizeof jkey, NULL),
	    now, "signature", "HS512 with our key");
	refused(forge("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", pl, EVP_sha384(),
		    jkey, sizeof jkey, NULL),
	    now, "signature", "HS384 with our key");
	refused(forge("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", pl, EVP_sha256(),
		    jkey, sizeof jkey, NULL),
	    now, "HS256", "alg \"hs256\" (libjwt matches it caselessly)");
	refused(forge("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", pl, EVP_sha256(),
		    jkey, sizeof jkey, NULL),
	    now, "decode", "alg RS256, HMAC by our key");
	refused(forge(HS256, pl, EVP_sha256(), other, sizeof other, NULL), now,
	    "signature", "HS256 with another key");
	refused(forge(HS256, pl, EVP_sha256(), NULL, 0, NULL), now, "signature",
	    "HS256 with an empty key");
	refused(forge("{\"alg\":\"HS256\",\"typ\":\"XYZ\"}", pl, EVP_sha256(),
		    jkey, sizeof jkey, NULL),
	    now, "decode", "typ XYZ");
	refused(forge("[\"HS256\"]", pl, EVP_sha256(), jkey, sizeof jkey, NULL),
	    now, "decode", "header is an array");
	free(pl);

	/* Claim attacks, all signed with our own key. */
#define CLAIMS(json, why, name) \
	refused(forge(HS256, json, EVP_sha256(), jkey, sizeof jkey, NULL), \
	    now, why, name)
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":%lld,"
		      "\"exp\":%lld}",
	    (long long)now - 100, (long long)now - 1);
	CLAIMS(t, "expired", "exp in the past");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":%lld}",
	    (long long)now);
	CLAIMS(t, "no 'exp'", "exp missing");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":%lld,"
		      "\"exp\":\"9999999999\"}",
	    (long long)now);
	CLAIMS(t, "not an integer", "exp as the string \"9999999999\"");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":%lld,"
		      "\"exp\":9999999999.0}",
	    (long long)now);
	CLAIMS(t, "not an integer", "exp as a real");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":%lld,"
		      "\"exp\":true}",
	    (long long)now);
	CLAIMS(t, "not an integer", "exp as true");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":%lld,"
		      "\"exp\":null}",
	    (long long)now);
	CLAIMS(t, "not an integer", "exp as null");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"exp\":%lld}",
	    (long long)now + 100);
	CLAIMS(t, "no 'iat'", "iat missing");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":\"0\","
		      "\"exp\":%lld}",
	    (long long)now + 100);
	CLAIMS(t, "not an integer", "iat as a string (libjwt reads 0)");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":%lld,"
		      "\"exp\":%lld}",
	    (long long)now + 61, (long long)now + 100);
	CLAIMS(t, "future", "iat 61 s in the future");
	free(t);
	t = xasprintf("{\"jti\":\"s\",\"iat\":%lld,\"exp\":%lld}",
	    (long long)now, (long long)now + 100);
	CLAIMS(t, "no 'sub'", "sub missing");
	free(t);
	t = xasprintf("{\"sub\":\"\",\"jti\":\"s\",\"iat\":%lld,"
		      "\"exp\":%lld}",
	    (long long)now, (long long)now + 100);
	CLAIMS(t, "empty", "sub empty");
	free(t);
	t = xasprintf("{\"sub\":0,\"jti\":\"s\",\"iat\":%lld,"
		      "\"exp\":%lld}",
	    (long long)now, (long long)now + 100);
	CLAIMS(t, "not a string", "sub an integer");
	free(t);
	t = xasprintf("{\"sub\":\"root@local\\u0000x\",\"jti\":\"s\","
		      "\"iat\":%lld,\"exp\":%lld}",
	    (long long)now, (long long)now + 100);
	CLAIMS(t, "decode", "sub with an embedded NUL (jansson refuses)");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"iat\":%lld,\"exp\":%lld}",
	    (long long)now, (long long)now + 100);
	CLAIMS(t, "no 'jti'", "jti missing");
	free(t);
	t = xasprintf("{\"sub\":\"a\",\"jti\":\"\",\"iat\":%lld,"
		      "\"exp\":%lld}",
	    (long long)now, (long long)now + 100);
	CLAIMS(t, "empty", "jti empty");
	free(t);
	CLAIMS("[1,2]", "object", "claims are an array (libjwt accepts it)");
	CLAIMS("{\"sub\":\"a\"} trailing", "decode", "claims with junk after");
	CLAIMS("{\"sub\":\"a\",\"jti\":\"s\",\"iat\":1,"
	       "\"exp\":99999999999999999999999}",
	    "decode", "exp beyond 64 bits");
#undef CLAIMS

	/* Surgery on a genuine token. */
	dot = strchr(tok, '.');
	pl = xasprintf("{\"sub\":\"root@local\",\"jti\":\"s1\",\"iat\":%lld,"
		       "\"exp\":%lld}",
	    (long long)now, (long long)now + 7200);
	h = b64url(pl, strlen(pl));
	t = xasprintf("%.*s.%s%s", (int)(dot - tok), tok, h, strrchr(tok, '.'));
	refused(t, now, "signature", "payload swapped, original signature");
	free(h);
	free(pl);
	len = strlen(tok);
	refused(xstrndup(tok, len - 1), now, "signature", "last character cut");
	refused(xstrndup(tok, len / 2), now, "", "cut in half");
	refused(xstrndup(tok, strrchr(tok, '.') - tok), now, "parts",
	    "signature cut (2 parts)");
	refused(xstrndup(tok, strrchr(tok, '.') - tok + 1), now, "signature",
	    "signature emptied");
	refused(xasprintf("%s.x", tok), now, "4 parts", "4 parts");
	refused(xasprintf("%s.", tok), now, "4 parts", "4 parts, last empty");
	refused(xasprintf("%s=", tok), now, "base64url", "padded signature");
	refused(xasprintf(" %s", tok), now, "base64url", "leading space");
	refused(xasprintf("%s\n", tok), now, "base64url", "trailing newline");
	t = xstrdup(tok);
	t[len - 1] = t[len - 1] == 'A' ? 'B' : 'A';
	refused(t, now, "signature", "signature's last char changed");
	refused(xasprintf(".%s", strchr(tok, '.') + 1), now, "empty",
	    "header removed");

	/* Size and garbage. */
	big = xrealloc(big, 10 * 1024 + 1);
	memset(big, 'A', 10 * 1024);
	big[10 * 1024] = '\0';
	big[100] = '.';
	big[200] = '.';
	refused(big, now, "too long", "10 KiB token");
	big = xmalloc(8001);
	memset(big, 'a', 8000);
	big[8000] = '\0';
	pl = xasprintf("{\"sub\":\"%s\",\"jti\":\"s\",\"iat\":%lld,"
		       "\"exp\":%lld}",
	    big, (long long)now, (long long)now + 100);
	free(big);
	refused(forge(HS256, pl, EVP_sha256(), jkey, sizeof jkey, NULL), now,
	    "too long", "a 10 KiB token with a valid signature");
	free(pl);
	refused(xstrdup(""), now, "empty", "empty string");
	refused(xstrdup("garbage"), now, "1 part,", "garbage");
	refused(xstrdup(".."), now, "empty", "two dots");
	refused(xstrdup("%%%.%%%.%%%"), now, "base64url", "not base64url");
	refused(xstrdup("eyJ.eyJ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
	    now, "signature", "junk parts, signature-shaped junk");
	refused(xstrdup("\xff\xfe.\x01\x02.\x80"), now, "base64url",
	    "binary bytes");
	r = hx_jwt_verify(jkey, sizeof jkey, NULL, now, &c, &err);
	ok(r == -1 && err != NULL && c.sub == NULL, "NULL token refused");
	free(err);
	free(tok);
}

/* The secret file. */

static int
count_entries(const char *dir)
{
	struct dirent *de;
	DIR	      *d;
	int	       n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0 ||
	    chmod(path, mode) == -1)
		abort();
}

/* Four processes race to create one secret; all must read the same. */
static int
race_once(const char *path)
{
	unsigned char keys[4][32];
	pid_t	      pids[4];
	int	      fds[4][2], i, status, same = 1;
	char	     *err;

	for (i = 0; i < 4; i++) {
		if (pipe(fds[i]) == -1 || (pids[i] = fork()) == -1)
			abort();
		if (pids[i] == 0) {
			unsigned char k[32];

			err = NULL;
			if (hx_secret_load_or_create(path, k, sizeof k, &err) ==
			    -1)
				_exit(1);
			if (write(fds[i][1], k, sizeof k) != (ssize_t)sizeof k)
				_exit(1);
			_exit(0);
		}
		close(fds[i][1]);
	}
	for (i = 0; i < 4; i++) {
		if (read(fds[i][0], keys[i], 32) != 32)
			same = 0;
		close(fds[i][0]);
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			same = 0;
		if (i > 0 && memcmp(keys[0], keys[i], 32) != 0)
			same = 0;
	}
	return same;
}

static void
test_secret(void)
{
	unsigned char k1[32], k2[32], zero[32] = { 0 };
	char	      dir[] = "/tmp/hx-test-auth-XXXXXX";
	char	     *path, *p2, *err = NULL;
	struct stat   st;
	int	      r, i, races = 0;

	if (mkdtemp(dir) == NULL)
		abort();
	path = xasprintf("%s/jwt.key", dir);

	r = hx_secret_load_or_create(path, k1, sizeof k1, &err);
	ok(r == 0 && err == NULL, "create the secret");
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		(st.st_mode & 07777) == 0600,
	    "it is a regular file, mode 0600");
	is_int(st.st_size, 32, "it holds 32 bytes");
	ok(memcmp(k1, zero, sizeof k1) != 0, "the secret is not zeros");
	is_int(count_entries(dir), 1, "no temporary file is left behind");
	r = hx_secret_load_or_create(path, k2, sizeof k2, &err);
	ok(r == 0 && memcmp(k1, k2, sizeof k1) == 0,
	    "second call loads the same bytes");

	chmod(path, 0644);
	r = hx_secret_load_or_create(path, k2, sizeof k2, &err);
	ok(r == -1 && has(err, "group or others") && has(err, "0644"),
	    "a 0644 secret is refused: %s", err);
	free(err);
	err = NULL;
	chmod(path, 0604);
	r = hx_secret_load_or_create(path, k2, sizeof k2, &err);
	ok(r == -1 && has(err, "group or others"),
	    "a world-readable 0604 secret is refused: %s", err);
	free(err);
	err = NULL;
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0604,
	    "a refused file is left as it was");
	chmod(path, 0400);
	r = hx_secret_load_or_create(path, k2, sizeof k2, &err);
	ok(r == 0 && memcmp(k1, k2, sizeof k1) == 0, "a 0400 secret loads");

	r = hx_secret_load_or_create(path, k2, 16, &err);
	ok(r == -1 && has(err, "32 bytes, not 16"),
	    "asking for 16 bytes of a 32-byte file is refused: %s", err);
	free(err);
	err = NULL;
	p2 = xasprintf("%s/short.key", dir);
	write_file(p2, "0123456789012345678901234567890", 31, 0600);
	r = hx_secret_load_or_create(p2, k2, sizeof k2, &err);
	ok(r == -1 && has(err, "31 bytes, not 32"),
	    "a 31-byte file is refused: %s", err);
	free(err);
	err = NULL;
	unlink(p2);
	write_file(p2, "", 0, 0600);
	r = hx_secret_load_or_create(p2, k2, sizeof k2, &err);
	ok(r == -1 && has(err, "0 bytes"), "an empty file is refused: %s", err);
	free(err);
	err = NULL;
	unlink(p2);
	free(p2);

	p2 = xasprintf("%s/sub", dir);
	mkdir(p2, 0700);
	r = hx_secret_load_or_create(p2, k2, sizeof k2, &err);
	ok(r == -1 && has(err, "not a regular file"),
	    "a directory is refused: %s", err);
	free(err);
	err = NULL;
	rmdir(p2);
	free(p2);

	p2 = xasprintf("%s/link.key", dir);
	if (symlink(path, p2) == -1)
		abort();
	r = hx_secret_load_or_create(p2, k2, sizeof k2, &err);
	ok(r == -1 && err != NULL, "a symlink is refused: %s", err);
	free(err);
	err = NULL;
	unlink(p2);
	free(p2);

	p2 = xasprintf("%s/missing/jwt.key", dir);
	r = hx_secret_load_or_create(p2, k2, sizeof k2, &err);
	ok(r == -1 && has(err, "cannot create"),
	    "a missing directory is an error: %s", err);
	free(err);
	err = NULL;
	free(p2);
	r = hx_secret_load_or_create(path, k2, 0, &err);
	ok(r == -1 && err != NULL, "a zero-length secret is refused");
	free(err);
	err = NULL;

	for (i = 0; i < 20; i++) {
		p2 = xasprintf("%s/race-%d.key", dir, i);
		races += race_once(p2);
		unlink(p2);
		free(p2);
	}
	is_int(races, 20, "four processes creating at once agree (20 rounds)");
	is_int(count_entries(dir), 1, "the races left no temporary files");

	unlink(path);
	free(path);
	ok(rmdir(dir) == 0, "the test directory is empty at the end");
}

int
main(void)
{
	test_encodings();
	test_passwords();
	test_apikeys();
	test_jwt();
	test_secret();
	return done_testing();
}
