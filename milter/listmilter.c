/*
 * listmilter - DMARC-aware mailing-list rewriting as a milter.
 *
 * main(): command line, configuration check (-n), start-up in the order
 * OpenDKIM and OpenDMARC use (libraries.md 2.1): configuration, pid
 * file, privilege drop, smfi_register, smfi_setconn, smfi_opensocket
 * (which removes a stale UNIX socket), then the resolver and smfi_main().
 * Signals: smfi_main() handles SIGTERM, SIGINT and SIGHUP (all stop the
 * filter); SIGUSR1 reloads configuration and list table, handled by a
 * sigwait thread of our own.  At exit the socket and pid file are
 * removed.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <libmilter/mfapi.h>

#include "lm_buf.h"
#include "lm_log.h"
#include "lm_milter.h"
#include "lm_state.h"

static void
usage(void)
{
	fprintf(stderr, "usage: listmilter [-fnV] [-c config-file]\n"
	    "  -c FILE  configuration file (default %s/listmilter.conf)\n"
	    "  -f       stay in the foreground\n"
	    "  -n       check the configuration and list table, then exit\n"
	    "  -V       print the version and exit\n", LM_SYSCONFDIR);
	exit(2);
}

static void
write_pidfile(const char *path)
{
	FILE *fp;

	if (path[0] == '\0')
		return;
	if ((fp = fopen(path, "w")) == NULL)
		msg_fatal("PidFile %s: %s", path, strerror(errno));
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0)
		msg_fatal("PidFile %s: %s", path, strerror(errno));
}

static const char *socket_path(const char *);

/* Resolve UserID ("user" or "user:group"); 0 and uid/gid, or -1. */
static int
lookup_user(const char *userid, uid_t *uid, gid_t *gid, char *name,
    size_t namesz)
{
	char user[128], *grp;
	struct passwd *pw;
	struct group *gr;

	lm_strlcpy(user, userid, sizeof user);
	if ((grp = strchr(user, ':')) != NULL)
		*grp++ = '\0';
	if ((pw = getpwnam(user)) == NULL)
		msg_fatal("UserID: no such user \"%s\"", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	lm_strlcpy(name, pw->pw_name, namesz);
	if (grp != NULL) {
		if ((gr = getgrnam(grp)) == NULL)
			msg_fatal("UserID: no such group \"%s\"", grp);
		*gid = gr->gr_gid;
	}
	return 0;
}

/* After the socket is open: hand it to the service user, then become it. */
static void
drop_privileges(const char *userid, const char *sockpath)
{
	char name[128];
	uid_t uid;
	gid_t gid;

	if (userid[0] == '\0')
		return;
	(void)lookup_user(userid, &uid, &gid, name, sizeof name);
	if (sockpath != NULL && chown(sockpath, uid, gid) != 0)
		msg_fatal("UserID %s: chown %s: %s", userid, sockpath,
		    strerror(errno));
	if (initgroups(name, gid) != 0 || setgid(gid) != 0 ||
	    setuid(uid) != 0)
		msg_fatal("UserID %s: %s", userid, strerror(errno));
}

static const char *
socket_path(const char *sock)
{
	if (strncmp(sock, "unix:", 5) == 0)
		return sock + 5;
	if (strncmp(sock, "local:", 6) == 0)
		return sock + 6;
	return NULL;
}

/* SIGUSR1: reload configuration and list table. */
static void *
reload_thread(void *arg)
{
	struct lm_daemon *d = arg;
	char err[1024];
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR2)		/* main(): shutting down */
			return NULL;
		if (lm_daemon_reload(d, err, sizeof err) != 0)
			msg_error("reload failed, keeping the running "
			    "configuration: %s", err);
		else
			msg_info("reloaded %s (generation %u, %zu lists)",
			    d->conffile, d->generation, d->cur->lists->n);
	}
	return NULL;
}

static void
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

#define LM_MAX_PACKET	((size_t)1024 * 1024 - 1)

static void
start_milter(struct lm_daemon *d, const struct lm_config *c)
{
	if (lm_milter_register(d) != 0)
		msg_fatal("smfi_register failed");
	if (smfi_setconn((char *)c->socket) != MI_SUCCESS)
		msg_fatal("smfi_setconn %s failed", c->socket);
	(void)umask((mode_t)c->umask);
	if (smfi_opensocket(1) != MI_SUCCESS)
		msg_fatal("cannot open milter socket %s", c->socket);
	(void)smfi_setbacklog(128);
	(void)smfi_settimeout(600);
	/* libmilter drops a connection whose packet exceeds 64 KB by
	   default, and Postfix sends a header field of up to
	   header_size_limit (100 KB) in one packet: accept up to 1 MB so
	   MaximumHeaderSize decides, with a clear 552 */
	(void)smfi_setmaxdatasize(LM_MAX_PACKET);
}

static int
run(const char *conffile, int foreground)
{
	struct lm_daemon d;
	struct lm_snap *s;
	struct lm_config *c;
	char err[1024], sock[256], pidfile[1024];
	pthread_t thr;
	int rc;

	if ((s = lm_snap_load(conffile, 0, NULL, err, sizeof err)) == NULL)
		fprintf(stderr, "%s\n", err), exit(1);
	c = &s->conf;
	/* a reload frees this snapshot: keep what exit needs */
	lm_strlcpy(sock, c->socket, sizeof sock);
	lm_strlcpy(pidfile, c->pidfile, sizeof pidfile);
	lm_log_init("listmilter", c->syslog, lm_log_facility(c->facility));
	if (!foreground && daemon(0, 0) != 0)
		msg_fatal("daemon: %s", strerror(errno));
	block_signals();
	write_pidfile(c->pidfile);
	lm_daemon_init(&d, conffile, s);
	start_milter(&d, c);
	drop_privileges(c->userid, socket_path(sock));
	if (lm_snap_resolvers(s, NULL, err, sizeof err) != 0)
		msg_fatal("resolver: %s", err);
	if (pthread_create(&thr, NULL, reload_thread, &d) != 0)
		msg_fatal("cannot start the reload thread");
	msg_info("listmilter %s starting: socket=%s lists=%zu",
	    PACKAGE_VERSION, c->socket, s->lists->n);
	rc = smfi_main();
	(void)pthread_kill(thr, SIGUSR2);	/* ends reload_thread() */
	(void)pthread_join(thr, NULL);
	lm_daemon_fini(&d);
	if (socket_path(sock) != NULL)
		(void)unlink(socket_path(sock));
	if (pidfile[0] != '\0')
		(void)unlink(pidfile);
	msg_info("listmilter stopped");
	return rc == MI_SUCCESS ? 0 : 1;
}

static int
check_only(const char *conffile)
{
	char err[1024];
	struct lm_snap *s = lm_snap_load(conffile, 0, NULL, err, sizeof err);

	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: OK, %zu lists in %s\n", conffile, s->lists->n,
	    s->conf.listtable);
	lm_snap_release(s);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *conffile = LM_SYSCONFDIR "/listmilter.conf";
	int ch, foreground = 0, check = 0;

	while ((ch = getopt(argc, argv, "c:fnV")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("listmilter %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (check)
		return check_only(conffile);
	return run(conffile, foreground);
}
