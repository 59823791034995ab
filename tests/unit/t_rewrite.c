/*
 * t_rewrite - munge/wrap/pass edits, applied the way Postfix's cleanup
 * applies milter edits, then checked on the resulting header section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm_addr.h"
#include "lm_buf.h"
#include "lm_decide.h"
#include "lm_msg.h"
#include "lm_rewrite.h"
#include "lmtest.h"

static void
apply(const struct lm_msg *in, const struct lm_edits *e, struct lm_msg *out)
{
	lm_msg_init(out, 1 << 24, 0);
	(void)lm_edits_apply(in, e, out);
}

static const char *
val(const struct lm_msg *m, const char *name)
{
	const struct lm_hdr *h = lm_msg_get(m, name, 0);

	return h != NULL ? h->value : NULL;
}

struct fixture {
	struct lm_list cfg;
	struct lm_listref ref;
	struct lm_msg msg, out;
	struct lm_addrlist from;
	struct lm_facts f;
	struct lm_plan p;
	struct lm_edits e;
	int rc;
};

/* hdrs: "Name: value\n" lines, continuation lines start with a tab */
static void
setup(struct fixture *x, const char *hdrs, enum lm_verdict v,
    enum lm_reply reply)
{
	const char *p = hdrs;
	struct lm_rewrite_in in;
	char err[256];

	memset(x, 0, sizeof *x);
	x->cfg.reply = reply;
	x->ref.cfg = &x->cfg;
	lm_strlcpy(x->ref.addr, "ant@example.com", sizeof x->ref.addr);
	lm_strlcpy(x->ref.domain, "example.com", sizeof x->ref.domain);
	lm_strlcpy(x->ref.name, "Ant", sizeof x->ref.name);
	lm_msg_init(&x->msg, 1 << 20, 1 << 20);
	while (*p != '\0') {
		const char *colon = strchr(p, ':'), *end = p;
		char name[64];

		while ((end = strchr(end, '\n')) != NULL && end[1] == '\t')
			end++;
		if (end == NULL)
			end = p + strlen(p);
		snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
		lm_msg_addhdr(&x->msg, name, colon + 1, (size_t)(end - colon - 1));
		p = *end ? end + 1 : end;
	}
	lm_buf_adds(&x->msg.body, "Hello list.\r\n");
	x->f.list = &x->ref;
	x->f.from_fields = lm_msg_count(&x->msg, "From");
	x->f.from_err = lm_addr_parse(val(&x->msg, "From"),
	    strlen(val(&x->msg, "From")), &x->from, NULL, 0);
	x->f.from = &x->from;
	x->p.verdict = v;
	in.msg = &x->msg;
	in.facts = &x->f;
	in.plan = &x->p;
	in.nonce = "0123abcd";
	in.hostname = "mx.example.com";
	in.authservid = "mx.lists.example";
	in.authres = " mx.lists.example; dmarc=pass";
	lm_edits_init(&x->e);
	x->rc = lm_rewrite(&in, &x->e, err, sizeof err);
	apply(&x->msg, &x->e, &x->out);
}

static void
teardown(struct fixture *x)
{
	lm_edits_free(&x->e);
	lm_msg_reset(&x->out);
	lm_msg_reset(&x->msg);
	lm_addrlist_free(&x->from);
}

/* The From of the result: exactly one mailbox, the list, with name. */
static int
from_is(const struct lm_msg *m, const char *display)
{
	struct lm_addrlist l;
	const char *v = val(m, "From");
	int ok;

	memset(&l, 0, sizeof l);
	if (v == NULL || lm_addr_parse(v, strlen(v), &l, NULL, 0) != LM_ADDR_OK)
		return 0;
	ok = l.n == 1 && strcmp(l.mb[0].addr, "ant@example.com") == 0 &&
	    l.mb[0].display != NULL && strcmp(l.mb[0].display, display) == 0 &&
	    lm_msg_count(m, "From") == 1;
	lm_addrlist_free(&l);
	return ok;
}

static int
lines_ok(const char *v)
{
	const char *p;
	size_t col = 0;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\r')
			return 0;
		if (*p == '\n') {
			if (p[1] != '\t' && p[1] != ' ')
				return 0;	/* a new header line */
			col = 0;
		} else if (++col > 998)
			return 0;
	}
	return 1;
}

struct mcase {
	const char *hdrs;
	enum lm_reply reply;
	const char *display;	/* expected display of the new From */
	const char *replyto;	/* expected Reply-To value, NULL = absent */
	const char *cc;		/* expected Cc value, NULL = absent */
};

