#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package fewmul needs to build, test and run its
# guest. Idempotent: safe to run again. Must run as root on Debian 12.
#
# virtme-ng is not in bookworm; trixie's package is Architecture: all and its
# dependencies are met from bookworm, so the trixie suite is added with an
# apt pin of 100: nothing else is ever upgraded from it.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

PKGS=(
	build-essential flex bison bc libelf-dev libssl-dev dwarves rsync cpio
	ccache kmod pkg-config xz-utils python3 perl
	linux-source-6.1 linux-image-amd64 linux-headers-amd64
	qemu-system-x86 busybox-static
	libnl-3-dev libnl-genl-3-dev zlib1g-dev libcairo2-dev libzip-dev
	libpng-dev python3-numpy python3-docutils
	clang llvm libclang-rt-14-dev binutils dkms udev
	dataset-fashion-mnist
	stress-ng
	linux-headers-6.12-amd64 linux-image-6.12-amd64
	linux-headers-6.12-rt-amd64 linux-image-6.12-rt-amd64
	dpkg-dev debhelper dh-dkms lintian fakeroot
	libopenmpi-dev openmpi-bin
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
)

# The newest kernel source Debian carries, for `make compat` (compile-only):
# trixie-backports' linux-source (7.3 when written), pinned to 100 like trixie.
newest_src() {
	ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sed 's|.*/linux-source-||; s|\.tar\.xz$||' |
		sort -V | tail -1
}

missing=()
for p in "${PKGS[@]}" virtme-ng; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
# Anything newer than the 6.12 the bookworm security suite carries.
if [ "$(printf '%s\n' 6.12 "$(newest_src)" | sort -V | tail -1)" = 6.12 ]; then
	missing+=(linux-source/trixie-backports)
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; must run as root to install (try: sudo make deps)" >&2
	exit 1
fi

SRC=/etc/apt/sources.list.d/fewmul-trixie.sources
PIN=/etc/apt/preferences.d/fewmul-trixie

if [ ! -f "$SRC" ]; then
	uri=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$uri" ] || uri=http://deb.debian.org/debian
	cat >"$SRC" <<EOT
Types: deb
URIs: $uri
Suites: trixie bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
fi
# Added later than the file above, so kept apart: machines that already
# have fewmul-trixie.sources get it too.
BPO=/etc/apt/sources.list.d/fewmul-trixie-backports.sources
BPOPIN=/etc/apt/preferences.d/fewmul-trixie-backports
if [ ! -f "$BPO" ]; then
	sed 's/^Suites:.*/Suites: trixie-backports/' "$SRC" >"$BPO"
	cat >"$BPOPIN" <<EOT
Package: *
Pin: release n=trixie-backports
Pin-Priority: 100
EOT
fi
if [ ! -f "$PIN" ]; then
	cat >"$PIN" <<EOT
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100
EOT
fi

apt-get update -q
apt-get install -y -q --no-install-recommends "${PKGS[@]}"
apt-get install -y -q --no-install-recommends virtme-ng/trixie
case " ${missing[*]} " in
*" linux-source/trixie-backports "*)
	apt-get install -y -q --no-install-recommends linux-source/trixie-backports ;;
esac
echo "deps: installed ${missing[*]}"
