/*
 * lm_dkim - DKIM verification with libopendkim over our resolver
 * (see lm_dkim.h).
 *
 * Follows RFC 6376 3.5 (DKIM-Signature tags), 3.6.2 (key records in
 * DNS), 3.7 (l=, body length), 6.1 (verifier actions; a verifier may
 * limit the signatures it tries), 6.1.2 (no key record -> PERMFAIL,
 * query failure -> TEMPFAIL), RFC 8463 (ed25519-sha256), RFC 8301 (no
 * rsa-sha1, RSA keys of at least 1024 bits), RFC 8601 2.7.1 (result
 * names).  libopendkim specifics: libraries.md 4.1 and 7.
 *
 * DNS.  libopendkim's query hooks run over lm_dns: start = lm_dns_start,
 * waitreply = lm_dns_wait, cancel = lm_dns_cancel; waitreply hands
 * libopendkim the complete wire reply (answer_packet), which it parses
 * itself (NXDOMAIN -> no key, several TXT -> error, CNAMEs skipped).
 * SERVFAIL, other failing rcodes and timeouts are returned as errors
 * (temperror): libopendkim reads an empty SERVFAIL reply as "no key".  The
 * hooks see only the per-library service pointer (struct lm_dkim), never
 * the message, so the message's deadline cannot be passed to them.  Two
 * bounds instead, neither needing global or thread-local state:
 *   - per query: DKIM_OPTS_TIMEOUT (LM_DKIM_QTIMEOUT s), which libopendkim
 *     passes to waitreply as its relative timeout;
 *   - per message: a key-lookup callback (dkim_set_key_lookup), which
 *     libopendkim calls with the DKIM handle right before each key query.
 *     It finds the message with dkim_get_user_context() and
 *       + refuses the lookup (temperror) once the deadline has passed,
 *       + lets the hooks run if at least LM_DKIM_QTIMEOUT is left (the
 *         hook's own bound then ends before the deadline),
 *       + otherwise resolves the key name itself with the exact deadline
 *         (lm_dns_query) and lets the hooks run only if an answer came;
 *         they are then answered from libunbound's cache.
 *     So no key lookup outlives the deadline, except if the cache drops
 *     the record between the two lookups (then by one per-query bound).
 *     The price is a second, cached lookup (~0.1 ms) when less than
 *     LM_DKIM_QTIMEOUT is left.  Without a deadline (NULL) only the
 *     per-query bound applies.
 *   Installing a key-lookup callback switches off libopendkim's own q=
 *   check and leaves sig_query at -1 for unknown methods, which would hit
 *   an assert(0) in dkim_get_key(): DKIM_OPTS_QUERYMETHOD pins DNS and
 *   the callback rejects q= lists without dns/txt itself (neutral).
 *   Keys are fetched at end of message (DKIM_LIBFLAGS_DELAYSIGPROC): there
 *   a refused lookup skips to the next signature, at end of header it
 *   would abort the whole message.  DKIM_LIBFLAGS_BADSIGHANDLES keeps
 *   unparsable signatures in the list (reported neutral) and lets an
 *   unparsable From not stop verification.
 *
 * Work bound.  libopendkim has no option limiting the signatures it
 * verifies (no DKIM_OPTS_MAXVERIFY; the OpenDKIM daemon's
 * MaximumSignaturesToVerify is a prescreen callback with
 * dkim_sig_ignore()), and ignoring a signature does not stop its
 * canonicalisations: every header hash and one body hash per distinct
 * c=/a=/l= are still computed.  So lm_dkim_header() hands libopendkim at
 * most LM_DKIM_MAXSIGS DKIM-Signature fields (the first, i.e. most
 * recently added, ones) and drops the rest; a signature covering the
 * dropped fields in its h= then fails.  The prescreen callback ignores
 * rsa-sha1 signatures (no key query, no crypto); they are reported as
 * neutral.
 *
 * Verdicts per signature (lm_dkim.h): pass = DKIM_SIG_CHECK (PASSED and
 * body hash match); a header signature that verified with a body-hash
 * mismatch (an appended footer) is fail; expired, future or too small a
 * key -> policy; no key, revoked or unusable key record -> permerror;
 * key query failure or deadline -> temperror; a signature that does not
 * parse, rsa-sha1, q= without dns/txt -> neutral.
 *
 * Signing.  RSA keys: libopendkim (rsa-sha256).  Ed25519 keys: our own
 * code over OpenSSL (libopendkim 2.11.0~beta2 leaks the key on every
 * ed25519-sha256 signature): RFC 6376 3.4.2/3.4.4 relaxed/relaxed
 * (lm_canon), 3.5 tags v a c d s t h bh b in that order, folded with
 * "\n\t" before column 78, 3.7 hashing (the fields of h=, then our field
 * with b= empty and no CRLF), 5.4.2 h= (each signed field of the copy
 * top-down, a name as often as it occurs, verifiers select bottom-up),
 * 8.15 oversigning (one more of each lm_oversign_hdrs name, which
 * selects nothing), RFC 8463 3 (pure Ed25519 over the SHA-256 of the
 * header data).  The EVP_PKEY is parsed once at load and only read.
 *
 * Ownership: struct lm_dkim owns the DKIM_LIB and one reference to the
 * resolver, and is read-only after lm_dkim_new(); struct lm_dkim_ver owns
 * its DKIM handle, a copy of the queue id (libopendkim keeps the pointer)
 * and the field buffer.  No mutable globals.  Errors are returned, not
 * logged (hacking.md rule 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <strings.h>
#include <sys/time.h>

#include <opendkim/dkim.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unbound.h>

#include "lm_buf.h"
#include "lm_canon.h"
#include "lm_dkim.h"

#define LM_T_TXT		16
#define LM_DKIM_QTIMEOUT	5		/* seconds, one key query */
#define LM_DKIM_MINBITS		1024		/* RFC 8301 3.2 */
#define LM_DKIM_MAXFIELD	(256 * 1024)	/* one header field */

