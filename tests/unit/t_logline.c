/*
 * t_logline - table tests for lm_logline (the syslog prefixes of RFC
 * 3164, rsyslog's file format, journalctl's short formats, RFC 5424 on
 * the wire and the daemon's stderr; lines of other programs; every
 * line kind of listmilter(8) LOGGING; quoted values with spaces and
 * quotes; truncated, garbage, overlong lines; duplicate keys; NUL bytes;
 * the field cap) and for lm_report over a small corpus (the counts, the
 * "other" buckets at the limits, case folding of names, chunked input,
 * the text and JSON renderings).
 * One CHECK per table row or per assertion; prints "N passed, M failed".
 */
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_logline.h"
#include "lm_report.h"
#include "lmtest.h"

#define MSG	"4Xk2c1Pq: list=dev@lists.example.org " \
		"author_domain=example.com policy=reject " \
		"policy_domain=example.com spf=pass dkim=pass:example.com " \
		"dmarc=pass action=munge reason=policy " \
		"envfrom=owner-dev@lists.example.org result=accept"
#define RFC3164	"Dec  4 05:10:01 mx listmilter[1234]: "
#define ISO	"2026-12-04T05:10:01.123456+00:00 mx listmilter[1234]: "
#define BNC	"5Ab3Qz: bounce list=dev@lists.example.org " \
		"to=owner-dev@lists.example.org rcpt=bob@gmail.example " \
		"action=failed status=5.7.26 " \
		"remote=gmail-smtp-in.l.google.example "

enum lm_ll_kind;

struct row {
	const char	*name;
	const char	*line;
	enum lm_ll_kind	 kind;
	const char	*qid;		/* NULL: not checked, "": absent */
	const char	*ts, *host, *sev;	/* same */
	const char	*kv[6];		/* "key=value", or "!key": absent */
	const char	*note;		/* NULL: not checked */
	unsigned long	 more;
};

#define K(...)	{ __VA_ARGS__ }
#define MSGKV	K("list=dev@lists.example.org", "action=munge", \
		    "result=accept", "policy=reject", "dkim=pass:example.com")

