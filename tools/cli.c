/*
 * The CLI conventions (cli.h).
 */
#include "cli.h"
#include "report.h"
#include "util.h"

#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

int
cli_width_decide(const char *columns, int tty_cols)
{
	int w = 0;

	if (columns && *columns) {
		char *end;
		long v = strtol(columns, &end, 10);
		if (*end == '\0' && v > 0)
			w = v > CLI_WIDTH_MAX ? CLI_WIDTH_MAX : (int)v;
	}
	if (w == 0 && tty_cols > 0)
		w = tty_cols;
	if (w == 0)
		w = CLI_WIDTH_DEFAULT;
	if (w < CLI_WIDTH_MIN)
		w = CLI_WIDTH_MIN;
	if (w > CLI_WIDTH_MAX)
		w = CLI_WIDTH_MAX;
	return w;
}

bool
cli_color_decide(bool isatty, const char *no_color, const char *term)
{
	if (!isatty || (no_color && *no_color))
		return false;
	return term && *term && strcmp(term, "dumb") != 0;
}

void
cli_term_init(struct cli_term *ret)
{
	struct winsize ws = {0};
	int tty = isatty(STDOUT_FILENO);
	int cols = 0;

	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		cols = ws.ws_col;
	ret->width = cli_width_decide(getenv("COLUMNS"), cols);
	ret->color = cli_color_decide(tty, getenv("NO_COLOR"), getenv("TERM"));
	setlocale(LC_CTYPE, "");
	const char *cs = nl_langinfo(CODESET);
	ret->utf8 = cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
	ret->exact = false;
}

const char *
cli_sgr(const struct cli_term *t, const char *sgr)
{
	return t->color ? sgr : "";
}

const char *
cli_size(const struct cli_term *t, uint64_t n, char *buf, size_t len)
{
	if (t->exact)
		snprintf(buf, len, "%" PRIu64, n);
	else
		report_human_bytes(n, buf, len);
	return buf;
}

/* Length in bytes of the UTF-8 sequence starting at s (1 for an invalid or
 * truncated one). */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0xc0)
		return 1;
	else if (s[0] < 0xe0)
		n = 2;
	else if (s[0] < 0xf0)
		n = 3;
	else if (s[0] < 0xf8)
		n = 4;
	else
		return 1;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	}
	return n;
}

size_t
cli_cols(const char *s)
{
	size_t cols = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p += utf8_len(p))
		cols++;
	return cols;
}

/* Byte offset in s after skipping cols code points. */
static size_t
skip_cols(const char *s, size_t cols)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p && cols-- > 0)
		p += utf8_len(p);
	return (size_t)((const char *)p - s);
}

const char *
cli_fit(const char *s, size_t width, bool utf8, bool keep_end, char *buf, size_t len)
{
	const char *mark = utf8 ? "\u2026" : "~";
	size_t cols = cli_cols(s);

	if (len == 0)
		return buf;
	if (cols <= width) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	if (width == 0) {
		buf[0] = '\0';
		return buf;
	}
	if (keep_end) {
		size_t from = skip_cols(s, cols - (width - 1));
		snprintf(buf, len, "%s%s", mark, s + from);
	} else {
		size_t upto = skip_cols(s, width - 1);
		snprintf(buf, len, "%.*s%s", (int)upto, s, mark);
	}
	return buf;
}

void
cli_put_fit(FILE *f, const char *s, size_t width, bool utf8, bool pad)
{
	size_t len = strlen(s) + 8;
	_cleanup_free_ char *buf = xmalloc(len);

	cli_fit(s, width, utf8, false, buf, len);
	fputs(buf, f);
	if (pad) {
		for (size_t c = cli_cols(buf); c < width; c++)
			fputc(' ', f);
	}
}

void
cli_shrink(size_t *w, size_t n, size_t avail, size_t min)
{
	for (;;) {
		size_t sum = 0, widest = n;
		for (size_t i = 0; i < n; i++) {
			sum += w[i];
			if (w[i] > min && (widest == n || w[i] > w[widest]))
				widest = i;
		}
		if (sum <= avail || widest == n)
			return;
		w[widest]--;
	}
}

void
cli_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "spex %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_finish(const char *verb, int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_err(verb, "write error on stdout");
		return CLI_ERROR;
	}
	return rc;
}

void
cli_parser_init(struct cli_parser *p, const char *verb, const char *usage,
                const struct cli_option *opts, size_t nopts, int argc, char **argv)
{
	*p = (struct cli_parser){.verb = verb,
	                         .usage = usage,
	                         .opts = opts,
	                         .nopts = nopts,
	                         .argc = argc,
	                         .argv = argv,
	                         .i = 1};
}

int
cli_usage_error(const struct cli_parser *p, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "spex %s: ", p->verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s\n", p->usage);
	return CLI_USAGE;
}

int
cli_next(struct cli_parser *p, const char **ret_value)
{
	for (;;) {
		if (p->i >= p->argc)
			return CLI_END;
		const char *a = p->argv[p->i++];
		if (p->opts_done || a[0] != '-' || a[1] == '\0') {
			*ret_value = a;
			return CLI_ARG;
		}
		if (strcmp(a, "--") == 0) {
			p->opts_done = true;
			continue;
		}
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		for (size_t k = 0; k < p->nopts; k++) {
			const struct cli_option *o = &p->opts[k];
			int long_match = strlen(o->name) == nlen && strncmp(o->name, a, nlen) == 0;
			int alias_match = !eq && o->alias && strcmp(o->alias, a) == 0;
			if (!long_match && !alias_match)
				continue;
			if (!o->has_value) {
				if (eq) {
					cli_usage_error(p, "option '%s' takes no value", o->name);
					return CLI_BAD;
				}
				*ret_value = NULL;
				return o->id;
			}
			if (eq) {
				*ret_value = eq + 1;
				return o->id;
			}
			if (p->i >= p->argc) {
				cli_usage_error(p, "option '%s' needs a value", o->name);
				return CLI_BAD;
			}
			*ret_value = p->argv[p->i++];
			return o->id;
		}
		cli_usage_error(p, "unknown option '%s'", a);
		return CLI_BAD;
	}
}
