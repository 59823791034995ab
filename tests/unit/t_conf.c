/*
 * t_conf - configuration parser: defaults, every type, every error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_conf.h"
#include "lmtest.h"

struct errcase {
	const char *text;
	const char *err;	/* expected message, or NULL for success */
};

static const struct errcase cases[] = {
	{ "", NULL },
	{ "# only a comment\n\n   \n", NULL },
	{ "Socket unix:/run/x.sock\n", NULL },
	{ "socket inet:8891@127.0.0.1\n", NULL },
	{ "SOCKET inet6:8891@::1\n", NULL },
	{ "Socket local:/run/x.sock # trailing comment\n", NULL },
	{ "Socket unix:relative\n", "t.conf:1: Socket: path must be absolute "
	  "and shorter than 108 bytes" },
	{ "Socket inet:99999@127.0.0.1\n", "t.conf:1: Socket: expected "
	  "inet:PORT@HOST with PORT in 1..65535" },
	{ "Socket tcp:1@x\n", "t.conf:1: Socket: unknown type \"tcp:1@x\" "
	  "(use unix:, local:, inet: or inet6:)" },
	{ "Socket inet:8891\n", NULL },
	{ "SyslogFacility local3\n", NULL },
	{ "SyslogFacility kern\n", "t.conf:1: SyslogFacility: unknown "
	  "facility \"kern\"" },
	{ "Nameservers 10.0.0.1@99999\n", "t.conf:1: Nameservers: bad port "
	  "in \"10.0.0.1@99999\"" },
	{ "Nameservers ns.example.org\n", "t.conf:1: Nameservers: "
	  "\"ns.example.org\" is not an IP address" },
	{ "Nameservers ::1@53,192.0.2.1\n", NULL },
	{ "Nameservers 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,"
	  "1.1.1.7,1.1.1.8,1.1.1.9\n", "t.conf:1: Nameservers: at most 8 "
	  "entries of ADDR or ADDR@PORT" },
	{ "MaximumWrapSize 100\n", "t.conf:1: MaximumWrapSize: \"100\" is "
	  "not a number in 65536..1073741824" },
	{ "LogNonList yes\n", NULL },
	{ "SigningKey lm2026:/etc/listmilter/keys/list.pem\n", NULL },
	{ "SigningKey lm2026\n", "t.conf:1: SigningKey: expected "
	  "SELECTOR:/path/to/key.pem" },
	{ "SigningKey lm:relative.pem\n", "t.conf:1: SigningKey: expected "
	  "SELECTOR:/path/to/key.pem" },
	{ "SigningKey l*m:/k.pem\n", "t.conf:1: SigningKey: bad selector "
	  "\"l*m\"" },
	{ "TrustedAuthservIDs mx.example.net, border.example.net\n", NULL },
	{ "LogBounces no\n", NULL },
	{ "\nSokcet unix:/x\n", "t.conf:2: unknown key \"Sokcet\"" },
	{ "Syslog maybe\n", "t.conf:1: Syslog: \"maybe\" is not yes or no" },
	{ "Syslog no\nSyslog yes\n", "t.conf:2: Syslog given twice" },
	{ "On-Error accept\n", NULL },
	{ "On-Error reject\n", "t.conf:1: On-Error: \"reject\" is not one of "
	  "tempfail|accept" },
	{ "DNSTimeout 0\n", "t.conf:1: DNSTimeout: \"0\" is not a number in "
	  "1..120" },
	{ "DNSTimeout 5s\n", "t.conf:1: DNSTimeout: \"5s\" is not a number in "
	  "1..120" },
	{ "DNSTimeout -3\n", "t.conf:1: DNSTimeout: \"-3\" is not a number in "
	  "1..120" },
	{ "DNSTimeout 120\n", NULL },
	{ "UMask 0022\n", NULL },
	{ "UMask 9\n", "t.conf:1: UMask: \"9\" is not an octal number in "
	  "0..511" },
	{ "Nameservers 127.0.0.1, 127.0.0.1@5353\r\n", NULL },
	{ "ListTable\n", NULL },
	{ "Socket unix:/x\0y\n", NULL },	/* length below stops at NUL */
};

static void
test_cases(void)
{
	struct lm_config c;
	char err[512];
	size_t i;
	int r;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lm_conf_defaults(&c, "/etc", "/run");
		err[0] = '\0';
		r = lm_conf_parse(&c, cases[i].text, strlen(cases[i].text),
		    "t.conf", err, sizeof err);
		CHECK(cases[i].err == NULL ? r == 0 : r != 0 &&
		    strcmp(err, cases[i].err) == 0, "case %zu: got r=%d "
		    "\"%s\", want \"%s\"", i, r, err, cases[i].err ?
		    cases[i].err : "(ok)");
		lm_conf_free(&c);
	}
}

static void
test_values(void)
{
	struct lm_config c;
	char err[512];
	const char *t = "socket   inet:12345@127.0.0.1  \n"
	    "ON-ERROR Accept\nsyslog off\nUMask 027\nDNSTimeout 9\n"
	    "AuthservID mx.example.org # the MX\nPidFile /run/l#m.pid\n";

	CHECK(lm_conf_defaults(&c, "/etc", "/run") == 0, "defaults");
	CHECK(strcmp(c.socket, "local:/run/listmilter/listmilter.sock") == 0,
	    "default socket under runstatedir: %s", c.socket);
	CHECK(strcmp(c.listtable, "/etc/listmilter/lists") == 0,
	    "default list table under sysconfdir: %s", c.listtable);
	CHECK(c.on_error == LM_ONERR_TEMPFAIL && c.syslog == 1 &&
	    c.dns_timeout == 5 && c.umask == 07, "numeric defaults");
	CHECK(lm_conf_parse(&c, t, strlen(t), "x", err, sizeof err) == 0,
	    "parse: %s", err);
	CHECK(strcmp(c.socket, "inet:12345@127.0.0.1") == 0, "value trimmed");
	CHECK(c.on_error == LM_ONERR_ACCEPT, "enum case-insensitive");
	CHECK(c.syslog == 0 && c.umask == 027 && c.dns_timeout == 9,
	    "bool/octal/int values");
	CHECK(strcmp(c.authservid, "mx.example.org") == 0, "comment after "
	    "whitespace stripped: \"%s\"", c.authservid);
	CHECK(strcmp(c.pidfile, "/run/l#m.pid") == 0, "'#' inside a value "
	    "kept: %s", c.pidfile);
	lm_conf_free(&c);
}

static void
test_table(void)
{
	const struct lm_confkey *k;
	struct lm_config c;
	char err[256];
	int n = 0, ok = 1;

	for (k = lm_conf_keys(); k->name != NULL; k++, n++)
		if (k->doc == NULL || k->def == NULL || strlen(k->doc) < 10)
			ok = 0;
	CHECK(ok && n >= 15, "every key has a default and a doc (%d keys)",
	    n);
	lm_conf_defaults(&c, "/etc", "/run");
	CHECK(lm_conf_check_socket(c.socket, err, sizeof err) == 0,
	    "default socket valid");
	lm_conf_free(&c);
}

int
main(void)
{
	test_cases();
	test_values();
	test_table();
	return LMT_DONE();
}
