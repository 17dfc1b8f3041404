#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Mutation testing: apply each tests/mutants/*.patch (a deliberate bug in
# kmod/core) to a scratch copy of the tree, build and run the native
# engine tests there, and fail if any mutant survives (all tests pass).
# Usage: scripts/mutants.sh [PATCH...]   (default: every patch)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tests=${MUTANT_TESTS:-"test_numerics test_engine"}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fewmul-mutants.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
patches=("$@")
[ ${#patches[@]} -gt 0 ] || patches=("$top"/tests/mutants/*.patch)
survived=0
killed=0
for p in "${patches[@]}"; do
	name=$(basename "$p" .patch)
	src=$scratch/src
	rm -rf "$src"
	mkdir -p "$src"
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$src" 2>/dev/null)
	if ! patch -s -d "$src" -p1 <"$p"; then
		echo "not ok - $name: patch does not apply"
		survived=$((survived + 1))
		continue
	fi
	targets=
	for t in $tests; do targets="$targets $scratch/build/asan/$t"; done
	if ! make -s -C "$src" O="$scratch/build" $targets >"$scratch/build.log" 2>&1; then
		echo "ok - $name: killed by the build"
		killed=$((killed + 1))
		continue
	fi
	by=
	for t in $tests; do
		out=$(cd "$src" && timeout 900 "$scratch/build/asan/$t" 2>&1)
		if [ $? -ne 0 ]; then
			by="$by $t:$(grep -m3 '^not ok' <<<"$out" |
				sed 's/^not ok [0-9]* - //' | paste -sd'|')"
		fi
	done
	if [ -n "$by" ]; then
		echo "ok - $name: killed by$by"
		killed=$((killed + 1))
	else
		echo "not ok - $name: SURVIVED"
		survived=$((survived + 1))
	fi
done
echo "mutants: $killed killed, $survived survived"
[ "$survived" -eq 0 ]
