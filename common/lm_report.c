/*
 * lm_report - counting listmilter log lines and rendering the summary
 * (see lm_report.h for what is counted, the memory bound and the
 * contract).
 *
 * Follows RFC 8259 for the JSON output (strings escaped: '"', '\\',
 * C0, DEL and C1 controls as \u escapes, bytes that are not UTF-8 as
 * U+FFFD) and RFC 3629 for what counts as UTF-8.
 *
 * Ownership: struct lm_report owns its tables; rendering allocates only
 * temporary sort arrays, freed before returning.  Pure C, no globals.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_logline.h"
#include "lm_report.h"
#include "lm_rfc2047.h"

#define RP_LINECAP	(LM_LL_MAXLINE + 2)	/* bytes kept of a line */

enum rp_out {
	O_MUNGED, O_WRAPPED, O_PASSED, O_FORGED, O_REFUSED, O_TEMPFAILED,
	O_ERRACC, O_OTHER
};

/* One per-message or error line, reduced to what is counted. */
struct rp_msg {
	enum rp_out	 out;
	enum lm_rp_pol	 pol;
	int		 marked, error;
	struct lm_ll_str reason;
};

static const char *const rp_pol_names[LM_RP_NPOL] = { "reject",
    "quarantine", "none", "absent", "other" };
static const char *const rp_dm_names[LM_RP_NDM] = { "pass", "fail",
    "none", "temperror", "unevaluated", "other" };

/* --- set-up ---------------------------------------------------------- */

static size_t
clamp(size_t v, size_t def, size_t max)
{
	return v == 0 ? def : v > max ? max : v;
}

int
lm_report_init(struct lm_report *rp, const char *ident, size_t max_lists,
    size_t max_domains, size_t top)
{
	memset(rp, 0, sizeof *rp);
	rp->ident = ident != NULL ? ident : "listmilter";
	rp->max_lists = clamp(max_lists, LM_RP_DEF_LISTS, LM_RP_MAX_LISTS);
	rp->max_domains = clamp(max_domains, LM_RP_DEF_DOMAINS,
	    LM_RP_MAX_DOMAINS);
	rp->top = top > LM_RP_MAX_TOP ? LM_RP_MAX_TOP : top;
	if ((rp->line = malloc(RP_LINECAP)) == NULL)
		return -1;
	return 0;
}

void
lm_report_free(struct lm_report *rp)
{
	size_t i;

	for (i = 0; i < rp->ndom; i++)
		free(rp->dom[i].name);
	free(rp->dom);
	free(rp->list);
	free(rp->list_ix.slot);
	free(rp->dom_ix.slot);
	free(rp->line);
	memset(rp, 0, sizeof *rp);
}

/* --- names to indexes ------------------------------------------------ */

typedef const char *rp_keyof(const struct lm_report *, size_t);

static const char *
list_key(const struct lm_report *rp, size_t i)
{
	return rp->list[i].name;
}

static const char *
dom_key(const struct lm_report *rp, size_t i)
{
	return rp->dom[i].name;
}

static size_t
rp_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The slot holding k, or the free slot where it goes (never full). */
static size_t
ix_slot(const struct lm_rp_index *ix, const struct lm_report *rp,
    rp_keyof *kf, const char *k)
{
	size_t m = ix->cap - 1, i = rp_hash(k) & m;

	while (ix->slot[i] != 0 && strcmp(kf(rp, ix->slot[i] - 1), k) != 0)
		i = (i + 1) & m;
	return i;
}

