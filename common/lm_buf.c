/*
 * lm_buf - explicit-length growable strings (see lm_buf.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"

void
lm_buf_init(lm_buf *b, size_t max)
{
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
lm_buf_free(lm_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void
lm_buf_reset(lm_buf *b)
{
	b->len = 0;
	if (b->s != NULL)
		b->s[0] = '\0';
}

static int
lm_buf_grow(lm_buf *b, size_t need)
{
	size_t ncap;
	char *ns;

	if (need > b->max || need + 1 < need)
		return -1;
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((ns = realloc(b->s, ncap)) == NULL)
		return -1;
	b->s = ns;
	b->cap = ncap;
	return 0;
}

int
lm_buf_add(lm_buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (lm_buf_grow(b, b->len + n) != 0)
		return -1;
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int
lm_buf_adds(lm_buf *b, const char *s)
{
	return lm_buf_add(b, s, strlen(s));
}

int
lm_buf_addc(lm_buf *b, int c)
{
	char ch = (char)c;

	return lm_buf_add(b, &ch, 1);
}

int
lm_buf_vprintf(lm_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || (size_t)n > b->max || b->len > b->max - (size_t)n)
		return -1;
	if (lm_buf_grow(b, b->len + (size_t)n) != 0)
		return -1;
	(void)vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
lm_buf_printf(lm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = lm_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

const char *
lm_buf_cstr(const lm_buf *b)
{
	return b->s != NULL ? b->s : "";
}

char *
lm_buf_steal(lm_buf *b)
{
	char *s = b->s;

	if (s == NULL)
		s = calloc(1, 1);
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void
lm_buf_truncate(lm_buf *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		b->s[n] = '\0';
	}
}

char *
lm_strndup(const char *s, size_t n)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
lm_lower(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != '\0'; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
}

int
lm_strcaseeq(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

size_t
lm_strlcpy(char *dst, const char *src, size_t sz)
{
	size_t n = strlen(src);

	if (sz > 0) {
		size_t c = n < sz - 1 ? n : sz - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
lm_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
lm_b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}
