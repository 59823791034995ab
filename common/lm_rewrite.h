/*
 * lm_rewrite - turns a plan into the exact header and body edits.
 *
 * Munge (Mailman 3 semantics, prior-art.md 2.2, with the choices of
 * issue 3): From becomes one mailbox
 *     "<author name, else author local part> via <list name>" <list>
 * where the author name is RFC 2047-decoded, sanitized (lm_sanitize_
 * display), '@domain' inside it masked as '---' (Mailman), truncated, and
 * re-encoded as one quoted-string or RFC 2047 encoded-words
 * (lm_rfc2047_phrase), so attacker text can never add an address or a
 * header line.  X-Original-From keeps the original value.  reply=author:
 * the author joins Reply-To (existing addresses kept, no duplicates,
 * joined with ", "); reply=list: the list joins Reply-To and the author
 * joins Cc.  An unparseable existing Reply-To/Cc is replaced and kept as
 * X-Original-Reply-To / X-Original-Cc.
 *
 * Wrap (Mailman wrap_message, prior-art.md 2.3): outer headers keep only
 * Date, Subject, To, In-Reply-To, References, Precedence, List-*,
 * Archived-At (and Cc in reply=author mode), in order; everything else is
 * deleted; MIME-Version, a new Message-ID, the munged From, Reply-To/Cc,
 * Content-Type multipart/mixed are added; the body becomes a text/plain
 * part saying why plus a message/rfc822 part holding the original message
 * byte for byte (RFC 2046 5.2.1).
 *
 * Every list message also gets the trace header "X-Loop: <list address>"
 * (checked by lm_trace_matches() for loop detection), and, when inbound
 * authentication ran, our Authentication-Results field at the top (RFC
 * 8601 5: incoming fields that carry our authserv-id are forgeries and
 * are deleted first, from the highest index down, CVE-2022-48521).
 *
 * Edits follow milter semantics (libraries.md 2.5): CHG with a 1-based
 * index per field name (empty value deletes), ADD appends, INS at index.
 * Deletions of several fields of one name are emitted from the highest
 * index down.  Values carry their own leading space (SMFIP_HDR_LEADSPC)
 * and fold with "\n\t".  Ownership: lm_edits owns its strings;
 * lm_edits_free() releases them.  Pure, no globals.
 */
#ifndef LM_REWRITE_H
#define LM_REWRITE_H

#include "lm_buf.h"
#include "lm_decide.h"
#include "lm_msg.h"

#define LM_TRACE_HEADER "X-Loop"

enum lm_edit_op { LM_E_CHG, LM_E_ADD, LM_E_INS };

struct lm_edit {
	enum lm_edit_op op;
	char	*name;
	int	 idx;
	char	*value;		/* "" with LM_E_CHG deletes */
};

struct lm_edits {
	struct lm_edit *v;
	size_t	 n, cap;
	int	 replace_body;
	lm_buf	 body;		/* new CRLF body when replace_body */
};

struct lm_rewrite_in {
	const struct lm_msg *msg;
	const struct lm_facts *facts;
	const struct lm_plan *plan;
	const char *nonce;	/* random token for Message-ID/boundary */
	const char *hostname;	/* used in the wrap text */
	const char *authservid;	/* ours: such incoming A-R fields go */
	const char *authres;	/* our A-R value to insert, or NULL */
};

void	 lm_edits_init(struct lm_edits *);
/* Append one edit (the strings are copied); 0 or -1. */
int	 lm_edits_add(struct lm_edits *, enum lm_edit_op, const char *name,
	    int idx, const char *value);
void	 lm_edits_free(struct lm_edits *);

/* Build the edits for a PASS, MUNGE or WRAP plan.  0, or -1 with a
   reason (ENOMEM, size limit) in err. */
int	 lm_rewrite(const struct lm_rewrite_in *, struct lm_edits *,
	    char *err, size_t errsz);

/* The header section as the MTA will have it after the edits (Postfix
   cleanup semantics: CHG idx = nth field of that name, "" deletes, a
   missing field is appended; ADD appends; INS idx 0 = top).  out must be
   initialised with lm_msg_init(); 0, or -1 on ENOMEM / over its limit. */
int	 lm_edits_apply(const struct lm_msg *, const struct lm_edits *,
	    struct lm_msg *out);

/* 1 if a trace header value names the list address (case-insensitive). */
int	 lm_trace_matches(const char *value, size_t len, const char *list);

/* The new From value (leading space included), for tests and logs. */
int	 lm_munged_from(const struct lm_mailbox *author,
	    const struct lm_listref *list, lm_buf *out);

#endif
