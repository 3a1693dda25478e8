/*
 * hx-util.h - memory, string, buffer and clock helpers shared by every
 * Horcrux program.
 *
 * The x* allocators never return NULL: on exhaustion they abort, as git's
 * do, because no caller can do anything useful without memory. hx_buf is a
 * growable byte buffer with a hard cap, for anything fed by the network
 * (curl's dynbuf). Nothing here prints or exits except the allocators' abort.
 */
#ifndef HX_UTIL_H
#define HX_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define HX_VERSION "0.1.0"

#define HX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define HX_UNUSED __attribute__((unused))

/* Allocate or abort; the caller frees with free(). */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char *xasprintf(const char *fmt, ...) HX_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) HX_PRINTF(1, 0);
/*
 * The lib's failure helper: set *err (when err is not NULL; the caller
 * frees it) to the formatted message and return rc.
 */
int hx_fail(char **err, int rc, const char *fmt, ...) HX_PRINTF(3, 4);

/*
 * Copy src into dst of size dstsize, always NUL-terminating. Returns
 * strlen(src); a result >= dstsize means the copy was truncated.
 */
size_t hx_strlcpy(char *dst, const char *src, size_t dstsize);

/*
 * Terminal safety for text that came from elsewhere (a VM name, a user
 * name, a daemon message). A code point is unsafe on a terminal when it
 * is a C0 control, DEL, a C1 control (U+0080-U+009F, which some
 * terminals obey as escape sequences) or a bidirectional control
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which can
 * make a name read backwards or hide what follows it.
 */
int hx_cp_unsafe(uint32_t cp);
/*
 * Replace each unsafe code point of UTF-8 s, and each byte that is not
 * valid UTF-8, with one '?', in place (the text can only shrink).
 * Returns s.
 */
char *hx_term_safe(char *s);
/*
 * A copy of JSON text (as json_dumps writes it, C0 already escaped) with
 * DEL, C1 and bidi controls written as \uXXXX escapes, so JSON output
 * stays inert on a terminal and decodes to the same strings. Every other
 * character, non-ASCII included, stays as it is. The caller frees.
 */
char *hx_json_term_safe(const char *json);

/*
 * A finite double as jansson's json_dumps writes it with a precision of
 * 10 digits (HX_JSON_FLAGS): "%.10g", ".0" after an integer, no '+' or
 * leading zeros in an exponent. Written into buf (HX_JSON_DTOA_MAX
 * bytes, NUL-terminated); returns its length. Numbers from 1e-4 to
 * 1e10 are mostly written without printf, so long arrays of samples
 * serialize fast; the result is the same byte for byte.
 */
#define HX_JSON_DTOA_MAX 40
size_t hx_json_dtoa(char *buf, double v);

/* A growable buffer. data is always NUL-terminated (not counted in len). */
struct hx_buf {
	char  *data;
	size_t len;
	size_t alloc;
	size_t cap; /* 0: unbounded (only for trusted, local data) */
};

/* Initialise an empty buffer that refuses to grow past cap bytes. */
void hx_buf_init(struct hx_buf *b, size_t cap);
/* Append n bytes. Returns 0, or -1 (buffer unchanged) if cap would be passed. */
int hx_buf_add(struct hx_buf *b, const void *p, size_t n);
/* Append formatted text; -1 if cap would be passed. */
int  hx_buf_addf(struct hx_buf *b, const char *fmt, ...) HX_PRINTF(2, 3);
void hx_buf_reset(struct hx_buf *b);
/* Free the contents; the buffer may be reused after hx_buf_init. */
void hx_buf_release(struct hx_buf *b);
/* Hand the data to the caller (who frees it) and reset the buffer. */
char *hx_buf_detach(struct hx_buf *b, size_t *len);

/* Nanoseconds on CLOCK_MONOTONIC, for intervals and rates. */
uint64_t hx_mono_ns(void);
/* Milliseconds since the epoch on CLOCK_REALTIME, for timestamps. */
int64_t hx_wall_ms(void);
/*
 * Format an epoch time in milliseconds as RFC 3339 UTC with milliseconds
 * and Z ("2025-10-12T10:30:45.123Z") into out (at least 25 bytes).
 * Returns 0, or -1 if the time cannot be represented.
 */
int hx_rfc3339_ms(int64_t ms, char *out, size_t outlen);

/*
 * Read a whole (small) file into a new NUL-terminated string, refusing
 * anything over max bytes. Returns the string (caller frees) or NULL with
 * errno set (EFBIG when over max).
 */
char *hx_read_file(const char *path, size_t max, size_t *lenp);

/*
 * A secret kept in a file (an API key, a password, a client secret): its
 * first line, without the newline, never empty. Returns it (the caller
 * wipes and frees it) or NULL with *err: "cannot read 'PATH': why" or
 * "'PATH' is empty".
 */
char *hx_read_secret(const char *path, char **err);

/*
 * Parse a whole decimal string into a long long within [min, max].
 * Returns 0, or -1 if s is empty, has trailing junk or is out of range.
 */
int hx_parse_ll(const char *s, long long min, long long max, long long *out);

/*
 * Human units as top and virsh print them: 1024-based, one decimal below
 * 10 ("1.5G", "12M", "512K", "0B"), into out (at least 8 bytes). A NaN
 * or negative value prints as "-". Returns out.
 */
char *hx_fmt_bytes(double v, char *out, size_t outlen);

#include "banned.h"

#endif
