/*
 * JSON output helpers (jsonout.h).
 */
#include "jsonout.h"
#include "utf8.h"
#include "cli.h"
#include "clock.h"
#include "sandbox_state.h"
#include "util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cJSON *
jo_chk(cJSON *item)
{
	if (!item) {
		static const char msg[] = "spex: out of memory\n";
		(void)!write_all(2, msg, sizeof(msg) - 1);
		abort();
	}
	return item;
}

cJSON *
jo_object(void)
{
	return jo_chk(cJSON_CreateObject());
}

cJSON *
jo_add_object(cJSON *o, const char *key)
{
	return jo_chk(cJSON_AddObjectToObject(o, key));
}

cJSON *
jo_add_array(cJSON *o, const char *key)
{
	return jo_chk(cJSON_AddArrayToObject(o, key));
}

cJSON *
jo_push_object(cJSON *arr)
{
	cJSON *o = jo_object();
	if (!cJSON_AddItemToArray(arr, o))
		jo_chk(NULL);
	return o;
}

void
jo_u64(cJSON *o, const char *key, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, v);
	jo_chk(cJSON_AddRawToObject(o, key, num));
}

void
jo_int(cJSON *o, const char *key, int64_t v)
{
	char num[24];
	if (v == STATE_NONE) {
		jo_chk(cJSON_AddNullToObject(o, key));
		return;
	}
	snprintf(num, sizeof(num), "%" PRId64, v);
	jo_chk(cJSON_AddRawToObject(o, key, num));
}

void
jo_num(cJSON *o, const char *key, double v)
{
	if (isnan(v))
		jo_chk(cJSON_AddNullToObject(o, key));
	else
		jo_chk(cJSON_AddNumberToObject(o, key, v));
}

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

char *
jo_utf8(const char *s, size_t max)
{
	size_t len = strlen(s), at = 0;
	char *out = xmalloc(3 * len + 1);

	for (const char *p = s; *p;) {
		uint32_t cp;
		size_t n = utf8_decode(p, &cp);
		const char *src = n ? p : REPLACEMENT;
		size_t w = n ? n : 3;
		if (max > 0 && at + w + 1 > max)
			break;
		memcpy(out + at, src, w);
		at += w;
		p += n ? n : 1;
	}
	out[at] = '\0';
	return out;
}

void
jo_str(cJSON *o, const char *key, const char *s)
{
	if (!s) {
		jo_chk(cJSON_AddNullToObject(o, key));
		return;
	}
	_cleanup_free_ char *valid = jo_utf8(s, 0);
	jo_chk(cJSON_AddStringToObject(o, key, valid));
}

void
jo_bool(cJSON *o, const char *key, int b)
{
	jo_chk(cJSON_AddBoolToObject(o, key, b ? 1 : 0));
}

void
jo_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];
	if (ms == STATE_NONE || !clock_rfc3339_range(ms))
		jo_chk(cJSON_AddNullToObject(o, key));
	else
		jo_chk(cJSON_AddStringToObject(o, key, clock_format_rfc3339(ms, buf, sizeof(buf))));
}

void
jo_secs(cJSON *o, const char *key, int64_t ms)
{
	jo_int(o, key, ms == STATE_NONE ? STATE_NONE : ms / 1000);
}

void
jo_categories(cJSON *o, const char *key, const uint64_t bytes[CAT_COUNT])
{
	cJSON *c = jo_add_object(o, key);
	for (int i = 0; i < CAT_COUNT; i++)
		jo_u64(c, disk_cat_name(i), bytes[i]);
}

void
jo_print(cJSON *o, FILE *f)
{
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		jo_chk(NULL); /* out of memory: aborts */
	fputs(text, f);
	fputc('\n', f);
	cJSON_free(text);
}
