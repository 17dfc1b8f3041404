#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ./VERSION is the one place the version is written: the Makefile and
# Kbuild read it; the files that must hold it literally (the public
# header, dkms.conf, debian/changelog, the man pages) must agree with it.
# Prints TAP.
FEWMULCTL=${FEWMULCTL:-$(dirname "$0")/fewmulctl}
top=$(cd "$(dirname "$(readlink -f "$0")")" && git rev-parse --show-toplevel 2>/dev/null)
[ -f "$top/VERSION" ] || top=$(pwd)
n=0
fail=0
ver=$(cat "$top/VERSION")

same() {	# same <what> <value found>
	n=$((n + 1))
	if [ "$2" = "$ver" ]; then
		echo "ok $n - $1 is $ver"
	else
		echo "not ok $n - $1 is '$2', VERSION is '$ver'"
		fail=$((fail + 1))
	fi
}

n=$((n + 1))
if grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' "$top/VERSION"; then
	echo "ok $n - VERSION is one line MAJOR.MINOR.PATCH"
else
	echo "not ok $n - VERSION is not one line MAJOR.MINOR.PATCH"
	fail=$((fail + 1))
fi
same "make print-version" "$(make -s --no-print-directory -C "$top" print-version)"
same "LIBFEWMUL_VERSION in libfewmul.h" \
	"$(sed -n 's/^#define LIBFEWMUL_VERSION "\(.*\)"$/\1/p' "$top/userspace/include/libfewmul.h")"
same "fewmulctl --version" "$("$FEWMULCTL" --version | sed -n 's/^fewmulctl //p')"
same "PACKAGE_VERSION in dkms.conf" \
	"$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")"
same "the newest entry of debian/changelog" \
	"$(sed -n '1s/^fewmul (\([^)-]*\)\(-[^)]*\)\?).*/\1/p' "$top/debian/changelog")"
for m in userspace/fewmulctl/fewmulctl.8 userspace/fewmulctl/fewmulctl-mpi.8 userspace/lib/libfewmul.3; do
	same "the .TH line of $m" "$(sed -n '1s/^\.TH .* "fewmul \([^"]*\)" .*/\1/p' "$top/$m")"
done
n=$((n + 1))
if grep -q '^#define FEWMUL_VERSION' "$top/kmod/fewmul.h"; then
	echo "not ok $n - kmod/fewmul.h defines FEWMUL_VERSION (Kbuild passes VERSION)"
	fail=$((fail + 1))
else
	echo "ok $n - the module's FEWMUL_VERSION comes from VERSION through Kbuild"
fi

echo "1..$n"
[ "$fail" -eq 0 ]