struct lm_dkim {
	DKIM_LIB	*lib;
	struct lm_dns	*dns;
};

enum ver_state { VS_HEADERS, VS_BODY, VS_NOBODY, VS_DONE, VS_FAILED };

/* A key lookup the key-lookup callback turned down, and why. */
struct refusal {
	const DKIM_SIGINFO *sig;
	enum lm_dkim_res res;
	const char	*why;
};

struct lm_dkim_ver {
	struct lm_dkim	*k;
	DKIM		*dkim;
	enum ver_state	 state;
	int		 has_deadline;
	struct timespec	 deadline;
	int		 nsigfields;	/* DKIM-Signature fields seen */
	int		 nrefused;
	struct refusal	 refused[LM_DKIM_MAXSIGS];
	lm_buf		 field;
	char		 qid[64];
};

/* One query of the hooks: lm_dns's handle and libopendkim's buffer. */
struct dkq {
	struct lm_dns_q	*q;		/* NULL once lm_dns_wait() took it */
	unsigned char	*buf;
	size_t		 buflen;
};

/* ---- query hooks ------------------------------------------------------- */

static int
hook_start(void *srv, int type, unsigned char *qname, unsigned char *buf,
    size_t buflen, void **qh)
{
	struct lm_dkim *k = srv;
	struct dkq *q;

	if ((q = calloc(1, sizeof *q)) == NULL)
		return DKIM_DNS_ERROR;
	if ((q->q = lm_dns_start(k->dns, (const char *)qname, type)) == NULL) {
		free(q);
		return DKIM_DNS_ERROR;
	}
	q->buf = buf;
	q->buflen = buflen;
	*qh = q;
	return DKIM_DNS_SUCCESS;
}

/* Absolute CLOCK_MONOTONIC deadline `to' from now. */
static void
deadline_in(struct timespec *dl, const struct timeval *to)
{
	clock_gettime(CLOCK_MONOTONIC, dl);
	if (to == NULL) {
		dl->tv_sec += LM_DKIM_QTIMEOUT;
		return;
	}
	dl->tv_sec += to->tv_sec;
	dl->tv_nsec += (long)to->tv_usec * 1000L;
	if (dl->tv_nsec >= 1000000000L) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000L;
	}
}

/* Give libopendkim the whole reply.  SERVFAIL, other failing rcodes and
   timeouts are errors here: libopendkim would read an empty SERVFAIL
   reply as "no key" (permanent) instead of a temporary failure. */
static int
hand_over(struct dkq *q, enum lm_dns_rc rc, const struct ub_result *res,
    size_t *bytes, int *dnssec)
{
	if (res == NULL)
		return DKIM_DNS_EXPIRED;
	if (rc == LM_DNS_TEMPFAIL || rc == LM_DNS_PERMFAIL ||
	    res->answer_len <= 0 || (size_t)res->answer_len > q->buflen)
		return DKIM_DNS_ERROR;
	memcpy(q->buf, res->answer_packet, (size_t)res->answer_len);
	if (bytes != NULL)
		*bytes = (size_t)res->answer_len;
	if (dnssec != NULL)
		*dnssec = res->secure ? DKIM_DNSSEC_SECURE :
		    res->bogus ? DKIM_DNSSEC_BOGUS : DKIM_DNSSEC_INSECURE;
	return DKIM_DNS_SUCCESS;
}

static int
hook_wait(void *srv, void *qh, struct timeval *to, size_t *bytes,
    int *err, int *dnssec)
{
	struct dkq *q = qh;
	struct ub_result *res = NULL;
	struct timespec dl;
	enum lm_dns_rc rc;
	int ret;

	(void)srv;
	if (err != NULL)
		*err = 0;
	if (q->q == NULL)
		return DKIM_DNS_ERROR;
	deadline_in(&dl, to);
	rc = lm_dns_wait(q->q, &dl, &res);
	q->q = NULL;
	ret = hand_over(q, rc, res, bytes, dnssec);
	if (res != NULL)
		lm_dns_free(res);
	return ret;
}

static int
hook_cancel(void *srv, void *qh)
{
	struct dkq *q = qh;

	(void)srv;
	if (q != NULL) {
		lm_dns_cancel(q->q);
		free(q);
	}
	return DKIM_DNS_SUCCESS;
}

/* All of them, right after dkim_init(): it leaves the nslist, config and
   trust-anchor pointers uninitialised (libraries.md 7.1). */
static void
set_dns_hooks(struct lm_dkim *k)
{
	dkim_dns_set_init(k->lib, NULL);
	dkim_dns_set_close(k->lib, NULL);
	dkim_dns_set_nslist(k->lib, NULL);
	dkim_dns_set_config(k->lib, NULL);
	dkim_dns_set_trustanchor(k->lib, NULL);
	(void)dkim_dns_set_query_service(k->lib, k);
	dkim_dns_set_query_start(k->lib, hook_start);
	dkim_dns_set_query_waitreply(k->lib, hook_wait);
	dkim_dns_set_query_cancel(k->lib, hook_cancel);
}

