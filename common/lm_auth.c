/*
 * lm_auth - alignment, Organizational Domain, DMARC result and the
 * Authentication-Results field (see lm_auth.h for the RFC rules).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lm_auth.h"
#include "lm_decide.h"

int
lm_auth_orgdomain(char names[][256], const int *has, const char *psd,
    int n, char *out, size_t outsz)
{
	int i, last = -1;

	for (i = 0; i < n; i++) {
		if (!has[i])
			continue;
		if (psd[i] == 'n') {
			lm_strlcpy(out, names[i], outsz);
			return i;
		}
		if (psd[i] == 'y' && i > 0) {
			/* the name one label below the PSD record, towards
			   the start: names[] may skip labels after step 1 */
			const char *d = names[0];
			size_t want = strlen(names[i]);

			while (strlen(d) > want) {
				const char *dot = strchr(d, '.');

				if (dot == NULL || strlen(dot + 1) <= want)
					break;
				d = dot + 1;
			}
			lm_strlcpy(out, d, outsz);
			return i;
		}
		last = i;
	}
	lm_strlcpy(out, last >= 0 ? names[last] : names[0], outsz);
	return last;
}

static int
same_domain(const char *a, const char *b)
{
	return a != NULL && b != NULL &&
	    lm_strcaseeq(a, strlen(a), b, strlen(b));
}

int
lm_auth_aligned(const char *from, const char *id, char mode,
    const char *org_from, const char *org_id)
{
	if (from == NULL || id == NULL || *from == '\0' || *id == '\0')
		return 0;
	if (same_domain(from, id))
		return 1;
	if (mode == 's')
		return 0;
	return same_domain(org_from, org_id);
}

enum lm_dmres
lm_auth_dmarc(const struct lm_auth *a, int lookup)
{
	size_t i;
	int temp = 0;

	if (a->spf == LM_AR_PASS && a->spf_aligned)
		return LM_DM_PASS;
	for (i = 0; i < a->nsigs; i++) {
		if (a->sig[i].res == LM_AR_PASS && a->sig[i].aligned)
			return LM_DM_PASS;
		if (a->sig[i].res == LM_AR_TEMPERROR && a->sig[i].aligned)
			temp = 1;
	}
	if (lookup == LM_LK_TEMPFAIL)
		return LM_DM_TEMPERROR;
	if (lookup != LM_LK_FOUND)
		return LM_DM_NONE;
	if (temp || (a->spf == LM_AR_TEMPERROR && a->spf_aligned))
		return LM_DM_TEMPERROR;
	return LM_DM_FAIL;
}

/* Is field name `f` (length n) in the ':'-separated list `l`? */
static int
in_list(const char *l, const char *f, size_t n)
{
	while (*l != '\0') {
		const char *e = strchr(l, ':');
		size_t len = e != NULL ? (size_t)(e - l) : strlen(l);

		while (len > 0 && isspace((unsigned char)l[len - 1]))
			len--;
		while (len > 0 && isspace((unsigned char)*l))
			l++, len--;
		if (lm_strcaseeq(l, len, f, n))
			return 1;
		if (e == NULL)
			break;
		l = e + 1;
	}
	return 0;
}

int
lm_auth_survives(const char *h, const char *added)
{
	const char *a = added;

	while (*a != '\0') {
		const char *e = strchr(a, ':');
		size_t len = e != NULL ? (size_t)(e - a) : strlen(a);

		if (len > 0 && in_list(h, a, len))
			return 0;
		if (e == NULL)
			break;
		a = e + 1;
	}
	return 1;
}

const char *
lm_ares_name(enum lm_ares r)
{
	static const char *n[] = { "none", "pass", "fail", "softfail",
	    "neutral", "policy", "temperror", "permerror" };

	return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "permerror";
}

const char *
lm_dmres_name(enum lm_dmres r)
{
	static const char *n[] = { "none", "pass", "fail", "temperror",
	    "permerror" };

	return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "permerror";
}

/* Domains reach the header only if they are LDH (CVE-2020-12272). */
static const char *
safe_domain(const char *d)
{
	const char *p;

	if (d == NULL || *d == '\0')
		return NULL;
	for (p = d; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != '_')
			return NULL;
	return d;
}

static int
build_spf(const struct lm_auth *a, lm_buf *out)
{
	const char *d = safe_domain(a->spf_domain);

	if (d == NULL)
		return lm_buf_printf(out, ";\n\tspf=%s", lm_ares_name(a->spf));
	return lm_buf_printf(out, ";\n\tspf=%s smtp.%s=%s",
	    lm_ares_name(a->spf), a->spf_helo ? "helo" : "mailfrom", d);
}

static int
build_dkim(const struct lm_auth *a, lm_buf *out)
{
	size_t i;

	if (a->nsigs == 0)
		return lm_buf_adds(out, ";\n\tdkim=none");
	for (i = 0; i < a->nsigs; i++) {
		const char *d = safe_domain(a->sig[i].domain);
		const char *s = safe_domain(a->sig[i].selector);

		if (lm_buf_printf(out, ";\n\tdkim=%s",
		    lm_ares_name(a->sig[i].res)) != 0 ||
		    (d != NULL && lm_buf_printf(out, " header.d=%s", d) != 0) ||
		    (s != NULL && lm_buf_printf(out, " header.s=%s", s) != 0))
			return -1;
	}
	return 0;
}

