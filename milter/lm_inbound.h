/*
 * lm_inbound - inbound authentication of one list message: SPF for the
 * envelope sender, DKIM for every signature, and the DMARC result with
 * RFC 9989 alignment, as facts for lm_decide (struct lm_auth).
 *
 * SPF runs at the end of the header section (it needs only the envelope
 * and the client address); DKIM is fed the collected header fields at the
 * end of the header section and the body as it passes, and finishes with
 * the key lookups at the end of the message.  Relaxed alignment compares
 * Organizational Domains, looked up only when an identifier differs from
 * the author domain.  Every signature's survival of the list's own
 * changes is judged against the header fields the list adds (X-Loop,
 * Authentication-Results): a signature over one of those breaks, and an
 * l= signature never counts as surviving.
 *
 * Ownership: struct lm_inbound lives in the connection's private data;
 * lm_inbound_reset() frees the verifier.  Nothing here is shared.
 */
#ifndef LM_INBOUND_H
#define LM_INBOUND_H

#include <time.h>

#include "lm_auth.h"
#include "lm_dkim.h"
#include "lm_msg.h"
#include "lm_policy.h"
#include "lm_spf.h"

#define LM_ADDED_FIELDS	"x-loop:authentication-results"

struct lm_inbound {
	int		 active;
	struct lm_spf_result spf;
	struct lm_dkim_ver *ver;
	int		 nosigs;	/* no DKIM-Signature at all */
	int		 dkim_failed;	/* the verifier itself failed */
};

struct lm_inbound_env {
	struct lm_spf	*spf;
	struct lm_dkim	*dkim;
	struct lm_dns	*dns;
	const char	*qid;
	const char	*ip;		/* client address, "" unknown */
	const char	*helo;
	const char	*mailfrom;	/* as the MTA gave it */
};

/* At end of headers: SPF, and DKIM fed with the header fields. */
void	 lm_inbound_start(struct lm_inbound *, const struct lm_inbound_env *,
	    const struct lm_msg *, const struct timespec *deadline);
/* Body chunk for DKIM (a verifier failure is recorded, see dkim_failed). */
void	 lm_inbound_body(struct lm_inbound *, const unsigned char *, size_t);
/* At end of message: results into *out, aligned against from_domain
   with the record's adkim/aspf (rec NULL: relaxed). */
void	 lm_inbound_finish(struct lm_inbound *, const struct lm_inbound_env *,
	    const char *from_domain, const struct lm_dmarc_rec *rec,
	    int lookup, const struct timespec *deadline, struct lm_auth *out);
void	 lm_inbound_reset(struct lm_inbound *);

#endif
