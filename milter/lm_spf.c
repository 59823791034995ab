/*
 * lm_spf - SPF (RFC 7208) with libspf2 over lm_dns (see lm_spf.h).
 *
 * libspf2 evaluates; this file gives it its DNS and fills the gaps of
 * Debian's 1.2.10 build.  RFC 7208 sections handled here:
 *   2.4	the null sender checks postmaster@<HELO>;
 *   3.1, 4.4	records come from TXT only: type SPF (99) is answered
 *		NODATA here (libspf2 does not ask for it anyway);
 *   4.3	a malformed or single-label identity gives "none" at once;
 *   4.6.1	an SPF record with an octet outside SP and VCHAR is a
 *		permerror (libspf2 would cut it at a NUL);
 *   4.6.4	10 DNS-querying terms per check (libspf2 counts per record
 *		and starts afresh in each include: counted here), 10 MX and
 *		PTR names per term (libspf2, set explicitly), 2 void
 *		lookups (libspf2 has no such limit: counted here);
 *   5		an IPv4-mapped IPv6 client is checked as IPv4;
 *   5.5	a PTR name whose address lookup fails is skipped (libspf2
 *		would give temperror);
 *   2.6, 8	results, with libspf2's INVALID mapped (libraries.md 8.2):
 *		DNS error -> temperror, compile error -> permerror.
 *
 * Design.  libspf2's DNS callback only gets its SPF_dns_server_t, so the
 * per-check state (resolver, deadline, counters) hangs off that layer's
 * hook, and the layer is the one of the SPF_server_t the request was
 * made with.  Each check therefore builds on its own stack a DNS layer
 * and a shallow copy of one template SPF_server_t whose resolver points
 * at that layer: no allocation, no global, no thread-local, and no
 * SPF_server_new_dns() per check (about 1.3 us, with abort-on-ENOMEM
 * paths inside).  This relies on libspf2 1.2.10 treating the server as
 * read-only while it evaluates (only the SPF_server_set_* setters write
 * it; records compiled during the check point at the copy and are freed
 * before the check returns) and on the struct being the public one of
 * <spf2/spf_server.h>.
 *
 * CVE-2023-42118 (libraries.md 8.4, unpatched in Debian): TXT answers
 * with absurd macros ("%{" and a run of more than 3 digits, or a term
 * dense enough in macros to reach the compile-buffer underflow, see
 * term_check()) are refused in the DNS layer before libspf2 compiles
 * them, and the check becomes a permerror with the reason logged.
 *
 * libspf2's message handlers are pointed at lm_log once per process
 * (pthread_once: write-once process state, like lm_log's destination).
 * SPF_error() aborts after its handler; nothing here reaches it: the
 * layer returns NULL only when malloc fails, requests always get a HELO
 * string, the layer has lookup() only, and no ZONE layer is used.
 *
 * Ownership: struct lm_spf holds a reference on its lm_dns and owns the
 * template server and its inert layer; it is shared by all threads and
 * read-only after lm_spf_new().  Everything a check allocates is freed
 * before lm_spf_check() returns.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <unbound.h>

#include "lm_buf.h"
#include "lm_log.h"
#include "lm_spf.h"

#define SPF_LIMIT_TERMS	10	/* RFC 7208 4.6.4 */
#define SPF_LIMIT_NAMES	10	/* MX and PTR names per term */
#define SPF_LIMIT_VOID	2
/* MX and PTR names a check remembers (their address lookups are no terms) */
#define SPF_DERIVED	(SPF_LIMIT_TERMS * SPF_LIMIT_NAMES)
#define DK_NONE		0	/* what a name is to this check */
#define DK_MX		1	/* a host an MX answer gave */
#define DK_PTR		2	/* a name a PTR answer gave */
#define SPF_MACRO_DIGITS 3	/* longest digit run accepted in a macro */
#define SPF_CHECK_SECS	20	/* no deadline given: RFC 7208 4.6.4 */

