#!/bin/sh
# get-sendmail.sh - unpack Debian's sendmail for tests/e2e/test_sendmail.py.
#
# Debian's sendmail-bin conflicts with postfix, which the other tests need,
# so it is not installed: the .debs of sendmail-bin and sendmail-cf are
# fetched with `apt-get download` and unpacked with `dpkg-deb -x` into
# DIR/root (default /var/cache/listmilter-test/sendmail, or $LM_SENDMAIL_DIR).
# The test runs DIR/root/usr/libexec/sendmail/sendmail with a sendmail.cf
# built by m4 from DIR/root/usr/share/sendmail/cf.  The binary's shared
# libraries all come with Debian 12's base and build packages except
# libwrap0, which (like m4) is installed with apt-get.
#
# Idempotent: does nothing when the unpacked binary is there and its
# libraries are found.
# Needs root and apt-get.  Prints the binary's path on success.
set -e
DIR=${LM_SENDMAIL_DIR:-/var/cache/listmilter-test/sendmail}
BIN=$DIR/root/usr/libexec/sendmail/sendmail
export DEBIAN_FRONTEND=noninteractive

need=""
for p in m4 libwrap0; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    need="$need $p"
done
if [ -n "$need" ]; then
	apt-get update -qq
	apt-get install -y -qq $need >/dev/null
fi

# (do not run the binary here: without a config it looks up this host's
# name, which may mean a DNS query and a long wait)
runs() {
	[ -x "$BIN" ] && [ -f "$DIR/root/usr/share/sendmail/cf/m4/cf.m4" ] &&
	    ! ldd "$BIN" | grep -q "not found"
}
if runs; then
	echo "$BIN"
	exit 0
fi

mkdir -p "$DIR"
dl=$(mktemp -d "$DIR/dl.XXXXXX")
trap 'rm -rf "$dl"' EXIT
chmod 755 "$dl"		# apt's _apt user writes the download there
(cd "$dl" && apt-get download -qq sendmail-bin sendmail-cf 2>/dev/null ||
    { apt-get update -qq && apt-get download -qq sendmail-bin sendmail-cf; })
rm -rf "$DIR/root.new"
for deb in "$dl"/*.deb; do
	dpkg-deb -x "$deb" "$DIR/root.new"
done
rm -rf "$DIR/root"
mv "$DIR/root.new" "$DIR/root"
if ! runs; then
	echo "get-sendmail.sh: $BIN cannot run:" >&2
	ldd "$BIN" | grep "not found" >&2 || true
	exit 1
fi
echo "$BIN"
