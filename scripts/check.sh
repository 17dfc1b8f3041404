#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test of the project, summed into one final line
#   N passed, N failed
# Exit status is non-zero when anything failed (or could not run).
#
# 1. native unit tests (ASan+UBSan)            tests/unit/
#    and the core's tests cross-built for arm64 (NEON) under qemu-user
# 2. checkpatch --strict over kmod/ and uapi/   scripts/checkpatch.sh
# 3. the module builds warning-free against Debian's 6.1 headers and the
#    test kernel
# 4. in a virtme-ng guest running the debug test kernel (KASAN, UBSAN,
#    lockdep, kmemleak, failslab): KUnit suites, selftests, CLI smoke tests,
#    a dmesg and kmemleak check, a short seeded slice of tests/stress
# 5. the same without KUnit on Debian's stock kernel image (and its 6.12
#    one); data-parallel training through the module over Open MPI
# 6. the Debian packages installed in a stock 6.1 guest: DKMS builds the
#    module, it is used as a member of group fewmul, everything is purged
#
# scripts/check.sh --guest debug|stock: only the builds a guest needs and
# that guest (to try a guest and its time limits by hand).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-build}
res=$O/results
# scripts/check.sh --guest debug|stock: build only what a guest needs and
# run that guest alone (trying the guest and its time limits by hand).
only=
[ "${1:-}" != --guest ] || only=${2:?usage: check.sh [--guest debug|stock|stock612|deb]}
if [ -n "$only" ]; then rm -rf "${res:?}/$only"; else rm -rf "$res"; fi
mkdir -p "$res"
res=$(cd "$res" && pwd)

# shellcheck source=scripts/check-lib.sh
. scripts/check-lib.sh
# shellcheck source=tests/vm/timing.sh
. tests/vm/timing.sh

say "dependencies"
scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

say "userspace build"
make -s userspace
rec "userspace builds with -Wall -Wextra -Werror" $?
# a guest alone: the stock guest's MPI step needs fewmulctl-mpi too
[ -z "$only" ] || make -s mpi >"$res/mpi-build.log" 2>&1

