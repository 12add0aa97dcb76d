/*
 * The table of every SPEX_* setting, and the checks a value must pass.
 *
 * A setting is read by its existing parser (config_from_env,
 * disk_settings_from_env, cgroup_config_from_env, SPEX_LOG_LEVEL in main)
 * through a config_getenv_fn; this table only names, documents and checks
 * them, so that a value from the configuration file (settings_file.h) is
 * refused with the same rule as the same text in the environment. Pure.
 *
 * The file key of a setting is its env name, lowercase, without "SPEX_":
 * SPEX_DISK_LIMIT is "disk_limit". MESOS_* variables come from the agent and
 * are not settings: they cannot be set in the file.
 */
#ifndef EXECUTOR_CORE_SETTINGS_H
#define EXECUTOR_CORE_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* What a setting holds; decides the JSON types the file accepts. */
enum setting_kind {
	SK_DURATION, /* Mesos duration text ("10secs"); file: a string */
	SK_SIZE,     /* bytes, parse_bytes() text ("10GiB"); file: a string or an integer */
	SK_COUNT,    /* a non-negative integer, digits only; file: an integer */
	SK_RATIO,    /* a number in (0, 1]; file: a number */
	SK_CHOICE,   /* one of words[]; file: a string */
	SK_SWITCH,   /* words[0] = on, words[1] = off, more spellings after; file: a
	                boolean, or one of the words as a string */
	SK_PATH,     /* an absolute path; file: a string */
};

struct setting {
	const char *env;          /* "SPEX_DISK_INTERVAL" */
	const char *key;          /* "disk_interval": the file key */
	enum setting_kind kind;   /* what the value is */
	const char *const *words; /* SK_CHOICE, SK_SWITCH: accepted words, NULL-terminated */
	const char *def;          /* the default as the env would spell it; NULL: unset,
	                             the parser decides (see def_doc) */
	const char *def_doc;      /* the default in words, for docs and --print-config */
	const char *unit;         /* "bytes", "duration", ... for docs */
	int64_t min_ns;           /* SK_DURATION: the smallest accepted value */
	const char *doc;          /* one line: what it does */
};

/* The table, in documentation order, and its length. */
extern const struct setting settings_table[];
extern const size_t settings_count;

/* The entry for an env name or a file key; NULL if there is none. */
const struct setting *settings_by_env(const char *env);
const struct setting *settings_by_key(const char *key);

/* Check text, as it would be given in the environment, against s with the
 * same parser s's consumer uses. 0, or -1 with the reason in *err (not
 * prefixed with the name: "invalid duration 'x': ..."). Empty text means
 * "unset" to every consumer and passes. Text that is not valid UTF-8 is
 * refused for every setting (it would reach JSON: state.json, status
 * messages, --print-config --json). The message is one line of valid UTF-8
 * (settings_one_line). */
int setting_check(const struct setting *s, const char *text, struct spx_error *err);

/* A file key close to key (a typo, or an env name given as a key), for a
 * "did you mean" hint; NULL if none is close. */
const char *settings_suggest_key(const char *key);

/* What the file's JSON value must be, for messages: "a duration like
 * \"10secs\"". Static storage, valid until the next call. */
const char *setting_expected(const struct setting *s);

/* Parse text as a count: decimal digits only, the first character too (no
 * space, sign or "0x"), at most UINT64_MAX. The rule of every SK_COUNT
 * setting's parser (SPEX_MIN_FREE_INODES, SPEX_PIDS_MAX) and of
 * setting_check(). 0 with *ret set, or -1 with *err ("expected a number
 * (digits only), got ' 1'"; not prefixed with a name) and *ret untouched. */
int settings_parse_count(const char *text, uint64_t *ret, struct spx_error *err);

/* Make err's message one line of valid UTF-8, whatever a value quoted in it
 * held: control characters (C0, DEL, C1) and bytes that are not part of
 * valid UTF-8 become the text \xNN. What every settings error goes through
 * before it reaches a log line, a status message or state.json. Returns -1. */
int settings_one_line(struct spx_error *err);

/* Copy msg into buf (size > 0 bytes) escaped as settings_one_line() does,
 * cut if it does not fit at a character boundary, never inside a UTF-8
 * sequence or an escape: buf always holds one line of valid UTF-8. Returns
 * buf. */
char *settings_line_copy(char *buf, size_t size, const char *msg);

#endif /* EXECUTOR_CORE_SETTINGS_H */
