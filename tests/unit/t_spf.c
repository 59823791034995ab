/*
 * t_spf - table tests for lm_spf without DNS: the CVE-2023-42118 macro
 * guard and the SPF record charset (lm_spf_txt_check, libraries.md 8.4,
 * RFC 7208 4.6.1), the identity rules decided before any lookup (RFC
 * 7208 2.4 null sender -> HELO, 4.3 malformed or single-label domain ->
 * none, envelope brackets stripped) and lm_spf_name().  The resolver
 * forwards to a closed port and is never asked.  One CHECK per table
 * row; prints "N passed, M failed".
 */
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_conf.h"
#include "lm_dns.h"
#include "lm_log.h"
#include "lm_spf.h"
#include "lmtest.h"

struct guard_row {
	const char	*txt;
	int		 want;		/* 0 accepted, -1 refused */
};

static const struct guard_row guard_rows[] = {
	{ "v=spf1 -all", 0 },
	{ "v=spf1 exists:%{i}._spf.%{d} -all", 0 },
	{ "v=spf1 exists:%{l1r+-}.%{d2}.x -all", 0 },
	{ "v=spf1 exists:%{d128}.x -all", 0 },	/* 3 digits: libspf2's */
	{ "v=spf1 exists:%{d1234}.x -all", -1 },
	{ "v=spf1 exists:%{d4294967297}.x -all", -1 },
	{ "v=spf1 exists:%{ir12345.}.x -all", -1 },
	{ "v=spf1 a:%{1234}", -1 },		/* digits right after { */
	{ "v=spf1 a:%{d12r3456}", -1 },			/* a later run */
	{ "v=spf1 a:%{d12r345}", 0 },		/* runs of 2 and 3 */
	{ "v=spf1 a:%%{d12345}", 0 },		/* %% then "{d...}" */
	{ "v=spf1 a:%-%_%%1234", 0 },		/* escapes, no macro */
	{ "%{i} is not allowed, see http://%{d}/why", 0 },  /* exp= */
	{ "see %{d99999}", -1 },
	{ "v=spf1 a:%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}.x -all", 0 },  /* 8 */
	{ "v=spf1 a:%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}.x -all", -1 },
	{ "V=SPF1 a:%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}.x", -1 },
	{ "v=spf1 %{d}1234", 0 },			/* digits outside {} */
	{ "v=spf1 a:%{d1234", -1 },			/* unterminated */
	{ "v=spf10 a:%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}", -1 },
	{ "v=spf1 a:ctrl.example\rptr -all", -1 },	/* RFC 7208 4.6.1 */
	{ "v=spf1 a:x.example\t-all", -1 },
	{ "v=spf1 a:\xc3\xaf" "garbage.example -all", -1 },
	{ "v=spf1 \x80" "a:example.net -all", -1 },
	{ "v=spf1 a:x.example -all\x7f", -1 },
	{ "see\thttp://%{d}/why\r\n", 0 },	/* not a record: no charset */
	{ "\x96", 0 },
	{ "google-site-verification=1234567", 0 },
	{ "", 0 },
};

static void
test_guard(void)
{
	char why[200];
	size_t i;

	for (i = 0; i < sizeof guard_rows / sizeof guard_rows[0]; i++) {
		const struct guard_row *t = &guard_rows[i];
		int got;

		why[0] = '\0';
		got = lm_spf_txt_check(t->txt, strlen(t->txt), why, sizeof why);
		CHECK(got == t->want, "guard(\"%s\") = %d, want %d (%s)",
		    t->txt, got, t->want, why);
		CHECK(got == 0 || why[0] != '\0', "no reason for \"%s\"",
		    t->txt);
	}
}

