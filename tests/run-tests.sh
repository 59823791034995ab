#!/bin/sh
# run-tests.sh - run every test suite of listmilter and print the totals.
#
# Suites: unit tests (tests/unit/t_*), fuzz-target replays over the seed
# corpora plus pseudo-random inputs (tests/fuzz/replay_*), static checks
# (layering, man page lint, every log reason and SMTP reply documented), protocol tests (tests/proto/*.py,
# driving the real daemon) and end-to-end tests (tests/e2e/*.py, a real
# Postfix on loopback).  Each suite prints "N passed, M failed" as its
# last such line; a suite that dies without one counts as one failure.
# The last line of this script is the sum over all suites.
#
# Environment: LM_BUILDDIR (default: .), LM_SRCDIR (default: the
# directory above this script), LM_SUITES (default: "unit fuzz static
# proto e2e"), LM_FUZZ_RUNS (random inputs per fuzz target, default 20000).
set -u
SRC=${LM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BLD=${LM_BUILDDIR:-$(pwd)}
SUITES=${LM_SUITES:-unit fuzz static proto e2e}
RUNS=${LM_FUZZ_RUNS:-20000}
# Debian's interpreter: the test libraries use its packages (python3-yaml,
# python3-dkim), which a pyenv or venv python3 earlier in PATH lacks.
PY=${LM_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
export LM_SRCDIR="$SRC" LM_BUILDDIR="$BLD" LISTMILTER="$BLD/milter/listmilter"
TOTAL_P=0
TOTAL_F=0
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

run() {	# run NAME CMD...: one suite
	name=$1
	shift
	printf '== %s\n' "$name"
	"$@" >"$OUT" 2>&1
	rc=$?
	cat "$OUT"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
		f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	else
		p=0
		f=1
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "   ($name exited $rc)"
	fi
	TOTAL_P=$((TOTAL_P + p))
	TOTAL_F=$((TOTAL_F + f))
}

for s in $SUITES; do
	case $s in
	unit)
		for t in "$BLD"/tests/unit/t_*; do
			[ -x "$t" ] && run "unit $(basename "$t")" "$t"
		done ;;
	fuzz)
		for t in "$BLD"/tests/fuzz/replay_*; do
			[ -x "$t" ] || continue
			n=${t##*/replay_}
			run "fuzz $n" "$t" -r "$RUNS" "$SRC/tests/fuzz/corpus/$n"
		done ;;
	static)
		run "layering" sh "$SRC/tests/check-layering.sh" "$SRC"
		run "manlint" sh "$SRC/tests/check-man.sh" "$SRC"
		run "logdoc" sh "$SRC/tests/check-logdoc.sh" "$SRC"
		# the benchmark's programs keep compiling (make bench runs them)
		run "bench builds" sh -c 'if make -C "$0" bench-programs \
		    >/dev/null 2>&1; then echo "1 passed, 0 failed"; else
		    echo "make bench-programs failed"; echo "0 passed, 1 failed"
		    exit 1; fi' "$BLD" ;;
	proto)
		for t in "$SRC"/tests/proto/test_*.py; do
			[ -f "$t" ] && run "proto $(basename "$t")" "$PY" "$t"
		done ;;
	e2e)
		for t in "$SRC"/tests/e2e/test_*.py; do
			[ -f "$t" ] && run "e2e $(basename "$t")" "$PY" "$t"
		done ;;
	esac
done
echo "$TOTAL_P passed, $TOTAL_F failed"
[ "$TOTAL_F" -eq 0 ]
