/*
 * hx-util.c - memory, string, buffer and clock helpers (see hx-util.h).
 *
 * Deliberately small: anything with a policy of its own (logging, config,
 * /proc parsing) lives in its own module.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hx-util.h"

void *
xmalloc(size_t size)
{
	void *p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size)) == NULL)
		abort();
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p;

	if ((p = realloc(ptr, size == 0 ? 1 : size)) == NULL)
		abort();
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char  *p;
	size_t len = strnlen(s, n);

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) == -1)
		abort();
	return s;
}

int
hx_fail(char **err, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		*err = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return rc;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char   *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

size_t
hx_strlcpy(char *dst, const char *src, size_t dstsize)
{
	size_t len = strlen(src);

	if (dstsize > 0) {
		size_t n = len >= dstsize ? dstsize - 1 : len;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void
hx_buf_init(struct hx_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

int
hx_buf_add(struct hx_buf *b, const void *p, size_t n)
{
	if (b->cap != 0 && (n > b->cap || b->len > b->cap - n))
		return -1;
	if (b->len + n + 1 > b->alloc) {
		size_t want = b->alloc ? b->alloc : 256;
		while (want < b->len + n + 1)
			want *= 2;
		b->data = xrealloc(b->data, want);
		b->alloc = want;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
hx_buf_addf(struct hx_buf *b, const char *fmt, ...)
{
	va_list ap;
	char   *s;
	int	r;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	r = hx_buf_add(b, s, strlen(s));
	free(s);
	return r;
}

void
hx_buf_reset(struct hx_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
hx_buf_release(struct hx_buf *b)
{
	free(b->data);
	hx_buf_init(b, b->cap);
}

char *
hx_buf_detach(struct hx_buf *b, size_t *len)
{
	char *p;

	if (b->data == NULL)
		hx_buf_add(b, "", 0);
	p = b->data;
	if (len != NULL)
		*len = b->len;
	hx_buf_init(b, b->cap);
	return p;
}

uint64_t
hx_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int64_t
hx_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
hx_rfc3339_ms(int64_t ms, char *out, size_t outlen)
{
	struct tm tm;
	time_t	  secs;
	int64_t	  frac;
	int	  n;

	secs = (time_t)(ms / 1000);
	frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL)
		return -1;
	n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)frac);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

char *
hx_read_file(const char *path, size_t max, size_t *lenp)
{
	struct hx_buf b;
	char	      chunk[4096];
	ssize_t	      n;
	int	      fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	hx_buf_init(&b, max);
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (hx_buf_add(&b, chunk, (size_t)n) == -1) {
			n = -1;
			errno = EFBIG;
			break;
		}
	}
	saved = errno;
	close(fd);
	if (n == -1) {
		hx_buf_release(&b);
		errno = saved;
		return NULL;
	}
	return hx_buf_detach(&b, lenp);
}

char *
hx_read_secret(const char *path, char **err)
{
	size_t len;
	char  *s = hx_read_file(path, 4096, &len);

	if (s == NULL) {
		*err = xasprintf("cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	s[strcspn(s, "\r\n")] = '\0';
	if (*s == '\0') {
		*err = xasprintf("'%s' is empty", path);
		free(s);
		return NULL;
	}
	return s;
}

int
hx_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char	 *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

char *
hx_fmt_bytes(double v, char *out, size_t outlen)
{
	static const char units[] = "BKMGTPE";
	size_t		  u = 0;

	if (!(v >= 0)) {
		hx_strlcpy(out, "-", outlen);
		return out;
	}
	while (v >= 1000 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%.0fB", v);
	else if (v < 9.95)
		snprintf(out, outlen, "%.1f%c", v, units[u]);
	else
		snprintf(out, outlen, "%.0f%c", v, units[u]);
	return out;
}

/* --- terminal safety ------------------------------------------------------- */

