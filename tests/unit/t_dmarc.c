/*
 * t_dmarc - table tests for lm_dmarc: record candidates and parsing
 * (RFC 9989 4.7), the DNS tree walk and the p/sp/np choice (4.10).
 * One CHECK per table row; prints "N passed, M failed".
 */
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_dmarc.h"
#include "lmtest.h"

#define U	LM_POL_UNSET
#define N	LM_POL_NONE
#define Q	LM_POL_QUARANTINE
#define R	LM_POL_REJECT

/* ---------------------------------------------------------------- */

struct is_row {
	const char	*txt;
	int		 want;
};

static const struct is_row is_rows[] = {
	{ "v=DMARC1", 1 },
	{ "v=DMARC1;", 1 },
	{ "v=DMARC1; p=reject", 1 },
	{ "v=DMARC1 ;", 1 },
	{ "v=DMARC1\tp=none", 1 },
	{ "v=DMARC10; p=reject", 0 },
	{ "v=dmarc1; p=reject", 0 },
	{ "V=DMARC1; p=reject", 0 },
	{ "v=DMARC", 0 },
	{ "", 0 },
	{ " v=DMARC1", 0 },
	{ "google-site-verification=abc", 0 },
	{ "v=spf1 -all", 0 },
};

static void
test_is_record(void)
{
	size_t i;

	for (i = 0; i < sizeof is_rows / sizeof is_rows[0]; i++) {
		const struct is_row *t = &is_rows[i];

		CHECK(lm_dmarc_is_record(t->txt, strlen(t->txt)) == t->want,
		    "is_record(\"%s\") != %d", t->txt, t->want);
	}
}

/* ---------------------------------------------------------------- */

struct parse_row {
	const char	*txt;
	size_t		 len;		/* 0: strlen(txt) */
	int		 ret;
	enum lm_pol	 p, sp, np;
	char		 adkim, aspf, psd;
	int		 t;
};

/* Expected fields of a valid record with only the policies given. */
#define OK(txt, p, sp, np)	{ txt, 0, 0, p, sp, np, 'r', 'r', 'u', 0 }
#define BAD(txt)		{ txt, 0, -1, U, U, U, 0, 0, 0, 0 }

static const struct parse_row parse_rows[] = {
	/* basic and whitespace variants */
	OK("v=DMARC1; p=reject", R, U, U),
	OK("v=DMARC1;p=reject", R, U, U),
	OK("v=DMARC1;p=reject;", R, U, U),
	OK("v=DMARC1 ; p=reject ;", R, U, U),
	OK("v = DMARC1; p = quarantine", Q, U, U),
	OK("v=\tDMARC1\t;\tp=none\t", N, U, U),
	OK("v=DMARC1; p=reject;   ", R, U, U),
	OK("v=DMARC1 ;", U, U, U),
	OK("v=DMARC1;", U, U, U),
	OK("v=DMARC1", U, U, U),
	/* case: tag names and policy words are case-insensitive */
	OK("v=DMARC1; p=REJECT", R, U, U),
	OK("v=DMARC1; P=Quarantine; SP=None", Q, N, U),
	/* no prefixes or junk in values: counts as absent */
	OK("v=DMARC1; p=rej", U, U, U),
	OK("v=DMARC1; p=r", U, U, U),
	OK("v=DMARC1; p=rejectx", U, U, U),
	OK("v=DMARC1; p=", U, U, U),
	OK("v=DMARC1; p=re ject", U, U, U),
	OK("v=DMARC1; p=reject; sp=bogus; np=q", R, U, U),
	/* missing p */
	OK("v=DMARC1; rua=mailto:d@example.com", U, U, U),
	OK("v=DMARC1; sp=reject", U, R, U),
	/* sp, np */
	OK("v=DMARC1; p=reject; sp=none; np=quarantine", R, N, Q),
	OK("v=DMARC1; np=reject; p=none", N, U, R),
	/* unknown and obsolete tags are ignored */
	OK("v=DMARC1; p=reject; foo=bar; x_1=2", R, U, U),
	OK("v=DMARC1; p=reject; pct=0; rf=afrf; ri=86400", R, U, U),
	OK("v=DMARC1; p=reject; rua=mailto:a@b.example, mailto:c@d.example",
	    R, U, U),
	OK("v=DMARC1; p=reject; fo=0:1:d:s; ruf=mailto:f@x.example!10m",
	    R, U, U),
	/* adkim, aspf, psd, t */
	{ "v=DMARC1; p=none; adkim=s; aspf=S", 0, 0, N, U, U,
	    's', 's', 'u', 0 },
	{ "v=DMARC1; p=none; adkim=x; aspf=strict", 0, 0, N, U, U,
	    'r', 'r', 'u', 0 },
	{ "v=DMARC1; psd=y", 0, 0, U, U, U, 'r', 'r', 'y', 0 },
	{ "v=DMARC1; psd=N", 0, 0, U, U, U, 'r', 'r', 'n', 0 },
	{ "v=DMARC1; psd=yes", 0, 0, U, U, U, 'r', 'r', 'u', 0 },
	{ "v=DMARC1; p=reject; t=y", 0, 0, R, U, U, 'r', 'r', 'u', 1 },
	{ "v=DMARC1; p=reject; t=n", 0, 0, R, U, U, 'r', 'r', 'u', 0 },
	{ "v=DMARC1; p=reject; t=yes", 0, 0, R, U, U, 'r', 'r', 'u', 0 },
	/* not DMARC1 records */
	BAD("v=dmarc1; p=reject"),
	BAD("v=DMARC2; p=reject"),
	BAD("v=DMARC10; p=reject"),
	BAD("v=DMARC1x; p=reject"),
	BAD("p=reject; v=DMARC1"),
	BAD("p=reject"),
	BAD(" v=DMARC1; p=reject"),
	BAD("google-site-verification=abc"),
	BAD("v=spf1 -all"),
	BAD(""),
	BAD("v"),
	BAD("v="),
	/* tag-list syntax errors */
	BAD("v=DMARC1 p=reject"),
	BAD("v=DMARC1; p"),
	BAD("v=DMARC1; p reject"),
	BAD("v=DMARC1; p=reject; sp"),
	BAD("v=DMARC1;; p=reject"),
	BAD("v=DMARC1; p=reject; ;"),
	BAD("v=DMARC1; =reject"),
	BAD("v=DMARC1; 1p=reject"),
	BAD("v=DMARC1; p-x=reject"),
	BAD("v=DMARC1; p=reject\x01"),
	BAD("v=DMARC1; p=reject\r\n"),
	BAD("v=DMARC1; p=r\xc3\xa9ject"),
	{ "v=DMARC1; p=reject\0", 19, -1, U, U, U, 0, 0, 0, 0 },
	/* duplicate tags, known or not */
	BAD("v=DMARC1; p=reject; p=none"),
	BAD("v=DMARC1; p=reject; P=reject"),
	BAD("v=DMARC1; foo=1; FOO=2"),
	BAD("v=DMARC1; v=DMARC1; p=reject"),
	BAD("v=DMARC1; p=reject; sp=none; sp=none"),
	BAD("v=DMARC1; p=rej; p=reject"),
};

