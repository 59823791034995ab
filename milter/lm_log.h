/*
 * lm_log - the daemon's logging, in Postfix's msg_* severity ladder.
 *
 * msg_info for the per-message line and state changes, msg_warn for
 * recoverable problems, msg_error for failures of one message (logged
 * once, at the milter boundary, with the queue id), msg_fatal for start-up
 * failures (exits 1).  Output goes to syslog(3), or to stderr with a
 * "listmilter[pid]: severity: " prefix when Syslog is no.
 *
 * The destination is chosen once by lm_log_init() before any thread
 * starts and never changes afterwards (write-once process state, as
 * syslog's own openlog()).
 */
#ifndef LM_LOG_H
#define LM_LOG_H

#include <syslog.h>

void	 lm_log_init(const char *ident, int use_syslog, int facility);
int	 lm_log_facility(const char *name);	/* -1 if unknown */
void	 lm_log(int prio, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define msg_info(...)	lm_log(LOG_INFO, __VA_ARGS__)
#define msg_warn(...)	lm_log(LOG_WARNING, __VA_ARGS__)
#define msg_error(...)	lm_log(LOG_ERR, __VA_ARGS__)
void	 msg_fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
