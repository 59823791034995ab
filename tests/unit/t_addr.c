/*
 * t_addr - table tests for lm_addr: RFC 5322 3.4 address lists as they
 * appear in From (plain, named, quoted, comments, groups, folds, UTF-8,
 * RFC 2047 display names, literals), every "Composition Kills" evasion
 * of prior-art.md section 7, the size limits, the mailbox fields, SMTP
 * envelope paths (RFC 5321 4.1.2), lm_addr_same, and display names that
 * survive lm_rfc2047_phrase and a second parse unchanged.
 * One CHECK per table row; prints "N passed, M failed".
 */
#include <stdlib.h>
#include <string.h>

#include "lm_addr.h"
#include "lm_buf.h"
#include "lm_rfc2047.h"
#include "lmtest.h"

/*
 * The result as one string: per mailbox "g:" if in a group, the display
 * name if any, then "<addr>"; mailboxes joined by ", ".
 */
static void
serialize(const struct lm_addrlist *l, lm_buf *b)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct lm_mailbox *m = &l->mb[i];

		(void)lm_buf_printf(b, "%s%s%s<%s>", i > 0 ? ", " : "",
		    m->in_group ? "g:" : "",
		    m->display != NULL ? m->display : "", m->addr);
	}
}

/* ---------------------------------------------------------------- */

struct prow {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	enum lm_addr_err err;
	const char	*want;		/* OK: serialized; else in errbuf */
	int		 groups;	/* has_group * 10 + empty_groups */
};

#define OK(in, want)		{ in, 0, LM_ADDR_OK, want, 0 }
#define OKG(in, want, g, e)	{ in, 0, LM_ADDR_OK, want, (g) * 10 + (e) }
#define BAD(in, why)		{ in, 0, LM_ADDR_SYNTAX, why, 0 }
#define EMPTY(in)		{ in, 0, LM_ADDR_EMPTY, "no address", 0 }

