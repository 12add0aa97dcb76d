/*
 * Small helpers shared by every module: allocation that aborts on failure,
 * scope-bound cleanup, monotonic and wall clocks.
 */
#ifndef EXECUTOR_CORE_UTIL_H
#define EXECUTOR_CORE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NSEC_PER_SEC  1000000000LL
#define NSEC_PER_MSEC 1000000LL

/* Allocation never fails: out of memory aborts (a half-working executor that
 * silently drops a status update is worse than a crash the agent reports). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Cleanup attributes: the variable is released when it leaves scope. */
void util_freep(void *p);
void util_closep(int *fd);
#define _cleanup_free_  __attribute__((cleanup(util_freep)))
#define _cleanup_close_ __attribute__((cleanup(util_closep)))

/* Hand ownership on: returns the value and resets the variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

/* Nanoseconds on CLOCK_MONOTONIC (timers, latencies). */
int64_t now_mono_ns(void);
/* Seconds since the epoch as a double (TaskStatus.timestamp). */
double now_wall_secs(void);

/* Write all of buf to fd, retrying on EINTR and short writes. 0 or -1/errno. */
int write_all(int fd, const void *buf, size_t len);

#endif /* EXECUTOR_CORE_UTIL_H */
