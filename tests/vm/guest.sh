#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the virtme-ng guest (as root). Loads the module(s), runs the
# KUnit suites, the selftests and the CLI smoke tests, unloads, and writes
# every result into OUT for the host to parse:
#   guest.tap (module load/unload, rmmod-while-open)  kunit-dmesg.txt
#   kunit-<suite>.ktap  selftests.tap  selftests-train.tap  cli.tap
#   cli-nomod.tap  kmemleak.txt  stress.tap  dmesg.txt
#
# Results must survive the guest being killed at any moment (a slow
# machine, a hang), so every step writes its files into OUT as soon as it
# ends, followed by a kernel log snapshot (dmesg.txt); dmesg-live.txt
# follows the kernel log as it is written. Two more files tell the host
# where the guest got to:
#   current  the step running now: "<step> <start, epoch s> <limit s>"
#   status   one line per step that ended:
#            "<step> done|timeout|notrun <rc> <seconds> <limit> [reason]"
# Each step runs under its own time limit (tests/vm/timing.sh), calibrated
# again before the step and cut to what is left before DEADLINE (epoch
# seconds, when the host will kill the guest) minus what the final
# kmemleak and dmesg steps need. A step that times out costs only itself.
#
# usage: guest.sh OUT KMODDIR BINDIR [KIND [DEADLINE]]
#   KIND is debug or stock (the reference durations to use).
set -u
out=$1 kmod=$2 bin=$3 kind=${4:-debug} deadline=${5:-0}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/timing.sh
. "$here/timing.sh"

# Steps run in a child shell (under timeout), so the number comes from
# the file.
tap() {	# tap <name> <rc>
	local n
	n=$(($(grep -cE '^(not )?ok ' "$out/guest.tap") + 1))
	if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi >>"$out/guest.tap"
}

# Atomic snapshot of the kernel log: the host never sees half a file.
snapshot_dmesg() {
	dmesg >"$out/.dmesg.tmp" && mv -f "$out/.dmesg.tmp" "$out/dmesg.txt"
}

status() {	# status <step> <result> <rc> <seconds> <limit> [reason]
	echo "$*" >>"$out/status"
	sync "$out/status" 2>/dev/null
}

# What the steps after the current one still need: reserved at the end.
reserve() {
	local f=$1 s=0 st
	for st in kmemleak dmesg; do
		s=$((s + $(fewmul_ref "$kind" "$st") * f / 100 * 2))
	done
	echo $((s + 15))
}

# step <name> <cmd...>: run a step under its limit; stdout/stderr are the
# caller's (redirect to a file in OUT to stream results as they come).
# Sets step_rc.
step_rc=0
step() {
	local name=$1 ms f lim left t0 t
	shift
	ms=$(fewmul_calib_ms)
	f=$(fewmul_factor "$ms" "$FEWMUL_CALIB_TCG_MS")
	lim=$(fewmul_limit $(($(fewmul_ref "$kind" "$name") * f / 100)))
	if [ "$deadline" -gt 0 ]; then
		left=$((deadline - $(date +%s)))
		case $name in
		kmemleak | dmesg) left=$((left - 5)) ;;
		*) left=$((left - $(reserve "$f"))) ;;
		esac
		if [ "$left" -le 0 ]; then
			status "$name" notrun 0 0 0 "no time left before the guest's limit"
			echo "guest: $name: not run, no time left" >&3
			step_rc=125
			return
		fi
		[ "$lim" -le "$left" ] || lim=$left
	fi
	echo "$name $(date +%s) $lim" >"$out/current"
	echo "guest: $name (limit $lim s, calibration $ms ms, factor $f%)" >&3
	echo "fewmul-test: step $name" >/dev/kmsg
	t0=$(date +%s)
	timeout -k 10 "$lim" bash -c '"$@"' "$name" "$@" </dev/null
	step_rc=$?
	t=$(($(date +%s) - t0))
	snapshot_dmesg
	sync
	if [ "$step_rc" -eq 124 ] || [ "$step_rc" -eq 137 ]; then
		status "$name" timeout "$step_rc" "$t" "$lim"
		echo "guest: $name: timed out after $t s (limit $lim s)" >&3
	else
		status "$name" "done" "$step_rc" "$t" "$lim"
	fi
}

# A step whose program is missing could not run: say why.
missing() {	# missing <step> <file>: 0 if the file is there
	[ -x "$2" ] && return 0
	status "$1" notrun 0 0 0 "$2 missing"
	return 1
}

