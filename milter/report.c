/*
 * listmilter-report - summarise listmilter's syslog lines per list, in
 * the manner of pflogsumm (listmilter-report(8)).
 *
 * main(): command line, then every file named (or standard input, also
 * for "-") read in blocks of RP_BLOCK bytes and fed to lm_report, which
 * cuts lines (each at most LM_LL_MAXLINE + 2 bytes kept), classifies them
 * with lm_logline and counts them within the bounds of lm_report.h; a
 * file that does not end in LF still ends its last line.  The summary is
 * rendered into one lm_buf and written to standard output.  No
 * libmilter, no syslog: this links common/libcommon.a only.
 *
 * Exit status: 0 done, 1 a file could not be read or the summary could
 * not be built (out of memory; the summary of what was read is still
 * printed when possible), 2 usage error.
 *
 * Ownership: main() owns the report and the output buffer and releases
 * them before it returns; -v prints each unparsed line from the
 * callback while lm_report holds it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_buf.h"
#include "lm_logline.h"
#include "lm_report.h"

#define RP_BLOCK	65536
#define RP_SHOWN	300		/* bytes of an unparsed line shown */
#define RP_OUTMAX	((size_t)1 << 30)

struct rp_opts {
	const char	*ident;
	size_t		 top, max_lists, max_domains;
	int		 json, verbose;
};

/* For -v: where the current file starts in the line count. */
struct rp_where {
	const char	*file;
	unsigned long	 base;
};

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "listmilter-report: %s\n", why);
	fprintf(stderr, "usage: listmilter-report [-v] [-n N] [--json] "
	    "[-t IDENT] [--max-lists N] [--max-domains N] [FILE...]\n"
	    "  -n N             top N author domains and status codes "
	    "(default %d)\n"
	    "  --json           print one JSON object\n"
	    "  -t IDENT         program name in the log (default listmilter)\n"
	    "  --max-lists N    lists tracked by name (default %d)\n"
	    "  --max-domains N  author domains tracked (default %d)\n"
	    "  -v               print unparsed lines on standard error\n"
	    "Reads FILEs (\"-\": standard input) or standard input; for "
	    "compressed logs: zcat FILE.gz | listmilter-report\n",
	    LM_RP_DEF_TOP, LM_RP_DEF_LISTS, LM_RP_DEF_DOMAINS);
	exit(2);
}

static size_t
number(const char *s, size_t min, size_t max, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		fprintf(stderr, "listmilter-report: %s: not a number from %zu "
		    "to %zu\n", what, min, max);
		usage(NULL);
	}
	return (size_t)v;
}

static int
parse_args(int argc, char **argv, struct rp_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "max-lists", required_argument, NULL, 'L' },
		{ "max-domains", required_argument, NULL, 'D' },
		{ "ident", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	o->ident = "listmilter";
	o->top = LM_RP_DEF_TOP;
	while ((ch = getopt_long(argc, argv, "hn:t:vV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'n':
			o->top = number(optarg, 0, LM_RP_MAX_TOP, "-n");
			break;
		case 'j':
			o->json = 1;
			break;
		case 'L':
			o->max_lists = number(optarg, 1, LM_RP_MAX_LISTS,
			    "--max-lists");
			break;
		case 'D':
			o->max_domains = number(optarg, 1, LM_RP_MAX_DOMAINS,
			    "--max-domains");
			break;
		case 't':
			if (optarg[0] == '\0' || strlen(optarg) > 64)
				usage("-t: 1 to 64 characters");
			o->ident = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'V':
			printf("listmilter-report %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(NULL);
		}
	}
	return optind;
}

/* -v: "FILE:LINE: why: text" with bytes outside printable ASCII as '?'. */
static void
show_unparsed(void *arg, unsigned long lineno, const char *line, size_t len,
    const char *why)
{
	const struct rp_where *w = arg;
	char shown[RP_SHOWN + 1];
	size_t i, n = len < RP_SHOWN ? len : RP_SHOWN;

	for (i = 0; i < n; i++)
		shown[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	shown[n] = '\0';
	fprintf(stderr, "listmilter-report: %s:%lu: unparsed (%s): %s%s\n",
	    w->file, lineno - w->base, why != NULL ? why : "?", shown,
	    len > n ? "..." : "");
}

static int
read_stream(struct lm_report *rp, FILE *fp, const char *name)
{
	char *blk = malloc(RP_BLOCK);
	size_t n;
	int r = 0;

	if (blk == NULL) {
		fprintf(stderr, "listmilter-report: out of memory\n");
		return -1;
	}
	while ((n = fread(blk, 1, RP_BLOCK, fp)) > 0)
		lm_report_feed(rp, blk, n);
	if (ferror(fp)) {
		fprintf(stderr, "listmilter-report: %s: %s\n", name,
		    strerror(errno));
		r = -1;
	}
	lm_report_finish(rp);
	free(blk);
	return r;
}

static int
read_file(struct lm_report *rp, struct rp_where *w, const char *path)
{
	FILE *fp;
	int r;

	w->file = strcmp(path, "-") == 0 ? "(stdin)" : path;
	w->base = rp->lines.read;
	if (strcmp(path, "-") == 0)
		return read_stream(rp, stdin, w->file);
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "listmilter-report: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	r = read_stream(rp, fp, path);
	fclose(fp);
	return r;
}

static int
print(const struct lm_report *rp, int json)
{
	lm_buf out;
	int r;

	lm_buf_init(&out, RP_OUTMAX);
	r = json ? lm_report_json(rp, &out) : lm_report_text(rp, &out);
	if (r != 0)
		fprintf(stderr, "listmilter-report: out of memory building "
		    "the summary\n");
	if (out.len > 0 && fwrite(out.s, 1, out.len, stdout) != out.len)
		r = -1;
	if (fflush(stdout) != 0)
		r = -1;
	lm_buf_free(&out);
	return r;
}

int
main(int argc, char **argv)
{
	struct lm_report rp;
	struct rp_where w;
	struct rp_opts o;
	int i, first, bad = 0;

	memset(&o, 0, sizeof o);
	first = parse_args(argc, argv, &o);
	if (lm_report_init(&rp, o.ident, o.max_lists, o.max_domains,
	    o.top) != 0) {
		fprintf(stderr, "listmilter-report: out of memory\n");
		return 1;
	}
	if (o.verbose) {
		rp.on_unparsed = show_unparsed;
		rp.arg = &w;
	}
	if (first == argc)
		bad |= read_file(&rp, &w, "-") != 0;
	for (i = first; i < argc; i++)
		bad |= read_file(&rp, &w, argv[i]) != 0;
	bad |= print(&rp, o.json) != 0;
	lm_report_free(&rp);
	return bad ? 1 : 0;
}
