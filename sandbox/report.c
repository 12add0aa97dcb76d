/*
 * Formatting of sandbox scans (report.h).
 */
#include "report.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *
report_human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return buf;
	}
	/* Tenths of the unit, rounded to nearest, in integers: exact for
	 * every uint64. */
	uint64_t div = 1;
	for (;;) {
		u++;
		div *= 1024;
		uint64_t whole = n / div, rem = n % div;
		/* tenths = round(n * 10 / div); div <= 2^40, so rem * 10 fits */
		uint64_t tenths = whole * 10 + (rem * 10 + div / 2) / div;
		if ((tenths + 5) / 10 >= 1024 && u + 1 < ARRAY_SIZE(units))
			continue;
		if (tenths >= 1000)
			snprintf(buf, len, "%" PRIu64 " %s", (tenths + 5) / 10, units[u]);
		else
			snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10, tenths % 10,
			         units[u]);
		return buf;
	}
}

static void
report_oom(void)
{
	static const char msg[] = "spex: out of memory\n";
	(void)!write_all(2, msg, sizeof(msg) - 1);
	abort();
}

static cJSON *
chk(cJSON *item)
{
	if (!item)
		report_oom();
	return item;
}

static void
add_u64(cJSON *obj, const char *key, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, v);
	chk(cJSON_AddRawToObject(obj, key, num));
}

char *
report_json(const char *root, const struct scan_result *r)
{
	cJSON *o = chk(cJSON_CreateObject());
	char num[32];

	chk(cJSON_AddStringToObject(o, "schema", REPORT_SCHEMA));
	if (root)
		chk(cJSON_AddStringToObject(o, "root", root));
	else
		chk(cJSON_AddNullToObject(o, "root"));
	add_u64(o, "allocated_bytes", r->total_bytes);
	add_u64(o, "apparent_bytes", r->total_apparent);
	cJSON *cats = chk(cJSON_AddObjectToObject(o, "categories"));
	for (int c = 0; c < CAT_COUNT; c++) {
		cJSON *one = chk(cJSON_AddObjectToObject(cats, disk_cat_name(c)));
		add_u64(one, "bytes", r->bytes[c]);
		add_u64(one, "apparent_bytes", r->apparent[c]);
		add_u64(one, "files", r->files[c]);
	}
	add_u64(o, "entries", r->entries);
	add_u64(o, "dirs", r->dirs);
	add_u64(o, "vanished", r->vanished);
	add_u64(o, "errors", r->errors);
	if (r->first_error[0])
		chk(cJSON_AddStringToObject(o, "first_error", r->first_error));
	else
		chk(cJSON_AddNullToObject(o, "first_error"));
	add_u64(o, "mounts_skipped", r->mounts_skipped);
	add_u64(o, "hardlinks_deduped", r->hardlinks_deduped);
	chk(cJSON_AddBoolToObject(o, "truncated", r->truncated ? 1 : 0));
	snprintf(num, sizeof(num), "%" PRIu64 ".%03" PRIu64, r->scan_ns / 1000000,
	         r->scan_ns / 1000 % 1000);
	chk(cJSON_AddRawToObject(o, "scan_ms", num));

	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		report_oom();
	char *ret = xstrdup(text);
	cJSON_free(text);
	return ret;
}

char *
report_summary(const struct scan_result *r)
{
	char total[REPORT_HUMAN_MAX];
	int top[3], ntop = 0;

	report_human_bytes(r->total_bytes, total, sizeof(total));
	/* The three largest non-zero categories; ties keep enum order. */
	for (int k = 0; k < 3; k++) {
		int best = -1;
		for (int c = 0; c < CAT_COUNT; c++) {
			int taken = 0;
			for (int j = 0; j < ntop; j++)
				taken |= top[j] == c;
			if (taken || r->bytes[c] == 0)
				continue;
			if (best < 0 || r->bytes[c] > r->bytes[best])
				best = c;
		}
		if (best < 0)
			break;
		top[ntop++] = best;
	}
	if (ntop == 0)
		return xasprintf("disk %s", total);

	char parts[3][REPORT_HUMAN_MAX + 16];
	for (int j = 0; j < 3; j++)
		parts[j][0] = '\0';
	for (int j = 0; j < ntop; j++) {
		char h[REPORT_HUMAN_MAX];
		snprintf(parts[j], sizeof(parts[j]), "%s%s %s", j ? ", " : "",
		         disk_cat_name(top[j]), report_human_bytes(r->bytes[top[j]], h, sizeof(h)));
	}
	return xasprintf("disk %s: %s%s%s", total, parts[0], parts[1], parts[2]);
}

size_t
report_labels(const struct scan_result *r, struct report_label *out, size_t n)
{
	size_t k = 0;

	if (k < n) {
		snprintf(out[k].key, sizeof(out[k].key), "spex.disk.used_bytes");
		snprintf(out[k].value, sizeof(out[k].value), "%" PRIu64, r->total_bytes);
		k++;
	}
	for (int c = 0; c < CAT_COUNT && k < n; c++, k++) {
		snprintf(out[k].key, sizeof(out[k].key), "spex.disk.%s_bytes", disk_cat_name(c));
		snprintf(out[k].value, sizeof(out[k].value), "%" PRIu64, r->bytes[c]);
	}
	return k;
}
