/*
 * fuzz_dsn - fuzz entry point for lm_dsn: the input is split at its
 * first NUL or 0xff byte into a Content-Type value and a body (no
 * separator: all of it is the Content-Type, the body is empty), parsed
 * by lm_dsn_parse(), and the body is parsed once more under a fixed
 * "multipart/report; report-type=delivery-status; boundary=B1" so that
 * mutated bodies reach the MIME and RFC 3464 field code.  The results
 * are checked against the contract of lm_dsn.h; a violation aborts:
 *  - the return value is -1, 0 or 1 and is_dsn, n and more agree with it;
 *  - n <= LM_DSN_MAXRCPT, and more > 0 only when r[] is full;
 *  - every string is NUL-terminated inside its array, holds no byte
 *    below 0x20 and no DEL, is valid UTF-8, and has no leading,
 *    trailing or doubled space;
 *  - action is "" or one of the five action values, status "" or a
 *    d.d{1,3}.d{1,3} code of class 2, 4 or 5;
 *  - a second parse of the same input gives the same result.
 *
 * Built with -fsanitize=fuzzer, or replayed over tests/fuzz/corpus/dsn/
 * by tests/fuzz/fuzz_main.c.  The input belongs to the caller; the two
 * result structures are allocated and freed here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_dsn.h"
#include "lm_rfc2047.h"

#define FIXED_CT	"multipart/report; report-type=delivery-status; " \
			"boundary=B1"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
need(int cond)
{
	if (!cond)
		abort();
}

/* Length of the UTF-8 sequence at s, or 0 if it is not well-formed or
   a C1 control (which the parser must have replaced). */
static size_t
utf8_len(const char *s, size_t n)
{
	uint32_t cp;
	size_t k = lm_utf8_next(s, n, &cp);

	return k != 0 && !(cp >= 0x80 && cp <= 0x9f) ? k : 0;
}

static void
check_str(const char *s, size_t sz)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, i, k;

	need(memchr(s, '\0', sz) != NULL);
	n = strlen(s);
	need(n == 0 || (s[0] != ' ' && s[n - 1] != ' '));
	for (i = 0; i < n; i += k) {
		need(u[i] >= 0x20 && u[i] != 0x7f);
		need(!(u[i] == ' ' && i + 1 < n && u[i + 1] == ' '));
		need((k = utf8_len(s + i, n - i)) != 0);
	}
}

static int
digits(const char *s, size_t *k)
{
	size_t d = 0;

	while (s[*k] >= '0' && s[*k] <= '9') {
		(*k)++;
		d++;
	}
	return d >= 1 && d <= 3;
}

static void
check_rcpt(const struct lm_dsn_rcpt *r)
{
	static const char *const act[] = { "", "failed", "delayed",
	    "delivered", "relayed", "expanded" };
	size_t i, k = 2;
	int ok = 0;

	check_str(r->final_rcpt, sizeof r->final_rcpt);
	check_str(r->orig_rcpt, sizeof r->orig_rcpt);
	check_str(r->action, sizeof r->action);
	check_str(r->status, sizeof r->status);
	check_str(r->remote_mta, sizeof r->remote_mta);
	check_str(r->diag, sizeof r->diag);
	for (i = 0; i < sizeof act / sizeof act[0]; i++)
		ok |= strcmp(r->action, act[i]) == 0;
	need(ok);
	if (r->status[0] == '\0')
		return;
	need(strchr("245", r->status[0]) != NULL && r->status[1] == '.');
	need(digits(r->status, &k) && r->status[k++] == '.');
	need(digits(r->status, &k) && r->status[k] == '\0');
}

static void
check(const struct lm_dsn *d, int ret)
{
	size_t i;

	need(ret == -1 || ret == 0 || ret == 1);
	need(d->is_dsn == (ret != 1));
	need(d->n <= LM_DSN_MAXRCPT);
	need(d->more == 0 || d->n == LM_DSN_MAXRCPT);
	need(ret == 0 ? d->n >= 1 : d->n == 0 && d->more == 0);
	check_str(d->reporting_mta, sizeof d->reporting_mta);
	check_str(d->orig_envid, sizeof d->orig_envid);
	for (i = 0; i < LM_DSN_MAXRCPT; i++)
		check_rcpt(&d->r[i]);
}

static void
run(const char *ct, size_t ctlen, const char *body, size_t blen,
    struct lm_dsn *a, struct lm_dsn *b)
{
	int ra, rb;

	ra = lm_dsn_parse(ct, ctlen, body, blen, a);
	check(a, ra);
	rb = lm_dsn_parse(ct, ctlen, body, blen, b);
	need(ra == rb && memcmp(a, b, sizeof *a) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct lm_dsn *a, *b;
	size_t i;

	for (i = 0; i < size && data[i] != 0 && data[i] != 0xff; i++)
		;
	/* calloc: padding bytes compare equal in the memcmp above */
	if ((a = calloc(1, sizeof *a)) == NULL ||
	    (b = calloc(1, sizeof *b)) == NULL) {
		free(a);
		return 0;
	}
	run(s, i, i < size ? s + i + 1 : NULL, i < size ? size - i - 1 : 0,
	    a, b);
	run(FIXED_CT, strlen(FIXED_CT), i < size ? s + i + 1 : s,
	    i < size ? size - i - 1 : size, a, b);
	free(a);
	free(b);
	return 0;
}
