/*
 * One error convention for all of spex.
 *
 * A fallible function takes `struct spx_error *err` as its last argument and
 * returns a negative value (or NULL) on failure, after filling *err with an
 * errno (0 if none applies) and a one-line message. Callers add context with
 * spx_error_wrap() ("launch: exec '/x': No such file or directory") and the
 * top level either logs the message or puts it into a TaskStatus.message, so
 * the words an operator sees are the words written here. Only the top level
 * (main loop, CLI) logs; modules return errors.
 */
#ifndef EXECUTOR_CORE_ERROR_H
#define EXECUTOR_CORE_ERROR_H

struct spx_error {
	int errnum; /* errno of the root cause, 0 if none */
	char *msg;  /* owned, one line; NULL when no error is set */
};

/* Set *err (replacing any previous error) from a printf format; if errnum is
 * non-zero ": strerror(errnum)" is appended. Always returns -1. */
int spx_error_set(struct spx_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the current message with "<context>: ". Returns -1. */
int spx_error_wrap(struct spx_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message, or "unknown error" if none is set; never NULL. */
const char *spx_error_msg(const struct spx_error *err);

/* Release the message; the struct may be reused. NULL-safe. */
void spx_error_clear(struct spx_error *err);

#endif /* EXECUTOR_CORE_ERROR_H */