struct lm_spf {
	struct lm_dns	 *dns;
	SPF_dns_server_t *inert;	/* the template's layer */
	SPF_server_t	 *tmpl;
};

/* One check; the DNS layer's hook. */
struct spf_req {
	SPF_dns_server_t layer;
	SPF_server_t	 srv;		/* copy of the template */
	struct lm_dns	*dns;
	struct timespec	 deadline;
	int		 voids, tempfail, timedout, refused;
	int		 lookups, terms;	/* RFC 7208 4.6.4 */
	int		 over, over_txt, over_at; /* past the limit */
	int		 nderived;
	uint64_t	 derived[SPF_DERIVED];	/* name hash | DK_* */
	char		 why[160];
};

/* --- libspf2's messages --------------------------------------------- */

static void __attribute__((noreturn))
spflog_error(const char *file, int line, const char *msg)
{
	msg_error("libspf2: fatal at %s:%d: %s", file, line, msg);
	abort();
}

static void
spflog_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	msg_warn("libspf2: %s", msg);
}

static void
spflog_info(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	msg_info("libspf2: %s", msg);
}

static void
spflog_debug(const char *file, int line, const char *msg)
{
	lm_log(LOG_DEBUG, "libspf2: %s:%d: %s", file, line, msg);
}

static void
spflog_install(void)
{
	SPF_error_handler = spflog_error;
	SPF_warning_handler = spflog_warning;
	SPF_info_handler = spflog_info;
	SPF_debug_handler = spflog_debug;
}

/* --- names ---------------------------------------------------------- */

/* A name we can ask for: labels of 1..63 octets, at most 253 in all (a
   trailing dot allowed).  *labels gets the label count. */
static int
name_ok(const char *name, int *labels)
{
	size_t len = strlen(name), run = 0, i;

	*labels = 0;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && ((unsigned char)name[i] < ' ' ||
		    name[i] == 0x7f))
			return 0;
		if (i < len && name[i] != '.') {
			if (++run > 63)
				return 0;
			continue;
		}
		if (run == 0)
			return 0;
		(*labels)++;
		run = 0;
	}
	return 1;
}

/* RFC 7208 4.3: a multi-label domain name that is not an address
   literal. */
static int
identity_ok(const char *domain)
{
	int labels;

	return domain[0] != '[' && name_ok(domain, &labels) && labels > 1;
}

static uint64_t
name_hash(const char *name)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a, case-folded */
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	while (len-- > 0)
		h = (h ^ (unsigned char)tolower((unsigned char)*name++)) *
		    1099511628211ULL;
	return h;
}

static void
derived_add(struct spf_req *rq, const char *name, int kind)
{
	if (rq->nderived < SPF_DERIVED)
		rq->derived[rq->nderived++] = (name_hash(name) & ~3ULL) |
		    (uint64_t)kind;
}

/* DK_MX or DK_PTR for an address lookup of a name an answer gave. */
static int
derived_kind(const struct spf_req *rq, const char *name, ns_type type)
{
	uint64_t h = name_hash(name) & ~3ULL;
	int i;

	if (type != ns_t_a && type != ns_t_aaaa)
		return DK_NONE;
	for (i = 0; i < rq->nderived; i++)
		if ((rq->derived[i] & ~3ULL) == h)
			return (int)(rq->derived[i] & 3);
	return DK_NONE;
}

/* --- the CVE-2023-42118 guard --------------------------------------- */

/*
 * libspf2 compiles a macro-string into a 511-byte buffer (SPF_MAX_MECH_LEN,
 * SPF_MAX_MOD_LEN) and starts a string literal after each macro with
 * "avail - sizeof(SPF_data_t)", which underflows when a macro ends within
 * 4 bytes of the end (upstream d14abff, not in Debian).  A macro takes 8
 * bytes, a literal 4 + its text + at most 7 of padding, and literal text
 * at most 1.5 bytes per octet ("%-" becomes "%20"), so a term of at most
 * SPF_TERM_MAX octets with at most SPF_TERM_MACROS macros needs at most
 * 8 * 8 + 9 * 11 + 1.5 * 200 + 8 (a CIDR) = 471 bytes and cannot reach
 * it.  Digit runs: "%{d99999999999}" overflows the int libspf2 parses it
 * into (it only refuses results above 128 or below 1).
 */
