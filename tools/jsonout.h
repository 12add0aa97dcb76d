/*
 * Building the CLI's JSON documents with cJSON: typed adders that map the
 * state reader's nulls (STATE_NONE, NULL, NAN) to JSON null, and printing.
 * Strings are made valid UTF-8 on the way in (jo_utf8): JSON text must be
 * UTF-8 and cJSON copies any byte through. Out of memory aborts, like
 * xmalloc.
 */
#ifndef TOOLS_JSONOUT_H
#define TOOLS_JSONOUT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scan.h"

/* Abort on a NULL from cJSON; returns item otherwise. */
cJSON *jo_chk(cJSON *item);

cJSON *jo_object(void);
cJSON *jo_add_object(cJSON *o, const char *key);
cJSON *jo_add_array(cJSON *o, const char *key);
/* A new object appended to the array arr. */
cJSON *jo_push_object(cJSON *arr);

/* An exact unsigned integer (no trip through a double). */
void jo_u64(cJSON *o, const char *key, uint64_t v);
/* An integer, or null for STATE_NONE. */
void jo_int(cJSON *o, const char *key, int64_t v);
/* A number, or null for NAN. */
void jo_num(cJSON *o, const char *key, double v);
/* A string (through jo_utf8), or null for NULL. */
void jo_str(cJSON *o, const char *key, const char *s);

/*
 * s as valid UTF-8, malloc'd: every byte that does not belong to a valid
 * sequence (utf8_decode: stray bytes, overlong forms, surrogates,
 * beyond U+10FFFF, a truncated end) becomes U+FFFD, a file name of another
 * encoding stays recognisable. With max > 0 the result, its NUL included,
 * fits in max bytes, cut between code points. Pure.
 */
char *jo_utf8(const char *s, size_t max);
void jo_bool(cJSON *o, const char *key, int b);
/* An RFC 3339 time from ms since the epoch, or null for STATE_NONE and
 * outside the years 0000-9999 (a file's mtime may be anything). */
void jo_time(cJSON *o, const char *key, int64_t ms);
/* Whole seconds from ms, or null for STATE_NONE. */
void jo_secs(cJSON *o, const char *key, int64_t ms);

/* The allocated bytes of a scan by category: {"shuffle": N, ...}. */
void jo_categories(cJSON *o, const char *key, const uint64_t bytes[CAT_COUNT]);

/* Print o compactly and a newline to f, then delete it. */
void jo_print(cJSON *o, FILE *f);

#endif /* TOOLS_JSONOUT_H */
