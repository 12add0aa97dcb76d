/*
 * The conventions every spex verb follows (docs/cli.md):
 *
 *  - exit status 0 ok, 1 error, 2 usage;
 *  - errors on stderr, one line: "spex VERB: PATH: reason";
 *  - text from the disk, the state file or /proc is sanitized before it is
 *    printed (cli_sanitize): no control character or escape sequence
 *    reaches the terminal, every line stays one line;
 *  - output fits the terminal: COLUMNS, else the width of stdout's terminal,
 *    else 80;
 *  - colour only when stdout is a terminal, NO_COLOR is unset or empty and
 *    TERM is not "dumb";
 *  - sizes in human units (report_human_bytes), exact with --bytes;
 *  - long options, "--name VALUE" or "--name=VALUE", "--" ends them.
 *
 * The decisions are pure functions of their inputs (cli_width_decide,
 * cli_color_decide, cli_fit...); cli_term() gathers the inputs once.
 */
#ifndef TOOLS_CLI_H
#define TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

#define CLI_WIDTH_DEFAULT 80
#define CLI_WIDTH_MIN     40 /* narrower terminals are laid out as 40 */
#define CLI_WIDTH_MAX     1000

#define CLI_MAX(a, b) ((a) > (b) ? (a) : (b))

/* How to print: decided once per run from the environment. */
struct cli_term {
	int width;  /* columns available */
	bool color; /* SGR escapes allowed */
	bool utf8;  /* the locale's codeset is UTF-8 (block characters, "…") */
	bool exact; /* --bytes: sizes as exact byte counts */
};

/* Fill *ret from COLUMNS, TIOCGWINSZ on stdout, NO_COLOR, TERM and the
 * locale (main calls setlocale(LC_CTYPE, "") first); exact is false. */
void cli_term_init(struct cli_term *ret);

/* Is the codeset of the current LC_CTYPE UTF-8? */
bool cli_locale_utf8(void);

/* The width: a COLUMNS that is a whole number wins, then tty_cols when it is
 * positive, then 80; the result is clamped to [40, 1000]. Pure. */
int cli_width_decide(const char *columns, int tty_cols);

/* Colour when stdout is a terminal, no_color (NO_COLOR) is NULL or empty and
 * term (TERM) is not "dumb" (NULL counts as dumb). Pure. */
bool cli_color_decide(bool isatty, const char *no_color, const char *term);

/* SGR sequences; cli_sgr() returns "" when colour is off. */
#define CLI_RED    "\033[31m"
#define CLI_GREEN  "\033[32m"
#define CLI_YELLOW "\033[33m"
#define CLI_BOLD   "\033[1m"
#define CLI_DIM    "\033[2m"
#define CLI_RESET  "\033[0m"
const char *cli_sgr(const struct cli_term *t, const char *sgr);

/* A size for people: exact decimal bytes with --bytes, else human units.
 * Writes into buf (32 bytes suffice) and returns it. */
const char *cli_size(const struct cli_term *t, uint64_t n, char *buf, size_t len);

/*
 * Make s safe to print on a terminal, in place: every C0 control character
 * (newline and tab included), DEL, C1 control (U+0080-U+009F), line or
 * paragraph separator (U+2028, U+2029), bidirectional control (U+061C,
 * U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), code point the locale
 * cannot print (wcwidth() < 0) and byte that is not part of valid UTF-8
 * becomes one '?', like ls -q. Without utf8 (a locale that is not UTF-8)
 * every byte >= 0x80 becomes '?' too. The result is never longer. Returns s.
 */
char *cli_sanitize(char *s, bool utf8);

/*
 * Display columns of s, which cli_sanitize() left as it is or which is
 * ASCII: wcwidth() of each code point (2 for wide CJK and emoji, 0 for
 * combining marks); what cli_sanitize() would replace counts 1, the '?' it
 * becomes. Depends on LC_CTYPE.
 */
size_t cli_cols(const char *s);

/* Display columns of any s once sanitized (cli_sanitize(s, utf8)). */
size_t cli_width(const char *s, bool utf8);

/*
 * Copy s, sanitized (cli_sanitize), into buf (capacity len) cut to at most
 * width columns. When s is wider, the cut is marked with an ellipsis ("…"
 * when utf8, else "~"), at the end, or at the start when keep_end is set
 * (for ids, whose end tells them apart). Cuts fall on code point
 * boundaries, also when buf is too small; a wide character that does not fit
 * whole is left out. width 0 gives "". Returns buf.
 */
const char *cli_fit(const char *s, size_t width, bool utf8, bool keep_end, char *buf, size_t len);

/* Print s sanitized and cut to width columns (cli_fit, keeping the start),
 * then pad with spaces to width when pad is set. */
void cli_put_fit(FILE *f, const char *s, size_t width, bool utf8, bool pad);

/*
 * Fit columns of natural widths w[0..n) into avail columns: while their sum
 * exceeds avail, narrow the widest by one (the first of equals), never
 * below min (a column already narrower stays as it is). The sum may stay
 * above avail when everything is at min. Pure.
 */
void cli_shrink(size_t *w, size_t n, size_t avail, size_t min);

/* One-line error on stderr: "spex VERB: " ("spex: " when verb is NULL) + the
 * formatted text, sanitized (cli_sanitize, the locale's codeset) + "\n". */
void cli_err(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Flush stdout; on a write error say so (cli_err) and return CLI_ERROR,
 * else rc. */
int cli_finish(const char *verb, int rc);

/*
 * Option parsing shared by the verbs. Options are long ("--json") with an
 * optional one-letter alias ("-h"); one that takes a value accepts
 * "--name VALUE" and "--name=VALUE". "--" ends the options; "-" alone is an
 * operand. Operands and options may be mixed.
 */
struct cli_option {
	const char *name;  /* "--json" */
	const char *alias; /* "-h", or NULL */
	bool has_value;
	int id; /* >= 0, returned by cli_next() */
};

struct cli_parser {
	const char *verb;  /* for error messages */
	const char *usage; /* the usage line, printed after a usage error */
	const struct cli_option *opts;
	size_t nopts;
	int argc;
	char **argv; /* argv[0] is the verb */
	int i;
	bool opts_done;
};

enum { CLI_ARG = -1, CLI_END = -2, CLI_BAD = -3 };

/* Start parsing argv[1..argc). */
void cli_parser_init(struct cli_parser *p, const char *verb, const char *usage,
                     const struct cli_option *opts, size_t nopts, int argc, char **argv);

/* The next option's id (its value in *ret_value when it takes one), CLI_ARG
 * with the operand in *ret_value, CLI_END when done, or CLI_BAD after
 * printing "spex VERB: unknown option '--x'" (or a missing value) and the
 * usage line on stderr: the caller then returns CLI_USAGE. */
int cli_next(struct cli_parser *p, const char **ret_value);

/* Print "spex VERB: <message>" (sanitized, as cli_err) and the usage line
 * on stderr; returns CLI_USAGE. */
int cli_usage_error(const struct cli_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TOOLS_CLI_H */
