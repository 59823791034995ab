/*
 * lm_state - snapshots of configuration, list table and resolver.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "lm_buf.h"
#include "lm_log.h"
#include "lm_state.h"

#define LM_MAX_CONF	(1024 * 1024)
#define LM_MAX_LISTS	(64 * 1024 * 1024)

char *
lm_read_file(const char *path, size_t max, size_t *len, char *err,
    size_t errsz)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		snprintf(err, errsz, "%s: %s", path, S_ISREG(st.st_mode) ?
		    "file too large" : "not a regular file");
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* Checks that need the file system. */
static int
validate(const struct lm_config *c, const char *file, char *err,
    size_t errsz)
{
	if (c->unbound_conf[0] != '\0' && access(c->unbound_conf, R_OK) != 0)
		return snprintf(err, errsz, "%s: UnboundConfigFile %s: %s",
		    file, c->unbound_conf, strerror(errno)), -1;
	if (c->trust_anchor[0] != '\0' && access(c->trust_anchor, R_OK) != 0)
		return snprintf(err, errsz, "%s: TrustAnchorFile %s: %s",
		    file, c->trust_anchor, strerror(errno)), -1;
	return 0;
}

static int
load_conf(struct lm_snap *s, const char *file, char *err, size_t errsz)
{
	char *text;
	size_t len;
	int r;

	if (lm_conf_defaults(&s->conf, LM_SYSCONFDIR, LM_RUNSTATEDIR) != 0)
		return snprintf(err, errsz, "out of memory"), -1;
	if ((text = lm_read_file(file, LM_MAX_CONF, &len, err, errsz)) == NULL)
		return -1;
	r = lm_conf_parse(&s->conf, text, len, file, err, errsz);
	free(text);
	if (r == 0)
		r = validate(&s->conf, file, err, errsz);
	return r;
}

static int
load_lists(struct lm_snap *s, char *err, size_t errsz)
{
	char *text;
	size_t len;
	int r;

	text = lm_read_file(s->conf.listtable, LM_MAX_LISTS, &len, err, errsz);
	if (text == NULL)
		return -1;
	r = lm_listtab_parse(text, len, s->conf.listtable, &s->lists, err,
	    errsz);
	free(text);
	return r;
}

static struct lm_dkim_key *
find_key(struct lm_snap *s, const char *sel, const char *path)
{
	size_t i;

	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].selector, sel) == 0 &&
		    strcmp(s->keys[i].path, path) == 0)
			return &s->keys[i];
	return NULL;
}

/* Load one key unless already loaded; where: "FILE:LINE" for errors. */
static int
add_key(struct lm_snap *s, const char *sel, const char *path,
    const char *where, char *err, size_t errsz)
{
	struct lm_dkim_key *k;
	char why[512];

	if (find_key(s, sel, path) != NULL)
		return 0;
	k = realloc(s->keys, (s->nkeys + 1) * sizeof *k);
	if (k == NULL)
		return snprintf(err, errsz, "out of memory"), -1;
	s->keys = k;
	if (lm_dkim_key_load(sel, path, &s->keys[s->nkeys], why,
	    sizeof why) != 0)
		return snprintf(err, errsz, "%s: %s", where, why), -1;
	s->nkeys++;
	return 0;
}

static int
load_keys(struct lm_snap *s, const char *file, char *err, size_t errsz)
{
	const char *sk = s->conf.signing_key, *colon = strchr(sk, ':');
	char sel[64], where[1100];
	size_t i;

	if (colon != NULL && (size_t)(colon - sk) < sizeof sel) {
		memcpy(sel, sk, (size_t)(colon - sk));
		sel[colon - sk] = '\0';
		snprintf(where, sizeof where, "%s: SigningKey", file);
		if (add_key(s, sel, colon + 1, where, err, errsz) != 0)
			return -1;
	}
	for (i = 0; i < s->lists->n; i++) {
		const struct lm_list *l = &s->lists->v[i];

		if (l->sign_key == NULL)
			continue;
		snprintf(where, sizeof where, "%s:%d: sign", s->conf.listtable,
		    l->line);
		if (add_key(s, l->sign_selector, l->sign_key, where, err,
		    errsz) != 0)
			return -1;
	}
	if (colon != NULL && (size_t)(colon - sk) < sizeof sel)
		s->defkey = find_key(s, sel, colon + 1);
	return 0;
}

