/*
 * A minimal unit-test harness for spex's pure core.
 *
 *	TEST(name) { CHECK(x); CHECK_EQ_INT(a, b); ... }
 *	int main(void) { RUN(name); ...; return harness_done(); }
 *
 * A test that cannot run here (no root, no such file system) calls
 * SKIP("why") and is run with RUN_S(name): it is counted and printed as
 * skipped with the reason, never as passed.
 *
 * Each check that fails prints file:line and the expression; a test passes
 * when none of its checks failed. harness_done() prints the closing line
 * "N passed, N failed" and returns the exit status (0 only if all passed).
 */
#ifndef TESTS_UNIT_HARNESS_H
#define TESTS_UNIT_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed, harness_cur_failed;
static const char *harness_cur;
static int harness_skip_flag __attribute__((unused)), harness_skipped;
static char harness_skip_reason[256] __attribute__((unused));

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                                                  \
	do {                                                                                       \
		harness_cur = #name;                                                               \
		harness_cur_failed = 0;                                                            \
		test_##name();                                                                     \
		if (harness_cur_failed) {                                                          \
			harness_failed++;                                                          \
			printf("not ok - %s\n", #name);                                            \
		} else {                                                                           \
			harness_passed++;                                                          \
			printf("ok - %s\n", #name);                                                \
		}                                                                                  \
	} while (0)

#define SKIP(...)                                                                                  \
	do {                                                                                       \
		snprintf(harness_skip_reason, sizeof(harness_skip_reason), __VA_ARGS__);           \
		harness_skip_flag = 1;                                                             \
		return;                                                                            \
	} while (0)

#define RUN_S(name)                                                                                \
	do {                                                                                       \
		harness_cur = #name;                                                               \
		harness_cur_failed = 0;                                                            \
		harness_skip_flag = 0;                                                             \
		test_##name();                                                                     \
		if (harness_cur_failed) {                                                          \
			harness_failed++;                                                          \
			printf("not ok - %s\n", #name);                                            \
		} else if (harness_skip_flag) {                                                    \
			harness_skipped++;                                                         \
			printf("skip - %s: %s\n", #name, harness_skip_reason);                     \
		} else {                                                                           \
			harness_passed++;                                                          \
			printf("ok - %s\n", #name);                                                \
		}                                                                                  \
	} while (0)

#define HARNESS_FAIL(...)                                                                          \
	do {                                                                                       \
		printf("  %s:%d: %s: ", __FILE__, __LINE__, harness_cur);                          \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		harness_cur_failed = 1;                                                            \
	} while (0)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			HARNESS_FAIL("check failed: %s", #cond);                                   \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b)                                                                      \
			HARNESS_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b);                    \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                             \
			HARNESS_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)",     \
			             _b ? _b : "(null)");                                          \
	} while (0)

#define CHECK_EQ_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline int
harness_done(void)
{
	if (harness_skipped)
		printf("%d skipped\n", harness_skipped);
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif /* TESTS_UNIT_HARNESS_H */
