#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest tests (tests/vm/guest.sh: module load/unload, selftests, CLI
# smoke tests, dmesg) on another of Debian 12's stock kernels, with the
# module built for it by `make compat`:
#   6.12     linux-image-6.12.*+deb12-amd64 (Debian 12's security suite)
#   6.12-rt  the same kernel with PREEMPT_RT
# Results land in OUT as for the other guests (guest.tap, selftests.tap,
# selftests-train.tap, cli.tap, cli-nomod.tap, dmesg.txt); a summary
# line per file is printed. Exit status: non-zero when anything failed.
# usage: stock-guest.sh NAME OUT
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-build}
name=${1:?usage: stock-guest.sh 6.12|6.12-rt OUT}
out=${2:?usage: stock-guest.sh 6.12|6.12-rt OUT}
case "$name" in
6.12)	glob='6.12.*+deb12-amd64' ;;
6.12-rt) glob='6.12.*+deb12-rt-amd64' ;;
*)	echo "stock-guest: unknown kernel $name (6.12, 6.12-rt)" >&2; exit 2 ;;
esac
mkdir -p "$out"
out=$(cd "$out" && pwd)

kdir=$(ls -d /lib/modules/$glob/build 2>/dev/null | sort -V | tail -1)
kver=$(basename "$(dirname "$kdir")")
img=/boot/vmlinuz-$kver
if [ -z "$kdir" ] || [ ! -f "$img" ]; then
	echo "stock-guest: no $glob headers and image (run: make deps)" >&2
	exit 1
fi
if ! make -s --no-print-directory module-compat COMPAT_NAME="$name" \
	COMPAT_KDIR="$kdir" >"$out/kmod.log" 2>&1; then
	tail -20 "$out/kmod.log" >&2
	exit 1
fi
# Userspace and the selftests, as check.sh builds them (the harness header
# from any kernel source tree: the test kernel's or make compat's).
ksrc=${KSRC:-$(ls -d /var/cache/fewmul/kernel-*/ /var/cache/fewmul/compat-*/ 2>/dev/null |
	while read -r d; do [ -f "$d/tools/testing/selftests/kselftest_harness.h" ] && echo "$d"; done | head -1)}
if ! make -s userspace >"$out/build.log" 2>&1 ||
   ! make -s selftests KSRC="$ksrc" >>"$out/build.log" 2>&1; then
	tail -20 "$out/build.log" >&2
	exit 1
fi

start=$(date +%s)
scripts/run-guest.sh "$img" "$out" \
	"$top/tests/vm/guest.sh $out $top/$O/kmod-compat-$name $top/$O" \
	>"$out/console.log" 2>&1
rc=$?
echo "guest $name ($kver) finished in $(( $(date +%s) - start )) s (rc $rc)"
bad=$rc
for f in guest selftests selftests-train cli cli-nomod; do
	t=$out/$f.tap
	if [ ! -s "$t" ]; then
		echo "$f: no results"; bad=1; continue
	fi
	p=$(grep -cE '^ok ' "$t"); x=$(grep -cE '^not ok ' "$t")
	echo "$f: $p ok, $x not ok"
	grep -E '^not ok ' "$t" | sed "s/^/  $f: /"
	[ "$x" -eq 0 ] || bad=1
done
splat=$(sed -n '/fewmul-test: start/,$p' "$out/dmesg.txt" 2>/dev/null |
	grep -E 'BUG:|WARNING:|Oops|Call Trace|scheduling while atomic|sleeping function' || true)
[ -z "$splat" ] || { echo "$splat" | sed 's/^/  dmesg: /'; bad=1; }
[ "$bad" -eq 0 ]
