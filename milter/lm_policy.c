/*
 * lm_policy - RFC 9989 policy discovery (see lm_policy.h).
 */
#include <stdio.h>
#include <string.h>

#include <unbound.h>

#include "lm_auth.h"
#include "lm_buf.h"
#include "lm_policy.h"

#define T_A	1
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28

enum fetch { F_FOUND, F_NONE, F_TEMPFAIL };

/* _dmarc.<name>: exactly one valid record -> F_FOUND with *rec. */
static enum fetch
fetch_record(struct lm_dns *dns, const char *name,
    const struct timespec *deadline, struct lm_dmarc_rec *rec,
    struct lm_policy_result *out)
{
	char q[300], txt[4100];
	struct ub_result *res = NULL;
	enum lm_dns_rc rc;
	int i, n, found = 0;

	snprintf(q, sizeof q, "_dmarc.%s", name);
	out->queries++;
	rc = lm_dns_query(dns, q, T_TXT, deadline, &res);
	if (rc == LM_DNS_TEMPFAIL || rc == LM_DNS_PERMFAIL) {
		snprintf(out->detail, sizeof out->detail, "%s TXT: %s", q,
		    lm_dns_rc_name(rc));
		if (res != NULL)
			lm_dns_free(res);
		return F_TEMPFAIL;
	}
	for (i = 0; rc == LM_DNS_OK && res->data[i] != NULL; i++) {
		n = lm_dns_txt_join(res->data[i], res->len[i], txt, sizeof txt);
		if (n < 0 || !lm_dmarc_is_record(txt, (size_t)n))
			continue;
		if (++found == 1 && lm_dmarc_parse(txt, (size_t)n, rec) != 0)
			found = 99;	/* invalid record: none at this name */
	}
	if (res != NULL)
		lm_dns_free(res);
	return found == 1 ? F_FOUND : F_NONE;
}

/* 1 non-existent, 0 exists, -1 unknown (DNS failure). */
static int
nonexistent(struct lm_dns *dns, const char *domain,
    const struct timespec *deadline, struct lm_policy_result *out)
{
	static const int types[] = { T_A, T_AAAA, T_MX };
	struct ub_result *res;
	enum lm_dns_rc rc;
	size_t i;
	int unknown = 0;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		out->queries++;
		rc = lm_dns_query(dns, domain, types[i], deadline, &res);
		if (res != NULL)
			lm_dns_free(res);
		if (rc == LM_DNS_NXDOMAIN)
			return 1;
		if (rc == LM_DNS_OK)
			return 0;
		if (rc != LM_DNS_NODATA)
			unknown = 1;
	}
	return unknown ? -1 : 1;
}

static void
choose(struct lm_dns *dns, const char *author, int at_author,
    const struct timespec *deadline, struct lm_policy_result *out)
{
	enum lm_pol a, b;
	const char *ta, *tb;
	int ne = 0;

	if (!at_author && out->rec.np != LM_POL_UNSET)
		ne = nonexistent(dns, author, deadline, out);
	if (ne >= 0) {
		out->policy = lm_dmarc_policy(&out->rec, at_author, ne,
		    &out->tag);
		return;
	}
	a = lm_dmarc_policy(&out->rec, 0, 1, &ta);
	b = lm_dmarc_policy(&out->rec, 0, 0, &tb);
	out->policy = a > b ? a : b;
	out->tag = a > b ? ta : tb;
	snprintf(out->detail, sizeof out->detail, "existence of %s unknown",
	    author);
}

void
lm_policy_lookup(struct lm_dns *dns, const char *author,
    const struct timespec *deadline, struct lm_policy_result *out)
{
	char names[LM_DMARC_WALK_MAX][256];
	int i, n;

	memset(out, 0, sizeof *out);
	out->tag = "";
	if ((n = lm_dmarc_walk(author, names, LM_DMARC_WALK_MAX)) < 0) {
		out->lookup = LM_LK_BADDOMAIN;
		snprintf(out->detail, sizeof out->detail, "not a DNS name");
		return;
	}
	for (i = 0; i < n; i++) {
		switch (fetch_record(dns, names[i], deadline, &out->rec, out)) {
		case F_TEMPFAIL:
			out->lookup = LM_LK_TEMPFAIL;
			return;
		case F_NONE:
			continue;
		case F_FOUND:
			out->lookup = LM_LK_FOUND;
			lm_strlcpy(out->domain, names[i], sizeof out->domain);
			choose(dns, names[0], i == 0, deadline, out);
			return;
		}
	}
	out->lookup = LM_LK_NONE;
}

int
lm_policy_orgdomain(struct lm_dns *dns, const char *domain,
    const struct timespec *deadline, char *out, size_t outsz)
{
	char names[LM_DMARC_WALK_MAX][256];
	int has[LM_DMARC_WALK_MAX] = { 0 };
	char psd[LM_DMARC_WALK_MAX] = { 0 };
	struct lm_policy_result scratch;
	struct lm_dmarc_rec rec;
	int i, n;

	lm_strlcpy(out, domain, outsz);
	if ((n = lm_dmarc_walk(domain, names, LM_DMARC_WALK_MAX)) < 0)
		return 0;
	memset(&scratch, 0, sizeof scratch);
	for (i = 0; i < n; i++) {
		switch (fetch_record(dns, names[i], deadline, &rec, &scratch)) {
		case F_TEMPFAIL:
			return -1;
		case F_FOUND:
			has[i] = 1;
			psd[i] = rec.psd;
			if (rec.psd == 'n' || (rec.psd == 'y' && i > 0))
				n = i + 1;	/* decided: stop walking */
			break;
		case F_NONE:
			break;
		}
	}
	(void)lm_auth_orgdomain(names, has, psd, n, out, outsz);
	return 0;
}
