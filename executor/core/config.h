/*
 * The executor's configuration, read from the environment the agent gives it
 * (and SPEX_* settings) and from its argv. Pure: the environment is passed in
 * as a lookup function so tests need no setenv().
 */
#ifndef EXECUTOR_CORE_CONFIG_H
#define EXECUTOR_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

enum content_type { CT_PROTOBUF, CT_JSON };

struct config {
	char *framework_id; /* MESOS_FRAMEWORK_ID (required) */
	char *executor_id;  /* MESOS_EXECUTOR_ID (required) */
	char *agent_host;   /* from MESOS_SLAVE_PID or MESOS_AGENT_ENDPOINT */
	int agent_port;
	char *agent_path;               /* "/slave(1)/api/v1/executor" or "/api/v1/executor" */
	char *sandbox;                  /* MESOS_SANDBOX, else MESOS_DIRECTORY */
	const char *sandbox_from;       /* which variable gave it */
	bool checkpoint;                /* MESOS_CHECKPOINT == "1" */
	int64_t recovery_timeout_ns;    /* MESOS_RECOVERY_TIMEOUT, default 15mins */
	int64_t backoff_max_ns;         /* MESOS_SUBSCRIPTION_BACKOFF_MAX, default 2secs */
	int64_t shutdown_grace_ns;      /* MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, default 5secs */
	char *token;                    /* MESOS_EXECUTOR_AUTHENTICATION_TOKEN, never logged */
	enum content_type content_type; /* SPEX_CONTENT_TYPE */
	int64_t ack_timeout_ns; /* SPEX_ACK_TIMEOUT: failsafe wait for the last ACK, 60secs */
	int64_t default_kill_grace_ns; /* 3secs, as Mesos */
};

typedef const char *(*config_getenv_fn)(const char *name);

/* Fill *cfg from the environment. Returns -1 with one line in *err naming
 * the variable that is missing or malformed. Release with config_free(). */
int config_from_env(struct config *cfg, config_getenv_fn getenv_fn, struct spx_error *err);

/* Release everything config_from_env() allocated. NULL-safe. */
void config_free(struct config *cfg);

/* Split "slave(1)@10.0.0.5:5051" into host, port and the path prefix
 * "/slave(1)". Returns -1 with *err on a malformed value. */
int config_parse_pid(const char *pid, char **ret_host, int *ret_port, char **ret_prefix,
                     struct spx_error *err);

/* Split "host:port" ("[v6]:port" too). Returns -1 with *err on a malformed value. */
int config_parse_endpoint(const char *ep, char **ret_host, int *ret_port, struct spx_error *err);

/* What the command line asked for. */
enum cli_action {
	CLI_RUN,
	CLI_VERSION,
	CLI_HELP,
	CLI_PRINT_CONFIG,      /* --print-config */
	CLI_PRINT_CONFIG_JSON, /* --print-config --json */
};

/* Classify argv. The agent passes its built-in command executor's flags
 * (--launcher_dir=..., --sandbox_directory=..., ...): known ones are accepted
 * and ignored; unknown ones are counted into *ret_unknown (the caller logs
 * them). Never fails: spex must start whatever the agent passes. --json
 * counts only with --print-config (else it is unknown); of --version,
 * --help and --print-config the last one wins. */
enum cli_action config_parse_argv(int argc, char *const argv[], int *ret_unknown);

/* 1 if flag (without value, e.g. "--launcher_dir") is one the agent passes. */
int config_is_agent_flag(const char *flag);

#endif /* EXECUTOR_CORE_CONFIG_H */