static const struct row rows[] = {
	/* ---- prefixes ---- */
	{ "rfc3164", RFC3164 MSG, LM_LL_MESSAGE, "4Xk2c1Pq",
	  "Dec  4 05:10:01", "mx", "", MSGKV, NULL, 0 },
	{ "rsyslog file format", ISO MSG, LM_LL_MESSAGE, "4Xk2c1Pq",
	  "2026-12-04T05:10:01.123456+00:00", "mx", "", MSGKV, NULL, 0 },
	{ "journalctl short", "Dec 04 05:10:01 mx listmilter[1234]: " MSG,
	  LM_LL_MESSAGE, "4Xk2c1Pq", "Dec 04 05:10:01", "mx", NULL, MSGKV,
	  NULL, 0 },
	{ "journalctl short-iso", "2026-12-04T05:10:01+0000 mx "
	  "listmilter[1234]: " MSG, LM_LL_MESSAGE, "4Xk2c1Pq",
	  "2026-12-04T05:10:01+0000", "mx", NULL, MSGKV, NULL, 0 },
	{ "journalctl short-full", "Thu 2026-12-04 05:10:01 UTC mx "
	  "listmilter[1234]: " MSG, LM_LL_MESSAGE, "4Xk2c1Pq",
	  "Thu 2026-12-04 05:10:01 UTC", "mx", NULL, MSGKV, NULL, 0 },
	{ "journalctl short-monotonic", "[  12345.678901] mx listmilter[9]: "
	  MSG, LM_LL_MESSAGE, "4Xk2c1Pq", "[  12345.678901]", "mx", NULL,
	  MSGKV, NULL, 0 },
	{ "journalctl short-unix", "1796360401.123456 mx listmilter[9]: " MSG,
	  LM_LL_MESSAGE, "4Xk2c1Pq", "1796360401.123456", "mx", NULL, MSGKV,
	  NULL, 0 },
	{ "stderr (Syslog no)", "listmilter[1234]: info: " MSG, LM_LL_MESSAGE,
	  "4Xk2c1Pq", "", "", "info", MSGKV, NULL, 0 },
	{ "stderr error severity", "listmilter[77]: error: NOQUEUE: list=- "
	  "error=\"end of message before headers\" result=tempfail",
	  LM_LL_ERROR, "NOQUEUE", "", "", "error", K("list=-",
	  "error=end of message before headers", "result=tempfail"), NULL,
	  0 },
	{ "PRI before rfc3164", "<22>" RFC3164 MSG, LM_LL_MESSAGE, "4Xk2c1Pq",
	  "Dec  4 05:10:01", "mx", NULL, MSGKV, NULL, 0 },
	{ "tag without pid", "Dec  4 05:10:01 mx listmilter: " MSG,
	  LM_LL_MESSAGE, "4Xk2c1Pq", "Dec  4 05:10:01", "mx", NULL, MSGKV,
	  NULL, 0 },
	{ "rfc5424", "<22>1 2026-12-04T05:10:01.123Z mx.example.org "
	  "listmilter 1234 - - " MSG, LM_LL_MESSAGE, "4Xk2c1Pq",
	  "2026-12-04T05:10:01.123Z", "mx.example.org", NULL, MSGKV, NULL, 0 },
	{ "rfc5424 structured data and BOM", "<22>1 2026-12-04T05:10:01Z mx "
	  "listmilter - ID47 [exampleSDID@32473 iut=\"3\" x=\"a\\]b\"]"
	  "[meta a=\"]\"] \xef\xbb\xbf" MSG, LM_LL_MESSAGE, "4Xk2c1Pq",
	  "2026-12-04T05:10:01Z", "mx", NULL, MSGKV, NULL, 0 },
	{ "rfc5424 nil timestamp", "<22>1 - - listmilter - - - " MSG,
	  LM_LL_MESSAGE, "4Xk2c1Pq", "", "", NULL, MSGKV, NULL, 0 },
	{ "LF and CR LF", RFC3164 MSG "\r\n", LM_LL_MESSAGE, "4Xk2c1Pq", NULL,
	  NULL, NULL, MSGKV, NULL, 0 },
	{ "tabs between fields", RFC3164 "Q1: list=a@b\taction=wrap\t\t"
	  "result=accept", LM_LL_MESSAGE, "Q1", NULL, NULL, NULL,
	  K("list=a@b", "action=wrap", "result=accept"), NULL, 0 },

	/* ---- other programs ---- */
	{ "postfix quoting us", "Dec  4 05:10:01 mx postfix/smtpd[99]: "
	  "listmilter[1]: " MSG, LM_LL_FOREIGN, "", "", "", "", K(NULL), NULL,
	  0 },
	{ "listmilter-doctor", "Dec  4 05:10:01 mx listmilter-doctor[5]: " MSG,
	  LM_LL_FOREIGN, "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "kernel tag first", "Dec  4 05:10:01 mx kernel: listmilter: " MSG,
	  LM_LL_FOREIGN, "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "case matters", "Dec  4 05:10:01 mx Listmilter[5]: " MSG,
	  LM_LL_FOREIGN, "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "rfc5424 other app", "<22>1 2026-12-04T05:10:01Z mx postfix 12 - - "
	  MSG, LM_LL_FOREIGN, "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "mark", "Dec  4 05:10:01 mx -- MARK --", LM_LL_FOREIGN, "", NULL,
	  NULL, NULL, K(NULL), NULL, 0 },
	{ "empty", "", LM_LL_FOREIGN, "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "garbage", "\x01\xff%%%[]:::", LM_LL_FOREIGN, "", NULL, NULL, NULL,
	  K(NULL), NULL, 0 },
	{ "tag too late", "a b c d e f g listmilter[1]: " MSG, LM_LL_FOREIGN,
	  "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "bad pid", "Dec  4 05:10:01 mx listmilter[12x]: " MSG, LM_LL_FOREIGN,
	  "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "empty name", "Dec  4 05:10:01 mx [12]: " MSG, LM_LL_FOREIGN, "",
	  NULL, NULL, NULL, K(NULL), NULL, 0 },

	/* ---- the kinds of listmilter(8) LOGGING ---- */
	{ "detail with spaces", RFC3164 "Q2: list=dev@l.example "
	  "author_domain=x.example policy=tempfail policy_domain=- spf=pass "
	  "dkim=none dmarc=temperror action=munge reason=dns-tempfail "
	  "envfrom=owner-dev@l.example result=accept detail=\"_dmarc.x.example"
	  " TXT: timeout\"", LM_LL_MESSAGE, "Q2", NULL, NULL, NULL,
	  K("detail=_dmarc.x.example TXT: timeout", "policy=tempfail",
	  "reason=dns-tempfail", "result=accept"), NULL, 0 },
	{ "trusted dmarc", RFC3164 "Q3: list=dev@l.example author_domain=a.b "
	  "policy=reject policy_domain=a.b spf=fail dkim=none "
	  "dmarc=pass(trusted:border.example.net) action=munge reason=policy "
	  "envfrom=owner-dev@l.example result=accept", LM_LL_MESSAGE, "Q3",
	  NULL, NULL, NULL, K("dmarc=pass(trusted:border.example.net)"), NULL,
	  0 },
	{ "forged refused", RFC3164 "Q4: list=dev@l.example "
	  "author_domain=example.com policy=reject policy_domain=example.com "
	  "spf=fail dkim=none dmarc=fail action=reject reason=dmarc-fail "
	  "envfrom=unchanged result=reject_550", LM_LL_MESSAGE, "Q4", NULL,
	  NULL, NULL, K("action=reject", "reason=dmarc-fail",
	  "result=reject_550", "envfrom=unchanged"), NULL, 0 },
	{ "tempfail", RFC3164 "Q5: list=dev@l.example author_domain=a.b "
	  "policy=reject policy_domain=a.b spf=temperror dkim=none "
	  "dmarc=temperror action=tempfail reason=dmarc-temperror "
	  "envfrom=unchanged result=tempfail_451", LM_LL_MESSAGE, "Q5", NULL,
	  NULL, NULL, K("result=tempfail_451"), NULL, 0 },
	{ "local submission, not evaluated", RFC3164 "Q6: list=dev@l.example "
	  "author_domain=- policy=- policy_domain=- spf=- dkim=- dmarc=- "
	  "action=reject reason=no-from envfrom=unchanged result=reject_550",
	  LM_LL_MESSAGE, "Q6", NULL, NULL, NULL, K("author_domain=-",
	  "dkim=-"), NULL, 0 },
	{ "error line", RFC3164 "Q7: list=dev@l.example error=\"out of memory "
	  "collecting headers\" result=tempfail", LM_LL_ERROR, "Q7", NULL,
	  NULL, NULL, K("error=out of memory collecting headers",
	  "result=tempfail", "!action"), NULL, 0 },
	{ "error line accepted", RFC3164 "Q8: list=dev@l.example "
	  "error=\"smfi_chgfrom failed\" result=accept", LM_LL_ERROR, "Q8",
	  NULL, NULL, NULL, K("result=accept"), NULL, 0 },
	{ "error text with a quote", RFC3164 "Q9: list=dev@l.example "
	  "error=\"key \"k1\" unusable\" result=tempfail", LM_LL_ERROR, "Q9",
	  NULL, NULL, NULL, K("error=key \"k1\" unusable"), NULL, 0 },
	{ "bounce", RFC3164 BNC "diag=\"550-5.7.26 Unauthenticated email\"",
	  LM_LL_BOUNCE, "5Ab3Qz", NULL, NULL, NULL,
	  K("list=dev@lists.example.org", "rcpt=bob@gmail.example",
	  "action=failed", "status=5.7.26",
	  "diag=550-5.7.26 Unauthenticated email"), NULL, 0 },
	{ "bounce diag with quotes", RFC3164 BNC "diag=\"550 \"quoted\" text"
	  " \"\"", LM_LL_BOUNCE, NULL, NULL, NULL, NULL,
	  K("diag=550 \"quoted\" text \""), NULL, 0 },
	{ "bounce diag imitating fields", RFC3164 BNC "diag=\"a\" status=9.9.9 "
	  "action=delayed b\"", LM_LL_BOUNCE, NULL, NULL, NULL, NULL,
	  K("status=5.7.26", "action=failed", "diag=a"), "b\"", 0 },
	{ "bounce empty diag, no status", RFC3164 "Q10: bounce list=d@l.example"
	  " to=o@l.example rcpt=- action=- status=- remote=- diag=\"\"",
	  LM_LL_BOUNCE, NULL, NULL, NULL, NULL, K("action=-", "status=-",
	  "diag="), NULL, 0 },
	{ "bounce diag cut by syslog", RFC3164 BNC "diag=\"550-5.7.26 Unauth",
	  LM_LL_BOUNCE, NULL, NULL, NULL, NULL, K("diag=550-5.7.26 Unauth"),
	  NULL, 0 },
	{ "bounce not a DSN", RFC3164 "Q11: bounce list=dev@l.example "
	  "to=owner-dev@l.example not a delivery status notification",
	  LM_LL_BOUNCE_NOTE, "Q11", NULL, NULL, NULL, K("to=owner-dev@l.example",
	  "!action"), "not a delivery status notification", 0 },
	{ "bounce too large", RFC3164 "Q12: bounce list=dev@l.example "
	  "to=owner-dev@l.example too large to read", LM_LL_BOUNCE_NOTE, NULL,
	  NULL, NULL, NULL, K(NULL), "too large to read", 0 },
	{ "bounce more", RFC3164 "Q13: bounce list=dev@l.example 12 more "
	  "recipients not logged", LM_LL_BOUNCE_NOTE, NULL, NULL, NULL, NULL,
	  K(NULL), "12 more recipients not logged", 12 },
	{ "bounce out of memory", "listmilter[3]: warning: Q14: bounce "
	  "list=dev@l.example not read: out of memory", LM_LL_BOUNCE_NOTE,
	  "Q14", "", "", "warning", K(NULL), "not read: out of memory", 0 },
	{ "not list mail", RFC3164 "Q15: not list mail, accepted unchanged",
	  LM_LL_NONLIST, "Q15", NULL, NULL, NULL, K(NULL), NULL, 0 },

	/* ---- other lines of the daemon ---- */
	{ "starting", RFC3164 "listmilter 0.1 starting: socket=unix:/run/x "
	  "lists=3", LM_LL_OTHER, "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "reloaded", RFC3164 "reloaded /etc/listmilter.conf (generation 2, "
	  "3 lists)", LM_LL_OTHER, "", NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "libspf2", RFC3164 "libspf2: something odd", LM_LL_OTHER, NULL,
	  NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "stopped", "listmilter[3]: info: listmilter stopped", LM_LL_OTHER,
	  "", "", "", "info", K(NULL), NULL, 0 },
	{ "empty message", RFC3164, LM_LL_OTHER, "", NULL, NULL, NULL, K(NULL),
	  NULL, 0 },
	{ "queue id too long", RFC3164 "Q12345678901234567890123456789012345678"
	  "90123456789012345678901234567: list=a@b action=munge result=accept",
	  LM_LL_OTHER, "", NULL, NULL, NULL, K(NULL), NULL, 0 },

	/* ---- unparsed ---- */
	{ "cut after a field", RFC3164 "Q16: list=dev@l.example "
	  "author_domain=exa", LM_LL_UNPARSED, "Q16", NULL, NULL, NULL,
	  K(NULL), NULL, 0 },
	{ "cut result", RFC3164 "Q17: list=dev@l.example action=munge "
	  "result=acc", LM_LL_UNPARSED, NULL, NULL, NULL, NULL, K(NULL), NULL,
	  0 },
	{ "bad result code", RFC3164 "Q17: list=dev@l.example action=munge "
	  "result=reject_55x", LM_LL_UNPARSED, NULL, NULL, NULL, NULL, K(NULL),
	  NULL, 0 },
	{ "unknown action", RFC3164 "Q18: list=dev@l.example action=explode "
	  "result=accept", LM_LL_UNPARSED, NULL, NULL, NULL, NULL, K(NULL),
	  NULL, 0 },
	{ "empty list", RFC3164 "Q19: list= action=munge result=accept",
	  LM_LL_UNPARSED, NULL, NULL, NULL, NULL, K(NULL), NULL, 0 },
	{ "error without result", RFC3164 "Q20: list=a@b error=\"x\" "
	  "result=maybe", LM_LL_UNPARSED, NULL, NULL, NULL, NULL, K(NULL),
	  NULL, 0 },
	{ "bounce without status", RFC3164 "Q21: bounce list=a@b to=c@b "
	  "rcpt=d@e action=failed", LM_LL_UNPARSED, NULL, NULL, NULL, NULL,
	  K(NULL), NULL, 0 },
	{ "bounce bad status", RFC3164 "Q21: bounce list=a@b to=c@b "
	  "rcpt=d@e action=failed status=3.1.1", LM_LL_UNPARSED, NULL, NULL,
	  NULL, NULL, K(NULL), NULL, 0 },
	{ "bounce status too many digits", RFC3164 "Q21: bounce list=a@b "
	  "action=failed status=5.1234.1", LM_LL_UNPARSED, NULL, NULL, NULL,
	  NULL, K(NULL), NULL, 0 },
	{ "bounce unknown action", RFC3164 "Q22: bounce list=a@b to=c@b "
	  "rcpt=d@e action=exploded status=5.1.1", LM_LL_UNPARSED, NULL, NULL,
	  NULL, NULL, K(NULL), NULL, 0 },
	{ "bounce without list", RFC3164 "Q23: bounce to=c@b action=failed "
	  "status=5.1.1", LM_LL_UNPARSED, NULL, NULL, NULL, NULL, K(NULL),
	  NULL, 0 },
	{ "bounce bare", RFC3164 "Q24: bounce list=a@b", LM_LL_UNPARSED, NULL,
	  NULL, NULL, NULL, K(NULL), NULL, 0 },

	/* ---- quoting, duplicates ---- */
	{ "unterminated detail", RFC3164 "Q25: list=a@b action=pass "
	  "result=accept detail=\"_dmarc.x TXT: temp", LM_LL_MESSAGE, NULL,
	  NULL, NULL, NULL, K("detail=_dmarc.x TXT: temp"), NULL, 0 },
	{ "duplicate keys: first wins", RFC3164 "Q26: list=a@b action=munge "
	  "action=reject result=accept result=reject_550 list=z@z",
	  LM_LL_MESSAGE, NULL, NULL, NULL, NULL, K("list=a@b", "action=munge",
	  "result=accept"), NULL, 0 },
	{ "quote closed before trailing blanks", RFC3164 "Q27: list=a@b "
	  "action=pass result=accept detail=\"x y\"   ", LM_LL_MESSAGE, NULL,
	  NULL, NULL, NULL, K("detail=x y"), NULL, 0 },
	{ "quote inside an unquoted value", RFC3164 "Q28: list=a\"b "
	  "action=pass result=accept", LM_LL_MESSAGE, NULL, NULL, NULL, NULL,
	  K("list=a\"b"), NULL, 0 },
};

static int
expect_str(struct lm_ll_str got, const char *want)
{
	if (want == NULL)
		return 1;
	if (want[0] == '\0')
		return got.p == NULL || got.n == 0;
	return lm_ll_eq(got, want);
}

static int
expect_kv(const struct lm_logline *ll, const char *kv)
{
	char key[64];
	const char *eq = strchr(kv, '=');
	struct lm_ll_str v;

	if (kv[0] == '!')
		return !lm_logline_get(ll, kv + 1, &v);
	if (eq == NULL || (size_t)(eq - kv) >= sizeof key)
		return 0;
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	return lm_logline_get(ll, key, &v) && lm_ll_eq(v, eq + 1);
}

static void
run_row(const struct row *r)
{
	struct lm_logline ll;
	const char *bad = NULL;
	size_t i;

	lm_logline_parse(r->line, strlen(r->line), "listmilter", &ll);
	if (ll.kind != r->kind)
		bad = lm_ll_kind_name(ll.kind);
	else if (!expect_str(ll.qid, r->qid))
		bad = "qid";
	else if (!expect_str(ll.ts, r->ts))
		bad = "ts";
	else if (!expect_str(ll.host, r->host))
		bad = "host";
	else if (!expect_str(ll.sev, r->sev))
		bad = "severity";
	else if (!expect_str(ll.note, r->note))
		bad = "note";
	else if (ll.more != r->more)
		bad = "more";
	for (i = 0; bad == NULL && i < 6 && r->kv[i] != NULL; i++)
		if (!expect_kv(&ll, r->kv[i]))
			bad = r->kv[i];
	CHECK(bad == NULL, "%s: %s (why %s)", r->name, bad, ll.why ? ll.why :
	    "-");
}

/* Lines longer than LM_LL_MAXLINE, a NUL byte, the field cap. */
static void
test_bounds(void)
{
	struct lm_logline ll;
	lm_buf b;
	int i;

	lm_buf_init(&b, 1 << 20);
	(void)lm_buf_adds(&b, RFC3164 "Q1: list=a@b action=pass result=accept "
	    "detail=\"");
	while (b.len <= LM_LL_MAXLINE)
		(void)lm_buf_addc(&b, 'x');
	(void)lm_buf_addc(&b, '"');
	lm_logline_parse(b.s, b.len, "listmilter", &ll);
	CHECK(ll.kind == LM_LL_UNPARSED && ll.too_long, "long line: %s",
	    lm_ll_kind_name(ll.kind));
	lm_logline_parse(b.s, LM_LL_MAXLINE, "listmilter", &ll);
	CHECK(ll.kind == LM_LL_MESSAGE && ll.unterminated && !ll.too_long,
	    "line of LM_LL_MAXLINE: %s", lm_ll_kind_name(ll.kind));
	memcpy(b.s + 20, "postfix/smtp[1]:", 16);
	lm_logline_parse(b.s, b.len, "listmilter", &ll);
	CHECK(ll.kind == LM_LL_FOREIGN, "long foreign line: %s",
	    lm_ll_kind_name(ll.kind));

	lm_buf_reset(&b);
	(void)lm_buf_adds(&b, RFC3164 "Q2: list=a");
	(void)lm_buf_add(&b, "\0", 1);
	(void)lm_buf_adds(&b, "b action=munge result=accept");
	lm_logline_parse(b.s, b.len, "listmilter", &ll);
	CHECK(ll.kind == LM_LL_MESSAGE && ll.f[0].val.n == 3,
	    "NUL byte inside a value");

	lm_buf_reset(&b);
	(void)lm_buf_adds(&b, RFC3164 "Q3: list=a@b action=munge "
	    "result=accept");
	for (i = 0; i < 40; i++)
		(void)lm_buf_printf(&b, " k%d=v%d", i, i);
	lm_logline_parse(b.s, b.len, "listmilter", &ll);
	CHECK(ll.kind == LM_LL_MESSAGE && ll.nf == LM_LL_MAXFIELDS &&
	    ll.dropped == 40 + 3 - LM_LL_MAXFIELDS, "field cap: nf %zu "
	    "dropped %zu", ll.nf, ll.dropped);
	lm_logline_parse(NULL, 0, "listmilter", &ll);
	CHECK(ll.kind == LM_LL_FOREIGN, "NULL line");
	lm_buf_free(&b);
}

/* ---------------------------------------------------------------- */
/* the aggregator */

#define L(q, list, dom, pol, act, why, res)				\
	RFC3164 q ": list=" list " author_domain=" dom " policy=" pol	\
	" policy_domain=" dom " spf=pass dkim=none dmarc=pass action="	\
	act " reason=" why " envfrom=owner@x result=" res "\n"

static const char corpus[] =
	"Dec  4 05:09:59 mx postfix/smtpd[5]: connect from a[192.0.2.1]\n"
	RFC3164 "listmilter 0.1 starting: socket=unix:/x lists=3\n"
	L("A1", "dev@l.example", "example.com", "reject", "munge", "policy",
	    "accept")
	L("A2", "dev@l.example", "Example.COM", "reject", "munge", "policy",
	    "accept")
	L("A3", "DEV@l.example", "q.example", "quarantine", "wrap", "policy",
	    "accept")
	L("A4", "dev@l.example", "n.example", "none", "pass", "policy-none",
	    "accept")
	L("A5", "dev@l.example", "q.example", "quarantine", "pass",
	    "dmarc-fail-marked", "accept")
	L("A6", "dev@l.example", "example.com", "reject", "reject",
	    "dmarc-fail", "reject_550")
	L("A7", "ann@l.example", "abs.example", "absent", "pass", "no-policy",
	    "accept")
	L("A8", "ann@l.example", "-", "-", "reject", "no-from", "reject_550")
	L("A9", "ann@l.example", "t.example", "reject", "tempfail",
	    "dmarc-temperror", "tempfail_451")
	RFC3164 "B1: list=ann@l.example error=\"out of memory\" "
	    "result=tempfail\n"
	RFC3164 "B2: list=ann@l.example error=\"smfi_chgfrom failed\" "
	    "result=accept\n"
	RFC3164 "B3: list=- error=\"end of message before headers\" "
	    "result=tempfail\n"
	RFC3164 "C0: bounce list=dev@l.example to=o@l rcpt=g@h "
	    "action=failed status=5.7.26 remote=mx.h diag=\"550 5.7.26 DMARC\"\n"
	RFC3164 "C1: bounce list=dev@l.example to=o@l rcpt=c@d "
	    "action=delayed status=4.4.1 remote=- diag=\"\"\n"
	RFC3164 "C2: bounce list=dev@l.example to=o@l rcpt=e@f "
	    "action=failed status=5.7.26 remote=- diag=\"x\"\n"
	RFC3164 "C3: bounce list=dev@l.example to=o@l not a delivery status "
	    "notification\n"
	RFC3164 "C4: bounce list=dev@l.example 7 more recipients not logged\n"
	RFC3164 "D1: not list mail, accepted unchanged\n"
	RFC3164 "D2: not list mail, accepted unchanged\n"
	RFC3164 "E1: list=dev@l.example author_domain=exa\n"
	"Dec  4 06:00:00 mx listmilter[1234]: listmilter stopped";

static int
count_cb_calls;

static void
count_cb(void *arg, unsigned long lineno, const char *line, size_t len,
    const char *why)
{
	(void)line;
	(void)len;
	(void)why;
	CHECK(arg == &count_cb_calls && lineno == 22, "callback line %lu",
	    lineno);
	count_cb_calls++;
}

static const struct lm_rp_stats *
find_list(const struct lm_report *rp, const char *name)
{
	size_t i;

	for (i = 0; i < rp->nlist; i++)
		if (strcmp(rp->list[i].name, name) == 0)
			return &rp->list[i].st;
	return NULL;
}

static void
check_dev(const struct lm_rp_stats *d)
{
	CHECK(d != NULL && d->messages == 6 && d->munged == 2 &&
	    d->wrapped == 1 && d->passed == 2 && d->marked == 1 &&
	    d->forged == 1 && d->refused == 0 && d->tempfailed == 0,
	    "dev: outcomes");
	CHECK(d != NULL && d->policy[LM_RP_P_REJECT] == 3 &&
	    d->policy[LM_RP_P_QUARANTINE] == 2 && d->policy[LM_RP_P_NONE] == 1,
	    "dev: policies");
	CHECK(d != NULL && d->bounces == 3 && d->b_failed == 2 &&
	    d->b_delayed == 1 && d->b_unread == 1 && d->b_notlogged == 7,
	    "dev: bounces");
	CHECK(d != NULL && d->nstatus == 2 && strcmp(d->status[0].code,
	    "5.7.26") == 0 && d->status[0].n == 2, "dev: status codes");
	CHECK(d != NULL && d->nreason == 1 && strcmp(d->reason[0].name,
	    "dmarc-fail") == 0 && d->reason[0].rejected == 1, "dev: reasons");
}

static void
check_ann(const struct lm_rp_stats *a)
{
	CHECK(a != NULL && a->messages == 5 && a->passed == 1 &&
	    a->refused == 1 && a->tempfailed == 2 && a->errors == 2 &&
	    a->error_accepted == 1 && a->forged == 0, "ann: outcomes");
	CHECK(a != NULL && a->policy[LM_RP_P_ABSENT] == 1 &&
	    a->policy[LM_RP_P_OTHER] == 3 && a->policy[LM_RP_P_REJECT] == 1,
	    "ann: policies");
	CHECK(a != NULL && a->nreason == 3, "ann: reasons no-from, "
	    "dmarc-temperror, error");
}

static void
check_counts(const struct lm_report *rp)
{
	const struct lm_rp_lines *l = &rp->lines;
	size_t i;
	int found = 0;

	CHECK(l->read == 23 && l->foreign == 1 && l->ours == 22 &&
	    l->message == 9 && l->error == 3 && l->bounce == 3 &&
	    l->bounce_note == 2 && l->nonlist == 2 && l->other == 2 &&
	    l->unparsed == 1, "line counts: read %lu ours %lu msg %lu "
	    "other %lu unparsed %lu", l->read, l->ours, l->message, l->other,
	    l->unparsed);
	CHECK(rp->nlist == 2 && !rp->have_other_lists, "two lists");
	check_dev(find_list(rp, "dev@l.example"));
	check_ann(find_list(rp, "ann@l.example"));
	CHECK(rp->total.messages == 11 && rp->nonlist == 2 &&
	    rp->errors_nolist == 1, "totals");
	CHECK(rp->dmarc[LM_RP_D_PASS] == 9, "dmarc pass");
	for (i = 0; i < rp->ndom; i++)
		if (strcmp(rp->dom[i].name, "example.com") == 0)
			found = rp->dom[i].n[LM_RP_P_REJECT] == 3 &&
			    rp->dom[i].forged == 1;
	CHECK(found && rp->ndom == 5, "domains folded: %zu", rp->ndom);
	CHECK(strcmp(rp->first, "Dec  4 05:10:01") == 0 &&
	    strcmp(rp->last, "Dec  4 06:00:00") == 0, "period");
}

static void
check_render(const struct lm_report *rp)
{
	lm_buf t, j;

	lm_buf_init(&t, 1 << 20);
	lm_buf_init(&j, 1 << 20);
	CHECK(lm_report_text(rp, &t) == 0 && lm_report_json(rp, &j) == 0,
	    "render");
	CHECK(strstr(lm_buf_cstr(&t), "dev@l.example    6      2       1"
	    "      2      1       0        0       3") != NULL, "text row:\n%s",
	    lm_buf_cstr(&t));
	CHECK(strstr(lm_buf_cstr(&t), "  refusals   dmarc-fail 1\n") != NULL,
	    "text reasons");
	CHECK(strstr(lm_buf_cstr(&t), "  status     5.7.26 2, 4.4.1 1\n") !=
	    NULL, "text status");
	CHECK(strstr(lm_buf_cstr(&t), "author domains, reject (top 2 of 2)\n"
	    "  example.com") != NULL, "text domains");
	CHECK(strstr(lm_buf_cstr(&t), "not list mail: 2\n") != NULL,
	    "text nonlist");
	CHECK(strstr(lm_buf_cstr(&j), "{\"list\":\"dev@l.example\",\"messages\""
	    ":6,\"munged\":2,\"wrapped\":1,\"passed\":2,\"marked\":1,"
	    "\"forged\":1,") != NULL, "json list:\n%s", lm_buf_cstr(&j));
	CHECK(strstr(lm_buf_cstr(&j), "\"reject\":[{\"domain\":\"example.com\""
	    ",\"messages\":3},{\"domain\":\"t.example\",\"messages\":1}]") !=
	    NULL, "json domains");
	CHECK(strstr(lm_buf_cstr(&j), "\"nonlist\":2,\"errors_nolist\":1") !=
	    NULL, "json nonlist");
	lm_buf_free(&t);
	lm_buf_free(&j);
}

/* The same summary whatever the chunking of the input. */
static void
test_chunks(const struct lm_report *whole)
{
	struct lm_report rp;
	lm_buf a, b;
	size_t i;

	(void)lm_report_init(&rp, "listmilter", 0, 0, 10);
	for (i = 0; i < sizeof corpus - 1; i++)
		lm_report_feed(&rp, corpus + i, 1);
	lm_report_finish(&rp);
	lm_buf_init(&a, 1 << 20);
	lm_buf_init(&b, 1 << 20);
	(void)lm_report_json(whole, &a);
	(void)lm_report_json(&rp, &b);
	CHECK(a.len > 0 && a.len == b.len && memcmp(a.s, b.s, a.len) == 0,
	    "byte-wise feeding");
	lm_buf_free(&a);
	lm_buf_free(&b);
	lm_report_free(&rp);
}

static void
test_corpus(void)
{
	struct lm_report rp;

	CHECK(lm_report_init(&rp, "listmilter", 0, 0, 10) == 0, "init");
	rp.on_unparsed = count_cb;
	rp.arg = &count_cb_calls;
	lm_report_feed(&rp, corpus, sizeof corpus - 1);
	lm_report_finish(&rp);
	CHECK(count_cb_calls == 1, "one unparsed line reported");
	check_counts(&rp);
	check_render(&rp);
	test_chunks(&rp);
	lm_report_free(&rp);
}

/* max_lists 1, max_domains 1: the rest in the other buckets. */
static void
test_limits(void)
{
	struct lm_report rp;
	lm_buf j;
	char line[300];
	int i;

	(void)lm_report_init(&rp, "listmilter", 1, 1, 1);
	for (i = 0; i < 5; i++) {
		snprintf(line, sizeof line, L("Q%d", "l%d@x", "d%d.example",
		    "reject", "munge", "policy", "accept"), i, i, i, i);
		lm_report_line(&rp, line, strlen(line));
	}
	CHECK(rp.nlist == 1 && rp.have_other_lists &&
	    rp.other_lists.messages == 4 && rp.total.messages == 5,
	    "lists beyond the limit");
	CHECK(rp.ndom == 1 && rp.dom_other[LM_RP_P_REJECT] == 4,
	    "domains beyond the limit");
	lm_buf_init(&j, 1 << 20);
	(void)lm_report_json(&rp, &j);
	CHECK(strstr(lm_buf_cstr(&j), "\"other_lists\":{\"list\":null,"
	    "\"messages\":4,") != NULL, "json other_lists");
	lm_buf_reset(&j);
	(void)lm_report_text(&rp, &j);
	CHECK(strstr(lm_buf_cstr(&j), "(other lists)") != NULL, "text other");
	lm_buf_free(&j);
	lm_report_free(&rp);
}

/* Names with control characters and invalid UTF-8 are escaped. */
static void
test_escaping(void)
{
	static const char line[] = RFC3164 "Q1: list=a\x1b[31m\xff\xc3\xa9@x "
	    "author_domain=q\"\\ action=munge result=accept";
	struct lm_report rp;
	lm_buf t, j;

	(void)lm_report_init(&rp, "listmilter", 0, 0, 10);
	lm_report_line(&rp, line, sizeof line - 1);
	lm_buf_init(&t, 1 << 20);
	lm_buf_init(&j, 1 << 20);
	(void)lm_report_text(&rp, &t);
	(void)lm_report_json(&rp, &j);
	CHECK(strstr(lm_buf_cstr(&t), "a?[31m?\xc3\xa9@x") != NULL &&
	    strchr(lm_buf_cstr(&t), 0x1b) == NULL, "text escapes");
	CHECK(strstr(lm_buf_cstr(&j), "\"a\\u001b[31m\\ufffd\xc3\xa9@x\"") !=
	    NULL, "json escapes:\n%s", lm_buf_cstr(&j));
	CHECK(strstr(lm_buf_cstr(&j), "{\"domain\":\"q\\\"\\\\\"") != NULL,
	    "json quote and backslash");
	lm_buf_free(&t);
	lm_buf_free(&j);
	lm_report_free(&rp);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		run_row(&rows[i]);
	test_bounds();
	test_corpus();
	test_limits();
	test_escaping();
	return LMT_DONE();
}
