/*
 * milterbench - a milter-protocol load driver that talks to a filter the
 * way Postfix 3.7 does (src/milter/milter8.c), for tests/bench.
 *
 * Protocol version 6.  OPTNEG offers actions 0x1ff and protocol 0x1fffff
 * (Postfix's MILTER8_V6_PROTO_MASK); macro lists the filter returns with
 * SMFIR_SETSYMLIST replace the defaults of that stage.  Then per SMTP
 * connection CONNECT and HELO, and per message MAIL, RCPT..., DATA, the
 * header fields, EOH, body chunks of at most 65,535 bytes, end of message,
 * and SMFIC_ABORT after the transaction (smtpd's mail_reset()); QUIT at
 * the end of the connection.
 *
 * Like milter8.c:
 *  - SMFIC_MACRO goes before every event with the values of the stage's
 *    list (connect: j {daemon_name} {daemon_addr} v _ plus {client_addr};
 *    mail: i {auth_*} {mail_addr} {mail_host} {mail_mailer}; rcpt: i
 *    {rcpt_addr} {rcpt_host} {rcpt_mailer}; data, eoh, headers, body and
 *    eom: i).  `i` has a value only from the second RCPT on, as over SMTP
 *    (the queue file is opened at the first accepted recipient);
 *  - events the filter negotiated away (SMFIP_NOCONNECT, NOHELO, NOMAIL,
 *    NORCPT, NODATA: their macros still go out; NOHDRS, NOEOH, NOBODY:
 *    nothing at all) are not sent; SMFIP_NR_* events get no reply awaited;
 *  - writes are buffered (VSTREAM, 4096 bytes) and flushed before waiting
 *    for a reply, so no-reply events travel together with the next one;
 *  - SMFIR_ACCEPT/DISCARD/REJECT/TEMPFAIL/REPLYCODE end the message (no
 *    more events for it), a reject at RCPT only refuses that recipient,
 *    SMFIR_SKIP stops the body chunks; modification requests and
 *    SMFIR_PROGRESS are read before the final reply to end of message.
 *
 * Usage:
 *   milterbench -s unix:/path [-c CONNS] [-n MSGS] [-m PER_CONN] [-w WARM]
 *               [-f FILE.eml]... [-F sender] [-r rcpt]... [-a client_ip]
 *               [-L label] [-P pid -S every] [-v]
 *   milterbench -s unix:/path -I N [-P pid]      (idle connections)
 *
 *   -c  concurrent connections (one thread each), default 1
 *   -n  timed messages in total, default 1000
 *   -m  messages per milter connection, default 100 (1 = what Postfix
 *       does for a single-message SMTP session)
 *   -w  untimed warm-up messages per thread before the timed part
 *   -f  message file(s), used round robin; default a small built-in one
 *   -P/-S  sample VmRSS and Threads of process PID every S messages
 *   -I  open N connections (OPTNEG + CONNECT), hold them, print the RSS
 *       of -P before and after, close them
 *
 * Output: one line "RESULT key=value ..." (msg/s, p50/p99 latency in
 * microseconds, outcomes, negotiated flags), "RSS" lines with -P/-S.
 * A message's latency runs from its first packet (for the first message
 * of a connection: from connect(2)) to the final reply that ends it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

/* libmilter mfdef.h */
#define SMFIC_ABORT	'A'
#define SMFIC_BODY	'B'
#define SMFIC_CONNECT	'C'
#define SMFIC_MACRO	'D'
#define SMFIC_BODYEOB	'E'
#define SMFIC_HELO	'H'
#define SMFIC_HEADER	'L'
#define SMFIC_MAIL	'M'
#define SMFIC_EOH	'N'
#define SMFIC_OPTNEG	'O'
#define SMFIC_QUIT	'Q'
#define SMFIC_RCPT	'R'
#define SMFIC_DATA	'T'

#define SMFIP_NOCONNECT	0x000001
#define SMFIP_NOHELO	0x000002
#define SMFIP_NOMAIL	0x000004
#define SMFIP_NORCPT	0x000008
#define SMFIP_NOBODY	0x000010
#define SMFIP_NOHDRS	0x000020
#define SMFIP_NOEOH	0x000040
#define SMFIP_NR_HDR	0x000080
#define SMFIP_NODATA	0x000200
#define SMFIP_NR_CONN	0x001000
#define SMFIP_NR_HELO	0x002000
#define SMFIP_NR_MAIL	0x004000
#define SMFIP_NR_RCPT	0x008000
#define SMFIP_NR_DATA	0x010000
#define SMFIP_NR_EOH	0x040000
#define SMFIP_NR_BODY	0x080000
#define SMFIP_HDR_LEADSPC 0x100000

