/*
 * t_decide - the decision table: facts + policy + list config -> plan.
 */
#include <stdio.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_decide.h"
#include "lmtest.h"

struct row {
	const char *what;
	enum lm_action action;
	enum lm_mitigate mitigate;
	int	 bounce_none, null_sender, loop, overflow;
	size_t	 from_fields;
	int	 from_err;	/* LM_ADDR_* */
	size_t	 nmb;
	int	 group;
	enum lm_lookup lookup;
	enum lm_pol policy;
	int	 too_big;
	/* expected */
	enum lm_verdict verdict;
	const char *code;	/* "550 5.6.0" or NULL */
	const char *envfrom;	/* "" keep */
	const char *text;	/* substring of the reply text, or NULL */
};

#define OK	LM_ADDR_OK
#define B	"owner-dev@lists.example.org"

static const struct row rows[] = {
	{ "reject policy, munge", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 1,
	  OK, 1, 0, LM_LK_FOUND, LM_POL_REJECT, 0, LM_V_MUNGE, NULL, B, NULL },
	{ "quarantine policy, munge", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0,
	  1, OK, 1, 0, LM_LK_FOUND, LM_POL_QUARANTINE, 0, LM_V_MUNGE, NULL, B,
	  NULL },
	{ "none policy: pass", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 1, OK,
	  1, 0, LM_LK_FOUND, LM_POL_NONE, 0, LM_V_PASS, NULL, B, NULL },
	{ "no record: pass", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 1, OK,
	  1, 0, LM_LK_NONE, LM_POL_UNSET, 0, LM_V_PASS, NULL, B, NULL },
	{ "dns tempfail: fail-safe munge", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0,
	  0, 0, 1, OK, 1, 0, LM_LK_TEMPFAIL, LM_POL_UNSET, 0, LM_V_MUNGE,
	  NULL, B, NULL },
	{ "unqueryable domain: munge", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0,
	  0, 1, OK, 1, 0, LM_LK_BADDOMAIN, LM_POL_UNSET, 0, LM_V_MUNGE, NULL,
	  B, NULL },
	{ "always: munge with no policy", LM_ACT_MUNGE, LM_MIT_ALWAYS, 0, 0,
	  0, 0, 1, OK, 1, 0, LM_LK_NONE, LM_POL_UNSET, 0, LM_V_MUNGE, NULL, B,
	  NULL },
	{ "wrap on reject", LM_ACT_WRAP, LM_MIT_POLICY, 0, 0, 0, 0, 1, OK, 1,
	  0, LM_LK_FOUND, LM_POL_REJECT, 0, LM_V_WRAP, NULL, B, NULL },
	{ "wrap not needed on none", LM_ACT_WRAP, LM_MIT_POLICY, 0, 0, 0, 0,
	  1, OK, 1, 0, LM_LK_FOUND, LM_POL_NONE, 0, LM_V_PASS, NULL, B, NULL },
	{ "wrap too big", LM_ACT_WRAP, LM_MIT_POLICY, 0, 0, 0, 0, 1, OK, 1, 0,
	  LM_LK_FOUND, LM_POL_REJECT, 1, LM_V_REJECT, "552 5.3.4", "",
	  "too large" },
	{ "action reject names policy", LM_ACT_REJECT, LM_MIT_POLICY, 0, 0,
	  0, 0, 1, OK, 1, 0, LM_LK_FOUND, LM_POL_REJECT, 0, LM_V_REJECT,
	  "550 5.7.1", "", "example.com publishes DMARC policy reject" },
	{ "action reject, quarantine", LM_ACT_REJECT, LM_MIT_POLICY, 0, 0, 0,
	  0, 1, OK, 1, 0, LM_LK_FOUND, LM_POL_QUARANTINE, 0, LM_V_REJECT,
	  "550 5.7.1", "", "policy quarantine" },
	{ "action reject on tempfail", LM_ACT_REJECT, LM_MIT_POLICY, 0, 0, 0,
	  0, 1, OK, 1, 0, LM_LK_TEMPFAIL, LM_POL_UNSET, 0, LM_V_REJECT,
	  "550 5.7.1", "", "unknown" },
	{ "action reject, policy none passes", LM_ACT_REJECT, LM_MIT_POLICY,
	  0, 0, 0, 0, 1, OK, 1, 0, LM_LK_FOUND, LM_POL_NONE, 0, LM_V_PASS,
	  NULL, B, NULL },
	{ "action none", LM_ACT_NONE, LM_MIT_POLICY, 0, 0, 0, 0, 1, OK, 1, 0,
	  LM_LK_FOUND, LM_POL_REJECT, 0, LM_V_PASS, NULL, B, NULL },
	{ "bounce=none keeps sender", LM_ACT_MUNGE, LM_MIT_POLICY, 1, 0, 0, 0,
	  1, OK, 1, 0, LM_LK_FOUND, LM_POL_REJECT, 0, LM_V_MUNGE, NULL, "",
	  NULL },
	{ "null sender kept", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 1, 0, 0, 1, OK,
	  1, 0, LM_LK_FOUND, LM_POL_REJECT, 0, LM_V_MUNGE, NULL, "", NULL },
	{ "loop", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 1, 0, 1, OK, 1, 0,
	  LM_LK_FOUND, LM_POL_REJECT, 0, LM_V_REJECT, "554 5.4.6", "",
	  "dev@lists.example.org" },
	{ "loop wins over bad From", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 1, 0,
	  0, OK, 0, 0, LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT, "554 5.4.6",
	  "", NULL },
	{ "header overflow", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 1, 1, OK,
	  1, 0, LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT, "552 5.3.4", "",
	  NULL },
	{ "no From", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 0, OK, 0, 0,
	  LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT, "550 5.6.0", "",
	  "this message has 0" },
	{ "two From fields", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 2, OK,
	  1, 0, LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT, "550 5.6.0", "",
	  "this message has 2" },
	{ "unparseable From", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 1,
	  LM_ADDR_SYNTAX, 0, 0, LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT,
	  "550 5.6.0", "", "not a valid RFC 5322 address: bad thing" },
	{ "empty From", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 1,
	  LM_ADDR_EMPTY, 0, 0, LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT,
	  "550 5.6.0", "", NULL },
	{ "two addresses", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 1, OK, 2,
	  0, LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT, "550 5.6.0", "",
	  "exactly one address, it holds 2" },
	{ "group", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 1, OK, 1, 1,
	  LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT, "550 5.6.0", "",
	  "not a group" },
	{ "empty group", LM_ACT_MUNGE, LM_MIT_POLICY, 0, 0, 0, 0, 1, OK, 0, 1,
	  LM_LK_NONE, LM_POL_UNSET, 0, LM_V_REJECT, "550 5.6.0", "", NULL },
};

