/*
 * The CLI's pure helpers: width and colour decisions, fitting text to a
 * width, column shrinking, option parsing, times, sparklines.
 */
#include "harness.h"
#include "utf8.h"

#include "cli.h"
#include "clock.h"
#include "sparkline.h"
#include "util.h"

#include <locale.h>
#include <stdlib.h>
#include <unistd.h>

TEST(width_decide)
{
	CHECK_EQ_INT(cli_width_decide("120", 90), 120); /* COLUMNS wins */
	CHECK_EQ_INT(cli_width_decide(NULL, 90), 90);   /* then the terminal */
	CHECK_EQ_INT(cli_width_decide("", 90), 90);
	CHECK_EQ_INT(cli_width_decide("abc", 90), 90); /* not a number: ignored */
	CHECK_EQ_INT(cli_width_decide("80x", 0), 80);  /* ... and the default */
	CHECK_EQ_INT(cli_width_decide("-5", 0), 80);
	CHECK_EQ_INT(cli_width_decide(NULL, 0), 80);
	CHECK_EQ_INT(cli_width_decide("10", 0), CLI_WIDTH_MIN); /* clamped */
	CHECK_EQ_INT(cli_width_decide(NULL, 12), CLI_WIDTH_MIN);
	CHECK_EQ_INT(cli_width_decide("99999999999999999999", 0), CLI_WIDTH_MAX);
}

TEST(color_decide)
{
	CHECK(cli_color_decide(true, NULL, "xterm-256color"));
	CHECK(cli_color_decide(true, "", "xterm")); /* NO_COLOR empty: as unset */
	CHECK(!cli_color_decide(true, "1", "xterm"));
	CHECK(!cli_color_decide(true, "0", "xterm")); /* any non-empty value */
	CHECK(!cli_color_decide(false, NULL, "xterm"));
	CHECK(!cli_color_decide(true, NULL, "dumb"));
	CHECK(!cli_color_decide(true, NULL, NULL));
	struct cli_term t = {.color = false};
	CHECK_EQ_STR(cli_sgr(&t, CLI_RED), "");
	t.color = true;
	CHECK_EQ_STR(cli_sgr(&t, CLI_RED), CLI_RED);
}

TEST(sizes)
{
	struct cli_term t = {.exact = false};
	char buf[32];
	CHECK_EQ_STR(cli_size(&t, 1536, buf, sizeof(buf)), "1.5 KiB");
	t.exact = true;
	CHECK_EQ_STR(cli_size(&t, 1536, buf, sizeof(buf)), "1536");
	CHECK_EQ_STR(cli_size(&t, UINT64_MAX, buf, sizeof(buf)), "18446744073709551615");
}

TEST(fit)
{
	char buf[64];
	CHECK_EQ_INT(cli_cols("abc"), 3);
	CHECK_EQ_INT(cli_cols("\u2026x\u2581"), 3);
	CHECK_EQ_INT(cli_cols("\xff\xfe"), 2); /* invalid bytes: one each */
	CHECK_EQ_STR(cli_fit("hello", 5, true, false, buf, sizeof(buf)), "hello");
	CHECK_EQ_STR(cli_fit("hello world", 5, true, false, buf, sizeof(buf)), "hell\u2026");
	CHECK_EQ_STR(cli_fit("hello world", 5, false, false, buf, sizeof(buf)), "hell~");
	CHECK_EQ_STR(cli_fit("hello world", 5, true, true, buf, sizeof(buf)), "\u2026orld");
	CHECK_EQ_STR(cli_fit("hello world", 5, false, true, buf, sizeof(buf)), "~orld");
	CHECK_EQ_STR(cli_fit("hello", 1, false, false, buf, sizeof(buf)), "~");
	CHECK_EQ_STR(cli_fit("hello", 0, false, false, buf, sizeof(buf)), "");
	/* Cuts fall between code points, never inside one. */
	CHECK_EQ_STR(cli_fit("\u2581\u2582\u2583\u2584", 3, true, false, buf, sizeof(buf)),
	             "\u2581\u2582\u2026");
	CHECK_EQ_STR(cli_fit("\u2581\u2582\u2583\u2584", 3, true, true, buf, sizeof(buf)),
	             "\u2026\u2583\u2584");
	/* Outside a UTF-8 locale, bytes >= 0x80 are sanitized to '?' first. */
	CHECK_EQ_STR(cli_fit("\u2581\u2582\u2583\u2584", 3, false, true, buf, sizeof(buf)), "~??");
	CHECK_EQ_INT(cli_cols(cli_fit("\u2581\u2582\u2583\u2584", 3, true, true, buf, 64)), 3);
}

