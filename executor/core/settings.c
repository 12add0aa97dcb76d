#include "settings.h"
#include "utf8.h"
#include "disk_policy.h"
#include "duration.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longer SPEX_CGROUP_ROOT values do not fit struct cgroup_config.root. */
#define SETTING_PATH_MAX 256

static const char *const w_content_type[] = {"application/x-protobuf", "application/json", NULL};
static const char *const w_log_level[] = {"debug", "info", "warn", "error", NULL};
static const char *const w_on_off[] = {"on", "off", NULL};
static const char *const w_1_0[] = {"1", "0", NULL};
static const char *const w_bool[] = {"1", "0", "true", "false", NULL};
static const char *const w_cleanup[] = {"spark", "none", NULL};
static const char *const w_cgroups[] = {"auto", "required", "off", NULL};
static const char *const w_backend[] = {"libcgroup", "cgroupfs", NULL};

const struct setting settings_table[] = {
    /* The agent connection (core/config.c). */
    {"SPEX_CONTENT_TYPE", "content_type", SK_CHOICE, w_content_type, "application/x-protobuf",
     "application/x-protobuf", "media type", 0,
     "the executor API encoding: protobuf, or Mesos' JSON mapping"},
    {"SPEX_ACK_TIMEOUT", "ack_timeout", SK_DURATION, NULL, "60secs", "60secs", "duration", 0,
     "how long to wait for the last ACKNOWLEDGED before exiting anyway"},
    /* The executor's own log (main.c). */
    {"SPEX_LOG_LEVEL", "log_level", SK_CHOICE, w_log_level, "info", "info", "level", 0,
     "the lowest level of the executor's own log lines"},
    /* Disk usage, limits, cleanup and log capping (core/disk_policy.c). */
    {"SPEX_DISK", "disk", SK_SWITCH, w_on_off, "on", "on", "on/off", 0,
     "off: no sandbox scans, disk reports or disk limits"},
    {"SPEX_DISK_TRACK", "disk_track", SK_SWITCH, w_on_off, "on", "on", "on/off", 0,
     "inotify tracking between scans; off: full scans only"},
    {"SPEX_DISK_INTERVAL", "disk_interval", SK_DURATION, NULL, "10secs", "10secs", "duration",
     100 * NSEC_PER_MSEC, "how often the sandbox is measured while a task runs (at least 100ms)"},
    {"SPEX_DISK_LIMIT", "disk_limit", SK_SIZE, NULL, NULL, "none", "bytes", 0,
     "the disk limit when no task asks for a disk resource (Spark never does)"},
    {"SPEX_DISK_SOFT_RATIO", "disk_soft_ratio", SK_RATIO, NULL, "0.9", "0.9", "ratio", 0,
     "usage above this fraction of the limit sends one warning update"},
    {"SPEX_MIN_FREE_BYTES", "min_free_bytes", SK_SIZE, NULL, "512M", "512M", "bytes", 0,
     "a launch fails when the sandbox filesystem has less free space; 0 disables"},
    {"SPEX_MIN_FREE_INODES", "min_free_inodes", SK_COUNT, NULL, "10000", "10000", "inodes", 0,
     "a launch fails when the sandbox filesystem has fewer free inodes; 0 disables"},
    {"SPEX_CLEANUP", "cleanup", SK_CHOICE, w_cleanup, "spark", "spark", "spark/none", 0,
     "spark: remove Spark's block-manager and temp dirs at the end; none: leave them"},
    {"SPEX_KEEP_SHUFFLE", "keep_shuffle", SK_SWITCH, w_1_0, "0", "0", "1/0", 0,
     "1: keep shuffle files at cleanup (for an external shuffle service)"},
    {"SPEX_LOG_HEAD", "log_head", SK_SIZE, NULL, "4M", "4M", "bytes", 0,
     "bytes kept from the start of the task's stdout and of its stderr"},
    {"SPEX_LOG_TAIL", "log_tail", SK_SIZE, NULL, "32M", "32M", "bytes", 0,
     "most recent bytes kept of stdout and of stderr; 0 turns capping off"},
    /* Per-task cgroups (cgroup.c). */
    {"SPEX_CGROUPS", "cgroups", SK_CHOICE, w_cgroups, "auto", "auto", "auto/required/off", 0,
     "auto: a cgroup per task when possible; required: fail the task otherwise; off"},
    {"SPEX_CPU_HARD_LIMIT", "cpu_hard_limit", SK_SWITCH, w_bool, "0", "0", "1/0", 0,
     "1: add a CFS quota of the task's cpus (as Mesos' --cgroups_enable_cfs)"},
    {"SPEX_CGROUPS_LIMIT_SWAP", "cgroups_limit_swap", SK_SWITCH, w_bool, "0", "0", "1/0", 0,
     "1: also limit memory+swap (cgroup v1 memory.memsw, where present)"},
    {"SPEX_PIDS_MAX", "pids_max", SK_COUNT, NULL, "32768", "32768", "processes", 0,
     "pids.max of each task's cgroup; 0: no limit"},
    {"SPEX_CGROUP_ROOT", "cgroup_root", SK_PATH, NULL, "/sys/fs/cgroup", "/sys/fs/cgroup", "path",
     0, "where the cgroup hierarchies are mounted"},
    {"SPEX_CGROUP_BACKEND", "cgroup_backend", SK_CHOICE, w_backend, NULL,
     "libcgroup for v1 at /sys/fs/cgroup, else cgroupfs", "libcgroup/cgroupfs", 0,
     "cgroupfs: write cgroup v1 files directly instead of through libcgroup"},
};

