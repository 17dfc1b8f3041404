# SPDX-License-Identifier: GPL-2.0
#
# Sourced by check-nofp.sh and check-nomul.sh: the TAP counters and one
# verdict per piece of object code.
n=0
fail=0

# insn_verdict <what> <offending instructions> <detail>: "ok N - WHAT
# (DETAIL)" when there are none, else "not ok N - WHAT" and each one as a
# comment.
insn_verdict() {
	n=$((n + 1))
	if [ -n "$2" ]; then
		echo "not ok $n - $1"
		sed 's/^/#   /' <<<"$2"
		fail=$((fail + 1))
	else
		echo "ok $n - $1 ($3)"
	fi
}

# insn_done: the plan line, and the exit status.
insn_done() {
	echo "1..$n"
	[ "$fail" -eq 0 ]
}
