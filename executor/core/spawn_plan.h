/*
 * What to exec for a CommandInfo, computed before fork so the child only
 * calls execve(): the candidate executable paths, argv and envp, byte-exact.
 * Nothing is quoted, split or re-joined anywhere: shell=true hands the value
 * to "/bin/sh -c" untouched, shell=false uses `arguments` as the whole argv.
 */
#ifndef EXECUTOR_CORE_SPAWN_PLAN_H
#define EXECUTOR_CORE_SPAWN_PLAN_H

#include <stddef.h>

#include "error.h"
#include "mesos.pb-c.h"

#define SPAWN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct spawn_plan {
	char **candidates; /* NULL-terminated paths to try with execve, in order */
	char **argv;       /* NULL-terminated */
	char **envp;       /* NULL-terminated, "NAME=value" */
	char *display;     /* the executable as given, for messages */
};

/*
 * Build the plan for cmd. base_env is the executor's environment (NULL-
 * terminated). Task env = base_env minus MESOS_EXECUTOR_AUTHENTICATION_TOKEN,
 * then cmd's VALUE variables in order (later wins), then MESOS_SANDBOX =
 * sandbox, MESOS_ALLOCATION_ROLE when role is given, PATH when missing.
 * A relative executable is tried in the sandbox first, then along the task's
 * PATH. Returns -1 with *err when the command has no value.
 */
int spawn_plan_build(const Mesos__V1__CommandInfo *cmd, char *const *base_env, const char *sandbox,
                     const char *role, struct spawn_plan *plan, struct spx_error *err);

/* Set name=value in the plan's environment (replacing an existing entry). */
void spawn_plan_setenv(struct spawn_plan *plan, const char *name, const char *value);

/* Release the plan. NULL-safe; works on a half-built plan. */
void spawn_plan_free(struct spawn_plan *plan);

/* Value of name in a NULL-terminated env, or NULL. */
const char *env_lookup(char *const *envp, const char *name);

#endif /* EXECUTOR_CORE_SPAWN_PLAN_H */
