/*
 * t_listtab - table tests for lm_listtab: the line tokenizer, address
 * and value checks with their exact "FILE:LINE: reason" errors, the
 * option table, and lookups (exact, @domain with its exclusions,
 * defaults, a 10,000-entry table).
 * One CHECK per table row; prints "N passed, M failed".
 */
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_listtab.h"
#include "lmtest.h"

#define KNOWN	"(known: name, action, mitigate, reply, bounce, enforce, "\
	"quarantine, temperror, sign)"

/* ---------------------------------------------------------------- */

struct err_row {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*err;		/* NULL: must parse */
	size_t		 n;		/* entries when it parses */
};

static const struct err_row err_rows[] = {
	/* good tables */
	{ "", 0, NULL, 0 },
	{ "\n\n   \n\t\n", 0, NULL, 0 },
	{ "# only a comment\n  # and another\n", 0, NULL, 0 },
	{ "list@example.org", 0, NULL, 1 },
	{ "list@example.org\n", 0, NULL, 1 },
	{ "list@example.org # the list\n", 0, NULL, 1 },
	{ "list@example.org#comment\n", 0, NULL, 1 },
	{ "a@example.org\r\nb@example.org action=wrap\r\n", 0, NULL, 2 },
	{ "  a@example.org\t action=wrap\t\tmitigate=always  \n", 0, NULL, 1 },
	{ "a@example.org\nA@example.net\n@example.org\n@example.net\n", 0,
	    NULL, 4 },
	{ "a+b=c!$%&*/?^`{|}~x@example.org\n", 0, NULL, 1 },
	{ "x.y_z-1'~@sub-1.example.org\n", 0, NULL, 1 },
	{ "a@localhost\n", 0, NULL, 1 },
	{ "a@example.org name=\"# not a comment\" # but this is\n", 0,
	    NULL, 1 },
	{ "a@example.org ACTION=Wrap Mitigate=ALWAYS\n", 0, NULL, 1 },
	/* addresses */
	{ "nodomain\n", 0, "lists:1: invalid address \"nodomain\"", 0 },
	{ "list@\n", 0, "lists:1: invalid address \"list@\"", 0 },
	{ "@\n", 0, "lists:1: invalid address \"@\"", 0 },
	{ "a@b@example.org\n", 0,
	    "lists:1: invalid address \"a@b@example.org\"", 0 },
	{ "list@exa_mple.org\n", 0,
	    "lists:1: invalid address \"list@exa_mple.org\"", 0 },
	{ "a..b@example.org\n", 0,
	    "lists:1: invalid address \"a..b@example.org\"", 0 },
	{ ".a@example.org\n", 0, "lists:1: invalid address \".a@example.org\"",
	    0 },
	{ "list@-example.org\n", 0,
	    "lists:1: invalid address \"list@-example.org\"", 0 },
	{ "list@example.org.\n", 0,
	    "lists:1: invalid address \"list@example.org.\"", 0 },
	{ "list@example..org\n", 0,
	    "lists:1: invalid address \"list@example..org\"", 0 },
	{ "\"a b\"@example.org\n", 0,
	    "lists:1: invalid address \"\"a\"", 0 },
	{ "name=foo\n", 0, "lists:1: invalid address \"name=foo\"", 0 },
	{ "a#b@example.org\n", 0, "lists:1: invalid address \"a\"", 0 },
	/* keys and tokens */
	{ "# lists\n\nlist@example.org actoin=wrap\n", 0,
	    "lists:3: unknown key \"actoin\" " KNOWN, 0 },
	{ "list@example.org =wrap\n", 0,
	    "lists:1: unknown key \"\" " KNOWN, 0 },
	{ "list@example.org na\x80me=x\n", 0,
	    "lists:1: unknown key \"na\\x80me\" " KNOWN, 0 },
	{ "list@example.org name\n", 0,
	    "lists:1: expected key=value, got \"name\"", 0 },
	{ "list@example.org name = x\n", 0,
	    "lists:1: expected key=value, got \"name\"", 0 },
	{ "a@example.org\r\nb@example.org bad\r\n", 0,
	    "lists:2: expected key=value, got \"bad\"", 0 },
	{ "list@example.org action=wrap action=munge\n", 0,
	    "lists:1: duplicate key \"action\"", 0 },
	{ "list@example.org name=a NAME=b\n", 0,
	    "lists:1: duplicate key \"name\"", 0 },
	/* values */
	{ "list@example.org action=rewrite\n", 0, "lists:1: bad value "
	    "\"rewrite\" for action (expected munge|wrap|reject|none)", 0 },
	{ "list@example.org action=mung\n", 0, "lists:1: bad value "
	    "\"mung\" for action (expected munge|wrap|reject|none)", 0 },
	{ "list@example.org mitigate=sometimes\n", 0, "lists:1: bad value "
	    "\"sometimes\" for mitigate (expected policy|always|needed)", 0 },
	{ "list@example.org reply=sender\n", 0, "lists:1: bad value "
	    "\"sender\" for reply (expected author|list)", 0 },
	{ "list@example.org bounce=nobody\n", 0, "lists:1: bad value "
	    "\"nobody\" for bounce (expected ADDRESS|none)", 0 },
	{ "list@example.org bounce=@example.org\n", 0, "lists:1: bad value "
	    "\"@example.org\" for bounce (expected ADDRESS|none)", 0 },
	{ "list@example.org bounce=\"a b@example.org\"\n", 0,
	    "lists:1: bad value \"a b@example.org\" for bounce "
	    "(expected ADDRESS|none)", 0 },
	{ "list@example.org name=\n", 0, "lists:1: empty value for name", 0 },
	{ "list@example.org name=\"\"\n", 0, "lists:1: empty value for name",
	    0 },
	{ "list@example.org name=\"a\tb\"\n", 0,
	    "lists:1: control character in name", 0 },
	{ "list@example.org name=\"a\x7f\"\n", 0,
	    "lists:1: control character in name", 0 },
	/* quoting */
	{ "list@example.org name=\"open\n", 0,
	    "lists:1: unterminated quoted value for name", 0 },
	{ "list@example.org name=\"open\\\"\n", 0,
	    "lists:1: unterminated quoted value for name", 0 },
	{ "list@example.org name=\"open\\", 0,
	    "lists:1: unterminated quoted value for name", 0 },
	{ "list@example.org name=\"a\\n\"\n", 0,
	    "lists:1: bad escape \"\\n\" in quoted value for name", 0 },
	{ "list@example.org name=\"x\"y\n", 0,
	    "lists:1: unexpected character after quoted value for name", 0 },
	{ "list@example.org name=x\"y\"\n", 0,
	    "lists:1: unexpected '\"' in value for name", 0 },
	/* control characters outside quotes */
	{ "list@example.org\x01\n", 0,
	    "lists:1: control character 0x01 outside quotes", 0 },
	{ "a@example.org\rname=x\n", 0,
	    "lists:1: control character 0x0d outside quotes", 0 },
	{ "a@example.org\n\x1b[31m@example.net\n", 0,
	    "lists:2: control character 0x1b outside quotes", 0 },
	{ "a@example.org name=x\0y\n", 23,
	    "lists:1: control character 0x00 outside quotes", 0 },
	/* duplicate addresses, reported at the later line */
	{ "a@example.org\nb@example.org\nA@Example.ORG\n", 0,
	    "lists:3: duplicate address \"a@example.org\" (first on line 1)",
	    0 },
	{ "@example.org\n@EXAMPLE.org\n", 0,
	    "lists:2: duplicate address \"@example.org\" (first on line 1)",
	    0 },
	{ "b@x.org\na@x.org\nb@x.org\na@x.org\n", 0,
	    "lists:3: duplicate address \"b@x.org\" (first on line 1)", 0 },
	{ "a@x.org\na@x.org\nb@x.org foo=1\n", 0,
	    "lists:2: duplicate address \"a@x.org\" (first on line 1)", 0 },
	{ "a@x.org\nb@x.org foo=1\na@x.org\n", 0,
	    "lists:2: unknown key \"foo\" " KNOWN, 0 },
};

