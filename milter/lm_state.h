/*
 * lm_state - configuration snapshots and their atomic replacement.
 *
 * A snapshot is everything one message is processed with: the parsed
 * configuration, the list table and the resolver.  Each message takes a
 * reference at MAIL FROM and keeps that snapshot until it ends, so a
 * reload (SIGUSR1) never changes the rules under a message in flight.  A
 * reload builds a complete new snapshot first; if the new configuration
 * or list table has an error it is logged and the old snapshot keeps
 * serving.  Settings that only take effect at start-up (Socket, UserID,
 * PidFile, UMask, Syslog, SyslogFacility) are reported when changed.
 *
 * Ownership: lm_daemon holds one reference to the current snapshot; the
 * swap is done under the daemon mutex; refcounts are mutex-protected.
 */
#ifndef LM_STATE_H
#define LM_STATE_H

#include <pthread.h>

#include "lm_conf.h"
#include "lm_dkim.h"
#include "lm_dns.h"
#include "lm_listtab.h"
#include "lm_spf.h"

struct lm_snap {
	pthread_mutex_t	 mu;
	int		 refs;
	struct lm_config conf;
	struct lm_listtab *lists;
	struct lm_dns	*dns;		/* NULL when only checking (-n) */
	struct lm_spf	*spf;		/* over dns */
	struct lm_dkim	*dkim;		/* over dns */
	char		 authservid[256];
	struct lm_dkim_key *keys;	/* signing keys, loaded at (re)load */
	size_t		 nkeys;
	const struct lm_dkim_key *defkey;	/* SigningKey, or NULL */
	unsigned	 generation;
};

struct lm_daemon {
	pthread_mutex_t	 mu;
	struct lm_snap	*cur;
	const char	*conffile;
	unsigned	 generation;
};

/* Load configuration and list table; with_dns also builds the resolver
   (reusing `reuse` when the DNS settings did not change).  NULL with
   "FILE:LINE: reason" in err. */
struct lm_snap *lm_snap_load(const char *conffile, int with_dns,
	    struct lm_dns *reuse, char *err, size_t errsz);
void	 lm_snap_release(struct lm_snap *);
/* The signing key of a list (sign=, else SigningKey), or NULL. */
const struct lm_dkim_key *lm_snap_key(const struct lm_snap *,
	    const struct lm_list *);
/* Build the resolver (or share `reuse` when the DNS settings are the
   same) and the SPF and DKIM contexts over it.  0, or -1 with reason. */
int	 lm_snap_resolvers(struct lm_snap *, struct lm_dns *reuse, char *err,
	    size_t errsz);

void	 lm_daemon_init(struct lm_daemon *, const char *conffile,
	    struct lm_snap *first);
struct lm_snap *lm_daemon_acquire(struct lm_daemon *);
/* 0 swapped in, -1 kept the old one (reason in err). */
int	 lm_daemon_reload(struct lm_daemon *, char *err, size_t errsz);
void	 lm_daemon_fini(struct lm_daemon *);

/* Read a whole file, at most max bytes; NULL with reason. */
char	*lm_read_file(const char *path, size_t max, size_t *len, char *err,
	    size_t errsz);

#endif