static int
rec_eq(const struct lm_dmarc_rec *r, const struct parse_row *t)
{
	return r->p == t->p && r->sp == t->sp && r->np == t->np &&
	    r->adkim == t->adkim && r->aspf == t->aspf && r->psd == t->psd &&
	    r->testing == t->t;
}

static void
test_parse(void)
{
	struct lm_dmarc_rec r;
	size_t i, len;
	int ret;

	for (i = 0; i < sizeof parse_rows / sizeof parse_rows[0]; i++) {
		const struct parse_row *t = &parse_rows[i];

		len = t->len != 0 ? t->len : strlen(t->txt);
		memset(&r, 0x55, sizeof r);
		ret = lm_dmarc_parse(t->txt, len, &r);
		CHECK(ret == t->ret && rec_eq(&r, t),
		    "parse(\"%s\") = %d p=%d sp=%d np=%d adkim=%c aspf=%c "
		    "psd=%c t=%d", t->txt, ret, r.p, r.sp, r.np,
		    r.adkim ? r.adkim : '0', r.aspf ? r.aspf : '0',
		    r.psd ? r.psd : '0', r.testing);
	}
}

/* A record of exactly `len` bytes: "v=DMARC1; p=reject; x=aaaa...". */
static int
parse_len(size_t len)
{
	struct lm_dmarc_rec r;
	const char *head = "v=DMARC1; p=reject; x=";
	char *s;
	int ret;

	if ((s = malloc(len + 1)) == NULL)
		return -2;
	memset(s, 'a', len);
	memcpy(s, head, strlen(head));
	s[len] = '\0';
	ret = lm_dmarc_parse(s, len, &r);
	free(s);
	return ret == 0 && r.p != LM_POL_REJECT ? -3 : ret;
}

static void
test_bounds(void)
{
	struct lm_dmarc_rec r;

	CHECK(parse_len(4096) == 0, "4096-byte record refused");
	CHECK(parse_len(4097) == -1, "4097-byte record accepted");
	CHECK(lm_dmarc_parse(NULL, 0, &r) == -1, "NULL record accepted");
}

/* ---------------------------------------------------------------- */

struct walk_row {
	const char	*domain;
	int		 max;
	const char	*want;	/* names separated by ' ', NULL: -1 */
};

