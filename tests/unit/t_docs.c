/*
 * t_docs - every configuration key and list option is documented, and the
 * man pages document nothing that does not exist.
 *
 * Reads $LM_SRCDIR/docs/listmilter.conf.5 (mdoc).  Configuration keys are
 * the ".It Cm Key" items of section KEYS, list options the ".It Cm name="
 * items of section LIST TABLE; each must appear with its default value
 * given as ".Pq default Ar value" or "(default: value)" somewhere in its
 * paragraph.  Also checks that listmilter.8 names every command-line
 * option, and that the commented default configuration the package
 * installs (packaging/listmilter.conf) lists every key, each commented-out
 * line "#Key value" giving the built-in default (with the Debian paths
 * /etc and /run for the sysconfdir and runstatedir).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_conf.h"
#include "lm_listtab.h"
#include "lmtest.h"

static char *
slurp(const char *dir, const char *name)
{
	char path[1024];
	lm_buf b;
	FILE *fp;
	char chunk[4096];
	size_t n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	lm_buf_init(&b, 1 << 22);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		(void)lm_buf_add(&b, chunk, n);
	fclose(fp);
	return lm_buf_steal(&b);
}

/* The paragraph of item `item` (".It Cm item" up to the next ".It"). */
static const char *
item(const char *man, const char *it, size_t *plen)
{
	char pat[128];
	const char *p, *e;

	snprintf(pat, sizeof pat, "\n.It Cm %s\n", it);
	if ((p = strstr(man, pat)) == NULL)
		return NULL;
	p += strlen(pat);
	e = strstr(p, "\n.It ");
	if (e == NULL)
		e = p + strlen(p);
	*plen = (size_t)(e - p);
	return p;
}

static int
mentions(const char *p, size_t len, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; n <= len && i + n <= len; i++)
		if (memcmp(p + i, s, n) == 0)
			return 1;
	return 0;
}

static void
check_conf(const char *man)
{
	const struct lm_confkey *k;
	const char *p;
	size_t len;

	for (k = lm_conf_keys(); k->name != NULL; k++) {
		p = item(man, k->name, &len);
		CHECK(p != NULL, "listmilter.conf.5 lacks \".It Cm %s\"",
		    k->name);
		if (p == NULL)
			continue;
		CHECK(mentions(p, len, "default"), "%s: no default stated",
		    k->name);
	}
}

static void
check_lists(const char *man)
{
	const struct lm_listkey *k;
	const char *p;
	char it[64];
	size_t len;

	for (k = lm_listtab_keys(); k->name != NULL; k++) {
		snprintf(it, sizeof it, "%s=", k->name);
		p = item(man, it, &len);
		CHECK(p != NULL, "listmilter.conf.5 lacks \".It Cm %s\"", it);
	}
}

/* Every ".It Cm X" in the man page is a key, an option, or a value. */
static void
check_no_extra(const char *man)
{
	const char *p = man;
	char name[128];
	int extra = 0;

	while ((p = strstr(p, "\n.It Cm ")) != NULL) {
		const struct lm_confkey *k;
		const struct lm_listkey *l;
		size_t n;
		int known = 0;

		p += strlen("\n.It Cm ");
		n = strcspn(p, " \n");
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, p, n);
		name[n] = '\0';
		for (k = lm_conf_keys(); k->name != NULL; k++)
			known |= strcmp(k->name, name) == 0;
		for (l = lm_listtab_keys(); l->name != NULL; l++)
			known |= strncmp(l->name, name, strlen(l->name)) == 0 &&
			    name[strlen(l->name)] == '=';
		if (!known) {
			extra++;
			fprintf(stderr, "documented but unknown: %s\n", name);
		}
	}
	CHECK(extra == 0, "%d documented items are not real keys", extra);
}

/* The "#Key value" line of `key` in the example file, or NULL. */
static const char *
example_line(const char *ex, const char *key, size_t *plen)
{
	const char *p = ex, *v;
	size_t n = strlen(key);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p += p != NULL) {
		if (*p != '#' || strncmp(p + 1, key, n) != 0 ||
		    (p[n + 1] != ' ' && p[n + 1] != '\n'))
			continue;
		for (v = p + 1 + n; *v == ' '; v++)
			;
		*plen = strcspn(v, "\n");
		return v;
	}
	return NULL;
}

static void
check_example(const char *ex)
{
	const struct lm_confkey *k;
	struct lm_config c;
	char err[256] = "", want[512];
	const char *v;
	size_t len;

	for (k = lm_conf_keys(); k->name != NULL; k++) {
		v = example_line(ex, k->name, &len);
		CHECK(v != NULL, "packaging/listmilter.conf lacks \"#%s\"",
		    k->name);
		if (v == NULL)
			continue;
		lm_strlcpy(want, k->def, sizeof want);
		if (strncmp(want, "local:@RUNSTATEDIR@", 19) == 0)
			snprintf(want, sizeof want, "local:/run%s", k->def + 19);
		if (strncmp(want, "@SYSCONFDIR@", 12) == 0)
			snprintf(want, sizeof want, "/etc%s", k->def + 12);
		CHECK(len == strlen(want) && memcmp(v, want, len) == 0,
		    "packaging/listmilter.conf: #%s %.*s, default is \"%s\"",
		    k->name, (int)len, v, want);
	}
	CHECK(lm_conf_defaults(&c, "/etc", "/run") == 0 &&
	    lm_conf_parse(&c, ex, strlen(ex), "listmilter.conf", err,
	    sizeof err) == 0,
	    "packaging/listmilter.conf parses: %s", err);
	lm_conf_free(&c);
}

static void
check_cli(const char *man8)
{
	static const char *opts[] = { "Fl c", "Fl f", "Fl n", "Fl V",
	    "SIGUSR1", "SIGTERM", NULL };
	int i;

	for (i = 0; opts[i] != NULL; i++)
		CHECK(strstr(man8, opts[i]) != NULL, "listmilter.8 lacks %s",
		    opts[i]);
}

int
main(void)
{
	const char *src = getenv("LM_SRCDIR");
	char *man5, *man8, *ex;

	if (src == NULL)
		src = ".";
	man5 = slurp(src, "docs/listmilter.conf.5");
	man8 = slurp(src, "docs/listmilter.8");
	ex = slurp(src, "packaging/listmilter.conf");
	CHECK(ex != NULL, "packaging/listmilter.conf readable");
	if (ex != NULL)
		check_example(ex);
	free(ex);
	CHECK(man5 != NULL && man8 != NULL, "man pages readable under %s/docs",
	    src);
	if (man5 != NULL) {
		check_conf(man5);
		check_lists(man5);
		check_no_extra(man5);
	}
	if (man8 != NULL)
		check_cli(man8);
	free(man5);
	free(man8);
	return LMT_DONE();
}
