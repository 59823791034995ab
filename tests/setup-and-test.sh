#!/bin/sh
# setup-and-test.sh - install what listmilter needs on Debian 12, build it
# twice (a -Werror release build, then an ASan+UBSan build), run the whole
# test suite against each build, run every libFuzzer target for 10 s
# (a third, clang build), build the Debian package and test it
# installed (tests/pkg/test_deb.py), and print the grand total as the last
# line: "N passed, M failed".  Run as root from the source tree.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)

sh tests/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

P=0
F=0
tally() {	# tally LOGFILE: add that run's final totals
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		F=$((F + 1))
		return
	fi
	P=$((P + ${line%% passed*}))
	f=${line#*, }
	F=$((F + ${f%% failed*}))
}

build() {	# build DIR CONFIGURE-ARGS...: configure + make in DIR
	dir=$1
	shift
	mkdir -p "$dir" && cd "$dir" &&
	    "$TOP/configure" "$@" >configure.log 2>&1 &&
	    make -j"$(nproc)" >make.log 2>&1
	rc=$?
	cd "$TOP"
	if [ $rc -ne 0 ]; then
		echo "build in $dir failed:"
		tail -n 40 "$dir/configure.log" "$dir/make.log" 2>/dev/null
	fi
	return $rc
}

autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

LOG=$(mktemp)
echo "=== release build (-Werror)"
if build build "CFLAGS=-O2 -g"; then
	(cd build && make check 2>&1) | tee "$LOG"
	tally "$LOG"
else
	F=$((F + 1))
fi

echo "=== ASan + UBSan build"
if build build-asan --enable-sanitizers "CFLAGS=-O1 -g"; then
	(cd build-asan && ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    LM_FUZZ_RUNS=5000 make check 2>&1) | tee "$LOG"
	tally "$LOG"
else
	F=$((F + 1))
fi
echo "=== libFuzzer smoke run (clang, ASan+UBSan, 10 s per target)"
if build build-fuzz --enable-fuzzing CC=clang "CFLAGS=-O1 -g"; then
	sh tests/fuzz/run-fuzzers.sh build-fuzz 10 "$(nproc)" 2>&1 | tee "$LOG"
	tally "$LOG"
else
	F=$((F + 1))
fi
# Last: the package test installs the .deb on this machine and purges it.
echo "=== Debian package (build, lintian, install, run as the unit does)"
/usr/bin/python3 tests/pkg/test_deb.py 2>&1 | tee "$LOG"
tally "$LOG"
rm -f "$LOG"
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