static const struct mcase mcases[] = {
	{ "From: anne@example.com\nSubject: hi\n", LM_REPLY_AUTHOR,
	  "anne via Ant", " anne@example.com", NULL },
	{ "From: Anne Person <anne@example.com>\n", LM_REPLY_AUTHOR,
	  "Anne Person via Ant", " \"Anne Person\" <anne@example.com>", NULL },
	{ "From: \"Anne Person\" <anne@example.com>\n", LM_REPLY_AUTHOR,
	  "Anne Person via Ant", " \"Anne Person\" <anne@example.com>", NULL },
	{ "From: anne@example.com\nReply-To: other@example.org\n",
	  LM_REPLY_AUTHOR, "anne via Ant",
	  " other@example.org,\n\tanne@example.com", NULL },
	{ "From: anne@example.com\nReply-To: ANNE@Example.com\n",
	  LM_REPLY_AUTHOR, "anne via Ant", " ANNE@Example.com", NULL },
	{ "From: anne@example.com\n", LM_REPLY_LIST, "anne via Ant",
	  " \"Ant\" <ant@example.com>", " anne@example.com" },
	{ "From: anne@example.com\nCc: c@example.net\n", LM_REPLY_LIST,
	  "anne via Ant", " \"Ant\" <ant@example.com>",
	  " c@example.net,\n\tanne@example.com" },
	{ "From: =?iso-8859-1?Q?A_Pers=F3n?= <anne@example.com>\n",
	  LM_REPLY_AUTHOR, "A Pers\xc3\xb3n via Ant", NULL, NULL },
	{ "From: \"boss@bank.example\" <x@evil.example>\n", LM_REPLY_AUTHOR,
	  "boss--- via Ant", NULL, NULL },
	{ "From: \"Doe, \\\"JJ\\\"\" <j@x.example>\n", LM_REPLY_AUTHOR,
	  "Doe, \"JJ\" via Ant", NULL, NULL },
	{ "From: =?utf-8?q?Attacker=0D=0ADate=3A_1999?= <a@evil.example>\n",
	  LM_REPLY_AUTHOR, "Attacker Date: 1999 via Ant", NULL, NULL },
	{ "From: =?utf-8?b?PGFkbWluQGxlZ2l0aW1hdGUuY29tPg==?= <a@evil.example>\n",
	  LM_REPLY_AUTHOR, "<admin---> via Ant", " \"<admin--->\" <a@evil.example>",
	  NULL },
	{ "From: anne@example.com\nReply-To: a@b.example\nReply-To: c@d.example\n",
	  LM_REPLY_AUTHOR, "anne via Ant",
	  " a@b.example, c@d.example,\n\tanne@example.com", NULL },
	{ "From: anne@example.com\nReply-To: <<broken\n", LM_REPLY_AUTHOR,
	  "anne via Ant", " anne@example.com", NULL },
	{ "From: Anne\n\t Person <anne@example.com>\n", LM_REPLY_AUTHOR,
	  "Anne Person via Ant", NULL, NULL },
};

static void
test_munge(void)
{
	struct fixture x;
	size_t i;

	for (i = 0; i < sizeof mcases / sizeof mcases[0]; i++) {
		const struct mcase *c = &mcases[i];
		const char *rt, *cc;

		setup(&x, c->hdrs, LM_V_MUNGE, c->reply);
		rt = val(&x.out, "Reply-To");
		cc = val(&x.out, "Cc");
		CHECK(x.rc == 0 && from_is(&x.out, c->display) &&
		    lines_ok(val(&x.out, "From")) &&
		    (c->replyto == NULL || (rt != NULL &&
		    strcmp(rt, c->replyto) == 0)) &&
		    lm_msg_count(&x.out, "Reply-To") == 1 &&
		    (c->cc == NULL || (cc != NULL && strcmp(cc, c->cc) == 0)) &&
		    val(&x.out, "X-Original-From") != NULL &&
		    strcmp(val(&x.out, "X-Original-From"), val(&x.msg, "From"))
		    == 0 && strcmp(val(&x.out, "X-Loop"), " ant@example.com")
		    == 0, "munge case %zu: From=[%s] Reply-To=[%s] Cc=[%s]", i,
		    val(&x.out, "From"), rt ? rt : "(none)", cc ? cc : "(none)");
		teardown(&x);
	}
	setup(&x, "From: anne@example.com\nReply-To: <<broken\n", LM_V_MUNGE,
	    LM_REPLY_AUTHOR);
	CHECK(val(&x.out, "X-Original-Reply-To") != NULL &&
	    strcmp(val(&x.out, "X-Original-Reply-To"), " <<broken") == 0,
	    "unparseable Reply-To kept as X-Original-Reply-To");
	teardown(&x);
	setup(&x, "From: anne@example.com\nReply-To: a\rBcc: evil@x\n",
	    LM_V_MUNGE, LM_REPLY_AUTHOR);
	CHECK(val(&x.out, "X-Original-Reply-To") != NULL &&
	    strcmp(val(&x.out, "X-Original-Reply-To"), " a Bcc: evil@x") == 0,
	    "bare CR in a kept value becomes a space (fuzz finding)");
	teardown(&x);
}