/* ---- per-message gate in front of the hooks ---------------------------- */

static DKIM_CBSTAT
refuse(struct lm_dkim_ver *v, const DKIM_SIGINFO *sig, enum lm_dkim_res res,
    const char *why, DKIM_CBSTAT st)
{
	if (v->nrefused < LM_DKIM_MAXSIGS) {
		v->refused[v->nrefused].sig = sig;
		v->refused[v->nrefused].res = res;
		v->refused[v->nrefused].why = why;
		v->nrefused++;
	}
	return st;
}

/* q= absent, or a colon-separated list naming dns/txt (RFC 6376 3.5). */
static int
query_method_ok(const unsigned char *q)
{
	const char *p = (const char *)q, *e;
	size_t n;

	if (p == NULL)
		return 1;
	for (;;) {
		p += strspn(p, " \t\r\n");
		e = p + strcspn(p, ":");
		n = (size_t)(e - p);
		while (n > 0 && strchr(" \t\r\n", p[n - 1]) != NULL)
			n--;
		if (lm_strcaseeq(p, n, "dns/txt", 7))
			return 1;
		if (*e == '\0')
			return 0;
		p = e + 1;
	}
}

static long
ms_left(const struct timespec *dl)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(dl->tv_sec - now.tv_sec) * 1000L +
	    (dl->tv_nsec - now.tv_nsec) / 1000000L;
}

/* Less than one per-query bound left: resolve with the exact deadline
   first, so that the hooks only ever read an answer from the cache. */
static DKIM_CBSTAT
prefetch(struct lm_dkim_ver *v, DKIM_SIGINFO *sig)
{
	char name[DKIM_MAXHOSTNAMELEN + 1];
	struct ub_result *res = NULL;
	enum lm_dns_rc rc;
	int n;

	n = snprintf(name, sizeof name, "%s.%s.%s",
	    (const char *)dkim_sig_getselector(sig), DKIM_DNSKEYNAME,
	    (const char *)dkim_sig_getdomain(sig));
	if (n < 0 || (size_t)n >= sizeof name)
		return DKIM_CBSTAT_DEFAULT;	/* libopendkim refuses it */
	rc = lm_dns_query(v->k->dns, name, LM_T_TXT, &v->deadline, &res);
	if (res != NULL)
		lm_dns_free(res);
	if (rc == LM_DNS_TEMPFAIL)
		return refuse(v, sig, LM_DKIM_TEMPERROR, "key query: no "
		    "answer before the message deadline", DKIM_CBSTAT_TRYAGAIN);
	if (rc == LM_DNS_PERMFAIL)
		return refuse(v, sig, LM_DKIM_TEMPERROR, "key query failed",
		    DKIM_CBSTAT_TRYAGAIN);
	return DKIM_CBSTAT_DEFAULT;
}

/* dkim_set_key_lookup() callback: runs before each key query. */
static DKIM_CBSTAT
key_gate(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct lm_dkim_ver *v = dkim_get_user_context(dkim);
	long left;

	(void)buf;
	(void)buflen;
	if (v == NULL)
		return DKIM_CBSTAT_ERROR;
	if (!query_method_ok(dkim_sig_gettagvalue(sig, 0, (u_char *)"q")))
		return refuse(v, sig, LM_DKIM_NEUTRAL, "q= names no supported "
		    "query method", DKIM_CBSTAT_ERROR);
	if (!v->has_deadline)
		return DKIM_CBSTAT_DEFAULT;
	if ((left = ms_left(&v->deadline)) <= 0)
		return refuse(v, sig, LM_DKIM_TEMPERROR, "key query skipped: "
		    "message deadline passed", DKIM_CBSTAT_TRYAGAIN);
	if (left >= LM_DKIM_QTIMEOUT * 1000L)
		return DKIM_CBSTAT_DEFAULT;
	return prefetch(v, sig);
}

/* dkim_set_prescreen() callback: rsa-sha1 is never valid (RFC 8301).
   Judged by the a= text: signatures that already failed to parse (say,
   an expired x=) carry signalg 0, which is DKIM_SIGN_RSASHA1. */
static DKIM_CBSTAT
prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	const unsigned char *a;
	int i;

	(void)dkim;
	for (i = 0; i < nsigs; i++) {
		a = dkim_sig_gettagvalue(sigs[i], 0, (u_char *)"a");
		if (dkim_sig_geterror(sigs[i]) == DKIM_SIGERROR_UNKNOWN &&
		    a != NULL && strcasecmp((const char *)a, "rsa-sha1") == 0)
			dkim_sig_ignore(sigs[i]);
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* ---- library handle ----------------------------------------------------- */

static int
set_options(DKIM_LIB *lib, char *err, size_t errsz)
{
	/* never DKIM_LIBFLAGS_SIGNLEN (l= when signing) */
	u_int flags = DKIM_LIBFLAGS_DELAYSIGPROC | DKIM_LIBFLAGS_BADSIGHANDLES;
	u_int timeout = LM_DKIM_QTIMEOUT, bits = LM_DKIM_MINBITS;
	dkim_query_t qm = DKIM_QUERY_DNS;

	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof flags) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &timeout,
	    sizeof timeout) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits,
	    sizeof bits) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm,
	    sizeof qm) != DKIM_STAT_OK)
		return snprintf(err, errsz, "libopendkim: cannot set "
		    "options"), -1;
	if (!dkim_libfeature(lib, DKIM_FEATURE_ED25519) ||
	    !dkim_libfeature(lib, DKIM_FEATURE_SHA256))
		return snprintf(err, errsz, "libopendkim lacks ed25519-sha256 "
		    "or rsa-sha256 support"), -1;
	return 0;
}

