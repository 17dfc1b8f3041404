#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Register the module sources with DKMS, build and install the module for
# the running kernel (or $KVER). Used by `make install`.
set -euo pipefail
ver=$1
top=$(cd "$(dirname "$0")/.." && pwd)
src=/usr/src/fewmul-$ver
kver=${KVER:-$(uname -r)}

if ! command -v dkms >/dev/null; then
	echo "dkms-install: dkms not installed (run: make deps)" >&2
	exit 1
fi
dkms remove "fewmul/$ver" --all >/dev/null 2>&1 || true
rm -rf "$src"
mkdir -p "$src"
cd "$top"
cp -r --parents Kbuild VERSION dkms.conf kmod uapi "$src/"
mkdir -p "$src/tests" && cp -r --parents tests/kunit tests/*.h "$src/"
dkms add "fewmul/$ver"
if [ -d "/lib/modules/$kver/build" ]; then
	dkms install "fewmul/$ver" -k "$kver"
else
	echo "dkms-install: no headers for $kver; DKMS builds when they appear" >&2
fi
getent group fewmul >/dev/null || groupadd --system fewmul
command -v udevadm >/dev/null && udevadm control --reload 2>/dev/null || true
