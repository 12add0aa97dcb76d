/* The settings table, the JSON configuration file, the env-over-file layer
 * and --print-config. */
#include "cgroup.h"
#include "config.h"
#include "disk_policy.h"
#include "harness.h"
#include "log.h"
#include "settings.h"
#include "utf8.h"
#include "settings_file.h"
#include "settings_layer.h"
#include "settings_print.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH "/etc/spex/spex.json"

/* ---- a fake environment ------------------------------------------------------ */

static const char *const *cur_env;
static const char *const no_env[] = {NULL};

static const char *
fake_getenv(const char *name)
{
	size_t n = strlen(name);
	for (const char *const *p = cur_env; p && *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

/* The variables config_from_env() requires, then one NAME=value slot. */
static char extra_var[1024];
static const char *agent_env[] = {"MESOS_FRAMEWORK_ID=fw",
                                  "MESOS_EXECUTOR_ID=ex",
                                  "MESOS_AGENT_ENDPOINT=127.0.0.1:5051",
                                  "MESOS_SANDBOX=/sb",
                                  extra_var,
                                  NULL};

/* ---- helpers ------------------------------------------------------------------ */

/* Parse text as the file PATH; returns the result, the message in msg. */
static int
parse(const char *text, struct settings_file *f, char *msg, size_t n)
{
	struct spx_error err = {0};
	memset(f, 0, sizeof(*f));
	int r = settings_file_parse(PATH, text, strlen(text), f, &err);
	snprintf(msg, n, "%s", err.msg ? err.msg : "");
	spx_error_clear(&err);
	return r;
}

/* 1 if text is refused, with one line that starts with PATH and holds want. */
static int
refused(const char *text, const char *want)
{
	struct settings_file f;
	char msg[1024];
	if (parse(text, &f, msg, sizeof(msg)) == 0) {
		printf("  accepted: %s\n", text);
		settings_file_free(&f);
		return 0;
	}
	if (strncmp(msg, PATH ": ", strlen(PATH) + 2) != 0 || strchr(msg, '\n') ||
	    !strstr(msg, want)) {
		printf("  %s -> \"%s\" (want \"%s\")\n", text, msg, want);
		return 0;
	}
	return 1;
}

/* The file's value for an env name. */
static const char *
value_of(const struct settings_file *f, const char *env)
{
	const struct setting *s = settings_by_env(env);
	return s && f->values ? f->values[s - settings_table] : NULL;
}

/* Would the setting's own parser accept text? (config_from_env,
 * disk_settings_from_env, cgroup_config_from_env, and SPEX_LOG_LEVEL's
 * log_level_parse.) */
static int
parser_accepts(const struct setting *s, const char *text)
{
	struct spx_error err = {0};
	struct config cfg;
	struct disk_settings ds;
	struct cgroup_config cg;
	enum log_level lvl;
	int ok = 1;

	snprintf(extra_var, sizeof(extra_var), "%s=%s", s->env, text);
	cur_env = agent_env;
	if (config_from_env(&cfg, fake_getenv, &err) < 0)
		ok = 0;
	else
		config_free(&cfg);
	if (disk_settings_from_env(&ds, fake_getenv, &err) < 0 ||
	    cgroup_config_from_env(&cg, fake_getenv, &err) < 0)
		ok = 0;
	if (strcmp(s->env, "SPEX_LOG_LEVEL") == 0 && *text && log_level_parse(text, &lvl) < 0)
		ok = 0;
	spx_error_clear(&err);
	return ok;
}

static char tmpdir[64];

static const char *
write_tmp(const char *name, const char *text, size_t len)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, text, len) < 0)
		abort();
	close(fd);
	return path;
}

/* ---- the table ------------------------------------------------------------------ */

TEST(table_shape)
{
	CHECK(settings_count >= 20);
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings_table[i];
		char key[64];
		size_t n = 0;
		CHECK(strncmp(s->env, "SPEX_", 5) == 0);
		for (const char *p = s->env + 5; *p; p++)
			key[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		key[n] = '\0';
		CHECK_EQ_STR(s->key, key);
		CHECK(settings_by_env(s->env) == s && settings_by_key(s->key) == s);
		CHECK(s->doc && *s->doc && s->unit && *s->unit && s->def_doc && *s->def_doc);
		if (s->kind == SK_CHOICE || s->kind == SK_SWITCH)
			CHECK(s->words && s->words[0] && s->words[1]);
		struct spx_error err = {0};
		if (s->def)
			CHECK_EQ_INT(setting_check(s, s->def, &err), 0);
		spx_error_clear(&err);
	}
	CHECK(settings_by_env("SPEX_CONFIG") == NULL); /* where the file is, not a setting */
	CHECK(settings_by_env("MESOS_SANDBOX") == NULL);
	CHECK(settings_by_key("nope") == NULL);
}

/* Giving a setting its documented default changes nothing. */
TEST(defaults_are_the_parsers_defaults)
{
	struct spx_error err = {0};
	struct disk_settings d0, d1;
	struct cgroup_config c0, c1;
	struct config k0, k1;

	cur_env = no_env;
	CHECK_EQ_INT(disk_settings_from_env(&d0, fake_getenv, &err), 0);
	CHECK_EQ_INT(cgroup_config_from_env(&c0, fake_getenv, &err), 0);
	extra_var[0] = '\0';
	cur_env = agent_env;
	CHECK_EQ_INT(config_from_env(&k0, fake_getenv, &err), 0);
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings_table[i];
		if (!s->def)
			continue;
		snprintf(extra_var, sizeof(extra_var), "%s=%s", s->env, s->def);
		const char *one[] = {extra_var, NULL};
		cur_env = one;
		CHECK_EQ_INT(disk_settings_from_env(&d1, fake_getenv, &err), 0);
		CHECK_EQ_INT(cgroup_config_from_env(&c1, fake_getenv, &err), 0);
		if (memcmp(&d0, &d1, sizeof(d0)) != 0 || memcmp(&c0, &c1, sizeof(c0)) != 0)
			HARNESS_FAIL("%s=%s is not the default", s->env, s->def);
		cur_env = agent_env;
		CHECK_EQ_INT(config_from_env(&k1, fake_getenv, &err), 0);
		if (k1.content_type != k0.content_type || k1.ack_timeout_ns != k0.ack_timeout_ns)
			HARNESS_FAIL("%s=%s is not the default", s->env, s->def);
		config_free(&k1);
	}
	enum log_level lvl;
	CHECK_EQ_INT(log_level_parse(settings_by_env("SPEX_LOG_LEVEL")->def, &lvl), 0);
	CHECK_EQ_INT(lvl, LOG_INFO);
	config_free(&k0);
	spx_error_clear(&err);
}

