# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP helpers of the shell tests of fewmulctl (sourced). The caller sets
# FEWMULCTL and n=0 fail=0, and prints the plan "1..$n" at the end.

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

ok_if() {	# ok_if <name> <command...>: ok when the command succeeds
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		fail=$((fail + 1))
	fi
}

skip() {	# skip <name> <why>
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
