/*
 * t_cache - lm_cache: hits and misses, expiry, replacement, LRU eviction
 * by entry count and by bytes, refusals, and a long random run checked
 * against a plain array model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_cache.h"
#include "lmtest.h"

static int
get(struct lm_cache *c, const char *k, long long now, lm_buf *out)
{
	return lm_cache_get(c, k, strlen(k), now, out, NULL);
}

static int
put(struct lm_cache *c, const char *k, const char *v, long long exp,
    long long now)
{
	return lm_cache_put(c, k, strlen(k), v, strlen(v), exp, now);
}

static void
test_basic(void)
{
	struct lm_cache *c = lm_cache_new(4, 1024);
	struct lm_cache_stats st;
	long long exp = 0;
	lm_buf b;

	lm_buf_init(&b, 4096);
	CHECK(c != NULL, "new");
	CHECK(get(c, "a", 0, &b) == 0, "empty: miss");
	CHECK(put(c, "a", "one", 10, 0) == 0, "put");
	CHECK(lm_cache_get(c, "a", 1, 9, &b, &exp) == 1 &&
	    strcmp(lm_buf_cstr(&b), "one") == 0 && exp == 10, "hit before "
	    "expiry");
	CHECK(get(c, "a", 10, &b) == 0 && b.len == 0, "miss at expiry");
	lm_cache_stats(c, &st);
	CHECK(st.entries == 0 && st.bytes == 0 && st.expired == 1 &&
	    st.hits == 1 && st.misses == 2, "expired entry dropped: %zu %zu "
	    "%lu", st.entries, st.bytes, st.expired);
	CHECK(put(c, "a", "x", 5, 5) == 1, "already expired: refused");
	CHECK(put(c, "a", "one", 100, 0) == 0 && put(c, "a", "two", 100, 0) ==
	    0 && get(c, "a", 1, &b) == 1 && strcmp(b.s, "two") == 0,
	    "replace");
	lm_cache_stats(c, &st);
	CHECK(st.entries == 1 && st.bytes == 4, "one entry after replace");
	CHECK(lm_cache_put(c, "", 0, "", 0, 100, 0) == 0 &&
	    lm_cache_get(c, "", 0, 1, &b, NULL) == 1 && b.len == 0,
	    "empty key and value");
	CHECK(lm_cache_put(c, "a\0b", 3, "v", 1, 100, 0) == 0 &&
	    lm_cache_get(c, "a", 1, 1, &b, NULL) == 1 &&
	    strcmp(b.s, "two") == 0, "keys with NUL bytes are distinct");
	lm_cache_free(c);
	lm_buf_free(&b);
	CHECK(lm_cache_new(0, 10) == NULL && lm_cache_new(10, 0) == NULL,
	    "zero bounds refused");
}

static void
test_eviction(void)
{
	struct lm_cache *c = lm_cache_new(3, 1600);
	struct lm_cache_stats st;
	char big[200];
	lm_buf b;

	lm_buf_init(&b, 4096);
	(void)put(c, "a", "1", 100, 0);
	(void)put(c, "b", "2", 100, 0);
	(void)put(c, "c", "3", 100, 0);
	(void)get(c, "a", 1, &b);		/* a is now the newest */
	(void)put(c, "d", "4", 100, 1);		/* evicts b */
	CHECK(get(c, "b", 2, &b) == 0 && get(c, "a", 2, &b) == 1 &&
	    get(c, "c", 2, &b) == 1 && get(c, "d", 2, &b) == 1,
	    "count bound: least recently used out");
	lm_cache_stats(c, &st);
	CHECK(st.entries == 3 && st.evicted == 1, "3 entries, 1 evicted");
	lm_cache_free(c);

	c = lm_cache_new(100, 1600);		/* values up to 100 bytes */
	memset(big, 'x', sizeof big);
	CHECK(lm_cache_put(c, "k", 1, big, 101, 100, 0) == 1, "value over "
	    "max_bytes / 16 refused");
	CHECK(lm_cache_put(c, "k", 1, big, 100, 100, 0) == 0, "value at the "
	    "limit stored");
	for (int i = 0; i < 40; i++) {
		char k[8];

		snprintf(k, sizeof k, "k%d", i);
		(void)lm_cache_put(c, k, strlen(k), big, 100, 100, 0);
	}
	lm_cache_stats(c, &st);
	CHECK(st.bytes <= 1600 && st.entries == 15, "byte bound: %zu bytes "
	    "%zu entries", st.bytes, st.entries);
	CHECK(lm_cache_get(c, "k39", 3, 1, &b, NULL) == 1 &&
	    lm_cache_get(c, "k20", 3, 1, &b, NULL) == 0, "newest kept");
	lm_cache_free(c);

	c = lm_cache_new(2, 1000);		/* strictly by recency */
	(void)put(c, "old", "1", 5, 0);
	(void)put(c, "new", "2", 100, 0);
	(void)get(c, "old", 1, &b);		/* "new" is least recent */
	(void)put(c, "x", "3", 100, 6);
	lm_cache_stats(c, &st);
	CHECK(st.evicted == 1 && st.expired == 0, "room made at the tail");
	CHECK(get(c, "new", 6, &b) == 0 && get(c, "old", 6, &b) == 0 &&
	    get(c, "x", 6, &b) == 1, "tail evicted, expired one dropped on "
	    "lookup");
	lm_cache_free(c);
	lm_buf_free(&b);
}

/* Random operations against a model: a small array of (key, val, exp). */
struct model {
	int	 used;
	char	 k[8], v[16];
	long long exp;
};

static void
test_random(void)
{
	struct lm_cache *c = lm_cache_new(64, 1 << 20);
	struct model m[32];
	unsigned seed = 12345;
	long long now = 0;
	int i, bad = 0;
	lm_buf b;

	memset(m, 0, sizeof m);
	lm_buf_init(&b, 4096);
	for (i = 0; i < 200000; i++) {
		int k, r;

		seed = seed * 1103515245u + 12345u;
		k = (int)((seed >> 8) % 32);
		if ((seed >> 20) % 3 == 0) {
			snprintf(m[k].k, sizeof m[k].k, "key%d", k);
			snprintf(m[k].v, sizeof m[k].v, "v%d", i);
			m[k].exp = now + 1 + (long long)((seed >> 4) % 50);
			m[k].used = 1;
			bad += put(c, m[k].k, m[k].v, m[k].exp, now) != 0;
		} else {
			char key[8];

			snprintf(key, sizeof key, "key%d", k);
			r = get(c, key, now, &b);
			if (m[k].used && m[k].exp > now)
				bad += r != 1 || strcmp(b.s, m[k].v) != 0;
			else
				bad += r != 0;
		}
		if (i % 7 == 0)
			now++;
	}
	CHECK(bad == 0, "200000 random operations agree with the model "
	    "(%d differences)", bad);
	lm_cache_free(c);
	lm_buf_free(&b);
}

int
main(void)
{
	test_basic();
	test_eviction();
	test_random();
	return LMT_DONE();
}