const size_t settings_count = ARRAY_SIZE(settings_table);

const struct setting *
settings_by_env(const char *env)
{
	for (size_t i = 0; i < settings_count; i++)
		if (strcmp(settings_table[i].env, env) == 0)
			return &settings_table[i];
	return NULL;
}

const struct setting *
settings_by_key(const char *key)
{
	for (size_t i = 0; i < settings_count; i++)
		if (strcmp(settings_table[i].key, key) == 0)
			return &settings_table[i];
	return NULL;
}

static int
is_word(const struct setting *s, const char *text)
{
	for (const char *const *w = s->words; *w; w++)
		if (strcmp(*w, text) == 0)
			return 1;
	return 0;
}

/* "a, b or c" (q: "\"a\", \"b\" or \"c\"") into buf; the table's words are short. */
static const char *
word_list(const struct setting *s, int q, char *buf, size_t size)
{
	size_t n = 0, len = 0;

	while (s->words[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		len += (size_t)snprintf(buf + len, size - len, q ? "%s\"%s\"" : "%s%s", sep,
		                        s->words[i]);
	}
	return buf;
}

int
settings_parse_count(const char *text, uint64_t *ret, struct spx_error *err)
{
	uint64_t n = 0;

	/* Not strtoull: it skips leading spaces and takes a sign, so " -1"
	 * would read as 2^64-1. */
	if (!text || *text < '0' || *text > '9')
		return spx_error_set(err, 0, "expected a number (digits only), got '%s'",
		                     text ? text : "");
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return spx_error_set(err, 0, "expected a number (digits only), got '%s'",
			                     text);
		unsigned d = (unsigned)(*p - '0');
		if (n > (UINT64_MAX - d) / 10)
			return spx_error_set(err, 0,
			                     "expected a number up to %" PRIu64 ", got '%s'",
			                     UINT64_MAX, text);
		n = n * 10 + d;
	}
	*ret = n;
	return 0;
}

/* The rule of disk_policy.c for SPEX_DISK_SOFT_RATIO. */
static int
check_ratio(const char *text, struct spx_error *err)
{
	char *end;
	double r = strtod(text, &end);
	if (*end || !(r > 0 && r <= 1))
		return spx_error_set(err, 0, "expected a number in (0, 1], got '%s'", text);
	return 0;
}

static int
check_duration(const struct setting *s, const char *text, struct spx_error *err)
{
	int64_t ns;
	char min[32];

	if (duration_parse(text, &ns, err) < 0)
		return -1;
	if (ns < s->min_ns)
		return spx_error_set(err, 0, "at least %s, got '%s'",
		                     duration_format(s->min_ns, min, sizeof(min)), text);
	return 0;
}

/* setting_check() of valid UTF-8 text; the message not yet made one line. */
static int
check_kind(const struct setting *s, const char *text, struct spx_error *err)
{
	uint64_t bytes, count;
	char words[256];

	switch (s->kind) {
	case SK_DURATION:
		return check_duration(s, text, err);
	case SK_SIZE:
		return parse_bytes(text, &bytes, err);
	case SK_COUNT:
		return settings_parse_count(text, &count, err);
	case SK_RATIO:
		return check_ratio(text, err);
	case SK_CHOICE:
	case SK_SWITCH:
		if (is_word(s, text))
			return 0;
		return spx_error_set(err, 0, "expected %s, got '%s'",
		                     word_list(s, 0, words, sizeof(words)), text);
	case SK_PATH:
		if (text[0] != '/' || strlen(text) >= SETTING_PATH_MAX)
			return spx_error_set(err, 0,
			                     "expected an absolute path (under %d bytes), got '%s'",
			                     SETTING_PATH_MAX, text);
		return 0;
	}
	return spx_error_set(err, 0, "unknown setting kind");
}

