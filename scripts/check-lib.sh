# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Counting for make check, sourced by scripts/check.sh and by
# tests/vm/test-accounting.sh (which feeds it made-up guest results).
#
# Three kinds of result:
#   passed   a test that ran and passed
#   failed   a test that ran and failed
#   not run  a suite that could not run, or not to its end (timeout, no
#            time left, missing program, guest did not boot), with the
#            reason. Never a pass: it is counted in "failed" and listed
#            on its own line above the final "N passed, N failed".
# Skipped tests (TAP "# SKIP", KUnit skipped) are counted apart.

pass=0
fail=0
skip=0
notrun=0
notrun_why=()

say() { printf '== %s\n' "$*"; }
rec() {	# rec <name> <rc>: one host-side test
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok - $1"
	else
		fail=$((fail + 1)); echo "not ok - $1"
	fi
}
not_run() {	# not_run <what> <reason>
	notrun=$((notrun + 1)); fail=$((fail + 1))
	notrun_why+=("$1: $2")
	echo "not run - $1 ($2)"
}

# count_tap <label> <file> [why]: top-level TAP results of a file. WHY says
# the suite did not run to its end (it timed out, the guest was killed):
# the results it wrote still count, and what is missing is one "not run".
count_tap() {
	local label=$1 file=$2 why=${3:-} p f s plan
	if [ ! -s "$file" ]; then
		if [ -n "$why" ]; then not_run "$label" "$why"; else rec "$label: produced results" 1; fi
		return
	fi
	p=$(grep -E '^ok ' "$file" | grep -vc '# SKIP')
	s=$(grep -E '^ok .*# SKIP' "$file" | wc -l)
	f=$(grep -cE '^not ok ' "$file")
	echo "$label: $p passed, $f failed, $s skipped"
	grep -E '^not ok ' "$file" | sed "s/^/  $label: /"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$file" | cut -c4-)
	if [ -n "$why" ]; then
		if [ -n "$plan" ]; then
			not_run "$label" "$((plan - p - f - s)) of $plan not run: $why"
		else
			not_run "$label" "not to its end: $why"
		fi
	elif [ -n "$plan" ] && [ $((p + f + s)) -ne "$plan" ]; then
		# A runner that died before its plan was complete failed.
		rec "$label: ran its whole plan ($((p + f + s)) of $plan)" 1
	fi
}