static int sign_options(DKIM_LIB *);

struct lm_dkim *
lm_dkim_new(struct lm_dns *dns, char *err, size_t errsz)
{
	struct lm_dkim *k;

	if (errsz > 0)
		err[0] = '\0';
	if ((k = calloc(1, sizeof *k)) == NULL)
		return snprintf(err, errsz, "out of memory"), NULL;
	if ((k->lib = dkim_init(NULL, NULL)) == NULL) {
		free(k);
		return snprintf(err, errsz, "dkim_init failed"), NULL;
	}
	set_dns_hooks(k);
	k->dns = lm_dns_ref(dns);
	if (set_options(k->lib, err, errsz) != 0 || sign_options(k->lib) != 0 ||
	    dkim_set_prescreen(k->lib, prescreen) != DKIM_STAT_OK ||
	    dkim_set_key_lookup(k->lib, key_gate) != DKIM_STAT_OK) {
		if (err[0] == '\0')
			snprintf(err, errsz, "libopendkim: cannot set "
			    "callbacks");
		lm_dkim_free(k);
		return NULL;
	}
	return k;
}

void
lm_dkim_free(struct lm_dkim *k)
{
	if (k == NULL)
		return;
	dkim_close(k->lib);
	lm_dns_unref(k->dns);
	free(k);
}

/* ---- one message -------------------------------------------------------- */

struct lm_dkim_ver *
lm_dkim_ver_new(struct lm_dkim *k, const char *qid,
    const struct timespec *deadline)
{
	struct lm_dkim_ver *v;
	DKIM_STAT st;

	if ((v = calloc(1, sizeof *v)) == NULL)
		return NULL;
	v->k = k;
	lm_strlcpy(v->qid, qid != NULL ? qid : "", sizeof v->qid);
	if (deadline != NULL) {
		v->has_deadline = 1;
		v->deadline = *deadline;
	}
	lm_buf_init(&v->field, LM_DKIM_MAXFIELD);
	v->dkim = dkim_verify(k->lib, (const u_char *)v->qid, NULL, &st);
	if (v->dkim == NULL) {
		free(v);
		return NULL;
	}
	dkim_set_user_context(v->dkim, v);
	return v;
}

void
lm_dkim_ver_free(struct lm_dkim_ver *v)
{
	if (v == NULL)
		return;
	dkim_free(v->dkim);
	lm_buf_free(&v->field);
	free(v);
}

/* "Name:" [" "] value, every LF not after a CR made CRLF, no final CRLF
   (libraries.md 7.2).  The space is added unless the value starts with
   white space or a fold (SMFIP_HDR_LEADSPC keeps the original one). */
static int
build_field(lm_buf *b, const char *name, const char *value, size_t vlen)
{
	const char *lf;
	size_t i, nl;

	lm_buf_reset(b);
	if (lm_buf_adds(b, name) != 0 || lm_buf_addc(b, ':') != 0)
		return -1;
	if ((vlen == 0 || memchr(" \t\r\n", value[0], 4) == NULL) &&
	    lm_buf_addc(b, ' ') != 0)
		return -1;
	for (i = 0; i < vlen; i = nl + 1) {
		lf = memchr(value + i, '\n', vlen - i);
		nl = lf != NULL ? (size_t)(lf - value) : vlen;
		if (nl > i && lm_buf_add(b, value + i, nl - i) != 0)
			return -1;
		if (lf == NULL)
			break;
		if ((nl == 0 || value[nl - 1] != '\r') &&
		    lm_buf_addc(b, '\r') != 0)
			return -1;
		if (lm_buf_addc(b, '\n') != 0)
			return -1;
	}
	return 0;
}

int
lm_dkim_header(struct lm_dkim_ver *v, const char *name, const char *value,
    size_t vlen)
{
	DKIM_STAT st;

	if (v->state != VS_HEADERS)
		return -1;
	if (strcasecmp(name, "DKIM-Signature") == 0 &&
	    v->nsigfields++ >= LM_DKIM_MAXSIGS)
		return 0;		/* over the cap: never seen */
	if (build_field(&v->field, name, value, vlen) != 0)
		return -1;
	st = dkim_header(v->dkim, (u_char *)v->field.s, v->field.len);
	/* SYNTAX: a field libopendkim cannot use; it is left out */
	return st == DKIM_STAT_OK || st == DKIM_STAT_SYNTAX ? 0 : -1;
}

int
lm_dkim_eoh(struct lm_dkim_ver *v)
{
	DKIM_SIGINFO **sigs;
	DKIM_STAT st;
	int n = 0;

	if (v->state != VS_HEADERS)
		return -1;
	st = dkim_eoh(v->dkim);
	if (st == DKIM_STAT_OK) {
		v->state = VS_BODY;
		return 0;
	}
	if (st != DKIM_STAT_NOSIG) {
		v->state = VS_FAILED;
		return -1;
	}
	/* no signatures, or all ignored (still reported at eom) */
	v->state = VS_NOBODY;
	if (dkim_getsiglist(v->dkim, &sigs, &n) != DKIM_STAT_OK)
		n = 0;
	return n == 0 ? 1 : 0;
}

