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

#define LMT_DONE() (printf("%d passed, %d failed\n", lmt_pass, lmt_fail), \
	lmt_fail != 0)

#endif
