/*
 * keydecode - what one DKIM key decode costs in OpenSSL 3 (tests/bench).
 *
 * libopendkim 2.11 turns the p= of every DKIM key it verifies with into an
 * EVP_PKEY with d2i_PUBKEY_bio() (dkim.c, dkim_sig_process), which in
 * OpenSSL 3.0 runs the provider decoder framework; the legacy
 * d2i_RSA_PUBKEY() parses the same SubjectPublicKeyInfo directly.  This
 * times both, and one RSA-2048 PKCS#1 v1.5 SHA-256 verification, on a
 * key generated here.  Output: one "KEYDECODE" line, microseconds each.
 *
 * Usage: keydecode [iterations]
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static EVP_PKEY *
make_key(void)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	EVP_PKEY *k = NULL;

	if (c == NULL || EVP_PKEY_keygen_init(c) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048) <= 0 ||
	    EVP_PKEY_keygen(c, &k) <= 0) {
		fprintf(stderr, "keydecode: key generation failed\n");
		exit(1);
	}
	EVP_PKEY_CTX_free(c);
	return k;
}

int
main(int argc, char **argv)
{
	int i, n = argc > 1 ? atoi(argv[1]) : 2000, len;
	unsigned char *der = NULL, sig[512];
	size_t siglen = sizeof sig;
	EVP_PKEY *key = make_key();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	double t0, a, b, v;

	if (n < 1 || (len = i2d_PUBKEY(key, &der)) <= 0 || md == NULL)
		return 1;
	EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(md, sig, &siglen, (const unsigned char *)"x", 1);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		BIO *bio = BIO_new_mem_buf(der, len);

		EVP_PKEY_free(d2i_PUBKEY_bio(bio, NULL));
		BIO_free(bio);
	}
	a = (now_us() - t0) / n;
	t0 = now_us();
	for (i = 0; i < n; i++) {
		const unsigned char *p = der;

		RSA_free(d2i_RSA_PUBKEY(NULL, &p, len));
	}
	b = (now_us() - t0) / n;
	t0 = now_us();
	for (i = 0; i < n; i++) {
		EVP_MD_CTX_reset(md);
		if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
		    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)"x",
		    1) != 1)
			return 1;
	}
	v = (now_us() - t0) / n;
	printf("KEYDECODE d2i_PUBKEY_bio_us=%.1f d2i_RSA_PUBKEY_us=%.1f "
	    "rsa2048_verify_us=%.1f iterations=%d\n", a, b, v, n);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	OPENSSL_free(der);
	return 0;
}
