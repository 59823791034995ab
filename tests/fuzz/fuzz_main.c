/*
 * fuzz_main - run a LLVMFuzzerTestOneInput() entry point without
 * libFuzzer, so the fuzz targets also run in ordinary CI builds.
 *
 * usage: fuzz_X [-r count] [-s seed] [file | directory ...]
 *
 * Every file named, and every regular file directly inside a directory
 * named, is passed to the entry point once.  Then `count` pseudo-random
 * inputs (default 10000) are generated from `seed` (default fixed, so a
 * run is reproducible) with a xorshift64* generator: half are built from
 * a dictionary of address / encoded-word tokens and random bytes, half
 * are mutations of the files read (when there are any).  Each input is
 * copied into a buffer of exactly its size, so a sanitizer catches any
 * read past the end.  A failed assert() in the entry point aborts.
 *
 * Ownership: all state lives in main(); seeds are freed before exit.
 * Not linked into libFuzzer builds (libFuzzer brings its own main).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXFILE		(1024 * 1024)	/* longest file replayed */
#define MAXSEEDS	512		/* files kept for mutation */
#define MAXGEN		(64 * 1024)	/* longest generated input */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct input {
	uint8_t	*p;
	size_t	 n;
};

struct seeds {
	struct input	 s[MAXSEEDS];
	size_t		 n;
	size_t		 files;		/* files run, kept or not */
};

static const char *const dict[] = {
	"=?", "?=", "=?utf-8?q?", "=?UTF-8?B?", "=?iso-8859-1?Q?",
	"=?windows-1252?q?", "=?iso-8859-15?q?", "=?us-ascii?q?",
	"=?x-bad?q?", "=?utf-8*en?q?", "?q?", "?b?", "=C3=A9", "=0D=0A",
	"=00", "=3C", "=40", "_", "==", "=", "?",
	"<", ">", "@", "\"", "\\", "(", ")", ",", ";", ":", ".", "[", "]",
	" ", "\t", "\r\n ", "\n\t", "\r\n", "\n", "\r",
	"a", "Joe", "example.com", "user", "x.org", "IPv6:", "192.0.2.1",
	"\xc3\xa9", "\xe2\x80\xa8", "\xc2\x85", "\xf0\x9f\x98\x80", "\xff",
	"\xc0\xaf", "\xed\xa0\x80", "\xe6\x97\xa5",
	"PGFkbWluQGxlZ2l0aW1hdGUuY29tPg", "undisclosed-recipients:;",
	"<@attack.com,@any.com:", "admin@legitimate.com", ">, <",
};

static uint64_t
rnd(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 2685821657736338717ULL;
}

/* Run one input from an exactly sized copy. */
static void
run(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n > 0 ? n : 1);

	if (c == NULL) {
		perror("malloc");
		exit(2);
	}
	if (n > 0)
		memcpy(c, p, n);
	(void)LLVMFuzzerTestOneInput(c, n);
	free(c);
}

static int
read_file(const char *path, struct input *in)
{
	uint8_t *p;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	if ((in->p = malloc(MAXFILE)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(in->p, 1, MAXFILE, f);
	fclose(f);
	in->n = n;
	/* keep only what was read */
	if ((p = realloc(in->p, n > 0 ? n : 1)) != NULL)
		in->p = p;
	return 0;
}

static void
run_file(const char *path, struct seeds *sd)
{
	struct input in;

	if (read_file(path, &in) != 0)
		exit(2);
	run(in.p, in.n);
	sd->files++;
	if (sd->n < MAXSEEDS)
		sd->s[sd->n++] = in;
	else
		free(in.p);
}

static void
run_dir(const char *dir, struct seeds *sd)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		perror(dir);
		exit(2);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
		    de->d_name) >= sizeof path)
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			run_file(path, sd);
	}
	closedir(d);
}

static void
add(uint8_t *buf, size_t *n, const void *p, size_t k)
{
	if (*n + k > MAXGEN)
		return;
	memcpy(buf + *n, p, k);
	*n += k;
}

