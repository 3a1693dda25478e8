/*
 * hx-log.h - leveled log lines with timestamps and escaped control chars.
 *
 * The one place in lib/ that writes anywhere, and only where the program
 * pointed it: a stream (stderr in the foreground) or syslog (daemonized).
 * A stream gets one of three forms:
 *
 *   text     "2025-10-12T10:30:45.123Z horcruxd[123]: warning: message"
 *   journal  "<4>message": the stream is systemd's journal (JOURNAL_STREAM
 *            names its device and inode), which stamps time, program and
 *            pid itself and reads the sd-daemon priority prefix
 *   json     {"ts":"2025-10-12T10:30:45.123Z","level":"warning",
 *            "program":"horcruxd","pid":123,"msg":"message"}, one object a
 *            line for log shippers (chosen, so it wins over journal)
 *
 * Control characters in messages (a peer's name, a path) are written as
 * \xNN in text and journal lines so a log line can never forge another;
 * JSON escapes them itself.
 */
#ifndef HX_LOG_H
#define HX_LOG_H

#include <stdio.h>

#include "hx-util.h"

enum hx_log_level {
	HX_LOG_ERROR,
	HX_LOG_WARNING,
	HX_LOG_INFO,
	HX_LOG_DEBUG
};

enum hx_log_format {
	HX_LOG_TEXT,
	HX_LOG_JSON
};

/* Name to level ("error", "warning", "info", "debug"); -1 if unknown. */
int	    hx_log_level_from_name(const char *name);
const char *hx_log_level_name(enum hx_log_level level);

/*
 * Send lines of at most `level` to stream (NULL: syslog) as `ident`, as
 * text, or as journal lines when JOURNAL_STREAM ("DEV:INO") names the
 * stream's file (systemd's documented test: fstat of the descriptor).
 */
void hx_log_open(const char *ident, enum hx_log_level level, FILE *stream);
/* Did hx_log_open find the stream to be the journal? */
int hx_log_is_journal(void);
/*
 * Change the level or the stream's format while other threads log (a
 * reload): each line reads both once. JSON applies to a stream only;
 * syslog keeps its own form.
 */
void hx_log_set_level(enum hx_log_level level);
void hx_log_set_format(enum hx_log_format format);
int  hx_log_enabled(enum hx_log_level level);

void hx_log(enum hx_log_level level, const char *fmt, ...) HX_PRINTF(2, 3);
void hx_vlog(enum hx_log_level level, const char *fmt, va_list ap)
    HX_PRINTF(2, 0);

/*
 * Escape control characters and backslashes of s into out (NUL-terminated,
 * truncated to outlen). Exposed for tests and for callers that quote names.
 */
void hx_log_escape(const char *s, char *out, size_t outlen);

#define log_error(...) hx_log(HX_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) hx_log(HX_LOG_WARNING, __VA_ARGS__)
#define log_info(...) hx_log(HX_LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { \
		if (hx_log_enabled(HX_LOG_DEBUG)) \
			hx_log(HX_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
