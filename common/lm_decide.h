/*
 * lm_decide - the rewrite decision: facts + policy + list config -> plan.
 *
 * A pure function with no I/O.  The milter collects the facts (envelope,
 * parsed From, trace header, the author domain's DMARC policy as found by
 * the RFC 9989 discovery in milter/lm_policy.c) and calls lm_decide() once
 * per list message; the plan says whether the message is refused (with the
 * exact SMTP reply), passed on unchanged apart from the envelope and the
 * trace header, munged, or wrapped.
 *
 * Rules (docs/listmilter.conf.5 documents them for operators):
 *  - The list's own trace (X-Loop: <list>) already present: 554 5.4.6.
 *  - Inbound authentication (when evaluated and enforce=yes): a DMARC
 *    failure under p=reject gets 550 5.7.1, under p=quarantine 550 5.7.1
 *    or, with quarantine=mark, delivery without rewriting (receivers see
 *    dmarc=fail and quarantine it); a DMARC temperror under an enforcing
 *    or unknown policy gets 451 4.4.3 unless temperror=accept.  So forged
 *    mail is never rewritten into authenticated list mail.
 *  - The header section over MaximumHeaderSize: 552 5.3.4.
 *  - Not exactly one From field, not exactly one mailbox, a group, or an
 *    unparseable value: 550 5.6.0 with the reason (RFC 5322 3.6.2 and
 *    RFC 9989 4.4 need one author domain).
 *  - Mitigation applies when mitigate=always, or the policy found is
 *    quarantine or reject, or the lookup failed temporarily (fail-safe:
 *    mitigate and log), or the author domain cannot be looked up (not an
 *    LDH domain, e.g. an IDN U-label or an address literal).  With
 *    mitigate=needed, a message that would otherwise be mitigated is not
 *    when it carries a passing DKIM signature aligned with the author
 *    domain that survives the list's changes (lm_auth_sig.survives).
 *  - When it applies: action munge -> MUNGE, wrap -> WRAP (a message too
 *    large to wrap gets 552 5.3.4), reject -> 550 5.7.1 naming the
 *    policy, none -> PASS.
 *  - Every list message gets the bounce address as envelope sender
 *    (unless bounce=none or the sender is null <>, so a bounce never turns
 *    into a message that can bounce again, RFC 5321 4.5.5).
 *
 * Ownership: the facts point at caller data; the plan is self-contained.
 */
#ifndef LM_DECIDE_H
#define LM_DECIDE_H

#include "lm_addr.h"
#include "lm_auth.h"
#include "lm_dmarc.h"
#include "lm_listtab.h"

enum lm_lookup {
	LM_LK_FOUND = 0,	/* a policy record was found */
	LM_LK_NONE,		/* no (single valid) record anywhere */
	LM_LK_TEMPFAIL,		/* DNS failure or timeout */
	LM_LK_BADDOMAIN		/* author domain cannot be queried */
};

struct lm_facts {
	const struct lm_listref *list;
	int	 null_sender;		/* MAIL FROM:<> */
	int	 loop;			/* our trace for this list is present */
	int	 hdr_overflow;
	size_t	 from_fields;		/* number of From fields */
	int	 from_err;		/* enum lm_addr_err of the one From */
	const char *from_reason;	/* parser's reason, or NULL */
	const struct lm_addrlist *from;	/* parsed From when from_err == OK */
	enum lm_lookup lookup;
	enum lm_pol policy;		/* when LM_LK_FOUND */
	const char *policy_domain;	/* where the record was found */
	const char *policy_tag;		/* "p", "sp" or "np" */
	int	 too_big_to_wrap;	/* body exceeded MaximumWrapSize */
	int	 too_big_to_sign;	/* same, for a list that signs */
	const struct lm_auth *auth;	/* inbound results, NULL if not run */
};

enum lm_verdict {
	LM_V_PASS = 0,		/* no content change beyond trace/envelope */
	LM_V_MUNGE,
	LM_V_WRAP,
	LM_V_REJECT,		/* 5xx, see rcode/xcode/text */
	LM_V_TEMPFAIL		/* 4xx */
};

struct lm_plan {
	enum lm_verdict verdict;
	int	 mitigate;		/* mitigation applied (munge/wrap/reject/none) */
	const char *why;		/* short token for the log line */
	char	 rcode[4], xcode[12];
	char	 text[400];		/* SMTP reply text */
	char	 envfrom[330];		/* new envelope sender, "" = keep */
};

void	 lm_decide(const struct lm_facts *, struct lm_plan *);
const char *lm_verdict_name(enum lm_verdict);
/* The author's domain (lower-case) from the facts, or NULL. */
const char *lm_facts_author_domain(const struct lm_facts *);

#endif
