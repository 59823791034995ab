/*
 * lm_auth - DMARC evaluation of the authentication results of one
 * message: identifier alignment, the Organizational Domain, the DMARC
 * result, and the Authentication-Results header field.  Pure.
 *
 * RFC 9989 (DMARC):
 *  - 3.2.10 alignment: strict = the two domains are equal; relaxed = their
 *    Organizational Domains are equal.  SPF uses the MAIL FROM domain (or
 *    HELO for the null sender), DKIM each signature's d=.
 *  - 4.10.2 Organizational Domain, from the DNS tree walk of a domain
 *    (every name of lm_dmarc_walk, each with or without a valid record and
 *    its psd= value): the first record with psd=n is the Org Domain; a
 *    record with psd=y (other than at the starting name) makes the name one
 *    label below it the Org Domain; otherwise the record found with the
 *    fewest labels; with no record at all, the starting domain itself.
 *  - 4.4 result: pass when an aligned SPF pass or an aligned DKIM pass
 *    exists; otherwise none when there is no policy record, temperror when
 *    a temporary error could have changed the result, else fail.
 * RFC 8601 (Authentication-Results): the authserv-id is the first token of
 * the value; lm_authres_build() writes our header field with spf, one dkim
 * entry per signature (header.d, header.s) and dmarc (header.from, policy).
 *
 * Ownership: plain structs; output goes to caller-owned lm_buf.
 */
#ifndef LM_AUTH_H
#define LM_AUTH_H

#include <stddef.h>

#include "lm_buf.h"
#include "lm_dmarc.h"

enum lm_ares {			/* SPF and DKIM results, RFC 8601 2.7 */
	LM_AR_NONE = 0,
	LM_AR_PASS,
	LM_AR_FAIL,
	LM_AR_SOFTFAIL,		/* SPF only */
	LM_AR_NEUTRAL,
	LM_AR_POLICY,		/* DKIM only: expired, key too small */
	LM_AR_TEMPERROR,
	LM_AR_PERMERROR
};

enum lm_dmres {
	LM_DM_NONE = 0,
	LM_DM_PASS,
	LM_DM_FAIL,
	LM_DM_TEMPERROR,
	LM_DM_PERMERROR
};

#define LM_AUTH_MAXSIGS	16

struct lm_auth_sig {
	enum lm_ares res;
	char	 domain[256];	/* d= */
	char	 selector[128];
	int	 aligned;	/* with the From domain, per adkim */
	int	 survives;	/* still valid after the list's own changes */
};

struct lm_auth {
	int	 evaluated;		/* SPF/DKIM were run */
	enum lm_ares spf;
	char	 spf_domain[256];
	int	 spf_helo;		/* identity was HELO */
	int	 spf_aligned;
	size_t	 nsigs;
	struct lm_auth_sig sig[LM_AUTH_MAXSIGS];
	enum lm_dmres dmarc;
};

/* Organizational Domain from a tree walk: names[0..n) as lm_dmarc_walk
   gave them, has[i] whether names[i] has one valid record, psd[i] its
   psd= value.  Returns the index into names, or -1 for "the starting
   domain itself" (no record anywhere) -- callers then use names[0]. */
int	 lm_auth_orgdomain(char names[][256], const int *has, const char *psd,
	    int n, char *out, size_t outsz);

/* Alignment of id with from: mode 's' or 'r'; the org domains are needed
   only for relaxed mode (may be NULL when the domains are equal). */
int	 lm_auth_aligned(const char *from, const char *id, char mode,
	    const char *org_from, const char *org_id);

/* DMARC result from the facts (policy lookup outcome as enum lm_lookup
   values: 0 found, 1 none, 2 tempfail, 3 bad domain). */
enum lm_dmres lm_auth_dmarc(const struct lm_auth *, int lookup);

/* Does a signature with this h= list survive a list that adds the header
   fields named in `added` (':'-separated, lower case)?  A signature that
   signs a field name we add (oversigning, RFC 6376 5.4.2) breaks. */
int	 lm_auth_survives(const char *h, const char *added);

/* The Authentication-Results value (leading space included). */
int	 lm_authres_build(const char *authservid, const struct lm_auth *,
	    const char *from_domain, const char *policy, lm_buf *out);

/* The authserv-id of an Authentication-Results value (RFC 8601 2.2),
   lower-cased into out; 0, or -1 if there is none. */
int	 lm_authres_servid(const char *value, size_t len, char *out,
	    size_t outsz);

/* The dmarc result and header.from of an Authentication-Results value
   (RFC 8601 2.2: resinfo "dmarc=RESULT ... header.from=DOMAIN").  0 and
   *res / from (lower case) set, or -1 when it has no dmarc resinfo. */
int	 lm_authres_dmarc(const char *value, size_t len, enum lm_dmres *res,
	    char *from, size_t fromsz);

/* Is id (any case) in the comma/space separated list? */
int	 lm_authres_listed(const char *list, const char *id);

const char *lm_ares_name(enum lm_ares);
const char *lm_dmres_name(enum lm_dmres);

#endif
