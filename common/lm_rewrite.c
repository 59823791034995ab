/*
 * lm_rewrite - header and body edits for munge, wrap and pass plans
 * (see lm_rewrite.h for the semantics and the RFCs followed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lm_addr.h"
#include "lm_auth.h"
#include "lm_rewrite.h"
#include "lm_rfc2047.h"

#define LM_NAME_MAXCP	78	/* code points kept of an author name */
#define LM_VALUE_MAX	(64 * 1024)

void
lm_edits_init(struct lm_edits *e)
{
	memset(e, 0, sizeof *e);
	lm_buf_init(&e->body, 0);
}

void
lm_edits_free(struct lm_edits *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].value);
	}
	free(e->v);
	lm_buf_free(&e->body);
	lm_edits_init(e);
}

#define LM_LINE_SOFT	78	/* RFC 5322 2.1.1: SHOULD */
#define LM_LINE_HARD	998	/* RFC 5322 2.1.1: MUST */
#define LM_LINE_CUT	900	/* where a run without white space is cut */

/* One line of a field, from col on, into out: unchanged when it fits in
   LM_LINE_HARD; else folded at the first white space past LM_LINE_SOFT,
   and a run of LM_LINE_CUT bytes without white space cut by a fold (it
   gains a space when unfolded: the price of a legal line). */
static int
fold_line(lm_buf *out, const char *s, size_t n, size_t col)
{
	size_t i;
	int r = 0;

	if (col + n <= LM_LINE_HARD)
		return lm_buf_add(out, s, n);
	for (i = 0; r == 0 && i < n; i++) {
		int wsp = s[i] == ' ' || s[i] == '\t';

		if (wsp && col >= LM_LINE_SOFT) {
			r = lm_buf_addc(out, '\n');	/* s[i] is the fold's WSP */
			col = 0;
		} else if (!wsp && col >= LM_LINE_CUT) {
			r = lm_buf_adds(out, "\n\t");
			col = 1;
		}
		r |= lm_buf_addc(out, s[i]);
		col++;
	}
	return r;
}

/* value with LF line ends only (CRLF becomes LF, a lone CR a space), no
   line break that is not a fold (an LF not followed by white space gets a
   tab: a value can never start a new field), and no trailing LF, into
   out. */
static int
fold_clean(const char *v, lm_buf *out)
{
	int r = 0;

	for (; r == 0 && *v != '\0'; v++) {
		if (*v == '\r' && v[1] == '\n')
			continue;
		if (*v == '\n' && v[1] == '\0')
			break;
		r = lm_buf_addc(out, *v == '\r' ? ' ' : *v);
		if (r == 0 && *v == '\n' && v[1] != ' ' && v[1] != '\t')
			r = lm_buf_addc(out, '\t');
	}
	return r;
}

/* value made safe to write (fold_clean) with every line longer than
   RFC 5322 allows folded (the first line counts "Name:"); the result is
   a new string, NULL when out of memory. */
static char *
fold_value(const char *name, const char *value)
{
	lm_buf out, clean;
	const char *p, *nl;
	size_t col = strlen(name) + 1;
	int r;

	lm_buf_init(&clean, 4 * LM_VALUE_MAX);
	lm_buf_init(&out, 4 * LM_VALUE_MAX);
	r = fold_clean(value, &clean);
	p = lm_buf_cstr(&clean);
	do {
		nl = strchr(p, '\n');
		r |= fold_line(&out, p, nl != NULL ? (size_t)(nl - p) :
		    strlen(p), col);
		if (nl != NULL)
			r |= lm_buf_addc(&out, '\n');
		p = nl != NULL ? nl + 1 : NULL;
		col = 0;
	} while (r == 0 && p != NULL);
	lm_buf_free(&clean);
	if (r != 0 || out.s == NULL) {
		lm_buf_free(&out);
		return r == 0 ? lm_strndup("", 0) : NULL;
	}
	return lm_buf_steal(&out);
}

