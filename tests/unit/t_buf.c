/*
 * t_buf - lm_buf bounds and helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lmtest.h"

int
main(void)
{
	lm_buf b;
	char small[4];
	char *s;

	lm_buf_init(&b, 8);
	CHECK(strcmp(lm_buf_cstr(&b), "") == 0, "empty buffer is \"\"");
	CHECK(lm_buf_adds(&b, "abcd") == 0 && b.len == 4, "add within max");
	CHECK(lm_buf_adds(&b, "efghi") == -1 && b.len == 4 &&
	    strcmp(b.s, "abcd") == 0, "add past max refused, contents kept");
	CHECK(lm_buf_printf(&b, "%d", 1234) == 0 &&
	    strcmp(b.s, "abcd1234") == 0, "printf up to max");
	CHECK(lm_buf_addc(&b, 'x') == -1, "addc at max refused");
	lm_buf_truncate(&b, 2);
	CHECK(strcmp(b.s, "ab") == 0, "truncate");
	s = lm_buf_steal(&b);
	CHECK(strcmp(s, "ab") == 0 && b.s == NULL && b.len == 0, "steal");
	free(s);
	lm_buf_free(&b);
	lm_buf_init(&b, (size_t)-1);
	CHECK(lm_buf_add(&b, "x", (size_t)-1) == -1, "overflowing size refused");
	lm_buf_free(&b);
	CHECK(lm_strlcpy(small, "abcdef", sizeof small) == 6 &&
	    strcmp(small, "abc") == 0, "strlcpy truncates");
	CHECK(lm_strcaseeq("LiSt", 4, "list", 4) && !lm_strcaseeq("list", 4,
	    "lis", 3), "strcaseeq");
	return LMT_DONE();
}