#define OFFER_VERSION	6
#define OFFER_ACTIONS	0x1ff
#define OFFER_PROTOCOL	0x1fffff
#define CHUNK		65535
#define WBUFSZ		4096		/* Postfix VSTREAM_BUFSIZE */
#define IO_TIMEOUT_MS	60000

/* ---- options, read-only once the threads run --------------------------- */

struct hdr {
	char	*name;
	char	*value;			/* after the colon, "\n" folds */
};

struct msgfile {
	struct hdr	*h;
	size_t		 nh;
	unsigned char	*body;		/* CRLF lines */
	size_t		 blen;
};

static struct {
	struct sockaddr_un sun;
	int		 conns, msgs, per_conn, warm, verbose, idle;
	struct msgfile	*files;
	int		 nfiles;
	const char	*sender, *rcpt[16];
	int		 nrcpt;
	const char	*client_ip, *client_name, *helo, *label;
	long		 pid;
	int		 every;
} O;

/* ---- small helpers ------------------------------------------------------ */

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "milterbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- .eml files, split as Postfix records them -------------------------- */

static int
is_header_start(const char *l, size_t n)
{
	size_t i = 0;

	while (i < n && l[i] >= '!' && l[i] <= '~' && l[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	return i < n && l[i] == ':';
}

static void
parse_message(struct msgfile *m, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	size_t cap = 16, bcap = len + 64;
	int in_body = 0;

	m->h = xmalloc(cap * sizeof *m->h);
	m->nh = 0;
	m->body = xmalloc(bcap);
	m->blen = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n;

		n = (size_t)(le - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (!in_body) {
			if (n == 0) {
				in_body = 1;
			} else if ((p[0] == ' ' || p[0] == '\t') && m->nh > 0) {
				struct hdr *h = &m->h[m->nh - 1];
				size_t ol = strlen(h->value);
				char *v = xmalloc(ol + 1 + n + 1);

				memcpy(v, h->value, ol);
				v[ol] = '\n';
				memcpy(v + ol + 1, p, n);
				v[ol + 1 + n] = '\0';
				free(h->value);
				h->value = v;
			} else if (is_header_start(p, n)) {
				const char *colon = memchr(p, ':', n);
				size_t nl2 = (size_t)(colon - p);

				while (nl2 > 0 && (p[nl2 - 1] == ' ' ||
				    p[nl2 - 1] == '\t'))
					nl2--;
				if (m->nh == cap)
					m->h = realloc(m->h, (cap *= 2) *
					    sizeof *m->h);
				if (m->h == NULL)
					die("out of memory");
				m->h[m->nh].name = xstrndup(p, nl2);
				m->h[m->nh].value = xstrndup(colon + 1,
				    (size_t)(p + n - colon - 1));
				m->nh++;
			} else {
				in_body = 1;	/* not a header: body starts */
				continue;	/* (line is re-read as body) */
			}
		} else {
			if (m->blen + n + 2 > bcap &&
			    (m->body = realloc(m->body, bcap = 2 * (bcap + n +
			    2))) == NULL)
				die("out of memory");
			memcpy(m->body + m->blen, p, n);
			m->blen += n;
			m->body[m->blen++] = '\r';
			m->body[m->blen++] = '\n';
		}
		p = nl ? nl + 1 : end;
	}
}

static void
load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		die("%s: %s", path, strerror(errno));
	data = xmalloc((size_t)len + 1);
	if (fread(data, 1, (size_t)len, f) != (size_t)len)
		die("%s: short read", path);
	fclose(f);
	O.files = realloc(O.files, (size_t)(O.nfiles + 1) * sizeof *O.files);
	if (O.files == NULL)
		die("out of memory");
	parse_message(&O.files[O.nfiles++], data, (size_t)len);
	free(data);
}

static const char builtin_msg[] =
    "From: Nobody <nobody@example.net>\r\n"
    "To: someone@example.com\r\n"
    "Subject: milterbench\r\n"
    "Date: Fri, 4 Dec 2026 10:00:00 +0000\r\n"
    "Message-ID: <bench@example.net>\r\n"
    "\r\n"
    "Hello.\r\n";

/* ---- one milter connection --------------------------------------------- */

enum { MS_CONNECT, MS_HELO, MS_MAIL, MS_RCPT, MS_DATA, MS_EOM, MS_EOH,
	MS_N };

struct conn {
	int		 fd;
	unsigned char	 wbuf[WBUFSZ];
	size_t		 wlen;
	unsigned char	*rbuf;
	size_t		 rcap, rlen, roff;
	uint32_t	 version, actions, proto;
	char		*mlist[MS_N];	/* macro names per stage */
	/* macro values of the current session and message */
	char		 qid[16];
	int		 have_qid;
	const char	*mail_addr, *rcpt_addr;
	/* per message */
	int		 skip_body;
	int		 mods, progress;
};

static const char *default_mlist[MS_N] = {
	"j {daemon_name} {daemon_addr} v _ {client_addr}",
	"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
	"i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} "
	    "{mail_mailer}",
	"i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
	"i",
	"i",
	"i",
};

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

/* The value of one macro, or NULL when Postfix would have none. */
static const char *
macro_value(struct conn *c, const char *name, char *tmp, size_t tmpsz)
{
	char n[64];
	size_t l = strlen(name);

	if (name[0] == '{' && l > 2 && name[l - 1] == '}')
		snprintf(n, sizeof n, "%.*s", (int)(l - 2), name + 1);
	else
		snprintf(n, sizeof n, "%s", name);
	if (strcmp(n, "j") == 0 || strcmp(n, "daemon_name") == 0)
		return "mta.example.test";
	if (strcmp(n, "daemon_addr") == 0)
		return "127.0.0.1";
	if (strcmp(n, "v") == 0)
		return "Postfix 3.7.11";
	if (strcmp(n, "_") == 0) {
		snprintf(tmp, tmpsz, "%s [%s]", O.client_name, O.client_ip);
		return tmp;
	}
	if (strcmp(n, "client_addr") == 0)
		return O.client_ip;
	if (strcmp(n, "client_name") == 0)
		return O.client_name;
	if (strcmp(n, "i") == 0)
		return c->have_qid ? c->qid : NULL;
	if (strcmp(n, "mail_addr") == 0)
		return c->mail_addr;
	if (strcmp(n, "mail_host") == 0)
		return c->mail_addr ? domain_of(c->mail_addr) : NULL;
	if (strcmp(n, "mail_mailer") == 0)
		return c->mail_addr ? "smtp" : NULL;
	if (strcmp(n, "rcpt_addr") == 0)
		return c->rcpt_addr;
	if (strcmp(n, "rcpt_host") == 0)
		return c->rcpt_addr ? domain_of(c->rcpt_addr) : NULL;
	if (strcmp(n, "rcpt_mailer") == 0)
		return c->rcpt_addr ? "virtual" : NULL;
	return NULL;
}

static void
flush_out(struct conn *c)
{
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t w = write(c->fd, c->wbuf + off, c->wlen - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write to milter: %s", strerror(errno));
		off += (size_t)w;
	}
	c->wlen = 0;
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write to milter: %s", strerror(errno));
		p += w;
		len -= (size_t)w;
	}
}

