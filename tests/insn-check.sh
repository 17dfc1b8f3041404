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

# insn_is_arm64 <object>: an AArch64 object (disassembled with
# aarch64-linux-gnu-objdump), else one for this machine's objdump.
insn_is_arm64() {
	readelf -h "$1" 2>/dev/null | grep -q 'Machine:.*AArch64'
}

# insn_disasm <object>: its disassembly, with the objdump of its machine.
insn_disasm() {
	if insn_is_arm64 "$1"; then
		aarch64-linux-gnu-objdump -d --no-show-raw-insn "$1"
	else
		objdump -d --no-show-raw-insn "$1"
	fi
}

# insn_functions <disassembly>: the names of its functions, one a line.
insn_functions() {
	awk '/^[0-9a-f]+ <[^>]+>:$/ { gsub(/[<>:]/, "", $2); print $2 }' <<<"$1"
}

# insn_body <disassembly> <function>: that function's instructions.
insn_body() {
	awk -v f="<$2>:" '$2 == f { on = 1; next } on && /^$/ { exit } on' <<<"$1"
}

# insn_done: the plan line, and the exit status.
insn_done() {
	echo "1..$n"
	[ "$fail" -eq 0 ]
}
