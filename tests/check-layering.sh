#!/bin/sh
# check-layering.sh - dependency rules of docs/hacking.md, checked:
#  1. common/ includes no libmilter, syslog, unbound, opendkim, opendmarc,
#     spf2 header and no milter/ header;
#  2. only milter/ includes libmilter/mfapi.h (and tests/bench/noopmilter.c,
#     the no-op libmilter filter the benchmark measures as its floor);
#  3. common/ has no mutable file-scope variables (static or extern
#     objects that are not const);
#  4. no unbounded string calls (strcpy, strcat, sprintf, vsprintf, gets)
#     anywhere in C sources.
# Prints "N passed, M failed" (one check per rule and file).
SRC=${1:-.}
cd "$SRC" || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

for f in common/*.c common/*.h; do
	if grep -nE '#include *[<"](libmilter/|syslog\.h|unbound\.h|opendkim/|opendmarc/|spf2/|lm_(log|dns|milter|state|policy)\.h)' "$f"; then
		bad "$f: forbidden include in common/"
	else ok; fi
	# file-scope objects: lines at column 0 that declare a variable
	if grep -nE '^(static +)?(unsigned +|signed +|struct +[a-z_]+ +|enum +[a-z_]+ +)?(int|char|long|size_t|double|[a-z_]+_t|struct +[a-z_]+|lm_buf) +\**[a-z_][a-z0-9_]*( *\[[^]]*\])* *(=|;)' "$f" | grep -v 'const'; then
		bad "$f: mutable file-scope variable in common/"
	else ok; fi
done
for f in $(find . -name '*.c' -o -name '*.h' | grep -v '^./milter/' | grep -v '/\.' |
    grep -v '^./tests/bench/noopmilter.c$'); do
	if grep -n 'libmilter/mfapi.h' "$f" >/dev/null; then
		bad "$f: includes libmilter/mfapi.h outside milter/"
	else ok; fi
done
for f in $(find . -name '*.c' | grep -v '/\.'); do
	if grep -nE '(^|[^_a-z])(strcpy|strcat|sprintf|vsprintf|gets) *\(' "$f"; then
		bad "$f: unbounded string call"
	else ok; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
