/*
 * lm_dns - libunbound behind a deadline (see lm_dns.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <unbound.h>

#include "lm_buf.h"
#include "lm_dns.h"

struct lm_dns {
	struct ub_ctx	*ub;
	pthread_t	 thr;
	int		 wake[2];	/* pipe: stop the dispatcher */
	pthread_mutex_t	 mu;
	int		 refs;
	char		*k_ns, *k_conf, *k_ta;	/* config it was built from */
};

struct lm_query {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 done, abandoned, err;
	struct ub_result *res;
};

static void
query_free(struct lm_query *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}

/* Called by ub_process() in the dispatcher thread. */
static void
query_cb(void *arg, int err, struct ub_result *res)
{
	struct lm_query *q = arg;

	pthread_mutex_lock(&q->mu);
	if (q->abandoned) {
		pthread_mutex_unlock(&q->mu);
		if (res != NULL)
			ub_resolve_free(res);
		query_free(q);
		return;
	}
	q->err = err;
	q->res = res;
	q->done = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void *
dispatcher(void *arg)
{
	struct lm_dns *d = arg;
	struct pollfd pfd[2];

	pfd[0].fd = ub_fd(d->ub);
	pfd[0].events = POLLIN;
	pfd[1].fd = d->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents != 0)
			(void)ub_process(d->ub);
	}
	return NULL;
}

static int
fwd_one(struct ub_ctx *ub, const char *ns, char *err, size_t errsz)
{
	char addr[64], *at;
	unsigned char tmp[16];
	int rc;

	lm_strlcpy(addr, ns, sizeof addr);
	if ((at = strchr(addr, '@')) != NULL)
		*at = '\0';
	if (inet_pton(AF_INET, addr, tmp) != 1 &&
	    inet_pton(AF_INET6, addr, tmp) != 1)
		return snprintf(err, errsz, "Nameservers: \"%s\" is not an "
		    "IP address", addr), -1;
	if ((rc = ub_ctx_set_fwd(ub, ns)) != 0)
		return snprintf(err, errsz, "Nameservers: %s: %s", ns,
		    ub_strerror(rc)), -1;
	return 0;
}

/* Apply the configuration to a fresh context. */
static int
configure(struct ub_ctx *ub, const struct lm_config *c, char *err,
    size_t errsz)
{
	char ns[8][64];
	int i, n, rc;

	if ((rc = ub_ctx_set_option(ub, "msg-cache-size:", "4m")) != 0 ||
	    (rc = ub_ctx_set_option(ub, "rrset-cache-size:", "8m")) != 0 ||
	    (rc = ub_ctx_set_option(ub, "infra-cache-max-rtt:", "3000")) != 0)
		return snprintf(err, errsz, "libunbound: %s",
		    ub_strerror(rc)), -1;
	if (c->unbound_conf[0] != '\0' &&
	    (rc = ub_ctx_config(ub, c->unbound_conf)) != 0)
		return snprintf(err, errsz, "UnboundConfigFile %s: %s",
		    c->unbound_conf, rc == UB_READFILE ? strerror(errno) :
		    ub_strerror(rc)), -1;
	if (c->trust_anchor[0] != '\0' &&
	    (rc = ub_ctx_add_ta_file(ub, c->trust_anchor)) != 0)
		return snprintf(err, errsz, "TrustAnchorFile %s: %s",
		    c->trust_anchor, ub_strerror(rc)), -1;
	if ((n = lm_conf_nameservers(c->nameservers, ns, 8)) < 0)
		return snprintf(err, errsz, "Nameservers: at most 8 entries "
		    "of ADDR or ADDR@PORT"), -1;
	for (i = 0; i < n; i++)
		if (fwd_one(ub, ns[i], err, errsz) != 0)
			return -1;
	if (n == 0 && c->unbound_conf[0] == '\0' &&
	    (rc = ub_ctx_resolvconf(ub, NULL)) != 0)
		return snprintf(err, errsz, "resolv.conf: %s",
		    ub_strerror(rc)), -1;
	if ((rc = ub_ctx_async(ub, 1)) != 0)
		return snprintf(err, errsz, "libunbound async: %s",
		    ub_strerror(rc)), -1;
	return 0;
}

static int
keep_keys(struct lm_dns *d, const struct lm_config *c)
{
	d->k_ns = lm_strndup(c->nameservers, strlen(c->nameservers));
	d->k_conf = lm_strndup(c->unbound_conf, strlen(c->unbound_conf));
	d->k_ta = lm_strndup(c->trust_anchor, strlen(c->trust_anchor));
	return d->k_ns && d->k_conf && d->k_ta ? 0 : -1;
}

static void
dns_destroy(struct lm_dns *d)
{
	if (d->ub != NULL)
		ub_ctx_delete(d->ub);
	if (d->wake[0] >= 0)
		close(d->wake[0]);
	if (d->wake[1] >= 0)
		close(d->wake[1]);
	pthread_mutex_destroy(&d->mu);
	free(d->k_ns);
	free(d->k_conf);
	free(d->k_ta);
	free(d);
}

struct lm_dns *
lm_dns_new(const struct lm_config *c, char *err, size_t errsz)
{
	struct lm_dns *d;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return snprintf(err, errsz, "out of memory"), NULL;
	d->wake[0] = d->wake[1] = -1;
	d->refs = 1;
	pthread_mutex_init(&d->mu, NULL);
	if ((d->ub = ub_ctx_create()) == NULL) {
		snprintf(err, errsz, "cannot create libunbound context");
		goto fail;
	}
	if (configure(d->ub, c, err, errsz) != 0)
		goto fail;
	if (keep_keys(d, c) != 0 || pipe(d->wake) != 0) {
		snprintf(err, errsz, "out of resources");
		goto fail;
	}
	if (pthread_create(&d->thr, NULL, dispatcher, d) != 0) {
		snprintf(err, errsz, "cannot start the DNS thread");
		goto fail;
	}
	return d;
fail:
	dns_destroy(d);
	return NULL;
}