#define SPF_TERM_MAX	200
#define SPF_TERM_MACROS	8

static int
term_check(const char *t, size_t n, char *why, size_t whysz)
{
	size_t i, j, run, macros = 0;

	for (i = 0; i + 1 < n; i++) {
		if (t[i] != '%')
			continue;
		if (t[++i] != '{')
			continue;	/* %%, %_, %- or a stray % */
		macros++;
		for (j = i + 1, run = 0; j < n && t[j] != '}'; j++)
			if ((run = isdigit((unsigned char)t[j]) ? run + 1 :
			    0) > SPF_MACRO_DIGITS)
				return snprintf(why, whysz, "macro with a "
				    "digit run of more than %d: \"%.*s\"",
				    SPF_MACRO_DIGITS, (int)(n < 60 ? n : 60),
				    t), -1;
		i = j;
	}
	if (macros > 0 && (n > SPF_TERM_MAX || macros > SPF_TERM_MACROS))
		return snprintf(why, whysz, "term with %zu macros in %zu "
		    "octets (at most %d in %d)", macros, n, SPF_TERM_MACROS,
		    SPF_TERM_MAX), -1;
	return 0;
}

int
lm_spf_txt_check(const char *txt, size_t len, char *why, size_t whysz)
{
	size_t i, start;

	/* what libspf2 takes for a record: "v=spf1" then SP or NUL */
	if (len < 6 || strncasecmp(txt, "v=spf1", 6) != 0 ||
	    (len > 6 && txt[6] != ' ' && txt[6] != '\0'))
		return term_check(txt, len, why, whysz);	/* exp= text */
	for (i = 0; i < len; i++)	/* RFC 7208 4.6.1: SP and VCHAR */
		if ((unsigned char)txt[i] < ' ' || (unsigned char)txt[i] > '~')
			return snprintf(why, whysz, "octet 0x%02x at offset "
			    "%zu of an SPF record", (unsigned char)txt[i],
			    i), -1;
	for (i = start = 6; i <= len; i++) {
		if (i < len && txt[i] != ' ')
			continue;
		if (term_check(txt + start, i - start, why, whysz) != 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

/* --- the DNS layer -------------------------------------------------- */

/* Control octets become '?': texts from DNS go to logs and headers. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int
past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	    (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Has the check already failed (so lookups need not go out)? */
static int
stopped(const struct spf_req *rq)
{
	return rq->refused || rq->voids > SPF_LIMIT_VOID || rq->over > 1 ||
	    (rq->over == 1 && !rq->over_txt);
}

/*
 * RFC 7208 4.6.4: at most 10 DNS-querying terms in the whole check.
 * libspf2 counts per record (an include starts afresh), so they are
 * counted here: a term's own query is a TXT after the first lookup (the
 * record itself: include, redirect) or an A, AAAA, MX or PTR that is not
 * for a name an MX or PTR answer gave.  exp= is no term but is fetched
 * as a TXT, last, after a fail: a lone TXT past the limit is answered
 * and judged in conclude().
 */
static void
count_term(struct spf_req *rq, ns_type type, int kind)
{
	if (rq->lookups++ == 0 || kind != DK_NONE ||
	    ++rq->terms <= SPF_LIMIT_TERMS)
		return;
	rq->over++;
	rq->over_txt = type == ns_t_txt;
	rq->over_at = rq->lookups;
}

/* Answers that need no query; NETDB_SUCCESS means "ask". */
static SPF_dns_stat_t
local_answer(struct spf_req *rq, const char *name)
{
	int labels;

	if (stopped(rq) || !name_ok(name, &labels))
		return HOST_NOT_FOUND;
	if (past(&rq->deadline)) {
		rq->timedout = 1;
		return TRY_AGAIN;
	}
	return NETDB_SUCCESS;
}

/* The lookup's outcome for libspf2.  A failed address lookup of a PTR
   name skips that name (RFC 7208 5.5; libspf2 would give temperror),
   unless the check ran out of time. */
static SPF_dns_stat_t
herrno_of(struct spf_req *rq, enum lm_dns_rc rc, int kind)
{
	if (kind == DK_PTR && (rc == LM_DNS_TEMPFAIL ||
	    rc == LM_DNS_PERMFAIL) && !past(&rq->deadline))
		return NO_DATA;
	switch (rc) {
	case LM_DNS_OK:
		return NETDB_SUCCESS;
	case LM_DNS_NXDOMAIN:
		return HOST_NOT_FOUND;
	case LM_DNS_NODATA:
		return NO_DATA;
	case LM_DNS_PERMFAIL:
		rq->tempfail++;
		return NO_RECOVERY;
	default:
		rq->tempfail++;
		if (past(&rq->deadline))
			rq->timedout = 1;
		return TRY_AGAIN;
	}
}

/* The presentation form of the uncompressed name at d[0..len). */
static int
rdata_name(const unsigned char *d, int len, char *out, size_t outsz)
{
	int p = 0;

	while (p < len && d[p] != 0) {
		if (d[p] > 63)
			return -1;
		p += 1 + d[p];
	}
	if (p >= len || ns_name_ntop(d, out, outsz) < 0)
		return -1;
	return 0;
}

static int
add_addr(SPF_dns_rr_t *rr, int n, ns_type type, const char *d, int len)
{
	size_t want = type == ns_t_a ? 4 : 16;

	if ((size_t)len != want ||
	    SPF_dns_rr_buf_realloc(rr, n, want) != SPF_E_SUCCESS)
		return 0;
	if (type == ns_t_a)
		memcpy(&rr->rr[n]->a, d, want);
	else
		memcpy(&rr->rr[n]->aaaa, d, want);
	return 1;
}

static int
add_name(struct spf_req *rq, SPF_dns_rr_t *rr, int n, ns_type type,
    const char *d, int len)
{
	const unsigned char *u = (const unsigned char *)d;
	char nm[NS_MAXDNAME];
	size_t nl;

	if (type == ns_t_mx && len < 3)
		return 0;
	if (type == ns_t_mx && rdata_name(u + 2, len - 2, nm, sizeof nm) != 0)
		return 0;
	if (type == ns_t_ptr && rdata_name(u, len, nm, sizeof nm) != 0)
		return 0;
	nl = strlen(nm) + 1;
	if (SPF_dns_rr_buf_realloc(rr, n, nl) != SPF_E_SUCCESS)
		return 0;
	memcpy(type == ns_t_mx ? rr->rr[n]->mx : rr->rr[n]->ptr, nm, nl);
	if (n < SPF_LIMIT_NAMES)	/* the ones libspf2 looks up */
		derived_add(rq, nm, type == ns_t_mx ? DK_MX : DK_PTR);
	return 1;
}

static int
add_txt(struct spf_req *rq, SPF_dns_rr_t *rr, int n, const char *name,
    const char *d, int len)
{
	char why[100];
	int tl;

	if (SPF_dns_rr_buf_realloc(rr, n, (size_t)len + 1) != SPF_E_SUCCESS ||
	    (tl = lm_dns_txt_join(d, len, rr->rr[n]->txt,
	    (size_t)len + 1)) < 0)
		return 0;
	if (lm_spf_txt_check(rr->rr[n]->txt, (size_t)tl, why,
	    sizeof why) != 0) {
		rq->refused = 1;
		snprintf(rq->why, sizeof rq->why, "TXT of %s refused: %s",
		    name, why);
		printable(rq->why);
		msg_warn("spf: %s", rq->why);
		return 0;
	}
	return 1;
}

/* Copy the answer's rdata into rr; returns the number of RRs kept. */
static int
fill(struct spf_req *rq, SPF_dns_rr_t *rr, const char *name, ns_type type,
    const struct ub_result *res)
{
	int i, n = 0, ok;

	for (i = 0; res->data[i] != NULL && !rq->refused; i++) {
		if (type == ns_t_a || type == ns_t_aaaa)
			ok = add_addr(rr, n, type, res->data[i], res->len[i]);
		else if (type == ns_t_mx || type == ns_t_ptr)
			ok = add_name(rq, rr, n, type, res->data[i],
			    res->len[i]);
		else if (type == ns_t_txt)
			ok = add_txt(rq, rr, n, name, res->data[i],
			    res->len[i]);
		else
			ok = 0;
		n += ok;
	}
	return rq->refused ? 0 : n;
}

/* RFC 7208 4.6.4 void lookups: terms whose query (A, AAAA, MX) finds
   nothing.  Not counted: TXT (include/redirect without a record end the
   check anyway; exp= is not a term), PTR (the client's data), and the
   address lookups of MX and PTR targets. */
static void
count_void(struct spf_req *rq, const char *name, ns_type type, int kind,
    SPF_dns_stat_t h)
{
	if ((h != HOST_NOT_FOUND && h != NO_DATA) || kind != DK_NONE ||
	    (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx))
		return;
	if (++rq->voids == SPF_LIMIT_VOID + 1)
		snprintf(rq->why, sizeof rq->why, "more than %d void "
		    "lookups (at %s)", SPF_LIMIT_VOID, name);
}

static SPF_dns_rr_t *
spfdns_lookup(SPF_dns_server_t *s, const char *name, ns_type type, int cache)
{
	struct spf_req *rq = s->hook;
	struct ub_result *res = NULL;
	SPF_dns_stat_t h;
	SPF_dns_rr_t *rr;
	int kind;

	(void)cache;
	if (type == ns_t_spf)		/* RFC 7208 3.1: never asked */
		return SPF_dns_rr_new_init(s, name, type, 0, NO_DATA);
	kind = derived_kind(rq, name, type);
	count_term(rq, type, kind);
	if ((h = local_answer(rq, name)) != NETDB_SUCCESS)
		return SPF_dns_rr_new_init(s, name, type, 0, h);
	h = herrno_of(rq, lm_dns_query(rq->dns, name, type, &rq->deadline,
	    &res), kind);
	rr = SPF_dns_rr_new_init(s, name, type, res != NULL ? res->ttl : 0, h);
	if (rr != NULL && h == NETDB_SUCCESS &&
	    (rr->num_rr = fill(rq, rr, name, type, res)) == 0)
		rr->herrno = rq->refused ? HOST_NOT_FOUND : NO_DATA;
	if (rr != NULL)
		count_void(rq, name, type, kind, rr->herrno);
	if (res != NULL)
		lm_dns_free(res);
	return rr;		/* NULL only when malloc fails */
}

/* The template's own layer: never used for a check. */
static SPF_dns_rr_t *
inert_lookup(SPF_dns_server_t *s, const char *name, ns_type type, int cache)
{
	(void)cache;
	return SPF_dns_rr_new_init(s, name, type, 0, TRY_AGAIN);
}

/* --- set-up --------------------------------------------------------- */

struct lm_spf *
lm_spf_new(struct lm_dns *dns, char *err, size_t errsz)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct lm_spf *spf;

	pthread_once(&once, spflog_install);
	if ((spf = calloc(1, sizeof *spf)) == NULL ||
	    (spf->inert = calloc(1, sizeof *spf->inert)) == NULL) {
		free(spf);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	spf->inert->lookup = inert_lookup;
	spf->inert->name = "listmilter-inert";
	if ((spf->tmpl = SPF_server_new_dns(spf->inert, 0)) == NULL ||
	    SPF_server_set_max_dns_mech(spf->tmpl, SPF_LIMIT_TERMS) != 0 ||
	    SPF_server_set_max_dns_ptr(spf->tmpl, SPF_LIMIT_NAMES) != 0 ||
	    SPF_server_set_max_dns_mx(spf->tmpl, SPF_LIMIT_NAMES) != 0) {
		snprintf(err, errsz, "libspf2: cannot create a server");
		lm_spf_free(spf);
		return NULL;
	}
	spf->dns = lm_dns_ref(dns);
	return spf;
}

void
lm_spf_free(struct lm_spf *spf)
{
	if (spf == NULL)
		return;
	if (spf->tmpl != NULL)
		SPF_server_free(spf->tmpl);
	free(spf->inert);
	if (spf->dns != NULL)
		lm_dns_unref(spf->dns);
	free(spf);
}

/* --- one check ------------------------------------------------------ */

/* The reason, on one printable line (libspf2 quotes record text). */
static void
set_reason(struct lm_spf_result *out, const char *why)
{
	lm_strlcpy(out->reason, why, sizeof out->reason);
	printable(out->reason);
}

static void
set_result(struct lm_spf_result *out, enum lm_spf_res res, const char *why)
{
	out->res = res;
	set_reason(out, why);
}

/* The envelope sender without <>, spaces and a source route. */
static void
bare_sender(const char *mailfrom, char *out, size_t outsz)
{
	const char *s = mailfrom != NULL ? mailfrom : "", *e, *c;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e > s && *s == '<') {
		s++;
		if (e > s && e[-1] == '>')
			e--;
	}
	if (*s == '@' && (c = memchr(s, ':', (size_t)(e - s))) != NULL)
		s = c + 1;		/* <@relay:user@domain> */
	if ((size_t)(e - s) >= outsz)
		e = s + outsz - 1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
}

/* Pick the identity (RFC 7208 2.4, 4.3); -1 when the result is known. */
static int
identity(const char *helo, const char *sender, struct lm_spf_result *out)
{
	const char *at = strrchr(sender, '@');
	const char *dom = sender[0] == '\0' ? helo : at != NULL ? at + 1 :
	    sender;

	out->helo = sender[0] == '\0';
	if (strlen(dom) >= sizeof out->domain) {
		set_result(out, LM_SPF_NONE, "identity domain too long");
		return -1;
	}
	lm_strlcpy(out->domain, dom, sizeof out->domain);
	if (!identity_ok(dom)) {
		set_result(out, LM_SPF_NONE, dom[0] == '\0' ?
		    "no identity (null sender, no HELO)" :
		    "malformed identity domain (RFC 7208 4.3)");
		return -1;
	}
	return 0;
}

static int
set_ip(SPF_request_t *req, const char *ip)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return SPF_request_set_ipv4(req, a4);
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], 4);
		return SPF_request_set_ipv4(req, a4);
	}
	return SPF_request_set_ipv6(req, a6);
}

