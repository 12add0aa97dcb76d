#include "settings_file.h"
#include "utf8.h"
#include "settings.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define VALUE_MAX   4096               /* longest string value: no setting needs more */
#define EXACT_LIMIT 9007199254740992.0 /* 2^53: from here doubles are not exact integers */
#define KEY_SHOWN   64                 /* bytes of a key quoted in a message */

/* Put key into buf for a message: at most KEY_SHOWN bytes, not cut inside a
 * UTF-8 sequence. Control and invalid bytes are escaped later, with the
 * whole message (settings_one_line). */
static const char *
show_key(const char *key, char *buf, size_t n)
{
	size_t i = 0;
	for (; key[i] && i < KEY_SHOWN && i + 4 < n; i++)
		buf[i] = key[i];
	if (key[i]) {
		while (i > 0 && ((unsigned char)key[i] & 0xc0) == 0x80)
			i--; /* key[i] continues a sequence: cut before its start */
		memcpy(buf + i, "...", 3), i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static const char *
json_type(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "an unknown type";
}

static int
wrong_type(const struct setting *s, const cJSON *v, struct spx_error *err)
{
	return spx_error_set(err, 0, "expected %s, got %s", setting_expected(s), json_type(v));
}

/* A JSON number that must be a non-negative integer, as decimal text. cJSON
 * keeps only the double: 1.0 and 1e3 are the integers 1 and 1000; a value
 * from 2^53 up may be a larger literal rounded, so it is refused. */
static int
integer_text(const struct setting *s, const cJSON *v, char **ret, struct spx_error *err)
{
	double d = v->valuedouble;
	const char *what = NULL;

	if (!(d >= 0))
		what = "a negative number";
	else if (!(d < EXACT_LIMIT))
		what = "a number too large to be exact";
	else if (d != floor(d))
		what = "a fractional number";
	if (what)
		return spx_error_set(err, 0, "expected %s, got %s", setting_expected(s), what);
	*ret = xasprintf("%.0f", d + 0.0); /* + 0.0: -0 prints as 0 */
	return 0;
}

/* The shortest text that reads back as d exactly: 0.9, not 0.90000000000000002. */
static char *
number_text(double d)
{
	for (int prec = 15;; prec++) {
		char *t = xasprintf("%.*g", prec, d);
		if (prec == 17 || strtod(t, NULL) == d)
			return t;
		free(t);
	}
}

/* The text of a JSON string value, refused when empty (an empty env value
 * means "unset": the file would be ignored silently) or absurdly long. */
static int
string_text(const struct setting *s, const cJSON *v, char **ret, struct spx_error *err)
{
	size_t n = strlen(v->valuestring);
	if (n == 0)
		return spx_error_set(err, 0, "expected %s, got an empty string",
		                     setting_expected(s));
	if (n > VALUE_MAX)
		return spx_error_set(err, 0, "expected %s, got a string of %zu bytes",
		                     setting_expected(s), n);
	*ret = xstrdup(v->valuestring);
	return 0;
}

/* Convert v, the file's value for s, to the text the environment would
 * hold, and check it with the environment's rule. */
static int
file_value(const struct setting *s, const cJSON *v, char **ret, struct spx_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r = -1;

	if (cJSON_IsString(v) && s->kind != SK_COUNT && s->kind != SK_RATIO)
		r = string_text(s, v, &text, err);
	else if (cJSON_IsNumber(v) && (s->kind == SK_SIZE || s->kind == SK_COUNT))
		r = integer_text(s, v, &text, err);
	else if (cJSON_IsNumber(v) && s->kind == SK_RATIO)
		r = (text = number_text(v->valuedouble), 0);
	else if (cJSON_IsBool(v) && s->kind == SK_SWITCH)
		r = (text = xstrdup(s->words[cJSON_IsTrue(v) ? 0 : 1]), 0);
	else
		return wrong_type(s, v, err);
	if (r < 0 || setting_check(s, text, err) < 0)
		return -1;
	*ret = TAKE_PTR(text);
	return 0;
}

/* 1 if text holds the escape \u0000 inside a string: cJSON would cut the
 * string there, so "disk\u0000x" would silently read as "disk". */
static int
has_nul_escape(const char *text)
{
	for (const char *p = strstr(text, "\\u0000"); p; p = strstr(p + 1, "\\u0000")) {
		size_t bs = 0;
		while (p - bs > text && p[-(ptrdiff_t)bs - 1] == '\\')
			bs++;
		if (bs % 2 == 0)
			return 1; /* the backslash before 'u' is not itself escaped */
	}
	return 0;
}

/* The line and column (1-based, in bytes) of at in text. */
static void
position(const char *text, const char *at, int *ret_line, int *ret_col)
{
	int line = 1, col = 1;

	for (const char *p = text; at && p < at && *p; p++) {
		if (*p == '\n')
			line++, col = 1;
		else
			col++;
	}
	*ret_line = line;
	*ret_col = col;
}

static int
syntax_error(const char *path, const char *text, const char *at, struct spx_error *err)
{
	int line, col;

	if (text[strspn(text, " \t\r\n")] == '\0')
		return spx_error_set(err, 0, "%s: empty (expected a JSON object)", path);
	position(text, at, &line, &col);
	return spx_error_set(err, 0, "%s: invalid JSON at line %d, column %d", path, line, col);
}

/* Fill values from the members of root; -1 with *err (not yet prefixed by
 * the path). */
static int
parse_members(const cJSON *root, char **values, struct spx_error *err)
{
	const cJSON *item;
	char shown[KEY_SHOWN + 8];

	cJSON_ArrayForEach(item, root)
	{
		const char *key = item->string ? item->string : "";
		const struct setting *s = settings_by_key(key);
		if (!s && strncasecmp(key, "mesos_", 6) == 0)
			return spx_error_set(
			    err, 0,
			    "unknown key '%s' (MESOS_* variables come from the agent, "
			    "not from this file)",
			    show_key(key, shown, sizeof(shown)));
		if (!s) {
			const char *hint = settings_suggest_key(key);
			if (hint)
				return spx_error_set(err, 0,
				                     "unknown key '%s' (did you mean '%s'?)",
				                     show_key(key, shown, sizeof(shown)), hint);
			return spx_error_set(err, 0, "unknown key '%s'",
			                     show_key(key, shown, sizeof(shown)));
		}
		size_t i = (size_t)(s - settings_table);
		if (values[i])
			return spx_error_set(err, 0, "key '%s' appears more than once", s->key);
		if (file_value(s, item, &values[i], err) < 0)
			return spx_error_wrap(err, "key '%s'", s->key);
	}
	return 0;
}

static void
free_values(char **values)
{
	if (!values)
		return;
	for (size_t i = 0; i < settings_count; i++)
		free(values[i]);
	free(values);
}

/* settings_file_parse(), its message not yet made one line. */
static int
parse_text(const char *path, const char *text, size_t len, struct settings_file *ret,
           struct spx_error *err)
{
	const char *end = NULL;
	size_t bad;
	int line, col;

	if (len > SETTINGS_FILE_MAX)
		return spx_error_set(err, 0, "%s: larger than %d bytes", path, SETTINGS_FILE_MAX);
	if (memchr(text, '\0', len))
		return spx_error_set(err, 0, "%s: contains a NUL byte", path);
	_cleanup_free_ char *buf = xmalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = '\0';
	/* JSON is UTF-8, and cJSON does not check: a raw byte in a value would
	 * reach state.json and status messages. */
	if (!utf8_valid(buf, len, &bad)) {
		position(buf, buf + bad, &line, &col);
		return spx_error_set(err, 0, "%s: not valid UTF-8 at line %d, column %d", path,
		                     line, col);
	}
	if (has_nul_escape(buf))
		return spx_error_set(err, 0, "%s: \\u0000 in a string is not allowed", path);
	/* Require the NUL: plain cJSON_Parse accepts trailing garbage. */
	cJSON *root = cJSON_ParseWithOpts(buf, &end, 1);
	if (!root)
		return syntax_error(path, buf, end, err);
	if (!cJSON_IsObject(root)) {
		spx_error_set(err, 0, "%s: expected a JSON object at the top, got %s", path,
		              json_type(root));
		cJSON_Delete(root);
		return -1;
	}
	char **values = xcalloc(settings_count, sizeof(*values));
	int r = parse_members(root, values, err);
	cJSON_Delete(root);
	if (r < 0) {
		free_values(values);
		return spx_error_wrap(err, "%s", path);
	}
	ret->path = xstrdup(path);
	ret->values = values;
	return 0;
}

int
settings_file_parse(const char *path, const char *text, size_t len, struct settings_file *ret,
                    struct spx_error *err)
{
	if (parse_text(path, text, len, ret, err) < 0)
		return settings_one_line(err);
	return 0;
}

/* Read at most SETTINGS_FILE_MAX + 1 bytes of the regular file at path.
 * *ret_open_errno is the errno of a failed open(), else 0. */
static int
read_text(const char *path, char **ret, size_t *ret_len, int *ret_open_errno, struct spx_error *err)
{
	struct stat st;
	size_t len = 0, cap;

	*ret_open_errno = 0;
	/* O_NONBLOCK: a FIFO must not hang the executor's start. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*ret_open_errno = errno;
		return spx_error_set(err, errno, "cannot open %s", path);
	}
	if (fstat(fd, &st) < 0)
		return spx_error_set(err, errno, "cannot stat %s", path);
	if (!S_ISREG(st.st_mode))
		return spx_error_set(err, 0, "%s: not a regular file", path);
	if (st.st_size > SETTINGS_FILE_MAX)
		return spx_error_set(err, 0, "%s: larger than %d bytes", path, SETTINGS_FILE_MAX);
	cap = (size_t)st.st_size + 1;
	_cleanup_free_ char *buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap > SETTINGS_FILE_MAX)
				break; /* grew past the limit while we read: parse refuses it */
			cap = cap * 2 > SETTINGS_FILE_MAX + 1 ? SETTINGS_FILE_MAX + 1 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return spx_error_set(err, errno, "cannot read %s", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

static int
read_file(const char *path, struct settings_file *ret, int *ret_open_errno, struct spx_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	/* A path may hold any byte: every message is made one line. */
	if (read_text(path, &text, &len, ret_open_errno, err) < 0)
		return settings_one_line(err);
	return settings_file_parse(path, text, len, ret, err);
}

int
settings_file_read(const char *path, struct settings_file *ret, struct spx_error *err)
{
	int open_errno;
	return read_file(path, ret, &open_errno, err);
}

int
settings_file_load(config_getenv_fn get, const char *default_path, struct settings_file *ret,
                   struct spx_error *err)
{
	const char *p = get("SPEX_CONFIG");
	int open_errno = 0;

	memset(ret, 0, sizeof(*ret));
	if (p && *p) {
		/* Its path is printed as JSON (--print-config --json). */
		if (!utf8_valid(p, strlen(p), NULL)) {
			spx_error_set(err, 0, "SPEX_CONFIG: expected valid UTF-8, got '%s'", p);
			return settings_one_line(err);
		}
		if (read_file(p, ret, &open_errno, err) < 0)
			return open_errno ? spx_error_wrap(err, "SPEX_CONFIG") : -1;
		return 0;
	}
	if (!default_path)
		return 0;
	if (read_file(default_path, ret, &open_errno, err) < 0) {
		if (open_errno != ENOENT && open_errno != ENOTDIR)
			return -1;
		spx_error_clear(err); /* no configuration file: the defaults apply */
	}
	return 0;
}

void
settings_file_free(struct settings_file *f)
{
	if (!f)
		return;
	free_values(f->values);
	free(f->path);
	f->values = NULL;
	f->path = NULL;
}