static const struct prow prows[] = {
	/* plain addr-specs */
	OK("a@example.com", "<a@example.com>"),
	OK("  a@example.com\t", "<a@example.com>"),
	OK("<a@example.com>", "<a@example.com>"),
	OK("< a@example.com >", "<a@example.com>"),
	OK("A@Example.COM", "<A@Example.COM>"),
	OK("a.b.c@x.y.example", "<a.b.c@x.y.example>"),
	OK("!#$%&'*+-/=?^_`{|}~@example.com",
	    "<!#$%&'*+-/=?^_`{|}~@example.com>"),
	OK("a@localhost", "<a@localhost>"),
	/* named */
	OK("Joe <joe@example.com>", "Joe<joe@example.com>"),
	OK("Joe<joe@example.com>", "Joe<joe@example.com>"),
	OK("Joe Q. Public <jqp@example.com>", "Joe Q. Public<jqp@example.com>"),
	OK("Joe Q.Public <jqp@example.com>", "Joe Q.Public<jqp@example.com>"),
	OK("\"Joe Q. Public\" <jqp@example.com>",
	    "Joe Q. Public<jqp@example.com>"),
	OK("\"Doe, Jane\" <jane@example.com>", "Doe, Jane<jane@example.com>"),
	OK("\"Joe \\\"the\\\" \\\\ Bloggs\" <j@example.org>",
	    "Joe \"the\" \\ Bloggs<j@example.org>"),
	OK("\"\" <a@example.org>", "<a@example.org>"),
	OK("\"Joe\"Bloggs <j@example.org>", "JoeBloggs<j@example.org>"),
	OK("\"admin@legitimate.com\" <a@attack.com>",
	    "admin@legitimate.com<a@attack.com>"),
	OK("\"<admin@x.org>\" <a@attack.com>", "<admin@x.org><a@attack.com>"),
	/* comments */
	OK("a@example.com (Comment)", "<a@example.com>"),
	OK("(lead) Joe (mid) <j@example.org> (trail)", "Joe<j@example.org>"),
	OK("Joe (nested (comment (deep))) <j@example.org>",
	    "Joe<j@example.org>"),
	OK("Joe(c)Smith <j@example.org>", "Joe Smith<j@example.org>"),
	OK("Joe <j(c)@(c)example.org(c)>", "Joe<j@example.org>"),
	OK("a@example.com (x <b@evil.example>)", "<a@example.com>"),
	OK("a@example.com (\\) still \\( comment)", "<a@example.com>"),
	OK("a@example.com (\xc3\xa9t\xc3\xa9)", "<a@example.com>"),
	/* groups */
	OKG("Friends: a@example.org, Joe <b@example.org>;",
	    "g:<a@example.org>, g:Joe<b@example.org>", 1, 0),
	OKG("undisclosed-recipients:;", "", 1, 1),
	OKG("undisclosed-recipients: (none) ;", "", 1, 1),
	OKG("a@x.org, g: b@x.org;, c@x.org",
	    "<a@x.org>, g:<b@x.org>, <c@x.org>", 1, 0),
	OKG("g1:;, g2:;", "", 1, 2),
	/* several addresses: an unambiguous n > 1 for the caller */
	OK("a@b.example, c@d.example", "<a@b.example>, <c@d.example>"),
	OK("Joe <j@x.org>, \"Doe, Jane\" <jane@x.org>, k@x.org",
	    "Joe<j@x.org>, Doe, Jane<jane@x.org>, <k@x.org>"),
	OK("<first@attack.com>, <admin@legitimate.com>",
	    "<first@attack.com>, <admin@legitimate.com>"),
	OK("a@x.org (c1) , (c2) k@x.org", "<a@x.org>, <k@x.org>"),
	/* folding white space */
	OK("Joe <j@x.org>,\r\n Ann <a@x.org>", "Joe<j@x.org>, Ann<a@x.org>"),
	OK("Joe\r\n Smith <j@x.org>", "Joe Smith<j@x.org>"),
	OK("Joe\n\tSmith <j@x.org>", "Joe Smith<j@x.org>"),
	OK("\"Joe\r\n Smith\" <j@x.org>", "Joe Smith<j@x.org>"),
	OK("\r\n Joe <j@x.org>", "Joe<j@x.org>"),
	/* UTF-8 (RFC 6532) */
	OK("J\xc3\xb6hn D\xc5\x93 <j@x.org>", "J\xc3\xb6hn D\xc5\x93<j@x.org>"),
	OK("\"J\xc3\xb6hn\" <j@x.org>", "J\xc3\xb6hn<j@x.org>"),
	OK("\xc3\xbc@example.com", "<\xc3\xbc@example.com>"),
	OK("user@\xe4\xbe\x8b\xe3\x81\x88.jp",
	    "<user@\xe4\xbe\x8b\xe3\x81\x88.jp>"),
	/* RFC 2047 display names */
	OK("=?utf-8?q?J=C3=B6hn_Doe?= <j@x.org>", "J\xc3\xb6hn Doe<j@x.org>"),
	OK("=?iso-8859-1?q?M=FCller?= <m@x.org>", "M\xc3\xbcller<m@x.org>"),
	OK("=?utf-8?q?a?= =?utf-8?q?b?= <x@y.org>", "ab<x@y.org>"),
	OK("=?utf-8?q?a?=\r\n =?utf-8?q?b?= <x@y.org>", "ab<x@y.org>"),
	OK("=?utf-8?q?a?= b <x@y.org>", "a b<x@y.org>"),
	OK("=?utf-8?q?a?= (c) =?utf-8?q?b?= <x@y.org>", "a b<x@y.org>"),
	OK("=?utf-8?B?PGFkbWluQGxlZ2l0aW1hdGUuY29tPg==?= <second@attack.com>",
	    "<admin@legitimate.com><second@attack.com>"),
	OK("=?utf-8?q?=3Cadmin=40x.org=3E?= <a@attack.com>",
	    "<admin@x.org><a@attack.com>"),
	OK("=?iso-8859-1?q?Dr._M=FCller?= <m@x.org>",
	    "Dr. M\xc3\xbcller<m@x.org>"),
	OK("Dr.=?utf-8?q?x?= <m@x.org>", "Dr.=?utf-8?q?x?=<m@x.org>"),
	OK("\"=?utf-8?q?J=C3=B6?=\" <j@x.org>", "=?utf-8?q?J=C3=B6?=<j@x.org>"),
	OK("=?x-unknown?q?abc?= <j@x.org>", "=?x-unknown?q?abc?=<j@x.org>"),
	OK("x=?utf-8?q?a?= <j@x.org>", "x=?utf-8?q?a?=<j@x.org>"),
	OK("=?utf-8?q?Attacker=0D=0ADate=3A_1999?= <a@x.org>",
	    "Attacker\r\nDate: 1999<a@x.org>"),
	OK("=?utf-8?q?a?=@example.com", "<=?utf-8?q?a?=@example.com>"),
	/* local parts and domain literals */
	OK("\"john smith\"@example.com", "<\"john smith\"@example.com>"),
	OK("\"john\"@example.com", "<john@example.com>"),
	OK("\"a\\\"b\"@example.com", "<\"a\\\"b\"@example.com>"),
	OK("\"a..b\"@example.com", "<\"a..b\"@example.com>"),
	OK("\"a\\b\"@example.com", "<ab@example.com>"),
	OK("\"a,b\" <\"c d\"@example.com>", "a,b<\"c d\"@example.com>"),
	OK("a@[192.0.2.1]", "<a@[192.0.2.1]>"),
	OK("Joe <a@[IPv6:2001:db8::1]>", "Joe<a@[IPv6:2001:db8::1]>"),
	OK("a@[ipv6:::1]", "<a@[ipv6:::1]>"),
	/* "Composition Kills" evasions: each one an error */
	BAD("<@attack.com,@any.com:admin@legitimate.com>", "obsolete route"),
	BAD("<@attack.com:admin@legitimate.com>", "obsolete route"),
	BAD("<admin@legitimate.com>\\,<second@attack.com>",
	    "quoted-pair outside"),
	BAD("admin@legitimate.com\\, second@attack.com",
	    "quoted-pair outside"),
	BAD("<any@attack.com>admin@legitimate.com",
	    "addr-spec after angle-addr at offset 16"),
	BAD("<any@attack.com> \"admin\"@legitimate.com",
	    "addr-spec after angle-addr"),
	BAD("<attacker@example.com>:<spoofed@example.com>",
	    "':' after an address"),
	BAD("=?utf-8?B?PGFkbWluQGxlZ2l0aW1hdGUuY29tPg==?=,<second@attack.com>",
	    "phrase without an address"),
	BAD("=?utf-8?q?<admin@legitimate.com>?= <a@attack.com>",
	    "addr-spec after angle-addr"),
	BAD("user@example.net>", "unbalanced angle bracket at offset 16"),
	BAD("<user@example.net", "unbalanced angle bracket at offset 0"),
	BAD("Joe <user@example.net", "unbalanced angle bracket at offset 4"),
	BAD("Joe <<user@example.net>>", "expected a local part"),
	BAD("a@b.example c@d.example", "missing ','"),
	BAD("a@b.example <c@d.example>", "missing ','"),
	BAD("<a@b.example> <c@d.example>", "missing ','"),
	BAD("Joe <a@b.org>\r\n From: <c@d.org>", "addr-spec after angle-addr"),
	BAD("Joe <a@b.org>\r\nFrom: <c@d.org>", "line break"),
	BAD("<>", "empty angle-addr"),
	BAD("Joe <>", "empty angle-addr"),
	/* other syntax errors */
	BAD("@example.com", "empty local part"),
	BAD("a@", "empty domain"),
	BAD("<a@>", "empty domain"),
	BAD("a", "phrase without an address"),
	BAD("Joe Smith", "phrase without an address"),
	BAD("john smith@x.org", "words before '@'"),
	BAD("<abc>", "missing '@'"),
	BAD("a@b@c.org", "second '@'"),
	BAD("\"unterminated <a@b.org>", "unterminated quoted string"),
	BAD("\"a\\", "quoted-pair without a character"),
	BAD("Joe (unterminated <a@b.org>", "unbalanced parenthesis"),
	BAD("Joe) <a@b.org>", "unbalanced parenthesis"),
	BAD("a@[192.0.2.1", "unterminated domain literal"),
	BAD("a@[]", "empty domain literal"),
	BAD("a@[1.2 .3.4]", "invalid character in domain literal"),
	BAD("a@[1.2[3].4]", "invalid character in domain literal"),
	BAD("a@[admin@legitimate.com]", "not an IPv4 or IPv6"),
	BAD("a@[192.0.2]", "not an IPv4 or IPv6"),
	BAD("a@[192.0.2.256]", "not an IPv4 or IPv6"),
	BAD("a@[IPv6:192.0.2.1]", "not an IPv4 or IPv6"),
	BAD("a@[tag:anything]", "not an IPv4 or IPv6"),
	BAD("a@b.org]", "unbalanced square bracket"),
	BAD("[192.0.2.1]", "expected an address"),
	BAD("a..b@x.org", "'.' not followed"),
	BAD(".a@x.org", "expected a local part"),
	BAD("a.@x.org", "'.' not followed"),
	BAD("a@x..org", "'.' not followed"),
	BAD("a@x.org.", "'.' not followed"),
	BAD("a@.x.org", "empty domain"),
	BAD("john . smith@x.org", "white space before '.'"),
	BAD("\"john\".smith@x.org", "quoted-string mixed"),
	BAD("a@x . org", "white space before '.'"),
	BAD("a\\@b.org", "quoted-pair outside"),
	BAD(".Joe <a@b.org>", "phrase starts with '.'"),
	BAD("a@b.org,", "empty list element"),
	BAD(",a@b.org", "expected an address"),
	BAD("a@b.org,,c@d.org", "empty list element"),
	BAD("a@b.org;", "';' outside a group"),
	BAD("g: a@b.org", "unterminated group"),
	BAD("g: h: a@b.org;;", "group inside a group"),
	BAD(": a@b.org;", "expected an address"),
	BAD("g: a@b.org,;", "empty list element"),
	/* bytes: NUL, controls, line breaks, UTF-8 */
	{ "a@b\0c.org", 9, LM_ADDR_SYNTAX, "NUL byte at offset 3", 0 },
	{ "Joe\0 <a@b.org>", 14, LM_ADDR_SYNTAX, "NUL byte at offset 3", 0 },
	{ "<a@b.org>\0, <c@d.org>", 21, LM_ADDR_SYNTAX, "NUL byte", 0 },
	BAD("Joe <a@b.org>\rx", "line break"),
	BAD("Joe <a@b.org>\n", "line break"),
	BAD("Joe <a@b.org>\r\n", "line break"),
	BAD("a@b.org\r\n \r\n c@d.org", "line break"),
	BAD("\"Joe\x01\" <a@b.org>", "control character"),
	BAD("Joe\x0b <a@b.org>", "control character"),
	BAD("Joe\x7f <a@b.org>", "control character"),
	BAD("Joe\xc2\x85 <a@b.org>", "control character"),
	BAD("Joe\xe2\x80\xa8" "Bcc: x <a@b.org>", "control character"),
	BAD("a\xe2\x80\xa9@b.org", "control character"),
	BAD("\xff <a@b.org>", "invalid UTF-8"),
	BAD("\xc0\xaf <a@b.org>", "invalid UTF-8"),
	BAD("a@b.\xed\xa0\x80", "invalid UTF-8"),
	/* nothing at all */
	EMPTY(""),
	EMPTY("   "),
	EMPTY("(just a comment)"),
	EMPTY(" \r\n (c)"),
};