int
lm_dkim_body(struct lm_dkim_ver *v, const unsigned char *p, size_t n)
{
	if (v->state == VS_NOBODY)
		return 0;
	if (v->state != VS_BODY)
		return -1;
	if (n == 0)
		return 0;
	return dkim_body(v->dkim, (u_char *)p, n) == DKIM_STAT_OK ? 0 : -1;
}

/* ---- results ------------------------------------------------------------ */

static const struct {
	int		 err;
	enum lm_dkim_res res;
} err_class[] = {
	{ DKIM_SIGERROR_EXPIRED, LM_DKIM_POLICY },
	{ DKIM_SIGERROR_FUTURE, LM_DKIM_POLICY },
	{ DKIM_SIGERROR_KEYTOOSMALL, LM_DKIM_POLICY },
	{ DKIM_SIGERROR_BADSIG, LM_DKIM_FAIL },
	{ DKIM_SIGERROR_TOOLARGE_L, LM_DKIM_FAIL },
	{ DKIM_SIGERROR_MBSFAILED, LM_DKIM_FAIL },
	{ DKIM_SIGERROR_KEYFAIL, LM_DKIM_TEMPERROR },
	{ DKIM_SIGERROR_NOKEY, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_KEYREVOKED, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_DNSSYNTAX, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_MULTIREPLY, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_KEYVERSION, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_KEYUNKNOWNHASH, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_KEYHASHMISMATCH, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_NOTEMAILKEY, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_KEYTYPEMISSING, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_KEYTYPEUNKNOWN, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_KEYDECODE, LM_DKIM_PERMERROR },
	{ DKIM_SIGERROR_SUBDOMAIN, LM_DKIM_PERMERROR },
};

/* Everything else is a broken or unsupported signature. */
static enum lm_dkim_res
classify(int err)
{
	size_t i;

	for (i = 0; i < sizeof err_class / sizeof err_class[0]; i++)
		if (err_class[i].err == err)
			return err_class[i].res;
	return LM_DKIM_NEUTRAL;
}

static const struct refusal *
refusal_of(const struct lm_dkim_ver *v, const DKIM_SIGINFO *sig)
{
	int i;

	for (i = 0; i < v->nrefused; i++)
		if (v->refused[i].sig == sig)
			return &v->refused[i];
	return NULL;
}

static void
verdict(struct lm_dkim_sig *o, enum lm_dkim_res res, const char *why)
{
	o->res = res;
	lm_strlcpy(o->error, why != NULL ? why : "", sizeof o->error);
}

static void
judge(const struct lm_dkim_ver *v, DKIM_SIGINFO *s, struct lm_dkim_sig *o)
{
	const struct refusal *r = refusal_of(v, s);
	unsigned int flags = dkim_sig_getflags(s);
	int err = dkim_sig_geterror(s);

	if (r != NULL)
		verdict(o, r->res, r->why);
	else if (flags & DKIM_SIGFLAG_IGNORE)
		verdict(o, LM_DKIM_NEUTRAL, "rsa-sha1 is not accepted "
		    "(RFC 8301)");
	else if (DKIM_SIG_CHECK(s) && err == DKIM_SIGERROR_OK)
		verdict(o, LM_DKIM_PASS, "");
	else if ((flags & DKIM_SIGFLAG_PASSED) &&
	    dkim_sig_getbh(s) == DKIM_SIGBH_MISMATCH)
		verdict(o, LM_DKIM_FAIL, "body hash mismatch");
	else if (err == DKIM_SIGERROR_UNKNOWN &&
	    (flags & DKIM_SIGFLAG_PROCESSED) == 0)
		verdict(o, LM_DKIM_TEMPERROR, "not verified");
	else if (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN)
		verdict(o, LM_DKIM_FAIL, "signature did not verify");
	else
		verdict(o, classify(err), dkim_sig_geterrorstr(err));
}

static void
copy_tag(char *dst, size_t dsz, const unsigned char *val, int lower)
{
	lm_strlcpy(dst, val != NULL ? (const char *)val : "", dsz);
	if (lower)
		lm_lower(dst, strlen(dst));
}

/* h= without whitespace, lower case, names that do not fit left out. */
static void
copy_hdrs(char *dst, size_t dsz, const unsigned char *h)
{
	const char *p = (const char *)h, *e;
	size_t o = 0, n;

	dst[0] = '\0';
	for (; p != NULL && *p != '\0'; p = *e == ':' ? e + 1 : e) {
		p += strspn(p, " \t\r\n");
		e = p + strcspn(p, ":");
		n = strcspn(p, " \t\r\n:");
		if (n == 0 || o + n + (o > 0) >= dsz)
			continue;
		if (o > 0)
			dst[o++] = ':';
		memcpy(dst + o, p, n);
		o += n;
		dst[o] = '\0';
	}
	lm_lower(dst, o);
}

static void
sig_fill(const struct lm_dkim_ver *v, DKIM_SIGINFO *s, struct lm_dkim_sig *o)
{
	unsigned int bits = 0;

	memset(o, 0, sizeof *o);
	copy_tag(o->domain, sizeof o->domain, dkim_sig_getdomain(s), 1);
	copy_tag(o->selector, sizeof o->selector, dkim_sig_getselector(s), 0);
	copy_tag(o->algo, sizeof o->algo,
	    dkim_sig_gettagvalue(s, 0, (u_char *)"a"), 1);
	if (dkim_sig_getkeysize(s, &bits) == DKIM_STAT_OK)
		o->keybits = (int)bits;
	/* libopendkim counts RSA bits only; an ed25519 key that was
	   applied (PASSED, or a bad signature) has 256 */
	if (o->keybits == 0 && strcmp(o->algo, "ed25519-sha256") == 0 &&
	    ((dkim_sig_getflags(s) & DKIM_SIGFLAG_PASSED) != 0 ||
	    dkim_sig_geterror(s) == DKIM_SIGERROR_BADSIG))
		o->keybits = 256;
	o->l_tag = dkim_sig_gettagvalue(s, 0, (u_char *)"l") != NULL;
	copy_hdrs(o->hdrs, sizeof o->hdrs,
	    dkim_sig_gettagvalue(s, 0, (u_char *)"h"));
	judge(v, s, o);
}

