/*
 * t_auth - alignment, Organizational Domain selection, DMARC result,
 * survival of signatures, Authentication-Results building and parsing.
 */
#include <string.h>

#include "lm_auth.h"
#include "lm_decide.h"
#include "lmtest.h"

struct orgcase {
	const char *start;
	const char *recs;	/* "name:psd,name:psd" of names with records */
	const char *want;
};

static const struct orgcase orgcases[] = {
	{ "mail.example.com", "", "mail.example.com" },
	{ "mail.example.com", "example.com:u", "example.com" },
	{ "mail.example.com", "mail.example.com:u,example.com:u", "example.com" },
	{ "a.b.example.com", "b.example.com:n,example.com:u", "b.example.com" },
	{ "a.b.example.gov", "gov:y", "example.gov" },
	{ "example.gov", "gov:y", "example.gov" },
	{ "a.example.gov", "example.gov:u,gov:y", "example.gov" },
	{ "gov", "gov:y", "gov" },
	{ "x.y.z.co.uk", "z.co.uk:u,uk:y", "co.uk" },
	{ "a.b.c.d.e.f.g.h.i.example.com", "example.com:u",
	  "example.com" },
	{ "a.b.c.d.e.f.g.h.i.example.com", "f.g.h.i.example.com:u,com:y",
	  "example.com" },
};

