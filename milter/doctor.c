/*
 * listmilter-doctor - check that the DNS of each list domain is ready for
 * the mail listmilter rewrites (listmilter-doctor(8)).
 *
 * main(): command line, the daemon's configuration and list table
 * (lm_snap_load, so errors read "FILE:LINE: reason" exactly as for
 * listmilter -n) and its resolver (Nameservers, UnboundConfigFile,
 * TrustAnchorFile), then the checks of lm_doctor for each list, printed
 * as text lines or one JSON object (RFC 8259; strings escaped, octets
 * that are not UTF-8 replaced by U+FFFD).  lm_snap_load() also loads the
 * signing keys and refuses the whole configuration over one bad key; the
 * doctor then loads it again without them, so every list is still
 * checked and the key problems show up as dkim findings, and says on
 * standard error that the daemon would refuse to start.
 *
 * Exit status: 0 nothing failed, 1 a check failed (or the daemon would
 * refuse the configuration), 2 usage or configuration error.
 *
 * Ownership: main() owns the snapshot, the targets and the reports and
 * releases them before it returns.
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lm_buf.h"
#include "lm_doctor.h"
#include "lm_log.h"
#include "lm_state.h"

#define DOC_MAX_IPS	16
#define DOC_HYPO_LIST	"list"	/* list checked for an @domain entry */

struct doc_opts {
	const char	*conffile;
	const char	*ips[DOC_MAX_IPS];
	int		 nips;
	int		 json;
};

struct doc_run {
	struct lm_doc_target	t;
	struct lm_doc_report	r;
};

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "listmilter-doctor: %s\n", why);
	fprintf(stderr, "usage: listmilter-doctor [-c FILE] [--ip ADDR]... "
	    "[--json] [LIST-ADDRESS...]\n"
	    "  -c FILE    configuration file (default %s/listmilter.conf)\n"
	    "  --ip ADDR  an address this host sends list mail from "
	    "(repeatable)\n"
	    "  --json     print one JSON object\n", LM_SYSCONFDIR);
	exit(2);
}

static void
add_ip(struct doc_opts *o, const char *ip)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) != 1 && inet_pton(AF_INET6, ip, a) != 1)
		usage("--ip: not an IPv4 or IPv6 address");
	if (o->nips == DOC_MAX_IPS)
		usage("--ip: too many addresses");
	o->ips[o->nips++] = ip;
}

