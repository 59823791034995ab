/*
 * lm_cache - bounded LRU cache with expiry (see lm_cache.h).
 *
 * Entries are one allocation each: the header, then the key bytes, then
 * the value bytes.  They sit in a bucket chain (hash table) and in one
 * doubly linked recency list (head: most recently used).
 *
 * Ownership: struct lm_cache owns its buckets and entries.  Pure C, no
 * globals.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_cache.h"

struct ent {
	struct ent	*next;			/* bucket chain */
	struct ent	*newer, *older;		/* recency list */
	uint32_t	 hash;
	size_t		 klen, vlen;
	long long	 expires;
	unsigned char	 data[];		/* key, then value */
};

struct lm_cache {
	struct ent	**bucket;
	size_t		 nbucket;		/* a power of 2 */
	struct ent	*newest, *oldest;
	size_t		 max_entries, max_bytes, max_value;
	struct lm_cache_stats st;
};

static uint32_t
fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}

struct lm_cache *
lm_cache_new(size_t max_entries, size_t max_bytes)
{
	struct lm_cache *c;
	size_t n = 16;

	if (max_entries == 0 || max_bytes == 0 || max_entries > SIZE_MAX / 8)
		return NULL;
	while (n < 2 * max_entries)
		n *= 2;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	if ((c->bucket = calloc(n, sizeof *c->bucket)) == NULL) {
		free(c);
		return NULL;
	}
	c->nbucket = n;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	c->max_value = max_bytes / 16 > 0 ? max_bytes / 16 : 1;
	return c;
}

static size_t
ent_bytes(const struct ent *e)
{
	return e->klen + e->vlen;
}

static void
list_unlink(struct lm_cache *c, struct ent *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void
list_push(struct lm_cache *c, struct ent *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest != NULL)
		c->newest->newer = e;
	c->newest = e;
	if (c->oldest == NULL)
		c->oldest = e;
}

/* The bucket slot that points at the entry for key (or at NULL). */
static struct ent **
slot(struct lm_cache *c, const void *key, size_t klen, uint32_t h)
{
	struct ent **pp = &c->bucket[h & (c->nbucket - 1)];

	while (*pp != NULL && ((*pp)->hash != h || (*pp)->klen != klen ||
	    memcmp((*pp)->data, key, klen) != 0))
		pp = &(*pp)->next;
	return pp;
}

static void
drop(struct lm_cache *c, struct ent *e)
{
	struct ent **pp = slot(c, e->data, e->klen, e->hash);

	*pp = e->next;
	list_unlink(c, e);
	c->st.entries--;
	c->st.bytes -= ent_bytes(e);
	free(e);
}

void
lm_cache_free(struct lm_cache *c)
{
	if (c == NULL)
		return;
	while (c->oldest != NULL)
		drop(c, c->oldest);
	free(c->bucket);
	free(c);
}

int
lm_cache_get(struct lm_cache *c, const void *key, size_t klen, long long now,
    lm_buf *out, long long *expires)
{
	uint32_t h = fnv1a(key, klen);
	struct ent *e = *slot(c, key, klen, h);

	lm_buf_reset(out);
	if (e != NULL && e->expires <= now) {
		drop(c, e);
		c->st.expired++;
		e = NULL;
	}
	if (e == NULL) {
		c->st.misses++;
		return 0;
	}
	if (lm_buf_add(out, e->data + e->klen, e->vlen) != 0)
		return -1;
	list_unlink(c, e);
	list_push(c, e);
	if (expires != NULL)
		*expires = e->expires;
	c->st.hits++;
	return 1;
}

/* Make room for one more entry of n bytes. */
static void
make_room(struct lm_cache *c, size_t n, long long now)
{
	struct ent *e, *older;

	for (e = c->oldest; e != NULL && (c->st.entries >= c->max_entries ||
	    c->st.bytes + n > c->max_bytes); e = older) {
		older = e->newer;
		if (e->expires <= now)
			c->st.expired++;
		else
			c->st.evicted++;
		drop(c, e);
	}
}

int
lm_cache_put(struct lm_cache *c, const void *key, size_t klen,
    const void *val, size_t vlen, long long expires, long long now)
{
	uint32_t h = fnv1a(key, klen);
	struct ent *e, *old;

	if (expires <= now || vlen > c->max_value || klen > c->max_value) {
		c->st.refused++;
		return 1;
	}
	if ((old = *slot(c, key, klen, h)) != NULL)
		drop(c, old);
	make_room(c, klen + vlen, now);
	if ((e = malloc(sizeof *e + klen + vlen)) == NULL)
		return -1;
	e->hash = h;
	e->klen = klen;
	e->vlen = vlen;
	e->expires = expires;
	memcpy(e->data, key, klen);
	if (vlen > 0)
		memcpy(e->data + klen, val, vlen);
	e->next = c->bucket[h & (c->nbucket - 1)];
	c->bucket[h & (c->nbucket - 1)] = e;
	list_push(c, e);
	c->st.entries++;
	c->st.bytes += klen + vlen;
	return 0;
}

void
lm_cache_stats(const struct lm_cache *c, struct lm_cache_stats *st)
{
	*st = c->st;
}
