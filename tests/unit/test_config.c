/* Environment and argv handling. */
#include "config.h"
#include "harness.h"
#include "util.h"

static const char *const *cur_env;

static const char *
fake_getenv(const char *name)
{
	size_t n = strlen(name);
	for (const char *const *p = cur_env; *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

static int
load(const char *const *env, struct config *cfg, char *errbuf)
{
	struct spx_error err = {0};
	cur_env = env;
	int r = config_from_env(cfg, fake_getenv, &err);
	snprintf(errbuf, 256, "%s", err.msg ? err.msg : "");
	spx_error_clear(&err);
	return r;
}

TEST(full_env)
{
	const char *env[] = {"MESOS_FRAMEWORK_ID=fw",
	                     "MESOS_EXECUTOR_ID=ex",
	                     "MESOS_SLAVE_PID=slave(1)@10.0.0.5:5051",
	                     "MESOS_AGENT_ENDPOINT=10.0.0.6:5052",
	                     "MESOS_SANDBOX=/sb",
	                     "MESOS_DIRECTORY=/dir",
	                     "MESOS_CHECKPOINT=1",
	                     "MESOS_RECOVERY_TIMEOUT=15mins",
	                     "MESOS_SUBSCRIPTION_BACKOFF_MAX=2secs",
	                     "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=1500ms",
	                     "MESOS_EXECUTOR_AUTHENTICATION_TOKEN=tok",
	                     NULL};
	struct config c;
	char e[256];
	CHECK_EQ_INT(load(env, &c, e), 0);
	CHECK_EQ_STR(c.agent_host, "10.0.0.5");
	CHECK_EQ_INT(c.agent_port, 5051);
	CHECK_EQ_STR(c.agent_path, "/slave(1)/api/v1/executor");
	CHECK_EQ_STR(c.sandbox, "/sb");
	CHECK(c.checkpoint);
	CHECK_EQ_INT(c.recovery_timeout_ns, 900 * NSEC_PER_SEC);
	CHECK_EQ_INT(c.backoff_max_ns, 2 * NSEC_PER_SEC);
	CHECK_EQ_INT(c.shutdown_grace_ns, 1500 * NSEC_PER_MSEC);
	CHECK_EQ_STR(c.token, "tok");
	CHECK_EQ_INT(c.content_type, CT_PROTOBUF);
	config_free(&c);
}

TEST(endpoint_and_directory_fallbacks)
{
	const char *env[] = {"MESOS_FRAMEWORK_ID=fw",
	                     "MESOS_EXECUTOR_ID=ex",
	                     "MESOS_AGENT_ENDPOINT=127.0.0.1:5051",
	                     "MESOS_DIRECTORY=/dir",
	                     "MESOS_CHECKPOINT=true",
	                     "SPEX_CONTENT_TYPE=application/json",
	                     NULL};
	struct config c;
	char e[256];
	CHECK_EQ_INT(load(env, &c, e), 0);
	CHECK_EQ_STR(c.agent_path, "/api/v1/executor");
	CHECK_EQ_STR(c.sandbox, "/dir");
	CHECK_EQ_STR(c.sandbox_from, "MESOS_DIRECTORY");
	CHECK(!c.checkpoint); /* "true" is not "1" */
	CHECK_EQ_INT(c.shutdown_grace_ns, 5 * NSEC_PER_SEC);
	CHECK_EQ_INT(c.content_type, CT_JSON);
	config_free(&c);
}

TEST(missing_and_malformed)
{
	struct config c;
	char e[256];
	const char *none[] = {NULL};
	CHECK_EQ_INT(load(none, &c, e), -1);
	CHECK_EQ_STR(e, "missing required environment variable MESOS_FRAMEWORK_ID");
	const char *noex[] = {"MESOS_FRAMEWORK_ID=fw", NULL};
	CHECK_EQ_INT(load(noex, &c, e), -1);
	CHECK_EQ_STR(e, "missing required environment variable MESOS_EXECUTOR_ID");
	const char *noagent[] = {"MESOS_FRAMEWORK_ID=fw", "MESOS_EXECUTOR_ID=ex", NULL};
	CHECK_EQ_INT(load(noagent, &c, e), -1);
	CHECK(strstr(e, "MESOS_AGENT_ENDPOINT") != NULL);
	const char *nosb[] = {"MESOS_FRAMEWORK_ID=fw", "MESOS_EXECUTOR_ID=ex",
	                      "MESOS_AGENT_ENDPOINT=h:1", NULL};
	CHECK_EQ_INT(load(nosb, &c, e), -1);
	CHECK(strstr(e, "MESOS_SANDBOX") != NULL);
	const char *baddur[] = {"MESOS_FRAMEWORK_ID=fw",
	                        "MESOS_EXECUTOR_ID=ex",
	                        "MESOS_AGENT_ENDPOINT=h:1",
	                        "MESOS_SANDBOX=/s",
	                        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5",
	                        NULL};
	CHECK_EQ_INT(load(baddur, &c, e), -1);
	CHECK(strstr(e, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD") != NULL);
	const char *badpid[] = {"MESOS_FRAMEWORK_ID=fw", "MESOS_EXECUTOR_ID=ex",
	                        "MESOS_SLAVE_PID=nohost", "MESOS_SANDBOX=/s", NULL};
	CHECK_EQ_INT(load(badpid, &c, e), -1);
	CHECK(strstr(e, "MESOS_SLAVE_PID") != NULL);
	const char *relsb[] = {"MESOS_FRAMEWORK_ID=fw", "MESOS_EXECUTOR_ID=ex",
	                       "MESOS_AGENT_ENDPOINT=h:1", "MESOS_SANDBOX=rel", NULL};
	CHECK_EQ_INT(load(relsb, &c, e), -1);
	CHECK(strstr(e, "absolute") != NULL);
	const char *badct[] = {"MESOS_FRAMEWORK_ID=fw",
	                       "MESOS_EXECUTOR_ID=ex",
	                       "MESOS_AGENT_ENDPOINT=h:1",
	                       "MESOS_SANDBOX=/s",
	                       "SPEX_CONTENT_TYPE=application/json; charset=utf-8",
	                       NULL};
	CHECK_EQ_INT(load(badct, &c, e), -1);
	CHECK(strstr(e, "SPEX_CONTENT_TYPE") != NULL);
}

TEST(endpoints)
{
	char *host = NULL, *prefix = NULL;
	int port = 0;
	struct spx_error err = {0};
	CHECK_EQ_INT(config_parse_endpoint("[::1]:5051", &host, &port, &err), 0);
	CHECK_EQ_STR(host, "::1");
	CHECK_EQ_INT(port, 5051);
	free(host);
	CHECK_EQ_INT(config_parse_endpoint("h:0", &host, &port, &err), -1);
	CHECK_EQ_INT(config_parse_endpoint("h:70000", &host, &port, &err), -1);
	CHECK_EQ_INT(config_parse_endpoint(":5051", &host, &port, &err), -1);
	CHECK_EQ_INT(config_parse_pid("slave(12)@h:5", &host, &port, &prefix, &err), 0);
	CHECK_EQ_STR(prefix, "/slave(12)");
	free(host);
	free(prefix);
	CHECK_EQ_INT(config_parse_pid("a/b@h:5", &host, &port, &prefix, &err), -1);
	spx_error_clear(&err);
}

TEST(argv_drop_in)
{
	int unknown = -1;
	char *a1[] = {"mesos-executor", "--launcher_dir=/usr/libexec/mesos",
	              "--sandbox_directory=/mnt/mesos/sandbox", "--user=etl", NULL};
	CHECK_EQ_INT(config_parse_argv(4, a1, &unknown), CLI_RUN);
	CHECK_EQ_INT(unknown, 0);
	char *a2[] = {"spex-executor", "--weird=1", "positional", "--launcher_dir", NULL};
	CHECK_EQ_INT(config_parse_argv(4, a2, &unknown), CLI_RUN);
	CHECK_EQ_INT(unknown, 2);
	char *a3[] = {"x", "--version", NULL};
	CHECK_EQ_INT(config_parse_argv(2, a3, &unknown), CLI_VERSION);
	char *a4[] = {"x", "--help", NULL};
	CHECK_EQ_INT(config_parse_argv(2, a4, &unknown), CLI_HELP);
	/* Hostile argv: very long flag names never overflow. */
	char longflag[300];
	memset(longflag, 'x', sizeof(longflag) - 1);
	longflag[sizeof(longflag) - 1] = '\0';
	char *a5[] = {"x", longflag, "", NULL};
	CHECK_EQ_INT(config_parse_argv(3, a5, &unknown), CLI_RUN);
	CHECK_EQ_INT(unknown, 2);
}

int
main(void)
{
	RUN(full_env);
	RUN(endpoint_and_directory_fallbacks);
	RUN(missing_and_malformed);
	RUN(endpoints);
	RUN(argv_drop_in);
	return harness_done();
}