/* setting_check() accepts exactly what the setting's parser accepts. */
TEST(checks_agree_with_parsers)
{
	static char long_path[300];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	const char *samples[] = {
	    "",
	    "0",
	    "1",
	    "-1",
	    "+5",
	    " 5",
	    "5 ",
	    "abc",
	    "5secs",
	    "1ms",
	    "99ms",
	    "100ms",
	    "0.1secs",
	    "2weeks",
	    "1G",
	    "1.5GiB",
	    "512k",
	    "1e3",
	    "0x10",
	    "0.5",
	    "1.5",
	    "nan",
	    "inf",
	    "-0.5",
	    "0.9",
	    "1e-300",
	    "on",
	    "off",
	    "ON",
	    "true",
	    "false",
	    "yes",
	    "auto",
	    "required",
	    "none",
	    "spark",
	    "debug",
	    "warn",
	    "Info",
	    "/x",
	    "x",
	    "/",
	    "cgroupfs",
	    "libcgroup",
	    "application/json",
	    "application/x-protobuf",
	    "18446744073709551615",
	    "18446744073709551616",
	    " -1",
	    "1 ",
	    "/caf\xc3\xa9",
	    long_path,
	    long_path + 45,
	};
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings_table[i];
		for (size_t j = 0; j < ARRAY_SIZE(samples); j++) {
			struct spx_error err = {0};
			int mine = setting_check(s, samples[j], &err) == 0;
			int theirs = parser_accepts(s, samples[j]);
			if (mine != theirs)
				HARNESS_FAIL("%s='%.40s': check %d, parser %d (%s)", s->env,
				             samples[j], mine, theirs, spx_error_msg(&err));
			if (!mine && (!err.msg || !*err.msg))
				HARNESS_FAIL("%s='%s' refused without a message", s->env,
				             samples[j]);
			spx_error_clear(&err);
		}
	}
}

TEST(suggestions)
{
	CHECK_EQ_STR(settings_suggest_key("disk_intreval"), "disk_interval");
	CHECK_EQ_STR(settings_suggest_key("SPEX_LOG_TAIL"), "log_tail");
	CHECK_EQ_STR(settings_suggest_key("LOG_HEAD"), "log_head");
	CHECK_EQ_STR(settings_suggest_key("cgroup"), "cgroups");
	CHECK(settings_suggest_key("completely_different") == NULL);
	char big[200];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(settings_suggest_key(big) == NULL);
}

/* 1 if msg is one line of valid UTF-8 without control characters. */
static int
one_utf8_line(const char *msg)
{
	if (!msg || !utf8_valid(msg, strlen(msg), NULL))
		return 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			return 0;
	return 1;
}

/* Counts are digits only: strtoull's leading space and sign are refused
 * (SPEX_PIDS_MAX=" -1" read as 2^64-1 and went to pids.max). */
