#!/bin/sh
# valgrind.sh - run the protocol and end-to-end suites with the daemon under valgrind
# memcheck (LM_VALGRIND=1, see tests/lib/lmdaemon.py): a memory error or
# a definite/indirect leak makes the daemon exit 99, which each suite's
# exit-status check reports as a failure.  Prints each suite's result,
# the valgrind summaries, and "N passed, M failed".
#
# usage: sh tests/valgrind.sh BUILDDIR [SUITE.py ...]   (or: make valgrind)
# (default: every tests/proto/test_*.py and tests/e2e/test_*.py; a release build, not ASan; the
# programs of "make check-programs" must be built)
set -u
BLD=$(cd "$1" && pwd)
shift
SRC=$(cd "$(dirname "$0")/.." && pwd)
SUITES=${*:-$(ls "$SRC"/tests/proto/test_*.py "$SRC"/tests/e2e/test_*.py)}
export LM_VALGRIND=1 LM_SRCDIR="$SRC" LM_BUILDDIR="$BLD" \
    LISTMILTER="$BLD/milter/listmilter" TMPDIR=$(mktemp -d)
chmod 755 "$TMPDIR"		# the postfix user must reach the sockets
export LM_VALGRIND_LOGDIR=$TMPDIR/valgrind
mkdir -p "$LM_VALGRIND_LOGDIR"
P=0
F=0
for t in $SUITES; do
	out=$(/usr/bin/python3 "$t" 2>&1)
	line=$(echo "$out" | tail -n 1)
	echo "== $(basename "$t"): $line"
	echo "$out" | grep '^FAIL' || true
	case $line in
	*" passed, "*" failed")
		P=$((P + ${line%% passed*}))
		f=${line#*, }
		F=$((F + ${f%% failed*})) ;;
	*)	F=$((F + 1)) ;;
	esac
done
logs=$(ls "$LM_VALGRIND_LOGDIR"/valgrind-*.log 2>/dev/null)
echo "valgrind: $(echo "$logs" | grep -c .) daemon runs"
for l in $logs; do
	grep -hE 'ERROR SUMMARY|definitely lost|indirectly lost' "$l" |
	    sed 's/^==[0-9]*== *//'
done | sort | uniq -c
# a suite that does not check the daemon's exit status still fails here
bad=$(cat $logs /dev/null | grep -cE 'ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]')
if [ "$bad" -gt 0 ]; then
	echo "FAIL valgrind reported errors or leaks ($bad lines); logs:"
	grep -lE 'ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]' $logs
	F=$((F + 1))
else
	P=$((P + 1))
fi
[ "$bad" -eq 0 ] && rm -rf "$TMPDIR"
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
