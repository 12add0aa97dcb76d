/*
 * libFuzzer target for the JSON configuration file (core/settings_file.c)
 * and the setting checks (core/settings.c).
 *
 * 1. The input goes to settings_file_parse(): it returns 0 or -1. On -1 the
 *    message is one line of valid UTF-8 without control characters,
 *    starting with the path. On 0 every value kept
 *    passes setting_check(), and through the env-over-file layer the
 *    settings' own parsers (config_from_env, disk_settings_from_env,
 *    cgroup_config_from_env, log_level_parse) accept all of them together:
 *    a file never holds what the environment would refuse. The values,
 *    written back as a JSON object, parse to the same values; printing the
 *    effective configuration (text and JSON) works.
 * 2. The input as one text (short, without NUL) goes to setting_check() for
 *    every setting and must get the verdict of that setting's own parser;
 *    text that is not valid UTF-8 is refused by every setting (some parsers,
 *    SPEX_CGROUP_ROOT's, take any byte: the check in front of them does
 *    not). Every refusal is one clean line, as in 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cgroup.h"
#include "config.h"
#include "disk_policy.h"
#include "log.h"
#include "settings.h"
#include "utf8.h"
#include "settings_file.h"
#include "settings_layer.h"
#include "settings_print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "/etc/spex/spex.json"

/* The environment: what config_from_env requires, and one NAME=value. */
static const char *one_name, *one_value;

static const char *
fake_env(const char *name)
{
	static const char *const agent[][2] = {
	    {"MESOS_FRAMEWORK_ID", "fw"},
	    {"MESOS_EXECUTOR_ID", "ex"},
	    {"MESOS_AGENT_ENDPOINT", "127.0.0.1:5051"},
	    {"MESOS_SANDBOX", "/sb"},
	};
	for (size_t i = 0; i < sizeof(agent) / sizeof(agent[0]); i++)
		if (strcmp(name, agent[i][0]) == 0)
			return agent[i][1];
	if (one_name && strcmp(name, one_name) == 0)
		return one_value;
	return NULL;
}

/* 1 if msg is one line of valid UTF-8 without control characters. */
static int
clean_line(const char *msg)
{
	if (!msg || !utf8_valid(msg, strlen(msg), NULL))
		return 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0))
			return 0;
	return 1;
}

/* 1 if every parser accepts what get gives; loud: say why not. */
static int
parsers_accept(config_getenv_fn get, int loud)
{
	struct spx_error err = {0};
	struct config cfg;
	struct disk_settings ds;
	struct cgroup_config cg;
	enum log_level lvl;
	int ok = 1;

	if (config_from_env(&cfg, get, &err) < 0)
		ok = 0;
	else
		config_free(&cfg);
	if (disk_settings_from_env(&ds, get, &err) < 0 ||
	    cgroup_config_from_env(&cg, get, &err) < 0)
		ok = 0;
	const char *l = get("SPEX_LOG_LEVEL");
	if (l && *l && log_level_parse(l, &lvl) < 0)
		ok = 0;
	if (!ok && loud)
		fprintf(stderr, "parsers refuse: %s\n", spx_error_msg(&err));
	spx_error_clear(&err);
	return ok;
}

/* The values of f written back as a JSON object. */
static char *
reencode(const struct settings_file *f)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings_table[i];
		const char *v = f->values[i];
		if (!v)
			continue;
		int raw = s->kind == SK_COUNT || s->kind == SK_RATIO;
		cJSON_AddItemToObject(o, s->key, raw ? cJSON_CreateRaw(v) : cJSON_CreateString(v));
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text)
		abort();
	return text;
}

static void
check_file(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct settings_file f = {0}, g = {0};
	struct spx_error err = {0};

	if (settings_file_parse(PATH, (const char *)data, size, &f, &err) < 0) {
		if (!err.msg || strncmp(err.msg, PATH ": ", strlen(PATH) + 2) != 0 ||
		    !clean_line(err.msg) || f.values || f.path) {
			fprintf(stderr, "bad failure: '%s'\n", spx_error_msg(&err));
			abort();
		}
		spx_error_clear(&err);
		return;
	}
	if (err.msg || !f.values || strcmp(f.path, PATH) != 0)
		abort();
	for (size_t i = 0; i < settings_count; i++) {
		if (f.values[i] &&
		    (!*f.values[i] || setting_check(&settings_table[i], f.values[i], &err) < 0)) {
			fprintf(stderr, "kept %s='%s': %s\n", settings_table[i].key, f.values[i],
			        spx_error_msg(&err));
			abort();
		}
	}
	char *again = reencode(&f);
	if (settings_file_parse(PATH, again, strlen(again), &g, &err) < 0) {
		fprintf(stderr, "'%s' does not parse back: %s\n", again, spx_error_msg(&err));
		abort();
	}
	for (size_t i = 0; i < settings_count; i++) {
		const char *a = f.values[i], *b = g.values[i];
		if (!a != !b || (a && strcmp(a, b) != 0)) {
			fprintf(stderr, "'%s': %s changed\n", again, settings_table[i].key);
			abort();
		}
	}
	free(again);
	settings_file_free(&g);

	one_name = NULL;
	settings_layer_install(fake_env, &f);
	if (settings_layer_check(&err) < 0 || !parsers_accept(settings_layer_get, 1))
		abort();
	if (!devnull)
		devnull = fopen("/dev/null", "we");
	if (devnull) {
		settings_print_text(devnull, fake_env, PATH);
		settings_print_json(devnull);
	}
	settings_layer_reset();
}

static void
check_text(const uint8_t *data, size_t size)
{
	char text[256];

	if (size >= sizeof(text) || memchr(data, '\0', size))
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	int utf8 = utf8_valid(text, size, NULL);
	for (size_t i = 0; i < settings_count; i++) {
		struct spx_error err = {0};
		int mine = setting_check(&settings_table[i], text, &err) == 0;
		if (!mine && (!err.msg || !*err.msg || !clean_line(err.msg))) {
			fprintf(stderr, "refusal: '%s'\n", spx_error_msg(&err));
			abort(); /* a refusal says why, in one clean line */
		}
		if (!utf8 && size > 0) {
			if (mine)
				abort(); /* not UTF-8: refused */
			spx_error_clear(&err);
			continue;
		}
		one_name = settings_table[i].env;
		one_value = text;
		int theirs = parsers_accept(fake_env, 0);
		if (mine != theirs) {
			fprintf(stderr, "%s='%s': check %d, parser %d\n", one_name, text, mine,
			        theirs);
			abort();
		}
		spx_error_clear(&err);
	}
	one_name = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_file(data, size);
	check_text(data, size);
	return 0;
}
