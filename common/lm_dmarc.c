/*
 * lm_dmarc - DMARC policy record parser, DNS tree walk and policy choice
 * (see lm_dmarc.h for the contract).
 *
 * Follows RFC 9989:
 *  - 4.7 record format.  The grammar implemented here is
 *        record  = "v" *WSP "=" *WSP "DMARC1" *(sep tag) [sep] *WSP
 *        sep     = *WSP ";" *WSP
 *        tag     = name *WSP "=" *WSP value
 *        name    = ALPHA *(ALPHA / DIGIT / "_")
 *        value   = *(%x21-3A / %x3C-7E / WSP)   ; trailing WSP dropped
 *    so an empty tag between two ';', a tag without '=', a control
 *    character, a non-ASCII byte or a second tag of the same name
 *    (compared case-insensitively, known or not) make the record
 *    invalid.  Values of p, sp, np, adkim, aspf, psd and t are matched
 *    as whole words, case-insensitively ("p=rej" is not "reject"); an
 *    invalid value counts as the tag being absent.  Unknown tags,
 *    including the obsolete pct, rf and ri, are ignored.
 *  - 4.10 policy discovery: the tree walk (lm_dmarc_walk) and the
 *    p/sp/np choice (lm_dmarc_policy).
 * Unlike libopendmarc (libraries.md 5.3) nothing is accepted without
 * the leading v=DMARC1 and no value is matched by prefix.
 *
 * Ownership: callers own every buffer; nothing is allocated.  Pure C,
 * no globals, no DNS.
 */
#include <ctype.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_dmarc.h"

#define DM_MAXREC	4096		/* longest record parsed */
#define DM_MAXTAGS	(DM_MAXREC / 3 + 1) /* ";a=" is the shortest tag */
#define DM_MAXNAME	253		/* RFC 1035 2.3.4, without the dot */
#define DM_MAXLABEL	63
#define DM_MAXLABELS	((DM_MAXNAME + 1) / 2)
#define DM_WALKLABELS	7		/* RFC 9989 4.10: at most 7 left */

struct dm_span {
	const char	*s;
	size_t		 n;
};

struct dm_cur {
	const char	*p;
	const char	*end;
};

static int
dm_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static void
dm_skipwsp(struct dm_cur *c)
{
	while (c->p < c->end && dm_wsp((unsigned char)*c->p))
		c->p++;
}

/* Consume character ch if it is next. */
static int
dm_eat(struct dm_cur *c, int ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

static int
dm_valchar(int c)
{
	return (c >= 0x21 && c <= 0x3a) || (c >= 0x3c && c <= 0x7e) ||
	    dm_wsp(c);
}

static int
dm_word(const struct dm_span *v, const char *w)
{
	return lm_strcaseeq(v->s, v->n, w, strlen(w));
}

int
lm_dmarc_is_record(const char *txt, size_t len)
{
	if (txt == NULL || len < 8 || memcmp(txt, "v=DMARC1", 8) != 0)
		return 0;
	return len == 8 || txt[8] == ';' || dm_wsp((unsigned char)txt[8]);
}

/* "v" *WSP "=" *WSP "DMARC1"; the version value is case-sensitive. */
static int
dm_version(struct dm_cur *c)
{
	if (!dm_eat(c, 'v'))
		return -1;
	dm_skipwsp(c);
	if (!dm_eat(c, '='))
		return -1;
	dm_skipwsp(c);
	if ((size_t)(c->end - c->p) < 6 || memcmp(c->p, "DMARC1", 6) != 0)
		return -1;
	c->p += 6;
	return 0;
}

static int
dm_tagname(struct dm_cur *c, struct dm_span *name)
{
	name->s = c->p;
	if (c->p >= c->end || !isalpha((unsigned char)*c->p))
		return -1;
	while (c->p < c->end && (isalnum((unsigned char)*c->p) ||
	    *c->p == '_'))
		c->p++;
	name->n = (size_t)(c->p - name->s);
	return 0;
}

/* A value runs to ';' or the end; trailing whitespace is not part of it. */
static int
dm_tagvalue(struct dm_cur *c, struct dm_span *val)
{
	val->s = c->p;
	while (c->p < c->end && *c->p != ';') {
		if (!dm_valchar((unsigned char)*c->p))
			return -1;
		c->p++;
	}
	val->n = (size_t)(c->p - val->s);
	while (val->n > 0 && dm_wsp((unsigned char)val->s[val->n - 1]))
		val->n--;
	return 0;
}

static enum lm_pol
dm_pol(const struct dm_span *v)
{
	if (dm_word(v, "none"))
		return LM_POL_NONE;
	if (dm_word(v, "quarantine"))
		return LM_POL_QUARANTINE;
	if (dm_word(v, "reject"))
		return LM_POL_REJECT;
	return LM_POL_UNSET;
}

/* One-letter value out of `allowed` (lower case), else `def`. */
static char
dm_flag(const struct dm_span *v, const char *allowed, char def)
{
	int ch;

	if (v->n != 1)
		return def;
	ch = tolower((unsigned char)v->s[0]);
	return strchr(allowed, ch) != NULL ? (char)ch : def;
}

static void
dm_apply(struct lm_dmarc_rec *r, const struct dm_span *n,
    const struct dm_span *v)
{
	if (dm_word(n, "p"))
		r->p = dm_pol(v);
	else if (dm_word(n, "sp"))
		r->sp = dm_pol(v);
	else if (dm_word(n, "np"))
		r->np = dm_pol(v);
	else if (dm_word(n, "adkim"))
		r->adkim = dm_flag(v, "rs", 'r');
	else if (dm_word(n, "aspf"))
		r->aspf = dm_flag(v, "rs", 'r');
	else if (dm_word(n, "psd"))
		r->psd = dm_flag(v, "ynu", 'u');
	else if (dm_word(n, "t"))
		r->testing = dm_flag(v, "yn", 'n') == 'y';
}

/* 1 if name already occurs in seen[0..n-1]. */
static int
dm_dup(const struct dm_span *seen, size_t n, const struct dm_span *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lm_strcaseeq(seen[i].s, seen[i].n, name->s, name->n))
			return 1;
	return 0;
}

