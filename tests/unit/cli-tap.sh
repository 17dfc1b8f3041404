# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP helpers of the shell tests of fewmulctl (sourced). The caller sets
# FEWMULCTL and n=0 fail=0, and prints the plan "1..$n" at the end.

# t_run <0|1> <name> <expected exit> <regex> <args...>: run fewmulctl with
# the args; ok when it exits as expected and its output matches the regex
# (0) or does not match it (1).
t_run() {
	local neg=$1 name=$2 want_rc=$3 re=$4 out rc miss=0
	shift 4
	out=$("$FEWMULCTL" "$@" 2>&1)
	rc=$?
	n=$((n + 1))
	grep -Eq -- "$re" <<<"$out" || miss=1
	if [ "$rc" -eq "$want_rc" ] && [ "$miss" -eq "$neg" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "#   rc=$rc (want $want_rc), output:"
		sed 's/^/#     /' <<<"$out"
		fail=$((fail + 1))
	fi
}

t() {	# t <name> <expected exit> <expected output regex> <args...>
	t_run 0 "$@"
}

t_not() {	# t_not <name> <expected exit> <regex the output must not match> <args...>
	t_run 1 "$@"
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

ok_rc() {	# ok_rc <name> <rc>: ok when rc (a command's $?) is 0
	ok_if "$1" [ "$2" -eq 0 ]
}

skip() {	# skip <name> <why>
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
