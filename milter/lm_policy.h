/*
 * lm_policy - DMARC policy discovery for an author domain over DNS.
 *
 * RFC 9989 4.10: query _dmarc.<name> TXT for each name of the tree walk
 * (lm_dmarc_walk), keep the TXT strings that are DMARC records
 * (lm_dmarc_is_record; a non-DMARC TXT beside it never hides it), and
 * stop at the first name with exactly one valid record.  Several records,
 * or one that does not parse, count as none at that name.  A DNS failure
 * anywhere in the walk makes the result LM_LK_TEMPFAIL: the caller
 * mitigates (fail-safe) rather than trust a partial walk.  When the
 * record came from a parent and carries np=, the author domain's
 * existence is tested (A, AAAA, MX; RFC 9989 np=): NXDOMAIN, or NODATA for
 * all three, means non-existent; a DNS failure there applies the stricter
 * of np and sp/p.
 *
 * Ownership: fills a caller-owned result; no state.
 */
#ifndef LM_POLICY_H
#define LM_POLICY_H

#include <time.h>

#include "lm_decide.h"
#include "lm_dmarc.h"
#include "lm_dns.h"

struct lm_policy_result {
	enum lm_lookup lookup;
	enum lm_pol policy;
	const char *tag;		/* "p", "sp", "np" */
	char	 domain[256];		/* where the record was found */
	struct lm_dmarc_rec rec;
	int	 queries;		/* DNS queries made */
	char	 detail[160];		/* for the log: why tempfail etc. */
};

void	 lm_policy_lookup(struct lm_dns *, const char *author_domain,
	    const struct timespec *deadline, struct lm_policy_result *);

/* The Organizational Domain of `domain` (RFC 9989 4.10.2: the whole tree
   walk, lm_auth_orgdomain() over what it found).  0, or -1 on a DNS
   failure (out is then the domain itself). */
int	 lm_policy_orgdomain(struct lm_dns *, const char *domain,
	    const struct timespec *deadline, char *out, size_t outsz);

#endif