TEST(shrink)
{
	size_t w[3] = {30, 10, 20};
	cli_shrink(w, 3, 100, 6); /* fits: unchanged */
	CHECK(w[0] == 30 && w[1] == 10 && w[2] == 20);
	cli_shrink(w, 3, 45, 6); /* the widest go first */
	CHECK_EQ_INT(w[0] + w[1] + w[2], 45);
	CHECK(w[1] == 10 && (w[0] > w[2] ? w[0] - w[2] : w[2] - w[0]) <= 1);
	cli_shrink(w, 3, 5, 6); /* never below the minimum */
	CHECK(w[0] == 6 && w[1] == 6 && w[2] == 6);
	size_t n[2] = {3, 40};
	cli_shrink(n, 2, 20, 6); /* a column already narrow stays */
	CHECK(n[0] == 3 && n[1] == 17);
}

enum { O_JSON, O_OLDER, O_HELP };
static const struct cli_option opts[] = {
    {"--json", NULL, false, O_JSON},
    {"--older-than", NULL, true, O_OLDER},
    {"--help", "-h", false, O_HELP},
};

/* Parse argv (NULL-terminated) into a trace like "J O=5m A=x H E" or
 * ending in "B" for a usage error. */
static void
trace(char **argv, char *out, size_t len)
{
	struct cli_parser p;
	const char *v;
	int argc = 0, o;
	size_t n = 0;

	while (argv[argc])
		argc++;
	cli_parser_init(&p, "test", "usage: spex test", opts, ARRAY_SIZE(opts), argc, argv);
	out[0] = '\0';
	do {
		o = cli_next(&p, &v);
		switch (o) {
		case O_JSON:
			n += (size_t)snprintf(out + n, len - n, "J ");
			break;
		case O_OLDER:
			n += (size_t)snprintf(out + n, len - n, "O=%s ", v);
			break;
		case O_HELP:
			n += (size_t)snprintf(out + n, len - n, "H ");
			break;
		case CLI_ARG:
			n += (size_t)snprintf(out + n, len - n, "A=%s ", v);
			break;
		case CLI_BAD:
			n += (size_t)snprintf(out + n, len - n, "B");
			return;
		case CLI_END:
			n += (size_t)snprintf(out + n, len - n, "E");
		}
	} while (o != CLI_END);
}

TEST(options)
{
	char out[256];
	/* cli_next() prints usage errors on stderr; keep the test output clean. */
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");

	char *a1[] = {"v", "--json", "dir", "--older-than", "5mins", "-h", NULL};
	trace(a1, out, sizeof(out));
	CHECK_EQ_STR(out, "J A=dir O=5mins H E");
	char *a2[] = {"v", "--older-than=1hrs", "--", "--json", "-", NULL};
	trace(a2, out, sizeof(out));
	CHECK_EQ_STR(out, "O=1hrs A=--json A=- E");
	char *a3[] = {"v", "--bogus", NULL};
	trace(a3, out, sizeof(out));
	CHECK_EQ_STR(out, "B");
	char *a4[] = {"v", "--older-than", NULL}; /* missing value */
	trace(a4, out, sizeof(out));
	CHECK_EQ_STR(out, "B");
	char *a5[] = {"v", "--json=1", NULL}; /* no value allowed */
	trace(a5, out, sizeof(out));
	CHECK_EQ_STR(out, "B");
	char *a6[] = {"v", "--js", NULL}; /* no abbreviations */
	trace(a6, out, sizeof(out));
	CHECK_EQ_STR(out, "B");
	char *a7[] = {"v", "--help=x", NULL};
	trace(a7, out, sizeof(out));
	CHECK_EQ_STR(out, "B");

	fclose(stderr);
	stderr = saved;
}