/* libspf2's first error message, else its header comment without the
   "<receiving host>: " prefix, else the error code's text. */
static const char *
first_error(SPF_response_t *rp, SPF_errcode_t err, const char *rec_dom)
{
	const char *c;
	SPF_error_t *e;
	size_t n = rec_dom != NULL ? strlen(rec_dom) : 0;
	int i;

	for (i = 0; rp != NULL && i < SPF_response_messages(rp); i++)
		if ((e = SPF_response_message(rp, i)) != NULL &&
		    SPF_error_errorp(e))
			return SPF_error_message(e);
	if (rp == NULL || (c = SPF_response_get_header_comment(rp)) == NULL)
		return SPF_strerror(err);
	if (n > 0 && strncmp(c, rec_dom, n) == 0 &&
	    strncmp(c + n, ": ", 2) == 0)
		c += n + 2;
	return c;
}

static enum lm_spf_res
map_result(SPF_result_t r, SPF_errcode_t err, const struct spf_req *rq)
{
	switch (r) {
	case SPF_RESULT_NEUTRAL:
		return LM_SPF_NEUTRAL;
	case SPF_RESULT_PASS:
		return LM_SPF_PASS;
	case SPF_RESULT_FAIL:
		return LM_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return LM_SPF_SOFTFAIL;
	case SPF_RESULT_NONE:
		return LM_SPF_NONE;
	case SPF_RESULT_TEMPERROR:
		return LM_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		return LM_SPF_PERMERROR;
	default:	/* INVALID: libraries.md 8.2 */
		return err == SPF_E_DNS_ERROR || err == SPF_E_NO_MEMORY ||
		    rq->tempfail ? LM_SPF_TEMPERROR : LM_SPF_PERMERROR;
	}
}

