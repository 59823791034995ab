#!/bin/sh
# check-man.sh - the man pages are valid mdoc: mandoc -T lint reports no
# warning or error (style hints are allowed).  One test per page.
SRC=${1:-.}
pass=0
fail=0
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed"; echo "0 passed, 1 failed"; exit 1; }
for m in "$SRC"/docs/*.[1-9]; do
	out=$(mandoc -T lint -W warning "$m" 2>&1 | grep -v 'outdated mandoc.db')
	if [ -n "$out" ]; then
		echo "FAIL $m"
		echo "$out"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