static int
parse_row(const char *text, size_t len, const char *want, size_t n,
    char *err, size_t errsz)
{
	struct lm_listtab *t = NULL;
	int r, ok;

	r = lm_listtab_parse(text, len, "lists", &t, err, errsz);
	if (want == NULL)
		ok = r == 0 && t != NULL && t->n == n;
	else
		ok = r == -1 && t == NULL && strcmp(err, want) == 0;
	lm_listtab_free(t);
	return ok;
}

static void
test_errors(void)
{
	char err[512];
	size_t i, len;

	for (i = 0; i < sizeof err_rows / sizeof err_rows[0]; i++) {
		const struct err_row *t = &err_rows[i];

		len = t->len != 0 ? t->len : strlen(t->text);
		err[0] = '\0';
		CHECK(parse_row(t->text, len, t->err, t->n, err, sizeof err),
		    "row %zu: got \"%s\", want \"%s\"", i, err,
		    t->err != NULL ? t->err : "(ok)");
	}
}

/* "aaa...@" (local bytes) then labels of 'd' making a domain of dlen. */
static void
long_addr(lm_buf *b, size_t local, size_t dlen)
{
	size_t i;

	lm_buf_reset(b);
	for (i = 0; i < local; i++)
		(void)lm_buf_addc(b, 'a');
	(void)lm_buf_addc(b, '@');
	for (i = 0; i < dlen; i++)
		(void)lm_buf_addc(b, i % 60 == 59 ? '.' : 'd');
}

