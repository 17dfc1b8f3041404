#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the fewmul test kernel from Debian's linux-source-6.1.
#
# The tree lives outside the clone, in $FEWMUL_CACHE (default
# /var/cache/fewmul), in a directory keyed by a hash of everything that
# determines the build: the source tarball's package version, the config
# fragment, the virtme-ng version that generates the base config and this
# script. ccache (also under $FEWMUL_CACHE) makes a rebuild after a config
# change minutes instead of a quarter hour.
#
# Prints the path of the built tree on the last line of stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
frag=$top/tests/vm/test-kernel.config
cache=${FEWMUL_CACHE:-/var/cache/fewmul}
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)

if [ -z "$tarball" ]; then
	echo "build-test-kernel: /usr/src/linux-source-6.1.tar.xz missing (run: make deps)" >&2
	exit 1
fi

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
vngver=$(dpkg-query -W -f='${Version}' virtme-ng 2>/dev/null || echo none)
key=$( { echo "$srcver"; echo "$vngver"; cat "$frag" "$0"; } | sha256sum | cut -c1-16)
tree=$cache/kernel-$key
stamp=$tree/.fewmul-built

if [ -f "$stamp" ] && [ -f "$tree/arch/x86/boot/bzImage" ]; then
	echo "build-test-kernel: cached $tree" >&2
	echo "$tree"
	exit 0
fi

mkdir -p "$cache/ccache"
export CCACHE_DIR=$cache/ccache
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# The kernel embeds no timestamps we care about in a test build; let
# ccache hit across trees with different absolute paths.
export CCACHE_BASEDIR=$cache
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
export KBUILD_BUILD_TIMESTAMP="fewmul test kernel"
export KBUILD_BUILD_USER=fewmul KBUILD_BUILD_HOST=fewmul

if [ ! -f "$tree/Makefile" ]; then
	rm -rf "$tree.tmp"
	mkdir -p "$tree.tmp"
	echo "build-test-kernel: extracting $tarball" >&2
	tar -C "$tree.tmp" --strip-components=1 -xJf "$tarball"
	mv "$tree.tmp" "$tree"
fi
cd "$tree"

echo "build-test-kernel: configuring" >&2
vng --kconfig >&2
scripts/kconfig/merge_config.sh -m .config "$frag" >&2
make olddefconfig >&2
# merge_config would only warn; a dropped option must fail the build.
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	opt=${line%%=*}
	val=${line#*=}
	if [ "$val" = n ]; then
		if grep -q "^$opt=[ym]" .config; then
			echo "build-test-kernel: $opt could not be disabled" >&2
			exit 1
		fi
	elif ! grep -qx "$line" .config; then
		echo "build-test-kernel: $line did not stick" >&2
		exit 1
	fi
done <"$frag"

echo "build-test-kernel: building (log: $tree/build.log)" >&2
start=$(date +%s)
if ! make -j"$(nproc)" CC="ccache gcc" bzImage modules >build.log 2>&1; then
	tail -40 build.log >&2
	exit 1
fi
make -j"$(nproc)" CC="ccache gcc" modules_prepare >>build.log 2>&1
echo "build-test-kernel: built in $(( $(date +%s) - start )) s" >&2
touch .fewmul-built
echo "$tree"