static void
run_row(const struct row *r)
{
	struct lm_list cfg;
	struct lm_listref ref;
	struct lm_mailbox mb[2];
	struct lm_addrlist from;
	struct lm_facts f;
	struct lm_plan p;
	char code[32];

	memset(&cfg, 0, sizeof cfg);
	memset(&ref, 0, sizeof ref);
	memset(mb, 0, sizeof mb);
	cfg.action = r->action;
	cfg.mitigate = r->mitigate;
	cfg.bounce_none = r->bounce_none;
	ref.cfg = &cfg;
	lm_strlcpy(ref.addr, "dev@lists.example.org", sizeof ref.addr);
	lm_strlcpy(ref.bounce, r->bounce_none ? "" : B, sizeof ref.bounce);
	mb[0].domain = mb[1].domain = (char *)"example.com";
	mb[0].local = mb[1].local = (char *)"anne";
	from.mb = mb;
	from.n = r->nmb;
	from.has_group = r->group;
	memset(&f, 0, sizeof f);
	f.list = &ref;
	f.null_sender = r->null_sender;
	f.loop = r->loop;
	f.hdr_overflow = r->overflow;
	f.from_fields = r->from_fields;
	f.from_err = r->from_err;
	f.from_reason = r->from_err == LM_ADDR_SYNTAX ? "bad thing" : NULL;
	f.from = r->from_err == OK ? &from : NULL;
	f.lookup = r->lookup;
	f.policy = r->policy;
	f.too_big_to_wrap = r->too_big;
	lm_decide(&f, &p);
	snprintf(code, sizeof code, "%s %s", p.rcode, p.xcode);
	CHECK(p.verdict == r->verdict && (r->code == NULL ||
	    strcmp(code, r->code) == 0) && strcmp(p.envfrom, r->envfrom) == 0 &&
	    (r->text == NULL || strstr(p.text, r->text) != NULL) &&
	    strchr(p.text, '\n') == NULL && strchr(p.text, '\r') == NULL,
	    "%s: got %s \"%s\" text=\"%s\" envfrom=\"%s\"", r->what,
	    lm_verdict_name(p.verdict), code, p.text, p.envfrom);
}

