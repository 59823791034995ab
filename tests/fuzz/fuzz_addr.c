/*
 * fuzz_addr - libFuzzer entry point for lm_addr (RFC 5322 3.4 address
 * lists, RFC 5321 4.1.2 envelope paths).
 *
 * Parses the input as a header value and checks invariants of the
 * result: an error leaves the list empty with a reason; every mailbox has
 * a non-empty local part and domain within the RFC 5321 limits, an addr
 * without line breaks, valid UTF-8 everywhere, and compares equal to
 * itself.  Each mailbox is then re-serialized as "phrase <addr>" (display
 * sanitized and encoded with lm_rfc2047_phrase) and must parse back to
 * one mailbox with the same addr and the sanitized display.  The input is
 * also fed to lm_addr_envelope.  Build with -fsanitize=fuzzer, or with
 * fuzz_main.c to replay files and random inputs.  Owns nothing beyond a
 * call.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_addr.h"
#include "lm_buf.h"
#include "lm_rfc2047.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
no_breaks(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return 0;
	return 1;
}

static void
check_mailbox(const struct lm_mailbox *m)
{
	assert(m->local != NULL && m->domain != NULL && m->addr != NULL);
	assert(m->local[0] != '\0' && m->domain[0] != '\0');
	assert(strlen(m->domain) <= LM_ADDR_MAXDOMAIN);
	assert(strlen(m->local) <= LM_ADDR_MAXLOCAL);
	assert(no_breaks(m->addr) && no_breaks(m->local));
	assert(lm_utf8_valid(m->addr, strlen(m->addr)));
	assert(strchr(m->domain, '@') == NULL);
	assert(m->literal == (m->domain[0] == '['));
	assert(m->display == NULL || (m->display[0] != '\0' &&
	    lm_utf8_valid(m->display, strlen(m->display))));
	assert(lm_addr_same(m, m));
}

/* "phrase <addr>" for m must parse back to the same mailbox. */
static void
reparse(const struct lm_mailbox *m)
{
	struct lm_addrlist l;
	lm_buf san, h;
	const char *d = m->display != NULL ? m->display : "";
	enum lm_addr_err e;

	lm_buf_init(&san, 4096);
	lm_buf_init(&h, 16384);
	assert(lm_sanitize_display(d, strlen(d), 200, &san) == 0);
	if (san.len > 0)
		assert(lm_rfc2047_phrase(san.s, san.len, 6, &h) == 0);
	assert(lm_buf_printf(&h, "%s<%s>", san.len > 0 ? " " : "",
	    m->addr) == 0);
	e = lm_addr_parse(h.s, h.len, &l, NULL, 0);
	assert(e == LM_ADDR_OK && l.n == 1);
	assert(strcmp(l.mb[0].addr, m->addr) == 0);
	assert(strcmp(l.mb[0].local, m->local) == 0);
	assert(lm_addr_same(&l.mb[0], m));
	if (san.len == 0)
		assert(l.mb[0].display == NULL);
	else
		assert(l.mb[0].display != NULL &&
		    strcmp(l.mb[0].display, san.s) == 0);
	lm_addrlist_free(&l);
	lm_buf_free(&san);
	lm_buf_free(&h);
}

static void
check_envelope(const char *in, size_t len)
{
	char *local, *domain;

	if (lm_addr_envelope(in, len, &local, &domain) != 0) {
		assert(local == NULL && domain == NULL);
		return;
	}
	assert((local == NULL) == (domain == NULL));
	if (local != NULL) {
		assert(local[0] != '\0' && domain[0] != '\0');
		assert(no_breaks(local) && no_breaks(domain));
		assert(lm_utf8_valid(domain, strlen(domain)));
	}
	free(local);
	free(domain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct lm_addrlist l;
	char eb[128];
	size_t i;

	if (lm_addr_parse(in, size, &l, eb, sizeof eb) != LM_ADDR_OK)
		assert(l.n == 0 && l.mb == NULL && eb[0] != '\0');
	else {
		assert(l.n > 0 || l.empty_groups > 0);
		assert(l.n <= LM_ADDR_MAXMB);
		for (i = 0; i < l.n; i++) {
			check_mailbox(&l.mb[i]);
			reparse(&l.mb[i]);
		}
	}
	lm_addrlist_free(&l);
	check_envelope(in, size);
	return 0;
}
