/*
 * lm_rfc2047 - MIME encoded-words and display-name hygiene (see
 * lm_rfc2047.h for the contract).
 *
 * What: decoding of encoded-words in phrases and unstructured text to
 * UTF-8, encoding of a display name as a header-safe phrase, sanitizing
 * of attacker-chosen display text, UTF-8 validation.
 *
 * RFCs: RFC 2047 sections 2 (word syntax, 75-character words), 4.1 (B),
 * 4.2 (Q; "_" is a space), 5(3) (words as whole atoms of a phrase, the
 * characters Q may leave bare there), 6.2 (white space between adjacent
 * words is ignored); RFC 2231 section 5 (a "*lang" suffix on the
 * charset); RFC 3629 sections 3-4 (UTF-8: no overlongs, no surrogates,
 * nothing above U+10FFFF); RFC 5322 2.2.3 (folding), 3.2.4 (quoted-string)
 * and 3.2.5 (phrase).
 *
 * Decoding is deliberately not stricter than needed for safety: the
 * 75-character word limit is not enforced and B text may omit padding,
 * because decoded text is only ever display text.
 *
 * Ownership: every function appends to a caller-owned lm_buf whose
 * maximum bounds the output; on failure the buffer is cut back to its
 * length at entry.  Temporary buffers are freed before returning.  No
 * globals (the charset tables are const).
 */
#include <stdint.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_rfc2047.h"

#define REPL		0xfffdU	/* U+FFFD REPLACEMENT CHARACTER */
#define LINEMAX		76	/* fold before a line would pass this */
#define WORDMAX		75	/* RFC 2047 section 2 */
#define EW_PREFIX	"=?UTF-8?Q?"
#define EW_OVERHEAD	12	/* strlen("=?UTF-8?Q?") + strlen("?=") */

enum cs {
	CS_ASCII,
	CS_UTF8,
	CS_LATIN1,
	CS_CP1252,
	CS_LATIN9
};

static const struct {
	const char	*name;
	enum cs		 cs;
} charsets[] = {
	{ "us-ascii", CS_ASCII },
	{ "utf-8", CS_UTF8 },
	{ "iso-8859-1", CS_LATIN1 },
	{ "latin1", CS_LATIN1 },
	{ "windows-1252", CS_CP1252 },
	{ "cp1252", CS_CP1252 },
	{ "iso-8859-15", CS_LATIN9 },
};

/* windows-1252 0x80..0x9f; 0 marks the five undefined bytes. */
static const uint16_t cp1252_hi[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178
};

/* A parsed encoded-word. */
struct ew {
	enum cs		 cs;
	int		 enc;		/* 'B' or 'Q' */
	const char	*txt;
	size_t		 tlen;
};

/* ------------------------------------------------------------------ */
/* UTF-8 */