TEST(times)
{
	int64_t ms;
	char buf[40];
	CHECK_EQ_INT(clock_parse_rfc3339("2026-11-24T11:40:00.123Z", &ms), 0);
	CHECK_EQ_INT(ms, 1795520400123LL);
	CHECK_EQ_STR(clock_format_rfc3339(ms, buf, sizeof(buf)), "2026-11-24T11:40:00.123Z");
	CHECK_EQ_INT(clock_parse_rfc3339("1970-01-01T00:00:00Z", &ms), 0);
	CHECK_EQ_INT(ms, 0);
	CHECK_EQ_INT(clock_parse_rfc3339("2026-11-24T11:40:00.1Z", &ms), 0);
	CHECK_EQ_INT(ms % 1000, 100);
	CHECK_EQ_INT(clock_parse_rfc3339("2026-11-24T11:40:00.123456789Z", &ms), 0);
	CHECK_EQ_INT(ms % 1000, 123);
	CHECK_EQ_INT(clock_parse_rfc3339("2026-11-24T12:40:00.000+01:00", &ms), 0);
	CHECK_EQ_INT(ms, 1795520400000LL);
	CHECK_EQ_INT(clock_parse_rfc3339("2026-11-24 11:40:00z", &ms), 0);
	CHECK_EQ_INT(clock_parse_rfc3339("2026-11-24T11:40:00", &ms), -1); /* no zone */
	CHECK_EQ_INT(clock_parse_rfc3339("2026-13-24T11:40:00Z", &ms), -1);
	CHECK_EQ_INT(clock_parse_rfc3339("2026-11-24T11:40:00.Z", &ms), -1);
	CHECK_EQ_INT(clock_parse_rfc3339("2026-11-24T11:40:00Zjunk", &ms), -1);
	CHECK_EQ_INT(clock_parse_rfc3339("", &ms), -1);
	CHECK_EQ_INT(clock_parse_rfc3339(NULL, &ms), -1);
	CHECK_EQ_STR(clock_format_rfc3339(-1, buf, sizeof(buf)), "1969-12-31T23:59:59.999Z");
	/* Years 0000 to 9999 only; the ends of int64_t without overflow. */
	CHECK_EQ_STR(clock_format_rfc3339(253402300799999LL, buf, sizeof(buf)),
	             "9999-12-31T23:59:59.999Z");
	CHECK_EQ_STR(clock_format_rfc3339(-62167219200000LL, buf, sizeof(buf)),
	             "0000-01-01T00:00:00.000Z");
	CHECK_EQ_STR(clock_format_rfc3339(253402300800000LL, buf, sizeof(buf)), "invalid");
	CHECK_EQ_STR(clock_format_rfc3339(-62167219200001LL, buf, sizeof(buf)), "invalid");
	CHECK_EQ_STR(clock_format_rfc3339(INT64_MAX, buf, sizeof(buf)), "invalid");
	CHECK_EQ_STR(clock_format_rfc3339(-INT64_MAX, buf, sizeof(buf)), "invalid");
	CHECK_EQ_STR(clock_format_rfc3339(INT64_MIN, buf, sizeof(buf)), "invalid");
}

TEST(time_differences)
{
	/* Year 1 against the largest SPEX_NOW: clamped, never overflowing. */
	int64_t year1, far = INT64_MAX / 1000 * 1000;
	char buf[16];
	CHECK_EQ_INT(clock_parse_rfc3339("0001-01-01T00:00:00.000Z", &year1), 0);
	CHECK(year1 < 0);
	CHECK_EQ_INT(clock_diff_ms(far, year1), INT64_MAX);
	CHECK_EQ_INT(clock_diff_ms(year1, far), -INT64_MAX);
	CHECK_EQ_INT(clock_diff_ms(INT64_MIN, 1), -INT64_MAX); /* never STATE_NONE */
	CHECK_EQ_INT(clock_diff_ms(INT64_MIN, 0), -INT64_MAX);
	CHECK_EQ_INT(clock_diff_ms(5000, 2000), 3000);
	CHECK_EQ_INT(clock_diff_ms(-5, 10), -15);
	CHECK_EQ_STR(clock_human_duration(clock_diff_ms(far, year1), buf, sizeof(buf)),
	             "106751991167d");
	struct timespec ts = {.tv_sec = INT64_MAX / 100, .tv_nsec = 999999999};
	CHECK_EQ_INT(clock_timespec_ms(&ts), INT64_MAX);
	ts.tv_sec = -ts.tv_sec;
	CHECK_EQ_INT(clock_timespec_ms(&ts), -INT64_MAX);
	ts = (struct timespec){.tv_sec = 1795520400, .tv_nsec = 123456789};
	CHECK_EQ_INT(clock_timespec_ms(&ts), 1795520400123LL);
}