static void
test_orgdomain(void)
{
	size_t k;

	for (k = 0; k < sizeof orgcases / sizeof orgcases[0]; k++) {
		const struct orgcase *c = &orgcases[k];
		char names[LM_DMARC_WALK_MAX][256], out[256], spec[512];
		int has[LM_DMARC_WALK_MAX] = { 0 }, n, i;
		char psd[LM_DMARC_WALK_MAX] = { 0 };
		char *tok, *save;

		n = lm_dmarc_walk(c->start, names, LM_DMARC_WALK_MAX);
		lm_strlcpy(spec, c->recs, sizeof spec);
		for (tok = strtok_r(spec, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			char *colon = strchr(tok, ':');

			*colon = '\0';
			for (i = 0; i < n; i++)
				if (strcmp(names[i], tok) == 0) {
					has[i] = 1;
					psd[i] = colon[1];
				}
		}
		lm_auth_orgdomain(names, has, psd, n, out, sizeof out);
		CHECK(strcmp(out, c->want) == 0, "org(%s; %s) = %s, want %s",
		    c->start, c->recs, out, c->want);
	}
}

static void
test_align(void)
{
	CHECK(lm_auth_aligned("example.com", "EXAMPLE.com", 's', NULL, NULL),
	    "strict: equal, any case");
	CHECK(!lm_auth_aligned("example.com", "mail.example.com", 's',
	    "example.com", "example.com"), "strict: subdomain not aligned");
	CHECK(!lm_auth_aligned("x.example.org", "example.org", 's',
	    "example.org", "example.org"), "strict: one-letter label (libopendmarc bug)");
	CHECK(!lm_auth_aligned("a.example.org", "b.example.org", 's',
	    "example.org", "example.org"), "strict: siblings");
	CHECK(lm_auth_aligned("aa.example.org", "bb.example.org", 'r',
	    "example.org", "example.org"), "relaxed: siblings share org");
	CHECK(!lm_auth_aligned("example.co.uk", "other.co.uk", 'r',
	    "example.co.uk", "other.co.uk"), "relaxed: different orgs");
	CHECK(!lm_auth_aligned("example.com", "", 'r', "example.com", ""),
	    "empty id");
}

static void
sig(struct lm_auth *a, enum lm_ares r, int aligned)
{
	a->sig[a->nsigs].res = r;
	a->sig[a->nsigs].aligned = aligned;
	a->nsigs++;
}

static void
test_dmarc(void)
{
	struct lm_auth a;

	memset(&a, 0, sizeof a);
	a.spf = LM_AR_PASS;
	a.spf_aligned = 1;
	CHECK(lm_auth_dmarc(&a, LM_LK_FOUND) == LM_DM_PASS, "aligned SPF pass");
	a.spf_aligned = 0;
	CHECK(lm_auth_dmarc(&a, LM_LK_FOUND) == LM_DM_FAIL,
	    "unaligned SPF pass fails");
	CHECK(lm_auth_dmarc(&a, LM_LK_NONE) == LM_DM_NONE, "no policy: none");
	CHECK(lm_auth_dmarc(&a, LM_LK_TEMPFAIL) == LM_DM_TEMPERROR,
	    "policy lookup failed: temperror");
	sig(&a, LM_AR_PASS, 0);
	CHECK(lm_auth_dmarc(&a, LM_LK_FOUND) == LM_DM_FAIL,
	    "unaligned DKIM pass fails");
	sig(&a, LM_AR_TEMPERROR, 1);
	CHECK(lm_auth_dmarc(&a, LM_LK_FOUND) == LM_DM_TEMPERROR,
	    "aligned DKIM temperror: temperror");
	sig(&a, LM_AR_PASS, 1);
	CHECK(lm_auth_dmarc(&a, LM_LK_FOUND) == LM_DM_PASS,
	    "any aligned DKIM pass passes");
	CHECK(lm_auth_dmarc(&a, LM_LK_NONE) == LM_DM_PASS,
	    "pass even without policy");
	memset(&a, 0, sizeof a);
	a.spf = LM_AR_TEMPERROR;
	a.spf_aligned = 1;
	CHECK(lm_auth_dmarc(&a, LM_LK_FOUND) == LM_DM_TEMPERROR,
	    "aligned SPF temperror");
}

static void
test_survives(void)
{
	CHECK(lm_auth_survives("from:to:subject:date", "x-loop"),
	    "unsigned added field survives");
	CHECK(!lm_auth_survives("from:to:x-loop:subject", "x-loop"),
	    "oversigned added field breaks");
	CHECK(!lm_auth_survives("From : X-Loop", "x-loop"),
	    "case and spaces in h=");
	CHECK(!lm_auth_survives("from:list-id", "x-loop:list-id"),
	    "second added field");
}

static void
test_authres(void)
{
	struct lm_auth a;
	lm_buf b;
	char id[64];

	memset(&a, 0, sizeof a);
	a.spf = LM_AR_PASS;
	lm_strlcpy(a.spf_domain, "example.org", sizeof a.spf_domain);
	sig(&a, LM_AR_PASS, 1);
	lm_strlcpy(a.sig[0].domain, "example.org", sizeof a.sig[0].domain);
	lm_strlcpy(a.sig[0].selector, "s1", sizeof a.sig[0].selector);
	sig(&a, LM_AR_FAIL, 0);
	lm_strlcpy(a.sig[1].domain, "evil.example(.x", sizeof a.sig[1].domain);
	a.dmarc = LM_DM_PASS;
	lm_buf_init(&b, 4096);
	lm_authres_build("mx.example.net", &a, "example.org", "reject", &b);
	CHECK(strcmp(lm_buf_cstr(&b), " mx.example.net;\n\tspf=pass "
	    "smtp.mailfrom=example.org;\n\tdkim=pass header.d=example.org "
	    "header.s=s1;\n\tdkim=fail;\n\tdmarc=pass (p=reject) "
	    "header.from=example.org") == 0, "A-R value: [%s]",
	    lm_buf_cstr(&b));
	lm_buf_free(&b);
	CHECK(lm_authres_servid(" mx.Example.net; spf=pass", 24, id,
	    sizeof id) == 0 && strcmp(id, "mx.example.net") == 0,
	    "servid: %s", id);
	CHECK(lm_authres_servid(" (comment) \"mx.example.net\" 1; none", 35,
	    id, sizeof id) == 0 && strcmp(id, "mx.example.net") == 0,
	    "servid quoted after comment: %s", id);
	CHECK(lm_authres_servid(" ;", 2, id, sizeof id) == -1, "no servid");
}

static void
test_authres_dmarc(void)
{
	static const struct {
		const char *v;
		int rc;
		enum lm_dmres res;
		const char *from;
	} c[] = {
		{ " mx.example.net; dmarc=pass (p=reject) header.from=Example.ORG",
		  0, LM_DM_PASS, "example.org" },
		{ " mx.example.net;\n\tspf=pass smtp.mailfrom=a.example;\n\t"
		  "dmarc=fail header.from=a.example", 0, LM_DM_FAIL, "a.example" },
		{ " mx.example.net; dkim=pass header.d=x.example", -1, 0, "" },
		{ " mx.example.net (dmarc=pass header.from=evil.example); "
		  "spf=none", -1, 0, "" },
		{ " dmarc=pass header.from=x.example", -1, 0, "" },
		{ " mx; dmarc = temperror header.from = t.example", 0,
		  LM_DM_TEMPERROR, "t.example" },
		{ " mx; dmarc=bogus", 0, LM_DM_PERMERROR, "" },
		/* ';' inside a quoted string does not start a resinfo */
		{ " mx; spf=pass smtp.mailfrom=\"a;dmarc=pass header.from=e.example"
		  "\"; dmarc=fail header.from=f.example", 0, LM_DM_FAIL,
		  "f.example" },
		{ " mx; spf=pass reason=\"x\\\";dmarc=pass header.from=e.example"
		  "\"", -1, 0, "" },
	};
	enum lm_dmres res;
	char from[256];
	size_t i;
	int rc;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		res = LM_DM_NONE;
		from[0] = '\0';
		rc = lm_authres_dmarc(c[i].v, strlen(c[i].v), &res, from,
		    sizeof from);
		CHECK(rc == c[i].rc && (rc != 0 || (res == c[i].res &&
		    strcmp(from, c[i].from) == 0)), "authres_dmarc(%s) = %d "
		    "%d %s", c[i].v, rc, res, from);
	}
	CHECK(lm_authres_listed("a.example, MX.Example.net b", "mx.example.net"),
	    "listed");
	CHECK(!lm_authres_listed("mx.example.net.evil", "mx.example.net"),
	    "not listed: suffix");
	CHECK(!lm_authres_listed("", "mx"), "empty list");
}

int
main(void)
{
	test_authres_dmarc();
	test_orgdomain();
	test_align();
	test_dmarc();
	test_survives();
	test_authres();
	return LMT_DONE();
}