# extract_ktap <log>: the KTAP of the fewmul_* suites from a guest's kernel
# log. A suite in a module prints its KTAP at load without the top-level
# header (and 6.1's debugfs results keep only the last case of a
# parameterised test), so the document is rebuilt: header, plan, and every
# KTAP line of the suites with the timestamps stripped, up to the last
# suite that ended (a log cut by a timeout keeps its complete suites).
extract_ktap() {
	local body n
	body=$(sed -n '/fewmul-test: start/,$p' "$1" | sed -E 's/^\[ *[0-9]+\.[0-9]+\] ?//' |
		grep -E '^ *(KTAP version|# Subtest:|# [a-z_0-9]+: pass:|1\.\.[0-9]+$|(not )?ok [0-9]+ )' |
		awk '{ l[NR] = $0 } /^(not )?ok [0-9]+ fewmul_/ { last = NR }
		     END { for (i = 1; i <= last; i++) print l[i] }')
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

# check_dmesg <label> <log>: no kernel splat after our start marker.
check_dmesg() {
	local label=$1 log=$2 bad
	bad=$(sed -n '/fewmul-test: start/,$p' "$log" |
		grep -v 'kmemleak: Cannot allocate a scan area' |
		grep -E 'BUG:|WARNING:|KASAN|UBSAN|kmemleak:|Oops|general protection|possible circular|possible recursive|INFO: task|soft lockup|hung_task|Call Trace' || true)
	[ -z "$bad" ] || echo "$bad" | sed "s/^/  $label dmesg: /"
	rec "$label: dmesg free of BUG/WARNING/KASAN/UBSAN/lockdep reports" "$([ -z "$bad" ]; echo $?)"
}

# check_kmemleak <label> <file>: no kmemleak record that involves fewmul.
check_kmemleak() {
	local label=$1 file=$2 bad
	bad=$(grep -c fewmul "$file" || true)
	[ "$bad" -eq 0 ] || sed 's/^/  kmemleak: /' "$file" | head -60
	rec "$label: kmemleak reports nothing from fewmul" "$bad"
}

# account_guest <label> <dir> <rc> <seconds> <limit> [kernel tree]: count
# what a guest left in DIR (tests/vm/guest.sh describes the files),
# whether it finished, timed out or never booted. Every step that did not
# run to its end is one "not run" with the reason; everything it finished
# before counts.
account_guest() {
	local label=$1 dir=$2 rc=$3 secs=$4 limit=$5 tree=${6:-}
	local -A res=() why=()
	local st r _rc t l reason cur="" stuck="" gone="" steps s log
	steps=$(fewmul_steps_of "$label")
	if [ -f "$dir/status" ]; then
		while read -r st r _rc t l reason; do
			res[$st]=$r
			case $r in
			timeout) why[$st]="timed out after $t s (step limit $l s)"
				 stuck=${stuck:-$st}
				 echo "$label guest: timed out in $st after $t s" \
					"(step limit $l s; guest ran $secs s of its $limit s)" ;;
			notrun) why[$st]=$reason ;;
			esac
		done <"$dir/status"
	fi
	[ -f "$dir/current" ] && read -r cur _ <"$dir/current"
	if [ -z "${res[boot]:-}" ]; then
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			gone="guest timed out while booting, after $secs s (limit $limit s)"
			echo "$label guest: timed out in boot after $secs s"
		else
			gone="guest did not boot (rc $rc; see $dir/console.log)"
		fi
		tail -20 "$dir/console.log" 2>/dev/null
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		# Killed from outside: CUR was running.
		echo "$label guest: timed out in ${cur:-?} after $secs s (guest limit $limit s)"
		if [ -n "$cur" ] && [ -z "${res[$cur]:-}" ]; then
			why[$cur]="timed out after $secs s (guest limit $limit s)"
			res[$cur]=timeout
		fi
		gone="guest timed out in ${cur:-?} before it started"
	elif [ -z "${res[dmesg]:-}" ]; then
		gone="guest ended in ${cur:-?} (rc $rc; see $dir/console.log)"
		tail -20 "$dir/console.log" 2>/dev/null
	elif [ "$rc" -ne 0 ]; then
		rec "$label: guest exited cleanly (rc $rc)" 1
	fi
	# A step with no record at all never started.
	for s in $steps; do
		[ -n "${res[$s]:-}" ] || why[$s]=${gone:-not started}
	done

	# guest.tap: module load and unload, plan written first.
	count_tap "$label guest" "$dir/guest.tap" \
		"$(for s in module-load kunit module-unload; do
			[ -z "${why[$s]:-}" ] || echo "$s: ${why[$s]}"
		   done | head -1)"

	if [[ " $steps " == *" kunit "* ]]; then
		log=$dir/kunit-dmesg.txt
		[ -s "$log" ] || log=$dir/dmesg-live.txt
		case ${res[kunit]:-} in
		"done")
			if extract_ktap "$log" >"$dir/kunit.ktap"; then
				count_kunit "$dir/kunit.ktap" "$tree"
			else
				rec "$label: KUnit results found in the guest's kernel log" 1
			fi ;;
		timeout)
			# The suites that ended before the timeout count.
			! extract_ktap "$log" >"$dir/kunit.ktap" ||
				count_kunit "$dir/kunit.ktap" "$tree"
			not_run "$label kunit" "${why[kunit]}" ;;
		*)	not_run "$label kunit" "${why[kunit]}" ;;
		esac
	fi

	for s in selftests selftests-train cli mpi cli-nomod stress; do
		[[ " $steps " == *" $s "* ]] || continue
		if [ "${res[$s]:-}" = "done" ]; then
			count_tap "$label $s" "$dir/$s.tap"
		elif [ "${res[$s]:-}" = timeout ]; then
			count_tap "$label $s" "$dir/$s.tap" "${why[$s]}"
		else
			not_run "$label $s" "${why[$s]}"
		fi
	done

	if [[ " $steps " == *" kmemleak "* ]]; then
		if [ "${res[kmemleak]:-}" = "done" ] && [ -f "$dir/kmemleak.txt" ]; then
			check_kmemleak "$label" "$dir/kmemleak.txt"
		else
			not_run "$label kmemleak" "${why[kmemleak]:-no kmemleak.txt}"
		fi
	fi

	# The kernel log: the final one, or as far as it got.
	log=$dir/dmesg.txt
	[ "${res[dmesg]:-}" = "done" ] || [ ! -s "$dir/dmesg-live.txt" ] || log=$dir/dmesg-live.txt
	if [ -s "$log" ] && grep -q 'fewmul-test: start' "$log"; then
		check_dmesg "$label" "$log"
		[ "${res[dmesg]:-}" = "done" ] ||
			echo "$label: kernel log checked as far as the guest got ($(basename "$log"))"
	else
		not_run "$label dmesg check" "${why[dmesg]:-no kernel log}"
	fi
}

# fewmul_steps_of <kind>: the steps a guest of that kind runs.
fewmul_steps_of() {
	local s out=""
	for s in $fewmul_steps; do
		[ "$(fewmul_ref "$1" "$s")" -gt 0 ] && out+="$s "
	done
	echo "$out"
}