static void
test_long_name(void)
{
	struct fixture x;
	char hdr[2048];
	lm_buf name;

	lm_buf_init(&name, 4096);
	while (name.len < 600)
		lm_buf_adds(&name, "Very Long Name ");
	snprintf(hdr, sizeof hdr, "From: \"%s\" <l@x.example>\n", name.s);
	setup(&x, hdr, LM_V_MUNGE, LM_REPLY_AUTHOR);
	CHECK(x.rc == 0 && lines_ok(val(&x.out, "From")) &&
	    strlen(val(&x.out, "From")) < 400, "600-byte name truncated: %s",
	    val(&x.out, "From"));
	teardown(&x);
	lm_buf_free(&name);
}

/* A long, folded Reply-To (40 addresses) is merged with the author and
   stays within RFC 5322's line limit: the unfolded merge is folded again;
   so is X-Original-From of a long From. */
static void
test_long_fields(void)
{
	struct fixture x;
	lm_buf h;
	const char *v;
	int i, all = 1;
	char a[64];

	lm_buf_init(&h, 1 << 16);
	lm_buf_adds(&h, "From: \"");
	for (i = 0; i < 90; i++)
		lm_buf_adds(&h, "Long Name ");
	lm_buf_adds(&h, "\"\n\t<anne@example.com>\nReply-To: ");
	for (i = 0; i < 40; i++)
		lm_buf_printf(&h, "%s\"Member Number %d\" <member%d@example.org>",
		    i ? ",\n\t" : "", i, i);
	lm_buf_adds(&h, "\n");
	setup(&x, h.s, LM_V_MUNGE, LM_REPLY_AUTHOR);
	v = val(&x.out, "Reply-To");
	for (i = 0; v != NULL && i < 40; i++) {
		snprintf(a, sizeof a, "<member%d@example.org>", i);
		all &= strstr(v, a) != NULL;
	}
	CHECK(x.rc == 0 && v != NULL && lines_ok(v) && all &&
	    strstr(v, "anne@example.com") != NULL, "folded Reply-To merged: "
	    "%.300s", v != NULL ? v : "(none)");
	v = val(&x.out, "X-Original-From");
	CHECK(v != NULL && lines_ok(v) && strstr(v, "<anne@example.com>") !=
	    NULL, "long X-Original-From folded");
	teardown(&x);
	lm_buf_free(&h);
	/* a From folded with CRLF: the copy we write has LF folds only */
	setup(&x, "From: \"Anne\r\n\tAuthor\" <anne@example.com>\n",
	    LM_V_MUNGE, LM_REPLY_AUTHOR);
	v = val(&x.out, "X-Original-From");
	CHECK(x.rc == 0 && v != NULL && lines_ok(v) && strstr(v,
	    "\"Anne\n\tAuthor\"") != NULL, "CRLF fold kept as LF fold: [%s]",
	    v != NULL ? v : "(none)");
	teardown(&x);
}

static void
test_pass(void)
{
	struct fixture x;

	setup(&x, "From: anne@example.com\nSubject: s\n", LM_V_PASS,
	    LM_REPLY_AUTHOR);
	CHECK(x.rc == 0 && x.e.n == 2 && x.out.nh == 4 &&
	    strcmp(val(&x.out, "From"), " anne@example.com") == 0 &&
	    strcmp(val(&x.out, "X-Loop"), " ant@example.com") == 0,
	    "pass adds only the trace header");
	teardown(&x);
}