int
hx_cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Decode one UTF-8 sequence at s: its length with *cp, or 0 when s does
 * not start a valid (shortest-form, non-surrogate) sequence.
 */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t	 n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

char *
hx_term_safe(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;
	uint32_t       cp;
	size_t	       n;

	while (*r != '\0') {
		/*
		 * A byte that is not UTF-8 is a C1 control to a terminal in
		 * an 8-bit charset (0x9b is CSI there): '?' as well.
		 */
		if ((n = utf8_decode(r, &cp)) == 0) {
			*w++ = '?';
			r++;
			continue;
		}
		if (hx_cp_unsafe(cp)) {
			*w++ = '?';
			r += n;
			continue;
		}
		memmove(w, r, n);
		w += n;
		r += n;
	}
	*w = '\0';
	return s;
}

char *
hx_json_term_safe(const char *json)
{
	const unsigned char *r = (const unsigned char *)json;
	struct hx_buf	     b;
	uint32_t	     cp;
	size_t		     n;

	hx_buf_init(&b, 0);
	while (*r != '\0') {
		if ((n = utf8_decode(r, &cp)) == 0)
			n = 1;
		else if (hx_cp_unsafe(cp) && cp >= 0x20) {
			hx_buf_addf(&b, "\\u%04x", (unsigned)cp);
			r += n;
			continue;
		}
		hx_buf_add(&b, r, n);
		r += n;
	}
	return hx_buf_detach(&b, NULL);
}

size_t
hx_json_dtoa(char *buf, double v)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
		1e9, 1e10, 1e11, 1e12, 1e13 };
	double		    a = fabs(v), r;
	long long	    m;
	int		    x, n, i;
	char		   *p = buf, *e, *s, *z, dig[10];
	size_t		    len;

	/*
	 * %.10g writes 1e-4 <= |v| < 1e10 without an exponent: the 10
	 * significant digits m of v, rounded, around a point placed by v's
	 * decimal exponent x. m is |v| * 10^(9 - x), a product of exact
	 * factors rounded once, so within about 1e-6 of the true one: unless
	 * it lies that close to a half (where printf's exact rounding could
	 * go the other way), rounding it gives printf's digits.
	 */
	if (a >= 1e-4 && a < 1e10) {
		for (x = 9; x > -4 && a < (x >= 0 ? p10[x] : 1 / p10[-x]); x--)
			;
		r = a * p10[9 - x];
		m = llround(r);
		if (fabs(r - floor(r) - 0.5) > 1e-5 && m >= 1000000000LL &&
		    m < 10000000000LL) {
			for (i = 9; i >= 0; i--, m /= 10)
				dig[i] = (char)('0' + m % 10);
			for (n = 10; n > 1 && dig[n - 1] == '0'; n--)
				;
			if (signbit(v))
				*p++ = '-';
			if (x < 0) {
				*p++ = '0';
				*p++ = '.';
				for (i = x + 1; i < 0; i++)
					*p++ = '0';
				memcpy(p, dig, (size_t)n);
				p += n;
			} else {
				memcpy(p, dig, (size_t)x + 1);
				p += x + 1;
				*p++ = '.';
				if (n > x + 1) {
					memcpy(p, dig + x + 1,
					    (size_t)(n - x - 1));
					p += n - x - 1;
				} else
					*p++ = '0';
			}
			*p = '\0';
			return (size_t)(p - buf);
		}
	}
	len = (size_t)snprintf(buf, HX_JSON_DTOA_MAX, "%.10g", v);
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	/* As jansson: "1e+20" -> "1e20", "1e-05" -> "1e-5". */
	if ((e = strchr(buf, 'e')) != NULL) {
		s = e + 1;
		z = s + 1;
		if (*s == '-')
			s++;
		while (*z == '0')
			z++;
		if (z != s) {
			memmove(s, z, len - (size_t)(z - buf) + 1);
			len -= (size_t)(z - s);
		}
	}
	return len;
}