static int
parse_args(int argc, char **argv, struct doc_opts *o)
{
	static const struct option longopts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	o->conffile = LM_SYSCONFDIR "/listmilter.conf";
	while ((ch = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conffile = optarg;
			break;
		case 'i':
			add_ip(o, optarg);
			break;
		case 'j':
			o->json = 1;
			break;
		case 'V':
			printf("listmilter-doctor %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(NULL);
		}
	}
	return optind;
}

/* --- configuration -------------------------------------------------- */

#define DOC_MAX_CONF	(1024 * 1024)
#define DOC_MAX_LISTS	(64 * 1024 * 1024)

static int
parse_file(struct lm_snap *s, const char *path, int lists, char *err,
    size_t errsz)
{
	char *text;
	size_t len;
	int r;

	text = lm_read_file(path, lists ? DOC_MAX_LISTS : DOC_MAX_CONF, &len,
	    err, errsz);
	if (text == NULL)
		return -1;
	r = lists ? lm_listtab_parse(text, len, path, &s->lists, err, errsz) :
	    lm_conf_parse(&s->conf, text, len, path, err, errsz);
	free(text);
	return r;
}

/* Configuration and list table as lm_snap_load() reads them, without
   loading the signing keys (their problems are what the dkim check
   reports), then the resolver. */
static struct lm_snap *
load_nokeys(const char *file, char *err, size_t errsz)
{
	struct lm_snap *s = calloc(1, sizeof *s);

	if (s == NULL)
		return snprintf(err, errsz, "out of memory"), NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->refs = 1;
	if (lm_conf_defaults(&s->conf, LM_SYSCONFDIR, LM_RUNSTATEDIR) != 0)
		snprintf(err, errsz, "out of memory");
	else if (parse_file(s, file, 0, err, errsz) == 0 &&
	    parse_file(s, s->conf.listtable, 1, err, errsz) == 0 &&
	    lm_snap_resolvers(s, NULL, err, errsz) == 0)
		return s;
	lm_snap_release(s);
	return NULL;
}

/* The daemon's own loader first; when only the signing keys stop it,
   *refused gets its reason and the key-less snapshot is used. */
static struct lm_snap *
load(const char *file, char *refused, size_t refsz)
{
	struct lm_snap *s;
	char err[1024];

	refused[0] = '\0';
	if ((s = lm_snap_load(file, 1, NULL, refused, refsz)) != NULL)
		return s;
	if ((s = load_nokeys(file, err, sizeof err)) == NULL) {
		fprintf(stderr, "listmilter-doctor: %s\n", err);
		exit(2);
	}
	return s;
}

/* --- targets -------------------------------------------------------- */

/* SELECTOR:PATH into the target ("" = not signed). */
static void
set_key(struct lm_doc_target *t, const char *sel, const char *path)
{
	lm_strlcpy(t->selector, sel, sizeof t->selector);
	lm_strlcpy(t->keypath, path, sizeof t->keypath);
}

/* The effective signing key: sign= of the list, else SigningKey. */
static void
target_key(struct lm_doc_target *t, const struct lm_list *e,
    const struct lm_config *c)
{
	const char *colon;
	char sel[64];
	size_t n;

	if (e->sign_selector != NULL) {
		t->sign_none = e->sign_selector[0] == '\0';
		set_key(t, e->sign_selector, e->sign_key != NULL ?
		    e->sign_key : "");
		return;
	}
	if (c->signing_key == NULL ||
	    (colon = strchr(c->signing_key, ':')) == NULL)
		return;
	n = (size_t)(colon - c->signing_key);
	if (n >= sizeof sel)
		n = sizeof sel - 1;
	memcpy(sel, c->signing_key, n);
	sel[n] = '\0';
	set_key(t, sel, colon + 1);
}

/* The target for entry e and list local part `local` (shown as name). */
static void
target_of(struct lm_doc_target *t, const struct lm_list *e,
    const char *local, const char *name, const struct lm_config *c)
{
	memset(t, 0, sizeof *t);
	lm_strlcpy(t->name, name, sizeof t->name);
	lm_strlcpy(t->domain, e->domain, sizeof t->domain);
	if (e->bounce != NULL)
		lm_strlcpy(t->bounce, e->bounce, sizeof t->bounce);
	else if (!e->bounce_none)
		snprintf(t->bounce, sizeof t->bounce, "owner-%s@%s", local,
		    e->domain);
	target_key(t, e, c);
}

static void
target_entry(struct lm_doc_target *t, const struct lm_list *e,
    const struct lm_config *c)
{
	char name[320];

	if (e->local != NULL)
		snprintf(name, sizeof name, "%s@%s", e->local, e->domain);
	else
		snprintf(name, sizeof name, "@%s", e->domain);
	target_of(t, e, e->local != NULL ? e->local : DOC_HYPO_LIST, name, c);
}

/* A list named on the command line: "local@domain" (an exact entry or
   one an @domain entry covers) or "@domain".  -1 if it is none. */
static int
target_arg(struct lm_doc_target *t, const char *arg,
    const struct lm_snap *s)
{
	const struct lm_listtab *tab = s->lists;
	struct lm_listref ref;
	char local[128];
	const char *at = strrchr(arg, '@');
	size_t i, n;

	if (at == arg) {
		for (i = 0; i < tab->n; i++)
			if (tab->v[i].local == NULL &&
			    strcasecmp(tab->v[i].domain, arg + 1) == 0) {
				target_entry(t, &tab->v[i], &s->conf);
				return 0;
			}
		return -1;
	}
	if (at == NULL || (n = (size_t)(at - arg)) >= sizeof local)
		return -1;
	memcpy(local, arg, n);
	local[n] = '\0';
	if (!lm_listtab_match(tab, local, at + 1, &ref))
		return -1;
	target_of(t, ref.cfg, ref.local, ref.addr, &s->conf);
	return 0;
}

static int
by_line(const void *a, const void *b)
{
	const struct lm_list *x = *(const struct lm_list *const *)a;
	const struct lm_list *y = *(const struct lm_list *const *)b;

	return (x->line > y->line) - (x->line < y->line);
}

/* The entries of the table in the order of its lines. */
static const struct lm_list **
in_file_order(const struct lm_listtab *tab)
{
	const struct lm_list **e = calloc(tab->n + 1, sizeof *e);
	size_t i;

	if (e == NULL)
		fprintf(stderr, "listmilter-doctor: out of memory\n"), exit(2);
	for (i = 0; i < tab->n; i++)
		e[i] = &tab->v[i];
	qsort(e, tab->n, sizeof *e, by_line);
	return e;
}

/* Every list, or the named ones; exits 2 on an unknown name. */
static struct doc_run *
targets(int argc, char **argv, const struct lm_snap *s, size_t *np)
{
	const struct lm_list **e = in_file_order(s->lists);
	struct doc_run *v;
	size_t i, n = argc > 0 ? (size_t)argc : s->lists->n;

	if ((v = calloc(n + 1, sizeof *v)) == NULL)
		fprintf(stderr, "listmilter-doctor: out of memory\n"), exit(2);
	for (i = 0; i < n; i++) {
		if (argc == 0)
			target_entry(&v[i].t, e[i], &s->conf);
		else if (target_arg(&v[i].t, argv[i], s) != 0) {
			fprintf(stderr, "listmilter-doctor: %s: not a list of "
			    "%s\n", argv[i], s->conf.listtable);
			free(v);
			free(e);
			exit(2);
		}
	}
	free(e);
	*np = n;
	return v;
}

/* --- output --------------------------------------------------------- */

static void
print_text(const struct doc_run *v, size_t n)
{
	const struct lm_doc_item *it;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < v[i].r.n; j++) {
			it = &v[i].r.v[j];
			printf("%-4s  %s  %-5s  %s\n", lm_doctor_st_name(it->st),
			    v[i].t.name, it->check, it->detail);
			if (it->st != LM_DOC_OK && it->fix[0] != '\0')
				printf("  fix: %s\n", it->fix);
		}
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 4), 0 if invalid. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (p[i] < lo || p[i] > hi)
			return 0;
	return n;
}

