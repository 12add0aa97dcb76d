#include "config.h"
#include "duration.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Flags the agent and the Mesos containerizer pass to the command executor
 * (apache/mesos src/launcher/executor.cpp, containerizer.cpp). */
static const char *const agent_flags[] = {
    "--launcher_dir",
    "--sandbox_directory",
    "--working_directory",
    "--user",
    "--rootfs",
    "--task_command",
    "--task_environment",
    "--task_launch_info",
    "--tty_slave_path",
    "--task_supplementary_groups",
    "--effective_capabilities",
    "--bounding_capabilities",
    "--capabilities",
    "--help",
};

int
config_is_agent_flag(const char *flag)
{
	for (size_t i = 0; i < ARRAY_SIZE(agent_flags); i++) {
		if (strcmp(flag, agent_flags[i]) == 0)
			return 1;
	}
	return 0;
}

enum cli_action
config_parse_argv(int argc, char *const argv[], int *ret_unknown)
{
	enum cli_action action = CLI_RUN;
	int unknown = 0, json = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			action = CLI_VERSION;
			continue;
		}
		if (strcmp(a, "--print-config") == 0) {
			action = CLI_PRINT_CONFIG;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			json++;
			continue;
		}
		if (strcmp(a, "-h") == 0) {
			action = CLI_HELP;
			continue;
		}
		char name[64];
		size_t n = strcspn(a, "=");
		if (n >= sizeof(name)) {
			unknown++;
			continue;
		}
		memcpy(name, a, n);
		name[n] = '\0';
		if (strcmp(name, "--help") == 0 && a[n] == '\0') {
			action = CLI_HELP;
			continue;
		}
		if (!config_is_agent_flag(name))
			unknown++;
	}
	if (action == CLI_PRINT_CONFIG && json)
		action = CLI_PRINT_CONFIG_JSON;
	else
		unknown += json; /* --json means nothing on its own */
	if (ret_unknown)
		*ret_unknown = unknown;
	return action;
}

static int
parse_port(const char *s, int *ret_port)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 65535)
		return -1;
	*ret_port = (int)v;
	return 0;
}

int
config_parse_endpoint(const char *ep, char **ret_host, int *ret_port, struct spx_error *err)
{
	const char *colon;
	char *host;

	if (ep[0] == '[') {
		const char *close = strchr(ep, ']');
		if (!close || close[1] != ':')
			return spx_error_set(err, 0, "malformed endpoint '%s'", ep);
		host = xstrndup(ep + 1, (size_t)(close - ep - 1));
		colon = close + 1;
	} else {
		colon = strrchr(ep, ':');
		if (!colon || colon == ep)
			return spx_error_set(err, 0, "malformed endpoint '%s' (expected host:port)",
			                     ep);
		host = xstrndup(ep, (size_t)(colon - ep));
	}
	if (parse_port(colon + 1, ret_port) < 0) {
		free(host);
		return spx_error_set(err, 0, "malformed endpoint '%s': bad port", ep);
	}
	*ret_host = host;
	return 0;
}

int
config_parse_pid(const char *pid, char **ret_host, int *ret_port, char **ret_prefix,
                 struct spx_error *err)
{
	const char *at = strchr(pid, '@');

	if (!at || at == pid)
		return spx_error_set(err, 0,
		                     "malformed MESOS_SLAVE_PID '%s' (expected id@host:port)", pid);
	for (const char *p = pid; p < at; p++) {
		if (*p == '/' || *p == ' ' || (unsigned char)*p < 0x20)
			return spx_error_set(err, 0, "malformed MESOS_SLAVE_PID '%s'", pid);
	}
	if (config_parse_endpoint(at + 1, ret_host, ret_port, err) < 0)
		return spx_error_wrap(err, "MESOS_SLAVE_PID");
	*ret_prefix = xasprintf("/%.*s", (int)(at - pid), pid);
	return 0;
}

static int
env_duration(config_getenv_fn get, const char *name, int64_t def, int64_t *ret,
             struct spx_error *err)
{
	const char *v = get(name);
	if (!v || !*v) {
		*ret = def;
		return 0;
	}
	if (duration_parse(v, ret, err) < 0)
		return spx_error_wrap(err, "%s", name);
	return 0;
}

static int
required(config_getenv_fn get, const char *name, char **ret, struct spx_error *err)
{
	const char *v = get(name);
	if (!v || !*v)
		return spx_error_set(err, 0, "missing required environment variable %s", name);
	*ret = xstrdup(v);
	return 0;
}

