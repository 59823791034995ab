/*
 * lm_buf - the one explicit-length string type of listmilter.
 *
 * A growable byte buffer in the style of curl's dynbuf: it always keeps a
 * terminating NUL after the data (so b->s can be used as a C string when
 * the data holds no NUL), and refuses to grow beyond the maximum given to
 * lm_buf_init(), which bounds every string built from untrusted input.
 *
 * Ownership: the lm_buf owns b->s; lm_buf_free() releases it.  All adders
 * return 0 on success and -1 when memory is exhausted or the maximum would
 * be exceeded; after a failure the buffer keeps its earlier contents.
 * Pure C, no globals.
 */
#ifndef LM_BUF_H
#define LM_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct lm_buf {
	char	*s;		/* data, NUL-terminated; NULL until first add */
	size_t	 len;		/* bytes of data, excluding the NUL */
	size_t	 cap;		/* allocated bytes */
	size_t	 max;		/* hard limit on len */
} lm_buf;

void	 lm_buf_init(lm_buf *, size_t max);
void	 lm_buf_free(lm_buf *);
void	 lm_buf_reset(lm_buf *);		/* len = 0, keeps memory */
int	 lm_buf_add(lm_buf *, const void *, size_t);
int	 lm_buf_adds(lm_buf *, const char *);
int	 lm_buf_addc(lm_buf *, int);
int	 lm_buf_printf(lm_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 lm_buf_vprintf(lm_buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
const char *lm_buf_cstr(const lm_buf *);	/* "" when empty */
char	*lm_buf_steal(lm_buf *);		/* caller frees; buffer reset */
void	 lm_buf_truncate(lm_buf *, size_t);

/* Small helpers on plain strings, bounded. */
char	*lm_strndup(const char *, size_t);
void	 lm_lower(char *, size_t);		/* ASCII only */
int	 lm_strcaseeq(const char *, size_t, const char *, size_t);
size_t	 lm_strlcpy(char *, const char *, size_t);
int	 lm_hexval(int);	/* '0'-'9', 'a'-'f', 'A'-'F' -> 0..15, else -1 */
int	 lm_b64val(int);	/* RFC 4648 base64 alphabet -> 0..63, else -1 */

#endif