int
setting_check(const struct setting *s, const char *text, struct spx_error *err)
{
	if (!text || !*text)
		return 0;
	if (!utf8_valid(text, strlen(text), NULL)) {
		spx_error_set(err, 0, "expected valid UTF-8, got '%s'", text);
		return settings_one_line(err);
	}
	if (check_kind(s, text, err) < 0)
		return settings_one_line(err);
	return 0;
}

const char *
setting_expected(const struct setting *s)
{
	static char buf[320];
	char words[256];

	switch (s->kind) {
	case SK_DURATION:
		return "a duration like \"10secs\"";
	case SK_SIZE:
		return "a size like \"10GiB\" or a number of bytes";
	case SK_COUNT:
		return "a non-negative integer";
	case SK_RATIO:
		return "a number in (0, 1]";
	case SK_CHOICE:
		return word_list(s, 1, buf, sizeof(buf));
	case SK_SWITCH:
		snprintf(buf, sizeof(buf), "true, false, %s",
		         word_list(s, 1, words, sizeof(words)));
		return buf;
	case SK_PATH:
		return "an absolute path";
	}
	return "a value";
}

/* Edit distance of a and b (short strings: both under 64 bytes). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t prev[64], cur[64];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *
settings_suggest_key(const char *key)
{
	char low[64];
	size_t n = strlen(key);
	const char *best = NULL;
	size_t best_d = 3; /* at most two edits away */

	if (n >= sizeof(low))
		return NULL;
	/* "SPEX_DISK_LIMIT" or "DISK_LIMIT": the env spelling of a key. */
	const char *k = strncasecmp(key, "SPEX_", 5) == 0 ? key + 5 : key;
	for (n = 0; k[n]; n++)
		low[n] = (char)(k[n] >= 'A' && k[n] <= 'Z' ? k[n] - 'A' + 'a' : k[n]);
	low[n] = '\0';
	for (size_t i = 0; i < settings_count; i++) {
		size_t d = edit_distance(low, settings_table[i].key);
		if (d < best_d) {
			best_d = d;
			best = settings_table[i].key;
		}
	}
	return best;
}

/* Write msg escaped into buf (size bytes, may be 0): whole units only (a
 * character or an escape), up to the first that does not fit, then the NUL.
 * Returns the length of all of it, as snprintf. */
static size_t
escape_line(const char *msg, char *buf, size_t size)
{
	const unsigned char *u = (const unsigned char *)msg;
	size_t n = strlen(msg), len = 0, used = 0, k;
	int fits = size > 0;

	for (size_t i = 0; i < n; i += k) {
		char unit[16];
		size_t m = 0;
		k = utf8_seq_len(u + i, n - i);
		/* Not UTF-8, or a control character (C0, DEL, C1: U+0080..U+009F is
		 * 0xc2 0x80..0x9f): each byte as \xNN. */
		if (k == 0 || u[i] < 0x20 || u[i] == 0x7f || (u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			k = k ? k : 1;
			for (size_t j = 0; j < k; j++)
				m += (size_t)snprintf(unit + m, sizeof(unit) - m, "\\x%02x",
				                      u[i + j]);
		} else {
			memcpy(unit, u + i, k);
			m = k;
		}
		if (fits && used + m < size) {
			memcpy(buf + used, unit, m);
			used += m;
		} else {
			fits = 0;
		}
		len += m;
	}
	if (size)
		buf[used] = '\0';
	return len;
}

int
settings_one_line(struct spx_error *err)
{
	if (!err || !err->msg)
		return -1;
	size_t n = escape_line(err->msg, NULL, 0);
	char *msg = xmalloc(n + 1);
	escape_line(err->msg, msg, n + 1);
	free(err->msg);
	err->msg = msg;
	return -1;
}

char *
settings_line_copy(char *buf, size_t size, const char *msg)
{
	escape_line(msg, buf, size);
	return buf;
}