size_t
lm_utf8_next(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	size_t n, i;

	if (len == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 2;
	else if ((u[0] & 0xf0) == 0xe0)
		n = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 4;
	else
		return 0;
	c = u[0] & (0x7f >> n);
	min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int
lm_utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t c;

	while (i < len) {
		if ((n = lm_utf8_next(s + i, len - i, &c)) == 0 || c == 0)
			return 0;
		i += n;
	}
	return 1;
}

static int
put_cp(lm_buf *b, uint32_t c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return lm_buf_add(b, u, n);
}

/* Code points never re-emitted: C0, DEL, C1 (incl. U+0085), U+2028/9,
   and the invisible format characters that reorder or hide display text
   (zero-width U+200B-U+200F, bidi embeddings and overrides U+202A-U+202E,
   isolates U+2066-U+2069, U+FEFF), which make a name look like another. */
static int
is_ctl(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	    c == 0x2028 || c == 0x2029 || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0xfeff;
}

/* ------------------------------------------------------------------ */
/* Charsets */

static uint32_t
latin9(unsigned char c)
{
	switch (c) {
	case 0xa4: return 0x20ac;
	case 0xa6: return 0x0160;
	case 0xa8: return 0x0161;
	case 0xb4: return 0x017d;
	case 0xb8: return 0x017e;
	case 0xbc: return 0x0152;
	case 0xbd: return 0x0153;
	case 0xbe: return 0x0178;
	default: return c;
	}
}

/* The code point of byte c in a single-byte charset. */
static uint32_t
sb_map(enum cs cs, unsigned char c)
{
	switch (cs) {
	case CS_ASCII:
		return c < 0x80 ? c : REPL;
	case CS_CP1252:
		if (c >= 0x80 && c <= 0x9f)
			return cp1252_hi[c - 0x80] != 0 ? cp1252_hi[c - 0x80] :
			    REPL;
		return c;
	case CS_LATIN9:
		return latin9(c);
	default:
		return c;
	}
}

/* Append bytes s[0..n) of charset cs to out as UTF-8. */
static int
convert(enum cs cs, const char *s, size_t n, lm_buf *out)
{
	size_t i = 0, k;
	uint32_t c;

	while (i < n) {
		k = 1;
		if (cs == CS_UTF8) {
			if ((k = lm_utf8_next(s + i, n - i, &c)) == 0) {
				k = 1;
				c = REPL;
			}
		} else
			c = sb_map(cs, (unsigned char)s[i]);
		if (c == 0)
			c = REPL;
		if (put_cp(out, c) != 0)
			return -1;
		i += k;
	}
	return 0;
}

static int
cs_lookup(const char *s, size_t n, enum cs *cs)
{
	const char *star;
	size_t i;

	if ((star = memchr(s, '*', n)) != NULL)
		n = (size_t)(star - s);		/* RFC 2231 language */
	for (i = 0; i < sizeof charsets / sizeof charsets[0]; i++) {
		if (lm_strcaseeq(s, n, charsets[i].name,
		    strlen(charsets[i].name))) {
			*cs = charsets[i].cs;
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Decoding */

/* Split "=?cs?e?text?=" (all of s[0..n)); 1 if well-formed and known. */
static int
ew_parse(const char *s, size_t n, struct ew *w)
{
	const char *q;
	size_t i, cse;

	if (n < 8 || s[0] != '=' || s[1] != '?' || s[n - 2] != '?' ||
	    s[n - 1] != '=')
		return 0;
	if ((q = memchr(s + 2, '?', n - 4)) == NULL)
		return 0;
	cse = (size_t)(q - s);
	if (cse + 3 > n - 2 || s[cse + 2] != '?')
		return 0;
	w->enc = s[cse + 1] & ~0x20;
	if ((w->enc != 'B' && w->enc != 'Q') ||
	    !cs_lookup(s + 2, cse - 2, &w->cs))
		return 0;
	w->txt = s + cse + 3;
	w->tlen = n - 2 - (cse + 3);
	for (i = 0; i < w->tlen; i++)
		if (w->txt[i] < 0x21 || w->txt[i] > 0x7e || w->txt[i] == '?')
			return 0;
	return 1;
}

/* RFC 2047 4.2; 1 decoded, 0 malformed, -1 overflow. */
static int
q_decode(const char *t, size_t n, lm_buf *raw)
{
	size_t i;
	int c, hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)t[i];
		if (c == '_')
			c = ' ';
		else if (c == '=') {
			if (i + 2 >= n)
				return 0;
			if ((hi = lm_hexval((unsigned char)t[i + 1])) < 0 ||
			    (lo = lm_hexval((unsigned char)t[i + 2])) < 0)
				return 0;
			c = hi << 4 | lo;
			i += 2;
		}
		if (lm_buf_addc(raw, c) != 0)
			return -1;
	}
	return 1;
}

/* RFC 2047 4.1 (RFC 4648 alphabet); padding optional but not wrong. */
static int
b_decode(const char *t, size_t n, lm_buf *raw)
{
	size_t pad = 0, dlen, i;
	uint32_t acc = 0;
	int bits = 0, v;

	while (pad < n && pad < 3 && t[n - 1 - pad] == '=')
		pad++;
	dlen = n - pad;
	if (pad > 2 || dlen % 4 == 1 || (pad > 0 && n % 4 != 0))
		return 0;
	for (i = 0; i < dlen; i++) {
		if ((v = lm_b64val((unsigned char)t[i])) < 0)
			return 0;
		acc = ((acc << 6) | (uint32_t)v) & 0xffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (lm_buf_addc(raw, (int)((acc >> bits) & 0xff)) != 0)
				return -1;
		}
	}
	return 1;
}

/* Decode the encoded-word s[0..n) to its raw octets in raw. */
static int
ew_raw(const char *s, size_t n, lm_buf *raw, enum cs *cs)
{
	struct ew w;

	if (!ew_parse(s, n, &w))
		return 0;
	*cs = w.cs;
	if (w.enc == 'Q')
		return q_decode(w.txt, w.tlen, raw);
	return b_decode(w.txt, w.tlen, raw);
}

int
lm_rfc2047_word(const char *in, size_t len, lm_buf *out)
{
	lm_buf raw;
	size_t start = out->len;
	enum cs cs = CS_ASCII;
	int r;

	lm_buf_init(&raw, out->max);
	r = ew_raw(in, len, &raw, &cs);
	if (r == 1 && convert(cs, raw.s != NULL ? raw.s : "", raw.len,
	    out) != 0) {
		lm_buf_truncate(out, start);
		r = -1;
	}
	lm_buf_free(&raw);
	return r;
}

static int
is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Append white space in[ws..tok) and the token in[tok..end), decoded if
 * it is an encoded-word; the white space is dropped between two decoded
 * words (*prev tells whether the previous token was one).
 */
static int
decode_token(const char *in, size_t ws, size_t tok, size_t end,
    int *prev, lm_buf *raw, lm_buf *out)
{
	enum cs cs = CS_ASCII;
	int r = 0;

	lm_buf_reset(raw);
	if (tok < end && (r = ew_raw(in + tok, end - tok, raw, &cs)) < 0)
		return -1;
	if (!(r == 1 && *prev) && lm_buf_add(out, in + ws, tok - ws) != 0)
		return -1;
	*prev = r == 1;
	if (r == 1)
		return convert(cs, raw->s != NULL ? raw->s : "", raw->len, out);
	return lm_buf_add(out, in + tok, end - tok);
}

int
lm_rfc2047_decode(const char *in, size_t len, lm_buf *out)
{
	lm_buf raw;
	size_t i = 0, ws, tok, start = out->len;
	int prev = 0, r = 0;

	lm_buf_init(&raw, out->max);
	while (i < len && r == 0) {
		ws = i;
		while (i < len && is_lws(in[i]))
			i++;
		tok = i;
		while (i < len && !is_lws(in[i]))
			i++;
		r = decode_token(in, ws, tok, i, &prev, &raw, out);
	}
	lm_buf_free(&raw);
	if (r != 0)
		lm_buf_truncate(out, start);
	return r;
}

/* ------------------------------------------------------------------ */
/* Encoding */

/* RFC 2047 5(3) characters left bare in a Q word of a phrase. */
static int
q_bare(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

/* Q-encode the n (<= 4) bytes of one character into dst; its length. */
static size_t
q_char(const char *s, size_t n, char *dst)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == ' ')
			dst[k++] = '_';
		else if (q_bare(c))
			dst[k++] = (char)c;
		else {
			dst[k++] = '=';
			dst[k++] = hex[c >> 4];
			dst[k++] = hex[c & 0x0f];
		}
	}
	return k;
}