int
lm_authres_build(const char *authservid, const struct lm_auth *a,
    const char *from_domain, const char *policy, lm_buf *out)
{
	const char *f = safe_domain(from_domain);

	if (lm_buf_printf(out, " %s", authservid) != 0 ||
	    build_spf(a, out) != 0 || build_dkim(a, out) != 0 ||
	    lm_buf_printf(out, ";\n\tdmarc=%s", lm_dmres_name(a->dmarc)) != 0)
		return -1;
	if (policy != NULL && *policy != '\0' &&
	    lm_buf_printf(out, " (p=%s)", policy) != 0)
		return -1;
	if (f != NULL && lm_buf_printf(out, " header.from=%s", f) != 0)
		return -1;
	return 0;
}

/* Skip white space and (nested, bounded) comments. */
static size_t
skip_cfws(const char *v, size_t i, size_t len)
{
	int depth = 0;

	for (; i < len; i++) {
		if (v[i] == '(' && depth < 32)
			depth++;
		else if (v[i] == ')' && depth > 0)
			depth--;
		else if (v[i] == '\\' && depth > 0 && i + 1 < len)
			i++;
		else if (depth == 0 && !isspace((unsigned char)v[i]))
			break;
	}
	return i;
}

int
lm_authres_servid(const char *v, size_t len, char *out, size_t outsz)
{
	size_t i = skip_cfws(v, 0, len), o = 0;
	int quoted = i < len && v[i] == '"';

	if (quoted)
		i++;
	for (; i < len && o + 1 < outsz; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\0' || (quoted ? c == '"' :
		    (c == ';' || c == '(' || isspace(c))))
			break;
		if (quoted && c == '\\' && i + 1 < len &&
		    (c = (unsigned char)v[++i]) == '\0')
			break;
		out[o++] = (char)tolower(c);
	}
	if (outsz > 0)
		out[o] = '\0';
	return o > 0 ? 0 : -1;
}

/* Copy the unfolded value without comments into out (bounded). */
static void
strip_comments(const char *v, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;
	int depth = 0, quoted = 0;

	for (i = 0; i < len && o + 1 < outsz; i++) {
		char c = v[i];

		if (!quoted && c == '(' && depth < 32)
			depth++;
		else if (!quoted && c == ')' && depth > 0)
			depth--;
		else if (depth == 0) {
			if (quoted && c == '\\' && i + 1 < len && o + 2 < outsz) {
				out[o++] = c;		/* a quoted-pair */
				c = v[++i];
			} else if (c == '"')
				quoted = !quoted;
			out[o++] = c == '\r' || c == '\n' || c == '\t' ? ' ' : c;
		}
	}
	out[o] = '\0';
}

static enum lm_dmres
dmres_of(const char *w, size_t n)
{
	static const char *names[] = { "none", "pass", "fail", "temperror",
	    "permerror" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (lm_strcaseeq(w, n, names[i], strlen(names[i])))
			return (enum lm_dmres)i;
	return LM_DM_PERMERROR;
}

static const char *
find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

/* In one resinfo "dmarc=fail (x) header.from=d", find the result/from. */
static int
dmarc_resinfo(const char *r, enum lm_dmres *res, char *from, size_t fromsz)
{
	const char *p, *e;

	while (*r == ' ')
		r++;
	if (strncasecmp(r, "dmarc", 5) != 0)
		return -1;
	for (p = r + 5; *p == ' '; p++)
		;
	if (*p++ != '=')
		return -1;
	while (*p == ' ')
		p++;
	for (e = p; *e != '\0' && *e != ' '; e++)
		;
	*res = dmres_of(p, (size_t)(e - p));
	from[0] = '\0';
	if ((p = find_ci(e, "header.from")) != NULL &&
	    (p = strchr(p, '=')) != NULL) {
		for (p++; *p == ' '; p++)
			;
		for (e = p; *e != '\0' && *e != ' ' && *e != ';'; e++)
			;
		if ((size_t)(e - p) < fromsz) {
			memcpy(from, p, (size_t)(e - p));
			from[e - p] = '\0';
			lm_lower(from, fromsz);
		}
	}
	return 0;
}

/* The next ';'-separated part at *pp, cut in place; ';' inside a quoted
   string (RFC 5322 3.2.4, with quoted-pairs) does not separate.  NULL at
   the end. */
static char *
next_part(char **pp)
{
	char *p = *pp, *start = p;
	int quoted = 0;

	if (p == NULL)
		return NULL;
	for (; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ';')
			break;
	}
	*pp = *p == ';' ? p + 1 : NULL;
	*p = '\0';
	return start;
}

int
lm_authres_dmarc(const char *value, size_t len, enum lm_dmres *res,
    char *from, size_t fromsz)
{
	char buf[4096], *rest = buf, *tok;
	int first = 1;

	strip_comments(value, len, buf, sizeof buf);
	for (; (tok = next_part(&rest)) != NULL; first = 0)
		if (!first && dmarc_resinfo(tok, res, from, fromsz) == 0)
			return 0;
	return -1;
}

int
lm_authres_listed(const char *list, const char *id)
{
	size_t n = strlen(id);

	while (*list != '\0') {
		size_t k;

		while (*list == ',' || *list == ' ' || *list == '\t')
			list++;
		k = strcspn(list, ", \t");
		if (k > 0 && lm_strcaseeq(list, k, id, n))
			return 1;
		list += k;
	}
	return 0;
}
