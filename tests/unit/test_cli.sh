#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fewmulctl argument handling and errors, without the module (native,
# ASan build). Prints TAP.
FEWMULCTL=${FEWMULCTL:-$(dirname "$0")/fewmulctl}
n=0
fail=0

t() {	# t <name> <expected exit> <expected output regex> <args...>
	local name=$1 want_rc=$2 want_re=$3 out rc
	shift 3
	out=$("$FEWMULCTL" "$@" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq "$want_rc" ] && grep -Eq -- "$want_re" <<<"$out"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "#   rc=$rc (want $want_rc), output:"
		sed 's/^/#     /' <<<"$out"
		fail=$((fail + 1))
	fi
}

t "no arguments prints usage, exit 1" 1 "^Usage: fewmulctl" 
t "--help lists commands, exit 0" 0 "info +show module version" --help
t "--version" 0 "^fewmulctl [0-9]+\.[0-9]+\.[0-9]+$" --version
t "unknown command" 1 "^fewmulctl: unknown command 'frobnicate'" frobnicate
t "commands match exactly (no prefixes)" 1 "unknown command 'inf'" inf
t "info --help" 0 "^Usage: fewmulctl info \[--json\]" info --help
t "info with a stray argument prints usage" 1 "^Usage: fewmulctl info" info extra
t "info with an unknown option prints usage" 1 "Usage: fewmulctl info" info --bogus
t "info without the device says the module is not loaded" 1 \
	"fewmulctl: /nonexistent: No such file or directory" info --device /nonexistent
t "info without the device explains how to load it" 1 \
	"module is not loaded; load it with 'modprobe fewmul'" info --device /nonexistent
t "info on a non-fewmul device fails the ioctl" 1 \
	"fewmulctl: FEWMUL_IOC_INFO: Inappropriate ioctl for device" info --device /dev/null

echo "1..$n"
[ "$fail" -eq 0 ]