/* Queue bytes like a VSTREAM: a full buffer is flushed first, data larger
   than the buffer goes straight out. */
static void
put(struct conn *c, const void *data, size_t len)
{
	if (c->wlen + len > WBUFSZ)
		flush_out(c);
	if (len > WBUFSZ) {
		write_all(c->fd, data, len);
		return;
	}
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
}

static void
packet(struct conn *c, char cmd, const void *payload, size_t len)
{
	unsigned char head[5];
	uint32_t n = htonl((uint32_t)len + 1);

	memcpy(head, &n, 4);
	head[4] = (unsigned char)cmd;
	put(c, head, 5);
	if (len > 0)
		put(c, payload, len);
}

static void
send_macros(struct conn *c, int stage, char cmd)
{
	unsigned char buf[2048];
	char name[64], tmp[256];
	const char *p = c->mlist[stage];
	size_t o = 0;

	buf[o++] = (unsigned char)cmd;
	while (p != NULL && *p != '\0') {
		const char *v;
		size_t nl, vl;

		while (*p == ' ' || *p == ',')
			p++;
		nl = strcspn(p, " ,");
		if (nl == 0)
			break;
		snprintf(name, sizeof name, "%.*s", (int)nl, p);
		p += nl;
		if ((v = macro_value(c, name, tmp, sizeof tmp)) == NULL)
			continue;
		vl = strlen(v);
		if (o + strlen(name) + vl + 2 > sizeof buf)
			break;
		memcpy(buf + o, name, strlen(name) + 1);
		o += strlen(name) + 1;
		memcpy(buf + o, v, vl + 1);
		o += vl + 1;
	}
	packet(c, SMFIC_MACRO, buf, o);
}

