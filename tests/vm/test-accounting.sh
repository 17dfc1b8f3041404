#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The counting of make check's guests, without a guest: made-up result
# directories (what tests/vm/guest.sh leaves behind when everything
# passes, a suite fails, a step times out in the guest, the host kills
# the guest, it never boots) are fed to account_guest and the counts and
# lines checked. Prints TAP.
# usage: test-accounting.sh [KERNEL TREE (for kunit.py; KUnit cases skip without)]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tree=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

# shellcheck source=tests/vm/timing.sh
. "$top/tests/vm/timing.sh"

ok() {	# ok <name> <rc>
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi
}

tap_ok() {	# tap_ok <file> <plan> <passes...>
	local f=$1 p=$2 i
	echo "1..$p" >"$f"
	for ((i = 1; i <= $3; i++)); do echo "ok $i - t$i" >>"$f"; done
}

ktap_log() {	# ktap_log <file> [partial]: a kernel log with the two suites
	cat >"$1" <<'EOF'
[    5.100000] fewmul-test: start
[    5.200000] fewmul-test: step kunit
[    6.000000]     KTAP version 1
[    6.000000]     # Subtest: fewmul_core
[    6.000000]     1..2
[    6.000000]     ok 1 fewmul_ilog2
[    6.000000]     ok 2 fewmul_rng_golden
[    6.000000] # fewmul_core: pass:2 fail:0 skip:0 total:2
[    6.000000] ok 1 fewmul_core
[    7.000000]     KTAP version 1
[    7.000000]     # Subtest: fewmul_engine
[    7.000000]     1..3
[    7.000000]     ok 1 fewmul_sample
EOF
	[ "${2:-}" = partial ] && return
	cat >>"$1" <<'EOF'
[    7.100000]     ok 2 fewmul_counts
[    7.200000]     ok 3 fewmul_converges
[    7.200000] # fewmul_engine: pass:3 fail:0 skip:0 total:3
[    7.200000] ok 2 fewmul_engine
[    8.000000] fewmul-test: end
EOF
}

# A debug guest that ran everything and passed: 6 guest.tap, 5 KUnit,
# 10 + 20 selftests, 8 cli, 3 cli-nomod, kmemleak, 1 stress, dmesg.
fixture_pass() {
	local d=$1
	mkdir -p "$d"
	tap_ok "$d/guest.tap" 6 6
	tap_ok "$d/selftests.tap" 10 10
	tap_ok "$d/selftests-train.tap" 20 20
	tap_ok "$d/cli.tap" 8 8
	tap_ok "$d/cli-nomod.tap" 3 3
	tap_ok "$d/stress.tap" 1 1
	: >"$d/kmemleak.txt"
	ktap_log "$d/kunit-dmesg.txt"
	cp "$d/kunit-dmesg.txt" "$d/dmesg.txt"
	cp "$d/dmesg.txt" "$d/dmesg-live.txt"
	{
		echo "boot done 0 60 0"
		for s in module-load kunit selftests selftests-train cli module-unload \
			 cli-nomod kmemleak stress dmesg; do
			echo "$s done 0 10 600"
		done
	} >"$d/status"
}

# run_case <name> <dir> <rc> <want pass> <want fail> <want not run> [grep...]
run_case() {
	local name=$1 d=$2 rc=$3 wp=$4 wf=$5 wn=$6 out p f r g
	shift 6
	out=$(
		# shellcheck source=scripts/check-lib.sh
		. "$top/scripts/check-lib.sh"
		account_guest debug "$d" "$rc" 1234 1500 "$tree"
		echo "COUNTS $pass $fail $notrun"
	)
	read -r _ p f r < <(grep '^COUNTS' <<<"$out")
	echo "$out" | grep -v '^COUNTS' | sed 's/^/# /'
	[ "$p $f $r" = "$wp $wf $wn" ]
	ok "$name: $wp passed, $wf failed, $wn not run (got $p, $f, $r)" $?
	for g in "$@"; do
		grep -qF -- "$g" <<<"$out"
		ok "$name: says '$g'" $?
	done
}

if [ -n "$tree" ] && [ -f "$tree/tools/testing/kunit/kunit.py" ]; then
	k=5 kc=2	# KUnit cases: all, and those of the first suite
else
	echo "# no kernel tree: KUnit is not parsed (counted as failed)"
	k=skip
fi