static void
add_token(uint8_t *buf, size_t *n, uint64_t *st)
{
	const char *t = dict[rnd(st) % (sizeof dict / sizeof dict[0])];

	add(buf, n, t, strlen(t));
	/* a NUL byte cannot be a dictionary string: add one now and then */
	if (rnd(st) % 64 == 0)
		add(buf, n, "", 1);
}

/* Dictionary tokens and random bytes. */
static size_t
gen_fresh(uint8_t *buf, uint64_t *st)
{
	size_t n = 0, want;
	uint8_t c;

	want = rnd(st) % 16 == 0 ? rnd(st) % 4096 : rnd(st) % 160;
	while (n < want) {
		if (rnd(st) % 10 < 7)
			add_token(buf, &n, st);
		else {
			c = (uint8_t)rnd(st);
			add(buf, &n, &c, 1);
		}
		if (n == MAXGEN)
			break;
	}
	return n;
}

/* Insert a token, overwrite a byte, delete or duplicate a range. */
static size_t
mutate(uint8_t *buf, size_t n, uint64_t *st)
{
	uint8_t tmp[64];
	size_t at = n > 0 ? rnd(st) % n : 0, k, tail;

	switch (rnd(st) % 4) {
	case 0:
		k = 0;
		add_token(tmp, &k, st);
		if (k > sizeof tmp || n + k > MAXGEN)
			return n;
		memmove(buf + at + k, buf + at, n - at);
		memcpy(buf + at, tmp, k);
		return n + k;
	case 1:
		if (n > 0)
			buf[at] = (uint8_t)rnd(st);
		return n;
	case 2:
		k = n - at > 0 ? rnd(st) % (n - at + 1) : 0;
		memmove(buf + at, buf + at + k, n - at - k);
		return n - k;
	default:
		tail = n - at;
		k = tail > 0 ? rnd(st) % (tail < 32 ? tail + 1 : 33) : 0;
		if (n + k > MAXGEN)
			return n;
		memmove(buf + at + k, buf + at, tail);
		return n + k;
	}
}

static size_t
gen_mutant(uint8_t *buf, const struct seeds *sd, uint64_t *st)
{
	const struct input *s = &sd->s[rnd(st) % sd->n];
	size_t n = s->n < MAXGEN ? s->n : MAXGEN, i, rounds;

	memcpy(buf, s->p, n);
	rounds = 1 + rnd(st) % 8;
	for (i = 0; i < rounds; i++)
		n = mutate(buf, n, st);
	return n;
}

static void
run_random(unsigned long count, uint64_t seed, const struct seeds *sd)
{
	uint8_t *buf;
	unsigned long i;
	uint64_t st = seed != 0 ? seed : 1;
	size_t n;

	/* room for one token past MAXGEN while mutating */
	if ((buf = malloc(MAXGEN + 64)) == NULL) {
		perror("malloc");
		exit(2);
	}
	for (i = 0; i < count; i++) {
		if (sd->n > 0 && rnd(&st) % 2 == 0)
			n = gen_mutant(buf, sd, &st);
		else
			n = gen_fresh(buf, &st);
		run(buf, n);
	}
	free(buf);
}

static void __attribute__((noreturn))
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-r count] [-s seed] [file | dir ...]\n",
	    prog);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct seeds *sd;
	struct stat st;
	unsigned long count = 10000;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t i;
	int ch;

	while ((ch = getopt(argc, argv, "r:s:")) != -1) {
		if (ch == 'r')
			count = strtoul(optarg, NULL, 10);
		else if (ch == 's')
			seed = strtoull(optarg, NULL, 0);
		else
			usage(argv[0]);
	}
	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		return 2;
	for (; optind < argc; optind++) {
		if (stat(argv[optind], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[optind], sd);
		else
			run_file(argv[optind], sd);
	}
	run_random(count, seed, sd);
	printf("%s: %zu files, %lu random inputs: ok\n", argv[0], sd->files,
	    count);
	/* one replay run is one test for tests/run-tests.sh (a crash or a
	   failed invariant aborts before this line) */
	printf("1 passed, 0 failed\n");
	for (i = 0; i < sd->n; i++)
		free(sd->s[i].p);
	free(sd);
	return 0;
}
