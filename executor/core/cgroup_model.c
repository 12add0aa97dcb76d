#include "cgroup_model.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const v1_names[CG_NCTRL] = {"cpu", "cpuacct", "memory", "pids"};
static const char *const v2_names[CG_NCTRL] = {"cpu", NULL, "memory", "pids"};

const char *
cg_ctrl_name(enum cg_ctrl c)
{
	return (unsigned)c < CG_NCTRL ? v1_names[c] : NULL;
}

const char *
cg_v2_ctrl_name(enum cg_ctrl c)
{
	return (unsigned)c < CG_NCTRL ? v2_names[c] : NULL;
}

static const Mesos__V1__Value__Scalar *
limit_of(const Mesos__V1__TaskInfo *ti, const char *name)
{
	for (size_t i = 0; i < ti->n_limits; i++)
		if (ti->limits[i]->key && strcmp(ti->limits[i]->key, name) == 0)
			return ti->limits[i]->value;
	return NULL;
}

void
cg_limits_from_task(const Mesos__V1__TaskInfo *ti, const struct cg_settings *s, struct cg_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->mem_limit = UINT64_MAX;
	for (size_t i = 0; i < ti->n_resources; i++) {
		const Mesos__V1__Resource *r = ti->resources[i];
		if (!r->name || r->type != MESOS__V1__VALUE__TYPE__SCALAR || !r->scalar)
			continue;
		double v = r->scalar->value;
		if (!(v >= 0) || isinf(v))
			continue;
		if (strcmp(r->name, "cpus") == 0) {
			l->has_cpus = true;
			l->cpus += v;
		} else if (strcmp(r->name, "mem") == 0) {
			l->has_mem = true;
			l->mem_bytes += (uint64_t)(v * 1024 * 1024);
		}
	}
	if (l->has_mem)
		l->mem_limit = l->mem_bytes;
	const Mesos__V1__Value__Scalar *ml = limit_of(ti, "mem");
	if (ml) /* an infinite limit means "no limit" */
		l->mem_limit = isinf(ml->value) || !(ml->value > 0)
		                   ? UINT64_MAX
		                   : (uint64_t)(ml->value * 1024 * 1024);
	l->cpu_limit = l->cpus;
	l->cpu_hard = s->cpu_hard && l->has_cpus;
	const Mesos__V1__Value__Scalar *cl = limit_of(ti, "cpus");
	if (cl && !isinf(cl->value) && cl->value > 0) {
		l->cpu_hard = true;
		l->cpu_limit = cl->value;
	} else if (cl) {
		l->cpu_hard = false;
	}
	l->pids_max = s->pids_max;
	l->limit_swap = s->limit_swap;
}

uint64_t
cg_v1_shares(double cpus)
{
	double v = 1024.0 * cpus;
	return v < 2 ? 2 : (uint64_t)v;
}

uint64_t
cg_v2_weight(double cpus)
{
	double v = 100.0 * cpus;
	if (v < 1)
		return 1;
	return v > 10000 ? 10000 : (uint64_t)v;
}

uint64_t
cg_quota_us(double cpus)
{
	double v = (double)CG_CFS_PERIOD_US * cpus;
	return v < CG_MIN_QUOTA_US ? CG_MIN_QUOTA_US : (uint64_t)v;
}

static void
add(struct cg_write *out, size_t *n, enum cg_ctrl c, const char *file, bool optional,
    const char *fmt, unsigned long long v)
{
	out[*n].ctrl = c;
	out[*n].file = file;
	out[*n].optional = optional;
	snprintf(out[*n].value, sizeof(out[*n].value), fmt, v);
	(*n)++;
}

static uint64_t
at_least_min(uint64_t v)
{
	return v < CG_MIN_MEMORY ? CG_MIN_MEMORY : v;
}

size_t
cg_v1_writes(const struct cg_limits *l, struct cg_write *out)
{
	size_t n = 0;
	if (l->has_cpus) {
		add(out, &n, CG_CPU, "cpu.shares", false, "%llu", cg_v1_shares(l->cpus));
		if (l->cpu_hard) {
			add(out, &n, CG_CPU, "cpu.cfs_period_us", false, "%llu", CG_CFS_PERIOD_US);
			add(out, &n, CG_CPU, "cpu.cfs_quota_us", false, "%llu",
			    cg_quota_us(l->cpu_limit));
		}
	}
	if (l->has_mem) {
		add(out, &n, CG_MEMORY, "memory.soft_limit_in_bytes", false, "%llu",
		    at_least_min(l->mem_bytes));
		if (l->mem_limit != UINT64_MAX) {
			uint64_t hard = at_least_min(l->mem_limit);
			add(out, &n, CG_MEMORY, "memory.limit_in_bytes", false, "%llu", hard);
			if (l->limit_swap)
				add(out, &n, CG_MEMORY, "memory.memsw.limit_in_bytes", true, "%llu",
				    hard);
		}
	}
	if (l->pids_max)
		add(out, &n, CG_PIDS, "pids.max", false, "%llu", l->pids_max);
	return n;
}

