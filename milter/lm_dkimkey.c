/*
 * lm_dkimkey - DKIM key records from PEM private keys (see lm_dkimkey.h).
 *
 * OpenSSL 3 EVP only: PEM_read_PrivateKey() reads PKCS#8 and traditional
 * ("BEGIN RSA PRIVATE KEY") files; i2d_PUBKEY() gives the RSA key's
 * SubjectPublicKeyInfo, EVP_PKEY_get_raw_public_key() the Ed25519 key's
 * 32 octets.  Published p= values are decoded with EVP_DecodeUpdate(),
 * which skips the white space RFC 6376 3.6.1 allows inside the value, and
 * compared as octets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lm_buf.h"
#include "lm_dkimkey.h"

/* Never prompt: an encrypted key is an error. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
derive(EVP_PKEY *pk, struct lm_dkimkey *key, char *err, size_t errsz)
{
	unsigned char *der = NULL;
	size_t len = sizeof key->pub;
	int n;

	key->bits = EVP_PKEY_get_bits(pk);
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
		lm_strlcpy(key->k, "ed25519", sizeof key->k);
		if (EVP_PKEY_get_raw_public_key(pk, key->pub, &len) != 1)
			return snprintf(err, errsz, "cannot get the Ed25519 "
			    "public key"), -1;
		key->publen = len;
		return 0;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return snprintf(err, errsz, "not an RSA or Ed25519 key (DKIM "
		    "knows only these, RFC 8463)"), -1;
	lm_strlcpy(key->k, "rsa", sizeof key->k);
	if ((n = i2d_PUBKEY(pk, &der)) <= 0 || (size_t)n > sizeof key->pub) {
		OPENSSL_free(der);
		return snprintf(err, errsz, "cannot encode the RSA public "
		    "key"), -1;
	}
	memcpy(key->pub, der, (size_t)n);
	key->publen = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

int
lm_dkimkey_load(const char *path, struct lm_dkimkey *key, char *err,
    size_t errsz)
{
	EVP_PKEY *pk;
	FILE *fp;
	int r;

	memset(key, 0, sizeof *key);
	if ((fp = fopen(path, "r")) == NULL)
		return snprintf(err, errsz, "cannot read %s: %s", path,
		    strerror(errno)), -1;
	pk = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
	fclose(fp);
	if (pk == NULL)
		return snprintf(err, errsz, "%s is not an unencrypted PEM "
		    "private key", path), -1;
	r = derive(pk, key, err, errsz);
	EVP_PKEY_free(pk);
	if (r == 0)
		(void)EVP_EncodeBlock((unsigned char *)key->p64, key->pub,
		    (int)key->publen);
	return r;
}

int
lm_dkimkey_record(const struct lm_dkimkey *key, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "v=DKIM1; k=%s; p=%s", key->k,
	    key->p64);

	return n >= 0 && (size_t)n < outsz ? 0 : -1;
}

/* --- the published record ------------------------------------------- */

struct keyrec {
	char	 v[16], k[16];
	char	 p[LM_DKIMKEY_MAXPUB * 2];	/* base64 as published */
	int	 has_p, p_long;
};

static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t' || **s == '\r' ||
	    **s == '\n'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' ||
	    (*e)[-1] == '\r' || (*e)[-1] == '\n'))
		(*e)--;
}

static void
copy_val(char *out, size_t outsz, const char *s, const char *e)
{
	size_t n = (size_t)(e - s) < outsz ? (size_t)(e - s) : outsz - 1;

	memcpy(out, s, n);
	out[n] = '\0';
}

/* One "tag=value" of [s, e). */
static void
tag(struct keyrec *r, const char *s, const char *e, int first)
{
	const char *eq = memchr(s, '=', (size_t)(e - s)), *ns = s, *ne;

	if (eq == NULL)
		return;
	ne = eq;
	trim(&ns, &ne);
	s = eq + 1;
	trim(&s, &e);
	if (ne - ns == 1 && *ns == 'v' && first)
		copy_val(r->v, sizeof r->v, s, e);
	else if (ne - ns == 1 && *ns == 'k')
		copy_val(r->k, sizeof r->k, s, e);
	else if (ne - ns == 1 && *ns == 'p') {
		r->has_p = 1;
		r->p_long = (size_t)(e - s) >= sizeof r->p;
		copy_val(r->p, sizeof r->p, s, e);
	}
}

static void
parse(struct keyrec *r, const char *txt, size_t len)
{
	const char *s = txt, *end = txt + len, *semi;
	int first = 1;

	memset(r, 0, sizeof *r);
	while (s < end) {
		semi = memchr(s, ';', (size_t)(end - s));
		if (semi == NULL)
			semi = end;
		tag(r, s, semi, first);
		first = 0;
		s = semi + 1;
	}
}

/* Base64 with white space to octets; the length, or -1. */
static int
decode(const char *b64, unsigned char *out, size_t outsz)
{
	EVP_ENCODE_CTX *ctx;
	int n = 0, m = 0, len = (int)strlen(b64);

	if ((size_t)len > outsz * 4 / 3 || (ctx = EVP_ENCODE_CTX_new()) ==
	    NULL)
		return -1;
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)b64,
	    len) < 0 || EVP_DecodeFinal(ctx, out + n, &m) != 1)
		n = -1, m = 0;
	EVP_ENCODE_CTX_free(ctx);
	return n < 0 ? -1 : n + m;
}

int
lm_dkimkey_match(const struct lm_dkimkey *key, const char *txt, size_t len,
    char *why, size_t whysz)
{
	unsigned char pub[LM_DKIMKEY_MAXPUB * 2];
	struct keyrec r;
	int n;

	parse(&r, txt, len);
	if (!r.has_p || (r.v[0] != '\0' && strcmp(r.v, "DKIM1") != 0))
		return -1;
	if (strcmp(r.k[0] != '\0' ? r.k : "rsa", key->k) != 0)
		return snprintf(why, whysz, "published key is k=%s, the "
		    "private key is %s", r.k[0] != '\0' ? r.k : "rsa",
		    key->k), 0;
	if (r.p[0] == '\0')
		return snprintf(why, whysz, "published key is revoked "
		    "(empty p=)"), 0;
	if (r.p_long || (n = decode(r.p, pub, sizeof pub)) < 0)
		return snprintf(why, whysz, "published p= is not valid "
		    "base64"), 0;
	if ((size_t)n != key->publen || memcmp(pub, key->pub, key->publen))
		return snprintf(why, whysz, "published key does not match "
		    "the private key"), 0;
	return 1;
}