/* Tables built at run time: lengths at the limits. */
static void
test_limits(void)
{
	char err[512], want[512];
	lm_buf b;

	lm_buf_init(&b, 1 << 20);
	long_addr(&b, 64, 11);
	CHECK(parse_row(b.s, b.len, NULL, 1, err, sizeof err),
	    "64-byte local part refused: %s", err);
	long_addr(&b, 65, 11);
	snprintf(want, sizeof want, "lists:1: invalid address \"%.64s...\"",
	    b.s);
	CHECK(parse_row(b.s, b.len, want, 0, err, sizeof err),
	    "65-byte local part: %s", err);
	long_addr(&b, 64, 189);			/* 254 bytes */
	CHECK(parse_row(b.s, b.len, NULL, 1, err, sizeof err),
	    "254-byte address refused: %s", err);
	long_addr(&b, 64, 190);			/* 255 bytes */
	snprintf(want, sizeof want, "lists:1: invalid address \"%.64s...\"",
	    b.s);
	CHECK(parse_row(b.s, b.len, want, 0, err, sizeof err),
	    "255-byte address: %s", err);

	lm_buf_reset(&b);
	(void)lm_buf_printf(&b, "l@example.org name=\"%0200d\"", 0);
	CHECK(parse_row(b.s, b.len, NULL, 1, err, sizeof err),
	    "200-byte name refused: %s", err);
	lm_buf_reset(&b);
	(void)lm_buf_printf(&b, "l@example.org name=%0201d", 0);
	CHECK(parse_row(b.s, b.len, "lists:1: name longer than 200 bytes", 0,
	    err, sizeof err), "201-byte name: %s", err);

	lm_buf_reset(&b);
	(void)lm_buf_printf(&b, "l@example.org %*s\r\n", 4096 - 14, "#");
	CHECK(parse_row(b.s, b.len, NULL, 1, err, sizeof err),
	    "4096-byte line refused: %s", err);
	lm_buf_reset(&b);
	(void)lm_buf_printf(&b, "a@b.org\nl@example.org %*s\n", 4097 - 14,
	    "#");
	CHECK(parse_row(b.s, b.len, "lists:2: line too long (more than 4096 "
	    "bytes)", 0, err, sizeof err), "4097-byte line: %s", err);
	lm_buf_free(&b);
}