/* One row: 1 if the result is as expected, else why in `why`. */
static int
prow_ok(const struct prow *t, char *why, size_t whysz)
{
	struct lm_addrlist l;
	char eb[160];
	lm_buf b;
	size_t len = t->len != 0 ? t->len : strlen(t->in);
	enum lm_addr_err e;
	int ok;

	e = lm_addr_parse(t->in, len, &l, eb, sizeof eb);
	lm_buf_init(&b, 65536);
	serialize(&l, &b);
	if (t->err == LM_ADDR_OK)
		ok = e == LM_ADDR_OK && strcmp(lm_buf_cstr(&b), t->want) == 0 &&
		    l.has_group * 10 + l.empty_groups == t->groups;
	else
		ok = e == t->err && l.n == 0 && l.mb == NULL &&
		    strstr(eb, t->want) != NULL;
	(void)lmt_esc(lm_buf_cstr(&b), b.len, why, whysz);
	if (e != LM_ADDR_OK)
		(void)snprintf(why, whysz, "error %d \"%s\"", e, eb);
	lm_buf_free(&b);
	lm_addrlist_free(&l);
	return ok;
}

static void
test_parse(void)
{
	char why[256], e[256];
	size_t i;

	for (i = 0; i < sizeof prows / sizeof prows[0]; i++) {
		const struct prow *t = &prows[i];
		size_t len = t->len != 0 ? t->len : strlen(t->in);

		CHECK(prow_ok(t, why, sizeof why), "parse(\"%s\"): %s",
		    lmt_esc(t->in, len, e, sizeof e), why);
	}
}

