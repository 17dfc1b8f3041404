#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make compat: build the module with -Werror against every kernel fewmul
# supports, one TAP result per kernel:
#   6.1     Debian 12's headers       /lib/modules/6.1.*/build (newest)
#   6.12    Debian 12's 6.12 headers  /lib/modules/6.12.*+deb12-amd64/build
#   6.12-rt the same, PREEMPT_RT      /lib/modules/6.12.*+deb12-rt-amd64/build
#   newest  the newest /usr/src/linux-source-X.Y.tar.xz on the machine
#           (trixie-backports' linux-source, see scripts/deps.sh): x86_64
#           defconfig + KUnit + modules_prepare, cached in $FEWMUL_CACHE
#           (default /var/cache/fewmul), compile-only
#   arm64   Debian 12's linux-source-6.1 for ARCH=arm64 (defconfig + KUnit
#           + modules_prepare, Debian's aarch64-linux-gnu-gcc), cached the
#           same way, compile-only: the NEON kernels in the kernel build
# An input that is absent is reported as "# SKIP" with the reason (make deps
# installs all of them); a build that fails is "not ok" with its log's tail.
# Exit status is non-zero only when a build failed.
#
# usage: compat-build.sh [NAME...]   (default: all five)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-build}
cache=${FEWMUL_CACHE:-/var/cache/fewmul}
logdir=$O/compat
mkdir -p "$logdir"

n=0
fail=0

newest_dir() {	# newest_dir <glob>: the newest /lib/modules/<glob>/build
	local d
	d=$(ls -d /lib/modules/$1/build 2>/dev/null | sort -V | tail -1)
	[ -n "$d" ] && [ -f "$d/Makefile" ] && echo "$d"
}

