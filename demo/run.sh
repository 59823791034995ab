#!/bin/sh
# run.sh - the listmilter demonstration, from a fresh Debian 12.
#
# Run as root, from the repository root or anywhere else:
#
#     sh demo/run.sh
#
# 1. installs the build dependencies, Postfix, swaks and python3
#    (tests/install-deps.sh; nothing is installed if they are there);
# 2. builds listmilter into ./build (autoreconf -fi and ../configure the
#    first time, make every time; the output goes to build/*.log and is
#    shown only when a step fails);
# 3. runs demo/demo.py with LISTMILTER pointing at that binary: a private
#    Postfix instance and listmilter on loopback, one message from a
#    p=reject author to a two-member list, and what the members got.
#
# The exit status is demo.py's: 0 when everything happened as expected.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$TOP" || exit 1

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: run me as root: I install packages and start a private" \
	    "Postfix instance" >&2
	exit 1
fi

step() {	# step LOG CMD...: run CMD with output to LOG, show it on failure
	log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		echo "run.sh: '$*' failed; the end of $log:" >&2
		tail -n 30 "$log" >&2
		exit 1
	fi
}

echo "==> installing packages (tests/install-deps.sh)"
sh tests/install-deps.sh || { echo "run.sh: tests/install-deps.sh failed" >&2; exit 1; }

BIN=$TOP/build/milter/listmilter
mkdir -p build
if [ -f build/Makefile ]; then
	echo "==> bringing the build in $TOP/build up to date"
else
	echo "==> building listmilter in $TOP/build (about a minute)"
	step build/autoreconf.log autoreconf -fi
	(cd build && step configure.log ../configure) || exit 1
fi
(cd build && step make.log make -j"$(nproc)") || exit 1
[ -x "$BIN" ] || { echo "run.sh: make did not produce $BIN" >&2; exit 1; }

echo "==> running the demonstration (demo/demo.py)"
echo
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
LISTMILTER=$BIN exec "$PY" "$TOP/demo/demo.py"