static int
config_agent(struct config *cfg, config_getenv_fn get, struct spx_error *err)
{
	const char *pid = get("MESOS_SLAVE_PID");
	const char *ep = get("MESOS_AGENT_ENDPOINT");

	/* The v1 library builds its URL from MESOS_SLAVE_PID; so do we. */
	if (pid && *pid) {
		char *prefix = NULL;
		if (config_parse_pid(pid, &cfg->agent_host, &cfg->agent_port, &prefix, err) < 0)
			return -1;
		cfg->agent_path = xasprintf("%s/api/v1/executor", prefix);
		free(prefix);
		return 0;
	}
	if (ep && *ep) {
		if (config_parse_endpoint(ep, &cfg->agent_host, &cfg->agent_port, err) < 0)
			return spx_error_wrap(err, "MESOS_AGENT_ENDPOINT");
		cfg->agent_path = xstrdup("/api/v1/executor");
		return 0;
	}
	return spx_error_set(err, 0,
	                     "missing required environment variable MESOS_AGENT_ENDPOINT "
	                     "(or MESOS_SLAVE_PID)");
}

static int
config_sandbox(struct config *cfg, config_getenv_fn get, struct spx_error *err)
{
	static const char *const vars[] = {"MESOS_SANDBOX", "MESOS_DIRECTORY"};

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = get(vars[i]);
		if (!v || !*v)
			continue;
		if (v[0] != '/')
			return spx_error_set(err, 0, "%s must be an absolute path, got '%s'",
			                     vars[i], v);
		cfg->sandbox = xstrdup(v);
		cfg->sandbox_from = vars[i];
		return 0;
	}
	return spx_error_set(err, 0,
	                     "missing required environment variable MESOS_SANDBOX (or "
	                     "MESOS_DIRECTORY)");
}

int
config_from_env(struct config *cfg, config_getenv_fn get, struct spx_error *err)
{
	const char *v;

	memset(cfg, 0, sizeof(*cfg));
	cfg->default_kill_grace_ns = 3 * NSEC_PER_SEC;
	if (required(get, "MESOS_FRAMEWORK_ID", &cfg->framework_id, err) < 0 ||
	    required(get, "MESOS_EXECUTOR_ID", &cfg->executor_id, err) < 0 ||
	    config_agent(cfg, get, err) < 0 || config_sandbox(cfg, get, err) < 0)
		goto fail;

	v = get("MESOS_CHECKPOINT");
	cfg->checkpoint = v && strcmp(v, "1") == 0;
	if (env_duration(get, "MESOS_RECOVERY_TIMEOUT", 15 * 60 * NSEC_PER_SEC,
	                 &cfg->recovery_timeout_ns, err) < 0 ||
	    env_duration(get, "MESOS_SUBSCRIPTION_BACKOFF_MAX", 2 * NSEC_PER_SEC,
	                 &cfg->backoff_max_ns, err) < 0 ||
	    env_duration(get, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", 5 * NSEC_PER_SEC,
	                 &cfg->shutdown_grace_ns, err) < 0 ||
	    env_duration(get, "SPEX_ACK_TIMEOUT", 60 * NSEC_PER_SEC, &cfg->ack_timeout_ns, err) < 0)
		goto fail;

	v = get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN");
	if (v && *v)
		cfg->token = xstrdup(v);

	v = get("SPEX_CONTENT_TYPE");
	if (!v || !*v || strcmp(v, "application/x-protobuf") == 0) {
		cfg->content_type = CT_PROTOBUF;
	} else if (strcmp(v, "application/json") == 0) {
		cfg->content_type = CT_JSON;
	} else {
		spx_error_set(err, 0,
		              "SPEX_CONTENT_TYPE: unsupported '%s' (expected "
		              "application/x-protobuf or application/json)",
		              v);
		goto fail;
	}
	return 0;
fail:
	config_free(cfg);
	return -1;
}

void
config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free(cfg->framework_id);
	free(cfg->executor_id);
	free(cfg->agent_host);
	free(cfg->agent_path);
	free(cfg->sandbox);
	if (cfg->token) {
		explicit_bzero(cfg->token, strlen(cfg->token));
		free(cfg->token);
	}
	memset(cfg, 0, sizeof(*cfg));
}