all=$((6 + 10 + 20 + 8 + 3 + 1 + 2))	# TAP results, kmemleak and dmesg

if [ "$k" != skip ]; then
	d=$tmp/pass; fixture_pass "$d"
	run_case "all pass" "$d" 0 $((all + k)) 0 0

	# A suite that ran and failed is a failure, nothing else.
	d=$tmp/fail; fixture_pass "$d"
	sed -i 's/^ok 3 - t3/not ok 3 - t3/' "$d/selftests-train.tap"
	run_case "one failing selftest" "$d" 0 $((all + k - 1)) 1 0 "not ok 3 - t3"

	# The guest timed out selftests-train itself (its step limit): what
	# ran before, and the 12 results the suite wrote, still count; the
	# steps after it had no time left.
	d=$tmp/guest-timeout; fixture_pass "$d"
	tap_ok "$d/selftests-train.tap" 20 12
	rm "$d/cli.tap" "$d/cli-nomod.tap" "$d/kmemleak.txt" "$d/stress.tap"
	sed -i '/^guest\|^ok [56] /d' "$d/guest.tap"
	sed -i -e 's/^selftests-train done 0 10 600/selftests-train timeout 124 700 700/' \
		-e 's/^\(cli\|module-unload\|cli-nomod\|kmemleak\|stress\) done .*/\1 notrun 0 0 0 no time left before the guest'"'"'s limit/' \
		"$d/status"
	run_case "timeout in the guest" "$d" 0 $((4 + k + 10 + 12 + 1)) 6 6 \
		"debug guest: timed out in selftests-train after 700 s" \
		"debug selftests-train (8 of 20 not run: timed out after 700 s (step limit 700 s))" \
		"debug cli (no time left before the guest's limit)"

	# The host killed the guest (rc 124) while cli ran: no status line for
	# it, but "current" names it; its 5 results count, the rest did not run.
	d=$tmp/host-kill; fixture_pass "$d"
	tap_ok "$d/cli.tap" 8 5
	sed -i '1s/.*/1..6/;/^ok [56] /d' "$d/guest.tap"
	rm "$d/cli-nomod.tap" "$d/kmemleak.txt" "$d/stress.tap"
	ktap_log "$d/dmesg-live.txt"
	echo "[   99.000000] fewmul-test: step cli" >>"$d/dmesg-live.txt"
	sed -i '/^\(cli\|module-unload\|cli-nomod\|kmemleak\|stress\|dmesg\) /d' "$d/status"
	echo "cli 1700000000 900" >"$d/current"
	rm "$d/dmesg.txt"
	run_case "guest killed by the host" "$d" 124 $((4 + k + 10 + 20 + 5 + 1)) 5 5 \
		"debug guest: timed out in cli after 1234 s" \
		"debug cli (3 of 8 not run: timed out after 1234 s (guest limit 1500 s))" \
		"debug cli-nomod (guest timed out in cli before it started)" \
		"kernel log checked as far as the guest got (dmesg-live.txt)"

	# Killed during KUnit: the suite that ended counts, the other not.
	d=$tmp/kunit-kill; mkdir -p "$d"
	tap_ok "$d/guest.tap" 6 2
	ktap_log "$d/dmesg-live.txt" partial
	printf 'boot done 0 60 0\nmodule-load done 0 5 180\n' >"$d/status"
	echo "kunit 1700000000 900" >"$d/current"
	run_case "guest killed during KUnit" "$d" 124 $((2 + kc + 1)) 8 8 \
		"debug guest: timed out in kunit after 1234 s" \
		"debug kunit (timed out after 1234 s (guest limit 1500 s))"
fi

# The guest never booted: every suite is not run, none passes.
d=$tmp/noboot; mkdir -p "$d"
echo "qemu: could not load kernel" >"$d/console.log"
run_case "guest did not boot" "$d" 1 0 $((8 + 1)) 9 \
	"debug selftests (guest did not boot (rc 1;"

# Missing program: not run with the reason.
if [ "$k" != skip ]; then
	d=$tmp/missing; fixture_pass "$d"
	rm "$d/selftests.tap"
	sed -i 's|^selftests done .*|selftests notrun 0 0 0 build/selftests/fewmul_test missing|' "$d/status"
	run_case "selftest binary missing" "$d" 0 $((all + k - 10)) 1 1 \
		"debug selftests (build/selftests/fewmul_test missing)"
fi

echo "1..$n"
exit $failed