/* Start an encoded-word whose first character encodes to e bytes. */
static int
ew_open(lm_buf *out, size_t *col, int first, size_t e)
{
	size_t sep = first ? 0 : 1;

	if (*col + sep + EW_OVERHEAD + e > LINEMAX) {
		if (lm_buf_add(out, "\n\t", 2) != 0)
			return -1;
		*col = 1;
	} else if (sep) {
		if (lm_buf_addc(out, ' ') != 0)
			return -1;
		*col += 1;
	}
	*col += EW_OVERHEAD - 2;
	return lm_buf_adds(out, EW_PREFIX);
}

/* One or more "=?UTF-8?Q?...?=" words for valid UTF-8 in[0..len). */
static int
phrase_ew(const char *in, size_t len, size_t col, lm_buf *out)
{
	char enc[12];
	size_t i = 0, n, e, wlen = 0;
	uint32_t c;
	int open = 0, first = 1;

	while (i < len) {
		n = lm_utf8_next(in + i, len - i, &c);
		e = q_char(in + i, n, enc);
		if (open && (wlen + e > WORDMAX || col + e + 2 > LINEMAX)) {
			if (lm_buf_add(out, "?=", 2) != 0)
				return -1;
			col += 2;
			open = 0;
		}
		if (!open) {
			if (ew_open(out, &col, first, e) != 0)
				return -1;
			open = 1;
			first = 0;
			wlen = EW_OVERHEAD;
		}
		if (lm_buf_add(out, enc, e) != 0)
			return -1;
		col += e;
		wlen += e;
		i += n;
	}
	if (!open && ew_open(out, &col, first, 0) != 0)
		return -1;		/* empty text: one empty word */
	return lm_buf_add(out, "?=", 2);
}

