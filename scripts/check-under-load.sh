#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check while stress-ng keeps every core busy for the whole run: a
# slow machine must not fail it. Prints the wall time and the load average
# (sampled every minute into build/check-under-load.uptime).
# usage: scripts/check-under-load.sh [check.sh arguments, e.g. --guest debug]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-build}
command -v stress-ng >/dev/null || { echo "check-under-load: stress-ng missing (make deps)" >&2; exit 1; }
mkdir -p "$O"
log=$O/check-under-load.uptime

stress-ng --cpu "$(nproc)" --timeout 0 --quiet &
stress=$!
(while sleep 60; do uptime; done) >"$log" &
sampler=$!
trap 'kill "$stress" "$sampler" 2>/dev/null' EXIT

start=$(date +%s)
echo "check-under-load: stress-ng --cpu $(nproc) running; $(uptime)"
scripts/check.sh "$@"	# what make check runs
rc=$?
echo "check-under-load: check.sh $* took $(($(date +%s) - start)) s wall (rc $rc) with stress-ng --cpu $(nproc)"
echo "check-under-load: load average over the run:" \
	"$(awk -F'load average: ' '{ split($2, a, ", "); s += a[1]; n++ }
		END { if (n) printf "%.1f (mean of %d samples of the 1-min figure)", s / n, n }' "$log")"
exit "$rc"
