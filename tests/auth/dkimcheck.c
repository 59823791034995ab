/*
 * dkimcheck - verify the DKIM signatures (RFC 6376, RFC 8463) of one
 * message file with lm_dkim, against the DNS data of an unbound.conf
 * (test driver for tests/proto/test_dkim_vectors.py).
 *
 *     dkimcheck [-u unbound.conf] [-t seconds] [-n loops] message
 *
 * The file (LF or CRLF line ends) is handed over as the milter would:
 * header fields one at a time, name and value split at the first colon,
 * the value with its leading white space and LF-only folds (RFC 5322
 * 2.2.3; SMFIP_HDR_LEADSPC), then the body in CRLF, in 64 KiB chunks.
 * -u gives UnboundConfigFile through a struct lm_config (lm_dns reads it
 * with ub_ctx_config); -t the message deadline (default 10 s); -n
 * repeats the verification that many times after one warm-up run and
 * prints the mean time per message.
 *
 * Output, one line per signature reported, then a summary:
 *     sig d=D s=S a=ALGO result=R bits=N l=0|1 h=H error=TEXT
 *     signatures N fields M elapsed_ms T
 *     timing N messages X us/message          (with -n)
 * Exit status 0 when the message was verified (whatever the results), 1
 * on set-up errors (msg_fatal), 2 on usage errors.
 *
 * Ownership: everything belongs to main() and is freed before exit, so
 * ASan's leak check covers lm_dkim too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lm_buf.h"
#include "lm_conf.h"
#include "lm_dkim.h"
#include "lm_dns.h"
#include "lm_log.h"

#define MAXFILE		(32 * 1024 * 1024)
#define MAXFIELDS	4096
#define CHUNK		65536

struct field {
	char	*name;
	char	*value;
	size_t	 vlen;
};

struct msg {
	struct field f[MAXFIELDS];
	int	 nf;
	int	 nsigfields;
	lm_buf	 body;		/* CRLF */
};

static void
usage(void)
{
	fprintf(stderr, "usage: dkimcheck [-u unbound.conf] [-t seconds] "
	    "[-n loops] message\n");
	exit(2);
}

static int
read_file(const char *path, lm_buf *b)
{
	char tmp[65536];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
		if (lm_buf_add(b, tmp, n) != 0) {
			fclose(fp);
			errno = EFBIG;
			return -1;
		}
	fclose(fp);
	return 0;
}

/* Next line of [p, end) without its LF and a CR before it. */
static const char *
next_line(const char *p, const char *end, size_t *len)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	const char *e = lf != NULL ? lf : end;

	*len = (size_t)(e - p);
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	return lf != NULL ? lf + 1 : end;
}

static int
add_field(struct msg *m, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	struct field *f;

	if (colon == NULL || colon == line || m->nf >= MAXFIELDS)
		return -1;
	f = &m->f[m->nf++];
	f->name = lm_strndup(line, (size_t)(colon - line));
	f->vlen = len - (size_t)(colon + 1 - line);
	f->value = lm_strndup(colon + 1, f->vlen);
	if (f->name == NULL || f->value == NULL)
		msg_fatal("out of memory");
	if (strcasecmp(f->name, "DKIM-Signature") == 0)
		m->nsigfields++;
	return 0;
}

/* A continuation line: append "\n" + line (an LF-only fold). */
static void
fold_into(struct field *f, const char *line, size_t len)
{
	char *v = malloc(f->vlen + 1 + len + 1);

	if (v == NULL)
		msg_fatal("out of memory");
	memcpy(v, f->value, f->vlen);
	v[f->vlen] = '\n';
	memcpy(v + f->vlen + 1, line, len);
	f->vlen += 1 + len;
	v[f->vlen] = '\0';
	free(f->value);
	f->value = v;
}

/* The body from p on, every line ended by CRLF. */
static void
take_body(struct msg *m, const char *p, const char *end)
{
	size_t len;

	lm_buf_init(&m->body, MAXFILE * 2);
	while (p < end) {
		const char *line = p;

		p = next_line(p, end, &len);
		if (lm_buf_add(&m->body, line, len) != 0 ||
		    (p[-1] == '\n' && lm_buf_add(&m->body, "\r\n", 2) != 0))
			msg_fatal("body too large");
	}
}

static void
parse(struct msg *m, const lm_buf *file)
{
	const char *p = file->s, *end = file->s + file->len, *line;
	size_t len;

	while (p < end) {
		line = p;
		p = next_line(p, end, &len);
		if (len == 0)
			break;
		if ((line[0] == ' ' || line[0] == '\t') && m->nf > 0)
			fold_into(&m->f[m->nf - 1], line, len);
		else if (add_field(m, line, len) != 0)
			msg_warn("skipped header line: %.40s", line);
	}
	take_body(m, p, end);
}

static void
msg_free(struct msg *m)
{
	int i;

	for (i = 0; i < m->nf; i++) {
		free(m->f[i].name);
		free(m->f[i].value);
	}
	lm_buf_free(&m->body);
}

static void
deadline_after(struct timespec *ts, double secs)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)secs;
	ts->tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
