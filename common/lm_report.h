/*
 * lm_report - the aggregator of listmilter-report(8): counts the
 * listmilter(8) log lines that lm_logline classifies, per list and in
 * total, and renders the summary as text or as one JSON object (RFC
 * 8259) into an lm_buf.
 *
 * Input: bytes in any chunking (lm_report_feed, then lm_report_finish
 * for a last line without LF), or whole lines (lm_report_line).  Lines
 * are cut at LF; at most LM_LL_MAXLINE + 2 bytes of a line are kept, so
 * a longer line costs no more memory and is counted as unparsed when it
 * is the program's (lm_logline).  Counts are of log lines: a message the
 * MTA retries after a temporary failure counts once per attempt.
 *
 * What is counted for a list (struct lm_rp_stats): the per-message lines
 * by outcome (munged, wrapped, passed unchanged with action=pass, of
 * which marked with reason=dmarc-fail-marked, forged: refused with
 * reason=dmarc-fail, refused: other 5xx refusals, tempfailed: 4xx
 * refusals and error lines with result=tempfail, error_accepted: error
 * lines with result=accept, other: combinations the daemon does not
 * write); the author domain's policy (reject, quarantine, none, absent,
 * other: tempfail, baddomain, "-" and error lines); refusals by reason
 * (error lines as reason "error"); bounce lines by action (failed,
 * delayed, other), bounce notes (unreadable: not a DSN, malformed, too
 * large, out of memory; not_logged: the "N more recipients" count) and
 * bounce lines by status code.  Author domains are counted over all
 * lists, by policy.
 *
 * Memory bound: at most max_lists lists (default LM_RP_DEF_LISTS) and
 * max_domains author domains (default LM_RP_DEF_DOMAINS) are tracked by
 * name; further names, names longer than LM_RP_KEYMAX bytes, and more
 * than LM_RP_REASONS reasons or LM_RP_STATUSES status codes per list go
 * to "other" buckets, which keep the totals exact.  Each tracked list
 * costs about sizeof(struct lm_rp_stats) + LM_RP_KEYMAX bytes (about
 * 3.5 KB), each domain about 80 bytes plus its name, plus 8 bytes of
 * hash table per entry: with the defaults at most about 5 MB whatever
 * the input.  The buffers rendered are bounded by the number of entries
 * shown.
 *
 * Keys (list addresses, author domains) are compared after ASCII
 * lower-casing; output escapes them: in text, control characters (C0,
 * DEL, C1) and bytes that are not UTF-8 become '?'; in JSON they are
 * \u escapes and U+FFFD.
 *
 * Ownership: struct lm_report owns everything it allocates;
 * lm_report_free() releases it.  The optional unparsed callback gets
 * the line while it is being counted (valid only during the call).
 * Pure C, no globals; all state is in the struct.  Functions returning
 * int give 0 or -1 (out of memory, or the lm_buf maximum reached).
 */
#ifndef LM_REPORT_H
#define LM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "lm_buf.h"
#include "lm_logline.h"

#define LM_RP_KEYMAX		320	/* longest name tracked */
#define LM_RP_REASONS		32	/* refusal reasons per list */
#define LM_RP_STATUSES		32	/* bounce status codes per list */
#define LM_RP_DEF_LISTS		1000
#define LM_RP_DEF_DOMAINS	10000
#define LM_RP_MAX_LISTS		100000
#define LM_RP_MAX_DOMAINS	1000000
#define LM_RP_DEF_TOP		10
#define LM_RP_MAX_TOP		1000

enum lm_rp_pol {
	LM_RP_P_REJECT, LM_RP_P_QUARANTINE, LM_RP_P_NONE, LM_RP_P_ABSENT,
	LM_RP_P_OTHER, LM_RP_NPOL
};

enum lm_rp_dm {		/* dmarc= of the per-message lines */
	LM_RP_D_PASS, LM_RP_D_FAIL, LM_RP_D_NONE, LM_RP_D_TEMPERROR,
	LM_RP_D_UNEVALUATED, LM_RP_D_OTHER, LM_RP_NDM
};

struct lm_rp_reason {
	char		 name[32];
	unsigned long	 rejected, tempfailed;
};

struct lm_rp_status {
	char		 code[16];
	unsigned long	 n;
};

struct lm_rp_stats {
	unsigned long	 messages, munged, wrapped, passed, marked, forged;
	unsigned long	 refused, tempfailed, errors, error_accepted, other;
	unsigned long	 policy[LM_RP_NPOL];
	struct lm_rp_reason reason[LM_RP_REASONS];
	size_t		 nreason;
	unsigned long	 reason_rej_other, reason_tmp_other;
	unsigned long	 bounces, b_failed, b_delayed, b_other;
	unsigned long	 b_unread, b_notlogged;
	struct lm_rp_status status[LM_RP_STATUSES];
	size_t		 nstatus;
	unsigned long	 status_other;
};

struct lm_rp_list {
	char		 name[LM_RP_KEYMAX + 1];
	struct lm_rp_stats st;
};

struct lm_rp_domain {
	char		*name;
	unsigned long	 n[LM_RP_NPOL];
	unsigned long	 forged;
};

/* Names to indexes: open addressing, slot = index + 1, 0 = free. */
struct lm_rp_index {
	uint32_t	*slot;
	size_t		 cap;		/* power of two, or 0 */
};

struct lm_rp_lines {
	unsigned long	 read, ours, foreign, message, error, bounce;
	unsigned long	 bounce_note, nonlist, other, unparsed, too_long;
};

typedef void lm_rp_unparsed_fn(void *arg, unsigned long lineno,
    const char *line, size_t len, const char *why);

struct lm_report {
	const char	*ident;		/* program name, e.g. "listmilter" */
	size_t		 max_lists, max_domains, top;
	lm_rp_unparsed_fn *on_unparsed;	/* optional */
	void		*arg;

	struct lm_rp_lines lines;
	char		 first[64], last[64];	/* timestamps seen */
	struct lm_rp_list *list;		/* tracked lists */
	size_t		 nlist, list_cap;
	struct lm_rp_index list_ix;
	struct lm_rp_stats other_lists, total;
	int		 have_other_lists;
	struct lm_rp_domain *dom;
	size_t		 ndom, dom_cap;
	struct lm_rp_index dom_ix;
	unsigned long	 dom_other[LM_RP_NPOL];	/* untracked domains */
	unsigned long	 dmarc[LM_RP_NDM], trusted;
	unsigned long	 nonlist, errors_nolist;
	int		 oom;			/* a table could not grow */

	char		*line;			/* partial line of feed() */
	size_t		 linelen;
};

/* ident, limits of 0 mean the defaults; limits are clamped to the
   maxima above.  -1 when out of memory. */
int	 lm_report_init(struct lm_report *, const char *ident,
	    size_t max_lists, size_t max_domains, size_t top);
void	 lm_report_free(struct lm_report *);
void	 lm_report_line(struct lm_report *, const char *line, size_t len);
void	 lm_report_feed(struct lm_report *, const char *data, size_t len);
void	 lm_report_finish(struct lm_report *);
int	 lm_report_text(const struct lm_report *, lm_buf *out);
int	 lm_report_json(const struct lm_report *, lm_buf *out);

#endif