exec 3>&2	# the console, whatever a step's output goes to
: >"$out/status"
echo "guest: $(uname -r), $(nproc) cpus, $kind kernel, up $(cut -d' ' -f1 /proc/uptime) s"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
status boot "done" 0 "$(cut -d. -f1 /proc/uptime)" 0
leak=/sys/kernel/debug/kmemleak
[ -w $leak ] && echo clear >$leak
echo "fewmul-test: start" >/dev/kmsg
# The kernel log as it is written: what the step running at a timeout
# printed is kept too.
stdbuf -oL dmesg -w >"$out/dmesg-live.txt" 2>&1 &
live=$!

# The plan first: a guest killed halfway leaves a short file the host
# recognises.
plan=4
[ -f "$kmod/fewmul_kunit.ko" ] && plan=6
echo "1..$plan" >"$out/guest.tap"

# The steps that are shell functions run in a child shell under timeout.
load() {
	insmod "$kmod/fewmul.ko"
	tap "insmod fewmul.ko" $?
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/fewmul ] && break; sleep 0.2; done
	[ -c /dev/fewmul ]
	tap "/dev/fewmul appears" $?
}

# KUnit: the suites run at load and print their KTAP to the kernel log,
# kept in kunit-dmesg.txt right away.
kunit() {
	insmod "$kmod/fewmul_kunit.ko"
	tap "insmod fewmul_kunit.ko (KUnit suites run at load)" $?
	dmesg >"$out/kunit-dmesg.txt"
	for d in /sys/kernel/debug/kunit/fewmul_*; do
		[ -f "$d/results" ] && cp "$d/results" "$out/kunit-$(basename "$d").ktap"
	done
	rmmod fewmul_kunit
	tap "rmmod fewmul_kunit" $?
}

unload() {
	# The module cannot go away while a context is open.
	exec 7<>/dev/fewmul
	rmmod fewmul 2>/dev/null
	[ $? -ne 0 ] && [ -c /dev/fewmul ]
	tap "rmmod refused while a context is open" $?
	exec 7>&-
	rmmod fewmul
	tap "rmmod fewmul" $?
}

# A short seeded slice of tests/stress (the module loaded and unloaded
# by run.sh; after the kmemleak step, since run.sh clears kmemleak).
stress() {
	local rc
	"$here/../stress/run.sh" "$kmod" "$bin/stress/fewmul_stress" "$out/stress" \
		-n "${FEWMUL_STRESS_OPS:-20000}" -s 1 -p 3 -t 3 >"$out/stress.log" 2>&1
	rc=$?
	echo "1..1"
	if [ "$rc" -eq 0 ]; then echo "ok 1 - stress: ${FEWMUL_STRESS_OPS:-20000} seeded operations, clean kernel log"
	else echo "not ok 1 - stress (see stress.log)"; sed 's/^/# /' "$out/stress.log" | tail -30; fi
}

scan() {
	echo scan >$leak
	sleep 6
	echo scan >$leak
	cat $leak >"$out/kmemleak.txt"
}

finish() {
	echo "fewmul-test: end" >/dev/kmsg
	snapshot_dmesg
}
export -f tap snapshot_dmesg load kunit unload stress scan finish
export out kmod leak bin here

# Short steps first (KUnit), so that a slow machine loses as little as
# possible.
step module-load load
[ -f "$kmod/fewmul_kunit.ko" ] && step kunit kunit
missing selftests "$bin/selftests/fewmul_test" &&
	step selftests "$bin/selftests/fewmul_test" >"$out/selftests.tap" 2>&1
missing selftests-train "$bin/selftests/fewmul_train_test" &&
	step selftests-train "$bin/selftests/fewmul_train_test" >"$out/selftests-train.tap" 2>&1
missing cli "$bin/fewmulctl" &&
	step cli "$here/cli-smoke.sh" "$bin/fewmulctl" >"$out/cli.tap" 2>&1
# data parallel through the module over Open MPI (the stock 6.1 guest)
[ "$(fewmul_ref "$kind" mpi)" -eq 0 ] || { missing mpi "$bin/fewmulctl-mpi" &&
	step mpi "$here/mpi-guest.sh" "$bin" >"$out/mpi.tap" 2>&1; }
step module-unload unload
missing cli-nomod "$bin/fewmulctl" &&
	step cli-nomod "$here/cli-nomod.sh" "$bin/fewmulctl" >"$out/cli-nomod.tap" 2>&1
[ -w $leak ] && step kmemleak scan
missing stress "$bin/stress/fewmul_stress" &&
	step stress stress >"$out/stress.tap" 2>&1
step dmesg finish
kill "$live" 2>/dev/null
rm -f "$out/current"
echo "guest: done"
