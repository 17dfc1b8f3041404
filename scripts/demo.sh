#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the main job. Installs what is missing, builds the module and
# the tools, and runs them against /dev/fewmul: on this machine when the
# running kernel is the one the module was built for (and we are root),
# otherwise in a virtme-ng guest booting Debian's stock kernel.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-build}

scripts/deps.sh
make -s all
kver=$(modinfo -F vermagic "$O/kmod-stock/fewmul.ko" | cut -d' ' -f1)

if [ "$kver" = "$(uname -r)" ] && [ "$(id -u)" -eq 0 ] &&
   [ "${FEWMUL_DEMO_GUEST:-0}" != 1 ]; then
	echo "demo: running on this machine's kernel $kver"
	exec tests/vm/demo-guest.sh "$top/$O"
fi

echo "demo: host kernel $(uname -r) cannot load a module built for $kver;"
echo "demo: booting $kver in a virtme-ng guest (TCG when KVM does not work)"
out=$O/demo
mkdir -p "$out"
scripts/run-guest.sh "/boot/vmlinuz-$kver" "$out" \
	"$top/tests/vm/demo-guest.sh $top/$O"
