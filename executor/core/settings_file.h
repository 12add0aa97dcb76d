/*
 * The optional JSON configuration file: /etc/spex/spex.json, or the file
 * SPEX_CONFIG names.
 *
 *	{ "disk_interval": "5secs", "log_tail": "64MiB", "cgroups": "required" }
 *
 * The root is an object whose keys are file keys of settings.h; every key is
 * checked (unknown, duplicated, wrong JSON type, or a value the environment
 * would refuse: one line naming the file and the key), the file must be
 * valid UTF-8 (JSON is; cJSON does not check), and each value is
 * kept in the text form the environment would give, so the existing parsers
 * read file values through the same config_getenv_fn (settings_layer.h).
 */
#ifndef EXECUTOR_CORE_SETTINGS_FILE_H
#define EXECUTOR_CORE_SETTINGS_FILE_H

#include <stddef.h>

#include "config.h"
#include "error.h"

#define SETTINGS_DEFAULT_PATH "/etc/spex/spex.json"
#define SETTINGS_FILE_MAX     (1024 * 1024) /* bytes */

struct settings_file {
	char *path;    /* where it was read from; NULL: no file */
	char **values; /* settings_count entries, in table order: the value as env text,
	                  or NULL when the file does not set it */
};

/* Parse text (len bytes, need not be NUL-terminated) read from path (used
 * in messages only) into *ret. Returns 0, or -1 with one line in *err:
 * "<path>: key 'disk_interval': expected a duration like \"10secs\", got a
 * number". *ret is untouched on failure; release it with
 * settings_file_free(). */
int settings_file_parse(const char *path, const char *text, size_t len, struct settings_file *ret,
                        struct spx_error *err);

/* Read and parse the file at path (a regular file of at most
 * SETTINGS_FILE_MAX bytes). -1 with *err naming path on any failure, one line
 * of valid UTF-8 whatever path holds (settings_one_line); errno of an open()
 * failure is kept in err->errnum. */
int settings_file_read(const char *path, struct settings_file *ret, struct spx_error *err);

/* Find and read the configuration: the file SPEX_CONFIG names (per get) if
 * set and non-empty, where missing or unreadable is an error naming
 * SPEX_CONFIG, and so is a SPEX_CONFIG that is not valid UTF-8; else
 * default_path if it exists (absent is fine: ret->path is then NULL and no
 * value is set). Every message is one line, as settings_file_read's. */
int settings_file_load(config_getenv_fn get, const char *default_path, struct settings_file *ret,
                       struct spx_error *err);

/* Release what parse/read/load filled in; the struct reads as "no file"
 * afterwards. NULL-safe. */
void settings_file_free(struct settings_file *f);

#endif /* EXECUTOR_CORE_SETTINGS_FILE_H */
