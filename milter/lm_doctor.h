/*
 * lm_doctor - the checks of listmilter-doctor(8): is the DNS of a list
 * domain ready for mail that listmilter rewrites?
 *
 * For one list (a "target": list domain, bounce address, signing key):
 *   spf    the bounce domain has exactly one SPF record (RFC 7208 4.5),
 *          it evaluates without permerror/temperror, and it gives "pass"
 *          for every outgoing address (lm_spf_check, mailfrom = the
 *          bounce address, HELO = the bounce domain);
 *   dkim   the signing key file is readable and not world-readable,
 *          the daemon's own loader accepts it (lm_dkim_key_load), and
 *          SELECTOR._domainkey.DOMAIN publishes its public key (RFC 6376
 *          3.6.1, RFC 8463; lm_dkimkey);
 *   dmarc  the list domain's policy (RFC 9989 4.10, lm_policy_lookup),
 *          and whether munged mail, From the list domain, can pass it:
 *          by SPF of an aligned bounce domain (equal, or equal
 *          Organizational Domains unless aspf=s) or by DKIM d=DOMAIN;
 *   mx     the bounce domain receives mail: MX (not a null MX, RFC
 *          7505), else A/AAAA (RFC 5321 5.1 implicit MX);
 *   ptr    every outgoing address has a PTR whose name resolves back to
 *          it (forward-confirmed reverse DNS).
 * Each finding is an item: status, check name, detail and a fix hint
 * (for instance the exact TXT record to publish).
 *
 * Ownership: the caller owns the environment (resolver, SPF context) and
 * the report; lm_doctor_free() releases the report's items.  Every DNS
 * query of one check shares one deadline of env->timeout seconds.
 */
#ifndef LM_DOCTOR_H
#define LM_DOCTOR_H

#include <stddef.h>

#include "lm_dns.h"
#include "lm_spf.h"

enum lm_doc_st { LM_DOC_OK = 0, LM_DOC_WARN, LM_DOC_FAIL };

struct lm_doc_item {
	enum lm_doc_st	 st;
	const char	*check;		/* "spf", "dkim", "dmarc", "mx", "ptr" */
	char		 detail[768];
	char		 fix[2048];	/* "" when there is nothing to do */
};

struct lm_doc_report {
	struct lm_doc_item *v;
	size_t		 n, cap;
	int		 oom;		/* an item could not be added */
};

/* What is checked for one list. */
struct lm_doc_target {
	char	 name[320];	/* as shown: list address or "@domain" */
	char	 domain[256];	/* list domain (d= of the signatures) */
	char	 bounce[320];	/* bounce address, "" with bounce=none */
	char	 selector[64];	/* "" when the list copies are not signed */
	char	 keypath[1024];
	int	 sign_none;	/* sign=none given explicitly */
};

struct lm_doc_env {
	struct lm_dns	*dns;
	struct lm_spf	*spf;
	long		 timeout;	/* seconds per check */
	const char *const *ips;		/* outgoing addresses (--ip) */
	int		 nips;
};

/* Run every check for one target, appending items to the report. */
void	 lm_doctor_run(const struct lm_doc_env *, const struct lm_doc_target *,
	    struct lm_doc_report *);
void	 lm_doctor_free(struct lm_doc_report *);

const char *lm_doctor_st_name(enum lm_doc_st);	/* "OK", "WARN", "FAIL" */

/* The reverse-DNS name of an IPv4 or IPv6 address ("4.3.2.1.in-addr.arpa");
   0, or -1 when ip is not an address. */
int	 lm_doctor_revname(const char *ip, char *out, size_t outsz);

#endif
