/*
 * The CLI conventions (cli.h).
 */
#include "cli.h"
#include "utf8.h"
#include "report.h"
#include "util.h"

#include <inttypes.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

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
	ret->utf8 = cli_locale_utf8();
	ret->exact = false;
}

bool
cli_locale_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
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

/* Must the code point cp not reach a terminal as it is (cli_sanitize)? */
static bool
cp_unsafe(uint32_t cp)
{
	if (cp >= 0x20 && cp < 0x7f)
		return false;
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       wcwidth((wchar_t)cp) < 0;
}

/* The next unit of the string at s: a valid UTF-8 sequence, or one byte that
 * is not part of one. Its length in bytes; its columns in *ret_cols. */
static size_t
next_unit(const char *s, size_t *ret_cols)
{
	uint32_t cp;
	size_t n = utf8_decode(s, &cp);

	if (n == 0) {
		*ret_cols = 1;
		return 1;
	}
	*ret_cols = cp_unsafe(cp) ? 1 : (size_t)wcwidth((wchar_t)cp);
	return n;
}

char *
cli_sanitize(char *s, bool utf8)
{
	char *out = s;
	const char *in = s;

	while (*in) {
		uint32_t cp = (unsigned char)*in;
		size_t n = utf8 ? utf8_decode(in, &cp) : 1;
		if (n == 0 || (!utf8 && cp >= 0x80) || cp_unsafe(cp)) {
			*out++ = '?';
			in += n ? n : 1;
			continue;
		}
		memmove(out, in, n);
		out += n;
		in += n;
	}
	*out = '\0';
	return s;
}

size_t
cli_cols(const char *s)
{
	size_t cols = 0, c;
	for (const char *p = s; *p; cols += c)
		p += next_unit(p, &c);
	return cols;
}

size_t
cli_width(const char *s, bool utf8)
{
	_cleanup_free_ char *t = cli_sanitize(xstrdup(s), utf8);
	return cli_cols(t);
}

/* Append the n bytes at src to buf (capacity len, *at used) if they fit
 * with a NUL after them. Returns whether they did. */
static bool
append(char *buf, size_t len, size_t *at, const char *src, size_t n)
{
	if (*at + n >= len)
		return false;
	memcpy(buf + *at, src, n);
	*at += n;
	buf[*at] = '\0';
	return true;
}

const char *
cli_fit(const char *s, size_t width, bool utf8, bool keep_end, char *buf, size_t len)
{
	const char *mark = utf8 ? "\u2026" : "~";
	_cleanup_free_ char *t = cli_sanitize(xstrdup(s), utf8);
	size_t cols = cli_cols(t), at = 0, from = 0, c, n;
	bool cut = cols > width;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (cut && width == 0)
		return buf;
	if (cut && keep_end) {
		/* Drop units from the start until the rest fits beside the mark, then
		 * the zero-width ones that belonged to a dropped character. */
		for (size_t rest = cols; t[from] && rest > width - 1; from += n) {
			n = next_unit(t + from, &c);
			rest -= c;
		}
		while (t[from] && (n = next_unit(t + from, &c)) > 0 && c == 0)
			from += n;
		append(buf, len, &at, mark, strlen(mark));
	}
	size_t budget = cut && !keep_end ? width - 1 : width, used = 0;
	for (const char *p = t + from; *p; p += n) {
		n = next_unit(p, &c);
		if (used + c > budget || !append(buf, len, &at, p, n))
			break;
		used += c;
	}
	if (cut && !keep_end)
		append(buf, len, &at, mark, strlen(mark));
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

/* Print "spex VERB: " and the message fmt/ap, sanitized, on stderr. */
static void
err_line(const char *verb, const char *fmt, va_list ap)
{
	char *msg = NULL;

	fflush(stdout);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (msg)
		cli_sanitize(msg, cli_locale_utf8());
	fprintf(stderr, "spex%s%s: %s\n", verb ? " " : "", verb ? verb : "",
	        msg ? msg : "out of memory");
	free(msg);
}

void
cli_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_line(verb, fmt, ap);
	va_end(ap);
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

	va_start(ap, fmt);
	err_line(p->verb, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", p->usage);
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
