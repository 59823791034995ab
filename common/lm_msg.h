/*
 * lm_msg - the facts one message transaction collects: envelope, header
 * fields in arrival order, and (only when needed) the body.
 *
 * Header values are kept exactly as they follow the colon (RFC 5322 2.2),
 * with their leading whitespace and with the MTA's folds ("\n" or "\r\n"
 * followed by WSP), so the original can be reproduced byte for byte for
 * message/rfc822 wrapping (RFC 2046 5.2.1).  Limits: total header bytes
 * and field count are bounded by the caller's maximum; the body buffer by
 * its own maximum.  When a limit is hit the overflow flag is set and the
 * data is dropped (the decision then refuses or tempfails the message).
 *
 * Ownership: the struct owns all strings; lm_msg_reset() frees them but
 * keeps the limits.  Pure, no globals.
 */
#ifndef LM_MSG_H
#define LM_MSG_H

#include <stddef.h>

#include "lm_buf.h"

struct lm_hdr {
	char	*name;
	char	*value;		/* after the colon, leading space included */
	size_t	 vlen;
};

struct lm_msg {
	struct lm_hdr *h;
	size_t	 nh, caph;
	size_t	 hbytes, max_hbytes;
	int	 hdr_overflow;
	lm_buf	 body;		/* CRLF body, only filled when keep_body */
	int	 keep_body;
	int	 body_overflow;
	size_t	 body_seen;	/* bytes of body passed by, kept or not */
};

void	 lm_msg_init(struct lm_msg *, size_t max_hbytes, size_t max_body);
void	 lm_msg_reset(struct lm_msg *);
int	 lm_msg_addhdr(struct lm_msg *, const char *name, const char *value,
	    size_t vlen);		/* -1 on ENOMEM (limits only flag) */
int	 lm_msg_addbody(struct lm_msg *, const void *, size_t);
size_t	 lm_msg_count(const struct lm_msg *, const char *name);
/* nth (0-based) field of that name, or NULL */
const struct lm_hdr *lm_msg_get(const struct lm_msg *, const char *name,
	    size_t nth);
/* Append "Name:value\r\n" for every field to out, converting bare-LF
   folds to CRLF (the wire form of the original header section). */
int	 lm_msg_headers_wire(const struct lm_msg *, lm_buf *out);
/* Unfold and trim a value into out (folds removed, as RFC 5322 3.2.2). */
int	 lm_unfold(const char *v, size_t n, lm_buf *out);

#endif
