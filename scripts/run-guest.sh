#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel image in a virtme-ng guest with the host filesystem shared
# read-only, OUT shared read-write, and run a command in it.
# usage: run-guest.sh IMAGE OUT COMMAND...
# KVM is used when it works (FEWMUL_KVM=0/1 overrides the detection);
# otherwise TCG (about 10-30x slower).
set -euo pipefail
img=$1 out=$2
shift 2

kvm_works() {
	[ -w /dev/kvm ] || return 1
	grep -qwE 'vmx|svm' /proc/cpuinfo || return 1
	return 0
}

opts=()
case "${FEWMUL_KVM:-auto}" in
0) opts+=(--disable-kvm) ;;
1) ;;
*) kvm_works || opts+=(--disable-kvm) ;;
esac

mkdir -p "$out"
out=$(cd "$out" && pwd)
exec timeout --foreground "${FEWMUL_GUEST_TIMEOUT:-1200}" \
	vng "${opts[@]}" -r "$img" -m "${FEWMUL_GUEST_MEM:-2G}" \
	-p "${FEWMUL_GUEST_CPUS:-2}" --rwdir "$out=$out" \
	--qemu-opts="-cpu max" \
	--exec "$*" </dev/null
