#!/bin/sh
# build-deb.sh - build the listmilter Debian package from this source tree.
#
# The Debian packaging lives upstream in packaging/debian.  This script
# exports the source tree (the files git tracks, plus untracked files that
# .gitignore does not exclude; without git, everything but build output)
# into OUTDIR/listmilter-VERSION, copies packaging/debian there as debian/,
# runs "dpkg-buildpackage -us -uc -b" and lintian on the result.
#
# Usage: sh packaging/build-deb.sh [OUTDIR]     (default: ./build-deb)
# Needs: dpkg-dev, debhelper, lintian and the Build-Depends of
# packaging/debian/control (tests/install-deps.sh installs them).
# Output: OUTDIR/listmilter_VERSION_ARCH.deb, build.log, lintian.log;
# exits non-zero if the build fails or lintian reports an error.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$SRC/build-deb}
VER=$(sed -n 's/^AC_INIT(\[listmilter\], \[\([^]]*\)\].*/\1/p' \
    "$SRC/configure.ac")
DEBVER=$(sed -n '1s/^listmilter (\([^)]*\)).*/\1/p' \
    "$SRC/packaging/debian/changelog")
if [ "$VER" != "$DEBVER" ]; then
	echo "configure.ac says $VER, packaging/debian/changelog $DEBVER" >&2
	exit 1
fi
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
TREE=$OUT/listmilter-$VER
rm -rf "$OUT"
mkdir -p "$TREE"

if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$SRC" ls-files -z --cached --others --exclude-standard |
	    tar -C "$SRC" --null -T - -cf - | tar -C "$TREE" -xf -
else
	tar -C "$SRC" --exclude='./build*' --exclude=./autom4te.cache \
	    --exclude=./.git -cf - . | tar -C "$TREE" -xf -
fi
rm -rf "$TREE/debian"
cp -R "$SRC/packaging/debian" "$TREE/debian"

echo "building listmilter $VER in $TREE"
if ! (cd "$TREE" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1; then
	tail -n 60 "$OUT/build.log"
	echo "dpkg-buildpackage failed (log: $OUT/build.log)" >&2
	exit 1
fi
ls "$OUT"/*.deb
CHANGES=$(ls "$OUT"/listmilter_"$VER"_*.changes)
rc=0
lintian --info --display-level '>=pedantic' "$CHANGES" >"$OUT/lintian.log" \
    2>&1 || rc=$?
cat "$OUT/lintian.log"
E=$(grep -c '^E: ' "$OUT/lintian.log" || true)
W=$(grep -c '^W: ' "$OUT/lintian.log" || true)
I=$(grep -c '^I: ' "$OUT/lintian.log" || true)
P=$(grep -c '^P: ' "$OUT/lintian.log" || true)
echo "lintian: $E errors, $W warnings, $I info, $P pedantic"
[ "$E" -eq 0 ] && [ "$rc" -le 1 ]