TEST(durations)
{
	char buf[16];
	CHECK_EQ_STR(clock_human_duration(-5000, buf, sizeof(buf)), "0s");
	CHECK_EQ_STR(clock_human_duration(999, buf, sizeof(buf)), "0s");
	CHECK_EQ_STR(clock_human_duration(45000, buf, sizeof(buf)), "45s");
	CHECK_EQ_STR(clock_human_duration(725000, buf, sizeof(buf)), "12m05s");
	CHECK_EQ_STR(clock_human_duration(3600000LL * 3 + 300000, buf, sizeof(buf)), "3h05m");
	CHECK_EQ_STR(clock_human_duration(86400000LL * 2 + 3600000 * 4, buf, sizeof(buf)), "2d04h");
	CHECK_EQ_STR(clock_human_duration(86400000LL * 400, buf, sizeof(buf)), "400d");
}

TEST(now_fixed)
{
	int64_t ms;
	struct spx_error err = {0};
	setenv("SPEX_NOW", "1795000000", 1);
	CHECK_EQ_INT(clock_now_ms(&ms, &err), 0);
	CHECK_EQ_INT(ms, 1795000000000LL);
	setenv("SPEX_NOW", "soon", 1);
	CHECK_EQ_INT(clock_now_ms(&ms, &err), -1);
	CHECK(strstr(spx_error_msg(&err), "SPEX_NOW 'soon'") != NULL);
	spx_error_clear(&err);
	unsetenv("SPEX_NOW");
	CHECK_EQ_INT(clock_now_ms(&ms, &err), 0);
	CHECK(ms > 1700000000000LL);
}

