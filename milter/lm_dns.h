/*
 * lm_dns - the one resolver: libunbound with a hard per-query deadline.
 *
 * libunbound has no per-call timeout (libraries.md 3: a dead forwarder
 * answers SERVFAIL after 17 s).  So queries are asynchronous: one
 * dispatcher thread runs ub_process() whenever ub_fd() is readable, and
 * each caller waits on its own condition variable until the answer or
 * its deadline, then cancels.  One ub_ctx (one shared, bounded cache) per
 * resolver configuration; a configuration change on reload builds a new
 * resolver, the old one lives until its last user releases it.
 *
 * Configuration: Nameservers (ub_ctx_set_fwd for each), else the system
 * resolver (ub_ctx_resolvconf); UnboundConfigFile (ub_ctx_config);
 * TrustAnchorFile (ub_ctx_add_ta_file).  Cache limits are set here
 * (msg-cache-size, rrset-cache-size) so memory stays bounded.
 *
 * Cache: answers (data, NODATA, NXDOMAIN; not SERVFAIL or other
 * failures, not DNSSEC-bogus ones) are kept in an lm_cache of at most
 * 10,000 entries and 8 MB for their TTL (at most a day; RFC 2181 5.2,
 * RFC 2308 5), so a name asked again within its TTL costs no round trip
 * through libunbound's worker thread; a cached answer's ttl is what is
 * left of it.  libunbound's own cache stays behind it.
 *
 * Ownership: lm_dns_new() returns a resolver with one reference;
 * lm_dns_ref()/lm_dns_unref() are thread-safe.  Results of lm_dns_query()
 * and lm_dns_wait() are our own copies (struct ub_result laid out as
 * libunbound's) and belong to the caller, who frees them with
 * lm_dns_free(), never ub_resolve_free().
 */
#ifndef LM_DNS_H
#define LM_DNS_H

#include <time.h>

#include "lm_conf.h"

struct ub_result;
struct lm_dns;

enum lm_dns_rc {
	LM_DNS_OK = 0,		/* data present */
	LM_DNS_NXDOMAIN,
	LM_DNS_NODATA,
	LM_DNS_TEMPFAIL,	/* SERVFAIL, timeout, resolver error */
	LM_DNS_PERMFAIL		/* other rcodes (REFUSED, FORMERR, ...) */
};

struct lm_dns *lm_dns_new(const struct lm_config *, char *err, size_t errsz);
struct lm_dns *lm_dns_ref(struct lm_dns *);
void	 lm_dns_unref(struct lm_dns *);
/* Same DNS settings as the resolver was built from? */
int	 lm_dns_same_config(const struct lm_dns *, const struct lm_config *);

/* Resolve name/type (class IN) before the absolute CLOCK_MONOTONIC
   deadline.  *res is set for LM_DNS_OK and LM_DNS_NODATA/NXDOMAIN (may be
   NULL on failures). */
enum lm_dns_rc lm_dns_query(struct lm_dns *, const char *name, int type,
	    const struct timespec *deadline, struct ub_result **res);

/* The same in two steps, for libraries that start a query and wait for
   it later (libopendkim's query hooks): lm_dns_start() returns a handle
   or NULL; lm_dns_wait() waits until the deadline and always consumes
   the handle (a timed-out query is cancelled). */
struct lm_dns_q;
struct lm_dns_q *lm_dns_start(struct lm_dns *, const char *name, int type);
enum lm_dns_rc lm_dns_wait(struct lm_dns_q *, const struct timespec *deadline,
	    struct ub_result **res);
void	 lm_dns_cancel(struct lm_dns_q *);
void	 lm_dns_free(struct ub_result *);

/* Join the strings of one TXT rdata (RFC 1035 3.3.14) into out (NUL-
   terminated); returns the length or -1 if it does not fit. */
int	 lm_dns_txt_join(const char *rdata, int len, char *out, size_t outsz);

const char *lm_dns_rc_name(enum lm_dns_rc);
void	 lm_deadline(struct timespec *, long seconds);

#endif
