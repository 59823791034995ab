/*
 * lmtest.h - the smallest possible table-test harness for the unit tests.
 *
 * Each CHECK() is one test case: it counts as passed or failed, and a
 * failure prints file:line and a message on stderr.  LMT_DONE() prints
 * the closing "N passed, M failed" line that tests/run-tests.sh sums, and
 * yields the exit status.  Header-only on purpose (one per test binary).
 */
#ifndef LMTEST_H
#define LMTEST_H

#include <stdio.h>
#include <string.h>

static int lmt_pass, lmt_fail;

#define CHECK(cond, ...) do {						\
	if (cond)							\
		lmt_pass++;						\
	else {								\
		lmt_fail++;						\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

/* s[0..n) with non-printable bytes as \xNN (and "..." when cut), for
   failure messages. */
static const char *lmt_esc(const char *, size_t, char *, size_t)
    __attribute__((unused));

static const char *
lmt_esc(const char *s, size_t n, char *buf, size_t sz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, k = 0;

	for (i = 0; i < n && k + 5 < sz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[k++] = (char)c;
		else {
			buf[k++] = '\\';
			buf[k++] = 'x';
			buf[k++] = hex[c >> 4];
			buf[k++] = hex[c & 15];
		}
	}
	if (i < n && k + 3 < sz) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}

#define LMT_DONE() (printf("%d passed, %d failed\n", lmt_pass, lmt_fail), \
	lmt_fail != 0)

#endif