static int
edit(struct lm_edits *e, enum lm_edit_op op, const char *name, int idx,
    const char *value)
{
	struct lm_edit *v;

	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 16;

		if ((v = realloc(e->v, nc * sizeof *v)) == NULL)
			return -1;
		e->v = v;
		e->cap = nc;
	}
	v = &e->v[e->n];
	v->op = op;
	v->idx = idx;
	v->name = lm_strndup(name, strlen(name));
	v->value = fold_value(name, value);
	if (v->name == NULL || v->value == NULL) {
		free(v->name);
		free(v->value);
		return -1;
	}
	e->n++;
	return 0;
}

int
lm_edits_add(struct lm_edits *e, enum lm_edit_op op, const char *name,
    int idx, const char *value)
{
	return edit(e, op, name, idx, value);
}

/* Delete fields 2..n of `name` (highest first), set field 1 to value,
   or append the field when there is none. */
static int
set_field(struct lm_edits *e, const struct lm_msg *m, const char *name,
    const char *value)
{
	size_t n = lm_msg_count(m, name);

	for (; n > 1; n--)
		if (edit(e, LM_E_CHG, name, (int)n, "") != 0)
			return -1;
	return edit(e, n == 1 ? LM_E_CHG : LM_E_ADD, name, 1, value);
}

