/*
 * hx-auth.h - credential primitives: random bytes, encodings, constant-time
 * comparison, Argon2id password hashes, API keys, HS256 session tokens and
 * the token signing secret.
 *
 * Pure functions over memory: the only I/O is getrandom(2) and the secret
 * file. Nothing here knows about users, sessions, roles, the database or
 * HTTP; callers look up rows and decide what a failure means. Nothing prints
 * or exits. Functions return 0 / -1 (or the documented tri-state); where a
 * reason helps, it comes back in *err, a malloc'd lowercase message the
 * caller frees.
 *
 * libjwt 1.10.2 is used for encoding and decoding, but it is not trusted to
 * decide anything: hx_jwt_verify() checks the signature itself in constant
 * time, pins HS256, and reads every claim with its JSON type checked.
 */
#ifndef HX_AUTH_H
#define HX_AUTH_H

#include <stddef.h>
#include <stdint.h>

/* Argon2id parameters for new hashes (DESIGN.md §5, OWASP). */
#define HX_ARGON2_M_KIB 19456
#define HX_ARGON2_T 2
#define HX_ARGON2_P 1
#define HX_ARGON2_SALT_LEN 16
#define HX_ARGON2_HASH_LEN 32
/* Longest password hx_password_hash() accepts, in bytes. */
#define HX_PASSWORD_MAX 1024

/* API key token "hx_<keyid>_<secret>": 3 + 16 + 1 + 43 characters. */
#define HX_APIKEY_ID_LEN 16 /* lowercase hex, 64 random bits */
#define HX_APIKEY_SECRET_LEN 43 /* base64url, 256 random bits */
#define HX_APIKEY_TOKEN_LEN 63
#define HX_APIKEY_HASH_LEN 64 /* lowercase hex SHA-256 */

/* Session tokens. */
#define HX_JWT_KEY_MIN 32 /* shortest HS256 key accepted, bytes */
#define HX_JWT_MAX_LEN 4096 /* longest token looked at */
#define HX_JWT_IAT_SKEW 60 /* seconds iat may lie in the future */

/* Length of the unpadded base64url encoding of n bytes (no NUL). */
#define HX_B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 == 0 ? 0 : (n) % 3 + 1))

/*
 * Fill buf with n bytes from getrandom(2), retrying on EINTR and short
 * reads. Returns 0, or -1 with errno set (the kernel refused).
 */
int hx_random_bytes(void *buf, size_t n);

/* Lowercase hex of n bytes at p: a new string of 2n chars; caller frees. */
char *hx_hex_encode(const void *p, size_t n);

/*
 * Encode n bytes at p as base64url without padding (RFC 4648 §5) into out,
 * NUL-terminated. Returns 0, or -1 (out untouched) if outlen is less than
 * HX_B64URL_LEN(n) + 1.
 */
int hx_b64url_encode(const void *p, size_t n, char *out, size_t outlen);

/*
 * Decode unpadded base64url text of length n into a new buffer of *outlen
 * bytes (caller frees; one spare NUL byte after the data). Returns NULL if
 * the text is not canonical base64url.
 */
unsigned char *hx_b64url_decode(const char *s, size_t n, size_t *outlen);

/*
 * Compare n bytes in time that depends only on n. Returns 1 if equal,
 * 0 if not (note: the opposite sense to memcmp).
 */
int hx_ct_equal(const void *a, const void *b, size_t n);

/*
 * Hash a NUL-terminated password with Argon2id (m=19456 KiB, t=2, p=1,
 * 16-byte random salt, 32-byte hash) into a PHC string
 * "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". Takes ~20 ms: call it
 * off the event loop. Returns 0 with *phc (caller frees), or -1 with *err
 * (caller frees) for an empty password, one over HX_PASSWORD_MAX bytes, or
 * a failure of the random source or of libargon2.
 */
int hx_password_hash(const char *password, char **phc, char **err);

/*
 * Check a password against a stored PHC string. Returns 1 on a match, 0 on
 * a mismatch (also for an empty or over-long password, which can never have
 * been hashed), -1 if phc is malformed or hostile: not argon2id version 19,
 * or parameters outside m 8p..1048576 KiB (1 GiB), t 1..10, p 1..16,
 * salt 8..64 bytes, hash 16..64 bytes, so a tampered row cannot make us
 * allocate or spin without bound. Never allocates anything the caller frees.
 */
int hx_password_verify(const char *phc, const char *password);

