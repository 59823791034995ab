/*
 * lm_decide - pure rewrite decision (see lm_decide.h for the rules).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_decide.h"

static void refuse(struct lm_plan *, const char *, const char *,
    const char *, const char *, ...) __attribute__((format(printf, 5, 6)));

static void
refuse(struct lm_plan *p, const char *rcode, const char *xcode,
    const char *why, const char *fmt, ...)
{
	va_list ap;

	p->verdict = rcode[0] == '4' ? LM_V_TEMPFAIL : LM_V_REJECT;
	lm_strlcpy(p->rcode, rcode, sizeof p->rcode);
	lm_strlcpy(p->xcode, xcode, sizeof p->xcode);
	p->why = why;
	va_start(ap, fmt);
	(void)vsnprintf(p->text, sizeof p->text, fmt, ap);
	va_end(ap);
	p->envfrom[0] = '\0';
}

/* Refusals that depend only on the message's form; 1 if refused. */
static int
check_form(const struct lm_facts *f, struct lm_plan *p)
{
	const char *list = f->list->addr;
	if (f->loop) {
		refuse(p, "554", "5.4.6", "loop", "Mail loop: this message "
		    "was already distributed by the list %s", list);
		return 1;
	}
	if (f->hdr_overflow) {
		refuse(p, "552", "5.3.4", "header-too-big", "Header section "
		    "too large for list %s", list);
		return 1;
	}
	if (f->from_fields != 1) {
		refuse(p, "550", "5.6.0", f->from_fields ? "multiple-from" :
		    "no-from", "Mail to list %s needs exactly one From header "
		    "field, this message has %zu", list, f->from_fields);
		return 1;
	}
	if (f->from_err != LM_ADDR_OK || f->from == NULL) {
		refuse(p, "550", "5.6.0", "bad-from", "From header field is "
		    "not a valid RFC 5322 address: %s", f->from_reason !=
		    NULL ? f->from_reason : "syntax error");
		return 1;
	}
	if (f->from->has_group || f->from->n != 1) {
		if (f->from->has_group)
			refuse(p, "550", "5.6.0", "group-from", "From header "
			    "field must name one author, not a group");
		else
			refuse(p, "550", "5.6.0", "multi-from", "From header "
			    "field must hold exactly one address, it holds %zu",
			    f->from->n);
		return 1;
	}
	return 0;
}

static int needs_by_policy(const struct lm_facts *, const char **);

/* An aligned DKIM pass that the list's changes leave intact. */
static int
survives(const struct lm_auth *a)
{
	size_t i;

	for (i = 0; a != NULL && i < a->nsigs; i++)
		if (a->sig[i].res == LM_AR_PASS && a->sig[i].aligned &&
		    a->sig[i].survives)
			return 1;
	return 0;
}

static int
needs_mitigation(const struct lm_facts *f, const char **why)
{
	int need;

	if (f->list->cfg->mitigate == LM_MIT_ALWAYS)
		return *why = "always", 1;
	need = needs_by_policy(f, why);
	if (need && f->list->cfg->mitigate == LM_MIT_NEEDED && survives(f->auth))
		return *why = "dkim-survives", 0;
	return need;
}

