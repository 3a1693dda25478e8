/*
 * hx-log.c - leveled, timestamped, escaped log lines (see hx-log.h).
 *
 * Thread-safe: each line is built whole and written with one fputs under
 * the stream's own lock, so lines from the collector and service threads
 * never interleave. It does not rotate or buffer; that is syslog's job.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "hx-log.h"

static const char *level_names[] = { "error", "warning", "info", "debug" };

static const char *log_ident = "horcrux";
static int	   log_level = HX_LOG_INFO;
static FILE	  *log_stream;
static int	   log_syslog;

int
hx_log_level_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < HX_ARRAY_SIZE(level_names); i++) {
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

const char *
hx_log_level_name(enum hx_log_level level)
{
	if ((size_t)level >= HX_ARRAY_SIZE(level_names))
		return "unknown";
	return level_names[level];
}

void
hx_log_open(const char *ident, enum hx_log_level level, FILE *stream)
{
	log_ident = ident;
	log_level = level;
	log_stream = stream;
	log_syslog = stream == NULL;
	if (log_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

int
hx_log_enabled(enum hx_log_level level)
{
	return (int)level <= log_level;
}

void
hx_log_escape(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char	      tmp[5];
		size_t	      n;

		if (c < 0x20 || c == 0x7f || c == '\\') {
			if (c == '\\')
				memcpy(tmp, "\\\\", 3);
			else
				snprintf(tmp, sizeof tmp, "\\x%02x", c);
			n = strlen(tmp);
		} else {
			tmp[0] = (char)c;
			tmp[1] = '\0';
			n = 1;
		}
		if (o + n >= outlen)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
}

void
hx_vlog(enum hx_log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char		 msg[2048], esc[4096], ts[32];
	FILE		*f;

	if (!hx_log_enabled(level))
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	hx_log_escape(msg, esc, sizeof esc);
	if (log_syslog) {
		syslog(prio[level], "%s: %s", level_names[level], esc);
		return;
	}
	f = log_stream != NULL ? log_stream : stderr;
	if (hx_rfc3339_ms(hx_wall_ms(), ts, sizeof ts) != 0)
		ts[0] = '\0';
	flockfile(f);
	fprintf(f, "%s %s[%ld]: %s: %s\n", ts, log_ident, (long)getpid(),
	    level_names[level], esc);
	fflush(f);
	funlockfile(f);
}

void
hx_log(enum hx_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hx_vlog(level, fmt, ap);
	va_end(ap);
}