static const struct walk_row walk_rows[] = {
	{ "com", 8, "com" },
	{ "example.com", 8, "example.com com" },
	{ "mail.example.com", 8, "mail.example.com example.com com" },
	{ "a.b.c.d", 8, "a.b.c.d b.c.d c.d d" },
	{ "a.b.c.d.e", 8, "a.b.c.d.e b.c.d.e c.d.e d.e e" },
	{ "a.b.c.d.e.f", 8, "a.b.c.d.e.f b.c.d.e.f c.d.e.f d.e.f e.f f" },
	{ "a.b.c.d.e.f.g", 8, "a.b.c.d.e.f.g b.c.d.e.f.g c.d.e.f.g "
	    "d.e.f.g e.f.g f.g g" },
	{ "a.b.c.d.e.f.g.h", 8, "a.b.c.d.e.f.g.h b.c.d.e.f.g.h "
	    "c.d.e.f.g.h d.e.f.g.h e.f.g.h f.g.h g.h h" },
	{ "a.b.c.d.e.f.g.h.i", 8, "a.b.c.d.e.f.g.h.i c.d.e.f.g.h.i "
	    "d.e.f.g.h.i e.f.g.h.i f.g.h.i g.h.i h.i i" },
	{ "a.b.c.d.e.f.g.h.i.j", 8, "a.b.c.d.e.f.g.h.i.j d.e.f.g.h.i.j "
	    "e.f.g.h.i.j f.g.h.i.j g.h.i.j h.i.j i.j j" },
	{ "a.b.c.d.e.f.g.h.i.example.com", 8,
	    "a.b.c.d.e.f.g.h.i.example.com e.f.g.h.i.example.com "
	    "f.g.h.i.example.com g.h.i.example.com h.i.example.com "
	    "i.example.com example.com com" },
	{ "a.b.c.d.e.f.g.h.i.j.k.l", 8, "a.b.c.d.e.f.g.h.i.j.k.l "
	    "f.g.h.i.j.k.l g.h.i.j.k.l h.i.j.k.l i.j.k.l j.k.l k.l l" },
	/* normalisation */
	{ "Mail.Example.COM.", 8, "mail.example.com example.com com" },
	{ "example.com.", 8, "example.com com" },
	{ "_dmarc-x.Ex-ample.com", 8,
	    "_dmarc-x.ex-ample.com ex-ample.com com" },
	{ "123.example.com", 8, "123.example.com example.com com" },
	/* max */
	{ "a.b.c", 2, "a.b.c b.c" },
	{ "a.b.c", 1, "a.b.c" },
	{ "a.b.c", 0, NULL },
	/* invalid names */
	{ "", 8, NULL },
	{ ".", 8, NULL },
	{ "..", 8, NULL },
	{ "a..b", 8, NULL },
	{ ".example.com", 8, NULL },
	{ "example.com..", 8, NULL },
	{ "exa mple.com", 8, NULL },
	{ "user@example.com", 8, NULL },
	{ "ex*ample.com", 8, NULL },
	{ "\xe4\xbe\x8b\xe3\x81\x88.jp", 8, NULL },
	{ "example.com\n", 8, NULL },
};

static void
join_names(char names[][256], int n, lm_buf *b)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)lm_buf_addc(b, ' ');
		(void)lm_buf_adds(b, names[i]);
	}
}

static int
walk_ok(const char *domain, int max, const char *want, lm_buf *got)
{
	char names[LM_DMARC_WALK_MAX][256];
	int n;

	lm_buf_reset(got);
	n = lm_dmarc_walk(domain, names, max);
	if (n < 0)
		return want == NULL;
	join_names(names, n, got);
	return want != NULL && strcmp(lm_buf_cstr(got), want) == 0;
}

/* A name of `len` bytes made of labels of `lab` bytes. */
static void
long_name(char *s, size_t len, size_t lab)
{
	size_t i;

	for (i = 0; i < len; i++)
		s[i] = (i + 1) % (lab + 1) == 0 ? '.' : 'a';
	s[len] = '\0';
}

static void
test_walk(void)
{
	char s[300], want[400], names[1][256];
	lm_buf got;
	size_t i;

	lm_buf_init(&got, 4096);
	for (i = 0; i < sizeof walk_rows / sizeof walk_rows[0]; i++) {
		const struct walk_row *t = &walk_rows[i];

		CHECK(walk_ok(t->domain, t->max, t->want, &got),
		    "walk(\"%s\", %d) = \"%s\", want \"%s\"", t->domain,
		    t->max, lm_buf_cstr(&got), t->want ? t->want : "(-1)");
	}
	memset(s, 'a', 63);
	memcpy(s + 63, ".com", 5);
	snprintf(want, sizeof want, "%s com", s);
	CHECK(walk_ok(s, 8, want, &got), "63-byte label refused");
	memset(s, 'a', 64);
	memcpy(s + 64, ".com", 5);
	CHECK(walk_ok(s, 8, NULL, &got), "64-byte label accepted");
	long_name(s, 253, 9);		/* 10-byte labels, 253 bytes */
	CHECK(lm_dmarc_walk(s, names, 1) == 1 && strcmp(names[0], s) == 0,
	    "253-byte name refused");
	s[253] = '.';
	s[254] = '\0';
	CHECK(lm_dmarc_walk(s, names, 1) == 1 && strlen(names[0]) == 253,
	    "253-byte name with trailing dot refused");
	long_name(s, 254, 9);
	CHECK(lm_dmarc_walk(s, names, 1) == -1, "254-byte name accepted");
	CHECK(lm_dmarc_walk(NULL, names, 1) == -1, "NULL name accepted");
	lm_buf_free(&got);
}