static int
fill(struct conn *c, size_t need)
{
	while (c->rlen - c->roff < need) {
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		ssize_t r;
		int pr;

		if (c->roff > 0) {
			memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
			c->rlen -= c->roff;
			c->roff = 0;
		}
		if (c->rcap - c->rlen < need || c->rcap - c->rlen < 4096) {
			c->rcap = c->rcap * 2 + need + 4096;
			if ((c->rbuf = realloc(c->rbuf, c->rcap)) == NULL)
				die("out of memory");
		}
		if ((pr = poll(&pfd, 1, IO_TIMEOUT_MS)) == 0)
			die("milter timeout: no reply in %d s",
			    IO_TIMEOUT_MS / 1000);
		if (pr < 0 && errno == EINTR)
			continue;
		r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->rlen += (size_t)r;
	}
	return 0;
}

/* One packet; its payload stays valid until the next read. */
static int
read_packet(struct conn *c, char *code, unsigned char **data, size_t *len)
{
	uint32_t n;

	if (c->wlen > 0)
		flush_out(c);
	if (fill(c, 4) != 0)
		return -1;
	memcpy(&n, c->rbuf + c->roff, 4);
	n = ntohl(n);
	if (n < 1 || n > 64u * 1024 * 1024)
		die("bad packet length %u from milter", n);
	if (fill(c, 4 + (size_t)n) != 0)
		return -1;
	*code = (char)c->rbuf[c->roff + 4];
	*data = c->rbuf + c->roff + 5;
	*len = n - 1;
	c->roff += 4 + (size_t)n;
	return 0;
}

/* Read replies to one event up to the final one; returns its code. */
/* -vv: a header modification as "  mod 'h' Name: value". */
static void
show_mod(char code, const unsigned char *d, size_t len)
{
	size_t off = code == 'h' ? 0 : code == 'i' || code == 'm' ? 4 : len;
	const char *name = (const char *)d + off, *val;

	if (off >= len || memchr(name, '\0', len - off) == NULL)
		return;
	val = name + strlen(name) + 1;
	if ((const unsigned char *)val >= d + len ||
	    memchr(val, '\0', (size_t)(d + len - (const unsigned char *)val))
	    == NULL)
		return;
	fprintf(stderr, "  mod '%c' %s: %s\n", code, name, val);
}

static char
read_reply(struct conn *c, char event)
{
	unsigned char *d;
	size_t len;
	char code;

	for (;;) {
		if (read_packet(c, &code, &d, &len) != 0)
			die("milter closed the connection waiting for the "
			    "reply to '%c'", event);
		if (O.verbose > 1)
			fprintf(stderr, "  <- '%c' (%zu bytes) to '%c'\n",
			    code, len, event);
		switch (code) {
		case 'p':			/* progress */
			c->progress++;
			continue;
		case 'q':			/* quarantine, not final */
			c->mods++;
			continue;
		case '+': case '-': case '2': case 'b': case 'e': case 'h':
		case 'i': case 'm':
			if (event != SMFIC_BODYEOB)
				die("modification '%c' in reply to '%c'",
				    code, event);
			c->mods++;
			if (O.verbose > 1)
				show_mod(code, d, len);
			continue;
		case 'a': case 'c': case 'd': case 'r': case 't': case 'y':
		case 's': case '4': case 'f':
			return code;
		default:
			die("unknown reply '%c' (0x%02x) to '%c'", code,
			    (unsigned char)code, event);
		}
	}
}

#define NOT_SENT	0
#define NO_REPLY	1

/* Send one event as milter8_event() does; returns the final reply code,
   NOT_SENT or NO_REPLY. */
static char
event(struct conn *c, char cmd, int stage, uint32_t noflag, uint32_t nrflag,
    int envelope, const void *payload, size_t len)
{
	if (envelope || !(c->proto & noflag))
		send_macros(c, stage, cmd);
	if (c->proto & noflag)
		return NOT_SENT;
	if (O.verbose > 1)
		fprintf(stderr, "  -> '%c' (%zu bytes)\n", cmd, len);
	packet(c, cmd, payload, len);
	if (c->proto & nrflag)
		return NO_REPLY;
	return read_reply(c, cmd);
}

