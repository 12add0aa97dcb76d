#include "error.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
spx_error_set(struct spx_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	free(err->msg);
	if (errnum) {
		err->msg = xasprintf("%s: %s", msg, strerror(errnum));
		free(msg);
	} else {
		err->msg = msg;
	}
	err->errnum = errnum;
	return -1;
}

int
spx_error_wrap(struct spx_error *err, const char *fmt, ...)
{
	va_list ap;
	char *ctx;

	if (!err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *msg = xasprintf("%s: %s", ctx, spx_error_msg(err));
	free(ctx);
	free(err->msg);
	err->msg = msg;
	return -1;
}

const char *
spx_error_msg(const struct spx_error *err)
{
	return err && err->msg ? err->msg : "unknown error";
}

void
spx_error_clear(struct spx_error *err)
{
	if (!err)
		return;
	free(err->msg);
	err->msg = NULL;
	err->errnum = 0;
}
