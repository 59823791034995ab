/*
 * spfcheck - drive lm_spf (RFC 7208 check_host()) from the command line,
 * for tests/proto/test_spf_suite.py and by hand.
 *
 *	spfcheck [-f] [-b N] [-t SECS] [-c CONFTEXT] -n ADDR[@PORT] ...
 *
 * Reads lines "ip<TAB>helo<TAB>mailfrom" (or the three fields separated
 * by blanks when the line has no tab; "" stands for an empty field) and
 * prints one line per input: "result<TAB>domain<TAB>helo<TAB>reason",
 * where helo is 1 when the HELO identity was checked.  Logging (lm_log)
 * goes to standard error.
 *
 *	-n NS	 a Nameservers entry (repeatable); none: system resolver
 *	-c TEXT	 a listmilter.conf(5) line (e.g. "UnboundConfigFile x")
 *	-t SECS	 deadline of one check (default 5, as DNSTimeout)
 *	-f	 a fresh resolver (libunbound context and cache) per line
 *	-b N	 benchmark: run each line N times, print microseconds per
 *		 check after the result
 *
 * Ownership: everything is freed before exit, so ASan's leak checker
 * sees a clean run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lm_buf.h"
#include "lm_conf.h"
#include "lm_dns.h"
#include "lm_log.h"
#include "lm_spf.h"

struct opts {
	lm_buf	 conf;		/* listmilter.conf text */
	long	 secs;
	long	 bench;
	int	 fresh;
};

struct engine {
	struct lm_config conf;
	struct lm_dns	*dns;
	struct lm_spf	*spf;
};

static void
usage(void)
{
	fprintf(stderr, "usage: spfcheck [-f] [-b N] [-t SECS] [-c TEXT] "
	    "[-n ADDR[@PORT]] ...\n");
	exit(2);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	lm_buf ns;
	int c;

	lm_buf_init(&ns, 4096);
	o->secs = 5;
	while ((c = getopt(argc, argv, "b:c:fn:t:")) != -1) {
		switch (c) {
		case 'b':
			o->bench = strtol(optarg, NULL, 10);
			break;
		case 'c':
			lm_buf_printf(&o->conf, "%s\n", optarg);
			break;
		case 'f':
			o->fresh = 1;
			break;
		case 'n':
			lm_buf_printf(&ns, "%s%s", ns.len ? ", " : "", optarg);
			break;
		case 't':
			o->secs = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (ns.len > 0)
		lm_buf_printf(&o->conf, "Nameservers %s\n", lm_buf_cstr(&ns));
	lm_buf_free(&ns);
	return optind == argc ? 0 : -1;
}

static int
engine_start(struct engine *e, const struct opts *o)
{
	char err[512];

	memset(e, 0, sizeof *e);
	if (lm_conf_defaults(&e->conf, "/etc", "/run") != 0 ||
	    lm_conf_parse(&e->conf, lm_buf_cstr(&o->conf), o->conf.len,
	    "-c", err, sizeof err) != 0 ||
	    (e->dns = lm_dns_new(&e->conf, err, sizeof err)) == NULL ||
	    (e->spf = lm_spf_new(e->dns, err, sizeof err)) == NULL) {
		fprintf(stderr, "spfcheck: %s\n", err);
		return -1;
	}
	return 0;
}

static void
engine_stop(struct engine *e)
{
	lm_spf_free(e->spf);
	lm_dns_unref(e->dns);
	lm_conf_free(&e->conf);
	memset(e, 0, sizeof *e);
}

/* Split line into 3 fields in place; "" means empty.  0 or -1. */
static int
split(char *line, char *f[3])
{
	const char *sep = strchr(line, '\t') != NULL ? "\t" : " \t";
	char *save = NULL, *p;
	int i;

	line[strcspn(line, "\r\n")] = '\0';
	if (strchr(line, '\t') != NULL) {
		for (i = 0, p = line; i < 3; i++) {
			f[i] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
			else if (i < 2)
				return -1;
		}
	} else {
		for (i = 0, p = line; i < 3; i++, p = NULL)
			if ((f[i] = strtok_r(p, sep, &save)) == NULL)
				return -1;
	}
	for (i = 0; i < 3; i++)
		if (strcmp(f[i], "\"\"") == 0)
			f[i] = f[i] + 2;
	return 0;
}

static double
elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

static void
check_line(struct engine *e, const struct opts *o, char *f[3])
{
	struct lm_spf_result r;
	struct timespec dl, t0, t1;
	long i, n = o->bench > 0 ? o->bench : 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		lm_deadline(&dl, o->secs);
		lm_spf_check(e->spf, f[0], f[1], f[2], &dl, &r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%s\t%s\t%d\t%s", lm_spf_name(r.res), r.domain, r.helo,
	    r.reason);
	if (o->bench > 0)
		printf("\t%.2f us/check", elapsed_us(&t0, &t1) / (double)n);
	printf("\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct engine e;
	char line[4096], *f[3];
	int rc = 0;

	memset(&o, 0, sizeof o);
	lm_buf_init(&o.conf, 65536);
	lm_log_init("spfcheck", 0, LOG_MAIL);
	if (parse_opts(argc, argv, &o) != 0)
		usage();
	if (!o.fresh && engine_start(&e, &o) != 0)
		return 1;
	while (rc == 0 && fgets(line, sizeof line, stdin) != NULL) {
		if (split(line, f) != 0) {
			printf("error\t\t0\tbad input line\n");
			continue;
		}
		if (o.fresh && engine_start(&e, &o) != 0)
			rc = 1;
		else
			check_line(&e, &o, f);
		if (o.fresh)
			engine_stop(&e);
	}
	if (!o.fresh)
		engine_stop(&e);
	lm_buf_free(&o.conf);
	return rc;
}