/* Mailman's mask: "anne@example.com" -> "anne---". */
static int
mask_at(const char *s, size_t n, lm_buf *out)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] != '@') {
			if (lm_buf_addc(out, s[i++]) != 0)
				return -1;
			continue;
		}
		if (lm_buf_adds(out, "---") != 0)
			return -1;
		for (i++; i < n && (s[i] == '.' || s[i] == '-' ||
		    (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')); i++)
			;
	}
	return 0;
}

/* Display text for the author: decoded name, else local part; masked. */
static int
author_name(const struct lm_mailbox *mb, lm_buf *out)
{
	const char *src = mb->display != NULL && mb->display[0] != '\0' ?
	    mb->display : mb->local;
	lm_buf clean;
	int r;

	lm_buf_init(&clean, 4096);
	r = lm_sanitize_display(src, strlen(src), LM_NAME_MAXCP, &clean);
	if (r == 0 && clean.len == 0)
		r = lm_sanitize_display(mb->local, strlen(mb->local),
		    LM_NAME_MAXCP, &clean);
	if (r == 0)
		r = mask_at(lm_buf_cstr(&clean), clean.len, out);
	lm_buf_free(&clean);
	return r;
}

/* Column of the end of the last line of out (after col0 on line 1). */
static size_t
last_col(const lm_buf *b, size_t col0)
{
	const char *s = lm_buf_cstr(b), *nl = strrchr(s, '\n');

	return nl != NULL ? (size_t)(b->s + b->len - nl - 1) + 7 :
	    col0 + b->len;
}

/* " phrase <addr>" with a fold before the address when the line is long. */
static int
phrase_addr(const char *text, size_t tlen, const char *addr, size_t col0,
    lm_buf *out)
{
	lm_buf clean;
	int r;

	lm_buf_init(&clean, 8192);
	r = lm_sanitize_display(text, tlen, 4 * LM_NAME_MAXCP, &clean);
	if (r == 0)
		r = lm_buf_addc(out, ' ');
	if (r == 0 && clean.len > 0) {
		r = lm_rfc2047_phrase(lm_buf_cstr(&clean), clean.len,
		    col0 + 1, out);
		if (r == 0)
			r = lm_buf_adds(out, last_col(out, col0) +
			    strlen(addr) + 3 > 78 ? "\n\t" : " ");
	}
	lm_buf_free(&clean);
	return r != 0 || lm_buf_printf(out, "<%s>", addr) != 0 ? -1 : 0;
}

int
lm_munged_from(const struct lm_mailbox *author,
    const struct lm_listref *list, lm_buf *out)
{
	lm_buf text;
	int r;

	lm_buf_init(&text, 8192);
	r = author_name(author, &text);
	if (r == 0)
		r = lm_buf_printf(&text, " via %s", list->name);
	if (r == 0)
		r = phrase_addr(lm_buf_cstr(&text), text.len, list->addr,
		    strlen("From:"), out);
	lm_buf_free(&text);
	return r;
}

/* One mailbox for Reply-To/Cc: " name <addr>" or " addr". */
static int
render_mailbox(const char *display, const char *addr, const char *hname,
    lm_buf *out)
{
	if (display == NULL || display[0] == '\0')
		return lm_buf_printf(out, " %s", addr);
	return phrase_addr(display, strlen(display), addr, strlen(hname) + 1,
	    out);
}

struct lm_field_state {
	lm_buf	 raw;		/* unfolded values of all fields, ", "-joined */
	struct lm_addrlist parsed;
	int	 ok;		/* all fields parsed */
};

static int
collect_field(const struct lm_msg *m, const char *name,
    struct lm_field_state *st)
{
	const struct lm_hdr *h;
	size_t i;

	lm_buf_init(&st->raw, LM_VALUE_MAX);
	memset(&st->parsed, 0, sizeof st->parsed);
	st->ok = 1;
	for (i = 0; (h = lm_msg_get(m, name, i)) != NULL; i++) {
		if (i > 0 && lm_buf_adds(&st->raw, ", ") != 0)
			return -1;
		if (lm_unfold(h->value, h->vlen, &st->raw) != 0)
			return -1;
	}
	if (i > 0 && lm_addr_parse(lm_buf_cstr(&st->raw), st->raw.len,
	    &st->parsed, NULL, 0) != LM_ADDR_OK)
		st->ok = 0;
	return 0;
}

static int
contains_addr(const struct lm_addrlist *l, const char *addr)
{
	size_t i, n = strlen(addr);

	for (i = 0; i < l->n; i++)
		if (lm_strcaseeq(l->mb[i].addr, strlen(l->mb[i].addr), addr,
		    n))
			return 1;
	return 0;
}

/* Keep an unparseable field's unfolded value as X-Original-<name>, with
   every control character (a bare CR, NUL, ...) made a space. */
static int
keep_raw(struct lm_edits *e, const char *oname, const lm_buf *raw)
{
	lm_buf v;
	size_t i;
	int r = 0;

	lm_buf_init(&v, LM_VALUE_MAX + 1);
	r = lm_buf_addc(&v, ' ');
	for (i = 0; r == 0 && i < raw->len; i++) {
		unsigned char c = (unsigned char)raw->s[i];

		r = lm_buf_addc(&v, c < 0x20 || c == 0x7f ? ' ' : c);
	}
	if (r == 0)
		r = edit(e, LM_E_ADD, oname, 0, lm_buf_cstr(&v));
	lm_buf_free(&v);
	return r;
}

/*
 * The value of field `name` with one mailbox added: what is there is kept
 * (unless it does not parse: then it moves to X-Original-<name>), the new
 * mailbox is appended unless already present (*changed = 0 then).
 */
static int
merge_value(struct lm_edits *e, const struct lm_msg *m, const char *name,
    const char *display, const char *addr, lm_buf *v, int *changed)
{
	struct lm_field_state st;
	char oname[64];
	lm_buf tmp;
	int r = -1, keep;

	lm_buf_init(&tmp, LM_VALUE_MAX);
	*changed = 1;
	if (collect_field(m, name, &st) != 0)
		goto out;
	keep = st.raw.len > 0 && st.ok;
	if (keep && contains_addr(&st.parsed, addr))
		*changed = 0;
	if (keep && (lm_buf_addc(v, ' ') != 0 ||
	    lm_buf_add(v, st.raw.s, st.raw.len) != 0))
		goto out;
	if (!keep && st.raw.len > 0) {
		snprintf(oname, sizeof oname, "X-Original-%s", name);
		if (keep_raw(e, oname, &st.raw) != 0)
			goto out;
	}
	r = 0;
	if (*changed)
		r = render_mailbox(display, addr, name, &tmp);
	/* after existing addresses, the fold is the separator */
	if (r == 0 && *changed && keep)
		r = lm_buf_adds(v, ",\n\t") || lm_buf_add(v, tmp.s + 1,
		    tmp.len - 1);
	else if (r == 0 && *changed)
		r = lm_buf_add(v, tmp.s, tmp.len);
out:
	lm_addrlist_free(&st.parsed);
	lm_buf_free(&st.raw);
	lm_buf_free(&tmp);
	return r;
}

/* Munge: edit the field in place; wrap: the field was deleted, add it. */
static int
merge_field(struct lm_edits *e, const struct lm_msg *m, const char *name,
    const char *display, const char *addr, int wrapping)
{
	lm_buf v;
	int r, changed;

	lm_buf_init(&v, LM_VALUE_MAX);
	r = merge_value(e, m, name, display, addr, &v, &changed);
	if (r == 0 && wrapping)
		r = edit(e, LM_E_ADD, name, 0, lm_buf_cstr(&v));
	else if (r == 0 && changed)
		r = set_field(e, m, name, lm_buf_cstr(&v));
	lm_buf_free(&v);
	return r;
}

static int
place_author(struct lm_edits *e, const struct lm_rewrite_in *in,
    int wrapping)
{
	const struct lm_mailbox *a = &in->facts->from->mb[0];
	const struct lm_listref *l = in->facts->list;
	lm_buf clean, name;
	int r;

	lm_buf_init(&clean, 8192);
	lm_buf_init(&name, 8192);
	r = a->display != NULL ? lm_sanitize_display(a->display,
	    strlen(a->display), LM_NAME_MAXCP, &clean) : 0;
	if (r == 0)
		r = mask_at(lm_buf_cstr(&clean), clean.len, &name);
	lm_buf_free(&clean);
	if (r == 0 && l->cfg->reply == LM_REPLY_AUTHOR)
		r = merge_field(e, in->msg, "Reply-To", lm_buf_cstr(&name),
		    a->addr, wrapping);
	else if (r == 0) {
		r = merge_field(e, in->msg, "Reply-To", l->name, l->addr,
		    wrapping);
		if (r == 0)
			r = merge_field(e, in->msg, "Cc", lm_buf_cstr(&name),
			    a->addr, wrapping);
	}
	lm_buf_free(&name);
	return r;
}

static int
munge(const struct lm_rewrite_in *in, struct lm_edits *e)
{
	const struct lm_hdr *from = lm_msg_get(in->msg, "From", 0);
	lm_buf v;
	int r;

	lm_buf_init(&v, LM_VALUE_MAX);
	r = lm_munged_from(&in->facts->from->mb[0], in->facts->list, &v);
	if (r == 0)
		r = edit(e, LM_E_CHG, "From", 1, lm_buf_cstr(&v));
	if (r == 0 && from != NULL)
		r = edit(e, LM_E_ADD, "X-Original-From", 0, from->value);
	if (r == 0)
		r = place_author(e, in, 0);
	lm_buf_free(&v);
	return r;
}

/* Outer headers kept by wrap (prefix match, case-insensitive). */
static int
wrap_keeps(const char *name, enum lm_reply reply)
{
	static const char *keep[] = { "archived-at", "date", "in-reply-to",
	    "list-", "precedence", "references", "subject", "to", "received",
	    NULL };
	size_t i, n = strlen(name);

	if (lm_strcaseeq(name, n, "cc", 2))
		return reply == LM_REPLY_AUTHOR;
	for (i = 0; keep[i] != NULL; i++) {
		size_t k = strlen(keep[i]);

		if (keep[i][k - 1] == '-' ? n >= k &&
		    lm_strcaseeq(name, k, keep[i], k) :
		    lm_strcaseeq(name, n, keep[i], k))
			return 1;
	}
	return 0;
}

/* Delete, from the last field up, every outer field wrap does not keep. */
static int
wrap_delete(const struct lm_msg *m, enum lm_reply reply, struct lm_edits *e)
{
	size_t i, j, occ;

	for (i = m->nh; i-- > 0;) {
		if (wrap_keeps(m->h[i].name, reply))
			continue;
		for (occ = 1, j = 0; j < i; j++)
			if (lm_strcaseeq(m->h[j].name, strlen(m->h[j].name),
			    m->h[i].name, strlen(m->h[i].name)))
				occ++;
		if (edit(e, LM_E_CHG, m->h[i].name, (int)occ, "") != 0)
			return -1;
	}
	return 0;
}

static int
has_8bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

static int
wrap_body(const struct lm_rewrite_in *in, const char *boundary, lm_buf *b)
{
	const struct lm_facts *f = in->facts;
	const struct lm_mailbox *a = &f->from->mb[0];
	lm_buf orig;
	int r, eight;

	lm_buf_init(&orig, in->msg->body.len + in->msg->hbytes * 2 + 1024);
	r = lm_msg_headers_wire(in->msg, &orig);
	if (r == 0)
		r = lm_buf_add(&orig, "\r\n", 2) || lm_buf_add(&orig,
		    lm_buf_cstr(&in->msg->body), in->msg->body.len);
	eight = has_8bit(lm_buf_cstr(&orig), orig.len);
	if (r == 0)
		r = lm_buf_printf(b, "This is a multi-part message in MIME "
		    "format.\r\n\r\n--%s\r\nContent-Type: text/plain; "
		    "charset=\"utf-8\"\r\nContent-Transfer-Encoding: %s\r\n"
		    "Content-Disposition: inline\r\n\r\n"
		    "This message was sent to the list %s by %s.\r\n"
		    "The domain %s asks receivers to refuse mail from it "
		    "that\r\nother servers forward (DMARC), so the list "
		    "attaches the original\r\nmessage unchanged below.\r\n"
		    "\r\n--%s\r\nContent-Type: message/rfc822\r\n"
		    "Content-Disposition: inline\r\n%s\r\n",
		    boundary, has_8bit(a->addr, strlen(a->addr)) ? "8bit" :
		    "7bit", f->list->addr, a->addr, a->domain, boundary,
		    eight ? "Content-Transfer-Encoding: 8bit\r\n" : "");
	if (r == 0)
		r = lm_buf_add(b, orig.s, orig.len);
	if (r == 0)
		r = lm_buf_printf(b, "%s--%s--\r\n", orig.len >= 2 &&
		    memcmp(orig.s + orig.len - 2, "\r\n", 2) == 0 ? "\r\n" :
		    "\r\n\r\n", boundary);
	lm_buf_free(&orig);
	return r;
}

static int
wrap(const struct lm_rewrite_in *in, struct lm_edits *e)
{
	const struct lm_listref *l = in->facts->list;
	char boundary[96];
	lm_buf v;
	int r;

	snprintf(boundary, sizeof boundary, "=_listmilter_%s", in->nonce);
	lm_buf_init(&v, LM_VALUE_MAX);
	lm_buf_init(&e->body, in->msg->body.len + in->msg->hbytes * 2 +
	    64 * 1024);
	r = wrap_delete(in->msg, l->cfg->reply, e);
	if (r == 0)
		r = lm_munged_from(&in->facts->from->mb[0], l, &v);
	if (r == 0)
		r = edit(e, LM_E_ADD, "From", 0, lm_buf_cstr(&v));
	lm_buf_reset(&v);
	if (r == 0)
		r = lm_buf_printf(&v, " <listmilter.%s@%s>", in->nonce,
		    l->domain);
	if (r == 0)
		r = edit(e, LM_E_ADD, "Message-ID", 0, lm_buf_cstr(&v));
	if (r == 0)
		r = edit(e, LM_E_ADD, "MIME-Version", 0, " 1.0");
	lm_buf_reset(&v);
	if (r == 0)
		r = lm_buf_printf(&v, " multipart/mixed;\n\tboundary=\"%s\"",
		    boundary);
	if (r == 0)
		r = edit(e, LM_E_ADD, "Content-Type", 0, lm_buf_cstr(&v));
	if (r == 0)
		r = place_author(e, in, 1);
	if (r == 0)
		r = wrap_body(in, boundary, &e->body);
	e->replace_body = r == 0;
	lm_buf_free(&v);
	return r;
}

int
lm_trace_matches(const char *value, size_t len, const char *list)
{
	lm_buf v;
	const char *s;
	size_t n;
	int r;

	lm_buf_init(&v, 4096);
	if (lm_unfold(value, len, &v) != 0) {
		lm_buf_free(&v);
		return 0;
	}
	s = lm_buf_cstr(&v);
	n = v.len;
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s++;
		n -= 2;
	}
	r = lm_strcaseeq(s, n, list, strlen(list));
	lm_buf_free(&v);
	return r;
}

