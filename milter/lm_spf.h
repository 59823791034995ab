/*
 * lm_spf - SPF (RFC 7208) for the envelope sender, with libspf2.
 *
 * libspf2 evaluates; its DNS goes through our libunbound resolver
 * (lm_dns) via a custom SPF_dns_server_t layer (libraries.md 4.2), with
 * the per-message deadline.  The RFC 7208 4.6.4 limits (10 DNS-querying
 * terms, 2 void lookups) are enforced.  Debian's libspf2 quirks are
 * mapped (libraries.md 8.2): INVALID with a DNS error -> temperror, with a
 * syntax error -> permerror; envelope brackets stripped; the null sender
 * checks the HELO identity (postmaster@helo, RFC 7208 2.4).  libspf2's
 * error handlers, which abort by default, are pointed at our logger.
 *
 * Ownership: one struct lm_spf per resolver (shared by all threads);
 * results are plain structs owned by the caller.
 */
#ifndef LM_SPF_H
#define LM_SPF_H

#include <stddef.h>
#include <time.h>

#include "lm_dns.h"

enum lm_spf_res {
	LM_SPF_NONE = 0,
	LM_SPF_NEUTRAL,
	LM_SPF_PASS,
	LM_SPF_FAIL,
	LM_SPF_SOFTFAIL,
	LM_SPF_TEMPERROR,
	LM_SPF_PERMERROR
};

struct lm_spf_result {
	enum lm_spf_res res;
	char	 domain[256];	/* the identity's domain (MAIL FROM or HELO) */
	int	 helo;		/* 1 if the HELO identity was checked */
	char	 reason[200];	/* short text for logs and A-R comments */
};

struct lm_spf;

struct lm_spf *lm_spf_new(struct lm_dns *, char *err, size_t errsz);
void	 lm_spf_free(struct lm_spf *);

/* Evaluate.  ip: client address text (IPv4 or IPv6); helo: HELO/EHLO
   argument (may be ""); mailfrom: envelope sender as the MTA gave it
   ("<a@b>", "a@b", "<>" or ""). */
void	 lm_spf_check(struct lm_spf *, const char *ip, const char *helo,
	    const char *mailfrom, const struct timespec *deadline,
	    struct lm_spf_result *);

const char *lm_spf_name(enum lm_spf_res);	/* "pass", "temperror", ... */

/* The CVE-2023-42118 guard the DNS layer applies to every TXT answer
   (libraries.md 8.4): -1 with a reason if txt[0..len) holds a macro
   libspf2 must not see ("%{" with a digit run of more than 3, or a term
   with more than 8 macros or over 200 octets with one) or an SPF record
   with an octet outside SP and VCHAR (a NUL libspf2 would silently cut
   at), else 0.  Pure; exposed for the unit test. */
int	 lm_spf_txt_check(const char *txt, size_t len, char *why,
	    size_t whysz);

#endif