/* ---------------------------------------------------------------- */

struct pol_row {
	const char	*rec;
	int		 at_author, nonexistent;
	enum lm_pol	 want;
	const char	*tag;
};

static const struct pol_row pol_rows[] = {
	{ "v=DMARC1; p=reject; sp=quarantine; np=none", 1, 0, R, "p" },
	{ "v=DMARC1; p=reject; sp=quarantine; np=none", 1, 1, R, "p" },
	{ "v=DMARC1; p=reject; sp=quarantine; np=none", 0, 0, Q, "sp" },
	{ "v=DMARC1; p=reject; sp=quarantine; np=none", 0, 1, N, "np" },
	{ "v=DMARC1; p=reject; sp=none", 0, 1, N, "sp" },
	{ "v=DMARC1; p=reject; sp=none", 0, 0, N, "sp" },
	{ "v=DMARC1; p=reject", 0, 0, R, "p" },
	{ "v=DMARC1; p=reject", 0, 1, R, "p" },
	{ "v=DMARC1; p=quarantine; np=reject", 0, 0, Q, "p" },
	{ "v=DMARC1; p=quarantine; np=reject", 0, 1, R, "np" },
	{ "v=DMARC1; p=quarantine; np=reject", 1, 1, Q, "p" },
	{ "v=DMARC1; p=none; np=reject; sp=quarantine", 0, 1, R, "np" },
	{ "v=DMARC1; sp=reject", 1, 0, N, "p" },
	{ "v=DMARC1; sp=reject", 0, 0, R, "sp" },
	{ "v=DMARC1; p=rej; sp=reject", 1, 0, N, "p" },
	{ "v=DMARC1", 1, 0, N, "p" },
	{ "v=DMARC1", 0, 1, N, "p" },
	{ "v=DMARC1; p=none; sp=bogus", 0, 0, N, "p" },
	{ "v=DMARC1; p=reject; np=bogus", 0, 1, R, "p" },
	{ "v=DMARC1; p=reject; sp=quarantine; t=y", 0, 0, Q, "sp" },
};

static void
test_policy(void)
{
	struct lm_dmarc_rec r;
	const char *tag;
	enum lm_pol pol;
	size_t i;

	for (i = 0; i < sizeof pol_rows / sizeof pol_rows[0]; i++) {
		const struct pol_row *t = &pol_rows[i];

		tag = "?";
		pol = LM_POL_UNSET;
		if (lm_dmarc_parse(t->rec, strlen(t->rec), &r) == 0)
			pol = lm_dmarc_policy(&r, t->at_author,
			    t->nonexistent, &tag);
		CHECK(pol == t->want && strcmp(tag, t->tag) == 0,
		    "policy(\"%s\", author=%d, nx=%d) = %s/%s, want %s/%s",
		    t->rec, t->at_author, t->nonexistent, lm_pol_name(pol),
		    tag, lm_pol_name(t->want), t->tag);
	}
	tag = "x";
	CHECK(lm_dmarc_policy(NULL, 1, 0, &tag) == LM_POL_UNSET &&
	    tag == NULL, "policy(NULL) is not unset");
	CHECK(lm_dmarc_policy(&r, 0, 1, NULL) == Q, "tag_used NULL");
}

static void
test_names(void)
{
	CHECK(strcmp(lm_pol_name(LM_POL_NONE), "none") == 0, "none");
	CHECK(strcmp(lm_pol_name(LM_POL_QUARANTINE), "quarantine") == 0,
	    "quarantine");
	CHECK(strcmp(lm_pol_name(LM_POL_REJECT), "reject") == 0, "reject");
	CHECK(strcmp(lm_pol_name(LM_POL_UNSET), "unset") == 0, "unset");
	CHECK(strcmp(lm_pol_name((enum lm_pol)42), "?") == 0, "out of range");
}

int
main(void)
{
	test_is_record();
	test_parse();
	test_bounds();
	test_walk();
	test_policy();
	test_names();
	return LMT_DONE();
}
