/*
 * What spex knows about Spark's executor command, for messages a person can
 * act on.
 */
#ifndef EXECUTOR_CORE_SPARK_H
#define EXECUTOR_CORE_SPARK_H

#include <stddef.h>

#include "mesos.pb-c.h"

/* The executor heap as Spark configured it: SPARK_EXECUTOR_MEMORY in the
 * CommandInfo environment ("4096m"), else the last -Xmx<size> in the command
 * value or in SPARK_EXECUTOR_OPTS / JAVA_OPTS. Writes e.g. "4096m" into out
 * and returns 0, or -1 if none is found. */
int spark_executor_heap(const Mesos__V1__CommandInfo *cmd, char *out, size_t n);

#endif /* EXECUTOR_CORE_SPARK_H */
