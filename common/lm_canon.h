/*
 * lm_canon - DKIM "relaxed" canonicalization (RFC 6376 3.4.2, 3.4.4).
 *
 * Header: the field name lower-cased, folds removed (every CRLF or bare
 * LF deleted, RFC 6376 3.4.2 "unfold"), runs of WSP made one SP, WSP at
 * the end of the value, before and after the colon removed, then CRLF.
 * Body: per line, WSP runs made one SP and WSP at the end removed; empty
 * lines at the end removed; a non-empty body ends with CRLF, an empty
 * one stays empty.  Lines end at LF (a CR before it is part of the line
 * end), so a bare-LF body is read as the CRLF body the MTA delivers.
 *
 * The whole input is in memory (not streaming).  Ownership: output is
 * appended to the caller's lm_buf; 0, or -1 when it would exceed its
 * maximum.  Pure, no globals, no crypto.
 */
#ifndef LM_CANON_H
#define LM_CANON_H

#include <stddef.h>

#include "lm_buf.h"

/* name and value (what follows the colon, folds and all) */
int	 lm_canon_header(lm_buf *out, const char *name, const char *value,
	    size_t vlen);
/* a whole "Name:value" field (no colon: all of it is the name) */
int	 lm_canon_field(lm_buf *out, const char *field, size_t len);
int	 lm_canon_body(lm_buf *out, const char *body, size_t len);

#endif