struct lm_dns *
lm_dns_ref(struct lm_dns *d)
{
	pthread_mutex_lock(&d->mu);
	d->refs++;
	pthread_mutex_unlock(&d->mu);
	return d;
}

void
lm_dns_unref(struct lm_dns *d)
{
	int last;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	last = --d->refs == 0;
	pthread_mutex_unlock(&d->mu);
	if (!last)
		return;
	(void)!write(d->wake[1], "x", 1);
	pthread_join(d->thr, NULL);
	dns_destroy(d);
}

int
lm_dns_same_config(const struct lm_dns *d, const struct lm_config *c)
{
	return strcmp(d->k_ns, c->nameservers) == 0 &&
	    strcmp(d->k_conf, c->unbound_conf) == 0 &&
	    strcmp(d->k_ta, c->trust_anchor) == 0;
}

static enum lm_dns_rc
classify(const struct ub_result *r)
{
	if (r->nxdomain)
		return LM_DNS_NXDOMAIN;
	if (r->rcode == 2)
		return LM_DNS_TEMPFAIL;
	if (r->rcode != 0)
		return LM_DNS_PERMFAIL;
	return r->havedata ? LM_DNS_OK : LM_DNS_NODATA;
}

/* Wait for q until the deadline; 0 answered, -1 timed out. */
static int
query_wait(struct lm_query *q, const struct timespec *deadline)
{
	int rc = 0, done;

	pthread_mutex_lock(&q->mu);
	while (!q->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->cv, &q->mu, deadline);
	done = q->done;
	pthread_mutex_unlock(&q->mu);
	return done ? 0 : -1;
}

static struct lm_query *
query_new(void)
{
	struct lm_query *q = calloc(1, sizeof *q);
	pthread_condattr_t ca;

	if (q == NULL)
		return NULL;
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	return q;
}

struct lm_dns_q {
	struct lm_dns	*dns;
	struct lm_query	*q;
	int		 id;
};

struct lm_dns_q *
lm_dns_start(struct lm_dns *d, const char *name, int type)
{
	struct lm_dns_q *h = calloc(1, sizeof *h);

	if (h == NULL)
		return NULL;
	h->dns = d;
	if ((h->q = query_new()) == NULL) {
		free(h);
		return NULL;
	}
	if (ub_resolve_async(d->ub, name, type, 1, h->q, query_cb,
	    &h->id) != 0) {
		query_free(h->q);
		free(h);
		return NULL;
	}
	return h;
}

/* Give the query up: on a successful cancel the callback never runs and
   we own q; otherwise the callback frees it (it sees `abandoned`). */
static void
abandon(struct lm_dns_q *h)
{
	pthread_mutex_lock(&h->q->mu);
	if (h->q->done) {
		pthread_mutex_unlock(&h->q->mu);
		if (h->q->res != NULL)
			ub_resolve_free(h->q->res);
		query_free(h->q);
		return;
	}
	h->q->abandoned = 1;
	pthread_mutex_unlock(&h->q->mu);
	if (ub_cancel(h->dns->ub, h->id) == 0)
		query_free(h->q);
}

void
lm_dns_cancel(struct lm_dns_q *h)
{
	if (h == NULL)
		return;
	abandon(h);
	free(h);
}

enum lm_dns_rc
lm_dns_wait(struct lm_dns_q *h, const struct timespec *deadline,
    struct ub_result **res)
{
	struct lm_query *q = h->q;
	enum lm_dns_rc rc;

	*res = NULL;
	if (query_wait(q, deadline) != 0) {
		lm_dns_cancel(h);
		return LM_DNS_TEMPFAIL;
	}
	if (q->err != 0 || q->res == NULL) {
		rc = LM_DNS_TEMPFAIL;
		if (q->res != NULL)
			ub_resolve_free(q->res);
	} else {
		rc = classify(q->res);
		*res = q->res;
	}
	query_free(q);
	free(h);
	return rc;
}

enum lm_dns_rc
lm_dns_query(struct lm_dns *d, const char *name, int type,
    const struct timespec *deadline, struct ub_result **res)
{
	struct lm_dns_q *h = lm_dns_start(d, name, type);

	*res = NULL;
	if (h == NULL)
		return LM_DNS_TEMPFAIL;
	return lm_dns_wait(h, deadline, res);
}

int
lm_dns_txt_join(const char *rdata, int len, char *out, size_t outsz)
{
	const unsigned char *d = (const unsigned char *)rdata;
	size_t o = 0;
	int p = 0;

	while (p < len) {
		int n = d[p];

		if (p + 1 + n > len || o + (size_t)n >= outsz)
			return -1;
		memcpy(out + o, d + p + 1, (size_t)n);
		o += (size_t)n;
		p += 1 + n;
	}
	if (outsz == 0)
		return -1;
	out[o] = '\0';
	return (int)o;
}

const char *
lm_dns_rc_name(enum lm_dns_rc rc)
{
	static const char *n[] = { "ok", "nxdomain", "nodata", "tempfail",
	    "permfail" };

	return (unsigned)rc < 5 ? n[rc] : "?";
}

void
lm_deadline(struct timespec *ts, long seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += seconds;
}