static void
conn_open(struct conn *c)
{
	uint32_t offer[3];
	unsigned char *d;
	size_t len, i;
	char code;

	memset(c, 0, sizeof *c);
	for (i = 0; i < MS_N; i++)
		c->mlist[i] = (char *)default_mlist[i];
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		die("socket: %s", strerror(errno));
	while (connect(c->fd, (struct sockaddr *)&O.sun, sizeof O.sun) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {		/* listen queue full */
			usleep(1000);
			continue;
		}
		die("connect %s: %s", O.sun.sun_path, strerror(errno));
	}
	offer[0] = htonl(OFFER_VERSION);
	offer[1] = htonl(OFFER_ACTIONS);
	offer[2] = htonl(OFFER_PROTOCOL);
	packet(c, SMFIC_OPTNEG, offer, sizeof offer);
	if (read_packet(c, &code, &d, &len) != 0 || code != SMFIC_OPTNEG ||
	    len < 12)
		die("bad OPTNEG reply");
	memcpy(offer, d, 12);
	c->version = ntohl(offer[0]);
	c->actions = ntohl(offer[1]);
	c->proto = ntohl(offer[2]);
	for (i = 12; i + 5 <= len; ) {		/* SMFIR_SETSYMLIST data */
		uint32_t st;
		size_t nl;

		memcpy(&st, d + i, 4);
		st = ntohl(st);
		i += 4;
		nl = strnlen((char *)d + i, len - i);
		if (st < MS_N && nl > 0)
			c->mlist[st] = xstrndup((char *)d + i, nl);
		i += nl + 1;
	}
}

/* SMFIC_CONNECT's payload: host name, family '4', port, address. */
static size_t
connect_payload(unsigned char *buf, size_t sz)
{
	size_t a = strlen(O.client_name) + 1, b = strlen(O.client_ip) + 1;
	uint16_t port = htons(4321);

	if (a + 3 + b > sz)
		die("client name and address too long");
	memcpy(buf, O.client_name, a);
	buf[a] = '4';
	memcpy(buf + a + 1, &port, 2);
	memcpy(buf + a + 3, O.client_ip, b);
	return a + 3 + b;
}

static void
conn_session(struct conn *c)
{
	unsigned char buf[512];
	size_t o = connect_payload(buf, sizeof buf);
	char r;

	r = event(c, SMFIC_CONNECT, MS_CONNECT, SMFIP_NOCONNECT,
	    SMFIP_NR_CONN, 1, buf, o);
	if (r != NOT_SENT && r != NO_REPLY && r != 'c')
		die("CONNECT answered '%c'", r);
	r = event(c, SMFIC_HELO, MS_HELO, SMFIP_NOHELO, SMFIP_NR_HELO, 1,
	    O.helo, strlen(O.helo) + 1);
	if (r != NOT_SENT && r != NO_REPLY && r != 'c')
		die("HELO answered '%c'", r);
}

static void
conn_close(struct conn *c)
{
	size_t i;

	packet(c, SMFIC_QUIT, NULL, 0);
	flush_out(c);
	close(c->fd);
	free(c->rbuf);
	for (i = 0; i < MS_N; i++)
		if (c->mlist[i] != default_mlist[i])
			free(c->mlist[i]);
}

/* ---- one message -------------------------------------------------------- */

/* outcome slots: final code x stage */
enum { ST_MAIL, ST_RCPT, ST_DATA, ST_HDR, ST_EOH, ST_BODY, ST_EOM, ST_N };
static const char *stage_name[ST_N] = { "mail", "rcpt", "data", "header",
	"eoh", "body", "eom" };
#define NCODES 8
static const char code_chars[NCODES] = "acdrtys?";
static const char *code_name[NCODES] = { "accept", "accept", "discard",
	"reject", "tempfail", "replycode", "accept", "other" };

struct tstats {
	double	*lat;
	size_t	 nlat, cap;
	long	 outcome[ST_N][NCODES];
	long	 mods;
	double	 t0, t1;
};

static int
code_idx(char r)
{
	const char *p = r != '\0' ? memchr(code_chars, r, NCODES) : NULL;

	return p != NULL ? (int)(p - code_chars) : NCODES - 1;
}

static int
final(char r)
{
	return r == 'a' || r == 'd' || r == 'r' || r == 't' || r == 'y' ||
	    r == '4' || r == 'f';
}

/* Run one transaction; returns the stage that decided (ST_*) and sets
   *code (the final reply code; 'c' for accept at end of message). */
