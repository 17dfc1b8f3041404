#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-guest: kernel backend vs cpu backend throughput, measured in
# the same virtme-ng guest booting Debian's stock kernel (or on this
# machine when its kernel can load the module and we are root).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-build}

make -s all
kver=$(modinfo -F vermagic "$O/kmod-stock/fewmul.ko" | cut -d' ' -f1)
if [ "$kver" = "$(uname -r)" ] && [ "$(id -u)" -eq 0 ]; then
	exec tests/vm/bench-guest.sh "$top/$O" "$@"
fi
out=$O/bench-guest
mkdir -p "$out"
scripts/run-guest.sh "/boot/vmlinuz-$kver" "$out" \
	"$top/tests/vm/bench-guest.sh $top/$O $*"
