/*
 * lm_addr - RFC 5322 address-list parser (see lm_addr.h for the contract).
 *
 * What: a strict tokenizer and recursive-descent parser for address-list
 * header values (From, Reply-To, To, Cc), and a parser for SMTP envelope
 * paths.
 *
 * RFCs: RFC 5322 3.2.1 (quoted-pair), 3.2.2 (FWS and comments; a bare LF
 * fold is taken as milters deliver it), 3.2.3 (atext, dot-atom), 3.2.4
 * (quoted-string), 3.2.5 (phrase, with the obs-phrase "." of 4.1), 3.4
 * (address, mailbox, name-addr, angle-addr, group), 3.4.1 (addr-spec,
 * domain-literal); RFC 6532 3.2 (UTF-8 in atext, qtext, ctext, dtext);
 * RFC 2047 5(3) (encoded-words as whole atoms of a display name, through
 * lm_rfc2047_word); RFC 5321 4.1.2 (envelope paths, source routes),
 * 4.1.3 (address literals: IPv4 and IPv6 only) and 4.5.3.1 (limits).
 *
 * Refused on purpose, besides what lm_addr.h lists: obs-local-part
 * (CFWS inside a local part, quoted-strings mixed with atoms), obs-domain
 * (CFWS around a dot), empty list elements ("a@b,,c@d", a trailing
 * comma), domain literals other than an IPv4 or "IPv6:" address (a
 * general literal may hold '@' and white space), line breaks that are
 * not folds, whitespace-only continuation lines, C1 controls and
 * U+2028/U+2029 (line breakers to some tools), and comments nested
 * deeper than MAXNEST.
 *
 * How: check_bytes() first rejects controls, invalid UTF-8 and stray line
 * breaks over the whole value; advance() then yields one token at a time
 * (CFWS skipped and noted in tok.ws) and the parser keeps one token of
 * lookahead.  A phrase is scanned once to see what follows it, then
 * re-lexed from a saved mark to build the display name.  Every loop
 * consumes input, so the work is linear in the length.
 *
 * Ownership: lm_addr_parse() fills a caller-provided lm_addrlist and
 * allocates its array and strings; lm_addrlist_free() releases them.  On
 * error nothing stays allocated.  lm_addr_envelope() allocates *local and
 * *domain for the caller.  No globals.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_addr.h"
#include "lm_buf.h"
#include "lm_rfc2047.h"

#define MAXNEST		32		/* comment nesting depth */
#define MAXLABEL	63		/* RFC 1035 2.3.4 */
#define MAXDISPLAY	(4 * LM_ADDR_MAXIN)	/* decoding can triple */

enum ttype {
	T_END, T_ERR, T_ATOM, T_QSTR, T_DLIT,
	T_LT, T_GT, T_AT, T_COMMA, T_SEMI, T_COLON, T_DOT
};

#define WS_SPACE	1		/* white space before the token */
#define WS_COMMENT	2		/* a comment before the token */

struct tok {
	enum ttype	 type;
	size_t		 start, end;	/* raw bytes [start, end) */
	int		 ws;		/* WS_* bits */
};

/* A lexer position to come back to. */
struct mark {
	size_t		 pos;
	struct tok	 tok;
};

struct parser {
	const char	*in;
	size_t		 len;
	size_t		 pos;		/* where advance() goes on */
	struct tok	 tok;		/* lookahead */
	enum lm_addr_err err;
	char		*eb;
	size_t		 esz;
	struct lm_addrlist *out;
	size_t		 cap;		/* allocated out->mb slots */
	int		 in_group;
	int		 after_angle;	/* last mailbox ended with '>' */
};

/* An addr-spec while it is being parsed. */
struct spec {
	lm_buf		 local;		/* unquoted local part */
	size_t		 dstart, dend;	/* domain, raw */
	int		 literal;
};