/* ---------------------------------------------------------------- */

/* Build the boundary inputs: `n` copies of unit between pre and post. */
static char *
build(const char *pre, const char *unit, size_t n, const char *post)
{
	lm_buf b;

	lm_buf_init(&b, 2 * LM_ADDR_MAXIN);
	(void)lm_buf_adds(&b, pre);
	while (n-- > 0)
		(void)lm_buf_adds(&b, unit);
	(void)lm_buf_adds(&b, post);
	return lm_buf_steal(&b);
}

struct brow {
	const char	*pre, *unit;
	size_t		 n;
	const char	*post;
	enum lm_addr_err err;
	size_t		 nmb;		/* mailboxes when OK */
};

static const struct brow brows[] = {
	{ "a@b.org", " ", LM_ADDR_MAXIN - 7, "", LM_ADDR_OK, 1 },
	{ "a@b.org", " ", LM_ADDR_MAXIN - 6, "", LM_ADDR_TOOLONG, 0 },
	{ "", "a", 64, "@b.org", LM_ADDR_OK, 1 },
	{ "", "a", 65, "@b.org", LM_ADDR_TOOLONG, 0 },
	{ "\"", "a", 62, "\"@b.org", LM_ADDR_OK, 1 },
	{ "\"", "a", 63, "\"@b.org", LM_ADDR_TOOLONG, 0 },
	{ "a@", "b", 63, ".org", LM_ADDR_OK, 1 },
	{ "a@", "b", 64, ".org", LM_ADDR_TOOLONG, 0 },
	{ "a@", "b23456789.", 25, "b2345", LM_ADDR_OK, 1 },
	{ "a@", "b23456789.", 25, "b23456", LM_ADDR_TOOLONG, 0 },
	{ "a@[", "1", 252, "]", LM_ADDR_SYNTAX, 0 },
	{ "a@[", "1", 254, "]", LM_ADDR_TOOLONG, 0 },
	{ "", "a@b.c, ", LM_ADDR_MAXMB - 1, "a@b.c", LM_ADDR_OK,
	    LM_ADDR_MAXMB },
	{ "", "a@b.c, ", LM_ADDR_MAXMB, "a@b.c", LM_ADDR_TOOLONG, 0 },
	{ "g: ", "a@b.c, ", LM_ADDR_MAXMB, "a@b.c;", LM_ADDR_TOOLONG, 0 },
	{ "a@b.c ", "(", 32, "", LM_ADDR_SYNTAX, 0 },
	{ "Joe <a@b.c> ", "(", 33, "", LM_ADDR_SYNTAX, 0 },
	{ "", "Joe ", 5000, "<a@b.c>", LM_ADDR_OK, 1 },
	{ "", "=?utf-8?q?=C3=A9?= ", 3000, "<a@b.c>", LM_ADDR_OK, 1 },
};

