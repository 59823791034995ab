/*
 * fuzz_listtab - fuzz entry point for lm_listtab: the input is parsed as
 * a list table; on success every entry must be found again through
 * lm_listtab_match() (exact entries by their own address, @domain
 * entries by a probe address), on failure the error must be a
 * "FILE:LINE: reason" string.  Then the first two words of the input
 * are looked up as an envelope local part and domain.  A violated
 * invariant aborts.
 *
 * Built with -fsanitize=fuzzer, or replayed over
 * tests/fuzz/corpus/listtab/ by tests/fuzz/fuzz_main.c.  The table and
 * the copies made here are freed before returning.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_listtab.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
need(int cond)
{
	if (!cond)
		abort();
}

static void
check_ref(const struct lm_listref *ref)
{
	need(ref->cfg != NULL && strlen(ref->addr) <= 254);
	need(strlen(ref->name) <= 200 || ref->cfg->name == NULL);
	need(ref->cfg->bounce_none ? ref->bounce[0] == '\0' :
	    strchr(ref->bounce, '@') != NULL);
}

static void
check_entry(const struct lm_listtab *t, const struct lm_list *e)
{
	struct lm_listref ref;
	const char *probe = e->local != NULL ? e->local : "fuzz.probe";

	need(e->domain != NULL && (e->name == NULL || strlen(e->name) <= 200));
	if (lm_listtab_match(t, probe, e->domain, &ref) != 1) {
		/* only an @domain entry too long for any address */
		need(e->local == NULL &&
		    strlen(probe) + 1 + strlen(e->domain) > 254);
		return;
	}
	check_ref(&ref);
	need(strcmp(ref.cfg->domain, e->domain) == 0);
	need(e->local == NULL || ref.cfg == e);
}

static void
check_table(const char *s, size_t n)
{
	struct lm_listtab *t;
	char err[256];
	size_t i;

	if (lm_listtab_parse(s, n, "fuzz", &t, err, sizeof err) != 0) {
		need(t == NULL && strncmp(err, "fuzz:", 5) == 0 &&
		    strstr(err + 5, ": ") != NULL);
		return;
	}
	for (i = 0; i < t->n; i++) {
		need(i == 0 || t->v[i - 1].line != t->v[i].line);
		check_entry(t, &t->v[i]);
	}
	lm_listtab_free(t);
}

/* Look up "LOCAL DOMAIN" taken from the first line of the input in a
   fixed table. */
static void
check_probe(const char *s, size_t n)
{
	static const char tab[] = "list@lists.example.org name=L\n"
	    "@lists.example.org\n@x bounce=none\n";
	struct lm_listtab *t;
	struct lm_listref ref;
	char *copy, *sp;

	if (lm_listtab_parse(tab, sizeof tab - 1, "t", &t, NULL, 0) != 0)
		abort();
	if ((copy = lm_strndup(s, n)) != NULL) {
		sp = strchr(copy, ' ');
		if (sp != NULL)
			*sp++ = '\0';
		if (lm_listtab_match(t, copy, sp != NULL ? sp :
		    "lists.example.org", &ref) == 1)
			check_ref(&ref);
		free(copy);
	}
	lm_listtab_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lm_listtab *t;
	char small[8];

	check_table((const char *)data, size);
	if (lm_listtab_parse((const char *)data, size, "f", &t, small,
	    sizeof small) == 0)
		lm_listtab_free(t);
	check_probe((const char *)data, size);
	return 0;
}
