/*
 * lm_listtab - the list table parser and lookup (see lm_listtab.h for
 * the file format and the contract).
 *
 * Parsing: the text is cut into lines (LF or CRLF, at most 4096 bytes
 * each); a line is an ADDRESS token followed by key=value tokens,
 * separated by spaces or tabs.  A value is either a run of printable
 * bytes without '"', or a double-quoted string in which only \" and \\
 * are escapes.  '#' outside quotes starts a comment; other control
 * characters outside quotes are errors.  The first error stops the parse
 * and is reported as "FILE:LINE: reason"; a duplicate address is found
 * after sorting, and reported instead when its line comes first.
 *
 * Addresses follow RFC 5321 4.1.2 / RFC 5322 3.4.1 in a reduced form: a
 * dot-atom local part of at most 64 bytes (RFC 5321 4.5.3.1.1) and a
 * domain of LDH labels of 1..63 bytes, at most 253 bytes in all (RFC
 * 1035 2.3.4, RFC 5890 2.3.1 A-labels), without a trailing dot, and at
 * most 254 bytes together (RFC 5321 4.5.3.1.3).  Both are stored
 * lower-cased.  lm_listtab_match() refuses an envelope address that the
 * table could not hold, or whose derived strings do not fit lm_listref.
 *
 * The option table lt_keys[] below is the single declaration of every
 * list option: name, accepted values, default and documentation.  For
 * the enumerated keys the position of a word in `values` is the enum
 * value, so the table also drives parsing.
 *
 * Lookup: entries are kept sorted by (domain, local part), the domain
 * form (local NULL) first, so lm_listtab_match() is two binary searches.
 *
 * Ownership: lm_listtab_parse() allocates the table and every string in
 * it; lm_listtab_free() releases them.  lm_listtab_match() writes only
 * into the caller's lm_listref.  Pure C, no globals.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lm_buf.h"
#include "lm_listtab.h"

#define LT_MAXLINE	4096
#define LT_MAXLOCAL	64
#define LT_MAXDOMAIN	253
#define LT_MAXLABEL	63
#define LT_MAXADDR	254		/* RFC 5321 4.5.3.1.3, path - "<>" */
#define LT_MAXNAME	200
#define LT_SHOW		64		/* bytes of input quoted in errors */

enum lt_key {
	LT_K_NAME,
	LT_K_ACTION,
	LT_K_MITIGATE,
	LT_K_REPLY,
	LT_K_BOUNCE,
	LT_K_ENFORCE,
	LT_K_QUARANTINE,
	LT_K_TEMPERROR,
	LT_K_SIGN,
	LT_NKEYS
};

static const struct lm_listkey lt_keys[] = {
	[LT_K_NAME] = { "name", "TEXT", "the local part",
	    "Display name of the list, used in rewritten From fields; at "
	    "most 200 bytes, no control characters." },
	[LT_K_ACTION] = { "action", "munge|wrap|reject|none", "munge",
	    "What to do with a message that needs mitigation: munge "
	    "rewrites From, wrap encapsulates the original message, reject "
	    "refuses it, none passes it unchanged." },
	[LT_K_MITIGATE] = { "mitigate", "policy|always|needed", "policy",
	    "When to apply the action: policy when the author domain "
	    "publishes a DMARC policy of quarantine or reject, always for "
	    "every message, needed only when such a message has no aligned "
	    "DKIM signature that survives the list's changes." },
	[LT_K_REPLY] = { "reply", "author|list", "author",
	    "Where replies to a rewritten message go: author (the original "
	    "From address) or list (the list address)." },
	[LT_K_BOUNCE] = { "bounce", "ADDRESS|none", "owner-LOCAL@DOMAIN",
	    "Envelope sender of rewritten messages, which receives bounces; "
	    "none keeps the original envelope sender." },
	[LT_K_ENFORCE] = { "enforce", "yes|no", "yes",
	    "Refuse mail whose author domain fails DMARC on arrival with an "
	    "enforcing policy, so forged mail is never rewritten into "
	    "authenticated list mail." },
	[LT_K_QUARANTINE] = { "quarantine", "reject|mark", "reject",
	    "With enforce=yes, a DMARC failure under p=quarantine: reject it, "
	    "or mark it (deliver it unrewritten with dmarc=fail in "
	    "Authentication-Results, so receivers quarantine it)." },
	[LT_K_TEMPERROR] = { "temperror", "tempfail|accept", "tempfail",
	    "With enforce=yes, a DMARC evaluation that failed temporarily "
	    "(DNS): tempfail with 451, or accept and mitigate as usual." },
	[LT_K_SIGN] = { "sign", "SELECTOR:PATH|none", "the SigningKey setting",
	    "DKIM-sign the list's copies with d=<list domain>, selector "
	    "SELECTOR and the PEM private key at PATH (RSA or Ed25519); none "
	    "does not sign even when SigningKey is set." },
	[LT_NKEYS] = { NULL, NULL, NULL, NULL }
};

