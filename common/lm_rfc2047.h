/*
 * lm_rfc2047 - MIME encoded-words (RFC 2047) for display names.
 *
 * Decoding: RFC 2047 sections 2-6 for "phrase" text: encoded-words
 * "=?charset[*lang]?B|Q?text?=" (RFC 2231 language suffix tolerated),
 * whitespace between two adjacent encoded-words dropped (section 6.2).
 * Charsets decoded to UTF-8: us-ascii, utf-8, iso-8859-1, latin1,
 * windows-1252 (cp1252), iso-8859-15.  An encoded-word in another charset,
 * or one that is malformed, is left as its literal text.  Invalid UTF-8
 * or a NUL produced by a word is replaced by U+FFFD.  B text may omit its
 * "=" padding; wrong padding makes the word malformed.
 *
 * Encoding: lm_rfc2047_phrase() produces a display-name phrase ready for a
 * header (RFC 5322 3.2.5 phrase): a quoted-string when the text is
 * printable ASCII (with '"' and '\' escaped), else one or more
 * "=?UTF-8?Q?...?=" encoded-words of at most 75 characters each (section
 * 2), never splitting a UTF-8 sequence (section 5(3)), separated by a
 * folding "\n\t" whenever the line would otherwise pass 76 characters.
 *
 * lm_sanitize_display() removes what must never be re-emitted from an
 * attacker-chosen name: CR, LF and all C0/C1 controls, DEL, U+2028,
 * U+2029, U+0085, invalid UTF-8 (each becomes a space), collapses runs of
 * whitespace, trims, and truncates to a maximum number of code points.
 *
 * Pure, bounded (output buffers are lm_buf with a maximum), no globals.
 */
#ifndef LM_RFC2047_H
#define LM_RFC2047_H

#include <stddef.h>
#include <stdint.h>

#include "lm_buf.h"

/* Decode `in` (phrase or unstructured text) into UTF-8, appending to out.
   Returns 0, or -1 if out's maximum is reached / memory is exhausted. */
int	 lm_rfc2047_decode(const char *in, size_t len, lm_buf *out);

/* Append a header-safe phrase for UTF-8 `in` to out.  `col` is the column
   the phrase starts at, used for folding.  The input must already be
   sanitized (no CR/LF/controls); returns -1 on overflow or if `in`
   contains a control character.  Printable ASCII that cannot be folded
   into lines of at most 76 characters (a run without spaces that is too
   long) is emitted as encoded-words instead of a quoted-string.  When
   col leaves no room for the first word, the phrase starts with "\n\t". */
int	 lm_rfc2047_phrase(const char *in, size_t len, size_t col, lm_buf *out);

/* Sanitize UTF-8 display text in place semantics: writes to out.
   maxcp: maximum code points kept (an ellipsis "..." marks truncation
   and is appended after them; 0 means no limit).  Returns 0, or -1 on
   overflow of out. */
int	 lm_sanitize_display(const char *in, size_t len, size_t maxcp,
	    lm_buf *out);

/* 1 if `s` is valid UTF-8 without NUL, else 0. */
int	 lm_utf8_valid(const char *s, size_t len);

/* Added for lm_addr: decode `in` only if all of it is one encoded-word in
   a known charset (a whole atom of a phrase, section 5(3)): append its
   UTF-8 text to out and return 1; return 0, out untouched, if it is not;
   -1 on overflow. */
int	 lm_rfc2047_word(const char *in, size_t len, lm_buf *out);

/* Added: the UTF-8 sequence at s (RFC 3629): its length 1..4 with *cp
   set, or 0 if len is 0 or the bytes are invalid (overlong, surrogate,
   above U+10FFFF, truncated).  NUL counts as a valid 1-byte sequence. */
size_t	 lm_utf8_next(const char *s, size_t len, uint32_t *cp);

#endif
