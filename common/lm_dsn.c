/*
 * lm_dsn - delivery status notification parser (see lm_dsn.h for the
 * contract).
 *
 * Follows:
 *  - RFC 2045 5.1 Content-Type: type "/" subtype *(";" attribute "="
 *    value), value = token / quoted-string (quoted-pairs unescaped,
 *    folds removed), CFWS (folding whitespace, nested comments with
 *    quoted-pairs) between all tokens; names compared case-insensitively.
 *    Empty parameters (";;", a trailing ';') are tolerated; anything else
 *    that does not parse makes the field count as text/plain (5.2).  RFC
 *    2231 continuations are not supported (boundary*0 is another name).
 *  - RFC 2046 5.1.1: the boundary is 1 to 70 printable ASCII characters,
 *    not ending in a space, compared case-sensitively.  A delimiter line
 *    is "--" boundary ["--"] *WSP, alone on its line; the first may open
 *    the body, the CRLF before the others belongs to the delimiter.  The
 *    preamble and the epilogue (after the close delimiter) are ignored.
 *    Without a close delimiter the last part runs to the end of the body,
 *    so a body the caller cut at its limit still yields the report.
 *  - RFC 6522 3: multipart/report, report-type=delivery-status (or
 *    global-delivery-status: the parameter names the subtype of the
 *    report part); the first part of type message/delivery-status or
 *    message/global-delivery-status (RFC 6533 6.2) is the report, in
 *    whichever position.  Part headers without a Content-Type, or with
 *    one that does not parse, are text/plain.
 *  - RFC 2045 6: Content-Transfer-Encoding of that part 7bit, 8bit,
 *    binary (as is), quoted-printable (6.7: "=XX", soft line breaks, a
 *    stray '=' kept) or base64 (6.8: characters outside the alphabet
 *    ignored, stop at '='); any other value is malformed.
 *  - RFC 3464 2: the part is a sequence of field groups separated by
 *    blank lines (whitespace-only lines count as blank); fields fold as
 *    in RFC 5322 2.2.3.  The first non-empty group holds the per-message
 *    fields (2.2: Reporting-MTA, Original-Envelope-Id), each later group
 *    one recipient (2.3: Final-Recipient, Original-Recipient, Action,
 *    Status, Remote-MTA, Diagnostic-Code).  Field names are
 *    case-insensitive; the first of repeated fields wins; other fields
 *    and lines that are not fields are ignored; a group without a
 *    Final-Recipient is skipped.  "type;" prefixes (address-type,
 *    mta-name-type, diagnostic-type: an atom) are removed, and one pair
 *    of angle brackets around an address.  Action must be one of the five
 *    action-values and Status a status-code (RFC 3463: class 2, 4 or 5,
 *    1-3 digit subject and detail), each optionally followed by a
 *    comment; otherwise they are left empty.
 * Values: unfolded; control characters (C0, DEL, and as UTF-8 the C1
 * range, U+2028/2029 and bidirectional controls) become spaces or '?';
 * invalid UTF-8 bytes become '?'; whitespace runs collapse to one space;
 * both ends are trimmed; the result is cut at a character boundary.
 *
 * Ownership: callers own every input and *out; the only allocation is
 * the decoded quoted-printable or base64 status part, freed before
 * returning.  Pure C, no globals; every scan is bounded by the lengths
 * given and linear in them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_dsn.h"
#include "lm_rfc2047.h"

#define DS_MAXBOUNDARY	70		/* RFC 2046 5.1.1 */

struct ds_span {
	const char	*s;
	size_t		 n;
};

struct ds_cur {
	const char	*p;
	const char	*end;
};

/* A parameter value, unescaped; longer ones are cut and flagged. */
struct ds_val {
	char		 s[DS_MAXBOUNDARY + 1];
	size_t		 n;
	int		 cut;
};

struct ds_ctype {
	struct ds_span	 type, sub;
	struct ds_val	 boundary;	/* the first boundary parameter */
	int		 nboundary;
	int		 nrtype;	/* report-type parameters seen */
	int		 rtype_ds;	/* one of them names a delivery-status */
};