int
lm_dkim_eom(struct lm_dkim_ver *v, struct lm_dkim_sig *sigs, int maxsigs)
{
	DKIM_SIGINFO **list;
	int i, n = 0;

	if (v->state != VS_BODY && v->state != VS_NOBODY)
		return -1;
	v->state = VS_DONE;
	(void)dkim_eom(v->dkim, NULL);	/* verdicts are read per signature */
	if (dkim_getsiglist(v->dkim, &list, &n) != DKIM_STAT_OK)
		return 0;
	if (maxsigs > LM_DKIM_MAXSIGS)
		maxsigs = LM_DKIM_MAXSIGS;
	for (i = 0; i < n && i < maxsigs; i++)
		sig_fill(v, list[i], &sigs[i]);
	return i;
}

const char *
lm_dkim_name(enum lm_dkim_res r)
{
	static const char *const names[] = { "pass", "fail", "neutral",
	    "policy", "temperror", "permerror" };

	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

/* ---- signing -------------------------------------------------------------- */

static const char *const lm_sign_hdrs[] = { "from", "reply-to", "subject",
	"date", "to", "cc", "message-id", "in-reply-to", "references",
	"mime-version", "content-type", "content-transfer-encoding",
	"list-id", "list-post", "list-help", "list-subscribe",
	"list-unsubscribe", "list-archive", "list-owner", "x-loop",
	"x-original-from", NULL };
static const char *const lm_oversign_hdrs[] = { "from", "reply-to",
	"subject", "to", "cc", NULL };

/* Never prompt for a pass phrase (encrypted keys are refused before). */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Parse the PEM once with OpenSSL: an RSA key goes to libopendkim as
   text, an Ed25519 key is signed with the EVP_PKEY (ed_sign). */
static int
key_parse(struct lm_dkim_key *k, char *err, size_t errsz)
{
	EVP_PKEY *pk = NULL;
	BIO *bio;
	int id;

	if ((bio = BIO_new_mem_buf(k->pem, (int)k->len)) != NULL)
		pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (pk == NULL)
		return snprintf(err, errsz, "signing key %s: cannot parse the "
		    "PEM private key", k->path), -1;
	id = EVP_PKEY_get_base_id(pk);
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pk);
		return snprintf(err, errsz, "signing key %s: not an RSA or "
		    "Ed25519 key", k->path), -1;
	}
	k->pkey = pk;
	k->ed25519 = id == EVP_PKEY_ED25519;
	return 0;
}

int
lm_dkim_key_load(const char *selector, const char *path,
    struct lm_dkim_key *k, char *err, size_t errsz)
{
	struct stat st;
	char *buf;
	FILE *fp;
	size_t n;

