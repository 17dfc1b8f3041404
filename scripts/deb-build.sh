#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: build the Debian packages from a copy of the tracked files
# (so that the tree's build/ is left alone), then run lintian over them.
# Packages and logs land in $O/deb (default build/deb):
#   fewmul-dkms_<v>_all.deb  libfewmul0_<v>_<arch>.deb
#   libfewmul-dev_<v>_<arch>.deb  fewmulctl_<v>_<arch>.deb
#   fewmulctl-mpi_<v>_<arch>.deb
#   build.log  lintian.log
# Exit status is non-zero when the build fails or lintian reports an error.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-build}
out=$O/deb
ver=$(make -s --no-print-directory print-version)
src=$out/fewmul-$ver

for t in dpkg-buildpackage dh lintian; do
	command -v $t >/dev/null || { echo "deb-build: $t missing (run: make deps)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$src"
# The files git knows or would add, as they are in the work tree.
git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "$src/"
out=$(cd "$out" && pwd)

start=$(date +%s)
echo "deb-build: dpkg-buildpackage -us -uc -b (log: $out/build.log)"
# The package build sets its own O, PREFIX and DESTDIR.
if ! (cd "$src" && env -u O -u PREFIX -u DESTDIR dpkg-buildpackage -us -uc -b) \
	>"$out/build.log" 2>&1; then
	tail -30 "$out/build.log" >&2
	exit 1
fi
echo "deb-build: built in $(( $(date +%s) - start )) s"
rm -rf "$src"

changes=$(ls "$out"/fewmul_"$ver"_*.changes)
lintian --info --display-info --pedantic "$changes" >"$out/lintian.log" 2>&1 || true
for deb in "$out"/*.deb; do
	printf '  %-40s %6s KiB  installed %6s KiB\n' "$(basename "$deb")" \
		$(( $(stat -c %s "$deb") / 1024 )) "$(dpkg-deb -f "$deb" Installed-Size)"
done
e=$(grep -c '^E: ' "$out/lintian.log" || true)
w=$(grep -c '^W: ' "$out/lintian.log" || true)
echo "deb-build: lintian: $e errors, $w warnings (log: $out/lintian.log)"
grep -E '^(E|W): ' "$out/lintian.log" | sed 's/^/  /' || true
[ "$e" -eq 0 ]
