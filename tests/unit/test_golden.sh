#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pinned results: every run of tests/golden/checksums must end with its
# recorded weights checksum (cpu backend, Fashion-MNIST). Prints TAP.
# Usage: test_golden [checksums file]; FEWMULCTL and FEWMUL_DATA override
# the binary and the dataset directory.
here=$(dirname "$0")
FEWMULCTL=${FEWMULCTL:-$here/fewmulctl}
list=${1:-${FEWMUL_GOLDEN:-$here/../../tests/golden/checksums}}
data=${FEWMUL_DATA:-/usr/share/datasets/fashion-mnist}
n=0
fail=0

if [ ! -r "$list" ]; then
	echo "not ok 1 - $list is not readable"
	exit 1
fi
while read -r want args; do
	case "$want" in '#'* | '') continue ;; esac
	n=$((n + 1))
	# shellcheck disable=SC2086
	got=$("$FEWMULCTL" train --backend cpu --data "$data" --test-limit 500 \
		$args 2>&1 | sed -n 's/^weights checksum //p')
	if [ "$got" = "$want" ]; then
		echo "ok $n - $want $args"
	else
		echo "not ok $n - $args: checksum '${got:-none}', recorded $want"
		fail=$((fail + 1))
	fi
done <"$list"
[ "$n" -gt 0 ] || { echo "not ok 1 - no runs in $list"; exit 1; }
echo "1..$n"
[ "$fail" -eq 0 ]