# prepare_tree <tarball> <version> <label> [ARCH=.. CROSS_COMPILE=..]:
# print the prepared tree of a linux-source tarball, extracting it and
# running defconfig + KUnit + modules_prepare once per (package version,
# compiler, architecture). Trees of other versions with the same label are
# removed. Diagnostics go to stderr.
prepare_tree() {
	local tarball=$1 ver=$2 label=$3 pkgver key tree start old prefix
	shift 3
	pkgver=$(dpkg-query -W -f='${Version}' "linux-source-$ver" 2>/dev/null || stat -c %Y "$tarball")
	key=$( { echo "$pkgver"; gcc --version | head -1; echo kunit "$@";
		 [ $# -eq 0 ] || aarch64-linux-gnu-gcc --version | head -1; } |
	       sha256sum | cut -c1-12)
	# newest: compat-<version>-<key> (the name it has always had: caches
	# stay valid); others: compat-<label>-<version>-<key>
	prefix=compat-$label-
	[ "$label" != newest ] || prefix=compat-
	tree=$cache/$prefix$ver-$key
	if [ -f "$tree/.fewmul-prepared" ]; then
		echo "$tree"
		return 0
	fi
	mkdir -p "$cache" || return 1
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp" || return 1
	start=$(date +%s)
	echo "compat: extracting $tarball (linux-source-$ver $pkgver)" >&2
	tar -C "$tree.tmp" --strip-components=1 -xJf "$tarball" || return 1
	echo "compat: defconfig + KUnit + modules_prepare $* (log: $tree/prepare.log)" >&2
	# KUnit on, so that the KUnit module and the core's namespaced exports
	# are compiled too (Debian's kernels have no KUnit).
	if ! { make -C "$tree.tmp" "$@" defconfig &&
	       "$tree.tmp/scripts/config" --file "$tree.tmp/.config" -e KUNIT &&
	       make -C "$tree.tmp" "$@" olddefconfig &&
	       make -C "$tree.tmp" "$@" -j"$(nproc)" modules_prepare; } \
		>"$tree.tmp/prepare.log" 2>&1; then
		tail -20 "$tree.tmp/prepare.log" >&2
		return 1
	fi
	mv "$tree.tmp" "$tree"
	touch "$tree/.fewmul-prepared"
	echo "compat: $label $ver prepared in $(( $(date +%s) - start )) s" >&2
	# Older prepared trees of this label are only disk space now.
	for old in "$cache/$prefix"*; do
		case "${old#"$cache/$prefix"}" in
		[0-9]*) [ "$old" = "$tree" ] || rm -rf "$old" ;;
		esac
	done
	echo "$tree"
}

# prepare_newest: the newest linux-source tarball when it is newer than
# the packaged 6.12 headers (status 2 when there is none).
prepare_newest() {
	local tarball ver
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
	[ -n "$tarball" ] || return 2
	ver=${tarball##*/linux-source-}
	ver=${ver%.tar.xz}
	# Only worth a tree of its own when newer than the packaged headers.
	[ "$(printf '%s\n' "$ver" 6.12 | sort -V | tail -1)" != 6.12 ] || return 2
	prepare_tree "$tarball" "$ver" newest
}

# prepare_arm64: Debian 12's linux-source-6.1 configured for arm64
# (defconfig: KERNEL_MODE_NEON) with Debian's cross compiler; status 2
# when either is missing.
prepare_arm64() {
	local tarball=/usr/src/linux-source-6.1.tar.xz
	[ -f "$tarball" ] && command -v aarch64-linux-gnu-gcc >/dev/null || return 2
	prepare_tree "$tarball" 6.1 arm64 ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
}

build() {	# build <name> <kernel dir> <what> [make variables for Kbuild]
	local name=$1 kdir=$2 what=$3 log=$logdir/$1.log start rc
	shift 3
	n=$((n + 1))
	start=$(date +%s)
	make -s --no-print-directory module-compat COMPAT_NAME="$name" \
		COMPAT_KDIR="$kdir" COMPAT_MAKEFLAGS="$*" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ -f "$O/kmod-compat-$name/fewmul.ko" ]; then
		echo "ok $n - compat $name: module builds with -Werror against $what ($(( $(date +%s) - start )) s)"
	else
		echo "not ok $n - compat $name: module builds with -Werror against $what"
		tail -25 "$log" | sed 's/^/#   /'
		fail=$((fail + 1))
	fi
}

skip() {	# skip <name> <reason>
	n=$((n + 1))
	echo "ok $n - compat $1 # SKIP $2"
}

# build_prepared <name> <prepare function> <why absent> <what> [make
# variables]: the module against the tree the function prepares (a SKIP
# with the reason when it has no input, status 2).
build_prepared() {
	local name=$1 prep=$2 why=$3 what=$4 tree rc
	shift 4
	tree=$($prep)
	rc=$?
	if [ "$rc" -eq 2 ]; then
		skip "$name" "$why"
	elif [ "$rc" -ne 0 ] || [ -z "$tree" ]; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - compat $name: kernel source prepared"
	else
		# No vmlinux symbols in a prepared tree: modpost may only warn.
		KBUILD_MODPOST_WARN=1 build "$name" "$tree" \
			"$(make -s -C "$tree" "$@" kernelversion 2>/dev/null) $what" "$@"
	fi
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(6.1 6.12 6.12-rt newest arm64)

for name in "${names[@]}"; do
	case "$name" in
	6.1)	glob='6.1.*-amd64' ;;
	6.12)	glob='6.12.*+deb12-amd64' ;;
	6.12-rt) glob='6.12.*+deb12-rt-amd64' ;;
	newest)
		build_prepared newest prepare_newest \
			"no linux-source newer than 6.12 (make deps installs trixie-backports' linux-source)" \
			"(defconfig+KUnit, modules_prepare)"
		continue ;;
	arm64)
		build_prepared arm64 prepare_arm64 \
			"no linux-source-6.1 or no aarch64-linux-gnu-gcc (make deps installs them)" \
			"(arm64 defconfig+KUnit, modules_prepare, cross-compiled; NEON kernels)" \
			ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
		continue ;;
	*)	echo "compat-build: unknown kernel $name (6.1, 6.12, 6.12-rt, newest, arm64)" >&2
		exit 2 ;;
	esac
	kdir=$(newest_dir "$glob")
	if [ -z "$kdir" ]; then
		skip "$name" "no headers in /lib/modules/$glob/build (make deps installs them)"
		continue
	fi
	build "$name" "$kdir" "$(basename "$(dirname "$kdir")") headers"
done
echo "1..$n"
[ "$fail" -eq 0 ]
