/*
 * fuzz_dmarc - fuzz entry point for lm_dmarc: the input is used as a
 * TXT record (lm_dmarc_is_record, lm_dmarc_parse, lm_dmarc_policy) and
 * as a domain name (lm_dmarc_walk), and the results are checked against
 * the invariants of lm_dmarc.h (RFC 9989 4.7, 4.10); a violation aborts.
 *
 * Built with -fsanitize=fuzzer, or replayed over tests/fuzz/corpus/dmarc/
 * by tests/fuzz/fuzz_main.c.  The input belongs to the caller; the one
 * copy made here is freed before returning.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lm_buf.h"
#include "lm_dmarc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
need(int cond)
{
	if (!cond)
		abort();
}

static int
wsp(int c)
{
	return c == ' ' || c == '\t';
}

static void
check_rec(const struct lm_dmarc_rec *r, const char *s, size_t n)
{
	need(n <= 4096 && n >= 8 && s[0] == 'v');
	/* parse is lenient only about whitespace around the '=' */
	need(lm_dmarc_is_record(s, n) || wsp(s[1]) || wsp(s[2]));
	need(r->p <= LM_POL_REJECT && r->sp <= LM_POL_REJECT &&
	    r->np <= LM_POL_REJECT);
	need((r->adkim == 'r' || r->adkim == 's') &&
	    (r->aspf == 'r' || r->aspf == 's'));
	need(r->psd == 'y' || r->psd == 'n' || r->psd == 'u');
	need(r->testing == 0 || r->testing == 1);
}

static void
check_policy(const struct lm_dmarc_rec *r)
{
	const char *tag;
	enum lm_pol p;
	int a, nx;

	for (a = 0; a < 2; a++)
		for (nx = 0; nx < 2; nx++) {
			p = lm_dmarc_policy(r, a, nx, &tag);
			need(p >= LM_POL_NONE && p <= LM_POL_REJECT);
			need(tag != NULL && (!a || strcmp(tag, "p") == 0));
			need(strcmp(lm_pol_name(p), "?") != 0);
		}
}

static void
check_record(const char *s, size_t n)
{
	struct lm_dmarc_rec r, zero;

	memset(&zero, 0, sizeof zero);
	if (lm_dmarc_parse(s, n, &r) == 0) {
		check_rec(&r, s, n);
		check_policy(&r);
	} else
		need(memcmp(&r, &zero, sizeof r) == 0);
}

/* names[i + 1] is a label-boundary suffix of names[i]; all LDH. */
static void
check_walk(const char *dom, char names[][256], int n)
{
	size_t len, plen = 0;
	int i;

	if (n < 0)
		return;
	need(n >= 1 && n <= LM_DMARC_WALK_MAX);
	len = strlen(names[0]);
	need(len >= 1 && len <= 253 && strncasecmp(dom, names[0], len) == 0);
	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		need(len >= 1 && names[i][0] != '.' &&
		    names[i][len - 1] != '.');
		need(i == 0 || (len < plen && names[i - 1][plen - len - 1] ==
		    '.' && strcmp(names[i - 1] + plen - len, names[i]) == 0));
		plen = len;
	}
	need(strchr(names[n - 1], '.') == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char names[LM_DMARC_WALK_MAX][256];
	const char *s = (const char *)data;
	char *dom;

	(void)lm_dmarc_is_record(s, size);
	check_record(s, size);
	if ((dom = lm_strndup(s, size)) == NULL)
		return 0;
	check_walk(dom, names, lm_dmarc_walk(dom, names, LM_DMARC_WALK_MAX));
	need(lm_dmarc_walk(dom, names, 1) <= 1);
	free(dom);
	return 0;
}
