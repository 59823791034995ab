/*
 * lm_cache - a bounded cache of byte strings with expiry times, least
 * recently used first out.
 *
 * lm_dns keeps DNS answers here, so a name asked again within its TTL is
 * answered without a round trip through libunbound's worker thread
 * (RFC 1035 7.4 and RFC 2181 5.2: an answer may be used for its TTL, not
 * longer; RFC 2308 5 for negative answers).  The cache knows nothing of
 * DNS: keys and values are opaque bytes, times are the caller's
 * (seconds on a monotonic clock).
 *
 * Bounds: at most max_entries entries and max_bytes bytes of keys plus
 * values; a value larger than max_bytes / 16 is not stored.  Storing
 * evicts the least recently used entries until the new entry fits; an
 * expired entry is dropped when a lookup meets it or when it reaches the
 * tail.  Lookup and store are O(1) on average
 * (chained hash table of at least 2 * max_entries buckets, FNV-1a).
 *
 * Not thread-safe: the caller serialises access (lm_dns holds a mutex).
 * Ownership: the cache owns copies of what is stored; lm_cache_get()
 * copies the value into the caller's lm_buf.  Pure C, no globals.
 */
#ifndef LM_CACHE_H
#define LM_CACHE_H

#include <stddef.h>

#include "lm_buf.h"

struct lm_cache;

struct lm_cache_stats {
	unsigned long	 hits, misses, expired, evicted, refused;
	size_t		 entries, bytes;
};

/* NULL when out of memory or a bound is 0. */
struct lm_cache *lm_cache_new(size_t max_entries, size_t max_bytes);
void	 lm_cache_free(struct lm_cache *);

/* 1: a live entry, its value appended to out (after lm_buf_reset) and
   its expiry time in *expires (may be NULL); 0: none (an expired entry
   is dropped); -1: out could not take the value. */
int	 lm_cache_get(struct lm_cache *, const void *key, size_t klen,
	    long long now, lm_buf *out, long long *expires);

/* Store (or replace) key -> value until expires (> now).  0 stored, 1 not
   stored (already expired, or too large), -1 out of memory. */
int	 lm_cache_put(struct lm_cache *, const void *key, size_t klen,
	    const void *val, size_t vlen, long long expires, long long now);

void	 lm_cache_stats(const struct lm_cache *, struct lm_cache_stats *);

#endif