/* Room for n + 1 entries at a load of at most one half. */
static int
ix_reserve(struct lm_rp_index *ix, const struct lm_report *rp,
    rp_keyof *kf, size_t n)
{
	struct lm_rp_index nx;
	size_t i, cap = 64;

	if (2 * (n + 1) <= ix->cap)
		return 0;
	while (cap < 2 * (n + 1))
		cap *= 2;
	nx.cap = cap;
	if ((nx.slot = calloc(cap, sizeof *nx.slot)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		nx.slot[ix_slot(&nx, rp, kf, kf(rp, i))] = (uint32_t)(i + 1);
	free(ix->slot);
	*ix = nx;
	return 0;
}

/* arr grown to hold need elements: the new array, or NULL (arr kept). */
static void *
grow(void *arr, size_t *cap, size_t need, size_t elsize)
{
	size_t ncap = *cap > 0 ? *cap : 16;
	void *p;

	if (need <= *cap)
		return arr;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(arr, ncap * elsize)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

/* Lower-cased copy of s into k[LM_RP_KEYMAX + 1]; 0 if s is empty,
   "-", too long or holds a NUL (then it is not tracked by name). */
static int
norm_key(struct lm_ll_str s, char *k)
{
	if (s.p == NULL || s.n == 0 || s.n > LM_RP_KEYMAX ||
	    lm_ll_eq(s, "-") || memchr(s.p, '\0', s.n) != NULL)
		return 0;
	memcpy(k, s.p, s.n);
	k[s.n] = '\0';
	lm_lower(k, s.n);
	return 1;
}

static struct lm_rp_stats *
other_lists(struct lm_report *rp)
{
	rp->have_other_lists = 1;
	return &rp->other_lists;
}

static struct lm_rp_stats *
list_stats(struct lm_report *rp, struct lm_ll_str name)
{
	char k[LM_RP_KEYMAX + 1];
	struct lm_rp_list *l;
	size_t i;

	if (!norm_key(name, k))
		return other_lists(rp);
	if (ix_reserve(&rp->list_ix, rp, list_key, rp->nlist) != 0)
		return rp->oom = 1, other_lists(rp);
	i = ix_slot(&rp->list_ix, rp, list_key, k);
	if (rp->list_ix.slot[i] != 0)
		return &rp->list[rp->list_ix.slot[i] - 1].st;
	if (rp->nlist >= rp->max_lists)
		return other_lists(rp);
	if ((l = grow(rp->list, &rp->list_cap, rp->nlist + 1,
	    sizeof *l)) == NULL)
		return rp->oom = 1, other_lists(rp);
	rp->list = l;
	l += rp->nlist;
	memset(l, 0, sizeof *l);
	lm_strlcpy(l->name, k, sizeof l->name);
	rp->list_ix.slot[i] = (uint32_t)++rp->nlist;
	return &l->st;
}

/* The domain entry of name, or NULL (counted in dom_other). */
static struct lm_rp_domain *
domain(struct lm_report *rp, struct lm_ll_str name)
{
	char k[LM_RP_KEYMAX + 1];
	struct lm_rp_domain *d;
	size_t i;

	if (!norm_key(name, k))
		return NULL;
	if (ix_reserve(&rp->dom_ix, rp, dom_key, rp->ndom) != 0)
		return rp->oom = 1, NULL;
	i = ix_slot(&rp->dom_ix, rp, dom_key, k);
	if (rp->dom_ix.slot[i] != 0)
		return &rp->dom[rp->dom_ix.slot[i] - 1];
	if (rp->ndom >= rp->max_domains)
		return NULL;
	if ((d = grow(rp->dom, &rp->dom_cap, rp->ndom + 1,
	    sizeof *d)) == NULL)
		return rp->oom = 1, NULL;
	rp->dom = d;
	d += rp->ndom;
	memset(d, 0, sizeof *d);
	if ((d->name = lm_strndup(k, strlen(k))) == NULL)
		return rp->oom = 1, NULL;
	rp->dom_ix.slot[i] = (uint32_t)++rp->ndom;
	return d;
}

/* --- counting -------------------------------------------------------- */

static struct lm_rp_reason *
reason_of(struct lm_rp_stats *s, struct lm_ll_str r)
{
	struct lm_rp_reason *x;
	size_t i;

	if (r.p == NULL || r.n == 0 || r.n >= sizeof x->name ||
	    memchr(r.p, '\0', r.n) != NULL)
		return NULL;
	for (i = 0; i < s->nreason; i++)
		if (lm_ll_eq(r, s->reason[i].name))
			return &s->reason[i];
	if (s->nreason >= LM_RP_REASONS)
		return NULL;
	x = &s->reason[s->nreason++];
	memcpy(x->name, r.p, r.n);
	x->name[r.n] = '\0';
	return x;
}

static void
count_status(struct lm_rp_stats *s, struct lm_ll_str c)
{
	struct lm_rp_status *x;
	size_t i;

	if (c.p == NULL || c.n == 0 || lm_ll_eq(c, "-"))
		return;
	for (i = 0; i < s->nstatus; i++)
		if (lm_ll_eq(c, s->status[i].code)) {
			s->status[i].n++;
			return;
		}
	if (s->nstatus >= LM_RP_STATUSES || c.n >= sizeof x->code) {
		s->status_other++;
		return;
	}
	x = &s->status[s->nstatus++];
	memcpy(x->code, c.p, c.n);
	x->code[c.n] = '\0';
	x->n = 1;
}

static void
count_reason(struct lm_rp_stats *s, struct lm_ll_str r, int tempfail)
{
	struct lm_rp_reason *x = reason_of(s, r);

	if (x != NULL)
		*(tempfail ? &x->tempfailed : &x->rejected) += 1;
	else
		*(tempfail ? &s->reason_tmp_other : &s->reason_rej_other) += 1;
}

static void
count_msg(struct lm_rp_stats *s, const struct rp_msg *m)
{
	unsigned long *out[] = { &s->munged, &s->wrapped, &s->passed,
	    &s->forged, &s->refused, &s->tempfailed, &s->error_accepted,
	    &s->other };

	s->messages++;
	(*out[m->out])++;
	s->marked += m->marked;
	s->errors += m->error;
	s->policy[m->pol]++;
	if (m->out == O_FORGED || m->out == O_REFUSED)
		count_reason(s, m->reason, 0);
	else if (m->out == O_TEMPFAILED)
		count_reason(s, m->reason, 1);
}

static enum lm_rp_pol
policy(const struct lm_logline *ll)
{
	struct lm_ll_str p;
	int i;

	(void)lm_logline_get(ll, "policy", &p);
	for (i = 0; i < LM_RP_P_OTHER; i++)
		if (lm_ll_eq(p, rp_pol_names[i]))
			return (enum lm_rp_pol)i;
	return LM_RP_P_OTHER;
}

static enum rp_out
outcome(const struct lm_logline *ll, struct lm_ll_str reason, int *marked)
{
	struct lm_ll_str a, r;

	(void)lm_logline_get(ll, "action", &a);
	(void)lm_logline_get(ll, "result", &r);
	*marked = 0;
	if (r.n > 7 && memcmp(r.p, "reject_", 7) == 0)
		return lm_ll_eq(reason, "dmarc-fail") ? O_FORGED : O_REFUSED;
	if (r.n > 9 && memcmp(r.p, "tempfail_", 9) == 0)
		return O_TEMPFAILED;
	if (lm_ll_eq(a, "munge"))
		return O_MUNGED;
	if (lm_ll_eq(a, "wrap"))
		return O_WRAPPED;
	if (!lm_ll_eq(a, "pass"))
		return O_OTHER;
	*marked = lm_ll_eq(reason, "dmarc-fail-marked");
	return O_PASSED;
}

static void
count_dmarc(struct lm_report *rp, const struct lm_logline *ll)
{
	struct lm_ll_str d;
	const char *par;
	int i;

	(void)lm_logline_get(ll, "dmarc", &d);
	if (d.p != NULL && (par = memchr(d.p, '(', d.n)) != NULL) {
		rp->trusted += d.n - (size_t)(par - d.p) > 9 &&
		    memcmp(par, "(trusted:", 9) == 0;
		d.n = (size_t)(par - d.p);
	}
	if (lm_ll_eq(d, "-")) {
		rp->dmarc[LM_RP_D_UNEVALUATED]++;
		return;
	}
	for (i = 0; i < LM_RP_D_UNEVALUATED; i++)
		if (lm_ll_eq(d, rp_dm_names[i]))
			break;
	rp->dmarc[i < LM_RP_D_UNEVALUATED ? i : LM_RP_D_OTHER]++;
}

static void
on_message(struct lm_report *rp, const struct lm_logline *ll)
{
	struct lm_rp_domain *d;
	struct lm_ll_str list, dom;
	struct rp_msg m;

	memset(&m, 0, sizeof m);
	(void)lm_logline_get(ll, "list", &list);
	(void)lm_logline_get(ll, "reason", &m.reason);
	(void)lm_logline_get(ll, "author_domain", &dom);
	m.pol = policy(ll);
	m.out = outcome(ll, m.reason, &m.marked);
	count_msg(list_stats(rp, list), &m);
	count_msg(&rp->total, &m);
	count_dmarc(rp, ll);
	if (dom.p == NULL || lm_ll_eq(dom, "-"))
		return;
	if ((d = domain(rp, dom)) == NULL) {
		rp->dom_other[m.pol]++;
		return;
	}
	d->n[m.pol]++;
	d->forged += m.out == O_FORGED;
}

static void
on_error(struct lm_report *rp, const struct lm_logline *ll)
{
	struct lm_ll_str list, result;
	struct rp_msg m;

	(void)lm_logline_get(ll, "list", &list);
	(void)lm_logline_get(ll, "result", &result);
	if (lm_ll_eq(list, "-")) {
		rp->errors_nolist++;
		return;
	}
	memset(&m, 0, sizeof m);
	m.pol = LM_RP_P_OTHER;
	m.error = 1;
	m.out = lm_ll_eq(result, "accept") ? O_ERRACC : O_TEMPFAILED;
	m.reason.p = "error";
	m.reason.n = 5;
	count_msg(list_stats(rp, list), &m);
	count_msg(&rp->total, &m);
}

static void
count_bounce(struct lm_rp_stats *s, const struct lm_logline *ll)
{
	struct lm_ll_str a, st;

	if (ll->kind == LM_LL_BOUNCE_NOTE) {
		if (ll->more > 0)
			s->b_notlogged += ll->more;
		else
			s->b_unread++;
		return;
	}
	(void)lm_logline_get(ll, "action", &a);
	(void)lm_logline_get(ll, "status", &st);
	s->bounces++;
	if (lm_ll_eq(a, "failed"))
		s->b_failed++;
	else if (lm_ll_eq(a, "delayed"))
		s->b_delayed++;
	else
		s->b_other++;
	count_status(s, st);
}

static void
on_bounce(struct lm_report *rp, const struct lm_logline *ll)
{
	struct lm_ll_str list;

	(void)lm_logline_get(ll, "list", &list);
	count_bounce(list_stats(rp, list), ll);
	count_bounce(&rp->total, ll);
}

static void
note_ts(struct lm_report *rp, struct lm_ll_str ts)
{
	size_t n;

	if (ts.p == NULL || ts.n == 0)
		return;
	n = ts.n < sizeof rp->last ? ts.n : sizeof rp->last - 1;
	memcpy(rp->last, ts.p, n);
	rp->last[n] = '\0';
	if (rp->first[0] == '\0')
		memcpy(rp->first, rp->last, n + 1);
}

static void
on_unparsed(struct lm_report *rp, const struct lm_logline *ll,
    const char *line, size_t len)
{
	rp->lines.unparsed++;
	rp->lines.too_long += ll->too_long;
	if (rp->on_unparsed != NULL)
		rp->on_unparsed(rp->arg, rp->lines.read, line, len, ll->why);
}

void
lm_report_line(struct lm_report *rp, const char *line, size_t len)
{
	struct lm_logline ll;

	rp->lines.read++;
	lm_logline_parse(line, len, rp->ident, &ll);
	if (ll.kind == LM_LL_FOREIGN) {
		rp->lines.foreign++;
		return;
	}
	rp->lines.ours++;
	note_ts(rp, ll.ts);
	switch (ll.kind) {
	case LM_LL_MESSAGE:
		rp->lines.message++;
		on_message(rp, &ll);
		break;
	case LM_LL_ERROR:
		rp->lines.error++;
		on_error(rp, &ll);
		break;
	case LM_LL_BOUNCE:
	case LM_LL_BOUNCE_NOTE:
		*(ll.kind == LM_LL_BOUNCE ? &rp->lines.bounce :
		    &rp->lines.bounce_note) += 1;
		on_bounce(rp, &ll);
		break;
	case LM_LL_NONLIST:
		rp->lines.nonlist++;
		rp->nonlist++;
		break;
	case LM_LL_UNPARSED:
		on_unparsed(rp, &ll, line, len);
		break;
	default:
		rp->lines.other++;
		break;
	}
}

void
lm_report_feed(struct lm_report *rp, const char *data, size_t len)
{
	const char *nl;
	size_t k, room, take;

	while (len > 0 && rp->line != NULL) {
		nl = memchr(data, '\n', len);
		k = nl != NULL ? (size_t)(nl - data) : len;
		room = RP_LINECAP - rp->linelen;
		take = k < room ? k : room;
		memcpy(rp->line + rp->linelen, data, take);
		rp->linelen += take;
		if (nl == NULL)
			return;
		lm_report_line(rp, rp->line, rp->linelen);
		rp->linelen = 0;
		data += k + 1;
		len -= k + 1;
	}
}

void
lm_report_finish(struct lm_report *rp)
{
	if (rp->line != NULL && rp->linelen > 0)
		lm_report_line(rp, rp->line, rp->linelen);
	rp->linelen = 0;
}

/* --- rendering helpers ----------------------------------------------- */

/* Code points shown as '?' in text and escaped in JSON: C0, DEL, C1,
   line and paragraph separators, bidirectional controls. */
static int
bad_cp(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 ||
	    c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069);
}

static int
put_text(lm_buf *b, const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;
	int r = 0;

	while (i < n && r == 0) {
		k = lm_utf8_next(s + i, n - i, &cp);
		if (k == 0 || bad_cp(cp))
			r = lm_buf_addc(b, '?');
		else
			r = lm_buf_add(b, s + i, k);
		i += k > 0 ? k : 1;
	}
	return r;
}

static int
put_json(lm_buf *b, const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;
	int r = lm_buf_addc(b, '"');

	while (i < n && r == 0) {
		k = lm_utf8_next(s + i, n - i, &cp);
		if (k == 0)
			r = lm_buf_adds(b, "\\ufffd");
		else if (cp == '"' || cp == '\\')
			r = lm_buf_printf(b, "\\%c", (char)cp);
		else if (bad_cp(cp))
			r = lm_buf_printf(b, "\\u%04x", (unsigned)cp);
		else
			r = lm_buf_add(b, s + i, k);
		i += k > 0 ? k : 1;
	}
	return r != 0 ? -1 : lm_buf_addc(b, '"');
}

static int
put_json_s(lm_buf *b, const char *s)
{
	return s != NULL ? put_json(b, s, strlen(s)) : lm_buf_adds(b, "null");
}

/* A name and a count, for sorting. */
struct rp_pair {
	unsigned long	 n, n2;
	const char	*name;
};

static int
pair_cmp(const void *a, const void *b)
{
	const struct rp_pair *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* --- text ------------------------------------------------------------ */

#define ST(s, off)	(*(const unsigned long *)(const void *) \
			    ((const char *)(s) + (off)))
#define OFF(f)		offsetof(struct lm_rp_stats, f)

/* The counters of struct lm_rp_stats: JSON name, text column header
   (NULL: not a column). */
static const struct rp_field {
	const char	*json, *col;
	size_t		 off;
} rp_fields[] = {
	{ "messages", "msgs", OFF(messages) },
	{ "munged", "munged", OFF(munged) },
	{ "wrapped", "wrapped", OFF(wrapped) },
	{ "passed", "passed", OFF(passed) },
	{ "marked", NULL, OFF(marked) },
	{ "forged", "forged", OFF(forged) },
	{ "refused", "refused", OFF(refused) },
	{ "tempfailed", "tempfail", OFF(tempfailed) },
	{ "errors", NULL, OFF(errors) },
	{ "error_accepted", NULL, OFF(error_accepted) },
	{ "other", NULL, OFF(other) },
	{ NULL, "bounces", OFF(bounces) },
};
#define RP_NFIELDS	(sizeof rp_fields / sizeof rp_fields[0])

struct rp_row {
	const char		*name;	/* NULL: other lists / total */
	const char		*label;
	const struct lm_rp_stats *st;
};

struct rp_table {
	struct rp_row	*row;
	size_t		 n;	/* rows: lists, other lists, total */
	size_t		 namew, colw[RP_NFIELDS];
};

static int
digits(unsigned long v)
{
	int d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* Rows sorted by messages, then (other lists), then total. */
static int
table(const struct lm_report *rp, struct rp_table *t)
{
	struct rp_pair *p;
	size_t i, n = rp->nlist;

	if ((p = calloc(n + 1, sizeof *p)) == NULL ||
	    (t->row = calloc(n + 2, sizeof *t->row)) == NULL) {
		free(p);
		return -1;
	}
	for (i = 0; i < n; i++) {
		p[i].n = rp->list[i].st.messages;
		p[i].n2 = i;
		p[i].name = rp->list[i].name;
	}
	qsort(p, n, sizeof *p, pair_cmp);
	for (t->n = 0; t->n < n; t->n++) {
		t->row[t->n].name = t->row[t->n].label = p[t->n].name;
		t->row[t->n].st = &rp->list[p[t->n].n2].st;
	}
	free(p);
	if (rp->have_other_lists) {
		t->row[t->n].label = "(other lists)";
		t->row[t->n++].st = &rp->other_lists;
	}
	t->row[t->n].label = "total";
	t->row[t->n++].st = &rp->total;
	return 0;
}

static void
widths(struct rp_table *t)
{
	size_t i, j, w;

	t->namew = 4;
	for (i = 0; i < t->n; i++) {
		w = strlen(t->row[i].label);
		if (w > t->namew)
			t->namew = w > 40 ? 40 : w;
	}
	for (j = 0; j < RP_NFIELDS; j++) {
		t->colw[j] = rp_fields[j].col != NULL ?
		    strlen(rp_fields[j].col) : 0;
		for (i = 0; i < t->n; i++)
			if ((w = (size_t)digits(ST(t->row[i].st,
			    rp_fields[j].off))) > t->colw[j])
				t->colw[j] = w;
	}
}

static int
pad_name(lm_buf *b, const char *s, size_t w)
{
	size_t start = b->len;

	if (put_text(b, s, strlen(s)) != 0)
		return -1;
	while (b->len - start < w)
		if (lm_buf_addc(b, ' ') != 0)
			return -1;
	return 0;
}

static int
text_row(lm_buf *b, const struct rp_table *t, const struct rp_row *r)
{
	size_t j;

	if (pad_name(b, r->label, t->namew) != 0)
		return -1;
	for (j = 0; j < RP_NFIELDS; j++)
		if (rp_fields[j].col != NULL && lm_buf_printf(b, " %*lu",
		    (int)t->colw[j], r->st != NULL ?
		    ST(r->st, rp_fields[j].off) : 0) != 0)
			return -1;
	return lm_buf_addc(b, '\n');
}

static int
text_table(lm_buf *b, const struct rp_table *t)
{
	size_t i, j;

	if (pad_name(b, "list", t->namew) != 0)
		return -1;
	for (j = 0; j < RP_NFIELDS; j++)
		if (rp_fields[j].col != NULL && lm_buf_printf(b, " %*s",
		    (int)t->colw[j], rp_fields[j].col) != 0)
			return -1;
	if (lm_buf_addc(b, '\n') != 0)
		return -1;
	for (i = 0; i < t->n; i++)
		if (text_row(b, t, &t->row[i]) != 0)
			return -1;
	return 0;
}

static int
text_header(const struct lm_report *rp, lm_buf *b)
{
	const struct lm_rp_lines *l = &rp->lines;

	if (lm_buf_printf(b, "listmilter-report: %lu lines, %lu from %s, "
	    "%lu from other programs\n", l->read, l->ours, rp->ident,
	    l->foreign) != 0 || lm_buf_printf(b, "  %lu per-message, %lu "
	    "error, %lu bounce, %lu bounce notes, %lu not list mail, %lu "
	    "other, %lu unparsed (%lu too long)\n", l->message, l->error,
	    l->bounce, l->bounce_note, l->nonlist, l->other, l->unparsed,
	    l->too_long) != 0)
		return -1;
	if (rp->first[0] == '\0')
		return lm_buf_addc(b, '\n');
	return lm_buf_adds(b, "  period: ") || put_text(b, rp->first,
	    strlen(rp->first)) || lm_buf_adds(b, " to ") || put_text(b,
	    rp->last, strlen(rp->last)) || lm_buf_adds(b, "\n\n") ? -1 : 0;
}

/* "  label  a 1, b 2\n" from sorted pairs; nothing if there are none. */
static int
text_pairs(lm_buf *b, const char *label, struct rp_pair *p, size_t n,
    size_t show, unsigned long other)
{
	size_t i;

	qsort(p, n, sizeof *p, pair_cmp);
	if (n == 0 && other == 0)
		return 0;
	if (lm_buf_printf(b, "  %-10s", label) != 0)
		return -1;
	for (i = 0; i < n && i < show; i++)
		if (lm_buf_adds(b, i > 0 ? ", " : " ") || put_text(b,
		    p[i].name, strlen(p[i].name)) || lm_buf_printf(b, " %lu",
		    p[i].n))
			return -1;
	for (; i < n; i++)
		other += p[i].n;
	if (other > 0 && lm_buf_printf(b, "%sother %lu", n > 0 && show > 0 ?
	    ", " : " ", other) != 0)
		return -1;
	return lm_buf_addc(b, '\n');
}

static int
text_reasons(lm_buf *b, const struct lm_rp_stats *s, int tmp)
{
	struct rp_pair p[LM_RP_REASONS];
	size_t i, n = 0;

	for (i = 0; i < s->nreason; i++) {
		p[n].n = tmp ? s->reason[i].tempfailed : s->reason[i].rejected;
		p[n].name = s->reason[i].name;
		n += p[n].n > 0;
	}
	return text_pairs(b, tmp ? "tempfails" : "refusals", p, n,
	    LM_RP_REASONS, tmp ? s->reason_tmp_other : s->reason_rej_other);
}

static int
text_status(lm_buf *b, const struct lm_rp_stats *s, size_t top)
{
	struct rp_pair p[LM_RP_STATUSES];
	size_t i;

	for (i = 0; i < s->nstatus; i++) {
		p[i].n = s->status[i].n;
		p[i].name = s->status[i].code;
	}
	return text_pairs(b, "status", p, s->nstatus, top, s->status_other);
}

static int
text_policy(lm_buf *b, const struct lm_rp_stats *s)
{
	int i;

	if (s->messages == 0)
		return 0;
	if (lm_buf_adds(b, "  policy    ") != 0)
		return -1;
	for (i = 0; i < LM_RP_NPOL; i++)
		if (lm_buf_printf(b, "%s %s %lu", i ? "," : "", rp_pol_names[i],
		    s->policy[i]) != 0)
			return -1;
	return lm_buf_addc(b, '\n');
}

static int
text_counts(lm_buf *b, const struct lm_rp_stats *s)
{
	if (s->marked > 0 && lm_buf_printf(b, "  marked     %lu passed with "
	    "reason=dmarc-fail-marked\n", s->marked) != 0)
		return -1;
	if (s->errors > 0 && lm_buf_printf(b, "  errors     %lu (%lu "
	    "accepted unchanged, the rest tempfailed)\n", s->errors,
	    s->error_accepted) != 0)
		return -1;
	if (s->other > 0 && lm_buf_printf(b, "  other      %lu (unknown "
	    "action and result)\n", s->other) != 0)
		return -1;
	if ((s->bounces > 0 || s->b_unread > 0 || s->b_notlogged > 0) &&
	    lm_buf_printf(b, "  bounces    failed %lu, delayed %lu, other "
	    "%lu, unreadable %lu, not logged %lu\n", s->b_failed, s->b_delayed,
	    s->b_other, s->b_unread, s->b_notlogged) != 0)
		return -1;
	return 0;
}

static int
text_detail(lm_buf *b, const char *label, const struct lm_rp_stats *s,
    size_t top)
{
	if (put_text(b, label, strlen(label)) != 0 || lm_buf_addc(b, '\n'))
		return -1;
	return text_policy(b, s) || text_counts(b, s) ||
	    text_reasons(b, s, 0) || text_reasons(b, s, 1) ||
	    text_status(b, s, top) || lm_buf_addc(b, '\n') ? -1 : 0;
}

static int
text_dmarc(const struct lm_report *rp, lm_buf *b)
{
	int i;

	if (lm_buf_adds(b, "dmarc of the per-message lines:") != 0)
		return -1;
	for (i = 0; i < LM_RP_NDM; i++)
		if (lm_buf_printf(b, "%s %s %lu", i ? "," : "", rp_dm_names[i],
		    rp->dmarc[i]) != 0)
			return -1;
	return lm_buf_printf(b, " (trusted %lu)\n", rp->trusted);
}

/* Sorted pairs of the domains for policy pol (LM_RP_NPOL: forged). */
static struct rp_pair *
dom_pairs(const struct lm_report *rp, int pol, size_t *n)
{
	struct rp_pair *p = calloc(rp->ndom + 1, sizeof *p);
	size_t i;

	*n = 0;
	for (i = 0; p != NULL && i < rp->ndom; i++) {
		p[*n].n = pol < LM_RP_NPOL ? rp->dom[i].n[pol] :
		    rp->dom[i].forged;
		p[*n].name = rp->dom[i].name;
		*n += p[*n].n > 0;
	}
	if (p != NULL)
		qsort(p, *n, sizeof *p, pair_cmp);
	return p;
}

static int
text_domains(const struct lm_report *rp, lm_buf *b, int pol)
{
	struct rp_pair *p;
	size_t i, n;
	int r = 0;

	if ((p = dom_pairs(rp, pol, &n)) == NULL)
		return -1;
	if (n > 0 && rp->top > 0)
		r = lm_buf_printf(b, "author domains, %s (top %zu of %zu)\n",
		    pol < LM_RP_NPOL ? rp_pol_names[pol] : "forged mail",
		    rp->top < n ? rp->top : n, n);
	for (i = 0; r == 0 && i < n && i < rp->top; i++)
		r = lm_buf_addc(b, ' ') || lm_buf_addc(b, ' ') ||
		    pad_name(b, p[i].name, 40) || lm_buf_printf(b, " %lu\n",
		    p[i].n);
	if (r == 0 && n > 0 && rp->top > 0)
		r = lm_buf_addc(b, '\n');
	free(p);
	return r;
}

static int
text_notes(const struct lm_report *rp, lm_buf *b)
{
	if (lm_buf_printf(b, "not list mail: %lu\nerrors outside list mail: "
	    "%lu\n", rp->nonlist, rp->errors_nolist) != 0)
		return -1;
	if (rp->have_other_lists && lm_buf_printf(b, "note: lists beyond "
	    "the first %zu (or with unusable names) are counted as (other "
	    "lists)\n", rp->max_lists) != 0)
		return -1;
	if (rp->ndom >= rp->max_domains && lm_buf_printf(b, "note: author "
	    "domains beyond the first %zu are not listed\n",
	    rp->max_domains) != 0)
		return -1;
	if (rp->oom && lm_buf_adds(b, "note: out of memory, some names "
	    "were not tracked\n") != 0)
		return -1;
	return lm_buf_addc(b, '\n');
}

static int
text_body(const struct lm_report *rp, lm_buf *b, const struct rp_table *t)
{
	size_t i;
	int pol;

	if (text_table(b, t) != 0 || lm_buf_addc(b, '\n') != 0 ||
	    text_notes(rp, b) != 0)
		return -1;
	for (i = 0; i < t->n; i++)
		if (text_detail(b, t->row[i].name != NULL ? t->row[i].label :
		    t->row[i].st == &rp->total ? "all lists" : "(other lists)",
		    t->row[i].st, rp->top) != 0)
			return -1;
	if (text_dmarc(rp, b) != 0 || lm_buf_addc(b, '\n') != 0)
		return -1;
	for (pol = 0; pol <= LM_RP_NPOL; pol++)
		if (pol != LM_RP_P_OTHER && text_domains(rp, b, pol) != 0)
			return -1;
	return 0;
}

int
lm_report_text(const struct lm_report *rp, lm_buf *b)
{
	struct rp_table t;
	int r;

	memset(&t, 0, sizeof t);
	if (text_header(rp, b) != 0 || table(rp, &t) != 0)
		return -1;
	widths(&t);
	r = text_body(rp, b, &t);
	free(t.row);
	return r;
}

/* --- JSON ------------------------------------------------------------ */

static int
json_counts(lm_buf *b, const struct lm_rp_stats *s)
{
	size_t j;
	int i;

	for (j = 0; j < RP_NFIELDS; j++)
		if (rp_fields[j].json != NULL && lm_buf_printf(b, ",\"%s\":%lu",
		    rp_fields[j].json, ST(s, rp_fields[j].off)) != 0)
			return -1;
	if (lm_buf_adds(b, ",\"policy\":{") != 0)
		return -1;
	for (i = 0; i < LM_RP_NPOL; i++)
		if (lm_buf_printf(b, "%s\"%s\":%lu", i ? "," : "",
		    rp_pol_names[i], s->policy[i]) != 0)
			return -1;
	return lm_buf_addc(b, '}');
}

static int
json_reasons(lm_buf *b, const struct lm_rp_stats *s)
{
	struct rp_pair p[LM_RP_REASONS];
	size_t i;

	for (i = 0; i < s->nreason; i++) {
		p[i].n = s->reason[i].rejected + s->reason[i].tempfailed;
		p[i].n2 = i;
		p[i].name = s->reason[i].name;
	}
	qsort(p, s->nreason, sizeof *p, pair_cmp);
	if (lm_buf_adds(b, ",\"reasons\":[") != 0)
		return -1;
	for (i = 0; i < s->nreason; i++)
		if (lm_buf_adds(b, i ? ",{\"reason\":" : "{\"reason\":") ||
		    put_json_s(b, p[i].name) || lm_buf_printf(b, ",\"rejected\""
		    ":%lu,\"tempfailed\":%lu}", s->reason[p[i].n2].rejected,
		    s->reason[p[i].n2].tempfailed))
			return -1;
	return lm_buf_printf(b, "],\"reasons_other\":{\"rejected\":%lu,"
	    "\"tempfailed\":%lu}", s->reason_rej_other, s->reason_tmp_other);
}

static int
json_bounces(lm_buf *b, const struct lm_rp_stats *s, size_t top)
{
	struct rp_pair p[LM_RP_STATUSES];
	unsigned long other = s->status_other;
	size_t i;

	for (i = 0; i < s->nstatus; i++) {
		p[i].n = s->status[i].n;
		p[i].name = s->status[i].code;
	}
	qsort(p, s->nstatus, sizeof *p, pair_cmp);
	if (lm_buf_printf(b, ",\"bounces\":{\"lines\":%lu,\"failed\":%lu,"
	    "\"delayed\":%lu,\"other\":%lu,\"unreadable\":%lu,\"not_logged\":"
	    "%lu,\"status\":[", s->bounces, s->b_failed, s->b_delayed,
	    s->b_other, s->b_unread, s->b_notlogged) != 0)
		return -1;
	for (i = 0; i < s->nstatus && i < top; i++)
		if (lm_buf_adds(b, i ? ",{\"status\":" : "{\"status\":") ||
		    put_json_s(b, p[i].name) ||
		    lm_buf_printf(b, ",\"count\":%lu}", p[i].n))
			return -1;
	for (; i < s->nstatus; i++)
		other += p[i].n;
	return lm_buf_printf(b, "],\"status_other\":%lu}}", other);
}

static int
json_stats(lm_buf *b, const char *name, const struct lm_rp_stats *s,
    size_t top)
{
	return lm_buf_adds(b, "{\"list\":") || put_json_s(b, name) ||
	    json_counts(b, s) || json_reasons(b, s) ||
	    json_bounces(b, s, top) ? -1 : 0;
}

static int
json_lines(const struct lm_report *rp, lm_buf *b)
{
	const struct lm_rp_lines *l = &rp->lines;

	return lm_buf_printf(b, "{\"version\":1,\"ident\":") ||
	    put_json_s(b, rp->ident) || lm_buf_printf(b, ",\"lines\":{"
	    "\"read\":%lu,\"ours\":%lu,\"foreign\":%lu,\"message\":%lu,"
	    "\"error\":%lu,\"bounce\":%lu,\"bounce_note\":%lu,\"nonlist\":%lu,"
	    "\"other\":%lu,\"unparsed\":%lu,\"too_long\":%lu},\"period\":{"
	    "\"first\":", l->read, l->ours, l->foreign, l->message, l->error,
	    l->bounce, l->bounce_note, l->nonlist, l->other, l->unparsed,
	    l->too_long) ||
	    put_json_s(b, rp->first[0] ? rp->first : NULL) ||
	    lm_buf_adds(b, ",\"last\":") ||
	    put_json_s(b, rp->last[0] ? rp->last : NULL) ||
	    lm_buf_printf(b, "},\"limits\":{\"max_lists\":%zu,\"max_domains\":"
	    "%zu,\"reasons_per_list\":%d,\"statuses_per_list\":%d,\"top\":%zu,"
	    "\"out_of_memory\":%s}", rp->max_lists, rp->max_domains,
	    LM_RP_REASONS, LM_RP_STATUSES, rp->top, rp->oom ? "true" :
	    "false") ? -1 : 0;
}

static int
json_lists(const struct lm_report *rp, lm_buf *b, const struct rp_table *t)
{
	size_t i;

	if (lm_buf_adds(b, ",\"lists\":[") != 0)
		return -1;
	for (i = 0; i < t->n && t->row[i].name != NULL; i++)
		if ((i > 0 && lm_buf_addc(b, ',') != 0) ||
		    json_stats(b, t->row[i].name, t->row[i].st, rp->top) != 0)
			return -1;
	if (lm_buf_adds(b, "],\"other_lists\":") != 0 ||
	    (rp->have_other_lists ? json_stats(b, NULL, &rp->other_lists,
	    rp->top) : lm_buf_adds(b, "null")) != 0)
		return -1;
	return lm_buf_adds(b, ",\"total\":") ||
	    json_stats(b, NULL, &rp->total, rp->top) ||
	    lm_buf_printf(b, ",\"nonlist\":%lu,\"errors_nolist\":%lu",
	    rp->nonlist, rp->errors_nolist) ? -1 : 0;
}

static int
json_dmarc(const struct lm_report *rp, lm_buf *b)
{
	int i;

	if (lm_buf_adds(b, ",\"dmarc\":{") != 0)
		return -1;
	for (i = 0; i < LM_RP_NDM; i++)
		if (lm_buf_printf(b, "\"%s\":%lu,", rp_dm_names[i],
		    rp->dmarc[i]) != 0)
			return -1;
	return lm_buf_printf(b, "\"trusted\":%lu}", rp->trusted);
}

static int
json_domains(const struct lm_report *rp, lm_buf *b, int pol)
{
	struct rp_pair *p;
	size_t i, n;
	int r;

	if ((p = dom_pairs(rp, pol, &n)) == NULL)
		return -1;
	r = lm_buf_printf(b, "%s\"%s\":[", pol ? "," : "", pol < LM_RP_NPOL ?
	    rp_pol_names[pol] : "forged");
	for (i = 0; r == 0 && i < n && i < rp->top; i++)
		r = lm_buf_adds(b, i ? ",{\"domain\":" : "{\"domain\":") ||
		    put_json_s(b, p[i].name) ||
		    lm_buf_printf(b, ",\"messages\":%lu}", p[i].n);
	free(p);
	return r != 0 ? -1 : lm_buf_addc(b, ']');
}

static int
json_all_domains(const struct lm_report *rp, lm_buf *b)
{
	int pol;

	if (lm_buf_adds(b, ",\"author_domains\":{") != 0)
		return -1;
	for (pol = 0; pol <= LM_RP_NPOL; pol++)
		if (json_domains(rp, b, pol) != 0)
			return -1;
	if (lm_buf_printf(b, "},\"author_domains_tracked\":%zu,"
	    "\"author_domains_untracked\":{", rp->ndom) != 0)
		return -1;
	for (pol = 0; pol < LM_RP_NPOL; pol++)
		if (lm_buf_printf(b, "%s\"%s\":%lu", pol ? "," : "",
		    rp_pol_names[pol], rp->dom_other[pol]) != 0)
			return -1;
	return lm_buf_adds(b, "}}\n");
}

int
lm_report_json(const struct lm_report *rp, lm_buf *b)
{
	struct rp_table t;
	int r;

	memset(&t, 0, sizeof t);
	if (json_lines(rp, b) != 0 || table(rp, &t) != 0)
		return -1;
	r = json_lists(rp, b, &t) || json_dmarc(rp, b) ||
	    json_all_domains(rp, b) ? -1 : 0;
	free(t.row);
	return r;
}
