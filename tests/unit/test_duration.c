/* stout duration syntax. */
#include "duration.h"
#include "harness.h"
#include "util.h"

static int64_t
parse_ok(const char *s)
{
	struct spx_error err = {0};
	int64_t ns = -1;
	if (duration_parse(s, &ns, &err) < 0) {
		printf("  '%s': %s\n", s, spx_error_msg(&err));
		spx_error_clear(&err);
		return -1;
	}
	return ns;
}

static int
parse_fails(const char *s, const char *needle)
{
	struct spx_error err = {0};
	int64_t ns;
	int ok = duration_parse(s, &ns, &err) < 0 && strstr(spx_error_msg(&err), needle);
	if (!ok)
		printf("  '%s' should fail with '%s', got: %s\n", s, needle, spx_error_msg(&err));
	spx_error_clear(&err);
	return ok;
}

TEST(units)
{
	CHECK_EQ_INT(parse_ok("5secs"), 5 * NSEC_PER_SEC);
	CHECK_EQ_INT(parse_ok("15mins"), 15 * 60 * NSEC_PER_SEC);
	CHECK_EQ_INT(parse_ok("1500ms"), 1500 * NSEC_PER_MSEC);
	CHECK_EQ_INT(parse_ok("2hrs"), 7200 * NSEC_PER_SEC);
	CHECK_EQ_INT(parse_ok("1days"), 86400 * NSEC_PER_SEC);
	CHECK_EQ_INT(parse_ok("1weeks"), 7 * 86400 * NSEC_PER_SEC);
	CHECK_EQ_INT(parse_ok("7us"), 7000);
	CHECK_EQ_INT(parse_ok("42ns"), 42);
	CHECK_EQ_INT(parse_ok("0secs"), 0);
}

TEST(fractions)
{
	CHECK_EQ_INT(parse_ok("0.5secs"), 500 * NSEC_PER_MSEC);
	CHECK_EQ_INT(parse_ok("1.5mins"), 90 * NSEC_PER_SEC);
	CHECK_EQ_INT(parse_ok(".25secs"), 250 * NSEC_PER_MSEC);
	CHECK_EQ_INT(parse_ok("2.secs"), 2 * NSEC_PER_SEC);
	CHECK_EQ_INT(parse_ok("0.000000001secs"), 1);
}

TEST(rejects)
{
	CHECK(parse_fails("", "empty"));
	CHECK(parse_fails("5", "unknown unit"));
	CHECK(parse_fails("5 secs", "unknown unit"));
	CHECK(parse_fails("-5secs", "expected a number"));
	CHECK(parse_fails("secs", "expected a number"));
	CHECK(parse_fails("5seconds", "unknown unit"));
	CHECK(parse_fails("5s", "unknown unit"));
	CHECK(parse_fails("999999999999weeks", "too large"));
	CHECK(parse_fails("99999999999999999999999ns", "too large"));
}

TEST(format)
{
	char b[32];
	CHECK_EQ_STR(duration_format(5 * NSEC_PER_SEC, b, sizeof(b)), "5secs");
	CHECK_EQ_STR(duration_format(1500 * NSEC_PER_MSEC, b, sizeof(b)), "1500ms");
	CHECK_EQ_STR(duration_format(15 * 60 * NSEC_PER_SEC, b, sizeof(b)), "15mins");
	CHECK_EQ_STR(duration_format(0, b, sizeof(b)), "0ns");
}

int
main(void)
{
	RUN(units);
	RUN(fractions);
	RUN(rejects);
	RUN(format);
	return harness_done();
}
