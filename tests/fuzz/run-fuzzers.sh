#!/bin/sh
# run-fuzzers.sh - run every libFuzzer target fuzz_* of a fuzzing build
# for a given time each and report what was done.
#
# usage: sh tests/fuzz/run-fuzzers.sh BUILDDIR SECONDS [JOBS] [TARGET...]
#
# BUILDDIR was configured with --enable-fuzzing CC=clang and built with
# "make" (the targets are tests/fuzz/fuzz_*).  Each target starts from
# its seed corpus tests/fuzz/corpus/NAME and keeps what it finds in
# BUILDDIR/fuzz-work/NAME (reused by the next run, so long campaigns
# build on short ones); a crash, leak, sanitizer report or timeout
# (-timeout=10) stops that target, leaves the reproducer in
# BUILDDIR/fuzz-work/crash-NAME-* and counts as a failure.  JOBS targets
# run at a time (default 1); SECONDS is per target.
#
# One line per target:  ok fuzz_NAME: EXECS execs in SECS s (CPU), CORPUS inputs
# (CPU time measured with /usr/bin/time when installed, else wall-clock)
# then the totals (executions, CPU hours) and "N passed, M failed".
#
# For hours: sh tests/fuzz/run-fuzzers.sh build-fuzz 3600 2
set -u
BLD=$1
SECS=$2
JOBS=${3:-1}
shift 2
[ $# -gt 0 ] && shift
SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$BLD/fuzz-work
mkdir -p "$WORK"
TARGETS=${*:-$(cd "$BLD/tests/fuzz" && ls fuzz_* 2>/dev/null | grep -v '\.o$' |
    sed 's/^fuzz_//')}
[ -n "$TARGETS" ] || { echo "no fuzz_* targets in $BLD/tests/fuzz"; echo "0 passed, 1 failed"; exit 1; }

one() {	# one NAME: run a target, write WORK/NAME.result
	name=$1
	bin=$BLD/tests/fuzz/fuzz_$name
	mkdir -p "$WORK/$name"
	seeds=$SRC/tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	start=$(date +%s)
	# CPU seconds with GNU time when it is there, else wall-clock seconds
	tm=
	[ -x /usr/bin/time ] && tm="/usr/bin/time -f %U+%S -o $WORK/$name.cpu"
	$tm "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$WORK/crash-$name-" \
	    "$WORK/$name" $seeds >"$WORK/$name.log" 2>&1
	rc=$?
	end=$(date +%s)
	secs=$((end - start))
	if [ -n "$tm" ] && [ -s "$WORK/$name.cpu" ]; then
		secs=$(tail -n 1 "$WORK/$name.cpu" | awk -F+ \
		    '{ printf "%d", $1 + $2 + 0.5 }')
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$name.log")
	n=$(ls "$WORK/$name" | wc -l)
	echo "$name $rc ${execs:-0} $secs $n" >"$WORK/$name.result"
}

running=0
for t in $TARGETS; do
	[ -x "$BLD/tests/fuzz/fuzz_$t" ] || { echo "no target fuzz_$t"; continue; }
	one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait
		running=0
	fi
done
wait

pass=0
fail=0
total=0
secs=0
for t in $TARGETS; do
	r=$WORK/$t.result
	if [ ! -f "$r" ]; then
		echo "FAIL fuzz_$t: did not run"
		fail=$((fail + 1))
		continue
	fi
	read -r name rc execs s n <"$r"
	total=$((total + execs))
	secs=$((secs + s))
	if [ "$rc" -eq 0 ]; then
		echo "ok fuzz_$name: $execs execs in $s s (CPU), $n inputs"
		pass=$((pass + 1))
	else
		echo "FAIL fuzz_$name: exit $rc after $execs execs; log:"
		grep -E 'ERROR|SUMMARY|==[0-9]+==|Test unit written' \
		    "$WORK/$name.log" | head -n 20
		fail=$((fail + 1))
	fi
	rm -f "$r"
done
echo "total: $total executions, $secs CPU seconds ($(awk \
    "BEGIN { printf \"%.2f\", $secs / 3600 }") CPU hours), crash-free: \
$([ "$fail" -eq 0 ] && echo yes || echo no)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