struct arow {
	const char *what;
	enum lm_mitigate mitigate;
	int	 no_enforce, qmark, taccept;
	enum lm_lookup lookup;
	enum lm_pol policy;
	enum lm_dmres dmarc;
	int	 sig_ok, sig_aligned, sig_survives;
	enum lm_verdict verdict;
	const char *code;
	const char *why;
};

static const struct arow arows[] = {
	{ "forged p=reject refused", LM_MIT_POLICY, 0, 0, 0, LM_LK_FOUND,
	  LM_POL_REJECT, LM_DM_FAIL, 0, 0, 0, LM_V_REJECT, "550 5.7.1",
	  "dmarc-fail" },
	{ "forged p=reject, enforce=no: munged", LM_MIT_POLICY, 1, 0, 0,
	  LM_LK_FOUND, LM_POL_REJECT, LM_DM_FAIL, 0, 0, 0, LM_V_MUNGE, NULL,
	  "policy" },
	{ "forged p=quarantine refused", LM_MIT_POLICY, 0, 0, 0, LM_LK_FOUND,
	  LM_POL_QUARANTINE, LM_DM_FAIL, 0, 0, 0, LM_V_REJECT, "550 5.7.1",
	  "dmarc-fail" },
	{ "forged p=quarantine marked", LM_MIT_POLICY, 0, 1, 0, LM_LK_FOUND,
	  LM_POL_QUARANTINE, LM_DM_FAIL, 0, 0, 0, LM_V_PASS, NULL,
	  "dmarc-fail-marked" },
	{ "quarantine=mark does not pass p=reject", LM_MIT_POLICY, 0, 1, 0,
	  LM_LK_FOUND, LM_POL_REJECT, LM_DM_FAIL, 0, 0, 0, LM_V_REJECT,
	  "550 5.7.1", "dmarc-fail" },
	{ "dmarc fail under p=none: normal", LM_MIT_POLICY, 0, 0, 0,
	  LM_LK_FOUND, LM_POL_NONE, LM_DM_FAIL, 0, 0, 0, LM_V_PASS, NULL,
	  "policy-none" },
	{ "temperror tempfails", LM_MIT_POLICY, 0, 0, 0, LM_LK_TEMPFAIL,
	  LM_POL_UNSET, LM_DM_TEMPERROR, 0, 0, 0, LM_V_TEMPFAIL, "451 4.4.3",
	  "dmarc-temperror" },
	{ "temperror=accept mitigates", LM_MIT_POLICY, 0, 0, 1,
	  LM_LK_TEMPFAIL, LM_POL_UNSET, LM_DM_TEMPERROR, 0, 0, 0, LM_V_MUNGE,
	  NULL, "dns-tempfail" },
	{ "temperror under p=none ignored", LM_MIT_POLICY, 0, 0, 0,
	  LM_LK_FOUND, LM_POL_NONE, LM_DM_TEMPERROR, 0, 0, 0, LM_V_PASS, NULL,
	  "policy-none" },
	{ "pass p=reject: munged (policy)", LM_MIT_POLICY, 0, 0, 0,
	  LM_LK_FOUND, LM_POL_REJECT, LM_DM_PASS, 1, 1, 1, LM_V_MUNGE, NULL,
	  "policy" },
	{ "needed: surviving aligned DKIM keeps From", LM_MIT_NEEDED, 0, 0,
	  0, LM_LK_FOUND, LM_POL_REJECT, LM_DM_PASS, 1, 1, 1, LM_V_PASS, NULL,
	  "dkim-survives" },
	{ "needed: SPF-only pass is munged", LM_MIT_NEEDED, 0, 0, 0,
	  LM_LK_FOUND, LM_POL_REJECT, LM_DM_PASS, 0, 0, 0, LM_V_MUNGE, NULL,
	  "policy" },
	{ "needed: unaligned DKIM is munged", LM_MIT_NEEDED, 0, 0, 0,
	  LM_LK_FOUND, LM_POL_REJECT, LM_DM_PASS, 1, 0, 1, LM_V_MUNGE, NULL,
	  "policy" },
	{ "needed: oversigned trace breaks it", LM_MIT_NEEDED, 0, 0, 0,
	  LM_LK_FOUND, LM_POL_QUARANTINE, LM_DM_PASS, 1, 1, 0, LM_V_MUNGE,
	  NULL, "policy" },
	{ "needed: p=none never mitigated", LM_MIT_NEEDED, 0, 0, 0,
	  LM_LK_FOUND, LM_POL_NONE, LM_DM_FAIL, 0, 0, 0, LM_V_PASS, NULL,
	  "policy-none" },
};

