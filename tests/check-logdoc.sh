#!/bin/sh
# check-logdoc.sh - every reason= value and every SMTP reply the daemon
# can produce is documented: each reason string of common/lm_decide.c
# and milter/ (`why = "..."`, refuse(p, CODE, XCODE, "reason", ...))
# must appear in docs/listmilter.8 (LOGGING) and docs/troubleshooting.md,
# and each CODE XCODE pair of refuse() and set_reply() in
# docs/troubleshooting.md.  One test per item.
SRC=${1:-.}
pass=0
fail=0
check() {	# check WHAT FILE PATTERN
	if grep -qF -- "$3" "$SRC/$2"; then
		pass=$((pass + 1))
	else
		echo "FAIL $1 not in $2"
		fail=$((fail + 1))
	fi
}
code="$SRC/common/lm_decide.c $SRC/milter/lm_milter.c"
reasons=$(grep -ohE '(why = |refuse\(p, "[0-9]+", "[0-9.]+", )"[a-z-]+"' \
    $code | grep -oE '"[a-z-]+"$' | tr -d '"' | sort -u)
replies=$( (grep -ohE 'refuse\(p, "[0-9]+", "[0-9.]+"' $code;
    grep -ohE 'set_reply\(ctx, "[0-9]+", "[0-9.]+"' $code;
    grep -ohE 'rcode, "[0-9]+".*' $code) |
    grep -oE '"[0-9.]+", "[0-9.]+"' | tr -d '",' | sort -u)
# the 550 5.5.3 of mixed local submissions: rcode and xcode set apart
replies="$replies
$(grep -A1 'plan.rcode, "[0-9]*"' "$SRC/milter/lm_milter.c" |
    grep -oE '"[0-9.]+"' | tr -d '"' | paste -sd' ')"
n=0
for r in $reasons; do
	n=$((n + 1))
	check "reason $r" docs/listmilter.8 "$r"
	check "reason $r" docs/troubleshooting.md "\`$r\`"
done
[ "$n" -ge 15 ] || { echo "FAIL only $n reasons found in the code"; fail=$((fail + 1)); }
echo "$replies" | while read -r rc xc; do
	[ -n "$rc" ] && echo "$rc $xc"
done >"${TMPDIR:-/tmp}/logdoc.$$"
n=0
while read -r rc xc; do
	n=$((n + 1))
	check "reply $rc $xc" docs/troubleshooting.md "\`$rc $xc "
done <"${TMPDIR:-/tmp}/logdoc.$$"
rm -f "${TMPDIR:-/tmp}/logdoc.$$"
[ "$n" -ge 8 ] || { echo "FAIL only $n replies found in the code"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