/* Past the term limit, unless the one TXT past it was the last lookup
   of a fail: that is the exp= explanation (see count_term()). */
static int
over_terms(const struct spf_req *rq, SPF_result_t r)
{
	return rq->over > 1 || (rq->over == 1 && !(rq->over_txt &&
	    rq->over_at == rq->lookups && r == SPF_RESULT_FAIL));
}

static void
conclude(const struct spf_req *rq, SPF_response_t *rp, SPF_errcode_t err,
    struct lm_spf_result *out)
{
	SPF_result_t r = rp != NULL ? SPF_response_result(rp) :
	    SPF_RESULT_INVALID;

	if (rq->refused || rq->voids > SPF_LIMIT_VOID) {
		set_result(out, LM_SPF_PERMERROR, rq->why);
		return;
	}
	if (over_terms(rq, r)) {
		set_result(out, LM_SPF_PERMERROR, "more than 10 DNS-querying "
		    "terms (RFC 7208 4.6.4)");
		return;
	}
	if (rp != NULL && SPF_response_errcode(rp) != SPF_E_SUCCESS)
		err = SPF_response_errcode(rp);
	out->res = map_result(r, err, rq);
	set_reason(out, out->res == LM_SPF_TEMPERROR && rq->timedout ?
	    "DNS timeout" : first_error(rp, err, rq->srv.rec_dom));
}

