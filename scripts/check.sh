#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test of the project, summed into one final line
#   N passed, N failed
# Exit status is non-zero when anything failed (or could not run).
#
# 1. native unit tests (ASan+UBSan)            tests/unit/
# 2. checkpatch --strict over kmod/ and uapi/   scripts/checkpatch.sh
# 3. the module builds warning-free against Debian's 6.1 headers and the
#    test kernel
# 4. in a virtme-ng guest running the debug test kernel (KASAN, UBSAN,
#    lockdep, kmemleak, failslab): KUnit suites, selftests, CLI smoke tests,
#    a dmesg and kmemleak check
# 5. the same without KUnit on Debian's stock kernel image
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-build}
res=$O/results
rm -rf "$res"
mkdir -p "$res"
res=$(cd "$res" && pwd)

pass=0
fail=0
skip=0

say() { printf '== %s\n' "$*"; }
rec() {	# rec <name> <rc>: one host-side test
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok - $1"
	else
		fail=$((fail + 1)); echo "not ok - $1"
	fi
}

# count_tap <label> <file>: top-level TAP results of a file.
count_tap() {
	local label=$1 file=$2 p f s
	if [ ! -s "$file" ]; then
		rec "$label: produced results" 1
		return
	fi
	p=$(grep -E '^ok ' "$file" | grep -vc '# SKIP')
	s=$(grep -E '^ok .*# SKIP' "$file" | wc -l)
	f=$(grep -cE '^not ok ' "$file")
	echo "$label: $p passed, $f failed, $s skipped"
	grep -E '^not ok ' "$file" | sed "s/^/  $label: /"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	# A runner that died before its plan was complete is a failure too.
	local plan
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$file" | cut -c4-)
	if [ -n "$plan" ] && [ $((p + f + s)) -ne "$plan" ]; then
		rec "$label: ran its whole plan ($((p + f + s)) of $plan)" 1
	fi
}

# extract_ktap <dmesg>: the KTAP of the fewmul_* suites from the guest's
# kernel log. A suite in a module prints its KTAP at load without the
# top-level header (and 6.1's debugfs results keep only the last case of
# a parameterised test), so the document is rebuilt: header, plan, and
# every KTAP line of the suites with the timestamps stripped.
extract_ktap() {
	local body n
	body=$(sed -n '/fewmul-test: start/,$p' "$1" | sed -E 's/^\[ *[0-9]+\.[0-9]+\] ?//' |
		grep -E '^ *(KTAP version|# Subtest:|# [a-z_0-9]+: pass:|1\.\.[0-9]+$|(not )?ok [0-9]+ )')
	n=$(grep -cE '^(not )?ok [0-9]+ fewmul_' <<<"$body")
	[ "$n" -gt 0 ] || return 1
	printf 'KTAP version 1\n1..%s\n%s\n' "$n" "$body"
}

# count_kunit <ktap> <kernel tree>: parse with the tree's kunit.py.
count_kunit() {
	local file=$1 tree=$2 out line p f s c e
	out=$(python3 "$tree/tools/testing/kunit/kunit.py" parse "$file" 2>&1 |
		sed 's/\x1b\[[0-9;]*m//g')
	echo "$out" | sed 's/^/  kunit: /'
	line=$(grep -oE 'Ran [0-9]+ tests?: .*' <<<"$out" | tail -1)
	if [ -z "$line" ]; then
		rec "kunit: $(basename "$file") parsed" 1
		return
	fi
	p=$(grep -oE 'passed: [0-9]+' <<<"$line" | grep -oE '[0-9]+' || echo 0)
	f=$(grep -oE 'failed: [0-9]+' <<<"$line" | grep -oE '[0-9]+' || echo 0)
	s=$(grep -oE 'skipped: [0-9]+' <<<"$line" | grep -oE '[0-9]+' || echo 0)
	c=$(grep -oE 'crashed: [0-9]+' <<<"$line" | grep -oE '[0-9]+' || echo 0)
	e=$(grep -oE 'errors: [0-9]+' <<<"$line" | grep -oE '[0-9]+' || echo 0)
	pass=$((pass + p)); fail=$((fail + f + c + e)); skip=$((skip + s))
}

