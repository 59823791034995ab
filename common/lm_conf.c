/*
 * lm_conf - configuration file parser over a typed key table.
 *
 * The table below is the single declaration of every configuration key:
 * name, type, default, range and the one-line documentation that the man
 * page expands on.  See lm_conf.h for the file format.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "lm_buf.h"
#include "lm_conf.h"
#include "lm_listtab.h"

#define O(f)	offsetof(struct lm_config, f)

static const struct lm_confkey lm_keys[] = {
	{ "Socket", LM_CT_STR, "local:@RUNSTATEDIR@/listmilter/listmilter.sock",
	  0, 0, NULL, O(socket), lm_conf_check_socket,
	  "milter socket: unix:/path, local:/path, inet:PORT@HOST, inet6:PORT@HOST" },
	{ "ListTable", LM_CT_STR, "@SYSCONFDIR@/listmilter/lists", 0, 0, NULL,
	  O(listtable), NULL, "path of the list table" },
	{ "Nameservers", LM_CT_STR, "", 0, 0, NULL, O(nameservers), lm_conf_check_nameservers,
	  "comma-separated ADDR or ADDR@PORT to forward DNS queries to; "
	  "empty: the system resolver (resolv.conf)" },
	{ "UnboundConfigFile", LM_CT_STR, "", 0, 0, NULL, O(unbound_conf), NULL,
	  "unbound.conf(5) file read by libunbound (local-zone, local-data, "
	  "trust anchors, forward zones)" },
	{ "TrustAnchorFile", LM_CT_STR, "", 0, 0, NULL, O(trust_anchor), NULL,
	  "DNSSEC trust anchor file for libunbound" },
	{ "AuthservID", LM_CT_STR, "", 0, 0, NULL, O(authservid), NULL,
	  "authserv-id for headers this host adds; empty: the host name" },
	{ "TrustedAuthservIDs", LM_CT_STR, "", 0, 0, NULL, O(trusted_ids), NULL,
	  "comma-separated authserv-ids whose Authentication-Results dmarc=pass "
	  "is believed (an upstream verifier); empty: none" },
	{ "SigningKey", LM_CT_STR, "", 0, 0, NULL, O(signing_key),
	  lm_conf_check_signkey,
	  "SELECTOR:PATH of the PEM key that signs every list's copies with "
	  "d=<list domain> unless the list sets sign=; empty: no signing" },
	{ "Syslog", LM_CT_BOOL, "yes", 0, 0, NULL, O(syslog), NULL,
	  "log to syslog (yes) or to standard error (no)" },
	{ "SyslogFacility", LM_CT_STR, "mail", 0, 0, NULL, O(facility), lm_conf_check_facility,
	  "syslog facility: mail, daemon, user or local0..local7" },
	{ "PidFile", LM_CT_STR, "", 0, 0, NULL, O(pidfile), NULL,
	  "file to write the process id to, removed at exit; empty: none" },
	{ "UserID", LM_CT_STR, "", 0, 0, NULL, O(userid), NULL,
	  "USER or USER:GROUP to run as after start-up; empty: do not change" },
	{ "UMask", LM_CT_OCTAL, "007", 0, 0777, NULL, O(umask), NULL,
	  "umask applied before the socket is created (octal)" },
	{ "On-Error", LM_CT_ENUM, "tempfail", 0, 0, "tempfail|accept",
	  O(on_error), NULL, "what an internal failure turns into" },
	{ "DNSTimeout", LM_CT_INT, "5", 1, 120, NULL, O(dns_timeout), NULL,
	  "seconds allowed for all DNS work of one message" },
	{ "MaximumWrapSize", LM_CT_INT, "26214400", 65536, 1073741824, NULL,
	  O(max_wrap), NULL, "largest message (bytes) that action=wrap will wrap" },
	{ "MaximumHeaderSize", LM_CT_INT, "1048576", 16384, 67108864, NULL,
	  O(max_header), NULL, "largest header section (bytes) accepted on list mail" },
	{ "LogNonList", LM_CT_BOOL, "no", 0, 0, NULL, O(log_nonlist), NULL,
	  "also log one line for every message that is not list mail" },
	{ "LogBounces", LM_CT_BOOL, "yes", 0, 0, NULL, O(log_bounces), NULL,
	  "log one line per recipient of each delivery status notification "
	  "that reaches a list's bounce address" },
	{ NULL, 0, NULL, 0, 0, NULL, 0, NULL, NULL }
};

const struct lm_confkey *
lm_conf_keys(void)
{
	return lm_keys;
}

static char **
slot_str(struct lm_config *c, const struct lm_confkey *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static void *
slot(struct lm_config *c, const struct lm_confkey *k)
{
	return (char *)c + k->off;
}

static int
set_bool(const char *v, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1", NULL };
	static const char *no[] = { "no", "false", "off", "0", NULL };
	size_t n = strlen(v);
	int i;

	for (i = 0; yes[i] != NULL; i++)
		if (lm_strcaseeq(v, n, yes[i], strlen(yes[i])))
			return *out = 1, 0;
	for (i = 0; no[i] != NULL; i++)
		if (lm_strcaseeq(v, n, no[i], strlen(no[i])))
			return *out = 0, 0;
	return -1;
}

static int
set_num(const char *v, int base, long min, long max, long *out)
{
	char *end;
	long n;

	if (*v == '\0' || *v == '-' || *v == '+')
		return -1;
	errno = 0;
	n = strtol(v, &end, base);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
set_enum(const char *v, const char *values, int *out)
{
	const char *p = values, *bar;
	int i = 0;

	for (;; i++) {
		bar = strchr(p, '|');
		if (lm_strcaseeq(v, strlen(v), p,
		    bar != NULL ? (size_t)(bar - p) : strlen(p)))
			return *out = i, 0;
		if (bar == NULL)
			return -1;
		p = bar + 1;
	}
}

static int
set_str(char **dst, const char *v)
{
	char *d = lm_strndup(v, strlen(v));

	if (d == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

/* Store value v for key k; -1 with a reason in err. */
static int
lm_conf_set(struct lm_config *c, const struct lm_confkey *k, const char *v,
    char *err, size_t errsz)
{
	long n;

	if (k->check != NULL && k->check(v, err, errsz) != 0)
		return -1;
	switch (k->type) {
	case LM_CT_STR:
		if (set_str(slot_str(c, k), v) != 0)
			return snprintf(err, errsz, "out of memory"), -1;
		return 0;
	case LM_CT_BOOL:
		if (set_bool(v, slot(c, k)) != 0)
			return snprintf(err, errsz,
			    "%s: \"%s\" is not yes or no", k->name, v), -1;
		return 0;
	case LM_CT_INT:
	case LM_CT_OCTAL:
		if (set_num(v, k->type == LM_CT_OCTAL ? 8 : 10, k->min,
		    k->max, &n) != 0)
			return snprintf(err, errsz, "%s: \"%s\" is not a%s "
			    "number in %ld..%ld", k->name, v, k->type ==
			    LM_CT_OCTAL ? "n octal" : "", k->min, k->max), -1;
		*(long *)slot(c, k) = n;
		return 0;
	case LM_CT_ENUM:
		if (set_enum(v, k->values, slot(c, k)) != 0)
			return snprintf(err, errsz, "%s: \"%s\" is not one "
			    "of %s", k->name, v, k->values), -1;
		return 0;
	}
	return -1;
}