TEST(sparkline)
{
	char buf[256];
	uint64_t up[] = {0, 1, 2, 3, 4, 5, 6, 7};
	CHECK_EQ_INT(sparkline_render(up, 8, 80, false, buf, sizeof(buf)), 8);
	CHECK_EQ_STR(buf, "_.:-=+*#");
	CHECK_EQ_INT(sparkline_render(up, 8, 80, true, buf, sizeof(buf)), 8);
	CHECK_EQ_STR(buf, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588");
	/* More values than cells: each cell shows the maximum of its run. */
	CHECK_EQ_INT(sparkline_render(up, 8, 4, false, buf, sizeof(buf)), 4);
	CHECK_EQ_STR(buf, ".-+#");
	uint64_t spike[] = {10, 10, 10, 80, 10, 10};
	CHECK_EQ_INT(sparkline_render(spike, 6, 3, false, buf, sizeof(buf)), 3);
	CHECK_EQ_STR(buf, "_#_"); /* a spike is never averaged away */
	uint64_t flat[] = {5, 5, 5};
	sparkline_render(flat, 3, 10, false, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "---");
	uint64_t zero[] = {0, 0};
	sparkline_render(zero, 2, 10, false, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "__");
	uint64_t big[] = {0, UINT64_MAX / 4 * 3, UINT64_MAX};
	sparkline_render(big, 3, 10, false, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "_+#"); /* no overflow at the extremes */
	CHECK_EQ_INT(sparkline_render(up, 0, 10, false, buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "");
	CHECK_EQ_INT(sparkline_render(up, 8, 0, false, buf, sizeof(buf)), 0);
	CHECK_EQ_INT(sparkline_render(up, 8, 8, true, buf, 10), 0); /* buffer too small */
}

TEST(sanitize)
{
	char s[128];
	uint32_t cp;

	/* Escape sequences, BEL, newline, DEL: one '?' each, the text kept. */
	snprintf(s, sizeof(s), "FW\033]0;PWNED\a\033[2J\nX\t\x7f");
	CHECK_EQ_STR(cli_sanitize(s, true), "FW?]0;PWNED??[2J?X??");
	/* C1 controls: as raw bytes (invalid UTF-8) and as code points (U+009B,
	 * CSI); invalid UTF-8 of every kind: a byte each. */
	snprintf(s, sizeof(s),
	         "a\x9b[31mb\xc2\x85"
	         "c");
	CHECK_EQ_STR(cli_sanitize(s, true), "a?[31mb?c");
	snprintf(s, sizeof(s), "F\xff|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82");
	CHECK_EQ_STR(cli_sanitize(s, true), "F?|??|???|????|??");
	/* Line separators and bidirectional controls. */
	snprintf(s, sizeof(s), "x\u2028y\u202ez\u2066w");
	CHECK_EQ_STR(cli_sanitize(s, true), "x?y?z?w");
	/* Printable UTF-8 stays, wide and combining included. */
	snprintf(s, sizeof(s), "caf\u00e9 \u6846\u67b6 \U0001f600 e\u0301");
	CHECK_EQ_STR(cli_sanitize(s, true), "caf\u00e9 \u6846\u67b6 \U0001f600 e\u0301");
	/* Outside a UTF-8 locale every byte >= 0x80 is replaced. */
	snprintf(s, sizeof(s), "caf\u00e9\n");
	CHECK_EQ_STR(cli_sanitize(s, false), "caf???");
	snprintf(s, sizeof(s), "%s", "");
	CHECK_EQ_STR(cli_sanitize(s, true), "");

	CHECK_EQ_INT(utf8_decode("\u00e9", &cp), 2);
	CHECK_EQ_INT(cp, 0xe9);
	CHECK_EQ_INT(utf8_decode("\U0010ffff", &cp), 4);
	CHECK_EQ_INT(cp, 0x10ffff);
	CHECK_EQ_INT(utf8_decode("\xc1\xbf", &cp), 0);         /* overlong */
	CHECK_EQ_INT(utf8_decode("\xe0\x80\xaf", &cp), 0);     /* overlong */
	CHECK_EQ_INT(utf8_decode("\xed\xbf\xbf", &cp), 0);     /* surrogate */
	CHECK_EQ_INT(utf8_decode("\xf4\x90\x80\x80", &cp), 0); /* > U+10FFFF */
	CHECK_EQ_INT(utf8_decode("\xe2\x82", &cp), 0);         /* truncated */
	CHECK_EQ_INT(utf8_decode("\x80", &cp), 0);
}

TEST(wide)
{
	char buf[64];
	/* wcwidth(): CJK and emoji take two columns, combining marks none. */
	CHECK_EQ_INT(cli_cols("\u6846\u67b6"), 4);
	CHECK_EQ_INT(cli_cols("\U0001f600!"), 3);
	CHECK_EQ_INT(cli_cols("e\u0301"), 1);
	CHECK_EQ_INT(cli_cols("a\x1b[2J"), 5); /* ESC counts as its '?' */
	CHECK_EQ_INT(cli_width("F\xc3\xa9\n", true), 3);
	CHECK_EQ_INT(cli_width("F\xc3\xa9\n", false), 4); /* "F???" */
	/* A wide character that does not fit whole is left out. */
	CHECK_EQ_STR(cli_fit("\u6846\u67b6\u6846\u67b6", 4, true, false, buf, sizeof(buf)),
	             "\u6846\u2026");
	CHECK_EQ_STR(cli_fit("\u6846\u67b6\u6846\u67b6", 5, true, false, buf, sizeof(buf)),
	             "\u6846\u67b6\u2026");
	CHECK_EQ_STR(cli_fit("ab\u6846\u67b6", 4, true, true, buf, sizeof(buf)), "\u2026\u67b6");
	CHECK(cli_cols(cli_fit("x\U0001f600\U0001f600\U0001f600", 6, true, true, buf, 64)) <= 6);
	CHECK_EQ_STR(cli_fit("\u6846\u67b6", 4, true, false, buf, sizeof(buf)), "\u6846\u67b6");
	/* The cut keeps a combining mark with its letter, and drops it with it. */
	CHECK_EQ_STR(cli_fit("e\u0301e\u0301xyz", 3, false, false, buf, sizeof(buf)), "e?~");
	CHECK_EQ_STR(cli_fit("e\u0301e\u0301xyz", 3, true, false, buf, sizeof(buf)),
	             "e\u0301e\u0301\u2026");
	CHECK_EQ_STR(cli_fit("abce\u0301xy", 3, true, true, buf, sizeof(buf)), "\u2026xy");
	CHECK_EQ_STR(cli_fit("abe\u0301xy", 4, true, true, buf, sizeof(buf)), "\u2026e\u0301xy");
	/* Sanitized before fitting; a buffer too small cuts between code points. */
	CHECK_EQ_STR(cli_fit("a\nb", 10, true, false, buf, sizeof(buf)), "a?b");
	CHECK_EQ_STR(cli_fit("\u6846\u67b6\u6846", 10, true, false, buf, 8), "\u6846\u67b6");
}

int
main(void)
{
	/* As spex's main does, in a UTF-8 locale: wcwidth() knows wide characters. */
	if (!setlocale(LC_CTYPE, "C.UTF-8") && !setlocale(LC_CTYPE, "C.utf8")) {
		printf("not ok - no C.UTF-8 locale\n");
		return 1;
	}
	RUN(width_decide);
	RUN(color_decide);
	RUN(sizes);
	RUN(fit);
	RUN(sanitize);
	RUN(wide);
	RUN(shrink);
	RUN(options);
	RUN(times);
	RUN(time_differences);
	RUN(durations);
	RUN(now_fixed);
	RUN(sparkline);
	return harness_done();
}