static void
req_init(struct spf_req *rq, const struct lm_spf *spf,
    const struct timespec *deadline)
{
	memset(rq, 0, sizeof *rq);
	rq->dns = spf->dns;
	if (deadline != NULL)
		rq->deadline = *deadline;
	else
		lm_deadline(&rq->deadline, SPF_CHECK_SECS);
	rq->layer.lookup = spfdns_lookup;
	rq->layer.name = "listmilter";
	rq->layer.hook = rq;
	rq->srv = *spf->tmpl;
	rq->srv.resolver = &rq->layer;
	rq->srv.destroy_resolver = 0;
}

static void
evaluate(struct spf_req *rq, const char *ip, const char *helo,
    const char *sender, struct lm_spf_result *out)
{
	SPF_request_t *req;
	SPF_response_t *rp = NULL;
	SPF_errcode_t err;

	if ((req = SPF_request_new(&rq->srv)) == NULL) {
		set_result(out, LM_SPF_TEMPERROR, "out of memory");
		return;
	}
	if (ip == NULL || set_ip(req, ip) != 0)
		set_result(out, LM_SPF_PERMERROR, "bad client address");
	else if (SPF_request_set_helo_dom(req, helo) != 0 ||
	    SPF_request_set_env_from(req, sender) != 0)
		set_result(out, LM_SPF_TEMPERROR, "out of memory");
	else {
		err = SPF_request_query_mailfrom(req, &rp);
		conclude(rq, rp, err, out);
	}
	if (rp != NULL)
		SPF_response_free(rp);
	SPF_request_free(req);
}

void
lm_spf_check(struct lm_spf *spf, const char *ip, const char *helo,
    const char *mailfrom, const struct timespec *deadline,
    struct lm_spf_result *out)
{
	struct spf_req rq;
	char sender[512];

	memset(out, 0, sizeof *out);
	if (helo == NULL)
		helo = "";
	bare_sender(mailfrom, sender, sizeof sender);
	if (identity(helo, sender, out) != 0)
		return;
	req_init(&rq, spf, deadline);
	evaluate(&rq, ip, helo, sender, out);
}

const char *
lm_spf_name(enum lm_spf_res r)
{
	static const char *n[] = { "none", "neutral", "pass", "fail",
	    "softfail", "temperror", "permerror" };

	return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "?";
}
