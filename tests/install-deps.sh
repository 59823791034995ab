#!/bin/sh
# install-deps.sh - Debian 12 packages for building and testing listmilter.
set -e
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential autoconf automake pkg-config libmilter-dev
libunbound-dev libopendkim-dev libspf2-dev libssl-dev postfix swaks python3 python3-yaml
python3-dkim mandoc dpkg-dev debhelper lintian systemd clang
libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	# postfix asks debconf questions: answer them for a local-only system
	echo "postfix postfix/main_mailer_type select Local only" |
	    debconf-set-selections
	echo "postfix postfix/mailname string localhost" | debconf-set-selections
	apt-get install -y -qq $missing >/dev/null
fi
