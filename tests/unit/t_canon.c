/*
 * t_canon - DKIM relaxed canonicalization (RFC 6376 3.4.2, 3.4.4), with
 * the example of RFC 6376 3.4.5.
 */
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_canon.h"
#include "lmtest.h"

struct tcase {
	const char *in, *out;
};

/* whole fields, "Name:value" as the milter hands them (LF or CRLF folds) */
static const struct tcase hdr_cases[] = {
	{ "A: X", "a:X\r\n" },				/* RFC 6376 3.4.5 */
	{ "B : Y\t\r\n\tZ  ", "b:Y Z\r\n" },		/* RFC 6376 3.4.5 */
	{ "Subject: hello", "subject:hello\r\n" },
	{ "SUBJECT:hello", "subject:hello\r\n" },
	{ "Subject:   hello   world  ", "subject:hello world\r\n" },
	{ "Subject:\thello\t\tworld", "subject:hello world\r\n" },
	{ "Subject: a\n b", "subject:a b\r\n" },	/* LF fold */
	{ "Subject: a\r\n b", "subject:a b\r\n" },	/* CRLF fold */
	{ "Subject: a\r\n\tb\r\n  c", "subject:a b c\r\n" },
	{ "Subject: a\r\nb", "subject:ab\r\n" },	/* CRLF deleted */
	{ "Subject:", "subject:\r\n" },
	{ "Subject: ", "subject:\r\n" },
	{ "Subject: \r\n ", "subject:\r\n" },
	{ "Subject \t: x", "subject:x\r\n" },		/* WSP before colon */
	{ "X-Mixed-Case: Keep Value Case", "x-mixed-case:Keep Value Case\r\n" },
	{ "To: a@b.example,\r\n\tc@d.example", "to:a@b.example, c@d.example\r\n" },
	{ "Subject: x:y: z", "subject:x:y: z\r\n" },	/* only the first colon */
	{ "Subject: a\rb", "subject:a\rb\r\n" },	/* bare CR kept */
	{ "DKIM-Signature: v=1; a=ed25519-sha256;\n\tb=",
	    "dkim-signature:v=1; a=ed25519-sha256; b=\r\n" },
	{ "Subject: \xc3\xa9t\xc3\xa9", "subject:\xc3\xa9t\xc3\xa9\r\n" },
};

static const struct tcase body_cases[] = {
	/* RFC 6376 3.4.5 */
	{ " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n" },
	{ "", "" },				/* empty body: nothing */
	{ "\r\n", "" },
	{ "\r\n\r\n\r\n", "" },
	{ "  \r\n\t\r\n", "" },			/* WSP-only lines are empty */
	{ "abc", "abc\r\n" },			/* CRLF added */
	{ "abc\r\n", "abc\r\n" },
	{ "abc\r\n\r\n", "abc\r\n" },
	{ "abc  \r\n", "abc\r\n" },
	{ "a  b\t\tc\r\n", "a b c\r\n" },
	{ "\tindented\r\n", " indented\r\n" },	/* leading WSP run -> SP */
	{ "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },	/* inner empty lines kept */
	{ "a\r\n \r\nb\r\n", "a\r\n\r\nb\r\n" },
	{ "a\nb\n", "a\r\nb\r\n" },		/* bare LF ends a line */
	{ "a\rb\r\n", "a\rb\r\n" },		/* bare CR is data */
	{ "a\r\n\r\n  \r\n", "a\r\n" },
	{ "line one.\r\nline two.\r\n", "line one.\r\nline two.\r\n" },
	{ "x \r\n", "x\r\n" },
};

static void
check(const char *what, int r, const lm_buf *b, const char *want,
    const char *in, size_t n)
{
	char e1[256], e2[256], e3[256];

	CHECK(r == 0 && b->len == strlen(want) &&
	    memcmp(lm_buf_cstr(b), want, b->len) == 0,
	    "%s \"%s\": got \"%s\", want \"%s\"", what, lmt_esc(in, n, e1,
	    sizeof e1), lmt_esc(lm_buf_cstr(b), b->len, e2, sizeof e2),
	    lmt_esc(want, strlen(want), e3, sizeof e3));
}

static void
header_tests(void)
{
	lm_buf b;
	size_t i;

	lm_buf_init(&b, 4096);
	for (i = 0; i < sizeof hdr_cases / sizeof hdr_cases[0]; i++) {
		const struct tcase *t = &hdr_cases[i];

		lm_buf_reset(&b);
		check("field", lm_canon_field(&b, t->in, strlen(t->in)), &b,
		    t->out, t->in, strlen(t->in));
	}
	/* name/value form, leading space kept in the value */
	lm_buf_reset(&b);
	check("header", lm_canon_header(&b, "Content-Type", " text/plain;\n"
	    "\tcharset=utf-8", 27), &b, "content-type:text/plain; "
	    "charset=utf-8\r\n", "Content-Type", 12);
	lm_buf_reset(&b);
	(void)lm_buf_adds(&b, "z:1\r\n");
	check("appends", lm_canon_header(&b, "B", " 2", 2), &b,
	    "z:1\r\nb:2\r\n", "B", 1);
	lm_buf_free(&b);
	lm_buf_init(&b, 6);
	CHECK(lm_canon_header(&b, "Subject", " long value", 11) == -1 &&
	    b.len == 0, "over the maximum: -1, nothing added");
	lm_buf_free(&b);
}

static void
body_tests(void)
{
	lm_buf b;
	size_t i;

	lm_buf_init(&b, 4096);
	for (i = 0; i < sizeof body_cases / sizeof body_cases[0]; i++) {
		const struct tcase *t = &body_cases[i];

		lm_buf_reset(&b);
		check("body", lm_canon_body(&b, t->in, strlen(t->in)), &b,
		    t->out, t->in, strlen(t->in));
	}
	lm_buf_free(&b);
	lm_buf_init(&b, 4);
	CHECK(lm_canon_body(&b, "abcdef\r\n", 8) == -1 && b.len == 0,
	    "body over the maximum: -1, nothing added");
	lm_buf_free(&b);
}

int
main(void)
{
	header_tests();
	body_tests();
	return LMT_DONE();
}