/* tag: name *WSP "=" *WSP value, already past the leading separator. */
static int
dm_tag(struct dm_cur *c, struct dm_span *seen, size_t *nseen,
    struct lm_dmarc_rec *r)
{
	struct dm_span name, val;

	if (dm_tagname(c, &name) != 0)
		return -1;
	dm_skipwsp(c);
	if (!dm_eat(c, '='))
		return -1;
	dm_skipwsp(c);
	if (dm_tagvalue(c, &val) != 0)
		return -1;
	if (*nseen >= DM_MAXTAGS || dm_dup(seen, *nseen, &name))
		return -1;
	seen[(*nseen)++] = name;
	dm_apply(r, &name, &val);
	return 0;
}

static int
dm_taglist(struct dm_cur *c, struct lm_dmarc_rec *r)
{
	struct dm_span seen[DM_MAXTAGS];
	size_t nseen = 0;

	seen[nseen].s = "v";
	seen[nseen++].n = 1;
	for (;;) {
		dm_skipwsp(c);
		if (c->p >= c->end)
			return 0;
		if (!dm_eat(c, ';'))
			return -1;
		dm_skipwsp(c);
		if (c->p >= c->end)
			return 0;		/* trailing ';' */
		if (dm_tag(c, seen, &nseen, r) != 0)
			return -1;
	}
}

int
lm_dmarc_parse(const char *txt, size_t len, struct lm_dmarc_rec *r)
{
	struct dm_cur c;

	memset(r, 0, sizeof *r);
	if (txt == NULL || len > DM_MAXREC)
		return -1;
	r->adkim = r->aspf = 'r';
	r->psd = 'u';
	c.p = txt;
	c.end = txt + len;
	if (dm_version(&c) != 0 || dm_taglist(&c, r) != 0) {
		memset(r, 0, sizeof *r);
		return -1;
	}
	return 0;
}

static int
dm_ldh(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/*
 * Lower-case `domain` into buf without one trailing dot, check its
 * labels, and record where each label starts.  Returns the label count,
 * or -1.
 */
static int
dm_labels(const char *domain, char *buf, int *start)
{
	size_t n, i, lablen = 0;
	int nl = 0;

	n = strnlen(domain, DM_MAXNAME + 2);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > DM_MAXNAME)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)domain[i];

		if (ch == '.') {
			if (lablen == 0)
				return -1;
			lablen = 0;
		} else if (!dm_ldh(ch) || ++lablen > DM_MAXLABEL)
			return -1;
		if (lablen == 1)
			start[nl++] = (int)i;
		buf[i] = (char)tolower(ch);
	}
	buf[n] = '\0';
	return lablen == 0 ? -1 : nl;
}

int
lm_dmarc_walk(const char *domain, char names[][256], int max)
{
	char buf[DM_MAXNAME + 1];
	int start[DM_MAXLABELS + 1];
	int nl, left, count = 0;

	if (domain == NULL || max < 1 ||
	    (nl = dm_labels(domain, buf, start)) < 0)
		return -1;
	lm_strlcpy(names[count++], buf, 256);
	left = nl >= DM_WALKLABELS + 1 ? DM_WALKLABELS : nl - 1;
	for (; left >= 1 && count < max; left--)
		lm_strlcpy(names[count++], buf + start[nl - left], 256);
	return count;
}

enum lm_pol
lm_dmarc_policy(const struct lm_dmarc_rec *r, int found_at_author,
    int nonexistent, const char **tag_used)
{
	const char *tag = "p";
	enum lm_pol pol;

	if (r == NULL) {
		if (tag_used != NULL)
			*tag_used = NULL;
		return LM_POL_UNSET;
	}
	pol = r->p;
	if (!found_at_author && nonexistent && r->np != LM_POL_UNSET) {
		tag = "np";
		pol = r->np;
	} else if (!found_at_author && r->sp != LM_POL_UNSET) {
		tag = "sp";
		pol = r->sp;
	}
	if (tag_used != NULL)
		*tag_used = tag;
	return pol == LM_POL_UNSET ? LM_POL_NONE : pol;
}

const char *
lm_pol_name(enum lm_pol p)
{
	switch (p) {
	case LM_POL_UNSET:
		return "unset";
	case LM_POL_NONE:
		return "none";
	case LM_POL_QUARANTINE:
		return "quarantine";
	case LM_POL_REJECT:
		return "reject";
	}
	return "?";
}
