/*
 * lm_inbound - SPF, DKIM and DMARC for one message (see lm_inbound.h).
 */
#include <string.h>

#include "lm_buf.h"
#include "lm_inbound.h"
#include "lm_log.h"

void
lm_inbound_start(struct lm_inbound *in, const struct lm_inbound_env *env,
    const struct lm_msg *m, const struct timespec *deadline)
{
	size_t i;
	int r = 0;

	memset(in, 0, sizeof *in);
	in->active = 1;
	lm_spf_check(env->spf, env->ip, env->helo, env->mailfrom, deadline,
	    &in->spf);
	if ((in->ver = lm_dkim_ver_new(env->dkim, env->qid, deadline)) == NULL)
		return;
	for (i = 0; i < m->nh; i++)
		if (lm_dkim_header(in->ver, m->h[i].name, m->h[i].value,
		    m->h[i].vlen) != 0)
			break;
	if (i < m->nh || (r = lm_dkim_eoh(in->ver)) != 0) {
		in->nosigs = i == m->nh && r == 1;
		in->dkim_failed = !in->nosigs;
		lm_dkim_ver_free(in->ver);
		in->ver = NULL;
	}
}

void
lm_inbound_body(struct lm_inbound *in, const unsigned char *p, size_t n)
{
	if (in->ver == NULL)
		return;
	if (lm_dkim_body(in->ver, p, n) != 0) {
		lm_dkim_ver_free(in->ver);
		in->ver = NULL;
		in->dkim_failed = 1;
	}
}

static enum lm_ares
map_spf(enum lm_spf_res r)
{
	switch (r) {
	case LM_SPF_PASS:
		return LM_AR_PASS;
	case LM_SPF_FAIL:
		return LM_AR_FAIL;
	case LM_SPF_SOFTFAIL:
		return LM_AR_SOFTFAIL;
	case LM_SPF_NEUTRAL:
		return LM_AR_NEUTRAL;
	case LM_SPF_TEMPERROR:
		return LM_AR_TEMPERROR;
	case LM_SPF_PERMERROR:
		return LM_AR_PERMERROR;
	default:
		return LM_AR_NONE;
	}
}

static enum lm_ares
map_dkim(enum lm_dkim_res r)
{
	switch (r) {
	case LM_DKIM_PASS:
		return LM_AR_PASS;
	case LM_DKIM_FAIL:
		return LM_AR_FAIL;
	case LM_DKIM_NEUTRAL:
		return LM_AR_NEUTRAL;
	case LM_DKIM_POLICY:
		return LM_AR_POLICY;
	case LM_DKIM_TEMPERROR:
		return LM_AR_TEMPERROR;
	default:
		return LM_AR_PERMERROR;
	}
}

/* Alignment cache for one message: the author's org domain, once. */
struct align_ctx {
	const struct lm_inbound_env *env;
	const struct timespec *deadline;
	const char *from;
	char	 org_from[256];
	int	 have_org;
};

static int
aligned(struct align_ctx *a, const char *id, char mode)
{
	char org_id[256];

	if (lm_auth_aligned(a->from, id, 's', NULL, NULL))
		return 1;
	if (mode == 's' || id[0] == '\0')
		return 0;
	if (!a->have_org) {
		(void)lm_policy_orgdomain(a->env->dns, a->from, a->deadline,
		    a->org_from, sizeof a->org_from);
		a->have_org = 1;
	}
	(void)lm_policy_orgdomain(a->env->dns, id, a->deadline, org_id,
	    sizeof org_id);
	return lm_auth_aligned(a->from, id, mode, a->org_from, org_id);
}

static void
collect_sigs(struct lm_inbound *in, struct align_ctx *a, char adkim,
    struct lm_auth *out)
{
	struct lm_dkim_sig sigs[LM_DKIM_MAXSIGS];
	int i, n;

	if (in->dkim_failed) {
		/* signatures we could not check: they might have aligned, so
		   DMARC can only be a temporary error without another pass */
		out->sig[0].res = LM_AR_TEMPERROR;
		out->sig[0].aligned = 1;
		out->nsigs = 1;
		return;
	}
	if (in->ver == NULL)
		return;
	if ((n = lm_dkim_eom(in->ver, sigs, LM_DKIM_MAXSIGS)) < 0) {
		in->dkim_failed = 1;
		collect_sigs(in, a, adkim, out);
		return;
	}
	for (i = 0; i < n && out->nsigs < LM_AUTH_MAXSIGS; i++) {
		struct lm_auth_sig *s = &out->sig[out->nsigs++];

		s->res = map_dkim(sigs[i].res);
		lm_strlcpy(s->domain, sigs[i].domain, sizeof s->domain);
		lm_strlcpy(s->selector, sigs[i].selector, sizeof s->selector);
		s->aligned = s->res == LM_AR_PASS || s->res == LM_AR_TEMPERROR ?
		    aligned(a, sigs[i].domain, adkim) : 0;
		s->survives = s->res == LM_AR_PASS && !sigs[i].l_tag &&
		    lm_auth_survives(sigs[i].hdrs, LM_ADDED_FIELDS);
	}
}

void
lm_inbound_finish(struct lm_inbound *in, const struct lm_inbound_env *env,
    const char *from_domain, const struct lm_dmarc_rec *rec, int lookup,
    const struct timespec *deadline, struct lm_auth *out)
{
	struct align_ctx a;

	memset(out, 0, sizeof *out);
	memset(&a, 0, sizeof a);
	a.env = env;
	a.deadline = deadline;
	a.from = from_domain;
	out->evaluated = 1;
	out->spf = map_spf(in->spf.res);
	lm_strlcpy(out->spf_domain, in->spf.domain, sizeof out->spf_domain);
	out->spf_helo = in->spf.helo;
	if (out->spf == LM_AR_PASS || out->spf == LM_AR_TEMPERROR)
		out->spf_aligned = aligned(&a, in->spf.domain,
		    rec != NULL ? rec->aspf : 'r');
	collect_sigs(in, &a, rec != NULL ? rec->adkim : 'r', out);
	out->dmarc = lm_auth_dmarc(out, lookup);
}

void
lm_inbound_reset(struct lm_inbound *in)
{
	if (in->ver != NULL)
		lm_dkim_ver_free(in->ver);
	memset(in, 0, sizeof *in);
}
