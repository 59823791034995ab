/*
 * lm_conf - the listmilter configuration file (listmilter.conf(5)).
 *
 * Format, as opendkim.conf and opendmarc.conf: one "Key value" per line,
 * keys case-insensitive, '#' starts a comment at the start of a line or
 * after whitespace, blank lines ignored, the value is the rest of the line
 * with surrounding whitespace removed.  Unknown keys, repeated keys, bad
 * values and values out of range are fatal, reported "FILE:LINE: reason".
 *
 * Every key is declared exactly once, in the table in lm_conf.c, with its
 * type, default, range and documentation; lm_conf_keys() exposes the
 * table (the documentation test checks every key against the man page).
 *
 * Ownership: lm_conf_parse() fills a caller-owned struct lm_config whose
 * strings it allocates; lm_conf_free() releases them.  Pure, no globals.
 */
#ifndef LM_CONF_H
#define LM_CONF_H

#include <stddef.h>

enum lm_onerror { LM_ONERR_TEMPFAIL = 0, LM_ONERR_ACCEPT };

struct lm_config {
	char	*socket;	/* Socket */
	char	*listtable;	/* ListTable */
	char	*nameservers;	/* Nameservers ("" = system resolver) */
	char	*unbound_conf;	/* UnboundConfigFile ("" = none) */
	char	*trust_anchor;	/* TrustAnchorFile ("" = none) */
	char	*authservid;	/* AuthservID ("" = host name) */
	char	*trusted_ids;	/* TrustedAuthservIDs */
	char	*signing_key;	/* SigningKey SELECTOR:PATH ("" = none) */
	int	 syslog;	/* Syslog */
	char	*facility;	/* SyslogFacility */
	char	*pidfile;	/* PidFile ("" = none) */
	char	*userid;	/* UserID ("" = do not change) */
	long	 umask;		/* UMask */
	int	 on_error;	/* On-Error: enum lm_onerror */
	long	 dns_timeout;	/* DNSTimeout, seconds */
	long	 max_wrap;	/* MaximumWrapSize, bytes */
	long	 max_header;	/* MaximumHeaderSize, bytes */
	int	 log_nonlist;	/* LogNonList */
	int	 log_bounces;	/* LogBounces */
};

enum lm_ctype { LM_CT_STR, LM_CT_BOOL, LM_CT_INT, LM_CT_OCTAL, LM_CT_ENUM };

struct lm_confkey {
	const char *name;
	enum lm_ctype type;
	const char *def;	/* default, in the file's syntax */
	long	 min, max;	/* LM_CT_INT / LM_CT_OCTAL range */
	const char *values;	/* LM_CT_ENUM: "a|b|c", index = stored int */
	size_t	 off;		/* offset in struct lm_config */
	int	(*check)(const char *, char *, size_t);	/* extra validation */
	const char *doc;
};

/* Set every key to its default.  sysconfdir/runstatedir are substituted
   for "@SYSCONFDIR@" / "@RUNSTATEDIR@" in defaults.  0 or -1 (ENOMEM). */
int	 lm_conf_defaults(struct lm_config *, const char *sysconfdir,
	    const char *runstatedir);

/* Parse file text into *c (which must hold defaults).  0, or -1 with
   "fname:line: reason" in err. */
int	 lm_conf_parse(struct lm_config *c, const char *text, size_t len,
	    const char *fname, char *err, size_t errsz);
void	 lm_conf_free(struct lm_config *);

const struct lm_confkey *lm_conf_keys(void);	/* NULL-name terminated */

/* Validate a libmilter connection string ("unix:/p", "local:/p",
   "inet:PORT@HOST", "inet6:PORT@HOST"); 0 ok, -1 with reason. */
int	 lm_conf_check_socket(const char *, char *err, size_t errsz);

/* Validate a SigningKey value: "" or SELECTOR:/absolute/path. */
int	 lm_conf_check_signkey(const char *, char *err, size_t errsz);

/* Validate a SyslogFacility name (mail, daemon, user, local0..7). */
int	 lm_conf_check_facility(const char *, char *err, size_t errsz);

/* Validate a Nameservers value (at most 8 IP addresses, optional @PORT). */
int	 lm_conf_check_nameservers(const char *, char *err, size_t errsz);

/* Split a Nameservers value "a, b@53" into at most `max` entries written
   as "ADDR" or "ADDR@PORT" into out[]; returns the count or -1. */
int	 lm_conf_nameservers(const char *, char out[][64], int max);

#endif
