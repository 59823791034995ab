/*
 * fuzz_conf - the configuration parser on arbitrary file contents.
 * Invariant: success or a "t.conf:N: reason" error, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm_conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lm_config c;
	char err[512];

	if (lm_conf_defaults(&c, "/etc", "/run") != 0)
		return 0;
	err[0] = '\0';
	if (lm_conf_parse(&c, (const char *)data, size, "t.conf", err,
	    sizeof err) != 0 && strncmp(err, "t.conf:", 7) != 0)
		abort();
	lm_conf_free(&c);
	return 0;
}
