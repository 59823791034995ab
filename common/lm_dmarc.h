/*
 * lm_dmarc - DMARC policy records and policy discovery logic (pure).
 *
 * Follows RFC 9989 (DMARC, obsoletes RFC 7489):
 *  - 4.7 record format: "v=DMARC1" must be the first tag; tags are
 *    "name=value" separated by ';' with optional whitespace; unknown tags
 *    are ignored; pct, rf and ri are obsolete and ignored; tag names are
 *    case-insensitive, the version value is case-sensitive "DMARC1".
 *  - p, sp, np: none|quarantine|reject.  A missing or invalid p makes the
 *    record count as p=none (no enforcement requested); an invalid sp or
 *    np is ignored (falls back as if absent).
 *  - adkim/aspf r|s (default r), psd y|n|u (default u), t y|n (default n).
 *  - 4.10 DNS tree walk: query the Author Domain; then, when no single
 *    valid record was found, at most 7 more names: if the domain has 8 or
 *    more labels drop labels until 7 remain, otherwise drop one label;
 *    then keep dropping one label until the single-label name (a TLD can
 *    publish a PSD record, psd=y) has been queried.
 *  - Policy to apply: record found at the Author Domain itself -> p;
 *    found at a parent -> np if the Author Domain does not exist in DNS
 *    and np is present, else sp if present, else p.
 *
 * Ownership: plain structs, no allocation.  Never uses libopendmarc,
 * whose parser accepts records without v=DMARC1 and prefix values
 * (libraries.md 5.3).
 */
#ifndef LM_DMARC_H
#define LM_DMARC_H

#include <stddef.h>

enum lm_pol {
	LM_POL_UNSET = 0,	/* tag absent or invalid */
	LM_POL_NONE,
	LM_POL_QUARANTINE,
	LM_POL_REJECT
};

struct lm_dmarc_rec {
	enum lm_pol p, sp, np;
	char	 adkim, aspf;	/* 'r' or 's' */
	char	 psd;		/* 'y', 'n' or 'u' */
	int	 testing;	/* t=y */
};

/* 1 if the TXT string is a DMARC record candidate: starts with "v=DMARC1"
   followed by end, ';' or whitespace (RFC 9989 4.10 step 2). */
int	 lm_dmarc_is_record(const char *txt, size_t len);

/* Parse a record; 0 on success, -1 if it is not a DMARC1 record or the
   tag list is malformed (then *r is zeroed).  Bounded: records longer
   than 4096 bytes are refused. */
int	 lm_dmarc_parse(const char *txt, size_t len, struct lm_dmarc_rec *r);

/* Tree walk: fill names[] with the domains to query, in order, starting
   with `domain` itself (lower-cased, trailing dot removed).  Returns the
   count (1..8), or -1 if the domain is not a valid LDH domain name. */
#define LM_DMARC_WALK_MAX 8
int	 lm_dmarc_walk(const char *domain, char names[][256], int max);

/* Which policy applies (see above).  found_at_author: the record came
   from the Author Domain; nonexistent: the Author Domain has no A, AAAA
   or MX (NXDOMAIN or NODATA for all three). */
enum lm_pol lm_dmarc_policy(const struct lm_dmarc_rec *, int found_at_author,
	    int nonexistent, const char **tag_used);

const char *lm_pol_name(enum lm_pol);	/* "none", "quarantine", ... */

#endif