/* Delete incoming A-R fields that claim to be ours (wrap deletes every
   outer A-R already), then put ours on top. */
static int
authres(const struct lm_rewrite_in *in, struct lm_edits *e)
{
	const struct lm_hdr *h;
	char id[256];
	size_t n = lm_msg_count(in->msg, "Authentication-Results");

	for (; in->plan->verdict != LM_V_WRAP && n > 0; n--) {
		h = lm_msg_get(in->msg, "Authentication-Results", n - 1);
		if (lm_authres_servid(h->value, h->vlen, id, sizeof id) == 0 &&
		    lm_strcaseeq(id, strlen(id), in->authservid,
		    strlen(in->authservid)) &&
		    edit(e, LM_E_CHG, "Authentication-Results", (int)n, "") != 0)
			return -1;
	}
	return edit(e, LM_E_INS, "Authentication-Results", 0, in->authres);
}

int
lm_rewrite(const struct lm_rewrite_in *in, struct lm_edits *e, char *err,
    size_t errsz)
{
	const struct lm_listref *l = in->facts->list;
	char v[340];
	int r = 0;

	if (in->plan->verdict == LM_V_MUNGE)
		r = munge(in, e);
	else if (in->plan->verdict == LM_V_WRAP)
		r = wrap(in, e);
	else if (in->plan->verdict != LM_V_PASS) {
		snprintf(err, errsz, "no edits for verdict %s",
		    lm_verdict_name(in->plan->verdict));
		return -1;
	}
	snprintf(v, sizeof v, " %s", l->addr);
	if (r == 0)
		r = edit(e, LM_E_ADD, LM_TRACE_HEADER, 0, v);
	if (r == 0 && in->authres != NULL && in->authservid != NULL)
		r = authres(in, e);
	if (r != 0) {
		snprintf(err, errsz, "cannot build the %s rewrite (out of "
		    "memory or over a size limit)",
		    lm_verdict_name(in->plan->verdict));
		lm_edits_free(e);
	}
	return r;
}

