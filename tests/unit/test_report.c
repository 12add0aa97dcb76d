/* Scan reports: JSON schema and exact integers, human units, summary, labels. */
#include "harness.h"
#include "report.h"
#include "util.h"

#include <cjson/cJSON.h>

static const char *
human(uint64_t n)
{
	static char buf[REPORT_HUMAN_MAX];
	return report_human_bytes(n, buf, sizeof(buf));
}

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)
#define TIB (1024ULL * GIB)

TEST(human_units)
{
	CHECK_EQ_STR(human(0), "0 B");
	CHECK_EQ_STR(human(1), "1 B");
	CHECK_EQ_STR(human(1023), "1023 B");
	CHECK_EQ_STR(human(1024), "1.0 KiB");
	CHECK_EQ_STR(human(1536), "1.5 KiB");
	CHECK_EQ_STR(human(10 * KIB + 51), "10.0 KiB");
	CHECK_EQ_STR(human(10 * KIB + 52), "10.1 KiB"); /* 10.0508 -> 10.1 */
	CHECK_EQ_STR(human(99 * KIB + 920), "99.9 KiB");
	CHECK_EQ_STR(human(99 * KIB + 1000), "100 KiB"); /* 99.98 rounds to 100 */
	CHECK_EQ_STR(human(516 * KIB), "516 KiB");
	CHECK_EQ_STR(human(1023 * KIB), "1023 KiB");
	CHECK_EQ_STR(human(1024 * KIB - 1), "1.0 MiB"); /* would print as 1024 KiB */
	CHECK_EQ_STR(human(900 * MIB), "900 MiB");
	CHECK_EQ_STR(human(210 * MIB), "210 MiB");
	CHECK_EQ_STR(human(GIB + GIB / 5), "1.2 GiB");
	CHECK_EQ_STR(human(12 * GIB + 3 * GIB / 10 + 1), "12.3 GiB");
	CHECK_EQ_STR(human(TIB), "1.0 TiB");
	CHECK_EQ_STR(human(5000 * TIB), "5000 TiB");
	CHECK_EQ_STR(human(UINT64_MAX), "16777216 TiB");
	char small[4];
	report_human_bytes(123456, small, sizeof(small)); /* truncated, terminated */
	CHECK_EQ_INT(strlen(small), 3);
}

static void
fill(struct scan_result *r)
{
	memset(r, 0, sizeof(*r));
	r->bytes[CAT_SHUFFLE] = 900 * MIB;
	r->bytes[CAT_LOGS] = 210 * MIB;
	r->bytes[CAT_DIST] = 250 * MIB;
	r->bytes[CAT_OTHER] = 4096;
	r->apparent[CAT_SHUFFLE] = 900 * MIB - 7;
	r->files[CAT_SHUFFLE] = 200000;
	r->files[CAT_LOGS] = 3;
	for (int c = 0; c < CAT_COUNT; c++) {
		r->total_bytes += r->bytes[c];
		r->total_apparent += r->apparent[c];
	}
	r->entries = 200100;
	r->dirs = 66;
	r->scan_ns = 123456789;
}

static cJSON *
parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	CHECK(j != NULL);
	return j;
}

static uint64_t
raw_u64(const char *text, const char *key)
{
	/* The exact digits, from the text (cJSON parses into a double). */
	char needle[64];
	snprintf(needle, sizeof(needle), "\"%s\":", key);
	const char *p = strstr(text, needle);
	if (!p)
		return 0;
	return strtoull(p + strlen(needle), NULL, 10);
}

TEST(json_schema)
{
	struct scan_result r;
	fill(&r);
	_cleanup_free_ char *text = report_json("/var/lib/mesos/sandbox", &r);
	cJSON *j = parse(text);
	if (!j)
		return;
	CHECK(strchr(text, '\n') == NULL); /* compact */
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "schema")), "spex.disk/1");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "root")),
	             "/var/lib/mesos/sandbox");
	static const char *const keys[] = {"allocated_bytes",
	                                   "apparent_bytes",
	                                   "categories",
	                                   "entries",
	                                   "dirs",
	                                   "vanished",
	                                   "errors",
	                                   "first_error",
	                                   "mounts_skipped",
	                                   "hardlinks_deduped",
	                                   "truncated",
	                                   "scan_ms"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!cJSON_HasObjectItem(j, keys[i]))
			HARNESS_FAIL("missing key %s", keys[i]);
	}
	CHECK_EQ_INT(raw_u64(text, "allocated_bytes"), r.total_bytes);
	CHECK_EQ_INT(raw_u64(text, "apparent_bytes"), r.total_apparent);
	CHECK_EQ_INT(raw_u64(text, "entries"), 200100);
	CHECK_EQ_INT(raw_u64(text, "dirs"), 66);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "first_error")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "truncated")));
	CHECK(strstr(text, "\"scan_ms\":123.456") != NULL);

	cJSON *cats = cJSON_GetObjectItem(j, "categories");
	CHECK(cJSON_IsObject(cats));
	CHECK_EQ_INT(cJSON_GetArraySize(cats), CAT_COUNT);
	int i = 0;
	cJSON *c;
	cJSON_ArrayForEach(c, cats)
	{
		/* Every category, in enum order, with the three counters. */
		CHECK_EQ_STR(c->string, disk_cat_name(i));
		CHECK(cJSON_IsNumber(cJSON_GetObjectItem(c, "bytes")));
		CHECK(cJSON_IsNumber(cJSON_GetObjectItem(c, "apparent_bytes")));
		CHECK(cJSON_IsNumber(cJSON_GetObjectItem(c, "files")));
		i++;
	}
	cJSON *sh = cJSON_GetObjectItem(cats, "shuffle");
	CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(sh, "bytes")), 900 * MIB);
	CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(sh, "apparent_bytes")),
	             900 * MIB - 7);
	CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(sh, "files")), 200000);
	cJSON_Delete(j);
}