static void
test_errbuf(void)
{
	struct lm_listtab *t = (struct lm_listtab *)&t;
	char err[12];

	CHECK(lm_listtab_parse("x\n", 2, "lists", &t, err, sizeof err) == -1 &&
	    t == NULL && strcmp(err, "lists:1: in") == 0,
	    "short error buffer: \"%s\"", err);
	CHECK(lm_listtab_parse("x\n", 2, "lists", &t, NULL, 0) == -1 &&
	    t == NULL, "NULL error buffer");
	CHECK(lm_listtab_parse(NULL, 0, "lists", &t, err, sizeof err) == 0 &&
	    t != NULL && t->n == 0, "NULL empty text");
	lm_listtab_free(t);
}

/* ---------------------------------------------------------------- */

struct val_row {
	const char	*text;
	const char	*name;		/* NULL: default */
	const char	*bounce;	/* NULL: default */
	int		 bounce_none;
	enum lm_action	 action;
	enum lm_mitigate mitigate;
	enum lm_reply	 reply;
};

static const struct val_row val_rows[] = {
	{ "l@example.org", NULL, NULL, 0, LM_ACT_MUNGE, LM_MIT_POLICY,
	    LM_REPLY_AUTHOR },
	{ "l@example.org name=List", "List", NULL, 0, LM_ACT_MUNGE,
	    LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org name=\"My List\"", "My List", NULL, 0, LM_ACT_MUNGE,
	    LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org name=\"Say \\\"hi\\\" \\\\o/\"", "Say \"hi\" \\o/",
	    NULL, 0, LM_ACT_MUNGE, LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org name=\"a=b; c#d\"", "a=b; c#d", NULL, 0,
	    LM_ACT_MUNGE, LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org name=Caf\xc3\xa9", "Caf\xc3\xa9", NULL, 0,
	    LM_ACT_MUNGE, LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org name=a=b", "a=b", NULL, 0, LM_ACT_MUNGE,
	    LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org action=wrap", NULL, NULL, 0, LM_ACT_WRAP,
	    LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org action=reject", NULL, NULL, 0, LM_ACT_REJECT,
	    LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org action=\"none\"", NULL, NULL, 0, LM_ACT_NONE,
	    LM_MIT_POLICY, LM_REPLY_AUTHOR },
	{ "l@example.org mitigate=always reply=list", NULL, NULL, 0,
	    LM_ACT_MUNGE, LM_MIT_ALWAYS, LM_REPLY_LIST },
	{ "l@example.org bounce=List-Bounces@Example.ORG",
	    NULL, "list-bounces@example.org", 0, LM_ACT_MUNGE, LM_MIT_POLICY,
	    LM_REPLY_AUTHOR },
	{ "l@example.org bounce=NONE", NULL, NULL, 1, LM_ACT_MUNGE,
	    LM_MIT_POLICY, LM_REPLY_AUTHOR },
};

