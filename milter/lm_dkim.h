/*
 * lm_dkim - DKIM verification (RFC 6376, RFC 8463 ed25519) with
 * libopendkim.
 *
 * Keys are fetched through our libunbound resolver (lm_dns) with
 * libopendkim's query hooks (libraries.md 4.1, 7.1): start issues an
 * asynchronous query, waitreply waits for it at most DKIM_OPTS_TIMEOUT;
 * the message's own deadline is enforced by a key-lookup callback that
 * reaches the message through dkim_get_user_context() (see lm_dkim.c).
 * Results are judged with DKIM_SIG_CHECK semantics: a signature passes only
 * if the header signature verified AND the body hash matched (an appended
 * footer leaves PASSED set with a body-hash mismatch, libraries.md 7.2).
 * Signatures with l= are reported (l_tag) because content can be added
 * after them.
 *
 * Ownership: one struct lm_dkim per resolver (the DKIM_LIB, shared by all
 * threads); one struct lm_dkim_ver per message, used by one thread at a
 * time, freed by lm_dkim_ver_free().
 */
#ifndef LM_DKIM_H
#define LM_DKIM_H

#include <stddef.h>
#include <time.h>

#include "lm_buf.h"
#include "lm_dns.h"
#include "lm_msg.h"

enum lm_dkim_res {
	LM_DKIM_PASS = 0,
	LM_DKIM_FAIL,		/* bad signature or body hash */
	LM_DKIM_NEUTRAL,	/* syntax error in the signature, unsupported */
	LM_DKIM_POLICY,		/* expired, future, key too small */
	LM_DKIM_TEMPERROR,	/* key lookup failed temporarily */
	LM_DKIM_PERMERROR	/* no key, revoked or broken key */
};

#define LM_DKIM_MAXSIGS	16	/* signatures evaluated per message */

struct lm_dkim_sig {
	enum lm_dkim_res res;
	char	 domain[256];	/* d= (lower case) */
	char	 selector[128];	/* s= */
	char	 algo[24];	/* "rsa-sha256", "ed25519-sha256" */
	int	 keybits;
	int	 l_tag;		/* signature has l= */
	char	 hdrs[512];	/* h= as signed, ':'-separated, lower case */
	char	 error[80];	/* libopendkim's reason, "" on pass */
};

struct lm_dkim;
struct lm_dkim_ver;

struct lm_dkim *lm_dkim_new(struct lm_dns *, char *err, size_t errsz);
void	 lm_dkim_free(struct lm_dkim *);

struct lm_dkim_ver *lm_dkim_ver_new(struct lm_dkim *, const char *qid,
	    const struct timespec *deadline);
/* One header field: name and value as the milter gives it (value with
   its leading space when SMFIP_HDR_LEADSPC, LF-only folds are fine). */
int	 lm_dkim_header(struct lm_dkim_ver *, const char *name,
	    const char *value, size_t vlen);
int	 lm_dkim_eoh(struct lm_dkim_ver *);	/* 0, 1 = no signatures,
						   -1 internal error */
int	 lm_dkim_body(struct lm_dkim_ver *, const unsigned char *, size_t);
/* Finish; fills up to LM_DKIM_MAXSIGS results, returns their count, or
   -1 on an internal error. */
int	 lm_dkim_eom(struct lm_dkim_ver *, struct lm_dkim_sig *sigs,
	    int maxsigs);
void	 lm_dkim_ver_free(struct lm_dkim_ver *);

const char *lm_dkim_name(enum lm_dkim_res);	/* "pass", "fail", ... */

/*
 * Signing (RFC 6376 5): the list's final copy, relaxed/relaxed, no l=,
 * d=<domain>; rsa-sha256 with libopendkim for RSA keys, ed25519-sha256
 * (RFC 8463) with our own code over OpenSSL for Ed25519 keys (lm_canon
 * canonicalizes; RFC 6376 3.7 hashing): Debian's libopendkim
 * 2.11.0~beta2 leaks the loaded key on every ed25519-sha256 signature it
 * makes (verification of ed25519 signatures is unaffected).
 * Signed fields: From, Reply-To, Subject, Date, To, Cc, Message-ID,
 * In-Reply-To, References, MIME-Version, Content-Type,
 * Content-Transfer-Encoding, List-*, X-Loop, X-Original-From; From,
 * Reply-To, Subject, To and Cc are oversigned (RFC 6376 8.15) so no
 * later hop can add a second one unnoticed.
 */
struct lm_dkim_key {
	char	 selector[64];
	char	 path[1024];
	char	*pem;		/* the key file's text (libopendkim's RSA key) */
	size_t	 len;
	void	*pkey;		/* EVP_PKEY, parsed once at load */
	int	 ed25519;	/* else RSA */
};

/* Read a PEM private key, RSA or Ed25519, refusing files that others can
   read or write (mode & 006), files that hold no unencrypted private key
   OpenSSL can parse, and other key types.  lm_dkim_key_free() releases
   the text and the EVP_PKEY (read-only after load, shared by threads). */
int	 lm_dkim_key_load(const char *selector, const char *path,
	    struct lm_dkim_key *, char *err, size_t errsz);
void	 lm_dkim_key_free(struct lm_dkim_key *);

/* The DKIM-Signature value (leading space, "\n\t" folds) over the header
   fields in `hdrs` (in order, as the MTA will deliver them) and the CRLF
   body.  0, or -1 with a reason. */
int	 lm_dkim_sign(struct lm_dkim *, const char *qid,
	    const struct lm_dkim_key *, const char *domain,
	    const struct lm_msg *hdrs, const char *body, size_t blen,
	    lm_buf *value, char *err, size_t errsz);

#endif
