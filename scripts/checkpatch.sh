#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.pl --strict (from Debian's linux-source-6.1) over every file
# of kmod/ and uapi/. One TAP result per file.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

cp=${CHECKPATCH:-}
if [ -z "$cp" ]; then
	for d in /var/cache/fewmul/kernel-*/ /usr/src/linux-source-6.1/; do
		[ -x "$d/scripts/checkpatch.pl" ] && cp=$d/scripts/checkpatch.pl && break
	done
fi
if [ -z "$cp" ]; then
	# Extract just the script and its data files from the source tarball.
	t=${FEWMUL_CACHE:-/var/cache/fewmul}/checkpatch
	mkdir -p "$t"
	tar -C "$t" --strip-components=1 -xJf /usr/src/linux-source-6.1.tar.xz \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' || exit 1
	cp=$t/scripts/checkpatch.pl
fi

n=0
fail=0
for f in $(git ls-files kmod uapi 2>/dev/null || find kmod uapi -type f); do
	case "$f" in *.c|*.h) ;; *) continue ;; esac
	n=$((n + 1))
	out=$(perl "$cp" --strict --no-tree --terse --show-types \
		--ignore SPDX_LICENSE_TAG -f "$f" 2>&1)
	if grep -qE '(ERROR|WARNING|CHECK):' <<<"$out"; then
		echo "not ok $n - checkpatch --strict $f"
		sed 's/^/#   /' <<<"$out"
		fail=$((fail + 1))
	else
		echo "ok $n - checkpatch --strict $f"
	fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
