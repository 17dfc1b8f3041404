# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# Time limits of the make check guests, sourced by scripts/check.sh on the
# host and by tests/vm/guest.sh in the guest (bash).
#
# A limit is derived from the work, not fixed: every step of a guest has a
# reference duration, measured under TCG on an idle machine of the kind the
# project is developed on (2-core AMD EPYC, no usable KVM). A calibration
# loop, timed now, says how much slower than that reference this machine is
# at the moment (load from other jobs, a slower CPU). A step's expected
# duration is its reference times that factor; its limit is the expected
# duration times FEWMUL_TIME_SLACK, never under FEWMUL_STEP_FLOOR seconds.
# The host calibrates before booting a guest (whole-guest limit, capped at
# FEWMUL_GUEST_CEILING); the guest calibrates again before every step, so a
# load that appears halfway through is seen.

# Reference seconds per step under TCG, idle reference machine. The stock
# guest's are from a measured run scaled to its calibration
# (Documentation/testing.rst, "A slow machine"); the debug guest's are
# estimates (KASAN, lockdep and kmemleak make the kernel side 3-5 times
# slower) to be replaced by a measured idle run. boot: until guest.sh
# starts. A step a guest kind does not run is absent.
declare -A fewmul_ref_debug=(
	[boot]=90 [module-load]=10 [kunit]=60 [selftests]=30
	[selftests-train]=200 [cli]=600 [module-unload]=10 [cli-nomod]=10
	[kmemleak]=120 [stress]=90 [dmesg]=5
)
declare -A fewmul_ref_stock=(
	[boot]=45 [module-load]=3 [selftests]=5
	[selftests-train]=15 [cli]=170 [mpi]=90 [module-unload]=5 [cli-nomod]=3
	[stress]=15 [dmesg]=3
)
# The order the guest runs them in: short ones first.
# Debian 12's 6.12 stock kernel: like the 6.1 one.
declare -A fewmul_ref_stock612=(
	[boot]=45 [module-load]=3 [selftests]=5
	[selftests-train]=15 [cli]=170 [module-unload]=5 [cli-nomod]=3
	[stress]=15 [dmesg]=3
)
fewmul_steps="module-load kunit selftests selftests-train cli mpi module-unload cli-nomod kmemleak stress dmesg"

# Calibration loop in milliseconds on the idle reference machine: natively
# on the host, and in a TCG guest.
FEWMUL_CALIB_HOST_MS=${FEWMUL_CALIB_HOST_MS:-100}
FEWMUL_CALIB_TCG_MS=${FEWMUL_CALIB_TCG_MS:-1400}
FEWMUL_TIME_SLACK=${FEWMUL_TIME_SLACK:-4}
FEWMUL_STEP_FLOOR=${FEWMUL_STEP_FLOOR:-180}
FEWMUL_GUEST_CEILING=${FEWMUL_GUEST_CEILING:-14400}

# fewmul_calib_ms: milliseconds a fixed single-threaded loop takes now.
fewmul_calib_ms() {
	local t0 t1
	t0=$(date +%s%N)
	awk 'BEGIN { for (i = 0; i < 1000000; i++) s += i % 7 }'
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# fewmul_factor <measured ms> <reference ms>: slowdown against the
# reference in hundredths, at least 100 (a faster machine keeps the
# reference limits).
fewmul_factor() {
	local f=$(($1 * 100 / $2))
	[ "$f" -ge 100 ] || f=100
	echo "$f"
}

# fewmul_ref <kind> <step>: reference seconds of a step (0: not run there).
fewmul_ref() {
	local -n t=fewmul_ref_$1
	echo "${t[$2]:-0}"
}

# fewmul_expected <kind> <factor>: expected seconds for a whole guest.
fewmul_expected() {
	local -n t=fewmul_ref_$1
	local s=0 k
	for k in "${!t[@]}"; do s=$((s + t[$k])); done
	echo $((s * $2 / 100))
}

# fewmul_limit <expected seconds>: a step's limit.
fewmul_limit() {
	local l=$(($1 * FEWMUL_TIME_SLACK))
	[ "$l" -ge "$FEWMUL_STEP_FLOOR" ] || l=$FEWMUL_STEP_FLOOR
	echo "$l"
}
