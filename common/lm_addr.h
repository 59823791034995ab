/*
 * lm_addr - RFC 5322 address-list parser for From, Reply-To, Cc, To.
 *
 * Follows RFC 5322 sections 3.2 (lexical tokens, comments, quoted
 * strings), 3.4 (address, mailbox, group, angle-addr, addr-spec) and
 * RFC 6532 (UTF-8 in atoms and quoted strings).  Display names are
 * RFC 2047-decoded with lm_rfc2047 (encoded-words are only recognised as
 * whole atoms of a phrase, RFC 2047 section 5(3), where a run of atoms and
 * dots without white space counts as one atom so that a bare "." in a Q
 * word does not split it); decoding never creates syntax, so an encoded
 * "<a@b>" stays display text.  The display name is decoded but not
 * sanitized: an encoded-word may yield CR, LF or other controls, so it
 * must go through lm_sanitize_display() before it is re-emitted.
 *
 * The parser is deliberately strict where leniency is known to be
 * exploitable (Chen et al., "Composition Kills", USENIX Sec. 2020):
 * obsolete routes (<@a,@b:x@y>), quoted-pairs outside quoted strings,
 * an addr-spec after an angle-addr, unbalanced '<' '>' '"' '(',
 * NUL or other control characters, an empty local part or domain,
 * and invalid UTF-8 are all syntax errors.  Groups are parsed and
 * reported (has_group) so callers can refuse them.
 *
 * Pure and bounded: input longer than LM_ADDR_MAXIN or more than
 * LM_ADDR_MAXMB mailboxes is refused.  The caller owns the result and
 * frees it with lm_addrlist_free().  No globals.
 */
#ifndef LM_ADDR_H
#define LM_ADDR_H

#include <stddef.h>

#define LM_ADDR_MAXIN	(64 * 1024)	/* longest header value accepted */
#define LM_ADDR_MAXMB	1000		/* most mailboxes in one list */
#define LM_ADDR_MAXLOCAL 64		/* RFC 5321 4.5.3.1.1 */
#define LM_ADDR_MAXDOMAIN 255		/* RFC 5321 4.5.3.1.2 */

struct lm_mailbox {
	char	*display;	/* decoded display name (UTF-8), NULL if none */
	char	*local;		/* local part, unquoted form (quotes removed) */
	char	*domain;	/* domain as written ("[1.2.3.4]" for literals) */
	char	*addr;		/* addr-spec for output: local@domain, with
				   the local part re-quoted if it needs it */
	int	 literal;	/* domain is a domain-literal */
	int	 in_group;	/* mailbox sits inside a group */
};

struct lm_addrlist {
	struct lm_mailbox *mb;
	size_t	 n;
	int	 has_group;	/* a group ("name: ...;") was present */
	int	 empty_groups;	/* groups with no members ("x:;") */
};

enum lm_addr_err {
	LM_ADDR_OK = 0,
	LM_ADDR_EMPTY,		/* value holds no address at all */
	LM_ADDR_SYNTAX,		/* not RFC 5322 */
	LM_ADDR_TOOLONG,	/* input, local part, domain or count too big */
	LM_ADDR_NOMEM
};

/*
 * Parse an address-list.  `in` need not be NUL-terminated.  Folding
 * whitespace (CRLF or bare LF followed by WSP) is allowed anywhere FWS is.
 * On error, errbuf (if not NULL) receives a short English reason such as
 * "unbalanced angle bracket at offset 12"; *out is left empty.  A value
 * holding only empty groups ("undisclosed-recipients:;") is LM_ADDR_OK
 * with n == 0 and empty_groups > 0; LM_ADDR_EMPTY means only CFWS.
 */
enum lm_addr_err lm_addr_parse(const char *in, size_t len,
	    struct lm_addrlist *out, char *errbuf, size_t errsz);
void	 lm_addrlist_free(struct lm_addrlist *);

/* Case-insensitive comparison of two addr-specs (domain and local part;
   local parts are compared case-insensitively as every MTA here does). */
int	 lm_addr_same(const struct lm_mailbox *, const struct lm_mailbox *);

/*
 * Parse a bare address as seen in SMTP envelopes / milter arguments:
 * "<a@b>", "a@b", "<>" (null; *local and *domain set to NULL), with
 * optional surrounding whitespace, and an optional source route
 * "<@x,@y:a@b>" which is dropped (RFC 5321 4.1.2, obsolete).  Returns
 * 0 on success, -1 on syntax error.  Caller frees local/domain.
 */
int	 lm_addr_envelope(const char *in, size_t len, char **local,
	    char **domain);

#endif
