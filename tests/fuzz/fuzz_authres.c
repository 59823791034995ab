/*
 * fuzz_authres - fuzz entry point for the Authentication-Results handling
 * of lm_auth (RFC 8601): the input is read as a foreign header value
 * (lm_authres_servid, lm_authres_dmarc, lm_authres_listed) and, cut into
 * pieces, as the facts of a message (results, d=, s=, SPF domain, From
 * domain) that lm_authres_build turns into our own field.  Invariants:
 *  - parsed authserv-ids are non-empty, lower case, without ';' or
 *    (unquoted) white space; a dmarc result is a valid enum value and
 *    header.from is lower case without spaces;
 *  - the field we build is one header field whatever the facts: ASCII,
 *    no CR, no control character but LF + TAB folds, each line at most
 *    998 bytes; and it parses back: its authserv-id is ours, its dmarc=
 *    is the result we gave, its header.from the From domain when that is
 *    a safe (LDH) name, else absent (CVE-2020-12272);
 *  - lm_auth_survives: adding nothing breaks nothing, adding a field a
 *    signature signs breaks it;
 *  - lm_auth_dmarc is pass exactly when an aligned pass exists.
 *
 * Built with -fsanitize=fuzzer, or replayed over tests/fuzz/corpus/authres/
 * by tests/fuzz/fuzz_main.c.  The input belongs to the caller; copies are
 * freed before returning.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_auth.h"
#include "lm_buf.h"

#define SERVID	"mx.fuzz.example"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
need(int cond)
{
	if (!cond)
		abort();
}

static int
is_lower(const char *s)
{
	for (; *s != '\0'; s++)
		if (isupper((unsigned char)*s))
			return 0;
	return 1;
}

static int
ldh(const char *d)
{
	if (*d == '\0')
		return 0;
	for (; *d != '\0'; d++)
		if (!isalnum((unsigned char)*d) && *d != '.' && *d != '-' &&
		    *d != '_')
			return 0;
	return 1;
}

/* The input as somebody else's Authentication-Results value. */
static void
check_foreign(const char *v, size_t n)
{
	char id[256], from[256];
	enum lm_dmres res;
	size_t i;

	if (lm_authres_servid(v, n, id, sizeof id) == 0) {
		need(id[0] != '\0' && is_lower(id));
		need(lm_authres_listed(id, id) ||
		    strpbrk(id, ", \t") != NULL);
		for (i = 0; memchr(v, '"', n) == NULL && id[i] != '\0'; i++)
			need(id[i] != ';' && !isspace((unsigned char)id[i]));
	}
	if (lm_authres_dmarc(v, n, &res, from, sizeof from) == 0) {
		need(res >= LM_DM_NONE && res <= LM_DM_PERMERROR);
		need(is_lower(from) && strchr(from, ' ') == NULL);
	}
}

/* Next NUL-terminated piece of the input (cut at 0x00 or '|'). */
static void
piece(const char **p, const char *end, char *out, size_t outsz)
{
	size_t o = 0;

	while (*p < end && **p != '\0' && **p != '|') {
		if (o + 1 < outsz)
			out[o++] = **p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	out[o] = '\0';
}

static uint8_t
byte(const char **p, const char *end)
{
	return *p < end ? (uint8_t)*(*p)++ : 0;
}

static void
facts(const char *v, size_t n, struct lm_auth *a, char *from, size_t fsz)
{
	const char *p = v, *end = v + n;
	size_t i;

	memset(a, 0, sizeof *a);
	a->evaluated = 1;
	a->spf = (enum lm_ares)(byte(&p, end) % 8);
	a->spf_helo = byte(&p, end) & 1;
	a->spf_aligned = byte(&p, end) & 1;
	piece(&p, end, a->spf_domain, sizeof a->spf_domain);
	piece(&p, end, from, fsz);
	a->nsigs = byte(&p, end) % (LM_AUTH_MAXSIGS + 1);
	for (i = 0; i < a->nsigs; i++) {
		a->sig[i].res = (enum lm_ares)(byte(&p, end) % 8);
		a->sig[i].aligned = byte(&p, end) & 1;
		piece(&p, end, a->sig[i].domain, sizeof a->sig[i].domain);
		piece(&p, end, a->sig[i].selector, sizeof a->sig[i].selector);
	}
	a->dmarc = lm_auth_dmarc(a, byte(&p, end) % 4);
}

/* One header field value: ASCII, folds only as LF TAB, lines <= 998. */
static void
check_field(const char *s, size_t n)
{
	size_t i, line = 0;

	for (i = 0; i < n; i++, line++) {
		unsigned char c = (unsigned char)s[i];

		need(c < 0x80 && c != 0x7f && (c >= 0x20 || c == '\n' || c == '\t'));
		if (c == '\n') {
			need(i + 1 < n && s[i + 1] == '\t');
			line = 0;
		}
		need(line <= 998);
	}
}

static void
check_build(const char *v, size_t n)
{
	struct lm_auth a;
	char from[256], id[256], back[256];
	enum lm_dmres res;
	size_t i;
	int pass = 0;
	lm_buf out;

	facts(v, n, &a, from, sizeof from);
	for (i = 0; i < a.nsigs; i++)
		pass |= a.sig[i].res == LM_AR_PASS && a.sig[i].aligned;
	pass |= a.spf == LM_AR_PASS && a.spf_aligned;
	need((a.dmarc == LM_DM_PASS) == pass);
	lm_buf_init(&out, 1 << 16);
	need(lm_authres_build(SERVID, &a, from, "reject", &out) == 0);
	check_field(out.s, out.len);
	need(lm_authres_servid(out.s, out.len, id, sizeof id) == 0 &&
	    strcmp(id, SERVID) == 0);
	need(lm_authres_dmarc(out.s, out.len, &res, back, sizeof back) == 0);
	need(res == a.dmarc);
	if (ldh(from)) {
		for (i = 0; from[i] != '\0'; i++)
			from[i] = (char)tolower((unsigned char)from[i]);
		need(strcmp(back, from) == 0);
	} else
		need(back[0] == '\0');
	lm_buf_free(&out);
}

static void
check_survives(const char *v, size_t n)
{
	char h[512], added[512], tok[64];
	const char *p = v, *end = v + n;
	size_t k;

	piece(&p, end, h, sizeof h);
	piece(&p, end, added, sizeof added);
	need(lm_auth_survives(h, "") == 1);
	k = strcspn(h, ":");
	if (k > 0 && k < sizeof tok) {
		memcpy(tok, h, k);
		tok[k] = '\0';
		/* a field name the signature signs, added by the list */
		if (strspn(tok, "abcdefghijklmnopqrstuvwxyz-") == k)
			need(lm_auth_survives(h, tok) == 0);
	}
	need(lm_auth_survives(h, added) == 0 ||
	    lm_auth_survives(h, added) == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v;

	if (size > 8192)
		return 0;
	if ((v = malloc(size + 1)) == NULL)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	check_foreign(v, size);
	check_build(v, size);
	check_survives(v, size);
	free(v);
	return 0;
}
