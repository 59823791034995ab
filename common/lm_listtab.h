/*
 * lm_listtab - the list table: which recipient addresses are lists, and
 * how each list is treated.
 *
 * Format (docs/listmilter.conf.5, "LIST TABLE"): one list per line,
 *     ADDRESS [key=value ...]
 * values may be double-quoted ("\"" and "\\" escape inside quotes), '#'
 * starts a comment outside quotes, blank lines are ignored, addresses are
 * case-insensitive.  ADDRESS is local@domain, or @domain for a whole list
 * domain: every address of that domain except the conventional owner-*,
 * *-owner, *-request and *-bounces addresses (case-insensitive).  An exact
 * entry wins over a domain entry.  Duplicate addresses, unknown keys, bad
 * values and over-long lines (> 4096 bytes) are errors reported as
 * "FILE:LINE: reason".
 *
 * Keys: name= (display name, default the local part), action=
 * munge|wrap|reject|none (default munge), mitigate=policy|always|needed
 * (default policy), reply=author|list (default author), bounce=ADDRESS|
 * none (default owner-LOCAL@DOMAIN), enforce=yes|no (default yes),
 * quarantine=reject|mark (default reject), temperror=tempfail|accept
 * (default tempfail), sign=SELECTOR:PATH|none (DKIM-sign the list copy
 * with d=<list domain>; default: the SigningKey configuration key).  Each key is declared once in the option
 * table in lm_listtab.c, which also carries its documentation string
 * (lm_listtab_keys() exposes it for the documentation test).
 *
 * Ownership: lm_listtab_parse() returns a table the caller frees with
 * lm_listtab_free(); lm_listtab_match() fills a caller-owned lm_listref
 * that points into the table (valid while the table lives).  Pure, no
 * globals.
 */
#ifndef LM_LISTTAB_H
#define LM_LISTTAB_H

#include <stddef.h>

enum lm_action { LM_ACT_MUNGE = 0, LM_ACT_WRAP, LM_ACT_REJECT, LM_ACT_NONE };
enum lm_mitigate { LM_MIT_POLICY = 0, LM_MIT_ALWAYS, LM_MIT_NEEDED };
enum lm_reply { LM_REPLY_AUTHOR = 0, LM_REPLY_LIST };

struct lm_list {
	char	*local;		/* lower-cased local part; NULL for @domain */
	char	*domain;	/* lower-cased domain */
	char	*name;		/* name= as given, NULL for the default */
	char	*bounce;	/* bounce= address, NULL for the default */
	int	 bounce_none;	/* bounce=none */
	enum lm_action action;
	enum lm_mitigate mitigate;
	enum lm_reply reply;
	int	 no_enforce;	/* enforce=no */
	int	 quarantine_mark;	/* quarantine=mark */
	int	 temperror_accept;	/* temperror=accept */
	char	*sign_selector;	/* sign=SELECTOR:PATH, NULL if unset */
	char	*sign_key;	/* PATH of the PEM private key */
	int	 line;		/* line in the table file */
};

struct lm_listtab {
	struct lm_list *v;
	size_t	 n;
};

/* The resolved list for one recipient address. */
struct lm_listref {
	const struct lm_list *cfg;
	char	 addr[320];	/* local@domain, lower-cased */
	char	 local[128];
	char	 domain[256];
	char	 name[256];	/* effective display name */
	char	 bounce[320];	/* effective bounce address, "" if none */
};

struct lm_listkey {
	const char *name;
	const char *values;	/* e.g. "munge|wrap|reject|none", or "TEXT" */
	const char *def;
	const char *doc;
};

/* Parse the table text.  Returns 0, or -1 with "fname:line: reason" in
   err.  *out is NULL on error. */
int	 lm_listtab_parse(const char *text, size_t len, const char *fname,
	    struct lm_listtab **out, char *err, size_t errsz);
void	 lm_listtab_free(struct lm_listtab *);

/* Look an envelope address (local, domain; any case) up.  Returns 1 and
   fills *ref when it is a list address, 0 otherwise. */
int	 lm_listtab_match(const struct lm_listtab *, const char *local,
	    const char *domain, struct lm_listref *ref);

/* Is local@domain the bounce address of a list (its effective bounce=,
   by default owner-LOCAL@DOMAIN)?  Returns 1 and fills *ref with that
   list, 0 otherwise.  Explicit bounce= addresses are found by a linear
   scan; the default form by stripping "owner-". */
int	 lm_listtab_bounce(const struct lm_listtab *, const char *local,
	    const char *domain, struct lm_listref *ref);

/* Check a "SELECTOR:/absolute/path" signing-key spec (sign=, SigningKey):
   the selector length (1..63), -1 when the form is wrong, -2 when the
   selector has a character other than [A-Za-z0-9._-]. */
int	 lm_listtab_signspec(const char *v, size_t n);

/* The option table, NULL-name terminated. */
const struct lm_listkey *lm_listtab_keys(void);

const char *lm_action_name(enum lm_action);

#endif
