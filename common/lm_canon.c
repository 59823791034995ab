/*
 * lm_canon - DKIM relaxed canonicalization, RFC 6376 3.4.2 (header) and
 * 3.4.4 (body), with the RFC 6376 errata 3133 reading of 3.4.4: an empty
 * body canonicalizes to nothing.  See lm_canon.h.
 */
#include <string.h>

#include "lm_canon.h"

#define IS_WSP(c)	((c) == ' ' || (c) == '\t')

/* s[0..n) with folds deleted and WSP runs made one SP; leading and
   trailing WSP dropped. */
static int
add_squeezed(lm_buf *out, const char *s, size_t n)
{
	size_t i;
	int sp = 0, any = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n' || (s[i] == '\r' && i + 1 < n &&
		    s[i + 1] == '\n'))
			continue;
		if (IS_WSP(s[i])) {
			sp = 1;
			continue;
		}
		if (sp && any && lm_buf_addc(out, ' ') != 0)
			return -1;
		sp = 0;
		any = 1;
		if (lm_buf_addc(out, s[i]) != 0)
			return -1;
	}
	return 0;
}

static int
add_name(lm_buf *out, const char *name, size_t n)
{
	size_t i, start = out->len;

	while (n > 0 && IS_WSP(name[n - 1]))
		n--;
	if (lm_buf_add(out, name, n) != 0)
		return -1;
	for (i = start; i < out->len; i++)
		if (out->s[i] >= 'A' && out->s[i] <= 'Z')
			out->s[i] = (char)(out->s[i] - 'A' + 'a');
	return 0;
}

int
lm_canon_header(lm_buf *out, const char *name, const char *value,
    size_t vlen)
{
	size_t len = out->len;

	if (add_name(out, name, strlen(name)) != 0 ||
	    lm_buf_addc(out, ':') != 0 || add_squeezed(out, value, vlen) != 0 ||
	    lm_buf_add(out, "\r\n", 2) != 0) {
		lm_buf_truncate(out, len);
		return -1;
	}
	return 0;
}

int
lm_canon_field(lm_buf *out, const char *field, size_t len)
{
	const char *colon = memchr(field, ':', len);
	size_t n = colon != NULL ? (size_t)(colon - field) : len;
	size_t old = out->len;

	if (add_name(out, field, n) != 0 || lm_buf_addc(out, ':') != 0 ||
	    (colon != NULL && add_squeezed(out, colon + 1, len - n - 1) !=
	    0) || lm_buf_add(out, "\r\n", 2) != 0) {
		lm_buf_truncate(out, old);
		return -1;
	}
	return 0;
}

/* One line (without its end): WSP runs -> SP, trailing WSP removed. */
static int
add_line(lm_buf *out, const char *s, size_t n)
{
	size_t i;
	int sp = 0;

	for (i = 0; i < n; i++) {
		if (IS_WSP(s[i])) {
			sp = 1;
			continue;
		}
		if (sp && lm_buf_addc(out, ' ') != 0)
			return -1;
		sp = 0;
		if (lm_buf_addc(out, s[i]) != 0)
			return -1;
	}
	return 0;
}

int
lm_canon_body(lm_buf *out, const char *body, size_t len)
{
	const char *lf;
	size_t old = out->len, keep = out->len, i, e, n, before;

	for (i = 0; i < len; i = e + 1) {
		lf = memchr(body + i, '\n', len - i);
		e = lf != NULL ? (size_t)(lf - body) : len;
		n = e - i;
		if (lf != NULL && n > 0 && body[e - 1] == '\r')
			n--;
		before = out->len;
		if (add_line(out, body + i, n) != 0 ||
		    lm_buf_add(out, "\r\n", 2) != 0) {
			lm_buf_truncate(out, old);
			return -1;
		}
		if (out->len > before + 2)	/* empty lines at the end go */
			keep = out->len;
	}
	lm_buf_truncate(out, keep);
	return 0;
}