/* Refusals from inbound authentication; 1 if refused or marked. */
static int
check_auth(const struct lm_facts *f, struct lm_plan *p)
{
	const char *dom = lm_facts_author_domain(f);
	int enforcing = f->lookup != LM_LK_FOUND ||
	    f->policy == LM_POL_REJECT || f->policy == LM_POL_QUARANTINE;

	if (f->auth == NULL || f->list->cfg->no_enforce)
		return 0;
	if (f->auth->dmarc == LM_DM_TEMPERROR && enforcing &&
	    !f->list->cfg->temperror_accept) {
		refuse(p, "451", "4.4.3", "dmarc-temperror", "DMARC evaluation "
		    "for %s failed temporarily (DNS); try again later", dom);
		return 1;
	}
	if (f->auth->dmarc != LM_DM_FAIL || f->lookup != LM_LK_FOUND)
		return 0;
	if (f->policy == LM_POL_QUARANTINE && f->list->cfg->quarantine_mark) {
		p->verdict = LM_V_PASS;
		p->why = "dmarc-fail-marked";
		return 1;
	}
	if (f->policy == LM_POL_REJECT || f->policy == LM_POL_QUARANTINE) {
		refuse(p, "550", "5.7.1", "dmarc-fail", "DMARC check failed for "
		    "%s (p=%s): no aligned SPF or DKIM pass; the list does not "
		    "redistribute unauthenticated mail", dom,
		    lm_pol_name(f->policy));
		return 1;
	}
	return 0;
}

static int
needs_by_policy(const struct lm_facts *f, const char **why)
{
	switch (f->lookup) {
	case LM_LK_TEMPFAIL:
		return *why = "dns-tempfail", 1;
	case LM_LK_BADDOMAIN:
		return *why = "unqueryable-domain", 1;
	case LM_LK_NONE:
		return *why = "no-policy", 0;
	case LM_LK_FOUND:
		break;
	}
	if (f->policy == LM_POL_REJECT || f->policy == LM_POL_QUARANTINE)
		return *why = "policy", 1;
	return *why = "policy-none", 0;
}

static void
apply_action(const struct lm_facts *f, struct lm_plan *p)
{
	const char *dom = lm_facts_author_domain(f);

	switch (f->list->cfg->action) {
	case LM_ACT_MUNGE:
		p->verdict = LM_V_MUNGE;
		break;
	case LM_ACT_WRAP:
		if (f->too_big_to_wrap)
			refuse(p, "552", "5.3.4", "too-big-to-wrap", "Message "
			    "too large to be wrapped for list %s",
			    f->list->addr);
		else
			p->verdict = LM_V_WRAP;
		break;
	case LM_ACT_REJECT:
		if (f->lookup == LM_LK_FOUND)
			refuse(p, "550", "5.7.1", "action-reject", "The domain "
			    "%s publishes DMARC policy %s; this list cannot "
			    "redistribute its mail", dom != NULL ? dom : "?",
			    lm_pol_name(f->policy));
		else
			refuse(p, "550", "5.7.1", "action-reject", "The list "
			    "cannot redistribute mail from %s (DMARC policy "
			    "unknown)", dom != NULL ? dom : "this domain");
		break;
	case LM_ACT_NONE:
		p->verdict = LM_V_PASS;
		break;
	}
}

const char *
lm_facts_author_domain(const struct lm_facts *f)
{
	if (f->from == NULL || f->from->n < 1)
		return NULL;
	return f->from->mb[0].domain;
}

void
lm_decide(const struct lm_facts *f, struct lm_plan *p)
{
	const char *why = "";

	memset(p, 0, sizeof *p);
	if (check_form(f, p))
		return;
	if (check_auth(f, p)) {
		if (p->verdict == LM_V_REJECT || p->verdict == LM_V_TEMPFAIL)
			return;
	} else {
		p->mitigate = needs_mitigation(f, &why);
		p->why = why;
		if (p->mitigate)
			apply_action(f, p);
	}
	if (p->verdict == LM_V_REJECT || p->verdict == LM_V_TEMPFAIL)
		return;
	if (f->too_big_to_sign) {
		refuse(p, "552", "5.3.4", "too-big-to-sign", "Message too large "
		    "to be signed for list %s", f->list->addr);
		return;
	}
	if (!f->null_sender && !f->list->cfg->bounce_none &&
	    f->list->bounce[0] != '\0')
		lm_strlcpy(p->envfrom, f->list->bounce, sizeof p->envfrom);
}

const char *
lm_verdict_name(enum lm_verdict v)
{
	static const char *names[] = { "pass", "munge", "wrap", "reject",
	    "tempfail" };

	return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}