feed_body(struct lm_dkim_ver *v, const lm_buf *body)
{
	size_t off, n;

	for (off = 0; off < body->len; off += n) {
		n = body->len - off < CHUNK ? body->len - off : CHUNK;
		if (lm_dkim_body(v, (const unsigned char *)body->s + off,
		    n) != 0)
			msg_fatal("lm_dkim_body failed");
	}
}

/* One verification; returns the number of results. */
static int
verify(struct lm_dkim *k, const struct msg *m, double secs,
    struct lm_dkim_sig *out)
{
	struct lm_dkim_ver *v;
	struct timespec dl;
	int i, n, r;

	deadline_after(&dl, secs);
	if ((v = lm_dkim_ver_new(k, "dkimcheck", &dl)) == NULL)
		msg_fatal("lm_dkim_ver_new failed");
	for (i = 0; i < m->nf; i++)
		if (lm_dkim_header(v, m->f[i].name, m->f[i].value,
		    m->f[i].vlen) != 0)
			msg_warn("header %s not used", m->f[i].name);
	if ((r = lm_dkim_eoh(v)) < 0)
		msg_fatal("lm_dkim_eoh failed");
	if (r == 0)
		feed_body(v, &m->body);
	if ((n = lm_dkim_eom(v, out, LM_DKIM_MAXSIGS)) < 0)
		msg_fatal("lm_dkim_eom failed");
	lm_dkim_ver_free(v);
	return n;
}

static void
print_sig(const struct lm_dkim_sig *s)
{
	printf("sig d=%s s=%s a=%s result=%s bits=%d l=%d h=%s error=%s\n",
	    s->domain[0] ? s->domain : "-", s->selector[0] ? s->selector : "-",
	    s->algo[0] ? s->algo : "-", lm_dkim_name(s->res), s->keybits,
	    s->l_tag, s->hdrs[0] ? s->hdrs : "-", s->error);
}

static void
timing(struct lm_dkim *k, const struct msg *m, double secs, long loops,
    struct lm_dkim_sig *out)
{
	double t0;
	long i;

	(void)verify(k, m, secs, out);		/* warm the cache */
	t0 = now_ms();
	for (i = 0; i < loops; i++)
		(void)verify(k, m, secs, out);
	printf("timing %ld messages %.1f us/message\n", loops,
	    (now_ms() - t0) * 1e3 / (double)loops);
}

static struct lm_dkim *
setup(const char *ubconf, struct lm_dns **dns)
{
	struct lm_config c;
	struct lm_dkim *k;
	char err[256];

	if (lm_conf_defaults(&c, "/etc", "/run") != 0)
		msg_fatal("out of memory");
	if (ubconf != NULL) {
		free(c.unbound_conf);
		if ((c.unbound_conf = lm_strndup(ubconf,
		    strlen(ubconf))) == NULL)
			msg_fatal("out of memory");
	}
	*dns = lm_dns_new(&c, err, sizeof err);
	lm_conf_free(&c);
	if (*dns == NULL)
		msg_fatal("resolver: %s", err);
	if ((k = lm_dkim_new(*dns, err, sizeof err)) == NULL)
		msg_fatal("lm_dkim: %s", err);
	return k;
}

struct opts {
	const char *ubconf;	/* -u */
	double	 secs;		/* -t */
	long	 loops;		/* -n */
	const char *path;
};

static void
get_opts(int argc, char **argv, struct opts *o)
{
	int ch;

	o->ubconf = NULL;
	o->secs = 10;
	o->loops = 0;
	while ((ch = getopt(argc, argv, "u:t:n:")) != -1) {
		switch (ch) {
		case 'u': o->ubconf = optarg; break;
		case 't': o->secs = strtod(optarg, NULL); break;
		case 'n': o->loops = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (argc - optind != 1 || o->secs <= 0 || o->loops < 0)
		usage();
	o->path = argv[optind];
}

static struct msg *
load(const char *path)
{
	struct msg *m;
	lm_buf file;

	lm_buf_init(&file, MAXFILE);
	errno = 0;
	if (read_file(path, &file) != 0 || file.len == 0)
		msg_fatal("%s: %s", path, errno != 0 ? strerror(errno) :
		    "empty");
	if ((m = calloc(1, sizeof *m)) == NULL)
		msg_fatal("out of memory");
	parse(m, &file);
	lm_buf_free(&file);
	return m;
}

int
main(int argc, char **argv)
{
	struct lm_dkim_sig out[LM_DKIM_MAXSIGS];
	struct lm_dkim *k;
	struct lm_dns *dns;
	struct opts o;
	struct msg *m;
	double t0;
	int i, n;

	lm_log_init("dkimcheck", 0, 0);
	get_opts(argc, argv, &o);
	m = load(o.path);
	k = setup(o.ubconf, &dns);
	t0 = now_ms();
	n = verify(k, m, o.secs, out);
	t0 = now_ms() - t0;
	for (i = 0; i < n; i++)
		print_sig(&out[i]);
	printf("signatures %d fields %d elapsed_ms %.1f\n", n, m->nsigfields,
	    t0);
	if (o.loops > 0)
		timing(k, m, o.secs, o.loops, out);
	lm_dkim_free(k);
	lm_dns_unref(dns);
	msg_free(m);
	free(m);
	return 0;
}
