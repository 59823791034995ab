/*
 * t_rfc2047 - table tests for lm_rfc2047: encoded-word decoding (RFC 2047
 * 4.1, 4.2, 6.2; charsets; malformed words left literal), sanitizing of
 * display text (controls, line breakers, invalid UTF-8, truncation),
 * UTF-8 validation (RFC 3629), phrase encoding (exact output, folding at
 * 76 columns, words of at most 75 characters, round trips).
 * One CHECK per table row; prints "N passed, M failed".
 */
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_rfc2047.h"
#include "lmtest.h"

#define REPL	"\xef\xbf\xbd"

/* ---------------------------------------------------------------- */

struct dec_row {
	const char	*in;
	const char	*want;
};

static const struct dec_row dec_rows[] = {
	{ "hello world", "hello world" },
	{ "  lead and trail  ", "  lead and trail  " },
	{ "", "" },
	/* Q (4.2) */
	{ "=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9" },
	{ "=?UTF-8?Q?caf=c3=a9?=", "caf\xc3\xa9" },
	{ "=?utf-8?q?a_b_c?=", "a b c" },
	{ "=?utf-8?q?" "?=", "" },
	{ "=?utf-8?q?=3Cadmin=40x.org=3E?=", "<admin@x.org>" },
	/* charsets */
	{ "=?iso-8859-1?q?M=FCller?=", "M\xc3\xbcller" },
	{ "=?ISO-8859-1?Q?A_Pers=F3n?=", "A Pers\xc3\xb3n" },
	{ "=?latin1?q?=E9t=E9?=", "\xc3\xa9t\xc3\xa9" },
	{ "=?windows-1252?q?=80_=93x=94?=",
	    "\xe2\x82\xac \xe2\x80\x9cx\xe2\x80\x9d" },
	{ "=?cp1252?q?=81?=", REPL },
	{ "=?iso-8859-15?q?=A4=BD?=", "\xe2\x82\xac\xc5\x93" },
	{ "=?us-ascii?q?a=E9?=", "a" REPL },
	{ "=?utf-8*en?q?hi?=", "hi" },
	/* B (4.1) and its padding */
	{ "=?utf-8?b?Y2Fmw6k=?=", "caf\xc3\xa9" },
	{ "=?utf-8?B?Y2Fmw6k?=", "caf\xc3\xa9" },
	{ "=?utf-8?B?QQ==?=", "A" },
	{ "=?utf-8?B?Y2Fmw6k==?=", "=?utf-8?B?Y2Fmw6k==?=" },
	{ "=?utf-8?B?QQ=?=", "=?utf-8?B?QQ=?=" },
	{ "=?utf-8?B?QQ===?=", "=?utf-8?B?QQ===?=" },
	{ "=?utf-8?B?Q=Q=?=", "=?utf-8?B?Q=Q=?=" },
	{ "=?utf-8?B?Q?=", "=?utf-8?B?Q?=" },
	{ "=?utf-8?B?Y2F*?=", "=?utf-8?B?Y2F*?=" },
	{ "=?utf-8?B?PGFkbWluQGxlZ2l0aW1hdGUuY29tPg==?=",
	    "<admin@legitimate.com>" },
	/* adjacent words (6.2) */
	{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },
	{ "=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab" },
	{ "=?utf-8?q?a?=\n\t=?iso-8859-1?q?=E9?=", "a\xc3\xa9" },
	{ "=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c" },
	{ "x =?utf-8?q?a?=  y", "x a  y" },
	/* unknown or malformed: literal */
	{ "=?x-unknown?q?abc?=", "=?x-unknown?q?abc?=" },
	{ "=?x-unknown?q?a?= =?utf-8?q?b?=", "=?x-unknown?q?a?= b" },
	{ "=??q?abc?=", "=??q?abc?=" },
	{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
	{ "=?utf-8?q?a=2?=", "=?utf-8?q?a=2?=" },
	{ "=?utf-8?q?a=ZZ?=", "=?utf-8?q?a=ZZ?=" },
	{ "=?utf-8?q?a b?=", "=?utf-8?q?a b?=" },
	{ "=?utf-8?q?a?b?=", "=?utf-8?q?a?b?=" },
	{ "x=?utf-8?q?a?=", "x=?utf-8?q?a?=" },
	{ "=?utf-8?q?a?=x", "=?utf-8?q?a?=x" },
	{ "=?utf-8?q?a\xc3\xa9?=", "=?utf-8?q?a\xc3\xa9?=" },
	{ "=?utf-8?q", "=?utf-8?q" },
	/* bad UTF-8 or NUL produced by a word */
	{ "=?utf-8?q?=FF?=", REPL },
	{ "=?utf-8?q?a=00b?=", "a" REPL "b" },
	{ "=?utf-8?q?=ED=A0=80?=", REPL REPL REPL },
	{ "=?utf-8?q?=C0=AF?=", REPL REPL },
	{ "=?utf-8?q?=C3?= =?utf-8?q?=A9?=", REPL REPL },
	/* header injection stays in the decoded text (sanitize removes it) */
	{ "=?utf-8?q?Attacker=0D=0ADate=3A_1999?=", "Attacker\r\nDate: 1999" },
};

static void
test_decode(void)
{
	char e1[256], e2[256];
	size_t i;

	for (i = 0; i < sizeof dec_rows / sizeof dec_rows[0]; i++) {
		const struct dec_row *t = &dec_rows[i];
		lm_buf b;
		int r;

		lm_buf_init(&b, 1024);
		r = lm_rfc2047_decode(t->in, strlen(t->in), &b);
		CHECK(r == 0 && strcmp(lm_buf_cstr(&b), t->want) == 0,
		    "decode(\"%s\") = %d \"%s\"",
		    lmt_esc(t->in, strlen(t->in), e1, sizeof e1), r,
		    lmt_esc(lm_buf_cstr(&b), b.len, e2, sizeof e2));
		lm_buf_free(&b);
	}
}

/* ---------------------------------------------------------------- */

struct word_row {
	const char	*in;
	int		 ret;
	const char	*want;
};

static const struct word_row word_rows[] = {
	{ "=?utf-8?q?a_b?=", 1, "a b" },
	{ "=?utf-8?q?" "?=", 1, "" },
	{ "=?x-y?q?a?=", 0, "" },
	{ "=?utf-8?q?a?= ", 0, "" },
	{ "a=?utf-8?q?a?=", 0, "" },
	{ "plain", 0, "" },
};

static void
test_word(void)
{
	size_t i;

	for (i = 0; i < sizeof word_rows / sizeof word_rows[0]; i++) {
		const struct word_row *t = &word_rows[i];
		lm_buf b;
		int r;

		lm_buf_init(&b, 1024);
		r = lm_rfc2047_word(t->in, strlen(t->in), &b);
		CHECK(r == t->ret && strcmp(lm_buf_cstr(&b), t->want) == 0,
		    "word(\"%s\") = %d \"%s\"", t->in, r, lm_buf_cstr(&b));
		lm_buf_free(&b);
	}
}

/* ---------------------------------------------------------------- */

struct limit_row {
	const char	*in;
	size_t		 max;
	const char	*prefix;	/* already in the buffer */
	int		 ret;
	const char	*want;		/* buffer afterwards */
};

/* Bounded output: on overflow -1 and the buffer as it was. */
static const struct limit_row limit_rows[] = {
	{ "hello", 4, "", -1, "" },
	{ "hello", 5, "", 0, "hello" },
	{ "=?utf-8?q?abcdef?=", 7, "xy", -1, "xy" },
	{ "=?utf-8?q?abcdef?=", 8, "xy", 0, "xyabcdef" },
	{ "=?iso-8859-1?q?=E9=E9=E9?=", 5, "", -1, "" },
	{ "a =?utf-8?q?b?= c", 3, "", -1, "" },
};

static void
test_limits(void)
{
	size_t i;

	for (i = 0; i < sizeof limit_rows / sizeof limit_rows[0]; i++) {
		const struct limit_row *t = &limit_rows[i];
		lm_buf b;
		int r;

		lm_buf_init(&b, t->max);
		(void)lm_buf_adds(&b, t->prefix);
		r = lm_rfc2047_decode(t->in, strlen(t->in), &b);
		CHECK(r == t->ret && strcmp(lm_buf_cstr(&b), t->want) == 0,
		    "decode(\"%s\", max %zu) = %d \"%s\"", t->in, t->max, r,
		    lm_buf_cstr(&b));
		lm_buf_free(&b);
	}
}

/* ---------------------------------------------------------------- */

struct san_row {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	size_t		 maxcp;
	const char	*want;
};

static const struct san_row san_rows[] = {
	{ "plain", 0, 0, "plain" },
	{ "  a \t b  ", 0, 0, "a b" },
	{ "a\r\nb", 0, 0, "a b" },
	{ "a\r\n\tDate: 1999", 0, 0, "a Date: 1999" },
	{ "a\0b", 3, 0, "a b" },
	{ "a\x0b" "b\x0c" "c\x1c" "d\x1e" "e", 0, 0, "a b c d e" },
	{ "a\x1b[31mred", 0, 0, "a [31mred" },
	{ "a\x7f" "b", 0, 0, "a b" },
	{ "a\xc2\x85" "b", 0, 0, "a b" },
	{ "a\xc2\x9f" "b", 0, 0, "a b" },
	{ "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", 0, 0, "a b c" },
	/* bidi override "evil\u202egro.knab" and zero-width joiners */
	{ "evil\xe2\x80\xae" "gro.knab", 0, 0, "evil gro.knab" },
	{ "pay\xe2\x80\x8b" "pal", 0, 0, "pay pal" },
	{ "a\xe2\x81\xa6" "b\xe2\x81\xa9" "c\xef\xbb\xbf", 0, 0, "a b c" },
	{ "a\xff" "b", 0, 0, "a b" },
	{ "a\xc0\xaf" "b", 0, 0, "a b" },
	{ "a\xed\xa0\x80" "b", 0, 0, "a b" },
	{ "\xc3\xa9 \xc3\xbc", 0, 0, "\xc3\xa9 \xc3\xbc" },
	{ "\xc2\xa0nbsp", 0, 0, "\xc2\xa0nbsp" },
	{ "", 0, 0, "" },
	{ "\r\n \t", 0, 0, "" },
	{ "abcdef", 0, 3, "abc..." },
	{ "abc", 0, 3, "abc" },
	{ "abc   ", 0, 3, "abc" },
	{ "ab cdef", 0, 3, "ab..." },
	{ "ab c", 0, 4, "ab c" },
	{ "h\xc3\xa9llo w\xc3\xb6rld", 0, 5, "h\xc3\xa9llo..." },
	{ "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 0, 1, "\xf0\x9f\x98\x80..." },
};

static void
test_sanitize(void)
{
	char e1[256], e2[256];
	size_t i;

	for (i = 0; i < sizeof san_rows / sizeof san_rows[0]; i++) {
		const struct san_row *t = &san_rows[i];
		size_t len = t->len != 0 ? t->len : strlen(t->in);
		lm_buf b;
		int r;

		lm_buf_init(&b, 1024);
		r = lm_sanitize_display(t->in, len, t->maxcp, &b);
		CHECK(r == 0 && strcmp(lm_buf_cstr(&b), t->want) == 0,
		    "sanitize(\"%s\", %zu) = %d \"%s\"",
		    lmt_esc(t->in, len, e1, sizeof e1), t->maxcp, r,
		    lmt_esc(lm_buf_cstr(&b), b.len, e2, sizeof e2));
		lm_buf_free(&b);
	}
}

/* Decoding then sanitizing an injection attempt leaves one line. */
static const char *const inject_rows[] = {
	"=?utf-8?q?Attacker=0D=0ADate=3A_1999?=",
	"=?utf-8?q?Attacker=0D=0ADate=3A_1999-01-01=0D=0ATo=3A_boss=40corp?=",
	"=?utf-8?b?QXR0YWNrZXINCkJjYzogdmljdGltQHguZXhhbXBsZQ==?=",
	"=?utf-8?q?a=E2=80=A8b=C2=85c=0Bd?=",
	"=?iso-8859-1?q?a=85b=0Cc?=",
};

static int
one_clean_line(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return strstr(s, "\xe2\x80\xa8") == NULL &&
	    strstr(s, "\xc2\x85") == NULL && lm_utf8_valid(s, n);
}

static void
test_inject(void)
{
	size_t i;

	for (i = 0; i < sizeof inject_rows / sizeof inject_rows[0]; i++) {
		lm_buf d, s;
		int r;

		lm_buf_init(&d, 1024);
		lm_buf_init(&s, 1024);
		r = lm_rfc2047_decode(inject_rows[i], strlen(inject_rows[i]),
		    &d);
		if (r == 0)
			r = lm_sanitize_display(lm_buf_cstr(&d), d.len, 0, &s);
		CHECK(r == 0 && d.len > 0 && strcmp(d.s, inject_rows[i]) != 0 &&
		    one_clean_line(lm_buf_cstr(&s), s.len),
		    "decode+sanitize(\"%s\") = \"%s\"", inject_rows[i],
		    lm_buf_cstr(&s));
		lm_buf_free(&d);
		lm_buf_free(&s);
	}
}

/* ---------------------------------------------------------------- */

struct utf8_row {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	int		 want;
};

static const struct utf8_row utf8_rows[] = {
	{ "", 0, 1 },
	{ "abc", 0, 1 },
	{ "\xc3\xa9", 0, 1 },
	{ "\xef\xbf\xbd", 0, 1 },
	{ "\xf0\x9f\x98\x80", 0, 1 },
	{ "\xf4\x8f\xbf\xbf", 0, 1 },
	{ "\xc3", 0, 0 },
	{ "\x80", 0, 0 },
	{ "\xfe", 0, 0 },
	{ "\xc0\x80", 0, 0 },
	{ "\xc1\xbf", 0, 0 },
	{ "\xe0\x80\xaf", 0, 0 },
	{ "\xf0\x80\x80\xaf", 0, 0 },
	{ "\xed\xa0\x80", 0, 0 },
	{ "\xed\xbf\xbf", 0, 0 },
	{ "\xf4\x90\x80\x80", 0, 0 },
	{ "\xf5\x80\x80\x80", 0, 0 },
	{ "\xe2\x82", 0, 0 },
	{ "a\0b", 3, 0 },
};

static void
test_utf8(void)
{
	char e[64];
	size_t i;

	for (i = 0; i < sizeof utf8_rows / sizeof utf8_rows[0]; i++) {
		const struct utf8_row *t = &utf8_rows[i];
		size_t len = t->len != 0 ? t->len : strlen(t->in);

		CHECK(lm_utf8_valid(t->in, len) == t->want,
		    "utf8_valid(\"%s\") != %d", lmt_esc(t->in, len, e, sizeof e),
		    t->want);
	}
}

/* ---------------------------------------------------------------- */

struct phr_row {
	const char	*in;
	size_t		 col;
	int		 ret;
	const char	*want;
};

static const struct phr_row phr_rows[] = {
	{ "Joe", 6, 0, "\"Joe\"" },
	{ "Doe, Jane", 6, 0, "\"Doe, Jane\"" },
	{ "say \"hi\" \\o/", 6, 0, "\"say \\\"hi\\\" \\\\o/\"" },
	{ "", 6, 0, "\"\"" },
	{ "=?utf-8?q?x?=", 6, 0, "\"=?utf-8?q?x?=\"" },
	{ "caf\xc3\xa9", 6, 0, "=?UTF-8?Q?caf=C3=A9?=" },
	{ "\xc3\xa9 b", 6, 0, "=?UTF-8?Q?=C3=A9_b?=" },
	{ "\xc3\xbc=?_\"", 6, 0, "=?UTF-8?Q?=C3=BC=3D=3F=5F=22?=" },
	{ "\xc3\xa9!*+-/", 6, 0, "=?UTF-8?Q?=C3=A9!*+-/?=" },
	{ "\xc3\xa9", 70, 0, "\n\t=?UTF-8?Q?=C3=A9?=" },
	{ "Joe", 100, 0, "\n\t=?UTF-8?Q?Joe?=" },
	{ "", 100, 0, "\n\t=?UTF-8?Q?" "?=" },
	{ "a  b", 6, 0, "\"a  b\"" },
	{ "a\nb", 6, -1, "" },
	{ "a\r", 6, -1, "" },
	{ "a\tb", 6, -1, "" },
	{ "a\x01", 6, -1, "" },
	{ "a\x7f", 6, -1, "" },
	{ "\xff", 6, -1, "" },
	{ "a\xc2\x85", 6, -1, "" },
	{ "a\xe2\x80\xa8", 6, -1, "" },
};

static void
test_phrase(void)
{
	char e1[256], e2[256];
	size_t i;

	for (i = 0; i < sizeof phr_rows / sizeof phr_rows[0]; i++) {
		const struct phr_row *t = &phr_rows[i];
		lm_buf b;
		int r;

		lm_buf_init(&b, 4096);
		r = lm_rfc2047_phrase(t->in, strlen(t->in), t->col, &b);
		CHECK(r == t->ret && strcmp(lm_buf_cstr(&b), t->want) == 0,
		    "phrase(\"%s\", %zu) = %d \"%s\"",
		    lmt_esc(t->in, strlen(t->in), e1, sizeof e1), t->col, r,
		    lmt_esc(lm_buf_cstr(&b), b.len, e2, sizeof e2));
		lm_buf_free(&b);
	}
}

/* ---------------------------------------------------------------- */

/* Every line (the first starts at col) at most 76, words at most 75. */
static int
shape_ok(const char *s, size_t col)
{
	const char *p, *w;
	size_t line = col;

	for (p = s; *p != '\0'; p++) {
		if (*p == '\n') {
			if (p[1] != '\t' && p[1] != ' ')
				return 0;
			line = 0;
		} else if (++line > 76)
			return 0;
	}
	for (p = s; (w = strstr(p, "=?")) != NULL; p = w + 2) {
		const char *e = strstr(w + 10, "?=");

		if (e == NULL || e + 2 - w > 75)
			return 0;
		w = e;
	}
	return 1;
}

/* Undo a quoted-string phrase: folds, quotes and escapes removed. */
static void
unquote(const char *s, lm_buf *out)
{
	size_t i, n = strlen(s);

	for (i = 1; i + 1 < n; i++) {
		if (s[i] == '\n')
			continue;
		if (s[i] == '\\')
			i++;
		(void)lm_buf_addc(out, s[i]);
	}
}

/* Build a test text: `rep` copies of `unit`. */
static char *
repeat(const char *unit, size_t rep)
{
	lm_buf b;

	lm_buf_init(&b, 65536);
	while (rep-- > 0)
		(void)lm_buf_adds(&b, unit);
	return lm_buf_steal(&b);
}

struct rt_row {
	const char	*unit;
	size_t		 rep;
	size_t		 col;
	int		 quoted;	/* expect a quoted-string */
};

static const struct rt_row rt_rows[] = {
	{ "\xc3\xa9", 200, 6, 0 },
	{ "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 ", 20, 6, 0 },
	{ "\xf0\x9f\x98\x80", 50, 6, 0 },
	{ "\xe6\x97\xa5\xe6\x9c\xac", 40, 0, 0 },
	{ "a\xc3\xa9", 1, 6, 0 },
	{ "xy\xe2\x82\xac", 33, 30, 0 },
	{ "A Pers\xc3\xb3n via Ant", 1, 6, 0 },
	{ "word ", 60, 6, 1 },
	{ "Doe, \"J\" \\ ", 12, 6, 1 },
	{ "Joe Q. Public", 1, 6, 1 },
	{ "a", 100, 6, 0 },
	{ "abc def", 1, 72, 1 },
	{ "abcdef", 1, 72, 0 },
};

static void
test_roundtrip(void)
{
	size_t i;

	for (i = 0; i < sizeof rt_rows / sizeof rt_rows[0]; i++) {
		const struct rt_row *t = &rt_rows[i];
		char *in = repeat(t->unit, t->rep);
		lm_buf ph, back;
		const char *body;
		int r, quoted;

		lm_buf_init(&ph, 65536);
		lm_buf_init(&back, 65536);
		r = lm_rfc2047_phrase(in, strlen(in), t->col, &ph);
		/* a phrase may start with a fold when col leaves no room */
		body = lm_buf_cstr(&ph);
		body += strncmp(body, "\n\t", 2) == 0 ? 2 : 0;
		quoted = body[0] == '"';
		if (quoted)
			unquote(body, &back);
		else if (r == 0)
			r = lm_rfc2047_decode(body, strlen(body), &back);
		CHECK(r == 0 && quoted == t->quoted &&
		    strcmp(lm_buf_cstr(&back), in) == 0 &&
		    shape_ok(lm_buf_cstr(&ph), t->col),
		    "round trip of %zu x \"%s\" at col %zu: %d \"%s\"",
		    t->rep, t->unit, t->col, r, lm_buf_cstr(&ph));
		lm_buf_free(&ph);
		lm_buf_free(&back);
		free(in);
	}
}

int
main(void)
{
	test_decode();
	test_word();
	test_limits();
	test_sanitize();
	test_inject();
	test_utf8();
	test_phrase();
	test_roundtrip();
	return LMT_DONE();
}