TEST(json_exact_u64)
{
	struct scan_result r;
	memset(&r, 0, sizeof(r));
	r.total_bytes = UINT64_MAX;
	r.total_apparent = (1ULL << 53) + 1; /* not representable as a double */
	r.bytes[CAT_SHUFFLE] = UINT64_MAX - 1;
	r.files[CAT_BLOCKS] = 9007199254740993ULL;
	_cleanup_free_ char *text = report_json(NULL, &r);
	CHECK(strstr(text, "\"allocated_bytes\":18446744073709551615,") != NULL);
	CHECK(strstr(text, "\"apparent_bytes\":9007199254740993,") != NULL);
	CHECK(strstr(text, "\"shuffle\":{\"bytes\":18446744073709551614,") != NULL);
	CHECK(strstr(text, "\"files\":9007199254740993}") != NULL);
	CHECK(strstr(text, "\"root\":null") != NULL);
	cJSON *j = parse(text);
	cJSON_Delete(j);
}

TEST(json_errors_and_escaping)
{
	struct scan_result r;
	fill(&r);
	r.errors = 2;
	r.truncated = 1;
	r.mounts_skipped = 1;
	snprintf(r.first_error, sizeof(r.first_error), "a \"b\"\n/c: Permission denied");
	_cleanup_free_ char *text = report_json("/sand\"box\n", &r);
	cJSON *j = parse(text);
	if (!j)
		return;
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "first_error")),
	             "a \"b\"\n/c: Permission denied");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "root")), "/sand\"box\n");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "truncated")));
	CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "errors")), 2);
	CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "mounts_skipped")), 1);
	cJSON_Delete(j);
}

TEST(summary)
{
	struct scan_result r;
	fill(&r);
	_cleanup_free_ char *s = report_summary(&r);
	CHECK_EQ_STR(s, "disk 1.3 GiB: shuffle 900 MiB, dist 250 MiB, logs 210 MiB");

	memset(&r, 0, sizeof(r));
	_cleanup_free_ char *empty = report_summary(&r);
	CHECK_EQ_STR(empty, "disk 0 B");

	r.bytes[CAT_SPEX] = 4096;
	r.total_bytes = 4096;
	_cleanup_free_ char *one = report_summary(&r);
	CHECK_EQ_STR(one, "disk 4.0 KiB: spex 4.0 KiB");

	r.bytes[CAT_DUMPS] = 4096; /* a tie keeps enum order */
	r.total_bytes = 8192;
	_cleanup_free_ char *two = report_summary(&r);
	CHECK_EQ_STR(two, "disk 8.0 KiB: dumps 4.0 KiB, spex 4.0 KiB");
}

TEST(labels)
{
	struct scan_result r;
	struct report_label l[REPORT_LABELS];
	fill(&r);
	r.bytes[CAT_BLOCKS] = UINT64_MAX;
	CHECK_EQ_INT(report_labels(&r, l, ARRAY_SIZE(l)), 1 + CAT_COUNT);
	CHECK_EQ_STR(l[0].key, "spex.disk.used_bytes");
	char want[32];
	snprintf(want, sizeof(want), "%" PRIu64, r.total_bytes);
	CHECK_EQ_STR(l[0].value, want);
	CHECK_EQ_STR(l[1].key, "spex.disk.shuffle_bytes");
	CHECK_EQ_STR(l[1].value, "943718400");
	CHECK_EQ_STR(l[2].key, "spex.disk.blocks_bytes");
	CHECK_EQ_STR(l[2].value, "18446744073709551615");
	CHECK_EQ_STR(l[3].key, "spex.disk.spark_temp_bytes");
	CHECK_EQ_STR(l[8].key, "spex.disk.other_bytes");
	CHECK_EQ_STR(l[8].value, "4096");
	CHECK_EQ_INT(report_labels(&r, l, 2), 2);
	CHECK_EQ_INT(report_labels(&r, l, 0), 0);
}

int
main(void)
{
	RUN(human_units);
	RUN(json_schema);
	RUN(json_exact_u64);
	RUN(json_errors_and_escaping);
	RUN(summary);
	RUN(labels);
	return harness_done();
}