	memset(k, 0, sizeof *k);
	lm_strlcpy(k->selector, selector, sizeof k->selector);
	lm_strlcpy(k->path, path, sizeof k->path);
	if ((fp = fopen(path, "r")) == NULL || fstat(fileno(fp), &st) != 0) {
		snprintf(err, errsz, "signing key %s: %s", path,
		    strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	if ((st.st_mode & 006) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > 65536) {
		snprintf(err, errsz, "signing key %s: %s (mode %04o)", path,
		    !S_ISREG(st.st_mode) || st.st_size > 65536 ? "not a key "
		    "file" : "readable or writable by others; chmod o-rw",
		    (unsigned)(st.st_mode & 07777));
		fclose(fp);
		return -1;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	n = buf != NULL ? fread(buf, 1, (size_t)st.st_size, fp) : 0;
	fclose(fp);
	if (buf == NULL || strstr(buf, "PRIVATE KEY-----") == NULL ||
	    strstr(buf, "ENCRYPTED PRIVATE KEY") != NULL ||
	    strstr(buf, "Proc-Type: 4,ENCRYPTED") != NULL) {
		snprintf(err, errsz, "signing key %s: no unencrypted PEM "
		    "private key", path);
		free(buf);
		return -1;
	}
	k->pem = buf;
	k->len = n;
	if (key_parse(k, err, errsz) != 0) {
		lm_dkim_key_free(k);
		return -1;
	}
	return 0;
}

void
lm_dkim_key_free(struct lm_dkim_key *k)
{
	free(k->pem);
	k->pem = NULL;
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

static int
sign_options(DKIM_LIB *lib)
{
	return dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    (void *)lm_sign_hdrs, sizeof(char **)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	    (void *)lm_oversign_hdrs, sizeof(char **)) != DKIM_STAT_OK ?
	    -1 : 0;
}

/* The signature value without CRs, with our leading space. */
static int
sig_value(DKIM *d, lm_buf *out)
{
	u_char *val = NULL;
	size_t vlen = 0, i;

	if (dkim_getsighdr_d(d, strlen("DKIM-Signature: "), &val, &vlen) !=
	    DKIM_STAT_OK || val == NULL)
		return -1;
	if (lm_buf_addc(out, ' ') != 0)
		return -1;
	for (i = 0; i < vlen; i++)
		if (val[i] != '\r' && lm_buf_addc(out, val[i]) != 0)
			return -1;
	return 0;
}

static int
sign_feed(DKIM *d, const struct lm_msg *hdrs, const char *body, size_t blen)
{
	lm_buf f;
	size_t i;
	int r = 0;

	lm_buf_init(&f, LM_DKIM_MAXFIELD);
	for (i = 0; i < hdrs->nh && r == 0; i++)
		r = build_field(&f, hdrs->h[i].name, hdrs->h[i].value,
		    hdrs->h[i].vlen) != 0 || dkim_header(d, (u_char *)f.s,
		    f.len) != DKIM_STAT_OK;
	lm_buf_free(&f);
	if (r == 0 && dkim_eoh(d) != DKIM_STAT_OK)
		r = -1;
	if (r == 0 && blen > 0 && dkim_body(d, (u_char *)body, blen) !=
	    DKIM_STAT_OK)
		r = -1;
	if (r == 0 && dkim_eom(d, NULL) != DKIM_STAT_OK)
		r = -1;
	return r;
}

/* ---- ed25519-sha256 signing (RFC 8463), our own over OpenSSL ---------- */

#define LM_FOLD_COL	78		/* fold before this column */
#define LM_FOLD_IND	8		/* column after "\n\t" */
#define LM_ED_MAXHDR	(8 * 1024 * 1024)	/* canonical header data */

/* The field value being built, and the column its last line reached. */
struct fold {
	lm_buf	*b;
	size_t	 col;
};

/* Add tok, after a space (sp) or directly; fold first if it would pass
   LM_FOLD_COL. */
static int
fold_tok(struct fold *f, const char *tok, size_t n, int sp)
{
	if (f->col + (sp ? 1 : 0) + n > LM_FOLD_COL && f->col > LM_FOLD_IND) {
		if (lm_buf_add(f->b, "\n\t", 2) != 0)
			return -1;
		f->col = LM_FOLD_IND;
	} else if (sp) {
		if (lm_buf_addc(f->b, ' ') != 0)
			return -1;
		f->col++;
	}
	if (lm_buf_add(f->b, tok, n) != 0)
		return -1;
	f->col += n;
	return 0;
}

static int
fold_tag(struct fold *f, const char *tag, const char *val)
{
	char tok[512];
	int n;

	n = snprintf(tok, sizeof tok, "%s=%s;", tag, val);
	if (n < 0 || (size_t)n >= sizeof tok)
		return -1;
	return fold_tok(f, tok, (size_t)n, 1);
}

/* Base64 text, broken over lines anywhere (RFC 6376 3.5: FWS inside b=
   and bh= values is ignored). */
static int
fold_text(struct fold *f, const char *b64)
{
	size_t left = strlen(b64), room;

	while (left > 0) {
		room = f->col < LM_FOLD_COL ? LM_FOLD_COL - f->col : 0;
		if (room < 8)
			room = LM_FOLD_COL - LM_FOLD_IND;
		if (room > left)
			room = left;
		if (fold_tok(f, b64, room, 0) != 0)
			return -1;
		b64 += room;
		left -= room;
	}
	return 0;
}

/* " tag=" and its base64 value, then `end` (";" or ""). */
static int
fold_b64(struct fold *f, const char *tag, const char *b64, const char *end)
{
	char tok[8];

	snprintf(tok, sizeof tok, "%s=", tag);
	if (fold_tok(f, tok, strlen(tok), 1) != 0 || fold_text(f, b64) != 0)
		return -1;
	return end[0] != '\0' ? fold_tok(f, end, strlen(end), 0) : 0;
}

static const char *
sign_name(const char *name)
{
	size_t i;

	for (i = 0; lm_sign_hdrs[i] != NULL; i++)
		if (strcasecmp(lm_sign_hdrs[i], name) == 0)
			return lm_sign_hdrs[i];
	return NULL;
}

/* h= (RFC 6376 5.4.2): every signed field of the copy, top-down, a name
   as often as it occurs, then each oversigned name once more (8.15).
   *hl is allocated; the count is returned, -1 without memory. */
static long
pick_hdrs(const struct lm_msg *hdrs, const char ***hl)
{
	const char *nm;
	size_t i, n = 0;

	*hl = calloc(hdrs->nh + sizeof lm_oversign_hdrs /
	    sizeof lm_oversign_hdrs[0], sizeof **hl);
	if (*hl == NULL)
		return -1;
	for (i = 0; i < hdrs->nh; i++)
		if ((nm = sign_name(hdrs->h[i].name)) != NULL)
			(*hl)[n++] = nm;
	for (i = 0; lm_oversign_hdrs[i] != NULL; i++)
		(*hl)[n++] = lm_oversign_hdrs[i];
	return (long)n;
}

static int
fold_hlist(struct fold *f, const char *const *hl, long n)
{
	char tok[64];
	long i;
	int r;

	for (i = 0; i < n; i++) {
		r = snprintf(tok, sizeof tok, "%s%s%s", i == 0 ? "h=" : ":",
		    hl[i], i == n - 1 ? ";" : "");
		if (r < 0 || (size_t)r >= sizeof tok ||
		    fold_tok(f, tok, (size_t)r, i == 0) != 0)
			return -1;
	}
	return 0;
}

static int
b64_of(const unsigned char *p, size_t n, char *out, size_t outsz)
{
	if (outsz < 4 * ((n + 2) / 3) + 1)
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, p, (int)n) < 0 ? -1 : 0;
}

/* bh=: SHA-256 of the relaxed body (RFC 6376 3.7), base64. */
static int
body_hash(const char *body, size_t blen, char *b64, size_t b64sz)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	lm_buf c;
	int r;

	lm_buf_init(&c, 2 * blen + 3);	/* bare LFs become CRLF */
	r = lm_canon_body(&c, body, blen) != 0 ||
	    EVP_Digest(c.len > 0 ? c.s : "", c.len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || b64_of(md, mdlen, b64, b64sz) != 0;
	lm_buf_free(&c);
	return r ? -1 : 0;
}

/* The tags up to and including an empty "b=" (RFC 6376 3.5 order). */
static int
ed_tags(struct fold *f, const struct lm_dkim_key *key, const char *domain,
    const char *const *hl, long nh, const char *bh)
{
	char t[32];

	snprintf(t, sizeof t, "%lld", (long long)time(NULL));
	return fold_tag(f, "v", "1") != 0 ||
	    fold_tag(f, "a", "ed25519-sha256") != 0 ||
	    fold_tag(f, "c", "relaxed/relaxed") != 0 ||
	    fold_tag(f, "d", domain) != 0 ||
	    fold_tag(f, "s", key->selector) != 0 ||
	    fold_tag(f, "t", t) != 0 || fold_hlist(f, hl, nh) != 0 ||
	    fold_b64(f, "bh", bh, ";") != 0 || fold_b64(f, "b", "", "") != 0 ?
	    -1 : 0;
}

/* RFC 6376 3.7: the fields named in h=, each occurrence of a name taken
   from the bottom up (5.4.2; one that is not there adds nothing), then
   our DKIM-Signature field (b= empty) without its CRLF. */
static int
hdr_data(lm_buf *d, const struct lm_msg *hdrs, const char *const *hl,
    long nh, const char *sigval, size_t siglen)
{
	const struct lm_hdr *h;
	size_t cnt, used;
	long i, j;

	for (i = 0; i < nh; i++) {
		for (used = 0, j = 0; j < i; j++)
			used += hl[j] == hl[i];
		cnt = lm_msg_count(hdrs, hl[i]);
		if (used >= cnt)
			continue;
		h = lm_msg_get(hdrs, hl[i], cnt - 1 - used);
		if (h == NULL || lm_canon_header(d, h->name, h->value,
		    h->vlen) != 0)
			return -1;
	}
	if (lm_canon_header(d, "DKIM-Signature", sigval, siglen) != 0)
		return -1;
	lm_buf_truncate(d, d->len - 2);
	return 0;
}

/* RFC 8463 3: Ed25519 (pure, no digest of its own) over the SHA-256
   hash of the header data; b= base64. */
static int
ed_sig(const struct lm_dkim_key *key, const lm_buf *d, char *b64,
    size_t b64sz)
{
	unsigned char md[32], sig[64];
	unsigned int mdlen = 0;
	size_t slen = sizeof sig;
	EVP_MD_CTX *ctx;
	int r;

	if (EVP_Digest(d->s, d->len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	r = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &slen, md, mdlen) != 1 ||
	    b64_of(sig, slen, b64, b64sz) != 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r ? -1 : 0;
}

static int
ed_sign(const struct lm_dkim_key *key, const char *domain,
    const struct lm_msg *hdrs, const char *body, size_t blen, lm_buf *value)
{
	struct fold f = { value, strlen("DKIM-Signature:") };
	size_t start = value->len;
	char bh[64], b[128];
	const char **hl;
	lm_buf d;
	long nh;
	int r;

	if (body_hash(body, blen, bh, sizeof bh) != 0 ||
	    (nh = pick_hdrs(hdrs, &hl)) < 0)
		return -1;
	lm_buf_init(&d, LM_ED_MAXHDR);
	r = ed_tags(&f, key, domain, hl, nh, bh) != 0 ||
	    hdr_data(&d, hdrs, hl, nh, value->s + start, value->len - start) !=
	    0 || ed_sig(key, &d, b, sizeof b) != 0 ||
	    fold_text(&f, b) != 0;
	lm_buf_free(&d);
	free(hl);
	return r ? -1 : 0;
}

int
lm_dkim_sign(struct lm_dkim *k, const char *qid,
    const struct lm_dkim_key *key, const char *domain,
    const struct lm_msg *hdrs, const char *body, size_t blen, lm_buf *value,
    char *err, size_t errsz)
{
	DKIM_STAT st;
	DKIM *d;
	int r;

	if (key->ed25519) {
		if (ed_sign(key, domain, hdrs, body, blen, value) == 0)
			return 0;
		return snprintf(err, errsz, "DKIM signing with %s failed: "
		    "ed25519-sha256 signature not made (out of memory or "
		    "OpenSSL error)", key->path), -1;
	}
	d = dkim_sign(k->lib, (const u_char *)qid, NULL,
	    (dkim_sigkey_t)key->pem, (const u_char *)key->selector,
	    (const u_char *)domain, DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
	    DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL)
		return snprintf(err, errsz, "dkim_sign: %s",
		    dkim_getresultstr(st)), -1;
	r = sign_feed(d, hdrs, body, blen) != 0 || sig_value(d, value) != 0;
	if (r != 0)
		snprintf(err, errsz, "DKIM signing with %s failed: %s",
		    key->path, dkim_geterror(d) != NULL ? dkim_geterror(d) :
		    "libopendkim error");
	dkim_free(d);
	return r != 0 ? -1 : 0;
}