static void
json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	putchar('"');
	while (*p != '\0') {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p++);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p++);
		else if (*p < 0x80)
			putchar(*p++);
		else if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", stdout);
			p++;
		} else {
			fwrite(p, 1, n, stdout);
			p += n;
		}
	}
	putchar('"');
}

static void
json_item(const struct lm_doc_item *it)
{
	fputs("{\"check\":", stdout);
	json_str(it->check);
	printf(",\"status\":\"%s\",\"detail\":", lm_doctor_st_name(it->st));
	json_str(it->detail);
	fputs(",\"fix\":", stdout);
	if (it->fix[0] != '\0')
		json_str(it->fix);
	else
		fputs("null", stdout);
	putchar('}');
}

static void
print_json(const struct doc_run *v, size_t n, int ok)
{
	size_t i, j;

	fputs("{\"lists\":[", stdout);
	for (i = 0; i < n; i++) {
		fputs(i > 0 ? ",{\"list\":" : "{\"list\":", stdout);
		json_str(v[i].t.name);
		fputs(",\"checks\":[", stdout);
		for (j = 0; j < v[i].r.n; j++) {
			if (j > 0)
				putchar(',');
			json_item(&v[i].r.v[j]);
		}
		fputs("]}", stdout);
	}
	printf("],\"ok\":%s}\n", ok ? "true" : "false");
}

/* --- main ----------------------------------------------------------- */

static int
run_all(const struct doc_opts *o, const struct lm_snap *s,
    struct doc_run *v, size_t n)
{
	struct lm_doc_env env = { s->dns, s->spf, s->conf.dns_timeout,
	    o->ips, o->nips };
	size_t i, j;
	int ok = 1;

	for (i = 0; i < n; i++) {
		lm_doctor_run(&env, &v[i].t, &v[i].r);
		if (v[i].r.oom)
			fprintf(stderr, "listmilter-doctor: out of memory\n"),
			    exit(1);
		for (j = 0; j < v[i].r.n; j++)
			ok &= v[i].r.v[j].st != LM_DOC_FAIL;
	}
	return ok;
}

int
main(int argc, char **argv)
{
	struct doc_opts o;
	struct doc_run *v;
	struct lm_snap *s;
	char refused[1024];
	size_t i, n;
	int first, ok;

	memset(&o, 0, sizeof o);
	first = parse_args(argc, argv, &o);
	lm_log_init("listmilter-doctor", 0, 0);
	s = load(o.conffile, refused, sizeof refused);
	v = targets(argc - first, argv + first, s, &n);
	ok = run_all(&o, s, v, n) && refused[0] == '\0';
	if (refused[0] != '\0')
		fprintf(stderr, "listmilter-doctor: listmilter refuses this "
		    "configuration: %s\n", refused);
	if (o.json)
		print_json(v, n, ok);
	else
		print_text(v, n);
	for (i = 0; i < n; i++)
		lm_doctor_free(&v[i].r);
	free(v);
	lm_snap_release(s);
	return ok ? 0 : 1;
}