static void
test_wrap(void)
{
	struct fixture x;
	const char *h = "Received: from a by b\nFrom: Anne <anne@example.com>\n"
	    "To: ant@example.com\nCc: c@example.net\nSubject: Topic\n"
	    "Message-ID: <orig@example.com>\nDKIM-Signature: v=1; d=example.com\n"
	    "Content-Type: text/plain\nList-Id: <ant.example.com>\n"
	    "Date: Fri, 4 Dec 2026 10:00:00 +0000\n";
	const char *b;

	setup(&x, h, LM_V_WRAP, LM_REPLY_AUTHOR);
	b = lm_buf_cstr(&x.e.body);
	CHECK(x.rc == 0 && x.e.replace_body, "wrap builds a body");
	CHECK(from_is(&x.out, "Anne via Ant"), "wrap: munged outer From");
	CHECK(lm_msg_count(&x.out, "DKIM-Signature") == 0 &&
	    lm_msg_count(&x.out, "Content-Type") == 1 &&
	    strstr(val(&x.out, "Content-Type"), "multipart/mixed") != NULL,
	    "wrap: original signature and type replaced");
	CHECK(strcmp(val(&x.out, "Subject"), " Topic") == 0 &&
	    strcmp(val(&x.out, "To"), " ant@example.com") == 0 &&
	    strcmp(val(&x.out, "Cc"), " c@example.net") == 0 &&
	    val(&x.out, "List-Id") != NULL && val(&x.out, "Date") != NULL &&
	    val(&x.out, "Received") != NULL, "wrap: kept headers");
	CHECK(strstr(val(&x.out, "Message-ID"), "0123abcd@example.com") !=
	    NULL && strcmp(val(&x.out, "MIME-Version"), " 1.0") == 0,
	    "wrap: new Message-ID, MIME-Version");
	CHECK(strcmp(val(&x.out, "Reply-To"), " \"Anne\" <anne@example.com>")
	    == 0, "wrap: author in Reply-To: %s", val(&x.out, "Reply-To"));
	CHECK(strstr(b, "\r\n--=_listmilter_0123abcd\r\nContent-Type: "
	    "message/rfc822\r\n") != NULL &&
	    strstr(b, "\r\n\r\nReceived: from a by b\r\nFrom: Anne "
	    "<anne@example.com>\r\n") != NULL &&
	    strstr(b, "DKIM-Signature: v=1; d=example.com\r\n") != NULL &&
	    strstr(b, "\r\n\r\nHello list.\r\n") != NULL &&
	    strstr(b, "\r\n--=_listmilter_0123abcd--\r\n") != NULL,
	    "wrap: body holds the original message byte for byte");
	CHECK(strstr(b, "text/plain; charset=\"utf-8\"") != NULL &&
	    strstr(b, "sent to the list ant@example.com by anne@example.com")
	    != NULL, "wrap: explanation part");
	teardown(&x);
	setup(&x, h, LM_V_WRAP, LM_REPLY_LIST);
	CHECK(strcmp(val(&x.out, "Cc"),
	    " c@example.net,\n\t\"Anne\" <anne@example.com>")
	    == 0 && lm_msg_count(&x.out, "Cc") == 1 &&
	    strcmp(val(&x.out, "Reply-To"), " \"Ant\" <ant@example.com>") == 0,
	    "wrap reply=list: Cc=[%s]", val(&x.out, "Cc"));
	teardown(&x);
}

static void
test_authres_edits(void)
{
	struct fixture x;

	setup(&x, "Authentication-Results: mx.lists.example; dkim=pass\n"
	    "From: anne@example.com\n"
	    "Authentication-Results: other.example; spf=pass\n"
	    "Authentication-Results: MX.Lists.Example; dmarc=pass\n"
	    "Authentication-Results: mx.lists.example; spf=pass\n",
	    LM_V_MUNGE, LM_REPLY_AUTHOR);
	CHECK(lm_msg_count(&x.out, "Authentication-Results") == 2 &&
	    strcmp(x.out.h[0].name, "Authentication-Results") == 0 &&
	    strcmp(x.out.h[0].value, " mx.lists.example; dmarc=pass") == 0 &&
	    strcmp(lm_msg_get(&x.out, "Authentication-Results", 1)->value,
	    " other.example; spf=pass") == 0,
	    "forged A-R with our id removed (all three), ours on top");
	teardown(&x);
}

static void
test_trace(void)
{
	CHECK(lm_trace_matches(" ant@example.com", 16, "ant@example.com"),
	    "trace plain");
	CHECK(lm_trace_matches(" <ANT@Example.com> ", 19, "ant@example.com"),
	    "trace bracketed, case");
	CHECK(!lm_trace_matches(" other@example.com", 18, "ant@example.com"),
	    "trace of another list");
	CHECK(!lm_trace_matches(" ant@example.com.evil", 21,
	    "ant@example.com"), "trace suffix is not a match");
}

int
main(void)
{
	test_munge();
	test_long_name();
	test_long_fields();
	test_pass();
	test_wrap();
	test_trace();
	test_authres_edits();
	return LMT_DONE();
}
