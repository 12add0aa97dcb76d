/*
 * The effective settings: the environment over the configuration file.
 *
 * main() installs one process-wide layer at start (settings_setup()); from
 * then on settings_layer_get() is the config_getenv_fn every parser reads
 * through (config_from_env, disk_settings_from_env, cgroup_config_from_env,
 * SPEX_LOG_LEVEL), so file values reach them unchanged in form and no
 * parser knows about the file. A variable set to a non-empty value in the
 * environment wins; an empty one counts as unset, as for every parser.
 * MESOS_* and other names that are not settings come from the environment
 * only.
 */
#ifndef EXECUTOR_CORE_SETTINGS_LAYER_H
#define EXECUTOR_CORE_SETTINGS_LAYER_H

#include "config.h"
#include "error.h"
#include "settings.h"
#include "settings_file.h"

enum setting_source { SRC_DEFAULT, SRC_ENV, SRC_FILE };

/* Install the layer: get reads the environment; *f (may be NULL: no file)
 * is moved into the layer, and *f reads as "no file" afterwards. Replaces
 * and releases a previous layer. */
void settings_layer_install(config_getenv_fn get, struct settings_file *f);

/* Release the layer; settings_layer_get() returns NULL for everything. */
void settings_layer_reset(void);

/* A config_getenv_fn: the environment's value if non-empty, else the file's
 * value of that setting, else NULL. NULL for everything when no layer is
 * installed. */
const char *settings_layer_get(const char *name);

/* Where the effective value of s comes from; *ret_value (may be NULL) is the
 * value, or NULL for SRC_DEFAULT. */
enum setting_source settings_layer_source(const struct setting *s, const char **ret_value);

/* The path of the installed file, or NULL. */
const char *settings_layer_file(void);

/* The number of settings the installed file sets. */
size_t settings_layer_file_count(void);

/* Check every setting's effective value with setting_check(). -1 with
 * "SPEX_DISK_INTERVAL: at least 100ms, got '1ms'" (env values; a file's
 * were checked when it was parsed). */
int settings_layer_check(struct spx_error *err);

/* What main and --print-config do first: settings_file_load(get,
 * default_path), install the layer, check it. On failure -1 with the one
 * line in *err and no layer installed. */
int settings_setup(config_getenv_fn get, const char *default_path, struct spx_error *err);

#endif /* EXECUTOR_CORE_SETTINGS_LAYER_H */
