/*
 * fuzz_rfc2047 - libFuzzer entry point for lm_rfc2047 (RFC 2047 decoding
 * and phrase encoding, display sanitizing, RFC 3629 UTF-8).
 *
 * For any input: decoding succeeds and keeps valid UTF-8 valid; the
 * sanitized text (of the decoded and of the raw input) has no byte below
 * 0x20, no DEL, no C1 control, no U+2028/U+2029, no white space at either
 * end or doubled, and at most maxcp code points plus "..."; the phrase
 * built from it has no line over 76 characters, no encoded-word over 75,
 * decodes back to the text (encoded-words), and parses back through
 * lm_addr as the same display name.  Build with -fsanitize=fuzzer, or
 * with fuzz_main.c to replay files and random inputs.  Owns nothing
 * beyond a call.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "lm_addr.h"
#include "lm_buf.h"
#include "lm_rfc2047.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_sanitized(const char *s, size_t n, size_t maxcp)
{
	size_t i = 0, k, cps = 0;
	uint32_t c;

	assert(lm_utf8_valid(s, n));
	assert(n == 0 || (s[0] != ' ' && s[n - 1] != ' '));
	assert(strstr(s, "  ") == NULL);
	while (i < n) {
		k = lm_utf8_next(s + i, n - i, &c);
		assert(k > 0 && c >= 0x20 && c != 0x7f);
		assert(!(c >= 0x80 && c <= 0x9f) && c != 0x2028 &&
		    c != 0x2029);
		i += k;
		cps++;
	}
	assert(maxcp == 0 || cps <= maxcp + 3);
}

/* Lines (the first starting at col) of at most 76, encoded-words (when
   the phrase is not a quoted-string) of at most 75. */
static void
check_shape(const char *s, size_t col, int quoted)
{
	const char *p, *w, *e;
	size_t line = col;

	for (p = s; *p != '\0'; p++) {
		if (*p == '\n') {
			assert(p[1] == ' ' || p[1] == '\t');
			line = 0;
		} else
			assert(++line <= 76);
	}
	for (p = s; !quoted && (w = strstr(p, "=?UTF-8?Q?")) != NULL;
	    p = e + 2) {
		e = strstr(w + 10, "?=");
		assert(e != NULL && e + 2 - w <= 75);
	}
}

/* The phrase must come back as the text, by decoding and by parsing. */
static void
check_phrase(const char *s, size_t n, size_t col)
{
	struct lm_addrlist l;
	lm_buf ph, back;
	const char *body;

	lm_buf_init(&ph, 16 * n + 64);
	lm_buf_init(&back, 4 * n + 64);
	assert(lm_rfc2047_phrase(s, n, col, &ph) == 0);
	body = lm_buf_cstr(&ph);
	body += strncmp(body, "\n\t", 2) == 0 ? 2 : 0;
	check_shape(lm_buf_cstr(&ph), col, body[0] == '"');
	if (body[0] != '"') {
		assert(lm_rfc2047_decode(body, strlen(body), &back) == 0);
		assert(strcmp(lm_buf_cstr(&back), s) == 0);
	}
	assert(lm_buf_adds(&ph, " <a@example.org>") == 0);
	assert(lm_addr_parse(ph.s, ph.len, &l, NULL, 0) == LM_ADDR_OK);
	assert(l.n == 1 && strcmp(l.mb[0].addr, "a@example.org") == 0);
	assert(n == 0 ? l.mb[0].display == NULL :
	    l.mb[0].display != NULL && strcmp(l.mb[0].display, s) == 0);
	lm_addrlist_free(&l);
	lm_buf_free(&ph);
	lm_buf_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t maxcp = size % 97, col = size % 61;
	lm_buf d, s, w;

	lm_buf_init(&d, 4 * size + 16);
	lm_buf_init(&s, 4 * size + 16);
	lm_buf_init(&w, 4 * size + 16);
	assert(lm_rfc2047_decode(in, size, &d) == 0);
	assert(!lm_utf8_valid(in, size) ||
	    lm_utf8_valid(lm_buf_cstr(&d), d.len));
	assert(lm_rfc2047_word(in, size, &w) >= 0);
	assert(lm_utf8_valid(lm_buf_cstr(&w), w.len));
	assert(lm_sanitize_display(lm_buf_cstr(&d), d.len, maxcp, &s) == 0);
	check_sanitized(lm_buf_cstr(&s), s.len, maxcp);
	if (size < 2048)
		check_phrase(lm_buf_cstr(&s), s.len, col);
	lm_buf_reset(&s);
	assert(lm_sanitize_display(in, size, 0, &s) == 0);
	check_sanitized(lm_buf_cstr(&s), s.len, 0);
	/* unsanitized text: refused, or as good as sanitized text */
	lm_buf_free(&w);
	lm_buf_init(&w, 16 * size + 64);
	if (lm_rfc2047_phrase(in, size, col, &w) == 0) {
		assert(lm_utf8_valid(in, size));
		lm_buf_reset(&d);
		assert(lm_buf_add(&d, in, size) == 0);
		if (size < 2048)
			check_phrase(lm_buf_cstr(&d), d.len, col);
	}
	lm_buf_free(&d);
	lm_buf_free(&s);
	lm_buf_free(&w);
	return 0;
}
