#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The reference documents the tool: every long option that
# `fewmulctl CMD --help` lists appears in CMD's section of
# Documentation/cli.rst. Prints TAP.
FEWMULCTL=${FEWMULCTL:-$(dirname "$0")/fewmulctl}
SRC=${FEWMUL_SRCDIR:-$(dirname "$0")/../..}
CLI=$SRC/Documentation/cli.rst
n=0
fail=0

cmds=$("$FEWMULCTL" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p')
n=$((n + 1))
if [ "$(wc -w <<<"$cmds")" -ge 10 ]; then
	echo "ok $n - fewmulctl --help lists the commands"
else
	echo "not ok $n - fewmulctl --help lists the commands: '$cmds'"
	fail=$((fail + 1))
fi
for c in $cmds; do
	# the section: from "CMD" over a line of dashes to the next such title
	sec=$(awk -v c="$c" '/^-+$/ && prev == c { on = 1; next }
			     /^-+$/ && on { exit }
			     on { print }
			     { prev = $0 }' "$CLI")
	# the option names: what an option line has before its description
	opts=$("$FEWMULCTL" "$c" --help | grep -E '^  -' |
	       awk '{ s = substr($0, 3); i = index(s, "  "); if (i) s = substr(s, 1, i - 1); print s }' |
	       grep -oE -- '--[a-z][a-z0-9-]*' | grep -vx -- --help | sort -u)
	missing=
	[ -n "$sec" ] || missing=" (no section '$c')"
	[ -n "$opts" ] || missing=" (no options in --help)"
	for o in $opts; do
		grep -q -- "$o" <<<"$sec" || missing="$missing $o"
	done
	n=$((n + 1))
	if [ -z "$missing" ]; then
		echo "ok $n - cli.rst documents every option of $c --help"
	else
		echo "not ok $n - cli.rst documents every option of $c --help (missing:$missing)"
		fail=$((fail + 1))
	fi
done

echo "1..$n"
[ "$fail" -eq 0 ]
