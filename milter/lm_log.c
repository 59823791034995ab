/*
 * lm_log - syslog or stderr logging (see lm_log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lm_buf.h"
#include "lm_log.h"

/* Written once in lm_log_init() before threads exist, read-only after. */
static struct {
	int	 use_syslog;
	char	 ident[32];
} lm_log_dest = { 0, "listmilter" };

void
lm_log_init(const char *ident, int use_syslog, int facility)
{
	lm_strlcpy(lm_log_dest.ident, ident, sizeof lm_log_dest.ident);
	lm_log_dest.use_syslog = use_syslog;
	if (use_syslog)
		openlog(lm_log_dest.ident, LOG_PID | LOG_NDELAY, facility);
}

int
lm_log_facility(const char *name)
{
	static const struct { const char *n; int f; } tab[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 }
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcasecmp(name, tab[i].n) == 0)
			return tab[i].f;
	return -1;
}

static const char *
severity(int prio)
{
	switch (prio) {
	case LOG_INFO:
		return "info";
	case LOG_WARNING:
		return "warning";
	case LOG_ERR:
		return "error";
	case LOG_CRIT:
		return "fatal";
	default:
		return "debug";
	}
}

static void lm_vlog(int, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
lm_vlog(int prio, const char *fmt, va_list ap)
{
	char line[2048];

	(void)vsnprintf(line, sizeof line, fmt, ap);
	if (lm_log_dest.use_syslog) {
		syslog(prio, "%s", line);
		return;
	}
	/* one write(2) per line so concurrent threads never interleave */
	{
		char out[2200];
		int n = snprintf(out, sizeof out, "%s[%ld]: %s: %s\n",
		    lm_log_dest.ident, (long)getpid(), severity(prio), line);

		if (n > 0)
			(void)!write(STDERR_FILENO, out, (size_t)n <
			    sizeof out ? (size_t)n : sizeof out - 1);
	}
}

void
lm_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lm_vlog(prio, fmt, ap);
	va_end(ap);
}

void
msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lm_vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