/* A body part split into the facts needed from its header. */
struct ds_phdr {
	int		 is_status;
	int		 has_cte;
	struct ds_span	 cte;
	struct ds_span	 content;
};

/* Multipart walker. */
struct ds_mp {
	struct ds_cur	 c;
	const struct ds_val *b;
	int		 started, closed;
};

enum ds_enc {
	DS_IDENT, DS_QP, DS_B64, DS_BADENC
};

enum ds_kind {
	DS_PLAIN,	/* value as is */
	DS_TYPED,	/* "type; value" */
	DS_ADDR,	/* "type; <address>" */
	DS_ACTION,
	DS_STATUS
};

/* A known field of a group: where its value goes. */
struct ds_fdef {
	const char	*name;
	unsigned	 flag;
	size_t		 off, sz;
	enum ds_kind	 kind;
};

#define DS_RF(n, f, m, k) { n, f, offsetof(struct lm_dsn_rcpt, m),	\
	sizeof(((struct lm_dsn_rcpt *)0)->m), k }
#define DS_MF(n, f, m, k) { n, f, offsetof(struct lm_dsn, m),		\
	sizeof(((struct lm_dsn *)0)->m), k }

static const struct ds_fdef ds_rcptf[] = {
	DS_RF("Final-Recipient", 0x01, final_rcpt, DS_ADDR),
	DS_RF("Original-Recipient", 0x02, orig_rcpt, DS_ADDR),
	DS_RF("Action", 0x04, action, DS_ACTION),
	DS_RF("Status", 0x08, status, DS_STATUS),
	DS_RF("Remote-MTA", 0x10, remote_mta, DS_TYPED),
	DS_RF("Diagnostic-Code", 0x20, diag, DS_TYPED),
};
#define DS_F_FINAL	0x01

static const struct ds_fdef ds_msgf[] = {
	DS_MF("Reporting-MTA", 0x01, reporting_mta, DS_TYPED),
	DS_MF("Original-Envelope-Id", 0x02, orig_envid, DS_PLAIN),
};

static const char *const ds_actions[] = {
	"failed", "delayed", "delivered", "relayed", "expanded"
};

/* Field group being collected. */
struct ds_grp {
	size_t		 idx;		/* non-empty groups before this one */
	int		 nonempty;
	unsigned	 seen;		/* flags of the fields stored */
	struct lm_dsn_rcpt r;
};

/* Bounded writer of one sanitized value. */
struct ds_out {
	char		*d;
	size_t		 sz, n;
	int		 sp;		/* a space is pending */
	int		 full;
};

/* ------------------------------------------------------------------ */
/* characters */

static int
ds_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
ds_fws(int c)
{
	return ds_wsp(c) || c == '\r' || c == '\n';
}

static int
ds_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
ds_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 2045 5.1 token character. */
static int
ds_tokenc(int c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* RFC 5322 3.2.3 atext (an atom of a "type;" prefix). */
static int
ds_atext(int c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\".[]", c) == NULL;
}

static int
ds_eq(const struct ds_span *s, const char *w)
{
	return lm_strcaseeq(s->s, s->n, w, strlen(w));
}

static int
ds_isds(const char *s, size_t n)
{
	return lm_strcaseeq(s, n, "delivery-status", 15) ||
	    lm_strcaseeq(s, n, "global-delivery-status", 22);
}

/* ------------------------------------------------------------------ */
/* Content-Type (RFC 2045 5.1) */

/* Skip folding whitespace and nested comments; -1 on an unclosed one. */
static int
ds_cfws(struct ds_cur *c)
{
	size_t depth = 0;
	int ch;

	while (c->p < c->end) {
		ch = (unsigned char)*c->p;
		if (depth > 0 && ch == '\\') {
			c->p++;
			if (c->p < c->end)
				c->p++;
			continue;
		}
		if (ch == '(')
			depth++;
		else if (ch == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !ds_fws(ch))
			return 0;
		c->p++;
	}
	return depth == 0 ? 0 : -1;
}

