/*
 * fuzz_logline - fuzz entry point for lm_logline and lm_report.  The
 * input is a piece of syslog: each of its lines is parsed by
 * lm_logline_parse() and the result checked against the contract of
 * lm_logline.h; then the whole input is fed to an lm_report with small
 * limits (2 lists, 2 domains, top 3, so the "other" buckets fill up) in
 * chunks whose sizes come from the input, and both summaries are
 * rendered.  A violation aborts:
 *  - every string of the result lies inside the line, and at most
 *    LM_LL_MAXFIELDS fields are kept;
 *  - FOREIGN results carry nothing, the others name the ident; too_long
 *    only with UNPARSED, which has a reason;
 *  - MESSAGE has a list, a known action and a valid result; ERROR and
 *    BOUNCE lines a list; a second parse gives the same result;
 *  - the line counters add up (read = ours + foreign, ours = the sum of
 *    the kinds), and so do the outcomes of the totals (messages = munged
 *    + wrapped + passed + forged + refused + tempfailed + error_accepted
 *    + other) and the totals over the lists and the other bucket;
 *  - the text summary is valid UTF-8 without control characters other
 *    than LF; the JSON summary is valid UTF-8, has no raw control
 *    character and its brackets and quotes balance.
 *
 * Built with -fsanitize=fuzzer, or replayed over tests/fuzz/corpus/
 * logline/ by tests/fuzz/fuzz_main.c.  The input belongs to the caller;
 * the report and the output buffers are freed here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_logline.h"
#include "lm_report.h"
#include "lm_rfc2047.h"

#define IDENT	"listmilter"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
need(int cond)
{
	if (!cond)
		abort();
}

static void
inside(struct lm_ll_str s, const char *p, size_t n)
{
	if (s.p == NULL) {
		need(s.n == 0);
		return;
	}
	need(s.p >= p && s.n <= n && (size_t)(s.p - p) <= n - s.n);
}

static int
same_str(struct lm_ll_str a, struct lm_ll_str b)
{
	return a.p == b.p && a.n == b.n;
}

static void
check_same(const struct lm_logline *a, const struct lm_logline *b)
{
	size_t i;

	need(a->kind == b->kind && a->nf == b->nf && a->more == b->more);
	need(a->dropped == b->dropped && a->unterminated == b->unterminated);
	need(same_str(a->qid, b->qid) && same_str(a->text, b->text));
	for (i = 0; i < a->nf; i++)
		need(same_str(a->f[i].key, b->f[i].key) &&
		    same_str(a->f[i].val, b->f[i].val));
}

static void
check_kind(const struct lm_logline *ll)
{
	static const char *const acts[] = { "munge", "wrap", "pass",
	    "reject", "tempfail" };
	struct lm_ll_str v;
	size_t i;
	int ok = 0;

	need(!ll->too_long || ll->kind == LM_LL_UNPARSED);
	need(ll->kind != LM_LL_UNPARSED || ll->why != NULL);
	if (ll->kind == LM_LL_MESSAGE || ll->kind == LM_LL_ERROR ||
	    ll->kind == LM_LL_BOUNCE || ll->kind == LM_LL_BOUNCE_NOTE)
		need(lm_logline_get(ll, "list", &v) && v.n > 0);
	if (ll->kind != LM_LL_MESSAGE)
		return;
	need(lm_logline_get(ll, "action", &v));
	for (i = 0; i < sizeof acts / sizeof acts[0]; i++)
		ok |= lm_ll_eq(v, acts[i]);
	need(ok && lm_logline_get(ll, "result", &v));
}

static void
check_line(const char *p, size_t n)
{
	struct lm_logline *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	size_t i;

	need(a != NULL && b != NULL);
	lm_logline_parse(p, n, IDENT, a);
	need(a->nf <= LM_LL_MAXFIELDS);
	if (a->kind == LM_LL_FOREIGN)
		need(a->nf == 0 && a->qid.p == NULL && a->prog.p == NULL);
	else
		need(lm_ll_eq(a->prog, IDENT));
	inside(a->ts, p, n);
	inside(a->host, p, n);
	inside(a->pid, p, n);
	inside(a->sev, p, n);
	inside(a->qid, p, n);
	inside(a->text, p, n);
	inside(a->note, p, n);
	for (i = 0; i < a->nf; i++) {
		inside(a->f[i].key, p, n);
		inside(a->f[i].val, p, n);
		need(a->f[i].key.n >= 1 && a->f[i].key.n <= LM_LL_MAXKEY);
	}
	check_kind(a);
	lm_logline_parse(p, n, IDENT, b);
	check_same(a, b);
	free(a);
	free(b);
}

static void
check_stats(const struct lm_rp_stats *s)
{
	need(s->messages == s->munged + s->wrapped + s->passed + s->forged +
	    s->refused + s->tempfailed + s->error_accepted + s->other);
	need(s->marked <= s->passed && s->error_accepted <= s->errors);
	need(s->bounces == s->b_failed + s->b_delayed + s->b_other);
	need(s->nreason <= LM_RP_REASONS && s->nstatus <= LM_RP_STATUSES);
}

static void
check_sums(const struct lm_report *rp)
{
	const struct lm_rp_lines *l = &rp->lines;
	unsigned long m = rp->other_lists.messages;
	unsigned long bn = rp->other_lists.bounces;
	size_t i;

	need(l->read == l->ours + l->foreign);
	need(l->ours == l->message + l->error + l->bounce + l->bounce_note +
	    l->nonlist + l->other + l->unparsed);
	need(l->too_long <= l->unparsed && rp->nlist <= rp->max_lists);
	need(rp->ndom <= rp->max_domains);
	check_stats(&rp->total);
	check_stats(&rp->other_lists);
	for (i = 0; i < rp->nlist; i++) {
		check_stats(&rp->list[i].st);
		m += rp->list[i].st.messages;
		bn += rp->list[i].st.bounces;
	}
	need(m == rp->total.messages && bn == rp->total.bounces);
	need(rp->total.messages == l->message + l->error - rp->errors_nolist);
}

static void
check_text(const lm_buf *b)
{
	size_t i;

	need(lm_utf8_valid(lm_buf_cstr(b), b->len));
	for (i = 0; i < b->len; i++)
		need((unsigned char)b->s[i] >= 0x20 || b->s[i] == '\n');
}

static void
check_json(const lm_buf *b)
{
	size_t i, depth = 0;
	int str = 0;

	check_text(b);
	for (i = 0; i < b->len; i++) {
		char c = b->s[i];

		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = 0;
			continue;
		}
		if (c == '"')
			str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			need(depth > 0);
			depth--;
		}
	}
	need(!str && depth == 0 && b->len > 0 && b->s[b->len - 1] == '\n');
}

static void
run_report(const char *p, size_t n)
{
	struct lm_report rp;
	lm_buf out;
	size_t off = 0, k;

	need(lm_report_init(&rp, IDENT, 2, 2, 3) == 0);
	while (off < n) {
		k = 1 + (unsigned char)p[off] % 97;
		k = k < n - off ? k : n - off;
		lm_report_feed(&rp, p + off, k);
		off += k;
	}
	lm_report_finish(&rp);
	check_sums(&rp);
	lm_buf_init(&out, 1 << 24);
	need(lm_report_text(&rp, &out) == 0);
	check_text(&out);
	lm_buf_reset(&out);
	need(lm_report_json(&rp, &out) == 0);
	check_json(&out);
	lm_buf_free(&out);
	lm_report_free(&rp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	size_t off = 0, k;

	while (off < size) {
		nl = memchr(s + off, '\n', size - off);
		k = nl != NULL ? (size_t)(nl - (s + off)) : size - off;
		check_line(s + off, k);
		off += k + 1;
	}
	run_report(s, size);
	return 0;
}