static int
message(struct conn *c, const struct msgfile *m, const char *qid, char *code)
{
	unsigned char buf[1024];
	size_t i, n, off;
	int leadspc = (c->proto & SMFIP_HDR_LEADSPC) != 0, ok = 0;
	char r;

	snprintf(c->qid, sizeof c->qid, "%s", qid);
	c->have_qid = 0;
	c->mods = 0;
	c->skip_body = 0;
	c->mail_addr = O.sender;
	c->rcpt_addr = NULL;
	n = (size_t)snprintf((char *)buf, sizeof buf, "<%s>", O.sender) + 1;
	r = event(c, SMFIC_MAIL, MS_MAIL, SMFIP_NOMAIL, SMFIP_NR_MAIL, 1,
	    buf, n);
	if (final(r))
		return *code = r, ST_MAIL;
	for (i = 0; i < (size_t)O.nrcpt; i++) {
		c->rcpt_addr = O.rcpt[i];
		n = (size_t)snprintf((char *)buf, sizeof buf, "<%s>",
		    O.rcpt[i]) + 1;
		r = event(c, SMFIC_RCPT, MS_RCPT, SMFIP_NORCPT, SMFIP_NR_RCPT,
		    1, buf, n);
		if (r == 'a' || r == 'd')	/* whole message */
			return *code = r, ST_RCPT;
		if (r == 'r' || r == 't' || r == 'y' || r == 'f')
			continue;		/* this recipient only */
		if (r == '4')
			return *code = r, ST_RCPT;
		ok++;
		c->have_qid = 1;		/* queue file opened */
	}
	if (ok == 0)
		return *code = 'r', ST_RCPT;
	r = event(c, SMFIC_DATA, MS_DATA, SMFIP_NODATA, SMFIP_NR_DATA, 1,
	    NULL, 0);
	if (final(r))
		return *code = r, ST_DATA;
	for (i = 0; i < m->nh; i++) {
		const char *v = m->h[i].value;
		size_t nl = strlen(m->h[i].name), vl;
		unsigned char *hb;

		if (!leadspc && v[0] == ' ')
			v++;
		vl = strlen(v);
		hb = nl + vl + 2 <= sizeof buf ? buf : xmalloc(nl + vl + 2);
		memcpy(hb, m->h[i].name, nl + 1);
		memcpy(hb + nl + 1, v, vl + 1);
		r = event(c, SMFIC_HEADER, MS_EOH, SMFIP_NOHDRS, SMFIP_NR_HDR,
		    0, hb, nl + vl + 2);
		if (hb != buf)
			free(hb);
		if (r == 's')
			break;
		if (final(r))
			return *code = r, ST_HDR;
	}
	r = event(c, SMFIC_EOH, MS_EOH, SMFIP_NOEOH, SMFIP_NR_EOH, 0, NULL, 0);
	if (final(r))
		return *code = r, ST_EOH;
	for (off = 0; off < m->blen; off += n) {
		n = m->blen - off > CHUNK ? CHUNK : m->blen - off;
		r = event(c, SMFIC_BODY, MS_EOM, SMFIP_NOBODY, SMFIP_NR_BODY,
		    0, m->body + off, n);
		if (r == 's')
			break;
		if (final(r))
			return *code = r, ST_BODY;
	}
	send_macros(c, MS_EOM, SMFIC_BODYEOB);
	packet(c, SMFIC_BODYEOB, NULL, 0);
	r = read_reply(c, SMFIC_BODYEOB);
	*code = r;
	return ST_EOM;
}

static void
end_transaction(struct conn *c)
{
	packet(c, SMFIC_ABORT, NULL, 0);	/* smtpd mail_reset() */
}

/* ---- RSS sampling ------------------------------------------------------- */

static atomic_long done_msgs;
static pthread_mutex_t rss_mu = PTHREAD_MUTEX_INITIALIZER;

static int
proc_status(long pid, long *rss_kb, long *threads)
{
	char path[64], line[256];
	FILE *f;

	*rss_kb = *threads = -1;
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss_kb = atol(line + 6);
		else if (strncmp(line, "Threads:", 8) == 0)
			*threads = atol(line + 8);
	}
	fclose(f);
	return 0;
}

static void
rss_sample(long n)
{
	long kb, th;

	if (O.pid <= 0)
		return;
	pthread_mutex_lock(&rss_mu);
	proc_status(O.pid, &kb, &th);
	printf("RSS msgs=%ld rss_kb=%ld threads=%ld\n", n, kb, th);
	fflush(stdout);
	pthread_mutex_unlock(&rss_mu);
}

/* ---- threads ------------------------------------------------------------ */

static pthread_barrier_t barrier;

struct worker {
	pthread_t	 thr;
	int		 id;
	long		 nmsgs;		/* timed messages of this thread */
	struct tstats	 st;
};