/* A long term: the length rule, around the limit. */
static void
test_guard_length(void)
{
	char rec[600], why[200];
	size_t n;

	n = (size_t)snprintf(rec, sizeof rec, "v=spf1 exists:%%{i}.");
	memset(rec + n, 'x', 200 - (n - 7));	/* the term: 200 octets */
	rec[7 + 200] = '\0';
	CHECK(lm_spf_txt_check(rec, strlen(rec), why, sizeof why) == 0,
	    "200-octet term refused: %s", why);
	memcpy(rec + 7 + 200, "x -all", 7);
	CHECK(lm_spf_txt_check(rec, strlen(rec), why, sizeof why) == -1,
	    "201-octet term with a macro accepted");
	memcpy(rec + 7, "exists:xxxx", 11);	/* no macro: libspf2's */
	CHECK(lm_spf_txt_check(rec, strlen(rec), why, sizeof why) == 0,
	    "201-octet term without a macro refused: %s", why);
	CHECK(lm_spf_txt_check("v=spf1 a:%{d1234}", 12, why, sizeof why) == 0,
	    "looked past len");
	CHECK(lm_spf_txt_check("v=spf1 a:x.example\0 -all", 24, why,
	    sizeof why) == -1, "NUL in an SPF record accepted");
	CHECK(lm_spf_txt_check("v=spf1\0 -all", 11, why, sizeof why) == -1,
	    "NUL right after v=spf1 accepted");
	CHECK(lm_spf_txt_check("other\0text", 10, why, sizeof why) == 0,
	    "NUL in another TXT refused: %s", why);
}

struct id_row {
	const char	*helo, *mailfrom;
	const char	*domain;
	int		 helo_used;
	enum lm_spf_res	 res;
};

static const struct id_row id_rows[] = {
	{ "", "", "", 1, LM_SPF_NONE },
	{ "", "<>", "", 1, LM_SPF_NONE },
	{ "A2345678", "<>", "A2345678", 1, LM_SPF_NONE },
	{ "[192.0.2.1]", "", "[192.0.2.1]", 1, LM_SPF_NONE },
	{ "h.example", "<a@single>", "single", 0, LM_SPF_NONE },
	{ "h.example", "a@[192.0.2.1]", "[192.0.2.1]", 0, LM_SPF_NONE },
	{ "h.example", " <a@x..example> ", "x..example", 0, LM_SPF_NONE },
	{ "h.example", "a@.example", ".example", 0, LM_SPF_NONE },
	{ "h.example", "a@A123456789012345678901234567890123456789012345678901"
	    "234567890123.example", "A1234567890123456789012345678901234567"
	    "89012345678901234567890123.example", 0, LM_SPF_NONE },
};

static void
test_identity(struct lm_spf *spf)
{
	struct lm_spf_result r;
	struct timespec dl;
	size_t i;

	for (i = 0; i < sizeof id_rows / sizeof id_rows[0]; i++) {
		const struct id_row *t = &id_rows[i];

		lm_deadline(&dl, 1);
		lm_spf_check(spf, "192.0.2.1", t->helo, t->mailfrom, &dl, &r);
		CHECK(r.res == t->res && r.helo == t->helo_used &&
		    strcmp(r.domain, t->domain) == 0,
		    "(%s, %s): %s %s helo=%d, want %s %s helo=%d", t->helo,
		    t->mailfrom, lm_spf_name(r.res), r.domain, r.helo,
		    lm_spf_name(t->res), t->domain, t->helo_used);
		CHECK(r.reason[0] != '\0', "(%s, %s): no reason", t->helo,
		    t->mailfrom);
	}
}

static void
test_names(void)
{
	static const char *want[] = { "none", "neutral", "pass", "fail",
	    "softfail", "temperror", "permerror" };
	int i;

	for (i = LM_SPF_NONE; i <= LM_SPF_PERMERROR; i++)
		CHECK(strcmp(lm_spf_name((enum lm_spf_res)i), want[i]) == 0,
		    "lm_spf_name(%d)", i);
	CHECK(strcmp(lm_spf_name((enum lm_spf_res)42), "?") == 0, "range");
}

int
main(void)
{
	static const char conf[] = "Nameservers 127.0.0.1@9\n";
	struct lm_config c;
	struct lm_dns *dns;
	struct lm_spf *spf;
	char err[256];
	int rc;

	lm_log_init("t_spf", 0, LOG_MAIL);
	test_guard();
	test_guard_length();
	test_names();
	if (lm_conf_defaults(&c, "/etc", "/run") != 0 ||
	    lm_conf_parse(&c, conf, sizeof conf - 1, "t_spf", err,
	    sizeof err) != 0 ||
	    (dns = lm_dns_new(&c, err, sizeof err)) == NULL ||
	    (spf = lm_spf_new(dns, err, sizeof err)) == NULL) {
		CHECK(0, "set-up: %s", err);
		return LMT_DONE();
	}
	test_identity(spf);
	lm_spf_free(spf);
	lm_dns_unref(dns);
	lm_conf_free(&c);
	rc = LMT_DONE();
	return rc;
}
