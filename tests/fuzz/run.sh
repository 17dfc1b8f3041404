#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every fuzzer in DIR for SECONDS each, with a persistent corpus
# (seeded from tests/fuzz/seeds/<name> when present). Prints TAP: one
# result per fuzzer, with the executions it ran.
# usage: run.sh DIR SECONDS
dir=$1 secs=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
n=0
fail=0
for f in "$dir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$dir/corpus-$name
	mkdir -p "$corpus"
	[ -d "$top/tests/fuzz/seeds/$name" ] && cp -n "$top/tests/fuzz/seeds/$name"/* "$corpus/" 2>/dev/null
	# inputs that once crashed a harness: every harness replays them
	cp -n "$top/tests/fuzz/seeds/regress"/* "$corpus/" 2>/dev/null
	n=$((n + 1))
	# crash files go to DIR (build/), never into the source tree
	out=$("$f" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$dir/$name-" \
		-print_final_stats=1 "$corpus" 2>&1)
	rc=$?
	execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' <<<"$out" | grep -oE '[0-9]+$')
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $name: ${execs:-?} executions in ${secs}s, no crash or leak"
	else
		echo "not ok $n - $name (exit $rc)"
		grep -E 'ERROR|SUMMARY|==[0-9]+==' <<<"$out" | head -20 | sed 's/^/#   /'
		fail=$((fail + 1))
	fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
