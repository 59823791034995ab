/*
 * lm_milter - libmilter callbacks: collect facts, decide, apply at EOM.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "lm_addr.h"
#include "lm_buf.h"
#include "lm_decide.h"
#include "lm_dsn.h"
#include "lm_inbound.h"
#include "lm_log.h"
#include "lm_milter.h"
#include "lm_msg.h"
#include "lm_policy.h"
#include "lm_rewrite.h"

#define LM_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | \
	SMFIF_CHGFROM)
#define LM_PROTO (SMFIP_NR_HDR | SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN | \
	SMFIP_NR_HELO | SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_MAIL | \
	SMFIP_NR_EOH)

/* Set once by lm_milter_register() before smfi_main(); read-only after. */
static struct lm_daemon *lm_the_daemon;

struct lm_conn {
	unsigned long	 pflags;	/* negotiated protocol flags */
	char		 hostaddr[INET6_ADDRSTRLEN];
	int		 loopback, have_addr;
	char		 helo[256];
	/* per message */
	struct lm_snap	*snap;
	char		 qid[64];
	int		 null_sender, local, have_class, is_list, mixed;
	int		 decided, oom;
	/* decided at the end of the headers, answered with the first body
	   chunk or the end of the message (SMFIP_NR_EOH: no reply to EOH) */
	int		 pending_refuse;
	const char	*pending_fail;
	char		 mailfrom[330];
	struct lm_inbound inb;
	struct lm_auth	*auth;		/* while a message is evaluated */
	int		 auth_on;
	char		 trusted[256];	/* authserv-id whose dmarc=pass we took */
	const struct lm_dkim_key *key;	/* the list signs its copies */
	int		 bounce;	/* a RCPT is a list's bounce address */
	struct lm_listref bref;		/* ... of this list */
	struct lm_listref list;
	struct lm_msg	 msg;
	struct lm_addrlist from;
	int		 from_err;
	char		 from_reason[160];
	struct lm_policy_result pol;
	int		 looked_up;
	struct lm_facts	 facts;
	struct lm_plan	 plan;
};

static void
msg_end(struct lm_conn *c)
{
	lm_msg_reset(&c->msg);
	lm_addrlist_free(&c->from);
	lm_inbound_reset(&c->inb);
	free(c->auth);			/* 6.6 KB: not kept while idle */
	c->auth = NULL;
	c->auth_on = 0;
	c->trusted[0] = '\0';
	c->key = NULL;
	c->bounce = 0;
	c->mailfrom[0] = '\0';
	lm_snap_release(c->snap);
	c->snap = NULL;
	c->qid[0] = '\0';
	c->null_sender = c->local = c->have_class = c->is_list = 0;
	c->mixed = c->decided = c->looked_up = c->oom = 0;
	c->pending_refuse = 0;
	c->pending_fail = NULL;
	c->from_err = 0;
	c->from_reason[0] = '\0';
}

static struct lm_conn *
conn_get(SMFICTX *ctx)
{
	struct lm_conn *c = smfi_getpriv(ctx);

	if (c == NULL && (c = calloc(1, sizeof *c)) != NULL) {
		lm_msg_init(&c->msg, 0, 0);
		if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
			free(c);
			c = NULL;
		}
	}
	return c;
}

static void
read_qid(SMFICTX *ctx, struct lm_conn *c)
{
	const char *q = smfi_getsymval(ctx, "i");

	if (q != NULL && q[0] != '\0')
		lm_strlcpy(c->qid, q, sizeof c->qid);
	else if (c->qid[0] == '\0')
		lm_strlcpy(c->qid, "NOQUEUE", sizeof c->qid);
}

