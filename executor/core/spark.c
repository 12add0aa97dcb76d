#include "spark.h"

#include <stdio.h>
#include <string.h>

static const char *
env_value(const Mesos__V1__CommandInfo *cmd, const char *name)
{
	if (!cmd->environment)
		return NULL;
	const char *v = NULL;
	for (size_t i = 0; i < cmd->environment->n_variables; i++) {
		const Mesos__V1__Environment__Variable *var = cmd->environment->variables[i];
		if (var->name && var->value && strcmp(var->name, name) == 0)
			v = var->value; /* later wins, as in the task's env */
	}
	return v;
}

/* The size after the last "-Xmx" in s, if it is a well-formed size token. */
static int
last_xmx(const char *s, char *out, size_t n)
{
	const char *found = NULL;
	for (const char *p = s; (p = strstr(p, "-Xmx")); p += 4)
		found = p + 4;
	if (!found)
		return -1;
	size_t len = strspn(found, "0123456789");
	if (len == 0)
		return -1;
	if (strchr("kKmMgGtT", found[len]) && found[len] != '\0')
		len++;
	if (len >= n)
		return -1;
	memcpy(out, found, len);
	out[len] = '\0';
	return 0;
}

int
spark_executor_heap(const Mesos__V1__CommandInfo *cmd, char *out, size_t n)
{
	const char *mem = env_value(cmd, "SPARK_EXECUTOR_MEMORY");
	if (mem && *mem && strlen(mem) < n && strspn(mem, "0123456789") > 0) {
		snprintf(out, n, "%s", mem);
		return 0;
	}
	static const char *const opts[] = {"SPARK_EXECUTOR_OPTS", "JAVA_OPTS"};
	if (cmd->value && last_xmx(cmd->value, out, n) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *v = env_value(cmd, opts[i]);
		if (v && last_xmx(v, out, n) == 0)
			return 0;
	}
	return -1;
}
