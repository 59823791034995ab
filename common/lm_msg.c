/*
 * lm_msg - collected header fields and optional body (see lm_msg.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lm_msg.h"

#define LM_MSG_MAXFIELDS 10000

void
lm_msg_init(struct lm_msg *m, size_t max_hbytes, size_t max_body)
{
	memset(m, 0, sizeof *m);
	m->max_hbytes = max_hbytes;
	lm_buf_init(&m->body, max_body);
}

void
lm_msg_reset(struct lm_msg *m)
{
	size_t i, maxh = m->max_hbytes, maxb = m->body.max;

	for (i = 0; i < m->nh; i++) {
		free(m->h[i].name);
		free(m->h[i].value);
	}
	free(m->h);
	lm_buf_free(&m->body);
	lm_msg_init(m, maxh, maxb);
}

int
lm_msg_addhdr(struct lm_msg *m, const char *name, const char *value,
    size_t vlen)
{
	size_t nlen = strlen(name), cost = nlen + vlen + 3;
	struct lm_hdr *h;

	if (m->hdr_overflow || m->nh >= LM_MSG_MAXFIELDS ||
	    cost > m->max_hbytes - m->hbytes || m->hbytes > m->max_hbytes) {
		m->hdr_overflow = 1;
		return 0;
	}
	if (m->nh == m->caph) {
		size_t nc = m->caph ? m->caph * 2 : 32;

		if ((h = realloc(m->h, nc * sizeof *h)) == NULL)
			return -1;
		m->h = h;
		m->caph = nc;
	}
	h = &m->h[m->nh];
	h->name = lm_strndup(name, nlen);
	h->value = lm_strndup(value, vlen);
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		return -1;
	}
	h->vlen = vlen;
	m->nh++;
	m->hbytes += cost;
	return 0;
}

int
lm_msg_addbody(struct lm_msg *m, const void *p, size_t n)
{
	m->body_seen += n;
	if (!m->keep_body || m->body_overflow)
		return 0;
	if (lm_buf_add(&m->body, p, n) != 0) {
		/* lm_buf fails both on ENOMEM and on its maximum */
		if (m->body.len + n < m->body.len || m->body.len + n >
		    m->body.max) {
			m->body_overflow = 1;
			lm_buf_free(&m->body);
			return 0;
		}
		return -1;
	}
	return 0;
}

size_t
lm_msg_count(const struct lm_msg *m, const char *name)
{
	size_t i, n = 0, len = strlen(name);

	for (i = 0; i < m->nh; i++)
		if (lm_strcaseeq(m->h[i].name, strlen(m->h[i].name), name,
		    len))
			n++;
	return n;
}

const struct lm_hdr *
lm_msg_get(const struct lm_msg *m, const char *name, size_t nth)
{
	size_t i, len = strlen(name);

	for (i = 0; i < m->nh; i++)
		if (lm_strcaseeq(m->h[i].name, strlen(m->h[i].name), name,
		    len) && nth-- == 0)
			return &m->h[i];
	return NULL;
}

/* Append v converting every LF not preceded by CR into CRLF. */
static int
add_crlf(lm_buf *out, const char *v, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (v[i] != '\n' || (i > 0 && v[i - 1] == '\r'))
			continue;
		if (lm_buf_add(out, v + start, i - start) != 0 ||
		    lm_buf_add(out, "\r\n", 2) != 0)
			return -1;
		start = i + 1;
	}
	return lm_buf_add(out, v + start, n - start);
}

int
lm_msg_headers_wire(const struct lm_msg *m, lm_buf *out)
{
	size_t i;

	for (i = 0; i < m->nh; i++)
		if (lm_buf_adds(out, m->h[i].name) != 0 ||
		    lm_buf_addc(out, ':') != 0 ||
		    add_crlf(out, m->h[i].value, m->h[i].vlen) != 0 ||
		    lm_buf_add(out, "\r\n", 2) != 0)
			return -1;
	return 0;
}

int
lm_unfold(const char *v, size_t n, lm_buf *out)
{
	size_t i, b, e;

	for (b = 0; b < n && (v[b] == ' ' || v[b] == '\t' || v[b] == '\r' ||
	    v[b] == '\n'); b++)
		;
	for (e = n; e > b && (v[e - 1] == ' ' || v[e - 1] == '\t' ||
	    v[e - 1] == '\r' || v[e - 1] == '\n'); e--)
		;
	for (i = b; i < e; i++) {
		if (v[i] == '\r' && i + 1 < e && v[i + 1] == '\n')
			continue;
		if (v[i] == '\n')
			continue;
		if (lm_buf_addc(out, v[i]) != 0)
			return -1;
	}
	return 0;
}
