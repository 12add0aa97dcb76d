/*
 * One line per event on stderr, key=value:
 *
 *	ts=2026-11-24T07:31:02.123Z level=info event=launch task=3 pid=4242
 *
 * The agent keeps the executor's stderr in the sandbox, so this is the
 * operator's record of what happened. Values that contain spaces, quotes or
 * control characters are quoted with log_quote(). The authentication token is
 * never passed to the logger.
 */
#ifndef EXECUTOR_CORE_LOG_H
#define EXECUTOR_CORE_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below this level are dropped (SPEX_LOG_LEVEL=debug|info|warn|error). */
void log_set_level(enum log_level lvl);
int log_level_parse(const char *s, enum log_level *ret);

/* Log "event=<event> " followed by the formatted key=value pairs. Preserves errno. */
void log_event(enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_event(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)

/* Render s as a log value into buf (size n): unchanged when it is a plain
 * token, else double-quoted with \" \\ \n \t and \xNN escapes; truncated with
 * "..." when it does not fit. Returns buf. NULL renders as "-". */
const char *log_quote(char *buf, size_t n, const char *s);

/* Convenience: quote into a per-call-site static buffer (single-threaded use). */
#define LOGQ(s)                                                                                    \
	({                                                                                         \
		static char _qb[512];                                                              \
		log_quote(_qb, sizeof(_qb), (s));                                                  \
	})

#endif /* EXECUTOR_CORE_LOG_H */