TEST(counts_digits_only)
{
	struct spx_error err = {0};
	uint64_t n;
	const char *bad[] = {" 1",
	                     "-1",
	                     "+5",
	                     "1 ",
	                     "",
	                     " -1",
	                     "\t1",
	                     "0x10",
	                     "1e3",
	                     "1.0",
	                     "1_0",
	                     "-0",
	                     "+0",
	                     "18446744073709551616",
	                     "99999999999999999999"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		n = 7;
		if (settings_parse_count(bad[i], &n, &err) != -1 || n != 7 || !err.msg)
			HARNESS_FAIL("'%s' accepted as %llu", bad[i], (unsigned long long)n);
		spx_error_clear(&err);
		if (!*bad[i])
			continue; /* empty is "unset" to setting_check and the parsers */
		for (size_t j = 0; j < settings_count; j++)
			if (settings_table[j].kind == SK_COUNT &&
			    setting_check(&settings_table[j], bad[i], &err) != -1)
				HARNESS_FAIL("%s='%s' passes", settings_table[j].env, bad[i]);
	}
	CHECK_EQ_INT(settings_parse_count(NULL, &n, &err), -1);
	CHECK_EQ_INT(settings_parse_count(" 1", &n, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "expected a number (digits only), got ' 1'");
	CHECK_EQ_INT(settings_parse_count("18446744073709551616", &n, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err),
	             "expected a number up to 18446744073709551615, got '18446744073709551616'");
	spx_error_clear(&err);
	CHECK_EQ_INT(settings_parse_count("0", &n, NULL), 0);
	CHECK(n == 0);
	CHECK_EQ_INT(settings_parse_count("007", &n, NULL), 0);
	CHECK(n == 7);
	CHECK_EQ_INT(settings_parse_count("18446744073709551615", &n, NULL), 0);
	CHECK(n == UINT64_MAX);
	CHECK_EQ_INT(settings_parse_count("1844674407370955161", &n, NULL), 0);
	CHECK(n == 1844674407370955161ULL);
	/* Through the layer: the environment's " -1" stops the executor's setup. */
	const char *env[] = {"SPEX_PIDS_MAX= -1", NULL};
	cur_env = env;
	CHECK_EQ_INT(settings_setup(fake_getenv, NULL, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err),
	             "SPEX_PIDS_MAX: expected a number (digits only), got ' -1'");
	spx_error_clear(&err);
}

TEST(utf8_valid)
{
	static const struct {
		const char *s;
		int ok;
		size_t bad;
	} cases[] = {
	    {"", 1, 0},
	    {"plain", 1, 0},
	    {"caf\xc3\xa9", 1, 0},
	    {"\xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", 1,
	     0},                /* U+20AC, U+1F600, U+10FFFF */
	    {"\xc2\x85", 1, 0}, /* C1: valid, escaped in messages */
	    {"/\xff", 0, 1},
	    {"a\x80", 0, 1},            /* a lone continuation byte */
	    {"ab\xc3", 0, 2},           /* cut short */
	    {"\xe2\x82", 0, 0},         /* cut short */
	    {"\xc0\xaf", 0, 0},         /* overlong '/' */
	    {"\xc1\xbf", 0, 0},         /* overlong */
	    {"\xe0\x80\xaf", 0, 0},     /* overlong */
	    {"\xf0\x80\x80\xaf", 0, 0}, /* overlong */
	    {"x\xed\xa0\x80", 0, 1},    /* a surrogate, U+D800 */
	    {"\xf4\x90\x80\x80", 0, 0}, /* above U+10FFFF */
	    {"\xf5\x80\x80\x80", 0, 0},
	    {"\xc3\xa9\xc3(", 0, 2},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t bad = 99;
		int ok = utf8_valid(cases[i].s, strlen(cases[i].s), &bad);
		if (ok != cases[i].ok || (!ok && bad != cases[i].bad))
			HARNESS_FAIL("case %zu: %d at %zu", i, ok, bad);
	}
	CHECK_EQ_INT(utf8_valid("\xff", 0, NULL), 1); /* n bytes only */
}

/* Every settings message is one line of valid UTF-8: it becomes state.json's
 * config_error, a TaskStatus message and --print-config's error. */
TEST(messages_one_line_utf8)
{
	struct spx_error err = {0};
	char buf[16];

	spx_error_set(&err, 0, "a\nb\x7f\xff\xc3\xa9\xc2\x85\t\xe2\x82");
	CHECK_EQ_INT(settings_one_line(&err), -1);
	CHECK_EQ_STR(err.msg, "a\\x0ab\\x7f\\xff\xc3\xa9\\xc2\\x85\\x09\\xe2\\x82");
	CHECK(one_utf8_line(err.msg));
	char *once = xstrdup(err.msg);
	settings_one_line(&err); /* idempotent */
	CHECK_EQ_STR(err.msg, once);
	free(once);
	spx_error_clear(&err);
	CHECK_EQ_INT(settings_one_line(&err), -1); /* no message: nothing to do */
	CHECK(err.msg == NULL);
	CHECK_EQ_INT(settings_one_line(NULL), -1);

	/* A copy is cut at a character, never inside a sequence or an escape. */
	CHECK_EQ_STR(settings_line_copy(buf, 8, "abcde\xc3\xa9"), "abcde\xc3\xa9");
	CHECK_EQ_STR(settings_line_copy(buf, 7, "abcde\xc3\xa9"), "abcde");
	CHECK_EQ_STR(settings_line_copy(buf, 8, "abcd\x01z"), "abcd");
	CHECK_EQ_STR(settings_line_copy(buf, 9, "abcd\x01z"), "abcd\\x01");
	CHECK_EQ_STR(settings_line_copy(buf, 10, "abcd\xff"), "abcd\\xff");
	CHECK_EQ_STR(settings_line_copy(buf, 1, "abc"), "");
	CHECK_EQ_STR(settings_line_copy(buf, sizeof(buf), ""), "");
	for (size_t size = 1; size <= sizeof(buf); size++) {
		settings_line_copy(buf, size, "\xc3\xa9\xc3\xa9\xe2\x82\xac\n\xff\xc3\xa9x");
		if (!one_utf8_line(buf) || strlen(buf) >= size)
			HARNESS_FAIL("size %zu: '%s'", size, buf);
	}

	/* Values that are not UTF-8: refused by every setting, in the env ... */
	for (size_t i = 0; i < settings_count; i++) {
		const char *texts[] = {"\xff", "/\xff", "on\xc0\xaf", "1\x80"};
		for (size_t j = 0; j < ARRAY_SIZE(texts); j++) {
			if (setting_check(&settings_table[i], texts[j], &err) != -1 ||
			    !one_utf8_line(err.msg))
				HARNESS_FAIL("%s: '%s' -> %s", settings_table[i].env, texts[j],
				             spx_error_msg(&err));
			spx_error_clear(&err);
		}
	}
	CHECK_EQ_INT(setting_check(settings_by_env("SPEX_CGROUP_ROOT"), "/\xff", &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "expected valid UTF-8, got '/\\xff'");
	CHECK_EQ_INT(setting_check(settings_by_env("SPEX_CGROUP_ROOT"), "/caf\xc3\xa9", &err), 0);
	const char *env[] = {"SPEX_CGROUPS=\xff", NULL};
	cur_env = env;
	CHECK_EQ_INT(settings_setup(fake_getenv, NULL, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "SPEX_CGROUPS: expected valid UTF-8, got '\\xff'");
	/* ... and in the file, where JSON must be UTF-8 anyway. */
	CHECK(refused("{\"cgroup_root\": \"/\xff\"}", "not valid UTF-8 at line 1, column 19"));
	CHECK(refused("{\n  \"cgroups\": \"\xff\"\n}", "not valid UTF-8 at line 2, column 15"));
	CHECK(refused("{\"\xc3\": 1}", "not valid UTF-8 at line 1, column 3"));
	CHECK(refused("{\"disk\": true} \xed\xa0\x80", "not valid UTF-8"));
	struct settings_file f;
	char msg[256];
	CHECK_EQ_INT(parse("{\"cgroup_root\": \"/caf\xc3\xa9\"}", &f, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(value_of(&f, "SPEX_CGROUP_ROOT"), "/caf\xc3\xa9");
	settings_file_free(&f);
	/* An escape cJSON turns into UTF-8 is fine; a lone surrogate is not JSON. */
	CHECK_EQ_INT(parse("{\"cgroup_root\": \"/caf\\u00e9\"}", &f, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(value_of(&f, "SPEX_CGROUP_ROOT"), "/caf\xc3\xa9");
	settings_file_free(&f);
	CHECK(refused("{\"cgroup_root\": \"/\\udcff\"}", "invalid JSON"));
	/* A key that is not a setting is quoted escaped, cut at a character. */
	char key[200] = "{\"";
	for (size_t i = 0; i < 40; i++)
		memcpy(key + 2 + 2 * i, "\xc3\xa9", 2);
	strcpy(key + 82, "x\": 1}");
	CHECK_EQ_INT(parse(key + 0, &f, msg, sizeof(msg)), -1);
	CHECK(one_utf8_line(msg));
	CHECK(strstr(msg, "\xc3\xa9...'") != NULL);
	/* SPEX_CONFIG itself is printed as JSON: it must be UTF-8 too. */
	const char *env2[] = {"SPEX_CONFIG=/tmp/\xff.json", NULL};
	cur_env = env2;
	CHECK_EQ_INT(settings_file_load(fake_getenv, NULL, &f, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err),
	             "SPEX_CONFIG: expected valid UTF-8, got '/tmp/\\xff.json'");
	spx_error_clear(&err);
}

/* JSON numbers are doubles: from 2^53 on, the literal may have been rounded
 * (9007199254740993 reads as ...992), so the value is refused. */
TEST(json_integers_exact)
{
	struct settings_file f;
	char msg[256];

	CHECK(refused("{\"disk_limit\": 9007199254740993}", "got a number too large to be exact"));
	CHECK(refused("{\"disk_limit\": 9007199254740992}", "got a number too large to be exact"));
	CHECK(refused("{\"pids_max\": 18446744073709551615}", "too large to be exact"));
	CHECK(refused("{\"pids_max\": 1e300}", "too large to be exact"));
	CHECK(refused("{\"min_free_inodes\": 0.5}", "got a fractional number"));
	CHECK(refused("{\"min_free_inodes\": 1e-3}", "got a fractional number"));
	CHECK(refused("{\"min_free_inodes\": -1e3}", "got a negative number"));
	/* Integral values written with a fraction or exponent are integers. */
	CHECK_EQ_INT(parse("{\"disk_limit\": 9007199254740991, \"pids_max\": 1.0e2, "
	                   "\"min_free_inodes\": 2E3}",
	                   &f, msg, sizeof(msg)),
	             0);
	CHECK_EQ_STR(value_of(&f, "SPEX_DISK_LIMIT"), "9007199254740991");
	CHECK_EQ_STR(value_of(&f, "SPEX_PIDS_MAX"), "100");
	CHECK_EQ_STR(value_of(&f, "SPEX_MIN_FREE_INODES"), "2000");
	settings_file_free(&f);
}

/* ---- the file -------------------------------------------------------------------- */

TEST(every_key_accepted)
{
	const char *text = "{\n"
	                   "  \"content_type\": \"application/json\",\n"
	                   "  \"ack_timeout\": \"90secs\",\n"
	                   "  \"log_level\": \"debug\",\n"
	                   "  \"disk\": false,\n"
	                   "  \"disk_track\": \"off\",\n"
	                   "  \"disk_interval\": \"1500ms\",\n"
	                   "  \"disk_limit\": \"10GiB\",\n"
	                   "  \"disk_soft_ratio\": 0.75,\n"
	                   "  \"min_free_bytes\": 0,\n"
	                   "  \"min_free_inodes\": 500,\n"
	                   "  \"cleanup\": \"none\",\n"
	                   "  \"keep_shuffle\": true,\n"
	                   "  \"log_head\": \"1M\",\n"
	                   "  \"log_tail\": 1048576,\n"
	                   "  \"cgroups\": \"required\",\n"
	                   "  \"cpu_hard_limit\": \"true\",\n"
	                   "  \"cgroups_limit_swap\": false,\n"
	                   "  \"pids_max\": 4096,\n"
	                   "  \"cgroup_root\": \"/tmp/cg\",\n"
	                   "  \"cgroup_backend\": \"cgroupfs\"\n"
	                   "}\n";
	static const char *const want[][2] = {
	    {"SPEX_CONTENT_TYPE", "application/json"},
	    {"SPEX_ACK_TIMEOUT", "90secs"},
	    {"SPEX_LOG_LEVEL", "debug"},
	    {"SPEX_DISK", "off"},
	    {"SPEX_DISK_TRACK", "off"},
	    {"SPEX_DISK_INTERVAL", "1500ms"},
	    {"SPEX_DISK_LIMIT", "10GiB"},
	    {"SPEX_DISK_SOFT_RATIO", "0.75"},
	    {"SPEX_MIN_FREE_BYTES", "0"},
	    {"SPEX_MIN_FREE_INODES", "500"},
	    {"SPEX_CLEANUP", "none"},
	    {"SPEX_KEEP_SHUFFLE", "1"},
	    {"SPEX_LOG_HEAD", "1M"},
	    {"SPEX_LOG_TAIL", "1048576"},
	    {"SPEX_CGROUPS", "required"},
	    {"SPEX_CPU_HARD_LIMIT", "true"},
	    {"SPEX_CGROUPS_LIMIT_SWAP", "0"},
	    {"SPEX_PIDS_MAX", "4096"},
	    {"SPEX_CGROUP_ROOT", "/tmp/cg"},
	    {"SPEX_CGROUP_BACKEND", "cgroupfs"},
	};
	struct settings_file f;
	char msg[512];

	CHECK_EQ_INT(parse(text, &f, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(msg, "");
	CHECK_EQ_STR(f.path, PATH);
	CHECK_EQ_INT(ARRAY_SIZE(want), settings_count); /* this test covers every key */
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		CHECK_EQ_STR(value_of(&f, want[i][0]), want[i][1]);
	settings_file_free(&f);
	CHECK(f.values == NULL && f.path == NULL);

	CHECK_EQ_INT(parse("{}", &f, msg, sizeof(msg)), 0);
	for (size_t i = 0; i < settings_count; i++)
		CHECK(f.values[i] == NULL);
	settings_file_free(&f);
	/* Integers as JSON may be written as 1e3 or 1.0; up to 2^53 - 1 they are exact. */
	CHECK_EQ_INT(parse("{\"pids_max\": 1e3, \"disk_limit\": 9007199254740991, "
	                   "\"min_free_inodes\": 1.0}",
	                   &f, msg, sizeof(msg)),
	             0);
	CHECK_EQ_STR(value_of(&f, "SPEX_PIDS_MAX"), "1000");
	CHECK_EQ_STR(value_of(&f, "SPEX_DISK_LIMIT"), "9007199254740991");
	CHECK_EQ_STR(value_of(&f, "SPEX_MIN_FREE_INODES"), "1");
	settings_file_free(&f);
	CHECK_EQ_INT(parse("{\"min_free_inodes\": -0}", &f, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(value_of(&f, "SPEX_MIN_FREE_INODES"), "0");
	settings_file_free(&f);
	/* Ratios: the shortest text that reads back exactly. */
	CHECK_EQ_INT(parse("{\"disk_soft_ratio\": 0.9}", &f, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(value_of(&f, "SPEX_DISK_SOFT_RATIO"), "0.9");
	settings_file_free(&f);
	CHECK_EQ_INT(parse("{\"disk_soft_ratio\": 0.30000000000000004}", &f, msg, sizeof(msg)), 0);
	CHECK_EQ_STR(value_of(&f, "SPEX_DISK_SOFT_RATIO"), "0.30000000000000004");
	settings_file_free(&f);
}

TEST(wrong_types_name_the_key)
{
	/* For every key: null, an array, an object are never a value. */
	for (size_t i = 0; i < settings_count; i++) {
		const char *k = settings_table[i].key;
		char text[128], want[64];
		snprintf(want, sizeof(want), "key '%s': expected ", k);
		const char *bad[] = {"null", "[]", "{}", "[\"on\"]"};
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			snprintf(text, sizeof(text), "{\"%s\": %s}", k, bad[j]);
			CHECK(refused(text, want));
		}
	}
	CHECK(refused("{\"disk_interval\": 5}",
	              "key 'disk_interval': expected a duration like \"10secs\", got a number"));
	CHECK(refused("{\"ack_timeout\": true}", "key 'ack_timeout': expected a duration"));
	CHECK(refused("{\"disk_interval\": \"\"}", "got an empty string"));
	CHECK(refused("{\"disk_interval\": \"5\"}", "key 'disk_interval': invalid duration '5'"));
	CHECK(refused("{\"disk_interval\": \"50ms\"}", "key 'disk_interval': at least 100ms"));
	CHECK(refused("{\"log_tail\": true}", "key 'log_tail': expected a size like"));
	CHECK(refused("{\"log_tail\": -1}", "got a negative number"));
	CHECK(refused("{\"log_tail\": 1.5}", "got a fractional number"));
	CHECK(refused("{\"log_tail\": 1e16}", "got a number too large to be exact"));
	CHECK(refused("{\"log_tail\": \"lots\"}", "key 'log_tail': invalid size 'lots'"));
	CHECK(refused("{\"pids_max\": \"100\"}", "key 'pids_max': expected a non-negative "
	                                         "integer, got a string"));
	CHECK(refused("{\"pids_max\": 2.5}", "key 'pids_max'"));
	CHECK(refused("{\"pids_max\": false}", "key 'pids_max'"));
	CHECK(refused("{\"disk_soft_ratio\": \"0.5\"}", "key 'disk_soft_ratio': expected a "
	                                                "number in (0, 1], got a string"));
	CHECK(refused("{\"disk_soft_ratio\": 0}", "expected a number in (0, 1], got '0'"));
	CHECK(refused("{\"disk_soft_ratio\": 1.01}", "key 'disk_soft_ratio'"));
	CHECK(refused("{\"cgroups\": 1}", "key 'cgroups': expected \"auto\", \"required\" or "
	                                  "\"off\", got a number"));
	CHECK(refused("{\"cgroups\": \"maybe\"}", "expected auto, required or off, got 'maybe'"));
	CHECK(refused("{\"cgroups\": true}", "key 'cgroups'"));
	CHECK(refused("{\"log_level\": \"INFO\"}", "key 'log_level'"));
	CHECK(refused("{\"content_type\": \"text/plain\"}", "key 'content_type'"));
	CHECK(refused("{\"disk\": 1}", "key 'disk': expected true, false, \"on\" or \"off\""));
	CHECK(refused("{\"disk\": \"true\"}", "expected on or off, got 'true'"));
	CHECK(refused("{\"keep_shuffle\": \"yes\"}", "key 'keep_shuffle'"));
	CHECK(refused("{\"keep_shuffle\": 1}", "key 'keep_shuffle'"));
	CHECK(refused("{\"cpu_hard_limit\": \"on\"}", "key 'cpu_hard_limit'"));
	CHECK(refused("{\"cgroup_root\": \"sys/fs/cgroup\"}", "key 'cgroup_root': expected an "
	                                                      "absolute path"));
	CHECK(refused("{\"cgroup_root\": 7}", "key 'cgroup_root'"));
	CHECK(refused("{\"cgroup_backend\": \"systemd\"}", "key 'cgroup_backend'"));
	/* A value with a newline still gives one line. */
	CHECK(refused("{\"cgroups\": \"a\\nb\"}", "got 'a\\x0ab'"));
	/* The first bad key is the one reported. */
	CHECK(refused("{\"disk\": true, \"log_tail\": \"x\", \"nope\": 1}", "key 'log_tail'"));
}

TEST(unknown_keys)
{
	CHECK(refused("{\"disk_intreval\": \"5secs\"}",
	              "unknown key 'disk_intreval' (did you mean 'disk_interval'?)"));
	CHECK(refused("{\"SPEX_DISK_LIMIT\": \"1G\"}", "(did you mean 'disk_limit'?)"));
	CHECK(refused("{\"colour\": \"blue\"}", "unknown key 'colour'"));
	CHECK(refused("{\"mesos_sandbox\": \"/x\"}", "MESOS_* variables come from the agent"));
	CHECK(refused("{\"MESOS_CHECKPOINT\": \"1\"}", "unknown key 'MESOS_CHECKPOINT'"));
	CHECK(refused("{\"config\": \"/x\"}", "unknown key 'config'"));
	CHECK(refused("{\"\": 1}", "unknown key ''"));
	CHECK(refused("{\"_comment\": \"no comments\"}", "unknown key '_comment'"));
	CHECK(refused("{\"Disk\": true}", "unknown key 'Disk' (did you mean 'disk'?)"));
	CHECK(refused("{\"a\\u0001b\": 1}", "unknown key 'a\\x01b'"));
	/* A long key is cut in the message. */
	char text[400] = "{\"";
	memset(text + 2, 'k', 300);
	strcpy(text + 302, "\": 1}");
	CHECK(refused(text, "kkk...'"));
	struct settings_file f;
	char msg[1024];
	CHECK_EQ_INT(parse(text, &f, msg, sizeof(msg)), -1);
	CHECK(strlen(msg) < 160);
}

TEST(duplicates_and_structure)
{
	CHECK(refused("{\"disk\": true, \"disk\": false}", "key 'disk' appears more than once"));
	CHECK(refused("{\"log_tail\": \"1M\", \"cgroups\": \"off\", \"log_tail\": \"1M\"}",
	              "key 'log_tail' appears more than once"));
	CHECK(refused("[]", "expected a JSON object at the top, got an array"));
	CHECK(refused("\"disk\"", "got a string"));
	CHECK(refused("42", "got a number"));
	CHECK(refused("null", "got null"));
	CHECK(refused("true", "got a boolean"));
	CHECK(refused("{\"disk\": {\"disk\": true}}", "key 'disk'"));
}

TEST(malformed_json)
{
	CHECK(refused("", "empty (expected a JSON object)"));
	CHECK(refused(" \n\t", "empty"));
	CHECK(refused("{", "invalid JSON at line 1"));
	CHECK(refused("{\"disk\": true,}", "invalid JSON at line 1, column "));
	CHECK(refused("{\n  \"disk\": true\n  \"cgroups\": \"off\"\n}",
	              "invalid JSON at line 3, column 3"));
	CHECK(refused("{} {}", "invalid JSON"));
	CHECK(refused("{}x", "invalid JSON"));
	CHECK(refused("// comment\n{}", "invalid JSON"));
	CHECK(refused("{\"disk\": tru}", "invalid JSON"));
	CHECK(refused("{'disk': true}", "invalid JSON"));
	CHECK(refused("{\"disk\u00e9\": true}", "unknown key"));
	CHECK(refused("{\"cgroups\": \"off\\u0000on\"}", "\\u0000 in a string is not allowed"));
	CHECK(refused("{\"disk\\u0000x\": true}", "\\u0000"));
	/* An escaped backslash before u0000 is plain text, not a NUL. */
	CHECK(refused("{\"cgroups\": \"\\\\u0000\"}", "expected auto, required or off"));
	struct settings_file f;
	char msg[256];
	const char nul[] = "{\"disk\": true}\0 ";
	CHECK_EQ_INT(settings_file_parse(PATH, nul, sizeof(nul) - 1, &f, NULL), -1);
	struct spx_error err = {0};
	CHECK_EQ_INT(settings_file_parse(PATH, nul, sizeof(nul) - 1, &f, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "contains a NUL byte") != NULL);
	spx_error_clear(&err);
	/* Deep nesting: refused, not a crash. */
	static char deep[20010];
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	CHECK_EQ_INT(parse(deep, &f, msg, sizeof(msg)), -1);
	memcpy(deep, "{\"disk\":", 8);
	CHECK_EQ_INT(parse(deep, &f, msg, sizeof(msg)), -1);
}

TEST(oversize)
{
	size_t n = SETTINGS_FILE_MAX + 1;
	char *big = xmalloc(n + 1);
	struct settings_file f;
	struct spx_error err = {0};

	/* A valid object of exactly the limit is fine; one byte more is not. */
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 2] = '}';
	CHECK_EQ_INT(settings_file_parse(PATH, big, n - 1, &f, &err), 0);
	settings_file_free(&f);
	CHECK_EQ_INT(settings_file_parse(PATH, big, n, &f, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "larger than 1048576 bytes") != NULL);
	const char *p = write_tmp("big.json", big, n);
	CHECK_EQ_INT(settings_file_read(p, &f, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "big.json: larger than") != NULL);
	p = write_tmp("limit.json", big, n - 1);
	CHECK_EQ_INT(settings_file_read(p, &f, &err), 0);
	settings_file_free(&f);
	/* A value too long for any setting. */
	memset(big, 'a', 6000);
	memcpy(big, "{\"cgroup_root\": \"/", 18);
	memcpy(big + 5990, "\"}", 3);
	CHECK(refused(big, "key 'cgroup_root': expected an absolute path, got a string of"));
	free(big);
	spx_error_clear(&err);
}

/* ---- where the file comes from ----------------------------------------------------- */

TEST(file_location)
{
	struct settings_file f;
	struct spx_error err = {0};
	char missing[128], env1[160], dflt[128];

	char good[128], other[128];
	snprintf(missing, sizeof(missing), "%s/missing.json", tmpdir);
	snprintf(good, sizeof(good), "%s", write_tmp("good.json", "{\"cgroups\": \"off\"}", 18));
	snprintf(dflt, sizeof(dflt), "%s", good);
	snprintf(other, sizeof(other), "%s",
	         write_tmp("other.json", "{\"cgroups\": \"required\"}", 23));

	/* No SPEX_CONFIG, default absent: no file, no error. */
	cur_env = no_env;
	CHECK_EQ_INT(settings_file_load(fake_getenv, missing, &f, &err), 0);
	CHECK(f.path == NULL && f.values == NULL);
	/* ... the default under a path that is not a directory: absent too. */
	char notdir[160];
	snprintf(notdir, sizeof(notdir), "%s/spex.json", good);
	CHECK_EQ_INT(settings_file_load(fake_getenv, notdir, &f, &err), 0);
	CHECK_EQ_INT(settings_file_load(fake_getenv, NULL, &f, &err), 0);
	/* Default present: read. */
	CHECK_EQ_INT(settings_file_load(fake_getenv, dflt, &f, &err), 0);
	CHECK_EQ_STR(f.path, good);
	CHECK_EQ_STR(value_of(&f, "SPEX_CGROUPS"), "off");
	settings_file_free(&f);
	/* SPEX_CONFIG wins over the default. */
	snprintf(env1, sizeof(env1), "SPEX_CONFIG=%s", other);
	const char *e1[] = {env1, NULL};
	cur_env = e1;
	CHECK_EQ_INT(settings_file_load(fake_getenv, dflt, &f, &err), 0);
	CHECK_EQ_STR(value_of(&f, "SPEX_CGROUPS"), "required");
	settings_file_free(&f);
	/* SPEX_CONFIG naming a missing file is an error naming both. */
	snprintf(env1, sizeof(env1), "SPEX_CONFIG=%s", missing);
	CHECK_EQ_INT(settings_file_load(fake_getenv, dflt, &f, &err), -1);
	CHECK(strncmp(spx_error_msg(&err), "SPEX_CONFIG: cannot open ", 25) == 0);
	CHECK(strstr(spx_error_msg(&err), "missing.json: No such file or directory") != NULL);
	CHECK(f.path == NULL);
	/* An empty SPEX_CONFIG is unset. */
	const char *e2[] = {"SPEX_CONFIG=", NULL};
	cur_env = e2;
	CHECK_EQ_INT(settings_file_load(fake_getenv, dflt, &f, &err), 0);
	CHECK_EQ_STR(f.path, good);
	settings_file_free(&f);
	/* A directory, a default that is invalid: errors. */
	cur_env = no_env;
	CHECK_EQ_INT(settings_file_load(fake_getenv, tmpdir, &f, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "not a regular file") != NULL);
	const char *bad = write_tmp("bad.json", "{\"cgroups\": 1}", 14);
	CHECK_EQ_INT(settings_file_load(fake_getenv, bad, &f, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "bad.json: key 'cgroups'") != NULL);
	/* Unreadable (only meaningful when not root: root reads anything). */
	if (geteuid() != 0) {
		chmod(good, 0);
		CHECK_EQ_INT(settings_file_load(fake_getenv, good, &f, &err), -1);
		CHECK(strstr(spx_error_msg(&err), "Permission denied") != NULL);
		chmod(good, 0644);
	}
	spx_error_clear(&err);
}

/* Errors opening or reading the file name its path, which may hold any byte:
 * still one line of valid UTF-8. */
TEST(open_errors_one_line)
{
	struct settings_file f;
	struct spx_error err = {0};
	char env1[200], path[160], want[200];

	snprintf(env1, sizeof(env1), "SPEX_CONFIG=%s/a\nb.json", tmpdir);
	const char *e1[] = {env1, NULL};
	cur_env = e1;
	CHECK_EQ_INT(settings_file_load(fake_getenv, NULL, &f, &err), -1);
	snprintf(want, sizeof(want), "SPEX_CONFIG: cannot open %s/a\\x0ab.json: No such file",
	         tmpdir);
	CHECK(strncmp(spx_error_msg(&err), want, strlen(want)) == 0);
	CHECK(one_utf8_line(err.msg));
	/* A directory, a FIFO-free "not a regular file", a bad file: all one line. */
	snprintf(path, sizeof(path), "%s/dir\n\xff", tmpdir);
	CHECK_EQ_INT(mkdir(path, 0755), 0);
	CHECK_EQ_INT(settings_file_read(path, &f, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "dir\\x0a\\xff: not a regular file") != NULL);
	CHECK(one_utf8_line(err.msg));
	rmdir(path);
	const char *p = write_tmp("bad\r.json", "{\"disk\": 1}", 11);
	CHECK_EQ_INT(settings_file_read(p, &f, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "bad\\x0d.json: key 'disk'") != NULL);
	CHECK(one_utf8_line(err.msg));
	p = write_tmp("syntax\n.json", "{", 1);
	CHECK_EQ_INT(settings_file_read(p, &f, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "syntax\\x0a.json: invalid JSON") != NULL);
	CHECK(one_utf8_line(err.msg));
	/* settings_file_parse() alone, with a path that is not one line. */
	CHECK_EQ_INT(settings_file_parse("/x\n", "", 0, &f, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "/x\\x0a: empty (expected a JSON object)");
	spx_error_clear(&err);
}

TEST(shipped_default_file_loads)
{
	struct settings_file f;
	struct spx_error err = {0};
	const char *p =
	    access("tools/spex.json", R_OK) == 0 ? "tools/spex.json" : "../../tools/spex.json";
	size_t n = 0;

	CHECK_EQ_INT(settings_file_read(p, &f, &err), 0);
	if (err.msg)
		printf("  %s\n", err.msg);
	/* It sets a handful of defaults only: installing it changes nothing. */
	for (size_t i = 0; f.values && i < settings_count; i++) {
		if (!f.values[i])
			continue;
		n++;
		if (!settings_table[i].def || strcmp(f.values[i], settings_table[i].def) != 0)
			HARNESS_FAIL("%s: %s is not the default", p, settings_table[i].key);
	}
	CHECK(n >= 5);
	settings_file_free(&f);
	spx_error_clear(&err);
}

/* ---- the layer ----------------------------------------------------------------------- */

static void
install(const char *file_text, const char *const *env)
{
	struct settings_file f;
	char msg[256];
	if (parse(file_text, &f, msg, sizeof(msg)) < 0)
		abort();
	cur_env = env;
	settings_layer_install(fake_getenv, &f);
	if (f.values || f.path)
		abort(); /* moved into the layer */
}

TEST(env_wins_over_file)
{
	const char *env[] = {"SPEX_DISK_INTERVAL=7secs", "SPEX_LOG_TAIL=", "MESOS_SANDBOX=/sb",
	                     "OTHER=x", NULL};
	const char *v;

	CHECK(settings_layer_get("SPEX_DISK_INTERVAL") == NULL); /* nothing installed */
	install("{\"disk_interval\": \"5secs\", \"log_tail\": \"1M\", \"cgroups\": \"off\"}", env);
	CHECK_EQ_STR(settings_layer_get("SPEX_DISK_INTERVAL"), "7secs");
	CHECK_EQ_STR(settings_layer_get("SPEX_LOG_TAIL"), "1M"); /* empty env = unset */
	CHECK_EQ_STR(settings_layer_get("SPEX_CGROUPS"), "off");
	CHECK(settings_layer_get("SPEX_PIDS_MAX") == NULL);
	CHECK_EQ_STR(settings_layer_get("MESOS_SANDBOX"), "/sb");
	CHECK_EQ_STR(settings_layer_get("OTHER"), "x");
	CHECK(settings_layer_get("MESOS_DIRECTORY") == NULL);
	CHECK_EQ_INT(settings_layer_source(settings_by_env("SPEX_DISK_INTERVAL"), &v), SRC_ENV);
	CHECK_EQ_STR(v, "7secs");
	CHECK_EQ_INT(settings_layer_source(settings_by_env("SPEX_LOG_TAIL"), &v), SRC_FILE);
	CHECK_EQ_STR(v, "1M");
	CHECK_EQ_INT(settings_layer_source(settings_by_env("SPEX_PIDS_MAX"), &v), SRC_DEFAULT);
	CHECK(v == NULL);
	CHECK_EQ_STR(settings_layer_file(), PATH);
	CHECK_EQ_INT(settings_layer_file_count(), 3);
	struct spx_error err = {0};
	CHECK_EQ_INT(settings_layer_check(&err), 0);
	settings_layer_reset();
	CHECK(settings_layer_get("OTHER") == NULL);
	CHECK(settings_layer_file() == NULL);
	spx_error_clear(&err);
}

/* The parsers, reading through the layer, see file values. */
TEST(file_values_reach_the_parsers)
{
	const char *env[] = {
	    "MESOS_FRAMEWORK_ID=fw", "MESOS_EXECUTOR_ID=ex", "MESOS_AGENT_ENDPOINT=127.0.0.1:5051",
	    "MESOS_SANDBOX=/sb",     "SPEX_LOG_HEAD=2M",     NULL};
	struct spx_error err = {0};
	struct disk_settings d;
	struct cgroup_config c;
	struct config k;

	install("{\"disk_interval\": \"2secs\", \"disk_limit\": 1073741824, \"log_tail\": 0,"
	        " \"log_head\": \"1M\", \"keep_shuffle\": true, \"disk_track\": false,"
	        " \"disk_soft_ratio\": 0.5, \"min_free_inodes\": 7,"
	        " \"cgroups\": \"required\", \"pids_max\": 99, \"cpu_hard_limit\": true,"
	        " \"cgroup_root\": \"/tmp/cgtest\", \"cgroup_backend\": \"libcgroup\","
	        " \"content_type\": \"application/json\", \"ack_timeout\": \"3secs\"}",
	        env);
	CHECK_EQ_INT(disk_settings_from_env(&d, settings_layer_get, &err), 0);
	CHECK_EQ_INT(d.interval_ns, 2 * NSEC_PER_SEC);
	CHECK(d.limit_bytes == 1073741824ULL && d.log_tail == 0);
	CHECK(d.log_head == 2ULL * 1024 * 1024); /* env wins */
	CHECK(d.keep_shuffle && !d.track && d.soft_ratio == 0.5 && d.min_free_inodes == 7);
	CHECK_EQ_INT(cgroup_config_from_env(&c, settings_layer_get, &err), 0);
	CHECK_EQ_INT(c.mode, CGM_REQUIRED);
	CHECK(c.limits.pids_max == 99 && c.limits.cpu_hard && !c.limits.limit_swap);
	CHECK_EQ_STR(c.root, "/tmp/cgtest");
	CHECK_EQ_INT(config_from_env(&k, settings_layer_get, &err), 0);
	CHECK_EQ_INT(k.content_type, CT_JSON);
	CHECK_EQ_INT(k.ack_timeout_ns, 3 * NSEC_PER_SEC);
	CHECK_EQ_STR(k.sandbox, "/sb");
	config_free(&k);
	settings_layer_reset();
	spx_error_clear(&err);
}

TEST(setup_checks_env_values)
{
	struct spx_error err = {0};
	char env1[160];
	const char *p = write_tmp("setup.json", "{\"log_tail\": \"8M\"}", 18);
	snprintf(env1, sizeof(env1), "SPEX_CONFIG=%s", p);

	const char *ok[] = {env1, "SPEX_CGROUPS=off", NULL};
	cur_env = ok;
	CHECK_EQ_INT(settings_setup(fake_getenv, "/nonexistent/spex.json", &err), 0);
	CHECK_EQ_STR(settings_layer_get("SPEX_LOG_TAIL"), "8M");
	CHECK_EQ_STR(settings_layer_file(), p);
	settings_layer_reset();

	const char *bad[] = {env1, "SPEX_DISK_INTERVAL=1ms", NULL};
	cur_env = bad;
	CHECK_EQ_INT(settings_setup(fake_getenv, NULL, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err), "SPEX_DISK_INTERVAL: at least 100ms, got '1ms'");
	CHECK(settings_layer_get("SPEX_LOG_TAIL") == NULL); /* nothing installed */
	const char *bad2[] = {"SPEX_LOG_LEVEL=loud\nx", NULL};
	cur_env = bad2;
	CHECK_EQ_INT(settings_setup(fake_getenv, NULL, &err), -1);
	CHECK_EQ_STR(spx_error_msg(&err),
	             "SPEX_LOG_LEVEL: expected debug, info, warn or error, got 'loud\\x0ax'");
	spx_error_clear(&err);
}

/* ---- --print-config -------------------------------------------------------------- */

static char *
capture(int json, const char *const *env, const char *dflt, int *ret_code, char **ret_err)
{
	char *out = NULL, *errs = NULL;
	size_t n, m;
	FILE *o = open_memstream(&out, &n), *e = open_memstream(&errs, &m);
	cur_env = env;
	*ret_code = settings_print_config(fake_getenv, dflt, json, o, e);
	fclose(o);
	fclose(e);
	*ret_err = errs;
	return out;
}

TEST(print_config_text)
{
	char env1[160];
	const char *p =
	    write_tmp("print.json", "{\"disk_interval\": \"5secs\", \"cgroups\": \"off\"}", 44);
	snprintf(env1, sizeof(env1), "SPEX_CONFIG=%s", p);
	const char *env[] = {env1, "SPEX_CGROUPS=auto", "SPEX_LOG_TAIL=64M", NULL};
	int code;
	char *errs;
	char *out = capture(0, env, NULL, &code, &errs);

	CHECK_EQ_INT(code, 0);
	CHECK_EQ_STR(errs, "");
	CHECK(strstr(out, "# config file: ") == out);
	CHECK(strstr(out, "(from SPEX_CONFIG)") != NULL);
	/* One line per setting, after the comment; the value column aligned. */
	size_t lines = 0;
	long col = -1;
	for (char *l = strchr(out, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
		const struct setting *s = &settings_table[lines++];
		CHECK(strncmp(l, s->env, strlen(s->env)) == 0);
		char *v = l + strlen(s->env);
		v += strspn(v, " ");
		if (col < 0)
			col = v - l;
		CHECK_EQ_INT(v - l, col);
		if (lines == settings_count)
			break;
	}
	CHECK_EQ_INT(lines, settings_count);
	char want[256];
	CHECK(strstr(out, "\nSPEX_CGROUPS ") != NULL);
	snprintf(want, sizeof(want), "5secs                   file %s\n", p);
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "64M                     env\n") != NULL);
	CHECK(strstr(out, "auto                    env\n") != NULL);
	CHECK(strstr(out, "SPEX_ACK_TIMEOUT         60secs                  default\n") != NULL);
	CHECK(strstr(out, "(unset)") != NULL);
	CHECK(settings_layer_file() == NULL); /* the layer is gone again */
	free(out);
	free(errs);

	out = capture(0, no_env, "/nonexistent/spex.json", &code, &errs);
	CHECK_EQ_INT(code, 0);
	CHECK(strstr(out, "# config file: none (SPEX_CONFIG unset, /nonexistent/spex.json "
	                  "absent)\n") == out);
	free(out);
	free(errs);
}

TEST(print_config_json)
{
	char env1[160];
	const char *p = write_tmp("pj.json", "{\"pids_max\": 100}", 17);
	snprintf(env1, sizeof(env1), "SPEX_CONFIG=%s", p);
	const char *env[] = {env1, "SPEX_DISK=off", NULL};
	int code;
	char *errs;
	char *out = capture(1, env, NULL, &code, &errs);

	CHECK_EQ_INT(code, 0);
	cJSON *root = cJSON_Parse(out);
	CHECK(root != NULL);
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(root, "config_file")), p);
	cJSON *all = cJSON_GetObjectItem(root, "settings");
	CHECK_EQ_INT(cJSON_GetArraySize(all), settings_count);
	for (size_t i = 0; i < settings_count; i++) {
		cJSON *o = cJSON_GetObjectItem(all, settings_table[i].env);
		CHECK(o != NULL);
		CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(o, "key")),
		             settings_table[i].key);
	}
	cJSON *pm = cJSON_GetObjectItem(all, "SPEX_PIDS_MAX");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(pm, "value")), "100");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(pm, "source")), "file");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(pm, "default")), "32768");
	cJSON *dk = cJSON_GetObjectItem(all, "SPEX_DISK");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(dk, "value")), "off");
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(dk, "source")), "env");
	cJSON *dl = cJSON_GetObjectItem(all, "SPEX_DISK_LIMIT");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(dl, "value")));
	CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(dl, "source")), "default");
	cJSON_Delete(root);
	free(out);
	free(errs);

	out = capture(1, no_env, "/nonexistent/spex.json", &code, &errs);
	root = cJSON_Parse(out);
	CHECK(root && cJSON_IsNull(cJSON_GetObjectItem(root, "config_file")));
	cJSON_Delete(root);
	free(out);
	free(errs);
}

