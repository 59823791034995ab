/*
 * noopmilter - the floor of the milter benchmark (tests/bench).
 *
 * A libmilter filter that does nothing: every callback returns CONTINUE
 * and end-of-message ACCEPT.  Two modes:
 *
 *   -m nrhdr  (default) xxfi_negotiate asks for SMFIP_NR_HDR only, so
 *             header events need no reply; every other step is sent and
 *             answered.  This is the bar listmilter is measured against
 *             (prior-art.md section 9: NR_HDR alone roughly doubles a
 *             plain no-op's throughput).
 *   -m plain  no xxfi_negotiate: libmilter's defaults, a reply per event.
 *
 * Usage: noopmilter -p unix:/path/sock [-m nrhdr|plain] [-b backlog]
 * Stops on SIGTERM/SIGHUP like any libmilter filter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

static sfsistat
nm_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	(void)ctx; (void)host; (void)sa;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_helo(SMFICTX *ctx, char *name)
{
	(void)ctx; (void)name;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static int nm_nrhdr;		/* set per process by -m; read-only after */

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx; (void)name; (void)value;
	return nm_nrhdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx; (void)chunk; (void)len;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static sfsistat
nm_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_close(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx; (void)f0; (void)f2; (void)f3;
	*pf0 = 0;			/* asks for no action */
	*pf1 = f1 & SMFIP_NR_HDR;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		"noopmilter", SMFI_VERSION, 0,
		nm_connect, nm_helo, nm_envfrom, nm_envrcpt, nm_header, nm_eoh,
		nm_body, nm_eom, nm_abort, nm_close, NULL, nm_data, NULL
	};
	const char *sock = NULL, *mode = "nrhdr";
	int c, backlog = 1024;

	while ((c = getopt(argc, argv, "p:m:b:")) != -1)
		switch (c) {
		case 'p': sock = optarg; break;
		case 'm': mode = optarg; break;
		case 'b': backlog = atoi(optarg); break;
		default: goto usage;
		}
	if (sock == NULL)
		goto usage;
	if (strcmp(mode, "nrhdr") == 0) {
		nm_nrhdr = 1;
		desc.xxfi_negotiate = nm_negotiate;
	} else if (strcmp(mode, "plain") != 0)
		goto usage;
	if (smfi_register(desc) != MI_SUCCESS ||
	    smfi_setconn((char *)sock) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS ||
	    smfi_setbacklog(backlog) != MI_SUCCESS) {
		fprintf(stderr, "noopmilter: cannot set up %s\n", sock);
		return 1;
	}
	(void)smfi_settimeout(600);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
usage:
	fprintf(stderr, "usage: noopmilter -p unix:/path [-m nrhdr|plain] "
	    "[-b backlog]\n");
	return 2;
}
