/*
 * tap.h - a minimal Test Anything Protocol producer for the C unit tests.
 *
 * Header-only so each tests/unit/test-*.c is one file. Prints "ok N - name"
 * or "not ok N - name" with a diagnostic, then the plan at the end; exit
 * status is the number of failures (capped), so a crash or a missing plan
 * also counts as failure in tests/run.
 */
#ifndef HX_TAP_H
#define HX_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static void __attribute__((format(printf, 4, 5)))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

#define is_int(got, want, ...) \
	do { \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		ok(g_ == w_, __VA_ARGS__); \
		if (g_ != w_) \
			printf("#   got %lld, want %lld\n", g_, w_); \
	} while (0)

/* Out of line so gcc's format checker does not guess at NULLs (-O1). */
static __attribute__((noinline)) const char *
tap_s(const char *s)
{
	return s != NULL ? s : "(null)";
}

#define is_str(got, want, ...) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		int	    same_ = (g_ == NULL && w_ == NULL) || \
		    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0); \
		ok(same_, __VA_ARGS__); \
		if (!same_) \
			printf("#   got '%s', want '%s'\n", tap_s(g_), \
			    tap_s(w_)); \
	} while (0)

#define is_near(got, want, eps, ...) \
	do { \
		double g_ = (got), w_ = (want); \
		ok(fabs(g_ - w_) <= (eps), __VA_ARGS__); \
		if (!(fabs(g_ - w_) <= (eps))) \
			printf("#   got %.6f, want %.6f\n", g_, w_); \
	} while (0)

static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed > 100 ? 100 : tap_failed;
}

#endif