TEST(print_config_errors)
{
	char env1[160];
	const char *p = write_tmp("pe.json", "{\"disk\": \"maybe\"}", 17);
	snprintf(env1, sizeof(env1), "SPEX_CONFIG=%s", p);
	const char *env[] = {env1, NULL};
	int code;
	char *errs;
	char *out = capture(0, env, NULL, &code, &errs);
	char want[256];

	CHECK_EQ_INT(code, 1);
	CHECK_EQ_STR(out, "");
	snprintf(want, sizeof(want),
	         "spex-executor: %s: key 'disk': expected on or off, got "
	         "'maybe'\n",
	         p);
	CHECK_EQ_STR(errs, want);
	free(out);
	free(errs);
	const char *env2[] = {"SPEX_PIDS_MAX=-3", NULL};
	out = capture(1, env2, NULL, &code, &errs);
	CHECK_EQ_INT(code, 1);
	CHECK_EQ_STR(errs,
	             "spex-executor: SPEX_PIDS_MAX: expected a number (digits only), got '-3'\n");
	free(out);
	free(errs);
}

TEST(argv)
{
	char *a1[] = {"x", "--print-config", NULL};
	char *a2[] = {"x", "--print-config", "--json", NULL};
	char *a3[] = {"x", "--json", "--print-config", NULL};
	char *a4[] = {"x", "--json", NULL};
	char *a5[] = {"x", "--launcher_dir=/x", "--print-config", NULL};
	int unknown = -1;
	CHECK_EQ_INT(config_parse_argv(2, a1, &unknown), CLI_PRINT_CONFIG);
	CHECK_EQ_INT(unknown, 0);
	CHECK_EQ_INT(config_parse_argv(3, a2, &unknown), CLI_PRINT_CONFIG_JSON);
	CHECK_EQ_INT(config_parse_argv(3, a3, &unknown), CLI_PRINT_CONFIG_JSON);
	CHECK_EQ_INT(unknown, 0);
	CHECK_EQ_INT(config_parse_argv(2, a4, &unknown), CLI_RUN);
	CHECK_EQ_INT(unknown, 1);
	CHECK_EQ_INT(config_parse_argv(3, a5, &unknown), CLI_PRINT_CONFIG);
	CHECK_EQ_INT(unknown, 0);
}

int
main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/spex-settings-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(table_shape);
	RUN(defaults_are_the_parsers_defaults);
	RUN(checks_agree_with_parsers);
	RUN(suggestions);
	RUN(counts_digits_only);
	RUN(utf8_valid);
	RUN(messages_one_line_utf8);
	RUN(json_integers_exact);
	RUN(every_key_accepted);
	RUN(wrong_types_name_the_key);
	RUN(unknown_keys);
	RUN(duplicates_and_structure);
	RUN(malformed_json);
	RUN(oversize);
	RUN(file_location);
	RUN(open_errors_one_line);
	RUN(shipped_default_file_loads);
	RUN(env_wins_over_file);
	RUN(file_values_reach_the_parsers);
	RUN(setup_checks_env_values);
	RUN(print_config_text);
	RUN(print_config_json);
	RUN(print_config_errors);
	RUN(argv);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", tmpdir);
	return harness_done();
}