/* The field list as (name, value) pointers into msg and edits. */
struct hview {
	const char *name;
	const char *value;
	size_t	 vlen;
};

static size_t
nth_field(const struct hview *h, size_t n, const char *name, int idx)
{
	size_t j;
	int occ = 0;

	for (j = 0; j < n; j++)
		if (strcasecmp(h[j].name, name) == 0 && ++occ == (idx < 1 ? 1 :
		    idx))
			return j;
	return n;
}

static void
apply_one(struct hview *h, size_t *n, const struct lm_edit *d)
{
	size_t j;

	if (d->op == LM_E_INS) {
		j = d->idx > 0 && (size_t)d->idx < *n ? (size_t)d->idx :
		    d->idx <= 0 ? 0 : *n;
		memmove(h + j + 1, h + j, (*n - j) * sizeof *h);
	} else if (d->op == LM_E_ADD ||
	    (j = nth_field(h, *n, d->name, d->idx)) == *n) {
		if (d->op == LM_E_CHG && d->value[0] == '\0')
			return;		/* deleting a missing field */
		j = *n;
	} else if (d->value[0] == '\0') {
		memmove(h + j, h + j + 1, (*n - j - 1) * sizeof *h);
		(*n)--;
		return;
	} else {
		h[j].value = d->value;
		h[j].vlen = strlen(d->value);
		return;
	}
	h[j].name = d->name;
	h[j].value = d->value;
	h[j].vlen = strlen(d->value);
	(*n)++;
}

int
lm_edits_apply(const struct lm_msg *m, const struct lm_edits *e,
    struct lm_msg *out)
{
	struct hview *h = calloc(m->nh + e->n + 1, sizeof *h);
	size_t n = 0, i;
	int r = 0;

	if (h == NULL)
		return -1;
	for (i = 0; i < m->nh; i++) {
		h[n].name = m->h[i].name;
		h[n].value = m->h[i].value;
		h[n++].vlen = m->h[i].vlen;
	}
	for (i = 0; i < e->n; i++)
		apply_one(h, &n, &e->v[i]);
	for (i = 0; i < n && r == 0; i++)
		r = lm_msg_addhdr(out, h[i].name, h[i].value, h[i].vlen);
	if (r == 0 && out->hdr_overflow)
		r = -1;
	free(h);
	return r;
}
