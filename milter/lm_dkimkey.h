/*
 * lm_dkimkey - the DKIM key record that belongs to a PEM private key, and
 * whether a published record carries the same key.
 *
 * RFC 6376 3.6.1 (key record tags v=, k=, p=; an empty p= is a revoked
 * key), RFC 8463 4.2 (k=ed25519: p= is the base64 of the 32-octet raw
 * public key) and RFC 6376 3.6.1 / RFC 8301 (k=rsa: p= is the base64 of
 * the DER SubjectPublicKeyInfo).  The key is read with OpenSSL 3's
 * PEM_read_PrivateKey(); an encrypted key is refused, never prompted for
 * (the daemon could not use it either).
 *
 * Ownership: plain caller-owned structs; OpenSSL objects never leave
 * lm_dkimkey.c.  No state.
 */
#ifndef LM_DKIMKEY_H
#define LM_DKIMKEY_H

#include <stddef.h>

#define LM_DKIMKEY_MAXPUB	1400	/* SPKI DER of an RSA 8192 key fits */

struct lm_dkimkey {
	char		 k[8];			/* "rsa" or "ed25519" */
	int		 bits;
	unsigned char	 pub[LM_DKIMKEY_MAXPUB];	/* SPKI DER or raw */
	size_t		 publen;
	char		 p64[LM_DKIMKEY_MAXPUB * 4 / 3 + 4];	/* base64 */
};

/* Read the PEM private key at path and derive its public half.  0, or -1
   with the reason in err. */
int	 lm_dkimkey_load(const char *path, struct lm_dkimkey *, char *err,
	    size_t errsz);

/* The TXT record text to publish: "v=DKIM1; k=rsa; p=...". */
int	 lm_dkimkey_record(const struct lm_dkimkey *, char *out, size_t outsz);

/* Compare one published TXT string with the key: 1 same key, 0 a key
   record with another key (why says how), -1 not a DKIM key record (no
   p= tag, or v= other than DKIM1). */
int	 lm_dkimkey_match(const struct lm_dkimkey *, const char *txt,
	    size_t len, char *why, size_t whysz);

#endif
