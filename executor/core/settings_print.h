/*
 * spex-executor --print-config: the effective value of every setting and
 * where it came from, as aligned text or as JSON.
 *
 *	# config file: /etc/spex/spex.json
 *	SPEX_CONTENT_TYPE        application/x-protobuf  default
 *	SPEX_DISK_INTERVAL       5secs                   file /etc/spex/spex.json
 *	SPEX_LOG_TAIL            64M                     env
 *
 *	{"config_file": "/etc/spex/spex.json" | null,
 *	 "settings": {"SPEX_DISK_INTERVAL": {"key": "disk_interval",
 *	     "value": "5secs" | null, "source": "default" | "env" | "file",
 *	     "default": "10secs" | null}, ...}}
 *
 * A value is null (text: "(unset)") when the setting has no fixed default
 * and nothing sets it.
 */
#ifndef EXECUTOR_CORE_SETTINGS_PRINT_H
#define EXECUTOR_CORE_SETTINGS_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* The installed layer (settings_layer.h) as text; get (the environment)
 * tells whether SPEX_CONFIG chose the file, default_path is named when
 * there is none. */
void settings_print_text(FILE *out, config_getenv_fn get, const char *default_path);

/* The installed layer as one JSON object, pretty-printed, newline-ended. */
void settings_print_json(FILE *out);

/* The whole of --print-config: settings_setup(get, default_path), then the
 * text or JSON on out. Returns the exit status: 0, or 1 after
 * "spex-executor: <error>" on errout. Leaves no layer installed. Needs no
 * MESOS_* variable. */
int settings_print_config(config_getenv_fn get, const char *default_path, bool json, FILE *out,
                          FILE *errout);

#endif /* EXECUTOR_CORE_SETTINGS_PRINT_H */
