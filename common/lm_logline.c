/*
 * lm_logline - syslog line parser for listmilter-report (see
 * lm_logline.h for the accepted prefixes, the field syntax and the
 * contract).
 *
 * Follows RFC 3164 4.1 (PRI, TIMESTAMP HOSTNAME TAG: MSG, read
 * leniently: any timestamp of up to LM_LL_MAXPRE - 1 tokens) and RFC
 * 5424 6 (PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP
 * MSGID SP STRUCTURED-DATA [SP MSG], SD-PARAM values with '\' escapes,
 * an optional UTF-8 BOM before MSG); the message syntax is the one
 * milter/lm_milter.c writes (listmilter(8), LOGGING).
 *
 * Ownership: results point into the caller's line; nothing is
 * allocated.  Pure C, no globals.
 */
#include <limits.h>
#include <string.h>

#include "lm_logline.h"

static const char *const ll_severities[] = { "info", "warning", "error",
    "fatal", "debug" };
static const char *const ll_verdicts[] = { "munge", "wrap", "pass",
    "reject", "tempfail", NULL };
static const char *const ll_dsn_actions[] = { "failed", "delayed",
    "delivered", "relayed", "expanded", "-", NULL };

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_keych(int c)
{
	return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

static struct lm_ll_str
mkstr(const char *p, const char *e)
{
	struct lm_ll_str s;

	s.p = p;
	s.n = (size_t)(e - p);
	return s;
}

static int
has_prefix(const char *p, const char *e, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(e - p) >= n && memcmp(p, lit, n) == 0;
}

int
lm_ll_eq(struct lm_ll_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.p != NULL && s.n == n && memcmp(s.p, lit, n) == 0;
}

static int
one_of(struct lm_ll_str s, const char *const *v)
{
	for (; *v != NULL; v++)
		if (lm_ll_eq(s, *v))
			return 1;
	return 0;
}

const char *
lm_ll_kind_name(enum lm_ll_kind k)
{
	static const char *const names[] = { "foreign", "other", "unparsed",
	    "message", "error", "bounce", "bounce-note", "nonlist" };

	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

int
lm_logline_get(const struct lm_logline *ll, const char *key,
    struct lm_ll_str *val)
{
	size_t i;

	for (i = 0; i < ll->nf; i++)
		if (lm_ll_eq(ll->f[i].key, key)) {
			*val = ll->f[i].val;
			return 1;
		}
	val->p = NULL;
	val->n = 0;
	return 0;
}

/* --- the prefix ------------------------------------------------------ */

/* "NAME[PID]:" or "NAME:" as the token [p, e). */
static int
tag_token(const char *p, const char *e, struct lm_logline *out)
{
	const char *q, *b = NULL;

	if (e - p < 2 || e[-1] != ':')
		return 0;
	for (q = p, e--; q < e && b == NULL; q++)
		if (*q == '[')
			b = q;
		else if (*q == ':' || *q == ']')
			return 0;
	if (b == NULL) {
		out->prog = mkstr(p, e);
		return 1;
	}
	if (b == p || e - b < 3 || e - b > 12 || e[-1] != ']')
		return 0;
	for (q = b + 1; q < e - 1; q++)
		if (!is_digit(*q))
			return 0;
	out->prog = mkstr(p, b);
	out->pid = mkstr(b + 1, e - 1);
	return 1;
}

/* RFC 3164 and the other "TIMESTAMP HOST TAG: MSG" forms; *msg set. */
static int
find_tag(const char *p, const char *e, struct lm_logline *out,
    const char **msg)
{
	const char *ts[LM_LL_MAXPRE][2], *s;
	int i;

	for (i = 0; i <= LM_LL_MAXPRE; i++) {
		while (p < e && is_blank(*p))
			p++;
		for (s = p; p < e && !is_blank(*p); p++)
			;
		if (s == p)
			return 0;
		if (tag_token(s, p, out))
			break;
		if (i == LM_LL_MAXPRE)
			return 0;
		ts[i][0] = s;
		ts[i][1] = p;
	}
	if (i >= 2)
		out->ts = mkstr(ts[0][0], ts[i - 2][1]);
	if (i >= 1)
		out->host = mkstr(ts[i - 1][0], ts[i - 1][1]);
	*msg = p < e ? p + 1 : p;
	return 1;
}

/* RFC 5424 6.3: one or more SD-ELEMENTs at *pp. */
static int
sd_skip(const char **pp, const char *e)
{
	const char *p = *pp;
	int inq = 0;

	if (p >= e || *p != '[')
		return 0;
	while (p < e && *p == '[') {
		for (p++; p < e; p++) {
			if (inq && *p == '\\' && p + 1 < e)
				p++;
			else if (*p == '"')
				inq = !inq;
			else if (!inq && *p == ']')
				break;
		}
		if (p >= e)
			return 0;
		p++;
	}
	*pp = p;
	return 1;
}

static struct lm_ll_str
nil_dash(struct lm_ll_str s)
{
	if (lm_ll_eq(s, "-"))
		s.p = NULL, s.n = 0;
	return s;
}

/* RFC 5424 after "<PRI>1 ": TS HOST APP PROCID MSGID SD [SP MSG]. */
static int
rfc5424(const char *p, const char *e, struct lm_logline *out,
    const char **msg)
{
	struct lm_ll_str f[5];
	const char *s;
	int i;

	for (i = 0; i < 5; i++) {
		for (s = p; p < e && *p != ' '; p++)
			;
		if (s == p || p >= e)
			return 0;
		f[i] = mkstr(s, p++);
	}
	if (p >= e)			/* no STRUCTURED-DATA */
		return 0;
	if (*p == '-')
		p++;
	else if (!sd_skip(&p, e))
		return 0;
	if (p < e && *p++ != ' ')
		return 0;
	if (has_prefix(p, e, "\xef\xbb\xbf"))
		p += 3;
	out->ts = nil_dash(f[0]);
	out->host = nil_dash(f[1]);
	out->prog = f[2];
	out->pid = nil_dash(f[3]);
	*msg = p;
	return 1;
}

/* Optional "<PRI>" (RFC 5424 6.2.1: 1 to 3 digits). */
static const char *
skip_pri(const char *p, const char *e)
{
	const char *q = p + 1;

	if (p >= e || *p != '<')
		return p;
	while (q < e && is_digit(*q) && q - p <= 3)
		q++;
	return q > p + 1 && q < e && *q == '>' ? q + 1 : p;
}

static int
prefix(const char *p, const char *e, struct lm_logline *out,
    const char **msg)
{
	const char *q = skip_pri(p, e);

	if (q != p && has_prefix(q, e, "1 ") && rfc5424(q + 2, e, out, msg))
		return 1;
	memset(out, 0, sizeof *out);
	return find_tag(q, e, out, msg);
}

/* --- fields ---------------------------------------------------------- */

/* Length of the "key" of a "key=" at p, or 0. */
static size_t
key_len(const char *p, const char *e)
{
	size_t n = 0;

	while (p + n < e && n <= LM_LL_MAXKEY && is_keych(p[n]))
		n++;
	return n >= 1 && n <= LM_LL_MAXKEY && p + n < e && p[n] == '=' ? n : 0;
}

/* The closing quote of a value that opened before p, or NULL. */
static const char *
quote_end(const char *p, const char *e)
{
	const char *q, *k;

	for (q = p; (q = memchr(q, '"', (size_t)(e - q))) != NULL; q++) {
		for (k = q + 1; k < e && is_blank(*k); k++)
			;
		if (k == e || (k > q + 1 && key_len(k, e) > 0))
			return q;
	}
	return NULL;
}

/* One "key=value" at k (key length n); returns where the scan goes on. */
static const char *
field(const char *k, size_t n, const char *e, struct lm_logline *out)
{
	struct lm_ll_field f;
	const char *v = k + n + 1, *q;

	f.key = mkstr(k, k + n);
	f.quoted = v < e && *v == '"';
	if (f.quoted) {
		if ((q = quote_end(v + 1, e)) == NULL) {
			out->unterminated = 1;
			q = e;
		}
		f.val = mkstr(v + 1, q);
		v = q < e ? q + 1 : q;
	} else {
		for (q = v; q < e && !is_blank(*q); q++)
			;
		f.val = mkstr(v, q);
		v = q;
	}
	if (out->nf < LM_LL_MAXFIELDS)
		out->f[out->nf++] = f;
	else
		out->dropped++;
	return v;
}

static void
parse_fields(const char *p, const char *e, struct lm_logline *out)
{
	size_t n;

	for (;;) {
		while (p < e && is_blank(*p))
			p++;
		if (p >= e)
			return;
		if ((n = key_len(p, e)) > 0) {
			p = field(p, n, e, out);
			continue;
		}
		if (out->note.p == NULL)
			out->note = mkstr(p, e);
		while (p < e && !is_blank(*p))
			p++;
	}
}

/* --- classification -------------------------------------------------- */

static void
unparsed(struct lm_logline *out, const char *why)
{
	out->kind = LM_LL_UNPARSED;
	out->why = why;
}

/* "accept", "reject_DDD" or "tempfail_DDD" (refuse() in lm_milter.c). */
static int
valid_result(struct lm_ll_str r)
{
	const char *p = r.p;
	size_t k;

	if (lm_ll_eq(r, "accept"))
		return 1;
	if (r.n == 10 && memcmp(p, "reject_", 7) == 0)
		k = 7;
	else if (r.n == 12 && memcmp(p, "tempfail_", 9) == 0)
		k = 9;
	else
		return 0;
	return is_digit(p[k]) && is_digit(p[k + 1]) && is_digit(p[k + 2]);
}

/* "-" or an RFC 3463 status code: class 2, 4 or 5 "." 1*3DIGIT "."
   1*3DIGIT. */
static int
valid_status(struct lm_ll_str s)
{
	size_t i = 2, part, d;

	if (lm_ll_eq(s, "-"))
		return 1;
	if (s.n < 5 || (s.p[0] != '2' && s.p[0] != '4' && s.p[0] != '5') ||
	    s.p[1] != '.')
		return 0;
	for (part = 0; part < 2; part++) {
		for (d = 0; i < s.n && is_digit(s.p[i]) && d < 4; i++, d++)
			;
		if (d < 1 || d > 3 || (part == 0 && (i >= s.n ||
		    s.p[i++] != '.')))
			return 0;
	}
	return i == s.n;
}

static void
list_line(const char *p, const char *e, struct lm_logline *out)
{
	struct lm_ll_str list, action, result, err;

	parse_fields(p, e, out);
	(void)lm_logline_get(out, "result", &result);
	if (!lm_logline_get(out, "list", &list) || list.n == 0)
		unparsed(out, "empty list");
	else if (lm_logline_get(out, "error", &err)) {
		if (lm_ll_eq(result, "accept") || lm_ll_eq(result, "tempfail"))
			out->kind = LM_LL_ERROR;
		else
			unparsed(out, "error line without a valid result");
	} else if (!lm_logline_get(out, "action", &action) ||
	    !one_of(action, ll_verdicts))
		unparsed(out, "missing or unknown action");
	else if (!valid_result(result))
		unparsed(out, "missing or invalid result");
	else
		out->kind = LM_LL_MESSAGE;
}

/* "N more recipients not logged": 1 and *n, else 0. */
static int
more_note(struct lm_ll_str s, unsigned long *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < s.n && is_digit(s.p[i]); i++) {
		if (*n > (ULONG_MAX - 9) / 10)
			return 0;
		*n = *n * 10 + (unsigned long)(s.p[i] - '0');
	}
	s.p += i;
	s.n -= i;
	return i > 0 && lm_ll_eq(s, " more recipients not logged");
}

static void
bounce_line(const char *p, const char *e, struct lm_logline *out)
{
	struct lm_ll_str list, action, status;

	parse_fields(p, e, out);
	if (out->nf == 0 || !lm_ll_eq(out->f[0].key, "list") ||
	    out->f[0].val.n == 0 || !lm_logline_get(out, "list", &list))
		unparsed(out, "bounce line without a list");
	else if (lm_logline_get(out, "action", &action)) {
		if (!one_of(action, ll_dsn_actions))
			unparsed(out, "bounce line with an unknown action");
		else if (!lm_logline_get(out, "status", &status) ||
		    !valid_status(status))
			unparsed(out, "bounce line without a valid status");
		else
			out->kind = LM_LL_BOUNCE;
	} else if (out->note.p != NULL) {
		out->kind = LM_LL_BOUNCE_NOTE;
		if (!more_note(out->note, &out->more))
			out->more = 0;
	} else
		unparsed(out, "bounce line without action or text");
}

/* MSG at [p, e) of the program's line. */
static void
message(const char *p, const char *e, struct lm_logline *out)
{
	const char *q;
	size_t i, n;

	for (i = 0; i < sizeof ll_severities / sizeof ll_severities[0]; i++) {
		n = strlen(ll_severities[i]);
		if ((size_t)(e - p) > n + 1 && memcmp(p, ll_severities[i], n) ==
		    0 && p[n] == ':' && p[n + 1] == ' ') {
			out->sev = mkstr(p, p + n);
			p += n + 2;
			break;
		}
	}
	out->kind = LM_LL_OTHER;
	out->text = mkstr(p, e);
	for (q = p; q < e && is_alnum(*q) && q - p <= LM_LL_MAXQID; q++)
		;
	if (q == p || q - p > LM_LL_MAXQID || !has_prefix(q, e, ": "))
		return;
	out->qid = mkstr(p, q);
	out->text = mkstr(q + 2, e);
	p = q + 2;
	if (has_prefix(p, e, "list="))
		list_line(p, e, out);
	else if (has_prefix(p, e, "bounce "))
		bounce_line(p + 7, e, out);
	else if (has_prefix(p, e, "not list mail"))
		out->kind = LM_LL_NONLIST;
}

void
lm_logline_parse(const char *line, size_t len, const char *ident,
    struct lm_logline *out)
{
	const char *e, *msg = NULL;
	size_t n = len;

	memset(out, 0, sizeof *out);
	out->kind = LM_LL_FOREIGN;
	if (line == NULL)
		return;
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	e = line + (n > LM_LL_MAXLINE ? LM_LL_MAXLINE : n);
	if (!prefix(line, e, out, &msg) || !lm_ll_eq(out->prog, ident)) {
		memset(out, 0, sizeof *out);
		out->kind = LM_LL_FOREIGN;
		return;
	}
	if (n > LM_LL_MAXLINE) {
		out->too_long = 1;
		unparsed(out, "line too long");
		return;
	}
	message(msg, e, out);
}
