/*
 * lm_dsn - delivery status notification parser (pure), so that what
 * comes back to a list's bounce address can be logged per recipient.
 *
 * Follows:
 *  - RFC 2045 5.1 Content-Type syntax (type "/" subtype *(";" parameter),
 *    names case-insensitive, token or quoted-string values, comments and
 *    folding whitespace anywhere between tokens); 5.2: a Content-Type
 *    that does not parse counts as text/plain (so: not a DSN).
 *  - RFC 2046 5.1.1 multipart bodies: preamble, "--" boundary delimiter
 *    lines with transport padding, the close delimiter, epilogue; the
 *    CRLF before a delimiter belongs to the delimiter.
 *  - RFC 6522 multipart/report with report-type=delivery-status (also
 *    report-type=global-delivery-status, RFC 6533 6).
 *  - RFC 3464 2 message/delivery-status, and RFC 6533 message/global-
 *    delivery-status (UTF-8): per-message fields, then blank-line
 *    separated per-recipient field groups.
 *  - RFC 2045 6.7 quoted-printable and 6.8 base64 for the status part
 *    (RFC 6533 allows both for message/global-delivery-status).
 *
 * Every string in struct lm_dsn is NUL-terminated, at most the array
 * size minus one bytes, and holds no byte below 0x20, no DEL, no CR or
 * LF and only valid, non-control UTF-8 (anything else becomes ' ' or
 * '?'): the values are meant for log lines.  Long values are cut at a
 * character boundary.
 *
 * Ownership: the caller owns the input and *out; the parser allocates
 * one buffer for the decoded status part and frees it before returning.
 * Pure C, no globals.
 */
#ifndef LM_DSN_H
#define LM_DSN_H

#include <stddef.h>

#define LM_DSN_MAXRCPT	32

struct lm_dsn_rcpt {
	char	 final_rcpt[320];	/* Final-Recipient, address type gone */
	char	 orig_rcpt[320];	/* Original-Recipient, same */
	char	 action[16];		/* failed|delayed|delivered|relayed|
					   expanded, lower case; "" if invalid */
	char	 status[16];		/* "5.7.26"; "" if absent or invalid */
	char	 remote_mta[256];	/* Remote-MTA, type ("dns;") gone */
	char	 diag[400];		/* Diagnostic-Code, type gone,
					   unfolded, whitespace collapsed */
};

struct lm_dsn {
	int	 is_dsn;		/* declared as a DSN (return 0 or -1) */
	char	 reporting_mta[256];	/* Reporting-MTA, type gone */
	char	 orig_envid[128];	/* Original-Envelope-Id */
	struct lm_dsn_rcpt r[LM_DSN_MAXRCPT];
	size_t	 n;			/* recipients in r[] */
	size_t	 more;			/* recipients beyond the maximum */
};

/*
 * content_type: the top-level Content-Type value (unfolded or not);
 * body: the CRLF body (bare LF line ends are accepted too), blen bytes,
 * no NUL termination needed.  Returns 0 and fills *out (is_dsn = 1) for
 * a multipart/report; report-type=delivery-status message; 1 when it is
 * not a DSN (*out zeroed, is_dsn = 0); -1 on a malformed one or when
 * memory is exhausted (*out zeroed but is_dsn = 1).
 *
 * Malformed: no, an invalid or a repeated boundary parameter, a repeated
 * report-type, no delivery-status part, an unknown or invalid
 * Content-Transfer-Encoding on it, or no per-recipient group with a
 * Final-Recipient in it.  Tolerated: a missing close delimiter (the body
 * may have been cut at the caller's limit; the last part then runs to
 * the end), a delivery-status part that is not the second part, unknown
 * fields and lines that are not fields, recipient groups without a
 * Final-Recipient (skipped), invalid Action or Status values (left "").
 */
int	 lm_dsn_parse(const char *content_type, size_t ctlen,
	    const char *body, size_t blen, struct lm_dsn *out);

#endif
