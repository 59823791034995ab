/*
 * lm_doctor - DNS readiness checks of one list (see lm_doctor.h).
 *
 * Texts that come from DNS (records quoted in a detail) are made
 * printable here, once, when an item is written: control octets become
 * '?'.  Fix hints that name a TXT record give it in zone-file syntax,
 * split into strings of at most 255 octets (RFC 1035 3.3.14), with '"'
 * and '\' escaped (RFC 1035 5.1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>

#include <unbound.h>

#include "lm_auth.h"
#include "lm_buf.h"
#include "lm_dkim.h"
#include "lm_dkimkey.h"
#include "lm_doctor.h"
#include "lm_policy.h"

#define T_A	1
#define T_PTR	12
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28

#define DOC_TXT_MAX	4100	/* joined TXT record */
#define DOC_MAX_NAMES	10	/* PTR names looked at (RFC 7208 4.6.4) */
/* Without --ip, the SPF record is still evaluated to find permerrors:
   for an address from MCAST-TEST-NET (RFC 5771), which no record
   authorises, so every term is looked at. */
#define DOC_PROBE_IP	"233.252.0.1"

/* --- the report ----------------------------------------------------- */

static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static struct lm_doc_item *
add(struct lm_doc_report *r, enum lm_doc_st st, const char *check,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct lm_doc_item *
add(struct lm_doc_report *r, enum lm_doc_st st, const char *check,
    const char *fmt, ...)
{
	struct lm_doc_item *it;
	va_list ap;
	size_t cap;

	if (r->n == r->cap) {
		cap = r->cap != 0 ? r->cap * 2 : 16;
		if ((it = realloc(r->v, cap * sizeof *it)) == NULL) {
			r->oom = 1;
			return NULL;
		}
		r->v = it;
		r->cap = cap;
	}
	it = &r->v[r->n++];
	memset(it, 0, sizeof *it);
	it->st = st;
	it->check = check;
	va_start(ap, fmt);
	(void)vsnprintf(it->detail, sizeof it->detail, fmt, ap);
	va_end(ap);
	printable(it->detail);
	return it;
}

/* Append to a NUL-terminated string in a fixed buffer (truncating). */
static void
appendf(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
appendf(char *out, size_t outsz, const char *fmt, ...)
{
	size_t o = strlen(out);
	va_list ap;

	if (o + 1 >= outsz)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(out + o, outsz - o, fmt, ap);
	va_end(ap);
}

static void
fix(struct lm_doc_item *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fix(struct lm_doc_item *it, const char *fmt, ...)
{
	va_list ap;

	if (it == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(it->fix, sizeof it->fix, fmt, ap);
	va_end(ap);
	printable(it->fix);
}

/* NAME. IN TXT "..." "..." (strings of at most 255 octets). */
static void
zone_txt(char *out, size_t outsz, const char *name, const char *text)
{
	size_t i, n = strlen(text);

	out[0] = '\0';
	appendf(out, outsz, "%s. IN TXT \"", name);
	for (i = 0; i < n; i++) {
		if (i > 0 && i % 255 == 0)
			appendf(out, outsz, "\" \"");
		appendf(out, outsz, "%s%c", text[i] == '"' ||
		    text[i] == '\\' ? "\\" : "", text[i]);
	}
	appendf(out, outsz, "\"");
}

void
lm_doctor_free(struct lm_doc_report *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

const char *
lm_doctor_st_name(enum lm_doc_st st)
{
	return st == LM_DOC_OK ? "OK" : st == LM_DOC_WARN ? "WARN" : "FAIL";
}

/* --- DNS helpers ---------------------------------------------------- */

typedef void (*txt_fn)(void *, const char *, size_t);

/* Call fn for each TXT record (strings joined) of name. */
static enum lm_dns_rc
txt_each(const struct lm_doc_env *env, const char *name, txt_fn fn,
    void *arg)
{
	struct ub_result *res = NULL;
	struct timespec dl;
	enum lm_dns_rc rc;
	char *txt;
	int i, n;

	if ((txt = malloc(DOC_TXT_MAX)) == NULL)
		return LM_DNS_TEMPFAIL;
	lm_deadline(&dl, env->timeout);
	rc = lm_dns_query(env->dns, name, T_TXT, &dl, &res);
	for (i = 0; rc == LM_DNS_OK && res->data[i] != NULL; i++)
		if ((n = lm_dns_txt_join(res->data[i], res->len[i], txt,
		    DOC_TXT_MAX)) >= 0)
			fn(arg, txt, (size_t)n);
	if (res != NULL)
		lm_dns_free(res);
	free(txt);
	return rc;
}

/* The uncompressed wire-format name d[0..len) as text, no final dot
   ("" for the root); -1 if malformed. */
static int
wire_name(const unsigned char *d, int len, char *out, size_t outsz)
{
	int p = 0, i;

	out[0] = '\0';
	while (p < len && d[p] != 0) {
		if (d[p] > 63 || p + 1 + d[p] > len)
			return -1;
		if (out[0] != '\0')
			appendf(out, outsz, ".");
		for (i = 1; i <= d[p]; i++)
			appendf(out, outsz, "%c", d[p + i]);
		p += 1 + d[p];
	}
	printable(out);
	return p < len ? 0 : -1;
}

static int
is_lookup_error(enum lm_dns_rc rc)
{
	return rc == LM_DNS_TEMPFAIL || rc == LM_DNS_PERMFAIL;
}

/* The domain SPF is checked for, and the MAIL FROM to check it with. */
static void
bounce_of(const struct lm_doc_target *t, char *dom, size_t domsz,
    char *from, size_t fromsz)
{
	const char *at = strrchr(t->bounce, '@');

	if (at != NULL) {
		lm_strlcpy(dom, at + 1, domsz);
		lm_strlcpy(from, t->bounce, fromsz);
	} else {
		lm_strlcpy(dom, t->domain, domsz);
		snprintf(from, fromsz, "postmaster@%s", t->domain);
	}
}

/* --- spf ------------------------------------------------------------ */

struct spf_recs {
	int	 n;
	char	 rec[1024];	/* the first one */
};

static void
spf_collect(void *arg, const char *txt, size_t len)
{
	struct spf_recs *s = arg;

	if (len < 6 || strncasecmp(txt, "v=spf1", 6) != 0 ||
	    (len > 6 && txt[6] != ' '))
		return;
	if (s->n++ == 0)
		lm_strlcpy(s->rec, txt, sizeof s->rec);
}

static const char *
mech(const char *ip)
{
	return strchr(ip, ':') != NULL ? "ip6" : "ip4";
}

/* The record with "ip4:IP" (or ip6) added first. */
static void
spf_with_ip(const char *rec, const char *ip, char *out, size_t outsz)
{
	snprintf(out, outsz, "%.6s %s:%s%s", rec, mech(ip), ip, rec + 6);
}

static void
spf_fresh(const struct lm_doc_env *env, const char *dom, char *out,
    size_t outsz)
{
	char rec[1024] = "v=spf1";
	int i;

	for (i = 0; i < env->nips; i++)
		appendf(rec, sizeof rec, " %s:%s", mech(env->ips[i]),
		    env->ips[i]);
	if (env->nips == 0)
		appendf(rec, sizeof rec, " ip4:ADDRESS");
	appendf(rec, sizeof rec, " -all");
	zone_txt(out, outsz, dom, rec);
	if (env->nips == 0)
		appendf(out, outsz, " (ADDRESS: the address this host sends "
		    "list mail from)");
}

/* permerror or temperror of an evaluation; 1 when reported. */
static int
spf_broken(const struct lm_spf_result *res, const char *dom,
    const struct spf_recs *s, struct lm_doc_report *r)
{
	struct lm_doc_item *it;

	if (res->res == LM_SPF_PERMERROR) {
		it = add(r, LM_DOC_FAIL, "spf", "SPF record of %s is invalid "
		    "(permerror: %s): \"%s\"", dom, res->reason, s->rec);
		fix(it, "correct the record; RFC 7208 section 4.6 gives "
		    "the syntax (a minimal one: v=spf1 ip4:ADDRESS -all)");
		return 1;
	}
	if (res->res == LM_SPF_TEMPERROR) {
		it = add(r, LM_DOC_WARN, "spf", "SPF evaluation for %s failed "
		    "temporarily (temperror: %s)", dom, res->reason);
		fix(it, "check that the name servers of %s and of every "
		    "include: answer, then run again", dom);
		return 1;
	}
	return 0;
}

/* One address; 1 when the record itself is broken (reported once). */
static int
spf_ip(const struct lm_doc_env *env, const char *ip, const char *dom,
    const char *from, const struct spf_recs *s, struct lm_doc_report *r)
{
	struct lm_spf_result res;
	struct lm_doc_item *it;
	struct timespec dl;
	char rec[1100];

	lm_deadline(&dl, env->timeout);
	lm_spf_check(env->spf, ip, dom, from, &dl, &res);
	if (spf_broken(&res, dom, s, r))
		return 1;
	if (res.res == LM_SPF_PASS) {
		add(r, LM_DOC_OK, "spf", "%s authorises %s for %s (\"%s\")",
		    dom, ip, from, s->rec);
		return 0;
	}
	it = add(r, LM_DOC_FAIL, "spf", "SPF of %s gives %s for %s, not pass "
	    "(\"%s\")", dom, lm_spf_name(res.res), ip, s->rec);
	spf_with_ip(s->rec, ip, rec, sizeof rec);
	if (it != NULL)
		zone_txt(it->fix, sizeof it->fix, dom, rec);
	return 0;
}

static void
check_spf(const struct lm_doc_env *env, const struct lm_doc_target *t,
    struct lm_doc_report *r)
{
	struct spf_recs s = { 0, "" };
	struct lm_spf_result res;
	struct lm_doc_item *it;
	struct timespec dl;
	char dom[256], from[320];
	enum lm_dns_rc rc;
	int i;

	bounce_of(t, dom, sizeof dom, from, sizeof from);
	if (is_lookup_error(rc = txt_each(env, dom, spf_collect, &s))) {
		it = add(r, LM_DOC_WARN, "spf", "TXT lookup of %s failed (%s)",
		    dom, lm_dns_rc_name(rc));
		fix(it, "check the name servers of %s, then run again", dom);
		return;
	}
	if (s.n == 0) {
		it = add(r, LM_DOC_FAIL, "spf", "bounce domain %s has no SPF "
		    "record", dom);
		if (it != NULL)
			spf_fresh(env, dom, it->fix, sizeof it->fix);
		return;
	}
	if (s.n > 1) {
		it = add(r, LM_DOC_FAIL, "spf", "bounce domain %s has %d SPF "
		    "records (permerror, RFC 7208 4.5)", dom, s.n);
		fix(it, "merge them into one TXT record");
		return;
	}
	for (i = 0; i < env->nips; i++)
		if (spf_ip(env, env->ips[i], dom, from, &s, r) != 0)
			break;
	if (env->nips > 0)
		return;
	lm_deadline(&dl, env->timeout);
	lm_spf_check(env->spf, DOC_PROBE_IP, dom, from, &dl, &res);
	if (spf_broken(&res, dom, &s, r))
		return;
	it = add(r, LM_DOC_WARN, "spf", "%s has \"%s\"; no --ip given, "
	    "authorisation not checked", dom, s.rec);
	fix(it, "run again with --ip ADDR for each address this host sends "
	    "list mail from");
}

/* --- dkim ----------------------------------------------------------- */

struct dk_pub {
	const struct lm_dkimkey *key;
	int	 records, match;
	char	 why[160];
};

static void
dk_collect(void *arg, const char *txt, size_t len)
{
	struct dk_pub *p = arg;
	char why[160];
	int m = lm_dkimkey_match(p->key, txt, len, why, sizeof why);

	if (m < 0)
		return;
	p->records++;
	if (m == 1)
		p->match = 1;
	else if (p->why[0] == '\0')
		lm_strlcpy(p->why, why, sizeof p->why);
}

/* Is the key file there, and not open to everyone?  -1 missing, 1 open
   to others (reported), 0 fine. */
static int
dk_file(const struct lm_doc_target *t, struct lm_doc_report *r)
{
	struct lm_doc_item *it;
	struct stat st;

	if (stat(t->keypath, &st) != 0) {
		it = add(r, LM_DOC_FAIL, "dkim", "signing key %s: %s",
		    t->keypath, strerror(errno));
		fix(it, "create it (openssl genrsa -out %s 2048) or correct "
		    "the path of selector %s", t->keypath, t->selector);
		return -1;
	}
	if ((st.st_mode & (S_IROTH | S_IWOTH)) == 0)
		return 0;
	it = add(r, LM_DOC_FAIL, "dkim", "signing key %s is world-%s (mode "
	    "%04o)", t->keypath, (st.st_mode & S_IROTH) ? "readable" :
	    "writable", (unsigned)(st.st_mode & 07777));
	fix(it, "chmod o-rwx %s (mode 0600, or 0640 with the daemon's "
	    "group)", t->keypath);
	return 1;
}

/* Would the daemon load it?  Its own loader decides (lm_dkim_key_load:
   the same checks as at start-up and reload). */
static void
dk_daemon(const struct lm_doc_target *t, struct lm_doc_report *r)
{
	struct lm_dkim_key k;
	struct lm_doc_item *it;
	char why[1200];

	if (lm_dkim_key_load(t->selector, t->keypath, &k, why,
	    sizeof why) == 0) {
		lm_dkim_key_free(&k);
		return;
	}
	it = add(r, LM_DOC_FAIL, "dkim", "listmilter refuses the key: %s",
	    why);
	fix(it, "replace it with a key listmilter accepts (e.g. openssl "
	    "genrsa -out %s 2048), then run again for its TXT record",
	    t->keypath);
}

static void
dk_published(const struct lm_doc_env *env, const struct lm_doc_target *t,
    const struct lm_dkimkey *key, struct lm_doc_report *r)
{
	struct dk_pub p = { key, 0, 0, "" };
	struct lm_doc_item *it;
	char name[384], rec[LM_DKIMKEY_MAXPUB * 2];
	enum lm_dns_rc rc;

	snprintf(name, sizeof name, "%s._domainkey.%s", t->selector,
	    t->domain);
	(void)lm_dkimkey_record(key, rec, sizeof rec);
	rc = txt_each(env, name, dk_collect, &p);
	if (p.match)
		it = add(r, LM_DOC_OK, "dkim", "%s publishes the public key of "
		    "%s (%s, %d bits)", name, t->keypath, key->k, key->bits);
	else if (is_lookup_error(rc))
		it = add(r, LM_DOC_WARN, "dkim", "TXT lookup of %s failed (%s)",
		    name, lm_dns_rc_name(rc));
	else if (p.records == 0)
		it = add(r, LM_DOC_FAIL, "dkim", "no DKIM key published at %s "
		    "TXT (selector %s, key %s)", name, t->selector, t->keypath);
	else
		it = add(r, LM_DOC_FAIL, "dkim", "%s: %s (key %s)", name, p.why,
		    t->keypath);
	if (it != NULL && !p.match)
		zone_txt(it->fix, sizeof it->fix, name, rec);
}

static void
check_dkim(const struct lm_doc_env *env, const struct lm_doc_target *t,
    struct lm_doc_report *r)
{
	struct lm_dkimkey *key;
	struct lm_doc_item *it;
	char err[1200];
	int f;

	if (t->selector[0] == '\0') {
		it = add(r, LM_DOC_WARN, "dkim", "%slist copies are not "
		    "DKIM-signed; munged mail then relies on SPF alone",
		    t->sign_none ? "sign=none: " : "");
		fix(it, "create a key (openssl genrsa -out KEY.pem 2048), set "
		    "sign=SELECTOR:/path/KEY.pem for the list or "
		    "SigningKey SELECTOR:/path/KEY.pem in listmilter.conf, "
		    "then run again for the TXT record to publish at "
		    "SELECTOR._domainkey.%s", t->domain);
		return;
	}
	if ((f = dk_file(t, r)) < 0)
		return;
	if (f == 0)
		dk_daemon(t, r);
	if ((key = malloc(sizeof *key)) == NULL) {
		r->oom = 1;
		return;
	}
	if (lm_dkimkey_load(t->keypath, key, err, sizeof err) != 0) {
		it = add(r, LM_DOC_FAIL, "dkim", "signing key: %s", err);
		fix(it, "give selector %s an unencrypted PEM private key "
		    "(openssl genrsa -out %s 2048)", t->selector, t->keypath);
	} else
		dk_published(env, t, key, r);
	free(key);
}

/* --- dmarc ---------------------------------------------------------- */

enum align { AL_YES, AL_NO, AL_UNKNOWN };

/* Does SPF of the bounce domain align with the list domain (RFC 9989
   4.4: equal, or, unless aspf=s, equal Organizational Domains)? */
static enum align
spf_aligned(const struct lm_doc_env *env, const struct lm_doc_target *t,
    const char *bdom, char mode)
{
	char org_l[256], org_b[256];
	struct timespec dl;

	if (t->bounce[0] == '\0')
		return AL_NO;	/* bounce=none: the author's sender stays */
	if (strcasecmp(bdom, t->domain) == 0)
		return AL_YES;
	if (mode == 's')
		return AL_NO;
	lm_deadline(&dl, env->timeout);
	if (lm_policy_orgdomain(env->dns, t->domain, &dl, org_l,
	    sizeof org_l) != 0 || lm_policy_orgdomain(env->dns, bdom, &dl,
	    org_b, sizeof org_b) != 0)
		return AL_UNKNOWN;
	return lm_auth_aligned(t->domain, bdom, 'r', org_l, org_b) ? AL_YES :
	    AL_NO;
}

static const char *
consequence(enum lm_pol p)
{
	switch (p) {
	case LM_POL_REJECT:
		return "refused by receivers";
	case LM_POL_QUARANTINE:
		return "put in spam folders";
	default:
		return "only reported (p=none asks for no enforcement)";
	}
}

/* How munged mail (From the list domain) passes DMARC; 0 if it cannot. */
static int
passes_by(const struct lm_doc_target *t, const char *bdom, enum align al,
    char *out, size_t outsz)
{
	int sig = t->selector[0] != '\0';

	if (al == AL_YES && sig)
		snprintf(out, outsz, "aligned SPF (bounce domain %s) and DKIM "
		    "(d=%s)", bdom, t->domain);
	else if (sig)
		snprintf(out, outsz, "DKIM d=%s alone (SPF of %s is not "
		    "aligned)", t->domain, t->bounce[0] != '\0' ? bdom :
		    "the kept envelope sender");
	else if (al == AL_YES)
		snprintf(out, outsz, "aligned SPF of %s alone (not DKIM-"
		    "signed)", bdom);
	else
		return snprintf(out, outsz, "neither aligned SPF nor DKIM"), 0;
	return 1;
}

static void
dmarc_found(const struct lm_doc_target *t, const char *how, int can,
    const struct lm_policy_result *pr, struct lm_doc_report *r)
{
	if (can)
		add(r, LM_DOC_OK, "dmarc", "%s=%s (_dmarc.%s) applies to %s: "
		    "munged mail is From %s and passes by %s; mail that fails "
		    "DMARC is %s", pr->tag, lm_pol_name(pr->policy),
		    pr->domain, t->domain, t->domain, how,
		    consequence(pr->policy));
	else
		add(r, LM_DOC_OK, "dmarc", "%s=%s (_dmarc.%s) applies to %s: "
		    "munged mail is From %s and, passing %s, is %s",
		    pr->tag, lm_pol_name(pr->policy), pr->domain, t->domain,
		    t->domain, how, consequence(pr->policy));
}

static void
dmarc_policy(const struct lm_doc_target *t, const char *how, int can,
    const struct lm_policy_result *pr, struct lm_doc_report *r)
{
	struct lm_doc_item *it;

	switch (pr->lookup) {
	case LM_LK_FOUND:
		dmarc_found(t, how, can, pr, r);
		break;
	case LM_LK_NONE:
		it = add(r, LM_DOC_WARN, "dmarc", "no DMARC record for %s "
		    "(none at _dmarc.%s or a parent); munged mail would pass "
		    "by %s", t->domain, t->domain, how);
		fix(it, "publish one, e.g. _dmarc.%s. IN TXT \"v=DMARC1; "
		    "p=none; rua=mailto:dmarc-reports@%s\"", t->domain,
		    t->domain);
		break;
	case LM_LK_TEMPFAIL:
		it = add(r, LM_DOC_WARN, "dmarc", "DMARC policy lookup for %s "
		    "failed (%s)", t->domain, pr->detail);
		fix(it, "check the name servers of %s, then run again",
		    t->domain);
		break;
	default:
		add(r, LM_DOC_FAIL, "dmarc", "list domain %s is not a DNS name",
		    t->domain);
	}
}

static void
dmarc_align(const struct lm_doc_target *t, const char *bdom,
    enum align al, struct lm_doc_report *r)
{
	struct lm_doc_item *it;

	if (t->selector[0] != '\0' || al == AL_YES)
		return;
	if (al == AL_UNKNOWN) {
		it = add(r, LM_DOC_WARN, "dmarc", "cannot tell whether bounce "
		    "domain %s is aligned with %s (DNS failure) and the copies "
		    "are not signed", bdom, t->domain);
		fix(it, "run again; or sign the list copies (sign= or "
		    "SigningKey)");
		return;
	}
	it = add(r, LM_DOC_FAIL, "dmarc", t->bounce[0] == '\0' ? "bounce=none "
	    "keeps the author's envelope sender, which is not aligned with "
	    "%s%s, and no signing key is set: munged mail fails DMARC" :
	    "bounce domain %s is not aligned with %s and no signing key is "
	    "set: munged mail fails DMARC", t->bounce[0] == '\0' ? "" : bdom,
	    t->domain);
	fix(it, "sign the list copies (sign=SELECTOR:PATH or SigningKey), or "
	    "use a bounce address in %s (bounce=owner-LIST@%s)", t->domain,
	    t->domain);
}

static void
check_dmarc(const struct lm_doc_env *env, const struct lm_doc_target *t,
    struct lm_doc_report *r)
{
	struct lm_policy_result pr;
	struct timespec dl;
	char bdom[256], from[320], how[600];
	enum align al;
	int can;

	bounce_of(t, bdom, sizeof bdom, from, sizeof from);
	lm_deadline(&dl, env->timeout);
	lm_policy_lookup(env->dns, t->domain, &dl, &pr);
	al = spf_aligned(env, t, bdom, pr.lookup == LM_LK_FOUND ?
	    pr.rec.aspf : 'r');
	can = passes_by(t, bdom, al, how, sizeof how);
	dmarc_policy(t, how, can, &pr, r);
	dmarc_align(t, bdom, al, r);
}

/* --- mx ------------------------------------------------------------- */

/* "10 mx1.example.org, 20 ..." into out; 1 if it is a null MX. */
static int
mx_list(const struct ub_result *res, char *out, size_t outsz)
{
	const unsigned char *d;
	char name[256];
	int i, null = 0;

	out[0] = '\0';
	for (i = 0; res->data[i] != NULL; i++) {
		d = (const unsigned char *)res->data[i];
		if (res->len[i] < 3 || wire_name(d + 2, res->len[i] - 2, name,
		    sizeof name) != 0)
			continue;
		null |= name[0] == '\0';
		appendf(out, outsz, "%s%d %s", out[0] != '\0' ? ", " : "",
		    d[0] << 8 | d[1], name[0] != '\0' ? name : ".");
	}
	return null;
}

/* A or AAAA of dom: LM_DNS_OK if either exists. */
static enum lm_dns_rc
has_address(const struct lm_doc_env *env, const char *dom)
{
	static const int types[] = { T_A, T_AAAA };
	struct ub_result *res;
	struct timespec dl;
	enum lm_dns_rc rc, worst = LM_DNS_NXDOMAIN;
	size_t i;

	lm_deadline(&dl, env->timeout);
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		rc = lm_dns_query(env->dns, dom, types[i], &dl, &res);
		if (res != NULL)
			lm_dns_free(res);
		if (rc == LM_DNS_OK)
			return rc;
		if (is_lookup_error(rc))
			worst = rc;
	}
	return worst;
}

static void
mx_none(const struct lm_doc_env *env, const char *dom,
    struct lm_doc_report *r)
{
	struct lm_doc_item *it;
	enum lm_dns_rc rc = has_address(env, dom);

	if (rc == LM_DNS_OK)
		it = add(r, LM_DOC_WARN, "mx", "no MX for bounce domain %s, "
		    "bounces go to the A record", dom);
	else if (is_lookup_error(rc))
		it = add(r, LM_DOC_WARN, "mx", "no MX for bounce domain %s, and "
		    "its A/AAAA lookup failed (%s)", dom, lm_dns_rc_name(rc));
	else
		it = add(r, LM_DOC_FAIL, "mx", "bounce domain %s has no MX, A "
		    "or AAAA record: bounces cannot come back", dom);
	fix(it, "%s. IN MX 10 MAILHOST. (MAILHOST: a host that accepts mail "
	    "for %s)", dom, dom);
}

static void
check_mx(const struct lm_doc_env *env, const struct lm_doc_target *t,
    struct lm_doc_report *r)
{
	struct ub_result *res = NULL;
	struct lm_doc_item *it;
	struct timespec dl;
	char dom[256], from[320], list[600];
	enum lm_dns_rc rc;
	int null;

	bounce_of(t, dom, sizeof dom, from, sizeof from);
	lm_deadline(&dl, env->timeout);
	rc = lm_dns_query(env->dns, dom, T_MX, &dl, &res);
	null = rc == LM_DNS_OK ? mx_list(res, list, sizeof list) : 0;
	if (res != NULL)
		lm_dns_free(res);
	if (rc == LM_DNS_NXDOMAIN || rc == LM_DNS_NODATA) {
		mx_none(env, dom, r);
		return;
	}
	if (is_lookup_error(rc)) {
		it = add(r, LM_DOC_WARN, "mx", "MX lookup of %s failed (%s)",
		    dom, lm_dns_rc_name(rc));
		fix(it, "check the name servers of %s, then run again", dom);
	} else if (null) {
		it = add(r, LM_DOC_FAIL, "mx", "bounce domain %s has a null MX "
		    "(RFC 7505, %s): bounces cannot come back", dom, list);
		fix(it, "replace it: %s. IN MX 10 MAILHOST. (MAILHOST: a host "
		    "that accepts mail for %s)", dom, dom);
	} else
		add(r, LM_DOC_OK, "mx", "bounces to %s are accepted by MX %s",
		    from, list);
}

/* --- ptr ------------------------------------------------------------ */

int
lm_doctor_revname(const char *ip, char *out, size_t outsz)
{
	unsigned char a[16];
	int i;

	out[0] = '\0';
	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2],
		    a[1], a[0]);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return -1;
	for (i = 15; i >= 0; i--)
		appendf(out, outsz, "%x.%x.", a[i] & 0xf, a[i] >> 4);
	appendf(out, outsz, "ip6.arpa");
	return 0;
}

/* Does name have an A (AAAA) record equal to ip?  1, 0, or -1 when the
   lookup failed. */
static int
forward_has(const struct lm_doc_env *env, const char *name, const char *ip)
{
	unsigned char a[16];
	struct ub_result *res = NULL;
	struct timespec dl;
	enum lm_dns_rc rc;
	int v6 = inet_pton(AF_INET, ip, a) != 1, i, found = 0;
	size_t alen = v6 ? 16 : 4;

	if (v6 && inet_pton(AF_INET6, ip, a) != 1)
		return 0;
	lm_deadline(&dl, env->timeout);
	rc = lm_dns_query(env->dns, name, v6 ? T_AAAA : T_A, &dl, &res);
	for (i = 0; rc == LM_DNS_OK && res->data[i] != NULL; i++)
		found |= (size_t)res->len[i] == alen &&
		    memcmp(res->data[i], a, alen) == 0;
	if (res != NULL)
		lm_dns_free(res);
	return found ? 1 : is_lookup_error(rc) ? -1 : 0;
}

/* The PTR names of ip, ", "-separated, into names; the first one that
   is forward-confirmed into confirmed (or ""). */
static enum lm_dns_rc
ptr_names(const struct lm_doc_env *env, const char *rev, const char *ip,
    char *names, size_t namesz, char *confirmed, size_t confsz,
    int *lookup_failed)
{
	struct ub_result *res = NULL;
	struct timespec dl;
	char name[256];
	enum lm_dns_rc rc;
	int i, f;

	names[0] = confirmed[0] = '\0';
	lm_deadline(&dl, env->timeout);
	rc = lm_dns_query(env->dns, rev, T_PTR, &dl, &res);
	for (i = 0; rc == LM_DNS_OK && res->data[i] != NULL &&
	    i < DOC_MAX_NAMES; i++) {
		if (wire_name((const unsigned char *)res->data[i],
		    res->len[i], name, sizeof name) != 0 || name[0] == '\0')
			continue;
		appendf(names, namesz, "%s%s", names[0] != '\0' ? ", " : "",
		    name);
		if (confirmed[0] == '\0' && (f = forward_has(env, name,
		    ip)) != 0) {
			if (f > 0)
				lm_strlcpy(confirmed, name, confsz);
			else
				*lookup_failed = 1;
		}
	}
	if (res != NULL)
		lm_dns_free(res);
	return rc;
}

static void
ptr_one(const struct lm_doc_env *env, const char *ip,
    struct lm_doc_report *r)
{
	struct lm_doc_item *it;
	char rev[80], names[600], conf[256];
	enum lm_dns_rc rc;
	int failed = 0;

	(void)lm_doctor_revname(ip, rev, sizeof rev);
	rc = ptr_names(env, rev, ip, names, sizeof names, conf, sizeof conf,
	    &failed);
	if (conf[0] != '\0') {
		add(r, LM_DOC_OK, "ptr", "%s -> %s -> %s (forward-confirmed)",
		    ip, conf, ip);
		return;
	}
	if (is_lookup_error(rc) || failed) {
		it = add(r, LM_DOC_WARN, "ptr", "reverse DNS of %s could not be "
		    "checked (%s failed)", ip, failed ? "address lookup" :
		    lm_dns_rc_name(rc));
		fix(it, "check the name servers, then run again");
	} else if (names[0] == '\0') {
		it = add(r, LM_DOC_FAIL, "ptr", "%s has no PTR record (%s)", ip,
		    rev);
		fix(it, "have the holder of %s (your provider) publish %s. IN "
		    "PTR HOSTNAME. and publish HOSTNAME. IN %s %s (HOSTNAME: "
		    "this host's name, also its HELO)", ip, rev,
		    strchr(ip, ':') ? "AAAA" : "A", ip);
	} else {
		it = add(r, LM_DOC_FAIL, "ptr", "%s has PTR %s, which does not "
		    "resolve back to %s (not forward-confirmed)", ip, names, ip);
		fix(it, "%.*s. IN %s %s (or correct the PTR)",
		    (int)strcspn(names, ","), names,
		    strchr(ip, ':') ? "AAAA" : "A", ip);
	}
}

/* --- all of them ---------------------------------------------------- */

void
lm_doctor_run(const struct lm_doc_env *env, const struct lm_doc_target *t,
    struct lm_doc_report *r)
{
	int i;

	check_spf(env, t, r);
	check_dkim(env, t, r);
	check_dmarc(env, t, r);
	check_mx(env, t, r);
	for (i = 0; i < env->nips; i++)
		ptr_one(env, env->ips[i], r);
}