static int
subst_default(const char *def, const char *sysconfdir,
    const char *runstatedir, lm_buf *out)
{
	const char *p;

	if ((p = strstr(def, "@SYSCONFDIR@")) != NULL)
		return lm_buf_add(out, def, (size_t)(p - def)) ||
		    lm_buf_adds(out, sysconfdir) ||
		    lm_buf_adds(out, p + strlen("@SYSCONFDIR@"));
	if ((p = strstr(def, "@RUNSTATEDIR@")) != NULL)
		return lm_buf_add(out, def, (size_t)(p - def)) ||
		    lm_buf_adds(out, runstatedir) ||
		    lm_buf_adds(out, p + strlen("@RUNSTATEDIR@"));
	return lm_buf_adds(out, def);
}

int
lm_conf_defaults(struct lm_config *c, const char *sysconfdir,
    const char *runstatedir)
{
	const struct lm_confkey *k;
	char err[256];
	lm_buf b;
	int r = 0;

	memset(c, 0, sizeof *c);
	lm_buf_init(&b, 4096);
	for (k = lm_keys; k->name != NULL && r == 0; k++) {
		lm_buf_reset(&b);
		if (subst_default(k->def, sysconfdir, runstatedir, &b) != 0 ||
		    lm_conf_set(c, k, lm_buf_cstr(&b), err, sizeof err) != 0)
			r = -1;
	}
	lm_buf_free(&b);
	return r;
}

void
lm_conf_free(struct lm_config *c)
{
	const struct lm_confkey *k;

	for (k = lm_keys; k->name != NULL; k++)
		if (k->type == LM_CT_STR) {
			free(*slot_str(c, k));
			*slot_str(c, k) = NULL;
		}
}

