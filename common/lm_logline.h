/*
 * lm_logline - parse one syslog line that listmilter(8) may have written.
 *
 * Recognised prefixes (the program tag is what matters; whatever comes
 * before it is the timestamp and the host):
 *  - RFC 3164 / rsyslog traditional: "Dec  4 05:10:01 host TAG: MSG";
 *  - rsyslog file format, journalctl -o short-iso and friends:
 *    "2026-12-04T05:10:01.123456+00:00 host TAG: MSG";
 *  - journalctl -o short: "Dec 04 05:10:01 host TAG: MSG" (also -o
 *    short-full, short-precise, short-unix, short-monotonic);
 *  - a "<PRI>" before any of these;
 *  - RFC 5424 on the wire: "<PRI>1 TS HOST APP PROCID MSGID SD MSG";
 *  - Syslog no (stderr of the daemon): "TAG: SEVERITY: MSG".
 * TAG is "NAME[PID]:" or "NAME:", the first space-separated token ending
 * in ':' among the first LM_LL_MAXPRE + 1 tokens; the line is from the
 * program when NAME equals the ident given (exactly, case-sensitive).
 * A leading "info: ", "warning: ", "error: ", "fatal: " or "debug: " of
 * MSG (the stderr severity) is skipped.
 *
 * MSG is then classified as one of the lines of the LOGGING section of
 * listmilter(8), or as another line of the program (start-up, reload,
 * warnings without a queue id), or as unparsed: a line that starts like
 * a per-message line ("QID: list=", "QID: bounce ") but lacks the fields
 * the daemon always writes or has invalid values, or a line longer than
 * LM_LL_MAXLINE bytes.
 *
 * Fields: "key=value" tokens separated by spaces or tabs; key is 1 to
 * LM_LL_MAXKEY of [A-Za-z0-9_.-].  A value that starts with '"' is
 * quoted: the daemon writes detail=, error= and diag= raw between double
 * quotes, without escapes, so the value ends at the first '"' that is
 * followed by the end of the line (trailing blanks allowed) or by blanks
 * and another "key="; without such a quote the value runs to the end of
 * the line (a line cut by syslog) and the line is marked unterminated.
 * Unquoted values end at the next blank.  Tokens without '=' are words;
 * the text from the first word to the end is kept as the note (bounce
 * lines "... to=X not a delivery status notification").  At most
 * LM_LL_MAXFIELDS fields are kept (the rest are counted in dropped).  A
 * key given twice is legal; lm_logline_get() returns the first, so text
 * inside a quoted value that imitates a later field never overrides the
 * daemon's own fields, which come first.
 *
 * Ownership: every lm_ll_str points into the caller's line, which must
 * outlive the result; nothing is allocated.  Pure C, no globals; the scan
 * is bounded by the length given (no NUL needed, NUL bytes are data) and
 * linear in it.
 */
#ifndef LM_LOGLINE_H
#define LM_LOGLINE_H

#include <stddef.h>

#define LM_LL_MAXLINE	8192	/* longer lines are unparsed */
#define LM_LL_MAXFIELDS	32	/* fields kept per line */
#define LM_LL_MAXKEY	32	/* longest key */
#define LM_LL_MAXQID	64	/* longest queue id */
#define LM_LL_MAXPRE	6	/* tokens before the tag (timestamp, host) */

enum lm_ll_kind {
	LM_LL_FOREIGN,		/* not the program's: ignore */
	LM_LL_OTHER,		/* the program's, no per-message line */
	LM_LL_UNPARSED,		/* a per-message line gone wrong; why set */
	LM_LL_MESSAGE,		/* QID: list=L ... action=A ... result=R */
	LM_LL_ERROR,		/* QID: list=L error="..." result=R */
	LM_LL_BOUNCE,		/* QID: bounce list=L ... action= status= */
	LM_LL_BOUNCE_NOTE,	/* QID: bounce list=L <text>; more */
	LM_LL_NONLIST		/* QID: not list mail, accepted unchanged */
};

struct lm_ll_str {
	const char	*p;		/* NULL when absent */
	size_t		 n;
};

struct lm_ll_field {
	struct lm_ll_str key, val;	/* val without the quotes */
	int		 quoted;
};

struct lm_logline {
	enum lm_ll_kind	 kind;
	const char	*why;		/* UNPARSED: static text */
	struct lm_ll_str ts;		/* timestamp text, may be absent */
	struct lm_ll_str host, prog, pid, sev, qid;
	struct lm_ll_str text;		/* MSG after "QID: " (or all of MSG) */
	struct lm_ll_str note;		/* first word to the end, if any */
	size_t		 nf;
	struct lm_ll_field f[LM_LL_MAXFIELDS];
	size_t		 dropped;	/* fields beyond LM_LL_MAXFIELDS */
	int		 unterminated;	/* a quoted value had no end */
	int		 too_long;	/* UNPARSED: over LM_LL_MAXLINE */
	unsigned long	 more;		/* BOUNCE_NOTE: N more recipients */
};

/* Parse line[0..len) (a trailing LF / CR LF is ignored) for the program
   named ident (e.g. "listmilter").  Always fills *out. */
void	 lm_logline_parse(const char *line, size_t len, const char *ident,
	    struct lm_logline *out);
/* The first field named key: 1 and *val, or 0 (val->p = NULL). */
int	 lm_logline_get(const struct lm_logline *, const char *key,
	    struct lm_ll_str *val);
int	 lm_ll_eq(struct lm_ll_str, const char *);	/* exact compare */
const char *lm_ll_kind_name(enum lm_ll_kind);

#endif