static int
ds_token(struct ds_cur *c, struct ds_span *t)
{
	t->s = c->p;
	while (c->p < c->end && ds_tokenc((unsigned char)*c->p))
		c->p++;
	t->n = (size_t)(c->p - t->s);
	return t->n > 0 ? 0 : -1;
}

static int
ds_eat(struct ds_cur *c, int ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

static void
ds_valadd(struct ds_val *v, int ch)
{
	if (v->n + 1 < sizeof v->s)
		v->s[v->n++] = (char)ch;
	else
		v->cut = 1;
	v->s[v->n] = '\0';
}

/* quoted-string, at the opening quote. */
static int
ds_quoted(struct ds_cur *c, struct ds_val *v)
{
	int ch;

	c->p++;
	while (c->p < c->end) {
		ch = (unsigned char)*c->p++;
		if (ch == '"')
			return 0;
		if (ch == '\\' && c->p < c->end)
			ch = (unsigned char)*c->p++;
		else if (ch == '\r' || ch == '\n')
			continue;		/* a fold */
		ds_valadd(v, ch);
	}
	return -1;
}

static int
ds_value(struct ds_cur *c, struct ds_val *v)
{
	struct ds_span t;
	size_t i;

	memset(v, 0, sizeof *v);
	if (c->p < c->end && *c->p == '"')
		return ds_quoted(c, v);
	if (ds_token(c, &t) != 0)
		return -1;
	for (i = 0; i < t.n; i++)
		ds_valadd(v, (unsigned char)t.s[i]);
	return 0;
}

static void
ds_param(struct ds_ctype *ct, const struct ds_span *name,
    const struct ds_val *v)
{
	if (ds_eq(name, "boundary")) {
		if (ct->nboundary++ == 0)
			ct->boundary = *v;
	} else if (ds_eq(name, "report-type")) {
		ct->nrtype++;
		if (!v->cut && ds_isds(v->s, v->n))
			ct->rtype_ds = 1;
	}
}

static int
ds_params(struct ds_cur *c, struct ds_ctype *ct)
{
	struct ds_span name;
	struct ds_val v;

	for (;;) {
		if (ds_cfws(c) != 0)
			return -1;
		if (c->p >= c->end)
			return 0;
		if (!ds_eat(c, ';') || ds_cfws(c) != 0)
			return -1;
		if (c->p >= c->end || *c->p == ';')
			continue;		/* empty parameter */
		if (ds_token(c, &name) != 0 || ds_cfws(c) != 0 ||
		    !ds_eat(c, '=') || ds_cfws(c) != 0 ||
		    ds_value(c, &v) != 0)
			return -1;
		ds_param(ct, &name, &v);
	}
}

/* Parse a Content-Type value; -1 if it does not parse. */
static int
ds_ctype(const char *s, size_t n, struct ds_ctype *ct)
{
	struct ds_cur c;

	memset(ct, 0, sizeof *ct);
	c.p = s;
	c.end = s + n;
	if (ds_cfws(&c) != 0 || ds_token(&c, &ct->type) != 0 ||
	    ds_cfws(&c) != 0 || !ds_eat(&c, '/') || ds_cfws(&c) != 0 ||
	    ds_token(&c, &ct->sub) != 0)
		return -1;
	return ds_params(&c, ct);
}

static int
ds_boundary_ok(const struct ds_val *b)
{
	size_t i;

	if (b->cut || b->n == 0 || b->n > DS_MAXBOUNDARY ||
	    b->s[b->n - 1] == ' ')
		return 0;
	for (i = 0; i < b->n; i++)
		if ((unsigned char)b->s[i] < 0x20 ||
		    (unsigned char)b->s[i] > 0x7e)
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* lines and fields */

/* Next line of c into *l, without its LF or CRLF; 0 at the end. */
static int
ds_line(struct ds_cur *c, struct ds_span *l)
{
	const char *nl;

	if (c->p >= c->end)
		return 0;
	l->s = c->p;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	if (nl == NULL) {
		l->n = (size_t)(c->end - c->p);
		c->p = c->end;
	} else {
		l->n = (size_t)(nl - c->p);
		c->p = nl + 1;
	}
	if (l->n > 0 && l->s[l->n - 1] == '\r')
		l->n--;
	return 1;
}

static int
ds_blank(const struct ds_span *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!ds_wsp((unsigned char)l->s[i]))
			return 0;
	return 1;
}

/*
 * Next logical line of c into *f: a line and the non-blank lines
 * starting with WSP after it (RFC 5322 2.2.3 folding), folds included.
 * *blank tells a blank line.  Returns 0 at the end.
 */
static int
ds_logical(struct ds_cur *c, struct ds_span *f, int *blank)
{
	struct ds_span l;
	struct ds_cur peek;

	if (!ds_line(c, f))
		return 0;
	if ((*blank = ds_blank(f)) != 0)
		return 1;
	for (;;) {
		peek = *c;
		if (peek.p >= peek.end || !ds_wsp((unsigned char)*peek.p) ||
		    !ds_line(&peek, &l) || ds_blank(&l))
			return 1;
		f->n = (size_t)(l.s + l.n - f->s);
		*c = peek;
	}
}

/* Split "name: value"; -1 if the logical line is not a field. */
static int
ds_field(const struct ds_span *f, struct ds_span *name, struct ds_span *val)
{
	const char *colon;
	size_t i;

	if ((colon = memchr(f->s, ':', f->n)) == NULL)
		return -1;
	name->s = f->s;
	name->n = (size_t)(colon - f->s);
	while (name->n > 0 && ds_wsp((unsigned char)name->s[name->n - 1]))
		name->n--;
	if (name->n == 0)
		return -1;
	for (i = 0; i < name->n; i++)
		if ((unsigned char)name->s[i] <= 0x20 ||
		    (unsigned char)name->s[i] >= 0x7f)
			return -1;
	val->s = colon + 1;
	val->n = (size_t)(f->s + f->n - val->s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* multipart (RFC 2046 5.1.1) */

/* 0: not a delimiter line, 1: a delimiter, 2: the close delimiter. */
static int
ds_delim(const struct ds_span *l, const struct ds_val *b)
{
	size_t i;
	int r = 1;

	if (l->n < b->n + 2 || l->s[0] != '-' || l->s[1] != '-' ||
	    memcmp(l->s + 2, b->s, b->n) != 0)
		return 0;
	i = b->n + 2;
	if (l->n - i >= 2 && l->s[i] == '-' && l->s[i + 1] == '-') {
		r = 2;
		i += 2;
	}
	for (; i < l->n; i++)
		if (!ds_wsp((unsigned char)l->s[i]))
			return 0;
	return r;
}

/* Skip the preamble up to the first delimiter; 0 if there is none. */
static int
ds_preamble(struct ds_mp *m)
{
	struct ds_span l;
	int d;

	while (ds_line(&m->c, &l))
		if ((d = ds_delim(&l, m->b)) != 0)
			return d == 1;
	return 0;
}

/* Next body part into *part; 0 when there is none. */
static int
ds_nextpart(struct ds_mp *m, struct ds_span *part)
{
	struct ds_span l;
	const char *start, *prev_end;
	int d;

	if (m->closed)
		return 0;
	if (!m->started) {
		m->started = 1;
		if (!ds_preamble(m)) {
			m->closed = 1;
			return 0;
		}
	}
	start = prev_end = m->c.p;
	while (ds_line(&m->c, &l)) {
		if ((d = ds_delim(&l, m->b)) != 0) {
			part->s = start;
			part->n = (size_t)((l.s > start ? prev_end : start) -
			    start);
			m->closed = d == 2;
			return 1;
		}
		prev_end = l.s + l.n;
	}
	part->s = start;			/* no close delimiter */
	part->n = (size_t)(m->c.end - start);
	m->closed = 1;
	return 1;
}

static void
ds_parthdr(const struct ds_span *part, struct ds_phdr *h)
{
	struct ds_cur c;
	struct ds_span f, name, val;
	struct ds_ctype ct;
	int blank, seen_ct = 0;

	memset(h, 0, sizeof *h);
	c.p = part->s;
	c.end = part->s + part->n;
	while (ds_logical(&c, &f, &blank) && !blank) {
		if (ds_field(&f, &name, &val) != 0)
			continue;
		if (ds_eq(&name, "Content-Type") && seen_ct++ == 0)
			h->is_status = ds_ctype(val.s, val.n, &ct) == 0 &&
			    ds_eq(&ct.type, "message") &&
			    ds_isds(ct.sub.s, ct.sub.n);
		else if (ds_eq(&name, "Content-Transfer-Encoding") &&
		    !h->has_cte) {
			h->cte = val;
			h->has_cte = 1;
		}
	}
	h->content.s = c.p;
	h->content.n = (size_t)(c.end - c.p);
}

/* ------------------------------------------------------------------ */
/* transfer encodings (RFC 2045 6) */

static enum ds_enc
ds_enc(const struct ds_phdr *h)
{
	struct ds_cur c;
	struct ds_span t;

	if (!h->has_cte)
		return DS_IDENT;
	c.p = h->cte.s;
	c.end = h->cte.s + h->cte.n;
	if (ds_cfws(&c) != 0 || ds_token(&c, &t) != 0 || ds_cfws(&c) != 0 ||
	    c.p != c.end)
		return DS_BADENC;
	if (ds_eq(&t, "7bit") || ds_eq(&t, "8bit") || ds_eq(&t, "binary"))
		return DS_IDENT;
	if (ds_eq(&t, "quoted-printable"))
		return DS_QP;
	if (ds_eq(&t, "base64"))
		return DS_B64;
	return DS_BADENC;
}

/* After a '=' at s[k]: the index past a soft line break, or 0. */
static size_t
ds_softbreak(const char *s, size_t n, size_t k)
{
	while (k < n && ds_wsp((unsigned char)s[k]))
		k++;
	if (k == n)
		return n;
	if (s[k] == '\n')
		return k + 1;
	if (s[k] == '\r' && k + 1 < n && s[k + 1] == '\n')
		return k + 2;
	return 0;
}

static int
ds_unqp(const char *s, size_t n, lm_buf *out)
{
	size_t i, j;
	int ch, hi, lo;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '=') {
			if (i + 2 < n && (hi = lm_hexval((unsigned char)s[i + 1]))
			    >= 0 && (lo = lm_hexval((unsigned char)s[i + 2])) >= 0) {
				ch = hi << 4 | lo;
				i += 2;
			} else if ((j = ds_softbreak(s, n, i + 1)) != 0) {
				i = j - 1;
				continue;
			}
		}
		if (lm_buf_addc(out, ch) != 0)
			return -1;
	}
	return 0;
}

static int
ds_unb64(const char *s, size_t n, lm_buf *out)
{
	uint32_t acc = 0;
	size_t i;
	int bits = 0, v;

	for (i = 0; i < n && s[i] != '='; i++) {
		if ((v = lm_b64val((unsigned char)s[i])) < 0)
			continue;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (lm_buf_addc(out, (int)(acc >> bits & 0xff)) != 0)
				return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* values */

static void
ds_trim(struct ds_span *v)
{
	while (v->n > 0 && ds_fws((unsigned char)v->s[0])) {
		v->s++;
		v->n--;
	}
	while (v->n > 0 && ds_fws((unsigned char)v->s[v->n - 1]))
		v->n--;
}

/* Drop a leading "atom ;" (address-type, mta-name-type, diagnostic-type). */
static void
ds_striptype(struct ds_span *v)
{
	size_t i = 0, k;

	while (i < v->n && ds_atext((unsigned char)v->s[i]))
		i++;
	k = i;
	while (k < v->n && ds_fws((unsigned char)v->s[k]))
		k++;
	if (i == 0 || k >= v->n || v->s[k] != ';')
		return;
	v->s += k + 1;
	v->n -= k + 1;
	ds_trim(v);
}

static void
ds_stripangle(struct ds_span *v)
{
	if (v->n >= 2 && v->s[0] == '<' && v->s[v->n - 1] == '>') {
		v->s++;
		v->n -= 2;
		ds_trim(v);
	}
}

static int
ds_badcp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* Append k bytes as one character, after the pending space; all or none. */
static void
ds_emit(struct ds_out *o, const char *p, size_t k)
{
	size_t need = k + (o->sp ? 1 : 0);

	if (o->full || o->n + need >= o->sz) {
		o->full = 1;
		return;
	}
	if (o->sp)
		o->d[o->n++] = ' ';
	memcpy(o->d + o->n, p, k);
	o->n += k;
	o->sp = 0;
	o->d[o->n] = '\0';
}

/* Write v sanitized into dst[sz] (see the header comment). */
static void
ds_clean(char *dst, size_t sz, const struct ds_span *v)
{
	const unsigned char *s = (const unsigned char *)v->s;
	struct ds_out o;
	uint32_t cp = 0;
	size_t i = 0, k;

	memset(&o, 0, sizeof o);
	o.d = dst;
	o.sz = sz;
	dst[0] = '\0';
	while (i < v->n && !o.full) {
		if (s[i] <= 0x20 || s[i] == 0x7f) {
			o.sp = o.n > 0;
			k = 1;
		} else if (s[i] < 0x80) {
			k = 1;
			ds_emit(&o, (const char *)s + i, 1);
		} else if ((k = lm_utf8_next((const char *)s + i, v->n - i,
		    &cp)) != 0)
			ds_emit(&o, ds_badcp(cp) ? "?" : (const char *)s + i,
			    ds_badcp(cp) ? 1 : k);
		else {
			k = 1;
			ds_emit(&o, "?", 1);
		}
		i += k;
	}
}

/* After v->s[k]: only folding whitespace, then the end or a comment. */
static int
ds_tailok(const struct ds_span *v, size_t k)
{
	while (k < v->n && ds_fws((unsigned char)v->s[k]))
		k++;
	return k == v->n || v->s[k] == '(';
}

static void
ds_action(char *dst, size_t sz, const struct ds_span *v)
{
	size_t k = 0, i;

	dst[0] = '\0';
	while (k < v->n && ds_alpha((unsigned char)v->s[k]))
		k++;
	if (!ds_tailok(v, k))
		return;
	for (i = 0; i < sizeof ds_actions / sizeof ds_actions[0]; i++)
		if (lm_strcaseeq(v->s, k, ds_actions[i],
		    strlen(ds_actions[i]))) {
			lm_strlcpy(dst, ds_actions[i], sz);
			return;
		}
}

/* 1*3DIGIT at v->s[*k]; advances *k. */
static int
ds_digits(const struct ds_span *v, size_t *k)
{
	size_t d = 0;

	while (*k < v->n && ds_digit((unsigned char)v->s[*k]) && d < 4) {
		(*k)++;
		d++;
	}
	return d >= 1 && d <= 3;
}

/* status-code = class "." subject "." detail (RFC 3463 2, RFC 3464 2.3.4). */
static void
ds_status(char *dst, size_t sz, const struct ds_span *v)
{
	size_t k = 2;

	dst[0] = '\0';
	if (v->n < 5 || (v->s[0] != '2' && v->s[0] != '4' && v->s[0] != '5') ||
	    v->s[1] != '.' || !ds_digits(v, &k) || k >= v->n ||
	    v->s[k] != '.')
		return;
	k++;
	if (!ds_digits(v, &k) || !ds_tailok(v, k) || k >= sz)
		return;
	memcpy(dst, v->s, k);
	dst[k] = '\0';
}

static void
ds_store(char *dst, size_t sz, const struct ds_span *val, enum ds_kind kind)
{
	struct ds_span v = *val;

	ds_trim(&v);
	switch (kind) {
	case DS_ACTION:
		ds_action(dst, sz, &v);
		return;
	case DS_STATUS:
		ds_status(dst, sz, &v);
		return;
	case DS_ADDR:
		ds_striptype(&v);
		ds_stripangle(&v);
		break;
	case DS_TYPED:
		ds_striptype(&v);
		break;
	case DS_PLAIN:
		break;
	}
	ds_clean(dst, sz, &v);
}

/* ------------------------------------------------------------------ */
/* delivery-status fields (RFC 3464 2) */

static void
ds_apply(const struct ds_fdef *t, size_t nt, char *base, unsigned *seen,
    const struct ds_span *name, const struct ds_span *val)
{
	size_t i;

	for (i = 0; i < nt; i++) {
		if (!ds_eq(name, t[i].name))
			continue;
		if ((*seen & t[i].flag) == 0) {
			*seen |= t[i].flag;
			ds_store(base + t[i].off, t[i].sz, val, t[i].kind);
		}
		return;
	}
}

static void
ds_grpfield(struct ds_grp *g, const struct ds_span *f, struct lm_dsn *out)
{
	struct ds_span name, val;

	if (ds_field(f, &name, &val) != 0)
		return;
	g->nonempty = 1;
	if (g->idx == 0)
		ds_apply(ds_msgf, sizeof ds_msgf / sizeof ds_msgf[0],
		    (char *)out, &g->seen, &name, &val);
	else
		ds_apply(ds_rcptf, sizeof ds_rcptf / sizeof ds_rcptf[0],
		    (char *)&g->r, &g->seen, &name, &val);
}

static void
ds_endgrp(struct ds_grp *g, struct lm_dsn *out)
{
	if (!g->nonempty)
		return;
	if (g->idx > 0 && (g->seen & DS_F_FINAL) != 0) {
		if (out->n < LM_DSN_MAXRCPT)
			out->r[out->n++] = g->r;
		else
			out->more++;
	}
	g->idx++;
	g->nonempty = 0;
	g->seen = 0;
	memset(&g->r, 0, sizeof g->r);
}

static int
ds_fields(const char *s, size_t n, struct lm_dsn *out)
{
	struct ds_cur c;
	struct ds_span f;
	struct ds_grp g;
	int blank;

	memset(&g, 0, sizeof g);
	c.p = s;
	c.end = s + n;
	while (ds_logical(&c, &f, &blank)) {
		if (blank)
			ds_endgrp(&g, out);
		else
			ds_grpfield(&g, &f, out);
	}
	ds_endgrp(&g, out);
	return out->n > 0 || out->more > 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */

static int
ds_decode(const struct ds_phdr *h, struct lm_dsn *out)
{
	enum ds_enc e = ds_enc(h);
	lm_buf b;
	int r;

	if (e == DS_BADENC)
		return -1;
	if (e == DS_IDENT)
		return ds_fields(h->content.s, h->content.n, out);
	lm_buf_init(&b, h->content.n);	/* decoding never grows */
	if (e == DS_QP)
		r = ds_unqp(h->content.s, h->content.n, &b);
	else
		r = ds_unb64(h->content.s, h->content.n, &b);
	if (r == 0)
		r = ds_fields(lm_buf_cstr(&b), b.len, out);
	lm_buf_free(&b);
	return r;
}

static int
ds_report(const struct ds_ctype *ct, const char *body, size_t blen,
    struct lm_dsn *out)
{
	struct ds_mp m;
	struct ds_span part;
	struct ds_phdr h;

	if (ct->nboundary != 1 || ct->nrtype != 1 ||
	    !ds_boundary_ok(&ct->boundary))
		return -1;
	memset(&m, 0, sizeof m);
	m.c.p = body;
	m.c.end = body + blen;
	m.b = &ct->boundary;
	while (ds_nextpart(&m, &part)) {
		ds_parthdr(&part, &h);
		if (h.is_status)
			return ds_decode(&h, out);
	}
	return -1;
}

int
lm_dsn_parse(const char *content_type, size_t ctlen, const char *body,
    size_t blen, struct lm_dsn *out)
{
	struct ds_ctype ct;

	memset(out, 0, sizeof *out);
	if (content_type == NULL ||
	    ds_ctype(content_type, ctlen, &ct) != 0 ||
	    !ds_eq(&ct.type, "multipart") || !ds_eq(&ct.sub, "report") ||
	    !ct.rtype_ds)
		return 1;
	if (body == NULL) {
		body = "";
		blen = 0;
	}
	if (ds_report(&ct, body, blen, out) != 0) {
		memset(out, 0, sizeof *out);
		out->is_dsn = 1;
		return -1;
	}
	out->is_dsn = 1;
	return 0;
}