static void
run_arow(const struct arow *r)
{
	struct lm_list cfg;
	struct lm_listref ref;
	struct lm_mailbox mb;
	struct lm_addrlist from;
	struct lm_auth auth;
	struct lm_facts f;
	struct lm_plan p;
	char code[32];

	memset(&cfg, 0, sizeof cfg);
	memset(&ref, 0, sizeof ref);
	memset(&mb, 0, sizeof mb);
	memset(&auth, 0, sizeof auth);
	memset(&f, 0, sizeof f);
	cfg.mitigate = r->mitigate;
	cfg.no_enforce = r->no_enforce;
	cfg.quarantine_mark = r->qmark;
	cfg.temperror_accept = r->taccept;
	ref.cfg = &cfg;
	lm_strlcpy(ref.addr, "dev@lists.example.org", sizeof ref.addr);
	lm_strlcpy(ref.bounce, B, sizeof ref.bounce);
	mb.domain = (char *)"example.com";
	mb.local = (char *)"anne";
	from.mb = &mb;
	from.n = 1;
	from.has_group = 0;
	auth.evaluated = 1;
	auth.dmarc = r->dmarc;
	if (r->sig_ok) {
		auth.nsigs = 1;
		auth.sig[0].res = LM_AR_PASS;
		auth.sig[0].aligned = r->sig_aligned;
		auth.sig[0].survives = r->sig_survives;
	}
	f.list = &ref;
	f.from_fields = 1;
	f.from = &from;
	f.lookup = r->lookup;
	f.policy = r->policy;
	f.auth = &auth;
	lm_decide(&f, &p);
	snprintf(code, sizeof code, "%s %s", p.rcode, p.xcode);
	CHECK(p.verdict == r->verdict && (r->code == NULL ||
	    strcmp(code, r->code) == 0) && p.why != NULL &&
	    strcmp(p.why, r->why) == 0 && (p.verdict == LM_V_REJECT ||
	    p.verdict == LM_V_TEMPFAIL || strcmp(p.envfrom, B) == 0),
	    "%s: got %s \"%s\" why=%s text=\"%s\"", r->what,
	    lm_verdict_name(p.verdict), code, p.why ? p.why : "(null)",
	    p.text);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		run_row(&rows[i]);
	for (i = 0; i < sizeof arows / sizeof arows[0]; i++)
		run_arow(&arows[i]);
	return LMT_DONE();
}