static const struct lm_confkey *
lm_conf_find(const char *name, size_t n)
{
	const struct lm_confkey *k;

	for (k = lm_keys; k->name != NULL; k++)
		if (lm_strcaseeq(name, n, k->name, strlen(k->name)))
			return k;
	return NULL;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Split one line into key and value (both trimmed, value may be empty);
   returns 0 for a blank/comment line, 1 for key/value, -1 for garbage. */
static int
split_line(char *line, char **key, size_t *klen, char **val)
{
	char *p = line, *e;

	while (is_ws(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*key = p;
	while (*p != '\0' && !is_ws(*p))
		p++;
	*klen = (size_t)(p - *key);
	while (is_ws(*p))
		p++;
	if (*p == '#')
		*p = '\0';
	for (e = p; *e != '\0'; e++)
		if (*e == '#' && is_ws(e[-1])) {
			*e = '\0';
			break;
		}
	e = p + strlen(p);
	while (e > p && is_ws(e[-1]))
		*--e = '\0';
	*val = p;
	return 1;
}

static int
conf_line(struct lm_config *c, char *line, unsigned char *seen,
    char *why, size_t whysz)
{
	const struct lm_confkey *k;
	char *key, *val;
	size_t klen;
	int r;

	if ((r = split_line(line, &key, &klen, &val)) <= 0)
		return r;
	if ((k = lm_conf_find(key, klen)) == NULL)
		return snprintf(why, whysz, "unknown key \"%.*s\"",
		    (int)(klen > 64 ? 64 : klen), key), -1;
	if (seen[k - lm_keys]++)
		return snprintf(why, whysz, "%s given twice", k->name), -1;
	return lm_conf_set(c, k, val, why, whysz);
}

int
lm_conf_parse(struct lm_config *c, const char *text, size_t len,
    const char *fname, char *err, size_t errsz)
{
	unsigned char seen[sizeof lm_keys / sizeof lm_keys[0]] = { 0 };
	char line[4097], why[512];
	size_t i = 0, n;
	int lineno = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);

		n = nl != NULL ? (size_t)(nl - (text + i)) : len - i;
		lineno++;
		if (n >= sizeof line || memchr(text + i, '\0', n) != NULL) {
			snprintf(err, errsz, "%s:%d: %s", fname, lineno,
			    n >= sizeof line ? "line too long" : "NUL byte");
			return -1;
		}
		memcpy(line, text + i, n);
		line[n] = '\0';
		if (conf_line(c, line, seen, why, sizeof why) < 0) {
			snprintf(err, errsz, "%s:%d: %s", fname, lineno, why);
			return -1;
		}
		i += n + (nl != NULL);
	}
	return 0;
}

static int
check_port(const char *p, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535 ? 0 : -1;
}

int
lm_conf_check_socket(const char *s, char *err, size_t errsz)
{
	const char *at;

	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		const char *path = strchr(s, ':') + 1;

		if (*path != '/' || strlen(path) >= 108)
			return snprintf(err, errsz, "Socket: path must be "
			    "absolute and shorter than 108 bytes"), -1;
		return 0;
	}
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
		const char *port = strchr(s, ':') + 1;

		at = strchr(port, '@');
		if (check_port(port, at != NULL ? (size_t)(at - port) :
		    strlen(port)) != 0 || (at != NULL && at[1] == '\0'))
			return snprintf(err, errsz, "Socket: expected inet:PORT@HOST "
			    "with PORT in 1..65535"), -1;
		return 0;
	}
	return snprintf(err, errsz, "Socket: unknown type \"%s\" (use unix:, "
	    "local:, inet: or inet6:)", s), -1;
}

int
lm_conf_nameservers(const char *v, char out[][64], int max)
{
	int n = 0;

	while (*v != '\0') {
		const char *e;
		size_t len;

		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (*v == '\0')
			break;
		for (e = v; *e != '\0' && *e != ',' && *e != ' ' &&
		    *e != '\t'; e++)
			;
		len = (size_t)(e - v);
		if (n >= max || len >= 64)
			return -1;
		memcpy(out[n], v, len);
		out[n++][len] = '\0';
		v = e;
	}
	return n;
}

int
lm_conf_check_facility(const char *v, char *err, size_t errsz)
{
	static const char *ok[] = { "mail", "daemon", "user", "local0",
	    "local1", "local2", "local3", "local4", "local5", "local6",
	    "local7", NULL };
	int i;

	for (i = 0; ok[i] != NULL; i++)
		if (lm_strcaseeq(v, strlen(v), ok[i], strlen(ok[i])))
			return 0;
	snprintf(err, errsz, "SyslogFacility: unknown facility \"%s\"", v);
	return -1;
}

int
lm_conf_check_nameservers(const char *v, char *err, size_t errsz)
{
	char ns[8][64], addr[64], *at;
	unsigned char tmp[16];
	int i, n;

	if ((n = lm_conf_nameservers(v, ns, 8)) < 0)
		return snprintf(err, errsz, "Nameservers: at most 8 entries "
		    "of ADDR or ADDR@PORT"), -1;
	for (i = 0; i < n; i++) {
		lm_strlcpy(addr, ns[i], sizeof addr);
		if ((at = strchr(addr, '@')) != NULL) {
			*at++ = '\0';
			if (check_port(at, strlen(at)) != 0)
				return snprintf(err, errsz, "Nameservers: bad "
				    "port in \"%s\"", ns[i]), -1;
		}
		if (inet_pton(AF_INET, addr, tmp) != 1 &&
		    inet_pton(AF_INET6, addr, tmp) != 1)
			return snprintf(err, errsz, "Nameservers: \"%s\" is "
			    "not an IP address", addr), -1;
	}
	return 0;
}

int
lm_conf_check_signkey(const char *v, char *err, size_t errsz)
{
	int r;

	if (*v == '\0')
		return 0;
	if ((r = lm_listtab_signspec(v, strlen(v))) == -1)
		return snprintf(err, errsz, "SigningKey: expected "
		    "SELECTOR:/path/to/key.pem"), -1;
	if (r == -2)
		return snprintf(err, errsz, "SigningKey: bad selector "
		    "\"%.*s\"", (int)(strchr(v, ':') - v), v), -1;
	return 0;
}