static void
record(struct tstats *st, double us)
{
	if (st->nlat == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 1024;
		if ((st->lat = realloc(st->lat, st->cap * sizeof *st->lat))
		    == NULL)
			die("out of memory");
	}
	st->lat[st->nlat++] = us;
}

/* n messages on connections of per_conn messages each. */
static void
run_batch(struct worker *w, long n, unsigned *seq, int timed)
{
	struct conn c;
	long i = 0;

	while (i < n) {
		double t0 = now_us();
		int k;

		conn_open(&c);
		conn_session(&c);
		for (k = 0; k < O.per_conn && i < n; k++, i++) {
			const struct msgfile *m = &O.files[(*seq) %
			    (unsigned)O.nfiles];
			char qid[16], code;
			int stage;
			double t1;

			snprintf(qid, sizeof qid, "%03X%08X", w->id, *seq);
			(*seq)++;
			if (k > 0)
				t0 = now_us();
			stage = message(&c, m, qid, &code);
			t1 = now_us();
			end_transaction(&c);
			if (O.verbose && *seq == 1)
				fprintf(stderr, "first message: %s at %s, %d "
				    "modification(s), protocol 0x%x actions "
				    "0x%x\n", code_name[code_idx(code)],
				    stage_name[stage], c.mods, c.proto,
				    c.actions);
			if (!timed)
				continue;
			record(&w->st, t1 - t0);
			w->st.outcome[stage][code_idx(code)]++;
			w->st.mods += c.mods;
			if (O.every > 0) {
				long d = atomic_fetch_add(&done_msgs, 1) + 1;

				if (d % O.every == 0)
					rss_sample(d);
			}
		}
		conn_close(&c);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned seq = 0;

	run_batch(w, O.warm, &seq, 0);
	pthread_barrier_wait(&barrier);
	w->st.t0 = now_us();
	run_batch(w, w->nmsgs, &seq, 1);
	w->st.t1 = now_us();
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint32_t neg_proto, neg_actions;

static void
probe_negotiation(void)
{
	struct conn c;

	conn_open(&c);
	neg_proto = c.proto;
	neg_actions = c.actions;
	conn_close(&c);
}

/* ---- idle connections ----------------------------------------------------*/

static void
idle_mode(void)
{
	struct conn *cs = calloc((size_t)O.idle, sizeof *cs);
	long kb0, th0, kb1, th1, kb2, th2;
	int i;

	if (cs == NULL)
		die("out of memory");
	proc_status(O.pid, &kb0, &th0);
	for (i = 0; i < O.idle; i++) {
		unsigned char buf[512];
		size_t o = connect_payload(buf, sizeof buf);
		char r;

		conn_open(&cs[i]);
		r = event(&cs[i], SMFIC_CONNECT, MS_CONNECT, SMFIP_NOCONNECT,
		    SMFIP_NR_CONN, 1, buf, o);
		if (r == NO_REPLY || r == NOT_SENT)
			flush_out(&cs[i]);
		/* keep the descriptor count of this process in check */
		free(cs[i].rbuf);
		cs[i].rbuf = NULL;
		cs[i].rcap = cs[i].rlen = cs[i].roff = 0;
	}
	sleep(2);				/* let the filter settle */
	proc_status(O.pid, &kb1, &th1);
	sleep(1);
	proc_status(O.pid, &kb2, &th2);
	printf("IDLE conns=%d rss_before_kb=%ld rss_after_kb=%ld "
	    "rss_after2_kb=%ld threads_before=%ld threads_after=%ld "
	    "per_conn_kb=%.2f\n", O.idle, kb0, kb1, kb2, th0, th2,
	    (double)((kb2 > kb1 ? kb2 : kb1) - kb0) / O.idle);
	fflush(stdout);
	for (i = 0; i < O.idle; i++)
		conn_close(&cs[i]);
	free(cs);
}

/* ---- main --------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: milterbench -s unix:/path [-c conns] "
	    "[-n msgs] [-m per_conn] [-w warm] [-f file.eml]... [-F sender] "
	    "[-r rcpt]... [-a client_ip] [-L label] [-P pid [-S every]] "
	    "[-I idle_conns] [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct worker *ws;
	const char *sock = NULL;
	double t0, t1, sum = 0;
	size_t nall = 0, k;
	double *all;
	long out[ST_N][NCODES] = { { 0 } }, mods = 0;
	int ch, i, s, j;

	O.conns = 1;
	O.msgs = 1000;
	O.per_conn = 100;
	O.sender = "anne@example.org";
	O.client_ip = "192.0.2.10";
	O.client_name = "client.example.net";
	O.helo = "client.example.net";
	O.label = "-";
	while ((ch = getopt(argc, argv, "s:c:n:m:w:f:F:r:a:L:P:S:I:v")) != -1)
		switch (ch) {
		case 's': sock = optarg; break;
		case 'c': O.conns = atoi(optarg); break;
		case 'n': O.msgs = atoi(optarg); break;
		case 'm': O.per_conn = atoi(optarg); break;
		case 'w': O.warm = atoi(optarg); break;
		case 'f': load_file(optarg); break;
		case 'F': O.sender = optarg; break;
		case 'r':
			if (O.nrcpt < 16)
				O.rcpt[O.nrcpt++] = optarg;
			break;
		case 'a': O.client_ip = optarg; break;
		case 'L': O.label = optarg; break;
		case 'P': O.pid = atol(optarg); break;
		case 'S': O.every = atoi(optarg); break;
		case 'I': O.idle = atoi(optarg); break;
		case 'v': O.verbose++; break;
		default: usage();
		}
	if (sock == NULL || O.conns < 1 || O.msgs < 1 || O.per_conn < 1 ||
	    O.warm < 0)
		usage();
	if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
		sock = strchr(sock, ':') + 1;
	O.sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(O.sun.sun_path, sizeof O.sun.sun_path, "%s",
	    sock) >= sizeof O.sun.sun_path)
		die("socket path too long");
	if (O.nrcpt == 0)
		O.rcpt[O.nrcpt++] = "list@lists.example.test";
	if (O.nfiles == 0) {
		O.files = xmalloc(sizeof *O.files);
		parse_message(&O.files[0], builtin_msg, sizeof builtin_msg - 1);
		O.nfiles = 1;
	}
	if (O.idle > 0) {
		idle_mode();
		return 0;
	}
	probe_negotiation();
	ws = calloc((size_t)O.conns, sizeof *ws);
	if (ws == NULL)
		die("out of memory");
	pthread_barrier_init(&barrier, NULL, (unsigned)O.conns);
	for (i = 0; i < O.conns; i++) {
		ws[i].id = i;
		ws[i].nmsgs = O.msgs / O.conns + (i < O.msgs % O.conns);
	}
	if (O.every > 0)
		rss_sample(0);
	for (i = 0; i < O.conns; i++)
		if (pthread_create(&ws[i].thr, NULL, worker_main, &ws[i]) != 0)
			die("pthread_create failed");
	for (i = 0; i < O.conns; i++)
		pthread_join(ws[i].thr, NULL);
	t0 = ws[0].st.t0;
	t1 = ws[0].st.t1;
	for (i = 0; i < O.conns; i++) {
		if (ws[i].st.t0 < t0)
			t0 = ws[i].st.t0;
		if (ws[i].st.t1 > t1)
			t1 = ws[i].st.t1;
		nall += ws[i].st.nlat;
		mods += ws[i].st.mods;
		for (s = 0; s < ST_N; s++)
			for (j = 0; j < NCODES; j++)
				out[s][j] += ws[i].st.outcome[s][j];
	}
	all = xmalloc(nall * sizeof *all);
	for (i = 0, k = 0; i < O.conns; i++) {
		memcpy(all + k, ws[i].st.lat, ws[i].st.nlat * sizeof *all);
		k += ws[i].st.nlat;
	}
	qsort(all, nall, sizeof *all, cmp_double);
	for (k = 0; k < nall; k++)
		sum += all[k];
	if (O.every > 0 && atomic_load(&done_msgs) % O.every != 0)
		rss_sample(atomic_load(&done_msgs));
	printf("RESULT label=%s conns=%d per_conn=%d msgs=%zu secs=%.4f "
	    "msgps=%.1f p50_us=%.1f p99_us=%.1f mean_us=%.1f mods=%ld "
	    "protocol=0x%x actions=0x%x outcomes=", O.label, O.conns,
	    O.per_conn, nall, (t1 - t0) / 1e6, nall / ((t1 - t0) / 1e6),
	    all[nall / 2], all[(nall * 99) / 100 < nall ? (nall * 99) / 100 :
	    nall - 1], sum / nall, mods, neg_proto, neg_actions);
	for (s = 0, k = 0; s < ST_N; s++)
		for (j = 0; j < NCODES; j++)
			if (out[s][j] > 0)
				printf("%s%s@%s:%ld", k++ ? "," : "",
				    code_chars[j] == 'c' || code_chars[j] == 's'
				    ? "accept" : code_name[j], stage_name[s],
				    out[s][j]);
	printf("\n");
	return 0;
}
