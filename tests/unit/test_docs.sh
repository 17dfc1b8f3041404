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

# Every page parses as reStructuredText (Debian's python3-docutils; the
# Sphinx-only toctree of index.rst is accepted): a malformed table or a
# stray |x| would otherwise vanish from the rendered page.
for f in "$SRC"/Documentation/*.rst "$SRC"/Documentation/*/*.rst; do
	name=${f#"$SRC"/}
	n=$((n + 1))
	if ! /usr/bin/python3 -c 'import docutils' 2>/dev/null; then
		echo "ok $n - $name parses as reStructuredText # SKIP no python3-docutils (make deps)"
		continue
	fi
	if out=$(/usr/bin/python3 - "$f" <<'PY' 2>&1
import io, sys
import docutils.core
from docutils.parsers.rst import Directive, directives

class Toctree(Directive):
    has_content = True
    option_spec = {"maxdepth": directives.unchanged}

    def run(self):
        return []

directives.register_directive("toctree", Toctree)
err = io.StringIO()
docutils.core.publish_doctree(open(sys.argv[1]).read(), source_path=sys.argv[1],
                              settings_overrides={"warning_stream": err,
                                                  "report_level": 2,
                                                  "halt_level": 5})
sys.stdout.write(err.getvalue())
sys.exit(1 if err.getvalue() else 0)
PY
	); then
		echo "ok $n - $name parses as reStructuredText"
	else
		echo "not ok $n - $name parses as reStructuredText"
		sed 's/^/# /' <<<"$out" | head -20
		fail=$((fail + 1))
	fi
done

echo "1..$n"
[ "$fail" -eq 0 ]