if [ -z "$only" ]; then
	say "install into a staging directory; the documented example builds against it"
	stage=$res/stage
	if make -s install DESTDIR="$stage" PREFIX=/usr >"$res/install.log" 2>&1 &&
	   PKG_CONFIG_PATH="$stage/usr/lib/pkgconfig" pkg-config --exists --print-errors \
		"libfewmul = $(make -s --no-print-directory print-version)" >>"$res/install.log" 2>&1 &&
	   cc Documentation/example.c -Wall -Werror -I"$stage/usr/include" \
		-L"$stage/usr/lib" -lfewmul -o "$res/example" >>"$res/install.log" 2>&1 &&
	   LD_LIBRARY_PATH="$stage/usr/lib" "$res/example" >>"$res/install.log" 2>&1; then
		rec "make install stages everything; its .pc resolves; Documentation/example.c builds against it and runs" 0
	else
		tail -20 "$res/install.log"
		rec "make install stages everything; its .pc resolves; Documentation/example.c builds against it and runs" 1
	fi

	say "native unit tests (ASan+UBSan)"
	make -s unit >"$res/unit.tap" 2>&1
	rc=$?
	grep -E '^not ok|^#   |ERROR|runtime error' "$res/unit.tap" | head -40
	{ grep -E '^(not )?ok ' "$res/unit.tap"; echo "1..$(grep -cE '^(not )?ok ' "$res/unit.tap")"; } >"$res/unit-summary.tap"
	count_tap "unit" "$res/unit-summary.tap"
	[ "$rc" -eq 0 ] || rec "unit test binaries exit cleanly" 1

	say "arm64: the core's tests with the NEON kernels, cross-built, under qemu-user"
	make -s unit-arm64 >"$res/unit-arm64.tap" 2>&1
	rc=$?
	grep -E '^not ok|^#   |ERROR|runtime error' "$res/unit-arm64.tap" | head -40
	{ grep -E '^(not )?ok ' "$res/unit-arm64.tap"; echo "1..$(grep -cE '^(not )?ok ' "$res/unit-arm64.tap")"; } >"$res/unit-arm64-summary.tap"
	count_tap "unit-arm64" "$res/unit-arm64-summary.tap"
	grep -q '^ok .* neon kernels equal the scalar references' "$res/unit-arm64.tap"
	rec "arm64: the NEON kernels ran (not skipped)" $?
	[ "$rc" -eq 0 ] || rec "arm64 unit test binaries exit cleanly" 1

	say "data-parallel training over Open MPI (fewmulctl-mpi, cpu backend)"
	if make -s O="$O" mpi >"$res/mpi-build.log" 2>&1; then
		tests/mpi/test_mpi.sh "$O" >"$res/mpi.tap" 2>&1
		grep -E '^(not )?ok ' "$res/mpi.tap"
		count_tap "mpi" "$res/mpi.tap"
	else
		tail -20 "$res/mpi-build.log"
		rec "fewmulctl-mpi builds" 1
	fi

	say "fuzzers (libFuzzer, ASan+UBSan, ${FEWMUL_FUZZ_SECONDS:-15} s each)"
	if make -s O="$O" fuzz-build >"$res/fuzz-build.log" 2>&1; then
		tests/fuzz/run.sh "$O/fuzz" "${FEWMUL_FUZZ_SECONDS:-15}" >"$res/fuzz.tap" 2>&1
		cat "$res/fuzz.tap"
		count_tap "fuzz" "$res/fuzz.tap"
	else
		tail -20 "$res/fuzz-build.log"
		rec "fuzzers build" 1
	fi

	say "every mutant of make mutants applies to the tree"
	for p in tests/mutants/*.patch; do
		patch -p1 --dry-run -s -f <"$p" >/dev/null 2>&1
		rec "mutant $(basename "$p" .patch) applies (make mutants runs it)" $?
	done

	say "make paper QUICK=1: the paper's plan on a slice, its tables and figures"
	tests/paper-check.sh "$res/paper-quick" >"$res/paper.tap" 2>&1
	grep -E '^(not )?ok |^# ' "$res/paper.tap"
	count_tap "paper" "$res/paper.tap"

	say "checkpatch --strict"
	scripts/checkpatch.sh >"$res/checkpatch.tap" 2>&1
	count_tap "checkpatch" "$res/checkpatch.tap"
fi

say "module against Debian's stock headers"
make -s module >"$res/kmod-stock.log" 2>&1
rc=$?
rec "module builds warning-free against the $(make -s --no-print-directory print-kver) headers" $rc
[ "$rc" -eq 0 ] || tail -20 "$res/kmod-stock.log"

if [ -z "$only" ]; then
	say "module against every supported kernel (make compat)"
	scripts/compat-build.sh >"$res/compat.tap" 2>&1
	cat "$res/compat.tap"
	count_tap "compat" "$res/compat.tap"

	say "Debian packages (make deb)"
	scripts/deb-build.sh >"$res/deb-build.log" 2>&1
	rc=$?
	rec "make deb: five packages, lintian without errors" $rc
	[ "$rc" -eq 0 ] || tail -20 "$res/deb-build.log"

	say "no multiply in a binary/ternary+QB step (kernel and userspace objects, x86-64 and arm64)"
	tests/check-nomul.sh "$O/kmod-stock/kmod/core/fewmul_fast.o" \
		"$O/obj/kmod/core/fewmul_fast.o" \
		"$O/kmod-stock/kmod/core/fewmul_simd.o" "$O/obj/kmod/core/fewmul_simd.o" \
		"$O"/kmod-stock/kmod/core/fewmul_{engine,step}.o "$O"/obj/kmod/core/fewmul_{engine,step}.o \
		"$O/kmod-stock/kmod/fewmul_train.o" \
		$(ls "$O"/kmod-stock/kmod/core/fewmul_avx2.o "$O"/simd/kmod/core/fewmul_avx2.o 2>/dev/null) \
		$(ls "$O"/kmod-compat-arm64/kmod/core/fewmul_{fast,simd,neon}.o 2>/dev/null) \
		>"$res/nomul.tap" 2>&1
	count_tap "no-multiply" "$res/nomul.tap"

	say "no floating-point instruction in fewmul.ko, x86-64 and arm64 (integer vector code only)"
	tests/check-nofp.sh "$O/kmod-stock/fewmul.ko" \
		$(ls "$O/kmod-compat-arm64/fewmul.ko" 2>/dev/null) >"$res/nofp.tap" 2>&1
	count_tap "no-fp" "$res/nofp.tap"
fi

say "test kernel (cached by config hash)"
tkdir=$(scripts/build-test-kernel.sh | tail -1)
rc=$?
rec "test kernel available" $rc
if [ "$rc" -eq 0 ] && [ -d "$tkdir" ]; then
	make -s module-test TEST_KDIR="$tkdir" >"$res/kmod-test.log" 2>&1
	rc=$?
	rec "module and KUnit module build warning-free against the test kernel" $rc
	[ "$rc" -eq 0 ] || tail -20 "$res/kmod-test.log"
	make -s selftests KSRC="$tkdir" >"$res/selftests-build.log" 2>&1
	rec "selftests build" $?
	make -s "$O/stress/fewmul_stress" >"$res/stress-build.log" 2>&1
	rec "stress driver builds" $?

	if [ -z "$only" ]; then
		say "guest result accounting (made-up guest results, no guest)"
		tests/vm/test-accounting.sh "$tkdir" >"$res/accounting.tap" 2>&1
		count_tap "accounting" "$res/accounting.tap"
	fi
	[ "${only:-debug}" != debug ] ||
		guest_run debug "$tkdir/arch/x86/boot/bzImage" "$O/kmod-test"

	kver=$(ls "$O/kmod-stock/fewmul.ko" >/dev/null 2>&1 &&
		modinfo -F vermagic "$O/kmod-stock/fewmul.ko" | cut -d' ' -f1)
	if [ "${only:-stock}" != stock ]; then
		:
	elif [ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ]; then
		guest_run stock "/boot/vmlinuz-$kver" "$O/kmod-stock"
	else
		rec "Debian stock kernel image /boot/vmlinuz-$kver present" 1
	fi

	# Debian 12's 6.12 kernel, with the module make compat built for it.
	kv=$(ls -d /lib/modules/6.12.*+deb12-amd64 2>/dev/null | sort -V | tail -1 | xargs -r basename)
	if [ "${only:-stock612}" != stock612 ]; then
		:
	elif [ -n "$kv" ] && [ -f "/boot/vmlinuz-$kv" ] &&
	     { [ -f "$O/kmod-compat-6.12/fewmul.ko" ] ||
	       make -s module-compat COMPAT_NAME=6.12 COMPAT_KDIR="/lib/modules/$kv/build" \
		>"$res/kmod-compat-6.12.log" 2>&1; }; then
		guest_run stock612 "/boot/vmlinuz-$kv" "$O/kmod-compat-6.12"
	else
		rec "Debian 12's 6.12 image and its module (make compat)" 1
	fi

	# The packages of make deb installed, used and purged in a 6.1 guest.
	if [ "${only:-deb}" = deb ]; then
		say "Debian packages in a guest: DKMS build, modprobe, use, purge"
		FEWMUL_GUEST_TIMEOUT=${FEWMUL_DEB_TIMEOUT:-2700} \
			scripts/deb-test.sh "$res/deb-guest" >"$res/deb-guest.tap" 2>&1
		grep -E '^(not )?ok |^# package guest' "$res/deb-guest.tap"
		count_tap "deb guest" "$res/deb-guest.tap"
	fi
fi

summary