const struct lm_dkim_key *
lm_snap_key(const struct lm_snap *s, const struct lm_list *l)
{
	size_t i;

	if (l->sign_selector == NULL)
		return s->defkey;
	for (i = 0; l->sign_key != NULL && i < s->nkeys; i++)
		if (strcmp(s->keys[i].selector, l->sign_selector) == 0 &&
		    strcmp(s->keys[i].path, l->sign_key) == 0)
			return &s->keys[i];
	return NULL;			/* sign=none */
}

static void
set_authservid(struct lm_snap *s)
{
	if (s->conf.authservid[0] != '\0')
		lm_strlcpy(s->authservid, s->conf.authservid,
		    sizeof s->authservid);
	else if (gethostname(s->authservid, sizeof s->authservid - 1) != 0)
		lm_strlcpy(s->authservid, "localhost", sizeof s->authservid);
	s->authservid[sizeof s->authservid - 1] = '\0';
}

struct lm_snap *
lm_snap_load(const char *file, int with_dns, struct lm_dns *reuse,
    char *err, size_t errsz)
{
	struct lm_snap *s = calloc(1, sizeof *s);

	if (s == NULL)
		return snprintf(err, errsz, "out of memory"), NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->refs = 1;
	if (load_conf(s, file, err, errsz) != 0 ||
	    load_lists(s, err, errsz) != 0 ||
	    load_keys(s, file, err, errsz) != 0)
		goto fail;
	set_authservid(s);
	if (with_dns && lm_snap_resolvers(s, reuse, err, errsz) != 0)
		goto fail;
	return s;
fail:
	lm_snap_release(s);
	return NULL;
}

int
lm_snap_resolvers(struct lm_snap *s, struct lm_dns *reuse, char *err,
    size_t errsz)
{
	if (reuse != NULL && lm_dns_same_config(reuse, &s->conf))
		s->dns = lm_dns_ref(reuse);
	else if ((s->dns = lm_dns_new(&s->conf, err, errsz)) == NULL)
		return -1;
	if ((s->spf = lm_spf_new(s->dns, err, errsz)) == NULL ||
	    (s->dkim = lm_dkim_new(s->dns, err, errsz)) == NULL)
		return -1;
	return 0;
}

void
lm_snap_release(struct lm_snap *s)
{
	int last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (!last)
		return;
	if (s->dkim != NULL)
		lm_dkim_free(s->dkim);
	if (s->spf != NULL)
		lm_spf_free(s->spf);
	lm_dns_unref(s->dns);
	while (s->nkeys > 0)
		lm_dkim_key_free(&s->keys[--s->nkeys]);
	free(s->keys);
	lm_listtab_free(s->lists);
	lm_conf_free(&s->conf);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void
lm_daemon_init(struct lm_daemon *d, const char *conffile,
    struct lm_snap *first)
{
	pthread_mutex_init(&d->mu, NULL);
	d->cur = first;
	d->conffile = conffile;
	d->generation = first->generation = 1;
}

struct lm_snap *
lm_daemon_acquire(struct lm_daemon *d)
{
	struct lm_snap *s;

	pthread_mutex_lock(&d->mu);
	s = d->cur;
	pthread_mutex_lock(&s->mu);
	s->refs++;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&d->mu);
	return s;
}

static void
warn_static(const struct lm_config *o, const struct lm_config *n)
{
	if (strcmp(o->socket, n->socket) != 0 ||
	    strcmp(o->userid, n->userid) != 0 ||
	    strcmp(o->pidfile, n->pidfile) != 0 || o->umask != n->umask ||
	    o->syslog != n->syslog || strcmp(o->facility, n->facility) != 0)
		msg_warn("reload: Socket, UserID, PidFile, UMask, Syslog and "
		    "SyslogFacility take effect only after a restart");
}

int
lm_daemon_reload(struct lm_daemon *d, char *err, size_t errsz)
{
	struct lm_snap *old = lm_daemon_acquire(d), *s;

	s = lm_snap_load(d->conffile, 1, old->dns, err, errsz);
	if (s == NULL) {
		lm_snap_release(old);
		return -1;
	}
	warn_static(&old->conf, &s->conf);
	pthread_mutex_lock(&d->mu);
	s->generation = ++d->generation;
	d->cur = s;
	pthread_mutex_unlock(&d->mu);
	lm_snap_release(old);	/* our acquire */
	lm_snap_release(old);	/* the daemon's reference */
	return 0;
}

void
lm_daemon_fini(struct lm_daemon *d)
{
	lm_snap_release(d->cur);
	d->cur = NULL;
	pthread_mutex_destroy(&d->mu);
}