static void
set_reply(SMFICTX *ctx, const char *rcode, const char *xcode,
    const char *text)
{
	char esc[1000];
	size_t i, o = 0;

	/* smfi_setreply: no CR/LF, '%' doubled, <= 980 characters */
	for (i = 0; text[i] != '\0' && o + 2 < sizeof esc && o < 970; i++) {
		if (text[i] == '%')
			esc[o++] = '%';
		esc[o++] = (unsigned char)text[i] < 0x20 ? ' ' : text[i];
	}
	esc[o] = '\0';
	(void)smfi_setreply(ctx, (char *)rcode, (char *)xcode, esc);
}

/* The one mapping of internal failures to the configured action.  Once
   edits were applied, only tempfail keeps the message whole. */
static sfsistat
lm_fail(SMFICTX *ctx, struct lm_conn *c, int applied, const char *what)
{
	int accept = c->snap != NULL && !applied &&
	    c->snap->conf.on_error == LM_ONERR_ACCEPT;

	read_qid(ctx, c);
	msg_error("%s: list=%s error=\"%s\" result=%s", c->qid,
	    c->is_list ? c->list.addr : "-", what,
	    accept ? "accept" : "tempfail");
	msg_end(c);
	if (accept)
		return SMFIS_ACCEPT;
	set_reply(ctx, "451", "4.3.0", "Temporary failure in list "
	    "processing, try again later");
	return SMFIS_TEMPFAIL;
}

static sfsistat
lm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct lm_conn *c;

	(void)f2;
	(void)f3;
	if ((f0 & LM_ACTIONS) != LM_ACTIONS) {
		msg_error("MTA offers actions 0x%lx, listmilter needs 0x%lx "
		    "(add/change headers, replace body, change sender)", f0,
		    (unsigned long)LM_ACTIONS);
		return SMFIS_REJECT;
	}
	if ((c = conn_get(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	*pf0 = LM_ACTIONS;
	*pf1 = c->pflags = f1 & LM_PROTO;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
lm_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	struct lm_conn *c = conn_get(ctx);
	sfsistat ok;

	(void)host;
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	ok = c->pflags & SMFIP_NR_CONN ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	msg_end(c);			/* XCLIENT: a second CONNECT */
	lm_strlcpy(c->hostaddr, "", sizeof c->hostaddr);
	c->loopback = 0;
	c->helo[0] = '\0';
	c->have_addr = sa != NULL && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6);
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, c->hostaddr,
		    sizeof c->hostaddr);
		c->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, c->hostaddr,
		    sizeof c->hostaddr);
		c->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return ok;
}