/* ------------------------------------------------------------------ */
/* Character classes */

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 atext, plus the UTF-8 bytes of RFC 6532 (checked earlier). */
static int
is_atext(int c)
{
	c &= 0xff;
	if (c >= 0x80 || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 5322 dtext (no '[', ']', '\'), plus UTF-8. */
static int
is_dtext(int c)
{
	c &= 0xff;
	return (c >= 33 && c <= 90) || (c >= 94 && c <= 126) || c >= 0x80;
}

static int
is_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
			return 0;
	}
	return 1;
}

/* 1 if s[0..n) is "[IPv4]" or "[IPv6:addr]" (RFC 5321 4.1.3). */
static int
literal_ok(const char *s, size_t n)
{
	struct in6_addr a6;
	struct in_addr a4;
	char buf[LM_ADDR_MAXDOMAIN + 1];

	if (n < 3 || n > LM_ADDR_MAXDOMAIN || s[0] != '[' || s[n - 1] != ']')
		return 0;
	memcpy(buf, s + 1, n - 2);
	buf[n - 2] = '\0';
	if (n - 2 > 5 && lm_strcaseeq(buf, 5, "IPv6:", 5))
		return inet_pton(AF_INET6, buf + 5, &a6) == 1;
	return inet_pton(AF_INET, buf, &a4) == 1;
}

/* 0 if s[0..n) is a valid dot-atom domain, 1 syntax error, 2 too long. */
static int
domain_check(const char *s, size_t n)
{
	size_t i, label = 0;

	if (!is_dot_atom(s, n))
		return 1;
	if (n > LM_ADDR_MAXDOMAIN)
		return 2;
	for (i = 0; i < n; i++) {
		label = s[i] == '.' ? 0 : label + 1;
		if (label > MAXLABEL)
			return 2;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Errors and byte checks */

static int
fail(struct parser *p, enum lm_addr_err e, size_t off, const char *why)
{
	if (p->err == LM_ADDR_OK) {
		p->err = e;
		if (p->eb != NULL && p->esz > 0)
			(void)snprintf(p->eb, p->esz, "%s at offset %zu", why,
			    off);
	}
	return -1;
}

static int
nomem(struct parser *p)
{
	return fail(p, LM_ADDR_NOMEM, p->tok.start, "out of memory");
}

/* Length of the fold (CRLF or LF) at s[i] if followed by a line holding
   more than white space; 0 if s[i] starts no valid fold. */
static size_t
fold_len(const char *s, size_t len, size_t i)
{
	size_t n = s[i] == '\r' ? 2 : 1, j;

	if (n == 2 && (i + 1 >= len || s[i + 1] != '\n'))
		return 0;
	j = i + n;
	if (j >= len || !is_wsp(s[j]))
		return 0;
	while (j < len && is_wsp(s[j]))
		j++;
	if (j >= len || s[j] == '\r' || s[j] == '\n')
		return 0;
	return n;
}

static int
check_bytes(struct parser *p)
{
	size_t i = 0, n;
	uint32_t c;

	while (i < p->len) {
		if ((n = lm_utf8_next(p->in + i, p->len - i, &c)) == 0)
			return fail(p, LM_ADDR_SYNTAX, i, "invalid UTF-8");
		if (c == '\r' || c == '\n') {
			if ((n = fold_len(p->in, p->len, i)) == 0)
				return fail(p, LM_ADDR_SYNTAX, i,
				    "line break that is not a fold");
		} else if (c == 0)
			return fail(p, LM_ADDR_SYNTAX, i, "NUL byte");
		else if ((c < 0x20 && c != '\t') || c == 0x7f ||
		    (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029)
			return fail(p, LM_ADDR_SYNTAX, i, "control character");
		i += n;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lexer */

/* After a '\': the quoted character (VCHAR, WSP or UTF-8), not a break. */
static int
quoted_pair(struct parser *p)
{
	if (p->pos >= p->len || p->in[p->pos] == '\r' ||
	    p->in[p->pos] == '\n')
		return fail(p, LM_ADDR_SYNTAX, p->pos - 1,
		    "quoted-pair without a character");
	p->pos++;
	return 0;
}

static int
skip_comment(struct parser *p)
{
	size_t start = p->pos;
	int depth = 0;
	char c;

	while (p->pos < p->len) {
		c = p->in[p->pos++];
		if (c == '(' && ++depth > MAXNEST)
			return fail(p, LM_ADDR_SYNTAX, p->pos - 1,
			    "comments nested too deeply");
		if (c == ')' && --depth == 0)
			return 0;
		if (c == '\\' && quoted_pair(p) != 0)
			return -1;
	}
	return fail(p, LM_ADDR_SYNTAX, start, "unbalanced parenthesis");
}

static int
skip_cfws(struct parser *p, int *ws)
{
	char c;

	*ws = 0;
	while (p->pos < p->len) {
		c = p->in[p->pos];
		if (is_wsp(c) || c == '\r' || c == '\n') {
			*ws |= WS_SPACE;
			p->pos++;
		} else if (c == '(') {
			if (skip_comment(p) != 0)
				return -1;
			*ws |= WS_COMMENT;
		} else
			break;
	}
	return 0;
}

static enum ttype
lex_qstr(struct parser *p)
{
	size_t start = p->pos++;
	char c;

	while (p->pos < p->len) {
		c = p->in[p->pos++];
		if (c == '"')
			return T_QSTR;
		if (c == '\\' && quoted_pair(p) != 0)
			return T_ERR;
	}
	(void)fail(p, LM_ADDR_SYNTAX, start, "unterminated quoted string");
	return T_ERR;
}

static enum ttype
lex_dlit(struct parser *p)
{
	size_t start = p->pos++;
	char c;

	while (p->pos < p->len) {
		c = p->in[p->pos++];
		if (c == ']')
			return T_DLIT;
		if (!is_dtext(c)) {
			(void)fail(p, LM_ADDR_SYNTAX, p->pos - 1,
			    "invalid character in domain literal");
			return T_ERR;
		}
	}
	(void)fail(p, LM_ADDR_SYNTAX, start, "unterminated domain literal");
	return T_ERR;
}

static enum ttype
lex_other(struct parser *p, char c)
{
	const char *why;

	if (is_atext(c)) {
		while (p->pos < p->len && is_atext(p->in[p->pos]))
			p->pos++;
		return T_ATOM;
	}
	if (c == ')')
		why = "unbalanced parenthesis";
	else if (c == ']')
		why = "unbalanced square bracket";
	else if (c == '\\')
		why = "quoted-pair outside a quoted string";
	else
		why = "unexpected character";
	(void)fail(p, LM_ADDR_SYNTAX, p->pos, why);
	return T_ERR;
}

static enum ttype
special(char c)
{
	switch (c) {
	case '<': return T_LT;
	case '>': return T_GT;
	case '@': return T_AT;
	case ',': return T_COMMA;
	case ';': return T_SEMI;
	case ':': return T_COLON;
	case '.': return T_DOT;
	default: return T_ERR;
	}
}

/* Lex the next token into p->tok; -1 on a lexical error. */
static int
advance(struct parser *p)
{
	struct tok *t = &p->tok;
	enum ttype ty;
	char c;

	if (skip_cfws(p, &t->ws) != 0)
		return -1;
	t->start = p->pos;
	if (p->pos >= p->len)
		ty = T_END;
	else if ((ty = special(c = p->in[p->pos])) != T_ERR)
		p->pos++;
	else if (c == '"')
		ty = lex_qstr(p);
	else if (c == '[')
		ty = lex_dlit(p);
	else
		ty = lex_other(p, c);
	t->type = ty;
	t->end = p->pos;
	return ty == T_ERR ? -1 : 0;
}

static void
mark(const struct parser *p, struct mark *m)
{
	m->pos = p->pos;
	m->tok = p->tok;
}

static void
reset(struct parser *p, const struct mark *m)
{
	p->pos = m->pos;
	p->tok = m->tok;
}

static int
is_word(enum ttype t)
{
	return t == T_ATOM || t == T_QSTR;
}

/* ------------------------------------------------------------------ */
/* Building results */

/* Append the content of the quoted-string in[start..end): quotes,
   escapes and folds removed. */
static int
unquote(struct parser *p, size_t start, size_t end, lm_buf *b)
{
	size_t i;
	char c;

	for (i = start + 1; i + 1 < end; i++) {
		c = p->in[i];
		if (c == '\r' || c == '\n')
			continue;
		if (c == '\\')
			c = p->in[++i];
		if (lm_buf_addc(b, c) != 0)
			return nomem(p);
	}
	return 0;
}

/* "local@domain", the local part quoted when it is not a dot-atom. */
static char *
make_addr(const char *local, size_t ln, const char *dom, size_t dn)
{
	lm_buf b;
	size_t i;
	int r = 0;

	lm_buf_init(&b, 2 * ln + dn + 4);
	if (is_dot_atom(local, ln))
		r = lm_buf_add(&b, local, ln);
	else {
		r = lm_buf_addc(&b, '"');
		for (i = 0; i < ln && r == 0; i++) {
			if (local[i] == '"' || local[i] == '\\')
				r = lm_buf_addc(&b, '\\');
			if (r == 0)
				r = lm_buf_addc(&b, local[i]);
		}
		if (r == 0)
			r = lm_buf_addc(&b, '"');
	}
	if (r == 0 && lm_buf_addc(&b, '@') == 0 && lm_buf_add(&b, dom, dn) == 0)
		return lm_buf_steal(&b);
	lm_buf_free(&b);
	return NULL;
}

static void
mailbox_free(struct lm_mailbox *mb)
{
	free(mb->display);
	free(mb->local);
	free(mb->domain);
	free(mb->addr);
	memset(mb, 0, sizeof(*mb));
}

static int
grow_list(struct parser *p)
{
	struct lm_mailbox *nmb;
	size_t ncap;

	if (p->out->n < p->cap)
		return 0;
	ncap = p->cap == 0 ? 4 : 2 * p->cap;
	if ((nmb = realloc(p->out->mb, ncap * sizeof(*nmb))) == NULL)
		return nomem(p);
	p->out->mb = nmb;
	p->cap = ncap;
	return 0;
}

/* Add a mailbox; takes ownership of display (freed on failure). */
static int
add_mailbox(struct parser *p, char *display, struct spec *s)
{
	struct lm_mailbox *mb;
	const char *loc = lm_buf_cstr(&s->local), *dom = p->in + s->dstart;
	size_t dn = s->dend - s->dstart;

	if (p->out->n >= LM_ADDR_MAXMB || grow_list(p) != 0) {
		free(display);
		return p->out->n >= LM_ADDR_MAXMB ? fail(p, LM_ADDR_TOOLONG,
		    s->dstart, "too many mailboxes") : -1;
	}
	mb = &p->out->mb[p->out->n];
	mb->display = display;
	mb->local = lm_strndup(loc, s->local.len);
	mb->domain = lm_strndup(dom, dn);
	mb->addr = make_addr(loc, s->local.len, dom, dn);
	mb->literal = s->literal;
	mb->in_group = p->in_group;
	if (mb->local == NULL || mb->domain == NULL || mb->addr == NULL) {
		mailbox_free(mb);
		return nomem(p);
	}
	p->out->n++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* addr-spec */

/* ATOM *("." ATOM) without CFWS inside; *end is the raw end. */
static int
dot_atom(struct parser *p, size_t *end)
{
	for (;;) {
		*end = p->tok.end;
		if (advance(p) != 0)
			return -1;
		if (p->tok.type != T_DOT)
			return 0;
		if (p->tok.ws)
			return fail(p, LM_ADDR_SYNTAX, p->tok.start,
			    "white space before '.'");
		if (advance(p) != 0)
			return -1;
		if (p->tok.type != T_ATOM || p->tok.ws)
			return fail(p, LM_ADDR_SYNTAX, p->tok.start,
			    "'.' not followed by an atom");
	}
}

static int
local_end(struct parser *p)
{
	switch (p->tok.type) {
	case T_AT:
		return advance(p);
	case T_DOT:
		return fail(p, LM_ADDR_SYNTAX, p->tok.start,
		    "quoted-string mixed with atoms in local part");
	case T_ATOM:
	case T_QSTR:
		return fail(p, LM_ADDR_SYNTAX, p->tok.start,
		    "words before '@' (display name without angle-addr)");
	default:
		return fail(p, LM_ADDR_SYNTAX, p->tok.start, "missing '@'");
	}
}

/* local-part "@": dot-atom or one quoted-string. */
static int
parse_local(struct parser *p, struct spec *s)
{
	size_t start = p->tok.start, end;

	if (p->tok.type == T_QSTR) {
		if (unquote(p, p->tok.start, p->tok.end, &s->local) != 0)
			return -1;
		end = p->tok.end;
		if (advance(p) != 0)
			return -1;
	} else if (p->tok.type == T_ATOM) {
		if (dot_atom(p, &end) != 0)
			return -1;
		if (lm_buf_add(&s->local, p->in + start, end - start) != 0)
			return nomem(p);
	} else
		return fail(p, LM_ADDR_SYNTAX, start, p->tok.type == T_AT ?
		    "empty local part" : "expected a local part");
	if (end - start > LM_ADDR_MAXLOCAL)
		return fail(p, LM_ADDR_TOOLONG, start, "local part too long");
	if (s->local.len == 0)
		return fail(p, LM_ADDR_SYNTAX, start, "empty local part");
	return local_end(p);
}

static int
parse_domain(struct parser *p, struct spec *s)
{
	int r;

	s->dstart = p->tok.start;
	if (p->tok.type == T_DLIT) {
		s->literal = 1;
		s->dend = p->tok.end;
		if (s->dend - s->dstart == 2)
			return fail(p, LM_ADDR_SYNTAX, s->dstart,
			    "empty domain literal");
		if (s->dend - s->dstart <= LM_ADDR_MAXDOMAIN &&
		    !literal_ok(p->in + s->dstart, s->dend - s->dstart))
			return fail(p, LM_ADDR_SYNTAX, s->dstart,
			    "domain literal is not an IPv4 or IPv6 address");
		if (advance(p) != 0)
			return -1;
	} else if (p->tok.type == T_ATOM) {
		if (dot_atom(p, &s->dend) != 0)
			return -1;
	} else
		return fail(p, LM_ADDR_SYNTAX, s->dstart, "empty domain");
	if (s->dend - s->dstart > LM_ADDR_MAXDOMAIN)
		return fail(p, LM_ADDR_TOOLONG, s->dstart, "domain too long");
	r = s->literal ? 0 : domain_check(p->in + s->dstart,
	    s->dend - s->dstart);
	if (r != 0)
		return fail(p, r == 2 ? LM_ADDR_TOOLONG : LM_ADDR_SYNTAX,
		    s->dstart, r == 2 ? "domain label too long" : "bad domain");
	return 0;
}

/* Parse an addr-spec and add it as a mailbox with display. */
static int
parse_spec(struct parser *p, char *display)
{
	struct spec s;
	int r;

	memset(&s, 0, sizeof(s));
	lm_buf_init(&s.local, LM_ADDR_MAXIN);
	r = parse_local(p, &s);
	if (r == 0)
		r = parse_domain(p, &s);
	if (r == 0)
		r = add_mailbox(p, display, &s);
	else
		free(display);
	lm_buf_free(&s.local);
	return r;
}

/* ------------------------------------------------------------------ */
/* Display names, mailboxes, groups, lists */

/* A piece of a display name: a quoted-string, or a run of atoms and
   dots with no CFWS inside (so "=?cs?q?Dr.?=" stays one word). */
struct chunk {
	size_t		 start, end;
	int		 ws;		/* CFWS before it */
	int		 qstr;
};

/* Take the next chunk of the phrase starting at p->tok. */
static int
next_chunk(struct parser *p, struct chunk *c)
{
	c->start = p->tok.start;
	c->end = p->tok.end;
	c->ws = p->tok.ws;
	c->qstr = p->tok.type == T_QSTR;
	if (advance(p) != 0)
		return -1;
	while (!c->qstr && (p->tok.type == T_ATOM || p->tok.type == T_DOT) &&
	    p->tok.ws == 0) {
		c->end = p->tok.end;
		if (advance(p) != 0)
			return -1;
	}
	return 0;
}

/*
 * Append the display text of chunk c to b, with one space for the CFWS
 * before it.  RFC 2047 6.2: white space between two encoded-words is
 * dropped.  Returns 1 if c was an encoded-word, 0 if not, -1 when out of
 * memory.
 */
static int
display_chunk(struct parser *p, const struct chunk *c, lm_buf *w, int prev,
    int first, lm_buf *b)
{
	int ew = 0;

	lm_buf_reset(w);
	if (!c->qstr &&
	    (ew = lm_rfc2047_word(p->in + c->start, c->end - c->start, w)) < 0)
		return -1;
	if (!first && c->ws != 0 && !(ew && prev && c->ws == WS_SPACE) &&
	    lm_buf_addc(b, ' ') != 0)
		return -1;
	if (ew)
		return lm_buf_add(b, w->s, w->len) != 0 ? -1 : 1;
	if (c->qstr)
		return unquote(p, c->start, c->end, b);
	return lm_buf_add(b, p->in + c->start, c->end - c->start);
}

/*
 * Build the display name of the phrase at m; the lexer ends on the token
 * the scan ended on.  *out stays NULL for an empty name.
 */
static int
build_display(struct parser *p, const struct mark *m, char **out)
{
	struct chunk c;
	lm_buf b, w;
	int first = 1, prev = 0, r = 0;

	*out = NULL;
	lm_buf_init(&b, MAXDISPLAY);
	lm_buf_init(&w, MAXDISPLAY);
	reset(p, m);
	while (r == 0 && (is_word(p->tok.type) || p->tok.type == T_DOT)) {
		if ((r = next_chunk(p, &c)) != 0)
			break;
		if ((prev = display_chunk(p, &c, &w, prev, first, &b)) < 0)
			r = nomem(p);
		first = 0;
	}
	if (r == 0 && b.len > 0 && (*out = lm_buf_steal(&b)) == NULL)
		r = nomem(p);
	lm_buf_free(&w);
	lm_buf_free(&b);
	return r;
}

/* A token that may not follow a complete address. */
static int
junk(struct parser *p)
{
	const char *why;

	switch (p->tok.type) {
	case T_GT:
		why = "unbalanced angle bracket";
		break;
	case T_COLON:
		why = "':' after an address";
		break;
	case T_SEMI:
		why = "';' outside a group";
		break;
	case T_AT:
		why = "second '@'";
		break;
	case T_ATOM:
	case T_QSTR:
		why = p->after_angle ? "addr-spec after angle-addr" :
		    "missing ',' between addresses";
		break;
	case T_LT:
		why = "missing ',' between addresses";
		break;
	default:
		why = "trailing garbage";
		break;
	}
	return fail(p, LM_ADDR_SYNTAX, p->tok.start, why);
}

/* "<" addr-spec ">"; p->tok is the '<'.  Takes ownership of display. */
static int
parse_angle(struct parser *p, char *display)
{
	size_t lt = p->tok.start;
	const char *why = NULL;

	if (advance(p) != 0) {
		free(display);
		return -1;
	}
	if (p->tok.type == T_AT)
		why = "obsolete route in angle-addr";
	else if (p->tok.type == T_GT)
		why = "empty angle-addr";
	else if (p->tok.type == T_END)
		why = "unbalanced angle bracket";
	if (why != NULL) {
		free(display);
		return fail(p, LM_ADDR_SYNTAX, p->tok.type == T_AT ?
		    p->tok.start : lt, why);
	}
	if (parse_spec(p, display) != 0)
		return -1;
	if (p->tok.type == T_END)
		return fail(p, LM_ADDR_SYNTAX, lt, "unbalanced angle bracket");
	if (p->tok.type != T_GT)
		return fail(p, LM_ADDR_SYNTAX, p->tok.start, "expected '>'");
	p->after_angle = 1;
	return advance(p);
}

static int	parse_group(struct parser *, int);

/* mailbox (name-addr or addr-spec), or a group when allow_group. */
static int
parse_address(struct parser *p, int allow_group)
{
	struct mark m;
	char *display = NULL;
	size_t nwords = 0;
	enum ttype first = p->tok.type;

	mark(p, &m);
	p->after_angle = 0;
	while (is_word(p->tok.type) || p->tok.type == T_DOT) {
		nwords++;
		if (advance(p) != 0)
			return -1;
	}
	if (p->tok.type == T_AT) {
		reset(p, &m);
		return parse_spec(p, NULL);
	}
	if (nwords > 0 && first == T_DOT)
		return fail(p, LM_ADDR_SYNTAX, m.tok.start,
		    "phrase starts with '.'");
	if (p->tok.type == T_LT) {
		if (nwords > 0 && build_display(p, &m, &display) != 0)
			return -1;
		return parse_angle(p, display);
	}
	if (p->tok.type == T_COLON && nwords > 0)
		return parse_group(p, allow_group);
	return fail(p, LM_ADDR_SYNTAX, p->tok.start, nwords > 0 ?
	    "phrase without an address" : "expected an address");
}

/* After a list element: ',' then another one, or the closing token. */
static int
next_element(struct parser *p, enum ttype close, size_t start, int *done)
{
	*done = 0;
	if (p->tok.type == close) {
		*done = 1;
		return 0;
	}
	if (p->tok.type == T_END)
		return fail(p, LM_ADDR_SYNTAX, start, "unterminated group");
	if (p->tok.type != T_COMMA)
		return junk(p);
	if (advance(p) != 0)
		return -1;
	if (p->tok.type == T_COMMA || p->tok.type == T_END ||
	    p->tok.type == close)
		return fail(p, LM_ADDR_SYNTAX, p->tok.start,
		    "empty list element");
	return 0;
}

/* display-name ":" [mailbox-list] ";"; p->tok is the ':'. */
static int
parse_group(struct parser *p, int allow)
{
	size_t start = p->tok.start;
	int done = 0;

	if (!allow)
		return fail(p, LM_ADDR_SYNTAX, start, "group inside a group");
	p->out->has_group = 1;
	if (advance(p) != 0)
		return -1;
	if (p->tok.type == T_SEMI)
		p->out->empty_groups++;
	p->in_group = 1;
	while (!done && p->tok.type != T_SEMI) {
		if (parse_address(p, 0) != 0 ||
		    next_element(p, T_SEMI, start, &done) != 0)
			return -1;
	}
	p->in_group = 0;
	p->after_angle = 0;
	return advance(p);
}

static int
parse_list(struct parser *p)
{
	int done = 0;

	if (p->tok.type == T_END)
		return fail(p, LM_ADDR_EMPTY, p->tok.start, "no address");
	while (!done) {
		if (parse_address(p, 1) != 0 ||
		    next_element(p, T_END, 0, &done) != 0)
			return -1;
	}
	return 0;
}

enum lm_addr_err
lm_addr_parse(const char *in, size_t len, struct lm_addrlist *out,
    char *errbuf, size_t errsz)
{
	struct parser p;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.in = in != NULL ? in : "";
	p.len = in != NULL ? len : 0;
	p.eb = errbuf;
	p.esz = errsz;
	p.out = out;
	if (errbuf != NULL && errsz > 0)
		errbuf[0] = '\0';
	if (p.len > LM_ADDR_MAXIN)
		(void)fail(&p, LM_ADDR_TOOLONG, LM_ADDR_MAXIN,
		    "header value too long");
	else if (check_bytes(&p) == 0 && advance(&p) == 0)
		(void)parse_list(&p);
	if (p.err != LM_ADDR_OK)
		lm_addrlist_free(out);
	return p.err;
}

void
lm_addrlist_free(struct lm_addrlist *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		mailbox_free(&l->mb[i]);
	free(l->mb);
	memset(l, 0, sizeof(*l));
}

int
lm_addr_same(const struct lm_mailbox *a, const struct lm_mailbox *b)
{
	if (a == NULL || b == NULL || a->local == NULL || b->local == NULL ||
	    a->domain == NULL || b->domain == NULL)
		return 0;
	return lm_strcaseeq(a->local, strlen(a->local), b->local,
	    strlen(b->local)) && lm_strcaseeq(a->domain, strlen(a->domain),
	    b->domain, strlen(b->domain));
}

/* ------------------------------------------------------------------ */
/* SMTP envelope paths (RFC 5321 4.1.2) */

/* Valid UTF-8 without controls (no white space either but SP). */
static int
env_bytes_ok(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t c;

	while (i < n) {
		if ((k = lm_utf8_next(s + i, n - i, &c)) == 0 || c < 0x20 ||
		    c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x2028 ||
		    c == 0x2029)
			return 0;
		i += k;
	}
	return 1;
}

/* Domain or address-literal filling all of s[0..n). */
static int
env_domain(const char *s, size_t n)
{
	if (n == 0 || s[0] != '[')
		return domain_check(s, n) == 0;
	return literal_ok(s, n);
}

/* Skip A-d-l ":" (At-domain *("," At-domain)) from *pos. */
static int
skip_route(const char *s, size_t *pos, size_t end)
{
	size_t i = *pos, d;

	for (;;) {
		if (i >= end || s[i] != '@')
			return -1;
		d = ++i;
		while (i < end && s[i] != ',' && s[i] != ':')
			i++;
		if (i >= end || !env_domain(s + d, i - d))
			return -1;
		if (s[i++] == ':')
			break;
	}
	*pos = i;
	return 0;
}

/* RFC 5321 Quoted-string at s[0] == '"': raw length, or 0 if bad. */
static size_t
env_qstr(const char *s, size_t n, lm_buf *b)
{
	size_t i;

	for (i = 1; i < n; i++) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\\' && ++i >= n)
			return 0;
		if (lm_buf_addc(b, s[i]) != 0)
			return 0;
	}
	return 0;
}

/* Local-part "@" Domain, all of s[0..n). */
static int
env_mailbox(const char *s, size_t n, char **local, char **domain)
{
	lm_buf lb;
	size_t i = 0;
	int ok;

	lm_buf_init(&lb, LM_ADDR_MAXIN);
	if (n > 0 && s[0] == '"')
		i = env_qstr(s, n, &lb);
	else {
		while (i < n && (is_atext(s[i]) || s[i] == '.'))
			i++;
		if (!is_dot_atom(s, i) || lm_buf_add(&lb, s, i) != 0)
			i = 0;
	}
	ok = i > 0 && i <= LM_ADDR_MAXLOCAL && lb.len > 0 && i < n &&
	    s[i] == '@' && env_domain(s + i + 1, n - i - 1);
	if (ok) {
		*local = lm_strndup(lb.s, lb.len);
		*domain = lm_strndup(s + i + 1, n - i - 1);
		if (*local == NULL || *domain == NULL) {
			free(*local);
			free(*domain);
			*local = *domain = NULL;
			ok = 0;
		}
	}
	lm_buf_free(&lb);
	return ok ? 0 : -1;
}

int
lm_addr_envelope(const char *in, size_t len, char **local, char **domain)
{
	size_t a = 0, b = len;

	*local = *domain = NULL;
	if (in == NULL || len > LM_ADDR_MAXIN)
		return -1;
	while (a < b && is_wsp(in[a]))
		a++;
	while (b > a && is_wsp(in[b - 1]))
		b--;
	if (!env_bytes_ok(in + a, b - a))
		return -1;
	if (a < b && in[a] == '<') {
		if (b - a < 2 || in[b - 1] != '>')
			return -1;
		a++;
		b--;
		if (a == b)
			return 0;
		if (in[a] == '@' && skip_route(in, &a, b) != 0)
			return -1;
	}
	return env_mailbox(in + a, b - a, local, domain);
}
