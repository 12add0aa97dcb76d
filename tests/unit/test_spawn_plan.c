/* argv/env building: byte-exact, later wins, token removed, PATH default. */
#include "harness.h"
#include "spawn_plan.h"

static Mesos__V1__Environment__Variable *
var(Mesos__V1__Environment__Variable *v, const char *name, const char *value, int type)
{
	mesos__v1__environment__variable__init(v);
	v->name = (char *)name;
	v->value = (char *)value;
	if (type >= 0) {
		v->has_type = 1;
		v->type = (Mesos__V1__Environment__Variable__Type)type;
	}
	return v;
}

TEST(shell_default_true)
{
	Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
	struct spawn_plan p;
	struct spx_error err = {0};
	char *base[] = {"HOME=/root", NULL};
	cmd.value = "cd spark-3*; ./bin/spark-class \"$X\" `id` 'a b'";
	CHECK_EQ_INT(spawn_plan_build(&cmd, base, "/sb", NULL, &p, &err), 0);
	CHECK_EQ_STR(p.candidates[0], "/bin/sh");
	CHECK(p.candidates[1] == NULL);
	CHECK_EQ_STR(p.argv[0], "sh");
	CHECK_EQ_STR(p.argv[1], "-c");
	CHECK_EQ_STR(p.argv[2], cmd.value); /* untouched */
	CHECK(p.argv[3] == NULL);
	spawn_plan_free(&p);
}

TEST(no_shell_argv_exact)
{
	Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
	struct spawn_plan p;
	struct spx_error err = {0};
	char *args[] = {"java", "", "a b", "$HOME", "`x`", "\"q\"", "\xc3\xa9t\xc3\xa9"};
	cmd.has_shell = 1;
	cmd.shell = 0;
	cmd.value = "/usr/bin/java";
	cmd.n_arguments = 7;
	cmd.arguments = args;
	CHECK_EQ_INT(spawn_plan_build(&cmd, NULL, "/sb", NULL, &p, &err), 0);
	CHECK_EQ_STR(p.candidates[0], "/usr/bin/java");
	for (int i = 0; i < 7; i++)
		CHECK_EQ_STR(p.argv[i], args[i]);
	CHECK(p.argv[7] == NULL);
	spawn_plan_free(&p);
}

TEST(no_shell_path_search)
{
	Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
	struct spawn_plan p;
	struct spx_error err = {0};
	char *base[] = {"PATH=/a:/b", NULL};
	cmd.has_shell = 1;
	cmd.shell = 0;
	cmd.value = "tool";
	CHECK_EQ_INT(spawn_plan_build(&cmd, base, "/sb", NULL, &p, &err), 0);
	CHECK_EQ_STR(p.candidates[0], "/sb/tool");
	CHECK_EQ_STR(p.candidates[1], "/a/tool");
	CHECK_EQ_STR(p.candidates[2], "/b/tool");
	CHECK(p.candidates[3] == NULL);
	CHECK_EQ_STR(p.argv[0], "tool"); /* no arguments: argv = [value] */
	spawn_plan_free(&p);
	cmd.value = "bin/run";
	CHECK_EQ_INT(spawn_plan_build(&cmd, base, "/sb", NULL, &p, &err), 0);
	CHECK_EQ_STR(p.candidates[0], "/sb/bin/run");
	spawn_plan_free(&p);
}

TEST(env_merge)
{
	Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
	Mesos__V1__Environment env = MESOS__V1__ENVIRONMENT__INIT;
	Mesos__V1__Environment__Variable v[5], *vp[5];
	struct spawn_plan p;
	struct spx_error err = {0};
	char *base[] = {"HOME=/root",     "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=secret",
	                "SPARK_USER=old", "MESOS_SANDBOX=/wrong",
	                "NOEQUALS",       NULL};
	vp[0] = var(&v[0], "SPARK_USER", "etl", -1);
	vp[1] = var(&v[1], "JAVA_OPTS", "-Da=b c", 1);
	vp[2] = var(&v[2], "SECRET_ONE", "hidden", 2); /* SECRET: not ours to set */
	vp[3] = var(&v[3], "JAVA_OPTS", "-Dlater=wins", -1);
	vp[4] = var(&v[4], "EMPTY", NULL, -1);
	env.n_variables = 5;
	env.variables = vp;
	cmd.environment = &env;
	cmd.value = "true";
	CHECK_EQ_INT(spawn_plan_build(&cmd, base, "/sb", "spark-role", &p, &err), 0);
	CHECK_EQ_STR(env_lookup(p.envp, "HOME"), "/root");
	CHECK(env_lookup(p.envp, "MESOS_EXECUTOR_AUTHENTICATION_TOKEN") == NULL);
	CHECK_EQ_STR(env_lookup(p.envp, "SPARK_USER"), "etl");
	CHECK_EQ_STR(env_lookup(p.envp, "JAVA_OPTS"), "-Dlater=wins");
	CHECK(env_lookup(p.envp, "SECRET_ONE") == NULL);
	CHECK_EQ_STR(env_lookup(p.envp, "EMPTY"), "");
	CHECK_EQ_STR(env_lookup(p.envp, "MESOS_SANDBOX"), "/sb");
	CHECK_EQ_STR(env_lookup(p.envp, "MESOS_ALLOCATION_ROLE"), "spark-role");
	CHECK_EQ_STR(env_lookup(p.envp, "PATH"), SPAWN_DEFAULT_PATH);
	int n = 0;
	for (char **e = p.envp; *e; e++)
		n += strncmp(*e, "JAVA_OPTS=", 10) == 0;
	CHECK_EQ_INT(n, 1);
	spawn_plan_free(&p);
}

TEST(rejects_empty)
{
	Mesos__V1__CommandInfo cmd = MESOS__V1__COMMAND_INFO__INIT;
	struct spawn_plan p;
	struct spx_error err = {0};
	CHECK_EQ_INT(spawn_plan_build(&cmd, NULL, "/sb", NULL, &p, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "no value") != NULL);
	spx_error_clear(&err);
	spawn_plan_free(&p); /* safe on a failed build */
}

int
main(void)
{
	RUN(shell_default_true);
	RUN(no_shell_argv_exact);
	RUN(no_shell_path_search);
	RUN(env_merge);
	RUN(rejects_empty);
	return harness_done();
}