/*
 * Spend the time of a hx_password_verify() against a fixed dummy hash with
 * the default parameters, and forget the answer. Call it when the user does
 * not exist, so that failing costs the same either way.
 */
void hx_password_burn(const char *password);

/*
 * Make a new API key. *token gets "hx_<keyid>_<secret>" (caller frees;
 * shown to the user once, never stored); keyid gets the 16 hex chars of the
 * key id and hash_hex the 64 hex chars of SHA-256 over the 43-character
 * secret text, both NUL-terminated, for the database. Returns 0, or -1 with
 * *err (caller frees) if the random source fails.
 */
int hx_apikey_new(char **token, char keyid[HX_APIKEY_ID_LEN + 1],
    char hash_hex[HX_APIKEY_HASH_LEN + 1], char **err);

/*
 * Split a presented token into its key id and the SHA-256 (hex) of its
 * secret, for a lookup by key id and a hx_apikey_matches(). Returns 0, or
 * -1 (outputs cleared) if the token is not exactly "hx_", 16 lowercase hex
 * chars, "_", 43 base64url chars in canonical form, and nothing more.
 */
int hx_apikey_parse(const char *token, char keyid[HX_APIKEY_ID_LEN + 1],
    char hash_hex[HX_APIKEY_HASH_LEN + 1]);

/*
 * Compare a computed and a stored secret hash, both 64-char hex strings, in
 * constant time. Returns 1 if they match, 0 otherwise (also when either is
 * NULL or not 64 characters long).
 */
int hx_apikey_matches(const char *hash_hex_computed,
    const char			 *hash_hex_stored);

#define HX_SESSION_ID_LEN 16 /* lowercase hex */

/*
 * The public id of a login session: 16 hex characters of SHA-256 over its
 * jti. Listings and DELETE /api/users/:username/sessions/:id use it, so
 * the jti, which a forged token would also need, is never shown. Returns
 * 0, or -1 (out set to "") if hashing fails.
 */
int hx_session_public_id(const char *jti, char out[HX_SESSION_ID_LEN + 1]);

/* The claims of a verified session token. */
struct hx_jwt_claims {
	char   *sub; /* user, e.g. "alice@local" */
	char   *jti; /* session id, a row in the sessions table */
	int64_t iat; /* issued at, seconds since the epoch */
	int64_t exp; /* expires at, seconds since the epoch */
};

/*
 * Sign an HS256 token {"sub", "jti", "iat", "exp"} with key (at least
 * HX_JWT_KEY_MIN bytes). Checks every libjwt return and the result's
 * signature, so it never yields an unsigned (alg=none) token. Returns 0
 * with *token (caller frees), or -1 with *err (caller frees) for a short
 * key, an empty sub or jti, exp not after iat, a token longer than
 * HX_JWT_MAX_LEN (verify would refuse it), or a libjwt failure.
 */
int hx_jwt_issue(const unsigned char *key, size_t keylen, const char *sub,
    const char *jti, int64_t iat, int64_t exp, char **token, char **err);

/*
 * Verify a session token at time now (seconds since the epoch): at most
 * HX_JWT_MAX_LEN bytes, three base64url parts, an HMAC-SHA256 signature by
 * key (compared in constant time), header alg exactly HS256, integer exp and
 * iat with exp > now and iat <= now + HX_JWT_IAT_SKEW, non-empty string sub
 * and jti. Whether jti is still a live session is the caller's question.
 * Returns 0 with *out filled (release it with hx_jwt_claims_release()), or
 * -1 with *err (caller frees) saying why, and *out cleared.
 */
int hx_jwt_verify(const unsigned char *key, size_t keylen, const char *token,
    int64_t now, struct hx_jwt_claims *out, char **err);

/* Free the strings in c and clear it. Safe on a cleared struct. */
void hx_jwt_claims_release(struct hx_jwt_claims *c);

/*
 * Load keylen bytes of secret from path, or create the file with keylen
 * random bytes, mode 0600, if it does not exist. Creation writes and fsyncs
 * a temporary file (O_CREAT|O_EXCL, 0600) and links it into place, so two
 * processes starting at once agree on one complete secret. A path that is
 * a symlink or not a regular file, a file not exactly keylen bytes, or one
 * granting any access to group or others is refused, not repaired.
 * Returns 0 with key filled, or -1 with *err (caller frees) naming the path
 * and the reason.
 */
int hx_secret_load_or_create(const char *path, unsigned char *key,
    size_t keylen, char **err);

#endif
