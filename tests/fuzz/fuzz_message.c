/*
 * fuzz_message - the whole message path: header section -> facts ->
 * lm_decide -> lm_rewrite, with the invariants that matter checked:
 *  - every edit value is one header field (no CR, every LF followed by
 *    WSP, no line over 998 bytes);
 *  - a munged or wrapped From parses back to exactly one mailbox, the
 *    list address;
 *  - a refusal has a 4xx/5xx code and a reply text without CR/LF.
 * The first input byte selects the list options and the DMARC outcome.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_addr.h"
#include "lm_msg.h"
#include "lm_rewrite.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
load_headers(struct lm_msg *m, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t s = i, colon, e;
		char name[80];

		while (i < n && !(p[i] == '\n' && (i + 1 >= n ||
		    (p[i + 1] != ' ' && p[i + 1] != '\t'))))
			i++;
		e = i++;
		for (colon = s; colon < e && p[colon] != ':'; colon++)
			;
		if (colon == e || colon == s || colon - s >= sizeof name)
			continue;
		memcpy(name, p + s, colon - s);
		name[colon - s] = '\0';
		if (strlen(name) != colon - s)
			continue;		/* NUL in the name */
		(void)lm_msg_addhdr(m, name, p + colon + 1, e - colon - 1);
	}
}

static void
check_value(const char *v)
{
	size_t col = 0;

	for (; *v != '\0'; v++) {
		if (*v == '\r')
			abort();
		if (*v == '\n') {
			if (v[1] != ' ' && v[1] != '\t')
				abort();
			col = 0;
		} else if (++col > 998)
			abort();
	}
}

static void
check_from(const struct lm_edits *e, const char *list)
{
	struct lm_addrlist l;
	size_t i;

	for (i = 0; i < e->n; i++) {
		check_value(e->v[i].value);
		if (strcmp(e->v[i].name, "From") != 0 || e->v[i].value[0] == '\0')
			continue;
		memset(&l, 0, sizeof l);
		if (lm_addr_parse(e->v[i].value, strlen(e->v[i].value), &l,
		    NULL, 0) != LM_ADDR_OK || l.n != 1 || l.has_group ||
		    strcmp(l.mb[0].addr, list) != 0)
			abort();
		lm_addrlist_free(&l);
	}
}

static void
run(struct lm_msg *m, uint8_t sel)
{
	static const enum lm_lookup lk[] = { LM_LK_FOUND, LM_LK_NONE,
	    LM_LK_TEMPFAIL, LM_LK_BADDOMAIN };
	struct lm_list cfg = { 0 };
	struct lm_listref ref = { 0 };
	struct lm_addrlist from = { 0 };
	const struct lm_hdr *h = lm_msg_get(m, "From", 0);
	struct lm_facts f = { 0 };
	struct lm_plan p;
	struct lm_rewrite_in in;
	struct lm_edits e;
	char err[256];

	cfg.action = (enum lm_action)(sel & 3);
	cfg.reply = (enum lm_reply)((sel >> 2) & 1);
	cfg.mitigate = (enum lm_mitigate)((sel >> 3) & 1);
	ref.cfg = &cfg;
	memcpy(ref.addr, "list@lists.example.org", 23);
	memcpy(ref.domain, "lists.example.org", 18);
	memcpy(ref.name, "L\"is\\t, <x@y>", 14);
	f.list = &ref;
	f.from_fields = lm_msg_count(m, "From");
	if (h != NULL && f.from_fields == 1) {
		f.from_err = lm_addr_parse(h->value, h->vlen, &from, NULL, 0);
		f.from = f.from_err == LM_ADDR_OK ? &from : NULL;
	}
	f.lookup = lk[(sel >> 4) & 3];
	f.policy = (enum lm_pol)((sel >> 6) & 3);
	lm_decide(&f, &p);
	if (p.verdict == LM_V_REJECT || p.verdict == LM_V_TEMPFAIL) {
		if ((p.rcode[0] != '4' && p.rcode[0] != '5') ||
		    strchr(p.text, '\r') != NULL || strchr(p.text, '\n') != NULL)
			abort();
	} else {
		in.msg = m;
		in.facts = &f;
		in.plan = &p;
		in.nonce = "00ff";
		in.hostname = "mx.example.org";
		in.authservid = "mx.example.org";
		in.authres = (sel & 1) ? " mx.example.org; dmarc=pass" : NULL;
		lm_edits_init(&e);
		if (lm_rewrite(&in, &e, err, sizeof err) == 0)
			check_from(&e, ref.addr);
		lm_edits_free(&e);
	}
	lm_addrlist_free(&from);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lm_msg m;

	if (size < 1)
		return 0;
	lm_msg_init(&m, 256 * 1024, 256 * 1024);
	load_headers(&m, (const char *)data + 1, size - 1);
	(void)lm_buf_adds(&m.body, "body\r\n");
	run(&m, data[0]);
	lm_msg_reset(&m);
	return 0;
}
