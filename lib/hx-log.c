/*
 * hx-log.c - leveled, timestamped, escaped log lines (see hx-log.h).
 *
 * Thread-safe: each line is built whole and written with one fputs under
 * the stream's own lock, so lines from the collector and service threads
 * never interleave; the level and the format are atomics a reload may
 * change under running threads. It does not rotate or buffer; that is
 * syslog's (or the journal's) job.
 */
#include <sys/stat.h>

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "hx-log.h"

static const char *level_names[] = { "error", "warning", "info", "debug" };

static const char *log_ident = "horcrux";
static atomic_int  log_level = HX_LOG_INFO;
static atomic_int  log_format = HX_LOG_TEXT;
static FILE	  *log_stream;
static int	   log_syslog;
static int	   log_journal; /* the stream is the journal: "<N>msg" */

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

/*
 * systemd sets JOURNAL_STREAM=DEV:INO for the stream it connects stdout
 * and stderr to; a child whose stderr was redirected since inherits the
 * variable but not the stream, hence the comparison.
 */
static int
stream_is_journal(FILE *stream)
{
	const char	  *env = getenv("JOURNAL_STREAM");
	struct stat	   st;
	unsigned long long dev, ino;
	char		   tail;

	if (env == NULL || stream == NULL ||
	    sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2 ||
	    fstat(fileno(stream), &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
hx_log_open(const char *ident, enum hx_log_level level, FILE *stream)
{
	log_ident = ident;
	atomic_store(&log_level, (int)level);
	log_stream = stream;
	log_syslog = stream == NULL;
	log_journal = stream_is_journal(stream);
	if (log_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

int
hx_log_is_journal(void)
{
	return log_journal;
}

void
hx_log_set_level(enum hx_log_level level)
{
	atomic_store(&log_level, (int)level);
}

void
hx_log_set_format(enum hx_log_format format)
{
	atomic_store(&log_format, (int)format);
}

int
hx_log_enabled(enum hx_log_level level)
{
	return (int)level <=
	    atomic_load_explicit(&log_level, memory_order_relaxed);
}

/* hx_log_escape; high: also bytes >= 0x80 (not UTF-8 for JSON). */
static void
escape(const char *s, char *out, size_t outlen, int high)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char	      tmp[5];
		size_t	      n;

		if (c < 0x20 || c == 0x7f || c == '\\' || (high && c >= 0x80)) {
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
hx_log_escape(const char *s, char *out, size_t outlen)
{
	escape(s, out, outlen, 0);
}

/*
 * One JSON object, newline-terminated, into a malloc'd string (caller
 * frees). The message goes as it is when it is UTF-8 (JSON escapes
 * control characters); otherwise with every byte that is not ASCII
 * escaped, as jansson takes UTF-8 only.
 */
static char *
json_line(enum hx_log_level level, const char *ts, const char *msg)
{
	json_t *o = json_object(), *m;
	char	esc[4096], *text, *line;

	if ((m = json_string(msg)) == NULL) {
		escape(msg, esc, sizeof esc, 1);
		m = json_string(esc);
	}
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(level_names[level]));
	json_object_set_new(o, "program", json_string(log_ident));
	json_object_set_new(o, "pid", json_integer((json_int_t)getpid()));
	json_object_set_new(o, "msg", m != NULL ? m : json_string(""));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		return NULL;
	line = xasprintf("%s\n", text);
	free(text);
	return line;
}

void
hx_vlog(enum hx_log_level level, const char *fmt, va_list ap)
{
	/* syslog's numbers are also the journal's "<N>" priorities. */
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char		 msg[2048], esc[4096], ts[32], *line;
	FILE		*f;

	if (!hx_log_enabled(level))
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	f = log_stream != NULL ? log_stream : stderr;
	if (!log_syslog && atomic_load(&log_format) == HX_LOG_JSON) {
		if (hx_rfc3339_ms(hx_wall_ms(), ts, sizeof ts) != 0)
			ts[0] = '\0';
		if ((line = json_line(level, ts, msg)) == NULL)
			return;
		flockfile(f);
		fputs(line, f);
		fflush(f);
		funlockfile(f);
		free(line);
		return;
	}
	hx_log_escape(msg, esc, sizeof esc);
	if (log_syslog) {
		syslog(prio[level], "%s: %s", level_names[level], esc);
		return;
	}
	flockfile(f);
	if (log_journal)
		fprintf(f, "<%d>%s\n", prio[level], esc);
	else {
		if (hx_rfc3339_ms(hx_wall_ms(), ts, sizeof ts) != 0)
			ts[0] = '\0';
		fprintf(f, "%s %s[%ld]: %s: %s\n", ts, log_ident,
		    (long)getpid(), level_names[level], esc);
	}
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
