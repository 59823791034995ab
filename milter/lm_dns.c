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
#include "lm_cache.h"
#include "lm_dns.h"

#define DNS_CACHE_ENTRIES	10000
#define DNS_CACHE_BYTES		(8u << 20)
#define DNS_CACHE_MAXTTL	86400	/* RFC 2181 8 suggests a week */

struct lm_dns {
	struct ub_ctx	*ub;
	pthread_t	 thr;
	int		 wake[2];	/* pipe: stop the dispatcher */
	pthread_mutex_t	 mu;
	int		 refs;
	char		*k_ns, *k_conf, *k_ta;	/* config it was built from */
	pthread_mutex_t	 cmu;		/* guards cache */
	struct lm_cache	*cache;		/* answers within their TTL */
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
	pthread_mutex_destroy(&d->cmu);
	lm_cache_free(d->cache);
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
	pthread_mutex_init(&d->cmu, NULL);
	if ((d->cache = lm_cache_new(DNS_CACHE_ENTRIES, DNS_CACHE_BYTES)) ==
	    NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
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

/* --- our copies of answers, and the cache --------------------------- */

static long long
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

void
lm_dns_free(struct ub_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; r->data != NULL && r->data[i] != NULL; i++)
		free(r->data[i]);
	free(r->data);
	free(r->len);
	free(r->answer_packet);
	free(r->qname);
	free(r->canonname);
	free(r->why_bogus);
	free(r);
}

enum { H_QTYPE, H_QCLASS, H_RCODE, H_HAVEDATA, H_NXDOMAIN, H_SECURE,
	H_BOGUS, H_TTL, H_ANSLEN, H_NDATA, H_N };

/* r as bytes: the header ints, each rdata (length, bytes), the wire
   answer, qname and canonname NUL-terminated ("" for none). */
static int
res_pack(const struct ub_result *r, lm_buf *b)
{
	int h[H_N] = { r->qtype, r->qclass, r->rcode, r->havedata, r->nxdomain,
	    r->secure, r->bogus, r->ttl, r->answer_packet != NULL ?
	    r->answer_len : 0, 0 };
	int i, bad;

	while (r->data != NULL && r->data[h[H_NDATA]] != NULL)
		h[H_NDATA]++;
	bad = lm_buf_add(b, h, sizeof h);
	for (i = 0; i < h[H_NDATA]; i++)
		bad |= lm_buf_add(b, &r->len[i], sizeof r->len[i]) |
		    lm_buf_add(b, r->data[i], (size_t)r->len[i]);
	if (h[H_ANSLEN] > 0)
		bad |= lm_buf_add(b, r->answer_packet, (size_t)h[H_ANSLEN]);
	bad |= lm_buf_add(b, r->qname != NULL ? r->qname : "",
	    r->qname != NULL ? strlen(r->qname) + 1 : 1);
	bad |= lm_buf_add(b, r->canonname != NULL ? r->canonname : "",
	    r->canonname != NULL ? strlen(r->canonname) + 1 : 1);
	return bad ? -1 : 0;
}

struct rd {
	const char	*p, *e;
};

/* n bytes from the reader into a new allocation (n may be 0). */
static void *
rd_bytes(struct rd *r, size_t n)
{
	void *v;

	if ((size_t)(r->e - r->p) < n || (v = malloc(n > 0 ? n : 1)) == NULL)
		return NULL;
	memcpy(v, r->p, n);
	r->p += n;
	return v;
}

static int
rd_int(struct rd *r, int *v)
{
	if ((size_t)(r->e - r->p) < sizeof *v)
		return -1;
	memcpy(v, r->p, sizeof *v);
	r->p += sizeof *v;
	return *v >= 0 ? 0 : -1;
}

static char *
rd_str(struct rd *r)
{
	const char *z = memchr(r->p, '\0', (size_t)(r->e - r->p));

	return z != NULL ? rd_bytes(r, (size_t)(z - r->p) + 1) : NULL;
}

static int
rd_rdata(struct rd *r, struct ub_result *res, int n)
{
	int i;

	if ((res->data = calloc((size_t)n + 1, sizeof *res->data)) == NULL ||
	    (res->len = calloc((size_t)n + 1, sizeof *res->len)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (rd_int(r, &res->len[i]) != 0 || (res->data[i] =
		    rd_bytes(r, (size_t)res->len[i])) == NULL)
			return -1;
	return 0;
}

/* A new result from res_pack() bytes; ttl >= 0 replaces the stored TTL
   (what is left of it for a cached answer).  NULL when out of memory. */
static struct ub_result *
res_unpack(const char *p, size_t n, int ttl)
{
	struct rd r = { p, p + n };
	struct ub_result *res = calloc(1, sizeof *res);
	int h[H_N], i;

	if (res == NULL)
		return NULL;
	for (i = 0; i < H_N; i++)
		if (rd_int(&r, &h[i]) != 0)
			goto fail;
	res->qtype = h[H_QTYPE];
	res->qclass = h[H_QCLASS];
	res->rcode = h[H_RCODE];
	res->havedata = h[H_HAVEDATA];
	res->nxdomain = h[H_NXDOMAIN];
	res->secure = h[H_SECURE];
	res->bogus = h[H_BOGUS];
	res->ttl = ttl >= 0 ? ttl : h[H_TTL];
	if (rd_rdata(&r, res, h[H_NDATA]) != 0 || (h[H_ANSLEN] > 0 &&
	    (res->answer_packet = rd_bytes(&r, (size_t)h[H_ANSLEN])) == NULL))
		goto fail;
	res->answer_len = h[H_ANSLEN];
	if ((res->qname = rd_str(&r)) == NULL ||
	    (res->canonname = rd_str(&r)) == NULL)
		goto fail;
	if (res->canonname[0] == '\0') {
		free(res->canonname);
		res->canonname = NULL;
	}
	return res;
fail:
	lm_dns_free(res);
	return NULL;
}

/* The cache key: the lower-cased name without a final dot, NUL, type. */
static size_t
cache_key(const char *name, int type, char *key, size_t sz)
{
	size_t n = strlen(name);

	if (n > 1 && name[n - 1] == '.')
		n--;
	if (n + 1 + sizeof type > sz)
		return 0;
	memcpy(key, name, n);
	lm_lower(key, n);
	key[n] = '\0';
	memcpy(key + n + 1, &type, sizeof type);
	return n + 1 + sizeof type;
}

static struct ub_result *
cache_get(struct lm_dns *d, const char *key, size_t klen)
{
	struct ub_result *res = NULL;
	long long exp, now = mono_now();
	lm_buf b;
	int hit;

	lm_buf_init(&b, DNS_CACHE_BYTES);
	pthread_mutex_lock(&d->cmu);
	hit = lm_cache_get(d->cache, key, klen, now, &b, &exp);
	pthread_mutex_unlock(&d->cmu);
	if (hit == 1)
		res = res_unpack(b.s, b.len, (int)(exp - now));
	lm_buf_free(&b);
	return res;
}

static void
cache_put(struct lm_dns *d, const char *key, size_t klen, const lm_buf *b,
    int ttl)
{
	long long now = mono_now();

	pthread_mutex_lock(&d->cmu);
	(void)lm_cache_put(d->cache, key, klen, b->s, b->len, now +
	    (ttl < DNS_CACHE_MAXTTL ? ttl : DNS_CACHE_MAXTTL), now);
	pthread_mutex_unlock(&d->cmu);
}

struct lm_dns_q {
	struct lm_dns	*dns;
	struct lm_query	*q;
	int		 id;
	struct ub_result *hit;		/* answered from the cache */
	char		 key[300];
	size_t		 klen;
};

/* Our copy of libunbound's result r; answers (not failures, not bogus)
   with a TTL go into the cache. */
static struct ub_result *
adopt(struct lm_dns_q *h, const struct ub_result *r)
{
	struct ub_result *out = NULL;
	enum lm_dns_rc rc = classify(r);
	lm_buf b;

	lm_buf_init(&b, DNS_CACHE_BYTES);
	if (res_pack(r, &b) == 0 && (out = res_unpack(b.s, b.len, -1)) !=
	    NULL && rc != LM_DNS_TEMPFAIL && rc != LM_DNS_PERMFAIL &&
	    !r->bogus && r->ttl > 0 && h->klen > 0)
		cache_put(h->dns, h->key, h->klen, &b, r->ttl);
	lm_buf_free(&b);
	return out;
}

struct lm_dns_q *
lm_dns_start(struct lm_dns *d, const char *name, int type)
{
	struct lm_dns_q *h = calloc(1, sizeof *h);

	if (h == NULL)
		return NULL;
	h->dns = d;
	h->klen = cache_key(name, type, h->key, sizeof h->key);
	if (h->klen > 0 && (h->hit = cache_get(d, h->key, h->klen)) != NULL)
		return h;
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
	if (h->hit != NULL)
		lm_dns_free(h->hit);
	else
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
	if (h->hit != NULL) {
		*res = h->hit;
		free(h);
		return classify(*res);
	}
	if (query_wait(q, deadline) != 0) {
		lm_dns_cancel(h);
		return LM_DNS_TEMPFAIL;
	}
	rc = LM_DNS_TEMPFAIL;
	if (q->err == 0 && q->res != NULL && (*res = adopt(h, q->res)) != NULL)
		rc = classify(*res);
	if (q->res != NULL)
		ub_resolve_free(q->res);
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