static sfsistat
lm_helo(SMFICTX *ctx, char *name)
{
	struct lm_conn *c = conn_get(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	lm_strlcpy(c->helo, name != NULL ? name : "", sizeof c->helo);
	return c->pflags & SMFIP_NR_HELO ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
lm_envfrom(SMFICTX *ctx, char **argv)
{
	struct lm_conn *c = conn_get(ctx);
	char *local = NULL, *domain = NULL;
	const char *q;
	sfsistat ok;

	/* out of memory: RCPT finds no state and tempfails there */
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	ok = c->pflags & SMFIP_NR_MAIL ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	msg_end(c);
	c->snap = lm_daemon_acquire(lm_the_daemon);
	c->msg.max_hbytes = (size_t)c->snap->conf.max_header;
	c->msg.body.max = (size_t)c->snap->conf.max_wrap;
	if (argv[0] != NULL && lm_addr_envelope(argv[0], strlen(argv[0]),
	    &local, &domain) == 0)
		c->null_sender = local == NULL;
	lm_strlcpy(c->mailfrom, argv[0] != NULL ? argv[0] : "",
	    sizeof c->mailfrom);
	free(local);
	free(domain);
	/* Postfix non-SMTP submission: loopback, queue id known at MAIL */
	q = smfi_getsymval(ctx, "i");
	c->local = c->loopback && q != NULL && q[0] != '\0';
	return ok;
}

static sfsistat
lm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct lm_conn *c = smfi_getpriv(ctx);
	struct lm_listref ref;
	char *local = NULL, *domain = NULL;
	int match = 0, same;

	if (c == NULL || c->snap == NULL)
		return SMFIS_TEMPFAIL;
	/* {rcpt_mailer} comes from an SMTP server (Postfix smtpd, any
	   Sendmail daemon, which also knows "i" at MAIL), never from
	   Postfix's cleanup: such a client can take a 452 per recipient */
	if (c->local && smfi_getsymval(ctx, "{rcpt_mailer}") != NULL)
		c->local = 0;
	if (argv[0] != NULL && lm_addr_envelope(argv[0], strlen(argv[0]),
	    &local, &domain) == 0 && local != NULL)
		match = lm_listtab_match(c->snap->lists, local, domain, &ref);
	if (!match && !c->bounce && local != NULL &&
	    lm_listtab_bounce(c->snap->lists, local, domain, &c->bref))
		c->bounce = 1;
	free(local);
	free(domain);
	if (!c->have_class) {
		c->have_class = 1;
		if ((c->is_list = match))
			c->list = ref;
		return SMFIS_CONTINUE;
	}
	same = match ? c->is_list && strcmp(ref.addr, c->list.addr) == 0 :
	    !c->is_list;
	if (same)
		return SMFIS_CONTINUE;
	if (c->local) {
		c->mixed = 1;
		return SMFIS_CONTINUE;
	}
	set_reply(ctx, "452", "4.5.3", c->is_list || match ? "Mail to a "
	    "mailing list must be sent in a transaction of its own; retry "
	    "this recipient separately" : "Too many recipients");
	return SMFIS_TEMPFAIL;
}

/* "pass:example.org,fail:other.example", or "none", or "-". */
static void
auth_summary(const struct lm_conn *c, char *out, size_t sz)
{
	size_t i, o = 0;

	const struct lm_auth *a = c->auth;

	lm_strlcpy(out, a == NULL || !a->evaluated ? "-" : "none", sz);
	for (i = 0; a != NULL && a->evaluated && i < a->nsigs && o + 1 < sz;
	    i++)
		o += (size_t)snprintf(out + o, sz - o, "%s%s:%s", i ? "," : "",
		    lm_ares_name(a->sig[i].res), a->sig[i].domain);
}

static void
log_line(struct lm_conn *c, const char *result)
{
	const struct lm_facts *f = &c->facts;
	const char *dom = lm_facts_author_domain(f);
	const char *pol = !c->looked_up ? "-" :
	    c->pol.lookup == LM_LK_FOUND ? lm_pol_name(c->pol.policy) :
	    c->pol.lookup == LM_LK_NONE ? "absent" :
	    c->pol.lookup == LM_LK_TEMPFAIL ? "tempfail" : "baddomain";
	int ev = c->auth != NULL && c->auth->evaluated;
	char dkim[200];

	auth_summary(c, dkim, sizeof dkim);
	msg_info("%s: list=%s author_domain=%s policy=%s policy_domain=%s "
	    "spf=%s dkim=%s dmarc=%s%s%s%s action=%s reason=%s envfrom=%s "
	    "result=%s%s%s%s", c->qid,
	    c->list.addr, dom != NULL ? dom : "-", pol,
	    c->looked_up && c->pol.domain[0] ? c->pol.domain : "-",
	    ev ? lm_ares_name(c->auth->spf) : "-", dkim,
	    ev ? lm_dmres_name(c->auth->dmarc) : "-",
	    c->trusted[0] ? "(trusted:" : "", c->trusted,
	    c->trusted[0] ? ")" : "",
	    lm_verdict_name(c->plan.verdict), c->plan.why ? c->plan.why : "-",
	    c->plan.envfrom[0] ? c->plan.envfrom : "unchanged", result,
	    c->pol.detail[0] ? " detail=\"" : "", c->pol.detail,
	    c->pol.detail[0] ? "\"" : "");
}

static sfsistat
lm_data(SMFICTX *ctx)
{
	struct lm_conn *c = smfi_getpriv(ctx);

	if (c == NULL || c->snap == NULL)
		return SMFIS_TEMPFAIL;
	if (c->is_list || c->mixed)
		return SMFIS_CONTINUE;
	if (c->bounce && c->snap->conf.log_bounces) {
		c->msg.keep_body = 1;	/* a DSN to read at EOM, not changed */
		return SMFIS_CONTINUE;
	}
	if (c->snap->conf.log_nonlist) {
		read_qid(ctx, c);
		msg_info("%s: not list mail, accepted unchanged", c->qid);
	}
	msg_end(c);
	return SMFIS_ACCEPT;
}

static sfsistat
lm_header(SMFICTX *ctx, char *name, char *value)
{
	struct lm_conn *c = smfi_getpriv(ctx);
	sfsistat ok;
	lm_buf v;
	int r;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	ok = c->pflags & SMFIP_NR_HDR ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (c->pflags & SMFIP_HDR_LEADSPC)
		r = lm_msg_addhdr(&c->msg, name, value, strlen(value));
	else {
		lm_buf_init(&v, (size_t)-1 / 2);
		r = lm_buf_addc(&v, ' ') || lm_buf_adds(&v, value) ||
		    lm_msg_addhdr(&c->msg, name, v.s, v.len);
		lm_buf_free(&v);
	}
	if (r != 0)
		c->oom = 1;		/* reported once, at EOH */
	return ok;
}

/* Facts from the header section: From, trace, size. */
static void
collect_facts(struct lm_conn *c)
{
	const struct lm_hdr *from = lm_msg_get(&c->msg, "From", 0);
	const struct lm_hdr *h;
	size_t i;

	memset(&c->facts, 0, sizeof c->facts);
	c->facts.list = &c->list;
	c->facts.null_sender = c->null_sender;
	c->facts.hdr_overflow = c->msg.hdr_overflow;
	c->facts.from_fields = lm_msg_count(&c->msg, "From");
	for (i = 0; (h = lm_msg_get(&c->msg, LM_TRACE_HEADER, i)) != NULL; i++)
		if (lm_trace_matches(h->value, h->vlen, c->list.addr))
			c->facts.loop = 1;
	if (c->facts.from_fields == 1 && from != NULL) {
		c->from_err = lm_addr_parse(from->value, from->vlen, &c->from,
		    c->from_reason, sizeof c->from_reason);
		c->facts.from_err = c->from_err;
		c->facts.from_reason = c->from_reason;
		if (c->from_err == LM_ADDR_OK)
			c->facts.from = &c->from;
	}
}

/* DMARC policy of the author domain, when the decision needs it, before
   the deadline of the end-of-headers step. */
static void
collect_policy(struct lm_conn *c, const struct timespec *deadline)
{
	struct lm_facts *f = &c->facts;
	const char *dom = lm_facts_author_domain(f);

	if (dom == NULL || f->loop || f->hdr_overflow || f->from->n != 1 ||
	    f->from->has_group || c->list.cfg->mitigate == LM_MIT_ALWAYS)
		return;
	if (f->from->mb[0].literal) {
		f->lookup = LM_LK_BADDOMAIN;
		return;
	}
	lm_policy_lookup(c->snap->dns, dom, deadline, &c->pol);
	c->looked_up = 1;
	f->lookup = c->pol.lookup;
	f->policy = c->pol.policy;
	f->policy_domain = c->pol.domain;
	f->policy_tag = c->pol.tag;
}

static void trust_upstream(struct lm_conn *);

static void
inbound_env(struct lm_conn *c, struct lm_inbound_env *env)
{
	env->spf = c->snap->spf;
	env->dkim = c->snap->dkim;
	env->dns = c->snap->dns;
	env->qid = c->qid;
	env->ip = c->hostaddr;
	env->helo = c->helo;
	env->mailfrom = c->mailfrom;
}

/* Inbound authentication runs for SMTP clients with a non-loopback
   address; mail submitted on this host (non-SMTP, UNIX-socket or loopback
   SMTP, where libspf2 would pass anything as "localhost") is not
   evaluated. */
static int
start_inbound(struct lm_conn *c, const struct timespec *deadline)
{
	struct lm_inbound_env env;

	if (c->local || !c->have_addr || c->loopback || c->facts.from == NULL)
		return 0;
	if ((c->auth = calloc(1, sizeof *c->auth)) == NULL)
		return -1;
	c->auth_on = 1;
	inbound_env(c, &env);
	lm_inbound_start(&c->inb, &env, &c->msg, deadline);
	return 0;
}

static void
finish_inbound(struct lm_conn *c)
{
	struct lm_inbound_env env;
	struct timespec deadline;

	if (!c->auth_on)
		return;
	inbound_env(c, &env);
	lm_deadline(&deadline, c->snap->conf.dns_timeout);
	lm_inbound_finish(&c->inb, &env, lm_facts_author_domain(&c->facts),
	    c->pol.lookup == LM_LK_FOUND ? &c->pol.rec : NULL,
	    c->facts.lookup, &deadline, c->auth);
	c->facts.auth = c->auth;
	trust_upstream(c);
}

/*
 * TrustedAuthservIDs: an upstream verifier's dmarc=pass for the same
 * author domain is believed when its field stands above the second
 * Received field (added by this MTA's earlier milters, or by the trusted
 * hop right before us); our own evaluation can only be upgraded by it.
 */
static void
trust_upstream(struct lm_conn *c)
{
	const char *dom = lm_facts_author_domain(&c->facts);
	const struct lm_hdr *h;
	enum lm_dmres res;
	char id[256], from[256];
	size_t i;
	int received = 0;

	if (!c->auth_on || c->auth->dmarc == LM_DM_PASS || dom == NULL ||
	    c->snap->conf.trusted_ids[0] == '\0')
		return;
	for (i = 0; i < c->msg.nh && received < 2; i++) {
		h = &c->msg.h[i];
		if (strcasecmp(h->name, "Received") == 0)
			received++;
		if (strcasecmp(h->name, "Authentication-Results") != 0 ||
		    lm_authres_servid(h->value, h->vlen, id, sizeof id) != 0 ||
		    !lm_authres_listed(c->snap->conf.trusted_ids, id) ||
		    strcasecmp(id, c->snap->authservid) == 0)
			continue;
		if (lm_authres_dmarc(h->value, h->vlen, &res, from,
		    sizeof from) == 0 && res == LM_DM_PASS &&
		    strcasecmp(from, dom) == 0) {
			c->auth->dmarc = LM_DM_PASS;
			lm_strlcpy(c->trusted, id, sizeof c->trusted);
			return;
		}
	}
}

/* Refuse now with the plan's reply; logged here, once. */
static sfsistat
refuse(SMFICTX *ctx, struct lm_conn *c)
{
	char result[32];

	set_reply(ctx, c->plan.rcode, c->plan.xcode, c->plan.text);
	snprintf(result, sizeof result, "%s_%s", c->plan.verdict ==
	    LM_V_TEMPFAIL ? "tempfail" : "reject", c->plan.rcode);
	log_line(c, result);
	msg_end(c);
	return c->plan.rcode[0] == '4' ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

/* The end-of-headers decision; a refusal or failure is left pending. */
static void
eoh_decide(struct lm_conn *c)
{
	struct timespec deadline;

	if (c->oom) {
		c->pending_fail = "out of memory collecting headers";
		return;
	}
	/* One deadline for all DNS work of this step.  SPF first: when the
	   author domain's policy servers do not answer, an aligned SPF pass
	   still lets the message through (rewritten, fail-safe). */
	lm_deadline(&deadline, c->snap->conf.dns_timeout);
	collect_facts(c);
	if (start_inbound(c, &deadline) != 0) {
		c->pending_fail = "out of memory starting verification";
		return;
	}
	collect_policy(c, &deadline);
	/* refusals that no authentication result can change come now */
	lm_decide(&c->facts, &c->plan);
	c->decided = 1;
	if (c->plan.verdict == LM_V_REJECT || c->plan.verdict == LM_V_TEMPFAIL)
		c->pending_refuse = 1;
	c->key = lm_snap_key(c->snap, c->list.cfg);
	c->msg.keep_body = c->list.cfg->action == LM_ACT_WRAP || c->key != NULL;
}

/* A refusal decided earlier: answer it now in *r and return 1; 0 when
   there is none. */
static int
pending(SMFICTX *ctx, struct lm_conn *c, sfsistat *r)
{
	if (c->pending_fail != NULL)
		*r = lm_fail(ctx, c, 0, c->pending_fail);
	else if (c->pending_refuse)
		*r = refuse(ctx, c);
	else
		return 0;
	return 1;
}

static sfsistat
lm_eoh(SMFICTX *ctx)
{
	struct lm_conn *c = smfi_getpriv(ctx);
	int nr = c != NULL && (c->pflags & SMFIP_NR_EOH);
	sfsistat r;

	if (c == NULL || c->snap == NULL)	/* the body or EOM tempfails */
		return nr ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	if (!c->mixed && c->is_list) {
		read_qid(ctx, c);
		eoh_decide(c);
	}
	if (nr)
		return SMFIS_NOREPLY;
	return pending(ctx, c, &r) ? r : SMFIS_CONTINUE;
}

static sfsistat
lm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct lm_conn *c = smfi_getpriv(ctx);

	sfsistat r;

	if (c == NULL || c->snap == NULL)
		return SMFIS_TEMPFAIL;
	if (pending(ctx, c, &r))
		return r;
	if (lm_msg_addbody(&c->msg, chunk, len) != 0)
		return lm_fail(ctx, c, 0, "out of memory keeping the body");
	lm_inbound_body(&c->inb, chunk, len);
	if (!c->msg.keep_body && c->inb.ver == NULL &&
	    (c->pflags & SMFIP_SKIP))
		return SMFIS_SKIP;
	return SMFIS_CONTINUE;
}

static int
apply_edit(SMFICTX *ctx, const struct lm_edit *e, int leadspc)
{
	char *v = e->value;

	if (!leadspc && v[0] == ' ')
		v++;
	switch (e->op) {
	case LM_E_CHG:
		return smfi_chgheader(ctx, e->name, e->idx, v);
	case LM_E_ADD:
		return smfi_addheader(ctx, e->name, v);
	case LM_E_INS:
		return smfi_insheader(ctx, e->idx, e->name, v);
	}
	return MI_FAILURE;
}

/* Apply every edit; 0 or -1 (then the caller tempfails). */
static int
apply(SMFICTX *ctx, struct lm_conn *c, const struct lm_edits *e,
    const char **what)
{
	size_t i, off;
	char from[340];

	for (i = 0; i < e->n; i++)
		if (apply_edit(ctx, &e->v[i], c->pflags & SMFIP_HDR_LEADSPC)
		    != MI_SUCCESS)
			return *what = "smfi header change failed", -1;
	for (off = 0; e->replace_body && off < e->body.len; off += 65535) {
		size_t n = e->body.len - off > 65535 ? 65535 :
		    e->body.len - off;

		if (smfi_replacebody(ctx, (unsigned char *)e->body.s + off,
		    (int)n) != MI_SUCCESS)
			return *what = "smfi_replacebody failed", -1;
	}
	if (c->plan.envfrom[0] != '\0') {
		snprintf(from, sizeof from, "<%s>", c->plan.envfrom);
		if (smfi_chgfrom(ctx, from, NULL) != MI_SUCCESS)
			return *what = "smfi_chgfrom failed", -1;
	}
	return 0;
}

static void
make_nonce(char *out, size_t sz)
{
	unsigned char r[12];
	size_t i;

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		memset(r, 0, sizeof r);
	for (i = 0; i < sizeof r && 2 * i + 2 < sz; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static sfsistat eom(SMFICTX *, struct lm_conn *, lm_buf *);

static void
log_dsn_rcpt(const struct lm_conn *c, const struct lm_dsn_rcpt *r)
{
	msg_info("%s: bounce list=%s to=%s rcpt=%s action=%s status=%s "
	    "remote=%s diag=\"%s\"", c->qid, c->bref.addr, c->bref.bounce,
	    r->final_rcpt[0] ? r->final_rcpt : "-",
	    r->action[0] ? r->action : "-", r->status[0] ? r->status : "-",
	    r->remote_mta[0] ? r->remote_mta : "-", r->diag);
}

/* Mail to a list's bounce address: one log line per recipient that a
   delivery status notification reports (RFC 3464), message unchanged. */
static void
log_bounce(struct lm_conn *c)
{
	const struct lm_hdr *ct = lm_msg_get(&c->msg, "Content-Type", 0);
	struct lm_dsn *d = calloc(1, sizeof *d);
	size_t i;
	int r;

	if (d == NULL) {
		msg_warn("%s: bounce list=%s not read: out of memory", c->qid,
		    c->bref.addr);
		return;
	}
	r = ct == NULL || c->msg.body_overflow ? 1 :
	    lm_dsn_parse(ct->value, ct->vlen, lm_buf_cstr(&c->msg.body),
	    c->msg.body.len, d);
	if (r != 0)
		msg_info("%s: bounce list=%s to=%s %s", c->qid, c->bref.addr,
		    c->bref.bounce, c->msg.body_overflow ? "too large to read" :
		    r > 0 ? "not a delivery status notification" :
		    "malformed delivery status notification");
	for (i = 0; r == 0 && i < d->n; i++)
		if (strcmp(d->r[i].action, "delivered") != 0 &&
		    strcmp(d->r[i].action, "relayed") != 0 &&
		    strcmp(d->r[i].action, "expanded") != 0)
			log_dsn_rcpt(c, &d->r[i]);
	if (r == 0 && d->more > 0)
		msg_info("%s: bounce list=%s %zu more recipients not logged",
		    c->qid, c->bref.addr, d->more);
	free(d);
}

/* DKIM-sign the copy the members get: our edits applied to the header
   fields we saw, and the body we kept (or the wrap body). */
static int
sign(struct lm_conn *c, struct lm_edits *e, char *err, size_t errsz)
{
	const lm_buf *body = e->replace_body ? &e->body : &c->msg.body;
	struct lm_msg fin;
	lm_buf sig;
	int r;

	lm_msg_init(&fin, 4 * c->msg.max_hbytes + 65536, 0);
	lm_buf_init(&sig, 8192);
	r = lm_edits_apply(&c->msg, e, &fin);
	if (r != 0)
		snprintf(err, errsz, "cannot assemble the signed copy");
	if (r == 0)
		r = lm_dkim_sign(c->snap->dkim, c->qid, c->key, c->list.domain,
		    &fin, lm_buf_cstr(body), body->len, &sig, err, errsz);
	if (r == 0 && lm_edits_add(e, LM_E_INS, "DKIM-Signature", 0,
	    lm_buf_cstr(&sig)) != 0) {
		snprintf(err, errsz, "out of memory");
		r = -1;
	}
	lm_buf_free(&sig);
	lm_msg_reset(&fin);
	return r;
}

static sfsistat
lm_eom(SMFICTX *ctx)
{
	struct lm_conn *c = smfi_getpriv(ctx);
	lm_buf ar;
	sfsistat rc;

	if (c == NULL || c->snap == NULL)
		return SMFIS_TEMPFAIL;
	lm_buf_init(&ar, 16384);
	rc = eom(ctx, c, &ar);
	lm_buf_free(&ar);
	return rc;
}

static sfsistat
eom(SMFICTX *ctx, struct lm_conn *c, lm_buf *ar)
{
	struct lm_rewrite_in in;
	struct lm_edits e;
	char err[256], nonce[32] = "", pol[300];
	const char *what = NULL;
	sfsistat r;

	read_qid(ctx, c);
	if (!c->is_list && !c->mixed) {
		log_bounce(c);
		msg_end(c);
		return SMFIS_ACCEPT;
	}
	if (pending(ctx, c, &r))		/* a message without a body */
		return r;
	if (c->mixed) {
		memset(&c->plan, 0, sizeof c->plan);
		c->plan.verdict = LM_V_REJECT;
		c->plan.why = "mixed-local-submission";
		lm_strlcpy(c->plan.rcode, "550", sizeof c->plan.rcode);
		lm_strlcpy(c->plan.xcode, "5.5.3", sizeof c->plan.xcode);
		lm_strlcpy(c->plan.text, "Mail to a mailing list must be "
		    "submitted separately from other recipients",
		    sizeof c->plan.text);
		return refuse(ctx, c);
	}
	if (!c->decided)
		return lm_fail(ctx, c, 0, "end of message before headers");
	finish_inbound(c);
	c->facts.too_big_to_wrap = c->msg.body_overflow;
	c->facts.too_big_to_sign = c->msg.body_overflow && c->key != NULL;
	lm_decide(&c->facts, &c->plan);
	if (c->plan.verdict == LM_V_REJECT || c->plan.verdict == LM_V_TEMPFAIL)
		return refuse(ctx, c);
	snprintf(pol, sizeof pol, "%s%s%s", c->pol.lookup == LM_LK_FOUND ?
	    lm_pol_name(c->pol.policy) : "", c->trusted[0] ? ", by trusted " :
	    "", c->trusted);
	if (c->auth_on && lm_authres_build(c->snap->authservid, c->auth,
	    lm_facts_author_domain(&c->facts), pol[0] ? pol : NULL, ar) != 0)
		return lm_fail(ctx, c, 0, "cannot build Authentication-Results");
	make_nonce(nonce, sizeof nonce);
	in.msg = &c->msg;
	in.facts = &c->facts;
	in.plan = &c->plan;
	in.nonce = nonce;
	in.hostname = c->snap->authservid;
	in.authservid = c->snap->authservid;
	in.authres = c->auth_on ? lm_buf_cstr(ar) : NULL;
	lm_edits_init(&e);
	if (lm_rewrite(&in, &e, err, sizeof err) != 0)
		return lm_fail(ctx, c, 0, err);
	if (c->key != NULL && sign(c, &e, err, sizeof err) != 0) {
		lm_edits_free(&e);
		return lm_fail(ctx, c, 0, err);
	}
	if (apply(ctx, c, &e, &what) != 0) {
		lm_edits_free(&e);
		return lm_fail(ctx, c, 1, what);
	}
	lm_edits_free(&e);
	log_line(c, "accept");
	msg_end(c);
	return SMFIS_ACCEPT;
}

static sfsistat
lm_abort(SMFICTX *ctx)
{
	struct lm_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		msg_end(c);
	return SMFIS_CONTINUE;
}

static sfsistat
lm_close(SMFICTX *ctx)
{
	struct lm_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		msg_end(c);
		free(c);
		(void)smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

int
lm_milter_register(struct lm_daemon *d)
{
	static struct smfiDesc desc = {
		"listmilter", SMFI_VERSION, LM_ACTIONS,
		lm_connect, lm_helo, lm_envfrom, lm_envrcpt, lm_header, lm_eoh,
		lm_body, lm_eom, lm_abort, lm_close, NULL, lm_data,
		lm_negotiate
	};

	lm_the_daemon = d;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