size_t
cg_v2_writes(const struct cg_limits *l, struct cg_write *out)
{
	size_t n = 0;
	if (l->has_cpus) {
		add(out, &n, CG_CPU, "cpu.weight", false, "%llu", cg_v2_weight(l->cpus));
		if (l->cpu_hard)
			add(out, &n, CG_CPU, "cpu.max", false, "%llu 100000",
			    cg_quota_us(l->cpu_limit));
	}
	if (l->has_mem) {
		add(out, &n, CG_MEMORY, "memory.low", false, "%llu", at_least_min(l->mem_bytes));
		if (l->mem_limit != UINT64_MAX)
			add(out, &n, CG_MEMORY, "memory.max", false, "%llu",
			    at_least_min(l->mem_limit));
	}
	if (l->pids_max)
		add(out, &n, CG_PIDS, "pids.max", false, "%llu", l->pids_max);
	return n;
}

void
cg_self_free(struct cg_self *s)
{
	if (!s)
		return;
	for (int i = 0; i < CG_NCTRL; i++)
		free(s->v1[i]);
	free(s->unified);
	memset(s, 0, sizeof(*s));
}

int
cg_parse_proc_cgroup(const char *content, struct cg_self *ret, struct spx_error *err)
{
	memset(ret, 0, sizeof(*ret));
	const char *line = content;
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		_cleanup_free_ char *l = xstrndup(line, len);
		line = eol ? eol + 1 : NULL;
		if (!*l)
			continue;
		char *c1 = strchr(l, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c1 || !c2 || c2[1] != '/') {
			cg_self_free(ret);
			return spx_error_set(err, 0, "malformed /proc/self/cgroup line '%s'", l);
		}
		*c2 = '\0';
		const char *path = c2 + 1;
		const char *ctrls = c1 + 1;
		if (!*ctrls) {
			free(ret->unified);
			ret->unified = xstrdup(path);
			continue;
		}
		char *save = NULL;
		_cleanup_free_ char *copy = xstrdup(ctrls);
		for (char *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			for (int i = 0; i < CG_NCTRL; i++) {
				if (strcmp(tok, v1_names[i]) == 0) {
					free(ret->v1[i]);
					ret->v1[i] = xstrdup(path);
				}
			}
		}
	}
	return 0;
}

static int
has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = list;
	while (p && *p) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == '+')
			p++;
		size_t len = strcspn(p, " \n");
		if (len == n && strncmp(p, tok, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

int
cg_v2_subtree_tokens(const char *available, const char *enabled, const char *const *want, char *out,
                     size_t n, struct spx_error *err)
{
	size_t o = 0;
	out[0] = '\0';
	for (const char *const *w = want; *w; w++) {
		if (has_token(enabled, *w))
			continue;
		if (!has_token(available, *w))
			return spx_error_set(
			    err, 0, "controller '%s' is not available in the parent cgroup", *w);
		int k = snprintf(out + o, n - o, "%s+%s", o ? " " : "", *w);
		if (k < 0 || (size_t)k >= n - o)
			return spx_error_set(err, 0, "subtree_control list too long");
		o += (size_t)k;
	}
	return 0;
}

int
cg_parse_keyed(const char *content, const char *key, uint64_t *ret)
{
	size_t kl = strlen(key);
	const char *p = content;
	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(p + kl + 1, &end, 10);
			if (errno || end == p + kl + 1)
				return -1;
			*ret = v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int
cg_parse_u64(const char *content, uint64_t *ret)
{
	if (strncmp(content, "max", 3) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(content, &end, 10);
	if (errno || end == content || (*end && *end != '\n'))
		return -1;
	*ret = v;
	return 0;
}

int
cg_parse_java_size(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	uint64_t mult = 1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1024;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mult = 1024ULL * 1024 * 1024;
		break;
	case 't':
	case 'T':
		mult = 1024ULL * 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*end && end[1] != '\0' && !((end[1] == 'b' || end[1] == 'B') && end[2] == '\0'))
		return -1;
	if (v > UINT64_MAX / mult)
		return -1;
	*ret = v * mult;
	return 0;
}

void
cg_oom_message(uint64_t limit, uint64_t peak, const char *heap, char *out, size_t n)
{
	const uint64_t mib = 1024 * 1024;
	uint64_t heap_bytes;

	if (heap && cg_parse_java_size(heap, &heap_bytes) == 0 && heap_bytes < limit) {
		snprintf(
		    out, n,
		    "memory limit %llu MiB exceeded (peak %llu MiB, heap -Xmx %s, overhead %llu "
		    "MiB); raise spark.mesos.executor.memoryOverhead",
		    (unsigned long long)(limit / mib), (unsigned long long)(peak / mib), heap,
		    (unsigned long long)((limit - heap_bytes) / mib));
		return;
	}
	if (heap && cg_parse_java_size(heap, &heap_bytes) == 0) {
		snprintf(
		    out, n,
		    "memory limit %llu MiB exceeded (peak %llu MiB); the heap alone (-Xmx %s) is "
		    "not below the limit: the task's mem must cover spark.executor.memory plus "
		    "spark.mesos.executor.memoryOverhead",
		    (unsigned long long)(limit / mib), (unsigned long long)(peak / mib), heap);
		return;
	}
	snprintf(out, n,
	         "memory limit %llu MiB exceeded (peak %llu MiB); raise spark.executor.memory or "
	         "spark.mesos.executor.memoryOverhead",
	         (unsigned long long)(limit / mib), (unsigned long long)(peak / mib));
}