_Static_assert(sizeof lt_keys / sizeof lt_keys[0] == LT_NKEYS + 1,
    "lt_keys and enum lt_key disagree");

/* Parser state for one table. */
struct lt_ctx {
	const char	*fname;
	int		 line;
	char		*err;
	size_t		 errsz;
	size_t		 cap;		/* allocated entries of tab->v */
	struct lm_listtab *tab;
};

/* A position in one line. */
struct lt_cur {
	const char	*p;
	const char	*end;
};

static int lt_err(struct lt_ctx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
lt_err(struct lt_ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->err == NULL || x->errsz == 0)
		return -1;
	n = snprintf(x->err, x->errsz, "%s:%d: ", x->fname, x->line);
	if (n < 0 || (size_t)n >= x->errsz)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(x->err + n, x->errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Input bytes made safe for an error message: \xNN for non-printables,
   cut at LT_SHOW bytes. */
static const char *
lt_show(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < LT_SHOW && o + 5 < outsz; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x",
			    ch);
	}
	if (i < n && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static int
lt_ws(int c)
{
	return c == ' ' || c == '\t';
}

static int
lt_ctl(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* ------------------------------------------------------------------ */
/* Addresses */

/* RFC 5322 3.2.3 atext. */
static int
lt_atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A dot-atom of 1..max bytes. */
static int
lt_dotatom(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n == 0 || n > max || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' :
		    !lt_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int
lt_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

static int
lt_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > LT_MAXLABEL || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!lt_ldh((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
lt_domain(const char *s, size_t n)
{
	const char *dot;
	size_t lab;

	if (n == 0 || n > LT_MAXDOMAIN)
		return 0;
	for (;;) {
		dot = memchr(s, '.', n);
		lab = dot != NULL ? (size_t)(dot - s) : n;
		if (!lt_label(s, lab))
			return 0;
		if (dot == NULL)
			return 1;
		s += lab + 1;
		n -= lab + 1;
	}
}

/*
 * Split and check "local@domain" (or "@domain" if domform).  On success
 * *local (NULL for the domain form) and *domain are allocated,
 * lower-cased copies.  Returns 0, -1 on bad syntax, -2 on no memory.
 */
static int
lt_addr(const char *s, size_t n, int domform, char **local, char **domain)
{
	const char *at = memchr(s, '@', n);
	size_t ln;

	*local = *domain = NULL;
	if (at == NULL)
		return -1;
	ln = (size_t)(at - s);
	if (!(ln == 0 && domform) && !lt_dotatom(s, ln, LT_MAXLOCAL))
		return -1;
	if (!lt_domain(at + 1, n - ln - 1) || n > LT_MAXADDR)
		return -1;
	if ((*domain = lm_strndup(at + 1, n - ln - 1)) == NULL ||
	    (ln > 0 && (*local = lm_strndup(s, ln)) == NULL)) {
		free(*domain);
		*domain = NULL;
		return -2;
	}
	lm_lower(*domain, n - ln - 1);
	if (*local != NULL)
		lm_lower(*local, ln);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Values */

static int
lt_keyindex(const char *s, size_t n)
{
	int k;

	for (k = 0; k < LT_NKEYS; k++)
		if (lm_strcaseeq(s, n, lt_keys[k].name,
		    strlen(lt_keys[k].name)))
			return k;
	return -1;
}

/* Position of word v in the '|'-separated list, or -1. */
static int
lt_enum(const char *list, const char *v, size_t n)
{
	const char *bar;
	size_t wn;
	int i;

	for (i = 0; ; i++) {
		bar = strchr(list, '|');
		wn = bar != NULL ? (size_t)(bar - list) : strlen(list);
		if (lm_strcaseeq(list, wn, v, n))
			return i;
		if (bar == NULL)
			return -1;
		list = bar + 1;
	}
}

static int
lt_badval(struct lt_ctx *x, int k, const char *v, size_t n)
{
	char show[LT_SHOW * 4 + 8];

	return lt_err(x, "bad value \"%s\" for %s (expected %s)",
	    lt_show(v, n, show, sizeof show), lt_keys[k].name,
	    lt_keys[k].values);
}

static int
lt_setname(struct lt_ctx *x, struct lm_list *e, const char *v, size_t n)
{
	size_t i;

	if (n > LT_MAXNAME)
		return lt_err(x, "name longer than %d bytes", LT_MAXNAME);
	for (i = 0; i < n; i++)
		if (lt_ctl((unsigned char)v[i]) || v[i] == '\t')
			return lt_err(x, "control character in name");
	if ((e->name = lm_strndup(v, n)) == NULL)
		return lt_err(x, "out of memory");
	return 0;
}

int
lm_listtab_signspec(const char *v, size_t n)
{
	const char *colon = memchr(v, ':', n);
	size_t i, sl;

	if (colon == NULL || colon == v || (sl = (size_t)(colon - v)) > 63 ||
	    sl + 1 >= n || colon[1] != '/')
		return -1;
	for (i = 0; i < sl; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' &&
		    v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '-' || v[i] == '_' || v[i] == '.'))
			return -2;
	return (int)sl;
}

/* sign=SELECTOR:PATH (selector: DNS label characters; PATH absolute), or
   sign=none (stored as an empty selector). */
static int
lt_setsign(struct lt_ctx *x, struct lm_list *e, const char *v, size_t n)
{
	int r;
	size_t sl;

	if (lm_strcaseeq(v, n, "none", 4)) {
		e->sign_selector = lm_strndup("", 0);
		return e->sign_selector != NULL ? 0 : lt_err(x, "out of memory");
	}
	if ((r = lm_listtab_signspec(v, n)) < 0)
		return lt_badval(x, LT_K_SIGN, v, n);
	sl = (size_t)r;
	e->sign_selector = lm_strndup(v, sl);
	e->sign_key = lm_strndup(v + sl + 1, n - sl - 1);
	if (e->sign_selector == NULL || e->sign_key == NULL)
		return lt_err(x, "out of memory");
	return 0;
}

static int
lt_setbounce(struct lt_ctx *x, struct lm_list *e, const char *v, size_t n)
{
	char *local, *domain;
	int r;

	if (lm_strcaseeq(v, n, "none", 4)) {
		e->bounce_none = 1;
		return 0;
	}
	if ((r = lt_addr(v, n, 0, &local, &domain)) == -2)
		return lt_err(x, "out of memory");
	if (r != 0)
		return lt_badval(x, LT_K_BOUNCE, v, n);
	e->bounce = malloc(strlen(local) + strlen(domain) + 2);
	if (e->bounce != NULL)
		(void)snprintf(e->bounce, strlen(local) + strlen(domain) + 2,
		    "%s@%s", local, domain);
	free(local);
	free(domain);
	return e->bounce != NULL ? 0 : lt_err(x, "out of memory");
}

static int
lt_setenum(struct lt_ctx *x, struct lm_list *e, int k, const char *v,
    size_t n)
{
	int i = lt_enum(lt_keys[k].values, v, n);

	if (i < 0)
		return lt_badval(x, k, v, n);
	if (k == LT_K_ACTION)
		e->action = (enum lm_action)i;
	else if (k == LT_K_MITIGATE)
		e->mitigate = (enum lm_mitigate)i;
	else if (k == LT_K_ENFORCE)
		e->no_enforce = i == 1;
	else if (k == LT_K_QUARANTINE)
		e->quarantine_mark = i == 1;
	else if (k == LT_K_TEMPERROR)
		e->temperror_accept = i == 1;
	else
		e->reply = (enum lm_reply)i;
	return 0;
}

static int
lt_set(struct lt_ctx *x, struct lm_list *e, int k, const lm_buf *v)
{
	if (v->len == 0)
		return lt_err(x, "empty value for %s", lt_keys[k].name);
	switch (k) {
	case LT_K_NAME:
		return lt_setname(x, e, lm_buf_cstr(v), v->len);
	case LT_K_BOUNCE:
		return lt_setbounce(x, e, lm_buf_cstr(v), v->len);
	case LT_K_SIGN:
		return lt_setsign(x, e, lm_buf_cstr(v), v->len);
	default:
		return lt_setenum(x, e, k, lm_buf_cstr(v), v->len);
	}
}

/* ------------------------------------------------------------------ */
/* Tokens */

static void
lt_skipws(struct lt_cur *c)
{
	while (c->p < c->end && lt_ws((unsigned char)*c->p))
		c->p++;
}

/* At the end of a token: end of line, whitespace or a comment. */
static int
lt_tokend(const struct lt_cur *c)
{
	return c->p >= c->end || lt_ws((unsigned char)*c->p) || *c->p == '#';
}

/*
 * Advance over an unquoted word ending at '=' (if stop_eq) or at
 * lt_tokend(); a control character in it is an error.
 */
static int
lt_word(struct lt_ctx *x, struct lt_cur *c, int stop_eq, const char **s,
    size_t *n)
{
	*s = c->p;
	for (; !lt_tokend(c) && !(stop_eq && *c->p == '='); c->p++)
		if (lt_ctl((unsigned char)*c->p))
			return lt_err(x, "control character 0x%02x outside "
			    "quotes", (unsigned char)*c->p);
	*n = (size_t)(c->p - *s);
	return 0;
}

/* At a '\\' in a quoted value: step onto the escaped character. */
static int
lt_escape(struct lt_ctx *x, struct lt_cur *c, int k)
{
	char show[16];

	if (c->p + 1 >= c->end)
		return lt_err(x, "unterminated quoted value for %s",
		    lt_keys[k].name);
	c->p++;
	if (*c->p != '"' && *c->p != '\\')
		return lt_err(x, "bad escape \"\\%s\" in quoted value for %s",
		    lt_show(c->p, 1, show, sizeof show), lt_keys[k].name);
	return 0;
}

static int
lt_quoted(struct lt_ctx *x, struct lt_cur *c, int k, lm_buf *v)
{
	for (c->p++; c->p < c->end && *c->p != '"'; c->p++) {
		if (*c->p == '\\' && lt_escape(x, c, k) != 0)
			return -1;
		if (lm_buf_addc(v, *c->p) != 0)
			return lt_err(x, "out of memory");
	}
	if (c->p >= c->end)
		return lt_err(x, "unterminated quoted value for %s",
		    lt_keys[k].name);
	c->p++;
	if (!lt_tokend(c))
		return lt_err(x, "unexpected character after quoted value "
		    "for %s", lt_keys[k].name);
	return 0;
}

static int
lt_plain(struct lt_ctx *x, struct lt_cur *c, int k, lm_buf *v)
{
	const char *s;
	size_t n, i;

	if (lt_word(x, c, 0, &s, &n) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] == '"')
			return lt_err(x, "unexpected '\"' in value for %s",
			    lt_keys[k].name);
	if (lm_buf_add(v, s, n) != 0)
		return lt_err(x, "out of memory");
	return 0;
}

static int
lt_unknown(struct lt_ctx *x, const char *s, size_t n)
{
	char show[LT_SHOW * 4 + 8];
	lm_buf known;
	int k, r;

	lm_buf_init(&known, 256);
	for (k = 0; k < LT_NKEYS; k++)
		(void)lm_buf_printf(&known, "%s%s", k > 0 ? ", " : "",
		    lt_keys[k].name);
	r = lt_err(x, "unknown key \"%s\" (known: %s)",
	    lt_show(s, n, show, sizeof show), lm_buf_cstr(&known));
	lm_buf_free(&known);
	return r;
}

/* One key=value token; *seen is a bit set of the keys given so far. */
static int
lt_keyval(struct lt_ctx *x, struct lt_cur *c, struct lm_list *e,
    unsigned *seen)
{
	char show[LT_SHOW * 4 + 8];
	const char *s;
	size_t n;
	lm_buf v;
	int k, r;

	if (lt_word(x, c, 1, &s, &n) != 0)
		return -1;
	if (c->p >= c->end || *c->p != '=')
		return lt_err(x, "expected key=value, got \"%s\"",
		    lt_show(s, n, show, sizeof show));
	if ((k = lt_keyindex(s, n)) < 0)
		return lt_unknown(x, s, n);
	if (*seen & (1U << k))
		return lt_err(x, "duplicate key \"%s\"", lt_keys[k].name);
	*seen |= 1U << k;
	c->p++;
	lm_buf_init(&v, LT_MAXLINE);
	if (c->p < c->end && *c->p == '"')
		r = lt_quoted(x, c, k, &v);
	else
		r = lt_plain(x, c, k, &v);
	if (r == 0)
		r = lt_set(x, e, k, &v);
	lm_buf_free(&v);
	return r;
}

/* ------------------------------------------------------------------ */
/* Lines and entries */

static void
lt_clear(struct lm_list *e)
{
	free(e->local);
	free(e->domain);
	free(e->name);
	free(e->bounce);
	free(e->sign_selector);
	free(e->sign_key);
	memset(e, 0, sizeof *e);
}

static int
lt_push(struct lt_ctx *x, struct lm_list *e)
{
	struct lm_listtab *t = x->tab;
	struct lm_list *nv;
	size_t ncap;

	if (t->n == x->cap) {
		ncap = x->cap == 0 ? 64 : x->cap * 2;
		if (ncap > SIZE_MAX / sizeof *nv ||
		    (nv = realloc(t->v, ncap * sizeof *nv)) == NULL)
			return lt_err(x, "out of memory");
		t->v = nv;
		x->cap = ncap;
	}
	t->v[t->n++] = *e;
	return 0;
}

static int
lt_address(struct lt_ctx *x, struct lt_cur *c, struct lm_list *e)
{
	char show[LT_SHOW * 4 + 8];
	const char *s;
	size_t n;
	int r;

	if (lt_word(x, c, 0, &s, &n) != 0)
		return -1;
	if ((r = lt_addr(s, n, 1, &e->local, &e->domain)) == -2)
		return lt_err(x, "out of memory");
	if (r != 0)
		return lt_err(x, "invalid address \"%s\"",
		    lt_show(s, n, show, sizeof show));
	return 0;
}

static int
lt_line(struct lt_ctx *x, const char *s, size_t n)
{
	struct lt_cur c = { s, s + n };
	struct lm_list e;
	unsigned seen = 0;

	memset(&e, 0, sizeof e);
	e.line = x->line;
	lt_skipws(&c);
	if (c.p >= c.end || *c.p == '#')
		return 0;
	if (lt_address(x, &c, &e) != 0)
		goto fail;
	for (lt_skipws(&c); c.p < c.end && *c.p != '#'; lt_skipws(&c))
		if (lt_keyval(x, &c, &e, &seen) != 0)
			goto fail;
	if (lt_push(x, &e) == 0)
		return 0;
fail:
	lt_clear(&e);
	return -1;
}

static int
lt_lines(struct lt_ctx *x, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	size_t n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		x->line++;
		if (n > LT_MAXLINE)
			return lt_err(x, "line too long (more than %d bytes)",
			    LT_MAXLINE);
		if (lt_line(x, p, n) != 0)
			return -1;
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sorting and lookup */

static int
lt_cmpaddr(const struct lm_list *a, const struct lm_list *b)
{
	int c = strcmp(a->domain, b->domain);

	if (c != 0)
		return c;
	if (a->local == NULL || b->local == NULL)
		return (a->local != NULL) - (b->local != NULL);
	return strcmp(a->local, b->local);
}

static int
lt_qcmp(const void *a, const void *b)
{
	const struct lm_list *x = a, *y = b;
	int c = lt_cmpaddr(x, y);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

static int
lt_bcmp(const void *key, const void *elt)
{
	return lt_cmpaddr(key, elt);
}

/* The earliest line that repeats an address, or 0; *first gets the
   line of its first occurrence, *at the entry. */
static int
lt_dupline(const struct lm_listtab *t, int *first, size_t *at)
{
	int best = 0;
	size_t i;

	for (i = 1; i < t->n; i++) {
		if (lt_cmpaddr(&t->v[i - 1], &t->v[i]) != 0 ||
		    (best != 0 && t->v[i].line >= best))
			continue;
		best = t->v[i].line;
		*at = i;
	}
	for (i = *at; best != 0 && i > 0 &&
	    lt_cmpaddr(&t->v[i - 1], &t->v[*at]) == 0; i--)
		;
	if (best != 0)
		*first = t->v[i].line;
	return best;
}

/* Report a duplicate address when it comes before any parse error. */
static int
lt_dupcheck(struct lt_ctx *x, int rc)
{
	const struct lm_list *e;
	size_t at = 0;
	int line, first = 0;

	if (x->tab->n > 1)
		qsort(x->tab->v, x->tab->n, sizeof x->tab->v[0], lt_qcmp);
	line = lt_dupline(x->tab, &first, &at);
	if (line == 0 || (rc != 0 && line >= x->line))
		return rc;
	e = &x->tab->v[at];
	x->line = line;
	return lt_err(x, "duplicate address \"%s@%s\" (first on line %d)",
	    e->local != NULL ? e->local : "", e->domain, first);
}

int
lm_listtab_parse(const char *text, size_t len, const char *fname,
    struct lm_listtab **out, char *err, size_t errsz)
{
	struct lt_ctx x;
	int rc;

	*out = NULL;
	if (err != NULL && errsz > 0)
		err[0] = '\0';
	memset(&x, 0, sizeof x);
	x.fname = fname != NULL ? fname : "(list table)";
	x.err = err;
	x.errsz = errsz;
	if ((x.tab = calloc(1, sizeof *x.tab)) == NULL)
		return lt_err(&x, "out of memory");
	rc = text != NULL ? lt_lines(&x, text, len) : 0;
	if (lt_dupcheck(&x, rc) != 0) {
		lm_listtab_free(x.tab);
		return -1;
	}
	*out = x.tab;
	return 0;
}

void
lm_listtab_free(struct lm_listtab *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		lt_clear(&t->v[i]);
	free(t->v);
	free(t);
}

static const struct lm_list *
lt_find(const struct lm_listtab *t, char *local, char *domain)
{
	struct lm_list key;

	if (t->n == 0)
		return NULL;
	memset(&key, 0, sizeof key);
	key.local = local;
	key.domain = domain;
	return bsearch(&key, t->v, t->n, sizeof t->v[0], lt_bcmp);
}

static int
lt_endswith(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* The conventional non-list addresses of a list domain (lower case),
   also with an address extension ("list-bounces+tag", Postfix's
   recipient_delimiter convention). */
static int
lt_excluded(const char *local)
{
	char base[128];
	const char *plus = strchr(local, '+');

	if (plus != NULL && (size_t)(plus - local) < sizeof base) {
		memcpy(base, local, (size_t)(plus - local));
		base[plus - local] = '\0';
		local = base;
	}
	return strncmp(local, "owner-", 6) == 0 ||
	    lt_endswith(local, "-owner") || lt_endswith(local, "-request") ||
	    lt_endswith(local, "-bounces");
}

/* Lower-cased copy into dst[sz]; -1 if it does not fit. */
static int
lt_lowcopy(char *dst, size_t sz, const char *src)
{
	if (lm_strlcpy(dst, src, sz) >= sz)
		return -1;
	lm_lower(dst, sz);
	return 0;
}

static int
lt_fill(struct lm_listref *ref, const struct lm_list *e)
{
	size_t n;
	int r;

	r = snprintf(ref->addr, sizeof ref->addr, "%s@%s", ref->local,
	    ref->domain);
	if (r < 0 || r > LT_MAXADDR)
		return 0;
	n = lm_strlcpy(ref->name, e->name != NULL ? e->name : ref->local,
	    sizeof ref->name);
	if (n >= sizeof ref->name)
		return 0;
	if (e->bounce_none)
		r = 0;
	else if (e->bounce != NULL)
		r = (int)lm_strlcpy(ref->bounce, e->bounce, sizeof ref->bounce);
	else
		r = snprintf(ref->bounce, sizeof ref->bounce, "owner-%s@%s",
		    ref->local, ref->domain);
	if (r < 0 || (size_t)r >= sizeof ref->bounce)
		return 0;
	ref->cfg = e;
	return 1;
}

int
lm_listtab_match(const struct lm_listtab *t, const char *local,
    const char *domain, struct lm_listref *ref)
{
	const struct lm_list *e;

	memset(ref, 0, sizeof *ref);
	if (t == NULL || local == NULL || domain == NULL ||
	    lt_lowcopy(ref->local, sizeof ref->local, local) != 0 ||
	    lt_lowcopy(ref->domain, sizeof ref->domain, domain) != 0)
		goto miss;
	e = lt_find(t, ref->local, ref->domain);
	if (e == NULL && lt_dotatom(ref->local, strlen(ref->local),
	    LT_MAXLOCAL) && !lt_excluded(ref->local))
		e = lt_find(t, NULL, ref->domain);
	if (e != NULL && lt_fill(ref, e))
		return 1;
miss:
	memset(ref, 0, sizeof *ref);
	return 0;
}

const struct lm_listkey *
lm_listtab_keys(void)
{
	return lt_keys;
}

const char *
lm_action_name(enum lm_action a)
{
	switch (a) {
	case LM_ACT_MUNGE:
		return "munge";
	case LM_ACT_WRAP:
		return "wrap";
	case LM_ACT_REJECT:
		return "reject";
	case LM_ACT_NONE:
		return "none";
	}
	return "?";
}

int
lm_listtab_bounce(const struct lm_listtab *t, const char *local,
    const char *domain, struct lm_listref *ref)
{
	char addr[LT_MAXADDR + 2];
	size_t i;

	if (t == NULL || local == NULL || domain == NULL ||
	    snprintf(addr, sizeof addr, "%s@%s", local, domain) >=
	    (int)sizeof addr)
		return 0;
	lm_lower(addr, sizeof addr);
	for (i = 0; i < t->n; i++)
		if (t->v[i].bounce != NULL && strcmp(t->v[i].bounce, addr) == 0)
			break;
	if (i < t->n && t->v[i].local != NULL)
		return lm_listtab_match(t, t->v[i].local, t->v[i].domain, ref);
	if (strncasecmp(local, "owner-", 6) != 0 ||
	    !lm_listtab_match(t, local + 6, domain, ref))
		return 0;
	/* owner-X is X's bounce address only while X uses the default */
	if (strcasecmp(ref->bounce, addr) == 0)
		return 1;
	memset(ref, 0, sizeof *ref);
	return 0;
}