static void
test_bounds(void)
{
	struct lm_addrlist l;
	char eb[160];
	size_t i;

	for (i = 0; i < sizeof brows / sizeof brows[0]; i++) {
		const struct brow *t = &brows[i];
		char *in = build(t->pre, t->unit, t->n, t->post);
		enum lm_addr_err e;

		e = lm_addr_parse(in, strlen(in), &l, eb, sizeof eb);
		CHECK(e == t->err && l.n == t->nmb,
		    "bounds row %zu (%zu x \"%s\"): error %d n %zu \"%s\"", i,
		    t->n, t->unit, e, l.n, eb);
		lm_addrlist_free(&l);
		free(in);
	}
}

/* Balanced comments: 32 levels parse, 33 do not. */
struct nrow {
	size_t		 depth;
	enum lm_addr_err err;
};

static const struct nrow nrows[] = {
	{ 1, LM_ADDR_OK },
	{ 32, LM_ADDR_OK },
	{ 33, LM_ADDR_SYNTAX },
	{ 5000, LM_ADDR_SYNTAX },
};

static void
test_nesting(void)
{
	struct lm_addrlist l;
	size_t i;

	for (i = 0; i < sizeof nrows / sizeof nrows[0]; i++) {
		char *open = build("a@b.c ", "(", nrows[i].depth, "");
		char *in = build(open, ")", nrows[i].depth, "");
		enum lm_addr_err e;

		e = lm_addr_parse(in, strlen(in), &l, NULL, 0);
		CHECK(e == nrows[i].err, "comment depth %zu: error %d",
		    nrows[i].depth, e);
		lm_addrlist_free(&l);
		free(open);
		free(in);
	}
}