# check_dmesg <label> <dir>: no kernel splat after our start marker, and
# no kmemleak report that involves fewmul.
check_dmesg() {
	local label=$1 dir=$2 bad
	if [ ! -s "$dir/dmesg.txt" ]; then
		rec "$label: guest wrote dmesg" 1
		return
	fi
	bad=$(sed -n '/fewmul-test: start/,$p' "$dir/dmesg.txt" |
		grep -v 'kmemleak: Cannot allocate a scan area' |
		grep -E 'BUG:|WARNING:|KASAN|UBSAN|kmemleak:|Oops|general protection|possible circular|possible recursive|INFO: task|soft lockup|hung_task|Call Trace' || true)
	[ -z "$bad" ] || echo "$bad" | sed "s/^/  $label dmesg: /"
	rec "$label: dmesg free of BUG/WARNING/KASAN/UBSAN/lockdep reports" "$([ -z "$bad" ]; echo $?)"
	if [ -f "$dir/kmemleak.txt" ]; then
		bad=$(grep -c fewmul "$dir/kmemleak.txt" || true)
		[ "$bad" -eq 0 ] || sed 's/^/  kmemleak: /' "$dir/kmemleak.txt" | head -60
		rec "$label: kmemleak reports nothing from fewmul" "$bad"
	fi
}

guest_run() {	# guest_run <label> <image> <kmoddir>
	local label=$1 img=$2 kmod=$3 dir=$res/$1 start rc
	mkdir -p "$dir"
	say "guest: $label ($img)"
	start=$(date +%s)
	scripts/run-guest.sh "$img" "$dir" \
		"$top/tests/vm/guest.sh $dir $top/$kmod $top/$O" \
		>"$dir/console.log" 2>&1
	rc=$?
	echo "guest $label finished in $(( $(date +%s) - start )) s (rc $rc)"
	rec "$label: guest booted and ran the tests" $rc
	[ "$rc" -eq 0 ] || tail -30 "$dir/console.log"
	count_tap "$label guest" "$dir/guest.tap"
	count_tap "$label selftests" "$dir/selftests.tap"
	count_tap "$label selftests-train" "$dir/selftests-train.tap"
	count_tap "$label cli" "$dir/cli.tap"
	count_tap "$label cli-nomod" "$dir/cli-nomod.tap"
	check_dmesg "$label" "$dir"
}

say "dependencies"
scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

say "userspace build"
make -s userspace
rec "userspace builds with -Wall -Wextra -Werror" $?

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

say "fuzzers (libFuzzer, ASan+UBSan, ${FEWMUL_FUZZ_SECONDS:-15} s each)"
if make -s O="$O" fuzz-build >"$res/fuzz-build.log" 2>&1; then
	tests/fuzz/run.sh "$O/fuzz" "${FEWMUL_FUZZ_SECONDS:-15}" >"$res/fuzz.tap" 2>&1
	cat "$res/fuzz.tap"
	count_tap "fuzz" "$res/fuzz.tap"
else
	tail -20 "$res/fuzz-build.log"
	rec "fuzzers build" 1
fi

say "checkpatch --strict"
scripts/checkpatch.sh >"$res/checkpatch.tap" 2>&1
count_tap "checkpatch" "$res/checkpatch.tap"

say "module against Debian's stock headers"
make -s module >"$res/kmod-stock.log" 2>&1
rc=$?
rec "module builds warning-free against the $(make -s --no-print-directory print-kver) headers" $rc
[ "$rc" -eq 0 ] || tail -20 "$res/kmod-stock.log"

say "no multiply in the binary/ternary+QB kernels (kernel and userspace objects)"
tests/check-nomul.sh "$O/kmod-stock/kmod/core/fewmul_fast.o" \
	"$O/obj/kmod/core/fewmul_fast.o" \
	"$O/kmod-stock/kmod/core/fewmul_simd.o" "$O/obj/kmod/core/fewmul_simd.o" \
	$(ls "$O"/kmod-stock/kmod/core/fewmul_avx2.o "$O"/simd/kmod/core/fewmul_avx2.o 2>/dev/null) \
	>"$res/nomul.tap" 2>&1
count_tap "no-multiply" "$res/nomul.tap"

say "no floating-point instruction in fewmul.ko (integer vector code only)"
tests/check-nofp.sh "$O/kmod-stock/fewmul.ko" >"$res/nofp.tap" 2>&1
count_tap "no-fp" "$res/nofp.tap"

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

	guest_run debug "$tkdir/arch/x86/boot/bzImage" "$O/kmod-test"
	if extract_ktap "$res/debug/dmesg.txt" >"$res/debug/kunit.ktap"; then
		count_kunit "$res/debug/kunit.ktap" "$tkdir"
	else
		rec "KUnit results found in the guest's kernel log" 1
	fi

	kver=$(ls "$O/kmod-stock/fewmul.ko" >/dev/null 2>&1 &&
		modinfo -F vermagic "$O/kmod-stock/fewmul.ko" | cut -d' ' -f1)
	if [ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ]; then
		guest_run stock "/boot/vmlinuz-$kver" "$O/kmod-stock"
	else
		rec "Debian stock kernel image /boot/vmlinuz-$kver present" 1
	fi
fi

echo
[ "$skip" -eq 0 ] || echo "($skip skipped, not counted as passed)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
