#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel image in a virtme-ng guest with the host filesystem shared
# read-only, OUT shared read-write, and run a command in it.
# usage: run-guest.sh IMAGE OUT COMMAND...
#        run-guest.sh --accel     prints "kvm" or "tcg: <why not KVM>"
# KVM is used when it works (FEWMUL_KVM=0/1 overrides the detection);
# otherwise TCG (about 10-30x slower).
# FEWMUL_GUEST_VERBOSE=1 (make check sets it) puts the kernel log in the
# output with the command's, so a guest that does not boot says why.
# The guest is killed after FEWMUL_GUEST_TIMEOUT seconds (default 1200;
# make check derives its own limit and passes it here), exit status 124.
# As root the guest runs at nice FEWMUL_GUEST_NICE (default -10; 0: the
# caller's priority): on a loaded machine a TCG guest's boot otherwise
# misses timeouts inside it that nothing outside can change (udevadm
# settle's 120 s, after which virtme-init finds no virtio-serial ports
# and the guest powers off without running anything).
set -euo pipefail

accel() {
	case "${FEWMUL_KVM:-auto}" in
	0) echo "tcg: FEWMUL_KVM=0"; return ;;
	1) echo kvm; return ;;
	esac
	if [ ! -w /dev/kvm ]; then
		echo "tcg: /dev/kvm missing or not writable"
	elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "tcg: the CPU offers no VMX/SVM"
	else
		echo kvm
	fi
}

if [ "${1:-}" = --accel ]; then
	accel
	exit 0
fi

img=$1 out=$2
shift 2

opts=()
[ "$(accel)" = kvm ] || opts+=(--disable-kvm)

mkdir -p "$out"
out=$(cd "$out" && pwd)
prio=()
gnice=${FEWMUL_GUEST_NICE:--10}
if [ "$gnice" -gt 0 ] || { [ "$gnice" -lt 0 ] && [ "$(id -u)" -eq 0 ]; }; then
	prio=(nice -n "$gnice")
fi
# Not --foreground: the signal must reach vng's children (qemu) too, or a
# killed guest would keep running and writing into OUT.
exec "${prio[@]}" timeout -k 30 "${FEWMUL_GUEST_TIMEOUT:-1200}" \
	vng ${FEWMUL_GUEST_VERBOSE:+--verbose} "${opts[@]}" -r "$img" -m "${FEWMUL_GUEST_MEM:-2G}" \
	-p "${FEWMUL_GUEST_CPUS:-2}" --rwdir "$out=$out" \
	--qemu-opts="-cpu max" \
	--exec "$*" </dev/null