/* ---------------------------------------------------------------- */

struct frow {
	const char	*in;
	const char	*local, *domain, *display;
	int		 literal, in_group;
};

static const struct frow frows[] = {
	{ "a@b.org", "a", "b.org", NULL, 0, 0 },
	{ "\"john smith\"@Example.ORG", "john smith", "Example.ORG", NULL,
	    0, 0 },
	{ "\"a\\\"b\\\\c\"@x.org", "a\"b\\c", "x.org", NULL, 0, 0 },
	{ "Joe <j@[192.0.2.1]>", "j", "[192.0.2.1]", "Joe", 1, 0 },
	{ "G: \"Doe, J\" <j@x.org>;", "j", "x.org", "Doe, J", 0, 1 },
	{ "\"\\\"x\\\"\" <j@x.org>", "j", "x.org", "\"x\"", 0, 0 },
};

static int
frow_ok(const struct frow *t)
{
	struct lm_addrlist l;
	const struct lm_mailbox *m;
	int ok;

	if (lm_addr_parse(t->in, strlen(t->in), &l, NULL, 0) != LM_ADDR_OK)
		return 0;
	m = &l.mb[0];
	ok = l.n == 1 && strcmp(m->local, t->local) == 0 &&
	    strcmp(m->domain, t->domain) == 0 && m->literal == t->literal &&
	    m->in_group == t->in_group && (t->display == NULL ?
	    m->display == NULL : m->display != NULL &&
	    strcmp(m->display, t->display) == 0);
	lm_addrlist_free(&l);
	return ok;
}