static int
streq0(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static int
val_ok(const struct val_row *v)
{
	struct lm_listtab *t;
	const struct lm_list *e;
	char err[256];
	int ok;

	if (lm_listtab_parse(v->text, strlen(v->text), "lists", &t, err,
	    sizeof err) != 0)
		return 0;
	e = &t->v[0];
	ok = t->n == 1 && streq0(e->name, v->name) &&
	    streq0(e->bounce, v->bounce) && e->bounce_none == v->bounce_none &&
	    e->action == v->action && e->mitigate == v->mitigate &&
	    e->reply == v->reply && e->line == 1;
	lm_listtab_free(t);
	return ok;
}

static void
test_values(void)
{
	size_t i;

	for (i = 0; i < sizeof val_rows / sizeof val_rows[0]; i++)
		CHECK(val_ok(&val_rows[i]), "values of \"%s\"",
		    val_rows[i].text);
}

/* ---------------------------------------------------------------- */

static const char match_table[] =
    "# list table for the match tests\n"
    "list@lists.example.org name=\"The List\" action=wrap reply=list\n"
    "@lists.example.org mitigate=always\n"
    "owner-x@lists.example.org\n"
    "quiet@lists.example.org bounce=none\n"
    "Sales@Example.COM bounce=Sales-Owner@Example.COM "
    "name=\"Sales \\\"Team\\\"\"\n"
    "@other.example bounce=bounces@other.example name=Other\n";

struct match_row {
	const char	*local, *domain;
	int		 line;		/* of the entry; 0: no match */
	const char	*addr, *name, *bounce;
};

static const struct match_row match_rows[] = {
	/* exact */
	{ "list", "lists.example.org", 2, "list@lists.example.org",
	    "The List", "owner-list@lists.example.org" },
	{ "LIST", "Lists.Example.ORG", 2, "list@lists.example.org",
	    "The List", "owner-list@lists.example.org" },
	{ "quiet", "lists.example.org", 5, "quiet@lists.example.org",
	    "quiet", "" },
	{ "sales", "example.com", 6, "sales@example.com", "Sales \"Team\"",
	    "sales-owner@example.com" },
	{ "SALES", "EXAMPLE.com", 6, "sales@example.com", "Sales \"Team\"",
	    "sales-owner@example.com" },
	/* exact beats the domain form and its exclusions */
	{ "owner-x", "lists.example.org", 4, "owner-x@lists.example.org",
	    "owner-x", "owner-owner-x@lists.example.org" },
	/* domain form, defaults per matched address */
	{ "foo", "lists.example.org", 3, "foo@lists.example.org", "foo",
	    "owner-foo@lists.example.org" },
	{ "Foo.Bar", "LISTS.example.org", 3, "foo.bar@lists.example.org",
	    "foo.bar", "owner-foo.bar@lists.example.org" },
	{ "owner", "lists.example.org", 3, "owner@lists.example.org",
	    "owner", "owner-owner@lists.example.org" },
	{ "request", "lists.example.org", 3, "request@lists.example.org",
	    "request", "owner-request@lists.example.org" },
	{ "foo+tag", "lists.example.org", 3, "foo+tag@lists.example.org",
	    "foo+tag", "owner-foo+tag@lists.example.org" },
	{ "x", "other.example", 7, "x@other.example", "Other",
	    "bounces@other.example" },
	/* domain-form exclusions */
	{ "owner-foo", "lists.example.org", 0, NULL, NULL, NULL },
	{ "OWNER-foo", "lists.example.org", 0, NULL, NULL, NULL },
	{ "foo-owner", "lists.example.org", 0, NULL, NULL, NULL },
	{ "foo-request", "lists.example.org", 0, NULL, NULL, NULL },
	{ "Foo-Request", "lists.example.org", 0, NULL, NULL, NULL },
	{ "foo-bounces", "lists.example.org", 0, NULL, NULL, NULL },
	{ "FOO-BOUNCES", "lists.example.org", 0, NULL, NULL, NULL },
	{ "owner-", "lists.example.org", 0, NULL, NULL, NULL },
	/* VERP-style extensions of excluded addresses stay excluded */
	{ "foo-bounces+a=b.example", "lists.example.org", 0, NULL, NULL, NULL },
	{ "owner-foo+x", "lists.example.org", 0, NULL, NULL, NULL },
	/* not lists */
	{ "other", "example.com", 0, NULL, NULL, NULL },
	{ "x", "sub.lists.example.org", 0, NULL, NULL, NULL },
	{ "x", "example.org", 0, NULL, NULL, NULL },
	{ "list", "lists.example.org.", 0, NULL, NULL, NULL },
	{ "", "lists.example.org", 0, NULL, NULL, NULL },
	{ "a b", "lists.example.org", 0, NULL, NULL, NULL },
	{ "a\r\nBcc: x", "lists.example.org", 0, NULL, NULL, NULL },
	{ "\"q\"", "lists.example.org", 0, NULL, NULL, NULL },
	{ "a..b", "lists.example.org", 0, NULL, NULL, NULL },
	{ "x", "", 0, NULL, NULL, NULL },
};

static int
match_ok(const struct lm_listtab *t, const struct match_row *m)
{
	struct lm_listref ref;
	int r;

	r = lm_listtab_match(t, m->local, m->domain, &ref);
	if (m->line == 0)
		return r == 0 && ref.cfg == NULL;
	return r == 1 && ref.cfg != NULL && ref.cfg->line == m->line &&
	    strcmp(ref.addr, m->addr) == 0 && strcmp(ref.name, m->name) == 0 &&
	    strcmp(ref.bounce, m->bounce) == 0;
}

static void
test_match(void)
{
	struct lm_listtab *t;
	struct lm_listref ref;
	char err[256];
	size_t i;

	if (lm_listtab_parse(match_table, strlen(match_table), "lists", &t,
	    err, sizeof err) != 0) {
		CHECK(0, "match table: %s", err);
		return;
	}
	for (i = 0; i < sizeof match_rows / sizeof match_rows[0]; i++) {
		const struct match_row *m = &match_rows[i];

		CHECK(match_ok(t, m), "match(\"%s\", \"%s\") != line %d",
		    m->local, m->domain, m->line);
	}
	CHECK(lm_listtab_match(t, "list", "lists.example.org", &ref) == 1 &&
	    ref.cfg->action == LM_ACT_WRAP && ref.cfg->reply == LM_REPLY_LIST &&
	    ref.cfg->mitigate == LM_MIT_POLICY, "exact entry options");
	CHECK(lm_listtab_match(t, "foo", "lists.example.org", &ref) == 1 &&
	    ref.cfg->local == NULL && ref.cfg->mitigate == LM_MIT_ALWAYS &&
	    ref.cfg->action == LM_ACT_MUNGE, "domain entry options");
	CHECK(lm_listtab_match(t, NULL, "lists.example.org", &ref) == 0,
	    "NULL local part");
	CHECK(lm_listtab_match(NULL, "list", "lists.example.org", &ref) == 0,
	    "NULL table");
	lm_listtab_free(t);
}

/* Envelope addresses that do not fit the lm_listref buffers. */
static void
test_match_sizes(void)
{
	struct lm_listtab *t;
	struct lm_listref ref;
	char local[200], domain[300], err[256];
	const char *text = "@x.example\nl@x.example\n";

	if (lm_listtab_parse(text, strlen(text), "lists", &t, err,
	    sizeof err) != 0) {
		CHECK(0, "size table: %s", err);
		return;
	}
	memset(local, 'a', 64);
	local[64] = '\0';
	CHECK(lm_listtab_match(t, local, "x.example", &ref) == 1 &&
	    strlen(ref.name) == 64, "64-byte local part refused");
	memset(local, 'a', 65);
	local[65] = '\0';
	CHECK(lm_listtab_match(t, local, "x.example", &ref) == 0,
	    "65-byte local part matched the domain form");
	memset(local, 'a', 150);
	local[150] = '\0';
	CHECK(lm_listtab_match(t, local, "x.example", &ref) == 0,
	    "150-byte local part matched");
	memset(domain, 'd', 260);
	domain[260] = '\0';
	CHECK(lm_listtab_match(t, "l", domain, &ref) == 0,
	    "260-byte domain matched");
	lm_listtab_free(t);
}

/* ---------------------------------------------------------------- */

#define BIG	10000
#define PROBES	200000

static struct lm_listtab *
big_table(void)
{
	struct lm_listtab *t = NULL;
	char err[256];
	lm_buf b;
	int i;

	lm_buf_init(&b, 1 << 22);
	for (i = BIG - 1; i >= 0; i--)
		if (lm_buf_printf(&b, "list%d@d%d.example.org name=\"L %d\"\n",
		    i, i % 97, i) != 0)
			break;
	if (lm_listtab_parse(b.s, b.len, "big", &t, err, sizeof err) != 0)
		fprintf(stderr, "big table: %s\n", err);
	lm_buf_free(&b);
	return t;
}

/* Every entry found by its address, under its own name. */
static int
big_all(const struct lm_listtab *t)
{
	struct lm_listref ref;
	char local[32], domain[32], name[32];
	int i;

	for (i = 0; i < BIG; i++) {
		snprintf(local, sizeof local, "LIST%d", i);
		snprintf(domain, sizeof domain, "D%d.example.org", i % 97);
		snprintf(name, sizeof name, "L %d", i);
		if (lm_listtab_match(t, local, domain, &ref) != 1 ||
		    strcmp(ref.name, name) != 0 || ref.cfg->line != BIG - i)
			return 0;
	}
	return 1;
}

static void
test_big(void)
{
	struct lm_listtab *t;
	struct lm_listref ref;
	int i, hits = 0;

	if ((t = big_table()) == NULL) {
		CHECK(0, "10,000-entry table did not parse");
		return;
	}
	CHECK(t->n == BIG && big_all(t), "10,000-entry table lookups");
	for (i = 0; i < PROBES; i++)
		hits += lm_listtab_match(t, i % 2 ? "list5000" : "nolist",
		    "d53.example.org", &ref);
	CHECK(hits == PROBES / 2, "%d lookups: %d hits", PROBES, hits);
	lm_listtab_free(t);
}

/* ---------------------------------------------------------------- */

static int
key_ok(const struct lm_listkey *k, const char *name)
{
	return k->name != NULL && strcmp(k->name, name) == 0 &&
	    k->values != NULL && *k->values != '\0' &&
	    k->def != NULL && *k->def != '\0' &&
	    k->doc != NULL && strlen(k->doc) > 20;
}

static void
test_keys(void)
{
	static const char *const want[] = {
		"name", "action", "mitigate", "reply", "bounce", "enforce",
		"quarantine", "temperror", "sign"
	};
	const struct lm_listkey *k = lm_listtab_keys();
	size_t i;

	for (i = 0; i < 9; i++)
		CHECK(key_ok(&k[i], want[i]), "option %zu is not %s", i,
		    want[i]);
	CHECK(k[9].name == NULL, "option table not terminated after 9");
	CHECK(strcmp(k[1].values, "munge|wrap|reject|none") == 0 &&
	    strcmp(k[1].def, "munge") == 0, "action values and default");
	CHECK(strcmp(lm_action_name(LM_ACT_MUNGE), "munge") == 0 &&
	    strcmp(lm_action_name(LM_ACT_WRAP), "wrap") == 0 &&
	    strcmp(lm_action_name(LM_ACT_REJECT), "reject") == 0 &&
	    strcmp(lm_action_name(LM_ACT_NONE), "none") == 0 &&
	    strcmp(lm_action_name((enum lm_action)9), "?") == 0,
	    "lm_action_name");
}

static void
test_auth_options(void)
{
	const char *t = "a@x.org mitigate=needed enforce=no quarantine=mark "
	    "temperror=accept\nb@x.org\n";
	struct lm_listtab *tab = NULL;
	struct lm_listref ref;
	char err[256];

	CHECK(lm_listtab_parse(t, strlen(t), "lists", &tab, err, sizeof err)
	    == 0, "auth options parse: %s", err);
	if (tab == NULL)
		return;
	CHECK(lm_listtab_match(tab, "a", "x.org", &ref) &&
	    ref.cfg->mitigate == LM_MIT_NEEDED && ref.cfg->no_enforce &&
	    ref.cfg->quarantine_mark && ref.cfg->temperror_accept,
	    "auth options set");
	CHECK(lm_listtab_match(tab, "b", "x.org", &ref) &&
	    ref.cfg->mitigate == LM_MIT_POLICY && !ref.cfg->no_enforce &&
	    !ref.cfg->quarantine_mark && !ref.cfg->temperror_accept,
	    "auth option defaults");
	lm_listtab_free(tab);
	t = "s@x.org sign=lm2026:/etc/listmilter/keys/x.pem\nn@x.org sign=none\n";
	CHECK(lm_listtab_parse(t, strlen(t), "lists", &tab, err, sizeof err)
	    == 0 && lm_listtab_match(tab, "s", "x.org", &ref) &&
	    strcmp(ref.cfg->sign_selector, "lm2026") == 0 &&
	    strcmp(ref.cfg->sign_key, "/etc/listmilter/keys/x.pem") == 0 &&
	    lm_listtab_match(tab, "n", "x.org", &ref) &&
	    strcmp(ref.cfg->sign_selector, "") == 0 && ref.cfg->sign_key == NULL,
	    "sign= parsed: %s", err);
	lm_listtab_free(tab);
	t = "s@x.org sign=lm2026:relative.pem\n";
	CHECK(lm_listtab_parse(t, strlen(t), "lists", &tab, err, sizeof err)
	    != 0 && strstr(err, "for sign (expected SELECTOR:PATH|none)") !=
	    NULL, "sign= needs an absolute path: %s", err);
	t = "a@x.org enforce=maybe\n";
	CHECK(lm_listtab_parse(t, strlen(t), "lists", &tab, err, sizeof err)
	    != 0 && strcmp(err, "lists:1: bad value \"maybe\" for enforce "
	    "(expected yes|no)") == 0, "enforce value: %s", err);
}

static void
test_bounce(void)
{
	const char *t = "dev@lists.x.org\ncustom@lists.x.org bounce=Bnc@x.org\n"
	    "quiet@lists.x.org bounce=none\n@dom.x.org\n";
	struct lm_listtab *tab = NULL;
	struct lm_listref ref;
	char err[256];

	CHECK(lm_listtab_parse(t, strlen(t), "lists", &tab, err, sizeof err)
	    == 0, "bounce table: %s", err);
	if (tab == NULL)
		return;
	CHECK(lm_listtab_bounce(tab, "owner-dev", "lists.x.org", &ref) &&
	    strcmp(ref.addr, "dev@lists.x.org") == 0, "default owner- form");
	CHECK(lm_listtab_bounce(tab, "OWNER-Dev", "Lists.X.org", &ref),
	    "case-insensitive");
	CHECK(lm_listtab_bounce(tab, "bnc", "x.org", &ref) &&
	    strcmp(ref.addr, "custom@lists.x.org") == 0, "explicit bounce=");
	CHECK(!lm_listtab_bounce(tab, "owner-custom", "lists.x.org", &ref),
	    "owner- of a list with its own bounce= is not its bounce address");
	CHECK(!lm_listtab_bounce(tab, "owner-quiet", "lists.x.org", &ref),
	    "bounce=none has no bounce address");
	CHECK(lm_listtab_bounce(tab, "owner-any", "dom.x.org", &ref) &&
	    strcmp(ref.addr, "any@dom.x.org") == 0, "domain form");
	CHECK(!lm_listtab_bounce(tab, "dev", "lists.x.org", &ref) &&
	    !lm_listtab_bounce(tab, "owner-nolist", "lists.x.org", &ref),
	    "not bounce addresses");
	lm_listtab_free(tab);
}

int
main(void)
{
	test_bounce();
	test_auth_options();
	test_errors();
	test_limits();
	test_errbuf();
	test_values();
	test_match();
	test_match_sizes();
	test_big();
	test_keys();
	return LMT_DONE();
}
