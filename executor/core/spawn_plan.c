#include "spawn_plan.h"
#include "util.h"

#include <string.h>

/* A growable NULL-terminated string vector. */
struct strv {
	char **v;
	size_t n, cap;
};

static void
strv_push(struct strv *s, char *item)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof(char *));
	}
	s->v[s->n++] = item;
	s->v[s->n] = NULL;
}

static void
strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static size_t
name_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* Set name=value in the env vector, replacing an existing entry in place. */
static void
env_set(struct strv *env, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *kv = xasprintf("%s=%s", name, value);

	for (size_t i = 0; i < env->n; i++) {
		if (name_len(env->v[i]) == nl && strncmp(env->v[i], name, nl) == 0) {
			free(env->v[i]);
			env->v[i] = kv;
			return;
		}
	}
	strv_push(env, kv);
}

const char *
env_lookup(char *const *envp, const char *name)
{
	size_t nl = strlen(name);
	for (char *const *p = envp; p && *p; p++) {
		if (name_len(*p) == nl && strncmp(*p, name, nl) == 0)
			return *p + nl + 1;
	}
	return NULL;
}

static void
build_env(struct strv *env, const Mesos__V1__CommandInfo *cmd, char *const *base_env,
          const char *sandbox, const char *role)
{
	for (char *const *p = base_env; p && *p; p++) {
		if (!strchr(*p, '='))
			continue;
		if (strncmp(*p, "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=", 36) == 0)
			continue;
		_cleanup_free_ char *name = xstrndup(*p, name_len(*p));
		env_set(env, name, strchr(*p, '=') + 1);
	}
	if (cmd->environment) {
		for (size_t i = 0; i < cmd->environment->n_variables; i++) {
			const Mesos__V1__Environment__Variable *v = cmd->environment->variables[i];
			/* SECRET variables are resolved by the agent's isolator, not us. */
			if (v->has_type && v->type != MESOS__V1__ENVIRONMENT__VARIABLE__TYPE__VALUE)
				continue;
			if (!v->name || !*v->name || strchr(v->name, '='))
				continue;
			env_set(env, v->name, v->value ? v->value : "");
		}
	}
	env_set(env, "MESOS_SANDBOX", sandbox);
	if (role && *role)
		env_set(env, "MESOS_ALLOCATION_ROLE", role);
	if (!env_lookup(env->v, "PATH"))
		env_set(env, "PATH", SPAWN_DEFAULT_PATH);
}

static void
build_candidates(struct strv *cands, const char *exe, const char *sandbox, const char *path)
{
	if (strchr(exe, '/')) {
		/* Relative paths resolve against the cwd, which is the sandbox. */
		strv_push(cands, exe[0] == '/' ? xstrdup(exe) : xasprintf("%s/%s", sandbox, exe));
		return;
	}
	strv_push(cands, xasprintf("%s/%s", sandbox, exe));
	const char *p = path;
	while (p && *p) {
		size_t n = strcspn(p, ":");
		if (n == 0)
			strv_push(cands, xasprintf("%s/%s", sandbox, exe));
		else
			strv_push(cands, xasprintf("%.*s/%s", (int)n, p, exe));
		p += n;
		if (*p == ':')
			p++;
	}
}

int
spawn_plan_build(const Mesos__V1__CommandInfo *cmd, char *const *base_env, const char *sandbox,
                 const char *role, struct spawn_plan *plan, struct spx_error *err)
{
	struct strv env = {0}, argv = {0}, cands = {0};
	/* proto2 default: shell = true when the field is absent. */
	int shell = cmd->has_shell ? cmd->shell : 1;

	memset(plan, 0, sizeof(*plan));
	if (!cmd->value || (!*cmd->value && shell))
		return spx_error_set(err, 0, "CommandInfo has no value to run");
	build_env(&env, cmd, base_env, sandbox, role);
	if (shell) {
		strv_push(&cands, xstrdup("/bin/sh"));
		strv_push(&argv, xstrdup("sh"));
		strv_push(&argv, xstrdup("-c"));
		strv_push(&argv, xstrdup(cmd->value));
	} else {
		if (!*cmd->value) {
			strv_free(env.v);
			return spx_error_set(err, 0, "CommandInfo has an empty executable");
		}
		build_candidates(&cands, cmd->value, sandbox, env_lookup(env.v, "PATH"));
		if (cmd->n_arguments == 0)
			strv_push(&argv, xstrdup(cmd->value));
		for (size_t i = 0; i < cmd->n_arguments; i++)
			strv_push(&argv, xstrdup(cmd->arguments[i] ? cmd->arguments[i] : ""));
	}
	plan->candidates = cands.v;
	plan->argv = argv.v;
	plan->envp = env.v;
	plan->display = xstrdup(shell ? "/bin/sh" : cmd->value);
	return 0;
}

void
spawn_plan_setenv(struct spawn_plan *plan, const char *name, const char *value)
{
	struct strv env = {.v = plan->envp};
	while (env.v && env.v[env.n])
		env.n++;
	env.cap = env.n + 1;
	env_set(&env, name, value);
	plan->envp = env.v;
}

void
spawn_plan_free(struct spawn_plan *plan)
{
	if (!plan)
		return;
	strv_free(plan->candidates);
	strv_free(plan->argv);
	strv_free(plan->envp);
	free(plan->display);
	memset(plan, 0, sizeof(*plan));
}