static void
test_fields(void)
{
	size_t i;

	for (i = 0; i < sizeof frows / sizeof frows[0]; i++)
		CHECK(frow_ok(&frows[i]), "fields of \"%s\"", frows[i].in);
}

/* ---------------------------------------------------------------- */

struct erow {
	const char	*in;
	int		 ret;
	const char	*local, *domain;	/* NULL for "<>" */
};

static const struct erow erows[] = {
	{ "<a@b.org>", 0, "a", "b.org" },
	{ "a@b.org", 0, "a", "b.org" },
	{ "  <a@b.org>\t", 0, "a", "b.org" },
	{ "<>", 0, NULL, NULL },
	{ " <> ", 0, NULL, NULL },
	{ "<@x.org,@y.org:a@b.org>", 0, "a", "b.org" },
	{ "<@x.org:a@b.org>", 0, "a", "b.org" },
	{ "<\"a b\"@b.org>", 0, "a b", "b.org" },
	{ "<\"a\\\"b\"@b.org>", 0, "a\"b", "b.org" },
	{ "<a@[192.0.2.1]>", 0, "a", "[192.0.2.1]" },
	{ "<a@[IPv6:2001:db8::1]>", 0, "a", "[IPv6:2001:db8::1]" },
	{ "<@[192.0.2.1]:a@b.org>", 0, "a", "b.org" },
	{ "<a@[x@y]>", -1, NULL, NULL },
	{ "<\xc3\xbc@b.org>", 0, "\xc3\xbc", "b.org" },
	{ "", -1, NULL, NULL },
	{ "<", -1, NULL, NULL },
	{ "<a@b.org", -1, NULL, NULL },
	{ "a@b.org>", -1, NULL, NULL },
	{ "<a>", -1, NULL, NULL },
	{ "<@b.org>", -1, NULL, NULL },
	{ "<a@>", -1, NULL, NULL },
	{ "<a@b..org>", -1, NULL, NULL },
	{ "<a..b@b.org>", -1, NULL, NULL },
	{ "<a b@b.org>", -1, NULL, NULL },
	{ "< a@b.org>", -1, NULL, NULL },
	{ "<a@b.org> x", -1, NULL, NULL },
	{ "@x.org:a@b.org", -1, NULL, NULL },
	{ "<@x.org,a@b.org>", -1, NULL, NULL },
	{ "<@:a@b.org>", -1, NULL, NULL },
	{ "<a@b.org\r\n>", -1, NULL, NULL },
	{ "<a@b\xff.org>", -1, NULL, NULL },
	{ "<\"\"@b.org>", -1, NULL, NULL },
	{ "<a@[]>", -1, NULL, NULL },
	{ "<(c)a@b.org>", -1, NULL, NULL },
};

static int
erow_ok(const struct erow *t)
{
	char *l, *d;
	int r, ok;

	r = lm_addr_envelope(t->in, strlen(t->in), &l, &d);
	if (r != 0 || t->local == NULL)
		ok = r == t->ret && l == NULL && d == NULL;
	else
		ok = r == t->ret && l != NULL && d != NULL &&
		    strcmp(l, t->local) == 0 && strcmp(d, t->domain) == 0;
	free(l);
	free(d);
	return ok;
}

static void
test_envelope(void)
{
	char e[128];
	size_t i;

	for (i = 0; i < sizeof erows / sizeof erows[0]; i++)
		CHECK(erow_ok(&erows[i]), "envelope(\"%s\") != %d",
		    lmt_esc(erows[i].in, strlen(erows[i].in), e, sizeof e),
		    erows[i].ret);
}

/* ---------------------------------------------------------------- */

struct srow {
	const char	*a, *b;
	int		 want;
};