/* Append s[0..n) escaped for a quoted-string; *col advances. */
static int
q_segment(const char *s, size_t n, size_t *col, lm_buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((s[i] == '"' || s[i] == '\\') && lm_buf_addc(out, '\\'))
			return -1;
		if (lm_buf_addc(out, s[i]) != 0)
			return -1;
		*col += (s[i] == '"' || s[i] == '\\') ? 2 : 1;
	}
	return 0;
}

/* Escaped length of s[0..n) inside a quoted-string. */
static size_t
q_seglen(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += (s[i] == '"' || s[i] == '\\') ? 2 : 1;
	return k;
}

/*
 * A quoted-string for printable ASCII, folded ("\n" before an existing
 * space that precedes more text, so no line is only white space) where a
 * line would pass LINEMAX.  Returns 1 if some line still passes LINEMAX
 * (a run without spaces too long), 0 done, -1 overflow.
 */
static int
phrase_quoted(const char *in, size_t len, size_t col, lm_buf *out)
{
	const char *sp;
	size_t i = 0, n, need;

	if (lm_buf_addc(out, '"') != 0)
		return -1;
	col++;
	for (;;) {
		sp = memchr(in + i, ' ', len - i);
		n = sp != NULL ? (size_t)(sp - (in + i)) : len - i;
		need = q_seglen(in + i, n) + (sp == NULL ? 1 : 0);
		if (i > 0 && n > 0 && col + 1 + need > LINEMAX) {
			if (lm_buf_addc(out, '\n') != 0)
				return -1;
			col = 0;
		}
		if (i > 0 && lm_buf_addc(out, ' ') != 0)
			return -1;
		col += i > 0 ? 1 : 0;
		if (q_segment(in + i, n, &col, out) != 0)
			return -1;
		if (col + (sp == NULL ? 1 : 0) > LINEMAX)
			return 1;
		if (sp == NULL)
			break;
		i += n + 1;
	}
	return lm_buf_addc(out, '"');
}

/* 1 if in is printable ASCII, 0 if other valid text, -1 if unusable. */
static int
phrase_class(const char *in, size_t len)
{
	size_t i = 0, n;
	uint32_t c;
	int ascii = 1;

	while (i < len) {
		if ((n = lm_utf8_next(in + i, len - i, &c)) == 0 || is_ctl(c))
			return -1;
		if (c >= 0x80)
			ascii = 0;
		i += n;
	}
	return ascii;
}

int
lm_rfc2047_phrase(const char *in, size_t len, size_t col, lm_buf *out)
{
	size_t start = out->len;
	int k, r;

	if ((k = phrase_class(in, len)) < 0)
		return -1;
	if (k == 1 && (r = phrase_quoted(in, len, col, out)) <= 0) {
		if (r < 0)
			lm_buf_truncate(out, start);
		return r;
	}
	lm_buf_truncate(out, start);
	if (phrase_ew(in, len, col, out) != 0) {
		lm_buf_truncate(out, start);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sanitizing */

int
lm_sanitize_display(const char *in, size_t len, size_t maxcp, lm_buf *out)
{
	size_t i = 0, n, kept = 0, start = out->len;
	uint32_t c;
	int pend = 0, trunc = 0, r = 0;

	while (i < len && r == 0) {
		if ((n = lm_utf8_next(in + i, len - i, &c)) == 0) {
			n = 1;
			c = ' ';
		}
		i += n;
		if (c == ' ' || is_ctl(c)) {
			pend = kept > 0;
			continue;
		}
		if (maxcp != 0 && kept + (pend ? 2 : 1) > maxcp) {
			trunc = 1;
			break;
		}
		if (pend)
			r = lm_buf_addc(out, ' ');
		if (r == 0)
			r = lm_buf_add(out, in + i - n, n);
		kept += pend ? 2 : 1;
		pend = 0;
	}
	if (r == 0 && trunc)
		r = lm_buf_add(out, "...", 3);
	if (r != 0)
		lm_buf_truncate(out, start);
	return r;
}
