#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages, installed and used in a guest: boots Debian's stock
# kernel (newest 6.1 by default) in virtme-ng and runs tests/vm/deb-guest.sh
# there (dpkg -i, DKMS build for the guest kernel, modprobe, fewmulctl info
# and train as a user in group fewmul, apt-get purge, nothing left). The
# guest works on tmpfs overlays of /etc, /usr and /var: the host's package
# database is never touched.
#
# Prints the guest's TAP (OUT/deb.tap); its log is OUT/deb.log.
# usage: deb-test.sh OUT [IMAGE]     (packages: $O/deb, built when missing;
#        FEWMUL_DEB_REBUILD=1 rebuilds them first)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-build}
out=${1:?usage: deb-test.sh OUT [IMAGE]}
img=${2:-$(ls /boot/vmlinuz-6.1.*-amd64 2>/dev/null | sort -V | tail -1)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/deb.tap" "$out/deb.log"

if [ -z "$img" ] || [ ! -f "$img" ]; then
	echo "not ok 1 - kernel image for the package test present (run: make deps)"
	echo "1..1"
	exit 1
fi
if [ "${FEWMUL_DEB_REBUILD:-0}" = 1 ] ||
   ! ls "$O"/deb/fewmul-dkms_*_all.deb >/dev/null 2>&1; then
	if ! scripts/deb-build.sh >"$out/deb-build.log" 2>&1; then
		tail -20 "$out/deb-build.log" | sed 's/^/# /'
		echo "not ok 1 - make deb"
		echo "1..1"
		exit 1
	fi
fi
debs=$(cd "$O/deb" && pwd)

start=$(date +%s)
FEWMUL_GUEST_TIMEOUT=${FEWMUL_GUEST_TIMEOUT:-3600} scripts/run-guest.sh "$img" "$out" "$top/tests/vm/deb-guest.sh $out $debs" \
	>"$out/console.log" 2>&1
rc=$?
echo "# package guest on $(basename "$img") finished in $(( $(date +%s) - start )) s (rc $rc)"
if [ ! -s "$out/deb.tap" ]; then
	tail -30 "$out/console.log" | sed 's/^/# /'
	echo "not ok 1 - package guest produced results"
	echo "1..1"
	exit 1
fi
grep -E '^(== |install|train|purge|guest: done)' "$out/deb.log" | sed 's/^/# /'
cat "$out/deb.tap"
! grep -q '^not ok' "$out/deb.tap" && [ "$rc" -eq 0 ]