static const struct srow srows[] = {
	{ "a@b.org", "a@b.org", 1 },
	{ "A@B.Org", "a@b.ORG", 1 },
	{ "Joe <a@b.org>", "\"a\"@b.org", 1 },
	{ "a@b.org", "a@c.org", 0 },
	{ "a@b.org", "ab@b.org", 0 },
	{ "a@[192.0.2.1]", "a@192.0.2.1", 0 },
	{ "\"a b\"@x.org", "\"A B\"@X.org", 1 },
};

static int
srow_ok(const struct srow *t)
{
	struct lm_addrlist a, b;
	int ok = 0;

	if (lm_addr_parse(t->a, strlen(t->a), &a, NULL, 0) == LM_ADDR_OK &&
	    lm_addr_parse(t->b, strlen(t->b), &b, NULL, 0) == LM_ADDR_OK) {
		ok = lm_addr_same(&a.mb[0], &b.mb[0]) == t->want &&
		    lm_addr_same(&b.mb[0], &a.mb[0]) == t->want;
		lm_addrlist_free(&b);
	}
	lm_addrlist_free(&a);
	return ok;
}

static void
test_same(void)
{
	size_t i;

	for (i = 0; i < sizeof srows / sizeof srows[0]; i++)
		CHECK(srow_ok(&srows[i]), "same(\"%s\", \"%s\") != %d",
		    srows[i].a, srows[i].b, srows[i].want);
}

/* ---------------------------------------------------------------- */

/*
 * A display name taken from an attacker, sanitized, encoded with
 * lm_rfc2047_phrase and parsed again comes back as the sanitized text,
 * always as one mailbox with the intended address.
 */
static const char *const names[] = {
	"Joe",
	"Doe, Jane",
	"admin@legitimate.com via List",
	"\"quoted\" \\ back",
	"<admin@legitimate.com>",
	"=?utf-8?q?not_decoded?=",
	"J\xc3\xb6hn D\xc5\x93 via Ant",
	"Attacker\r\nDate: 1999\r\nTo: boss@corp",
	"a\xe2\x80\xa8" "b\xc2\x85" "c\x0b" "d",
	"x, y: z; <w>",
	"(not a comment)",
	"A very long display name that has to be folded somewhere because it "
	    "is much longer than one header line could ever hold",
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe5\x90\x8d\xe5\x89"
	    "\x8d\xe3\x81\xa7\xe3\x81\x99\xe3\x81\xad\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e\xe3\x81\xae\xe5\x90\x8d\xe5\x89\x8d\xe3\x81\xa7\xe3"
	    "\x81\x99",
};

static int
name_ok(const char *name)
{
	struct lm_addrlist l;
	lm_buf s, h;
	int ok = 0;

	lm_buf_init(&s, 4096);
	lm_buf_init(&h, 8192);
	if (lm_sanitize_display(name, strlen(name), 200, &s) == 0 &&
	    lm_rfc2047_phrase(lm_buf_cstr(&s), s.len, 6, &h) == 0 &&
	    lm_buf_adds(&h, " <list@example.org>") == 0 &&
	    lm_addr_parse(h.s, h.len, &l, NULL, 0) == LM_ADDR_OK) {
		ok = l.n == 1 && l.mb[0].display != NULL &&
		    strcmp(l.mb[0].display, lm_buf_cstr(&s)) == 0 &&
		    strcmp(l.mb[0].addr, "list@example.org") == 0;
		lm_addrlist_free(&l);
	}
	lm_buf_free(&s);
	lm_buf_free(&h);
	return ok;
}

static void
test_names(void)
{
	char e[256];
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		CHECK(name_ok(names[i]), "name round trip \"%s\"",
		    lmt_esc(names[i], strlen(names[i]), e, sizeof e));
}

int
main(void)
{
	test_parse();
	test_bounds();
	test_nesting();
	test_fields();
	test_envelope();
	test_same();
	test_names();
	return LMT_DONE();
}