# host_factor: how much slower than the idle reference this machine is now,
# in hundredths: the calibration loop (median of three), or the load
# average if that says more (a short loop can slip between other jobs; a
# guest's two vCPUs compete with every runnable task for the whole run).
# Prints "<calibration ms> <factor> <load factor>".
host_factor() {
	local a f l
	a=$(for _ in 1 2 3; do fewmul_calib_ms; done | sort -n | sed -n 2p)
	f=$(fewmul_factor "$a" "$FEWMUL_CALIB_HOST_MS")
	l=$(awk -v c="$(nproc)" '{ l = int(($1 + 2) * 100 / c); print l < 100 ? 100 : l }' /proc/loadavg)
	echo "$a $((f > l ? f : l)) $l"
}

mins() { echo "$((($1 + 59) / 60)) min"; }	# rounded up
mmss() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# guest_run <label> <image> <kmoddir> [bindir]: boot a guest (label debug or
# stock) on the image, run tests/vm/guest.sh in it with the modules of
# kmoddir and the programs of bindir (default $top/$O), and count what it
# left in $res/<label>. Needs $top, $O, $res; $tkdir for KUnit.
guest_run() {
	local label=$1 img=$2 kmod=$3 bin=${4:-$top/$O} dir=$res/$1 start rc accel ms f exp limit
	local pid now last cur since done_steps deadline lf why attempt
	mkdir -p "$dir"
	say "guest: $label ($img)"
	accel=$(scripts/run-guest.sh --accel)
	read -r ms f lf < <(host_factor)
	exp=$(fewmul_expected "$label" "$f")
	limit=$((exp * FEWMUL_TIME_SLACK))
	why=
	[ "$limit" -le "$FEWMUL_GUEST_CEILING" ] ||
		{ limit=$FEWMUL_GUEST_CEILING; why="(FEWMUL_GUEST_CEILING)"; }
	[ -z "${FEWMUL_GUEST_TIMEOUT:-}" ] || { limit=$FEWMUL_GUEST_TIMEOUT; why="(FEWMUL_GUEST_TIMEOUT)"; }
	if [ "$accel" = kvm ]; then
		echo "$label guest: KVM; limit $(mins "$limit") (TCG estimate $(mins "$exp"))"
	else
		echo "$label guest: TCG (${accel#tcg: }), expected about $(mins "$exp")" \
			"(slowdown $f% of the idle reference: calibration $ms ms," \
			"load $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs: $lf%), limit $(mins "$limit")" \
			"$why"
	fi
	# A guest that never gets to guest.sh (virtme-init losing its
	# virtio-serial ports when udev does not settle on a loaded machine)
	# is booted once more; its console log is kept as console-1.log.
	for attempt in 1 2; do
		start=$(date +%s)
		# The guest stops starting steps in time to write its kernel log
		# before the host kills it.
		deadline=$((start + limit - 20))
		FEWMUL_GUEST_VERBOSE=1 FEWMUL_GUEST_TIMEOUT=$limit scripts/run-guest.sh "$img" "$dir" \
			"$top/tests/vm/guest.sh $dir $top/$kmod $bin $label $deadline" \
			>"$dir/console.log" 2>&1 &
		pid=$!
		# The guest runs in its own process group (timeout's): Ctrl-C does
		# not reach it by itself. timeout passes the signal on to qemu.
		trap 'kill "$pid" 2>/dev/null; wait "$pid"; exit 130' INT TERM
		# A heartbeat every minute: where the guest is.
		last=$start
		while kill -0 "$pid" 2>/dev/null; do
			sleep 2
			now=$(date +%s)
			[ $((now - last)) -ge "${FEWMUL_HEARTBEAT:-60}" ] || continue
			last=$now
			cur=booting since=$start
			[ ! -f "$dir/current" ] || read -r cur since _ <"$dir/current" 2>/dev/null
			done_steps=$(awk '$2 != "notrun" && $1 != "boot" { printf " %s", $1 }' \
				"$dir/status" 2>/dev/null)
			echo "  $label guest: $(mmss $((now - start))) of at most $(mins "$limit")," \
				"in $cur for $((now - ${since:-$now})) s; done:${done_steps:- nothing yet}"
		done
		wait "$pid"
		rc=$?
		trap - INT TERM
		echo "$label guest finished in $(($(date +%s) - start)) s (rc $rc)"
		if [ "$attempt" -eq 1 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] &&
		   ! grep -qs '^boot ' "$dir/status"; then
			echo "$label guest did not boot (rc $rc: $(grep -m1 -E 'cannot find|Kernel panic|error' \
				"$dir/console.log" 2>/dev/null | tail -c 120)); booting it once more"
			mv -f "$dir/console.log" "$dir/console-1.log"
			rm -f "$dir/status" "$dir/current"
			continue
		fi
		break
	done
	account_guest "$label" "$dir" "$rc" "$(($(date +%s) - start))" "$limit" "${tkdir:-}"
}

# summary: the last lines of make check.
summary() {
	local w
	echo
	[ "$skip" -eq 0 ] || echo "($skip skipped, not counted as passed)"
	if [ "$notrun" -gt 0 ]; then
		echo "$notrun not run, counted as failed:"
		for w in "${notrun_why[@]}"; do echo "  $w"; done
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
