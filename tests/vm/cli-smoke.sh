#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fewmulctl smoke test against the loaded module (in a guest). Prints TAP.
# usage: cli-smoke.sh FEWMULCTL
ctl=$1
n=0
fail=0

ok() {	# ok <name> <condition rc>
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		fail=$((fail + 1))
	fi
}

out=$("$ctl" info 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
ok "info exits 0" $rc
grep -q "^ABI version: *1$" <<<"$out"
ok "info prints the ABI version from the ioctl" $?
grep -q "^module version: *[0-9]" <<<"$out"
ok "info prints the module version from genetlink" $?
grep -q "^sources: *ioctl, genetlink (agree)$" <<<"$out"
ok "ioctl and genetlink agree" $?
grep -q "^vector kernels: *$(cat /sys/module/fewmul/parameters/simd)$" <<<"$out"
ok "info names the module's vector kernels (simd=)" $?

out=$("$ctl" info --json 2>&1)
rc=$?
echo "# $out"
ok "info --json exits 0" $rc
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["device"] == "/dev/fewmul"
assert d["ioctl"]["abi_version"] == 1
assert d["genetlink"]["abi_version"] == 1
assert "info" in d["ioctl"]["features"] and "genl-info" in d["ioctl"]["features"]
assert d["genetlink"]["contexts"] >= 0
for k in ("workers", "max_layers", "max_width", "max_batch", "max_scratch_bytes", "simd"):
    assert d["ioctl"][k] == d["genetlink"][k] and d["ioctl"][k], k
PY
ok "info --json is valid JSON with matching ioctl and genetlink fields" $?

# Open contexts are counted: hold the device open in the background.
exec 7<>/dev/fewmul
out=$("$ctl" info --json 2>&1)
exec 7>&-
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["genetlink"]["contexts"] >= 1 else 1)' "$out"
ok "genetlink counts open contexts" $?

out=$("$ctl" info 2>&1)
grep -Eq "^features:.* train( |$)" <<<"$out" && grep -Eq "^features:.* genl-stats( |$)" <<<"$out"
ok "info lists the training and genetlink-stats features" $?

# --- training in the kernel gives the cpu backend's weights ---------------
tmp=$(mktemp -d)
# Decompress Fashion-MNIST once: every command below would gunzip it again.
unpack() {
	local f
	mkdir "$tmp/data" || return 1
	for f in /usr/share/datasets/fashion-mnist/*-ubyte.gz; do
		zcat "$f" >"$tmp/data/$(basename "$f" .gz)" || return 1
	done
}
D=()
unpack && D=(--data "$tmp/data")
jget() {	# jget <key> <json line>: a value of the last JSON object
	python3 -c 'import json,sys; print(json.loads(sys.argv[2].strip().splitlines()[-1]).get(sys.argv[1], ""))' "$1" "$2" 2>/dev/null
}

small=("${D[@]}" --arch 784-64-10 --epochs 1 --train-limit 600 --test-limit 100 --batch 50 --seed 3 --json)
kout=$("$ctl" train "${small[@]}" --backend kernel --save "$tmp/k.model" 2>&1)
krc=$?
cout=$("$ctl" train "${small[@]}" --backend cpu 2>&1)
crc=$?
sed 's/^/# kernel: /' <<<"$kout"
sed 's/^/# cpu:    /' <<<"$cout"
ok "train --backend kernel (784-64-10, 600 samples) exits 0" $krc
ok "train --backend cpu (same run) exits 0" $crc
ck=$(jget checksum "$kout")
cc=$(jget checksum "$cout")
[ -n "$ck" ] && [ "$ck" = "$cc" ]
ok "kernel and cpu backends end with the same weights checksum ($ck vs $cc)" $?
[ -n "$ck" ] && [ "$(jget train_error "$kout")" = "$(jget train_error "$cout")" ] &&
	[ "$(jget test_error "$kout")" = "$(jget test_error "$cout")" ]
ok "kernel and cpu backends count the same training and test errors" $?
[ -n "$ck" ] && [ "$(jget adds "$kout")/$(jget shifts "$kout")/$(jget muls "$kout")" = \
	"$(jget adds "$cout")/$(jget shifts "$cout")/$(jget muls "$cout")" ]
ok "kernel and cpu backends execute the same adds, shifts and multiplies" $?
kd=$(jget divs "$kout")
[ -n "$kd" ] && [ "$kd" -gt 0 ] &&
	[ "$kd/$(jget saturated "$kout")" = "$(jget divs "$cout")/$(jget saturated "$cout")" ]
ok "kernel and cpu backends execute the same divisions ($kd) and saturate the same deltas" $?

# The paper's architecture, two epochs, two threads; the default backend
# is the kernel one when /dev/fewmul exists.
big=("${D[@]}" --threads 2 --epochs 2 --train-limit 400 --test-limit 100 --json)
kout=$("$ctl" train "${big[@]}" 2>&1)
krc=$?
cout=$("$ctl" train "${big[@]}" --backend cpu 2>&1)
crc=$?
sed 's/^/# kernel: /' <<<"$kout"
sed 's/^/# cpu:    /' <<<"$cout"
[ $krc -eq 0 ] && [ "$(jget backend "$kout")" = kernel ]
ok "train without --backend uses the kernel backend (784-1024-1024-1024-10)" $?
ok "train --backend cpu --threads 2 (784-1024-1024-1024-10) exits 0" $crc
ck=$(jget checksum "$kout")
cc=$(jget checksum "$cout")
[ -n "$ck" ] && [ "$ck" = "$cc" ]
ok "784-1024-1024-1024-10, 2 epochs: same weights checksum on both backends ($ck vs $cc)" $?

out=$("$ctl" eval "${D[@]}" --model "$tmp/k.model" --backend kernel --test-limit 100 --calib 200 --json 2>&1)
rc=$?
kerr=$(jget errors "$out")
out=$("$ctl" eval "${D[@]}" --model "$tmp/k.model" --backend cpu --test-limit 100 --calib 200 --json 2>&1)
[ $rc -eq 0 ] && [ -n "$kerr" ] && [ "$kerr" = "$(jget errors "$out")" ]
ok "eval of a saved model: the same test errors on both backends" $?

out=$("$ctl" predict "${D[@]}" --model "$tmp/k.model" --backend kernel --index 3 --calib 200 --json 2>&1)
rc=$?
kp=$(jget prediction "$out")
out=$("$ctl" predict "${D[@]}" --model "$tmp/k.model" --backend cpu --index 3 --calib 200 --json 2>&1)
[ $rc -eq 0 ] && [ -n "$kp" ] && [ "$kp" = "$(jget prediction "$out")" ]
ok "predict through the device gives the cpu backend's class ($kp)" $?

kout=$("$ctl" hist "${D[@]}" --model "$tmp/k.model" --backend kernel --limit 200 --json 2>&1)
krc=$?
cout=$("$ctl" hist "${D[@]}" --model "$tmp/k.model" --backend cpu --limit 200 --json 2>&1)
echo "# $kout"
python3 - "$kout" "$cout" <<'PY'
import json, sys
k, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
bins = lambda d: [l["bins"] for l in d["layers"] if "bins" in l]
assert len(bins(k)) == 1 and len(bins(k)[0]) == 32 and sum(bins(k)[0]) > 0
assert bins(k) == bins(c)
PY
prc=$?
[ $krc -eq 0 ] && [ $prc -eq 0 ]
ok "hist --model --backend kernel gives the cpu backend's histogram" $?

# --- a training in the background: stats, monitor, hist, Ctrl-C ----------
"$ctl" train "${D[@]}" --backend kernel --arch 784-256-10 --epochs 100 --train-limit 6000 \
	--test-limit 100 --batch 50 --seed 1 --save "$tmp/bg.model" >"$tmp/bg.out" 2>&1 &
bg=$!
id=
for _ in $(seq 1 180); do
	out=$("$ctl" stats --json 2>/dev/null)
	id=$(python3 -c '
import json, sys
for c in json.loads(sys.argv[1])["contexts"]:
    if c["pid"] == int(sys.argv[2]) and c["has_model"] and c.get("step", 0) > 0:
        print(c["id"])
' "$out" "$bg" 2>/dev/null)
	[ -n "$id" ] && break
	kill -0 $bg 2>/dev/null || break
	sleep 1
done
echo "# $out"
[ -n "$id" ]
ok "stats --json shows the background training's context with step > 0" $?

out=$("$ctl" stats 2>&1)
sed 's/^/# /' <<<"$out"
grep -Eq "^${id:-x} +$bg +0 +2L ternary\+QB +[0-9]+ +[1-9][0-9]* " <<<"$out"
ok "stats prints a table row for the context" $?

out=$("$ctl" stats --ctx "${id:-0}" --json 2>&1)
python3 -c 'import json,sys; c=json.loads(sys.argv[1])["contexts"]; sys.exit(0 if len(c) == 1 and c[0]["id"] == int(sys.argv[2]) and c[0]["layers"] == 2 and 1 <= c[0]["epoch_done"] <= c[0]["epoch_total"] == 120 else 1)' "$out" "${id:-0}"
ok "stats --ctx ID --json shows that context and its place in the epoch" $?

out=$(timeout 90 "$ctl" monitor --count 2 --timeout 60 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
# 6000 samples in minibatches of 50: batch D/120, the place in the epoch
[ $rc -eq 0 ] && [ "$(grep -Ec "^ctx ${id:-x} pid $bg epoch [0-9]+ step [0-9]+ batch ([1-9]|[1-9][0-9]|1[01][0-9]|120)/120: loss [0-9.]+ err [0-9]+/50 " <<<"$out")" -eq 2 ] &&
	[ "$(wc -l <<<"$out")" -eq 2 ]
ok "monitor --count 2 --timeout 60 prints two progress lines with the place in the epoch" $?

out=$(timeout 90 "$ctl" monitor --count 1 --timeout 60 --json 2>&1)
python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if 1 <= e["done"] <= e["total"] and e["done"] <= e["epoch_done"] <= e["epoch_total"] == 120 and e["batch_size"] == 50 else 1)' "$out"
ok "monitor --json prints a progress event as JSON, with the place in the epoch" $?

out=$("$ctl" hist --ctx "${id:-0}" 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
[ $rc -eq 0 ] && grep -q "^layer 1: adds" <<<"$out" && grep -Eq '^ +2\^-?[0-9]+ \|#+ *\|' <<<"$out"
ok "hist --ctx ID draws the live context's histogram" $?

out=$("$ctl" hist --ctx "${id:-0}" --json 2>&1)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); l=d["layers"]; sys.exit(0 if len(l) == 3 and len(l[1]["bins"]) == 32 and sum(l[1]["bins"]) > 0 and l[1]["adds"] > 0 else 1)' "$out"
ok "hist --ctx ID --json has the layers' counters and bins" $?

"$ctl" hist --ctx 999999999 >/dev/null 2>&1
[ $? -eq 1 ]
ok "hist --ctx of an unknown context exits 1" $?

# --- who sees what: other users, with and without the device, containers --
# (stats --all asks the module for every context: it answers with what the
# asker may see)
as() {	# as <uid> <command...>: run as an unprivileged user (no groups)
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}
lists() {	# lists <stats JSON> <id> [uid pid]: the context is in it (with those)
	python3 -c '
import json, sys
c = [c for c in json.loads(sys.argv[1])["contexts"] if c["id"] == int(sys.argv[2])]
if len(sys.argv) > 3:
    c = [x for x in c if x["uid"] == int(sys.argv[3]) and x["pid"] == int(sys.argv[4])]
sys.exit(0 if c else 1)' "$@" 2>/dev/null
}
mode=$(stat -c %a /dev/fewmul)
for access in without with; do
	[ $access = with ] && chmod 0666 /dev/fewmul
	out=$(as 65534 "$ctl" stats --all --json 2>&1)
	! lists "$out" "${id:-0}" && python3 -c 'import json,sys; json.loads(sys.argv[1])' "$out"
	ok "stats --all --json as another user ($access access to the device) does not list root's context" $?
	as 65534 "$ctl" stats --ctx "${id:-0}" >/dev/null 2>&1
	[ $? -eq 1 ]
	ok "stats --ctx of root's context as another user ($access access) exits 1" $?
	as 65534 "$ctl" hist --ctx "${id:-0}" >/dev/null 2>&1
	[ $? -eq 1 ]
	ok "hist --ctx of root's context as another user ($access access) exits 1" $?
	out=$(as 65534 timeout 30 "$ctl" monitor --count 1 --timeout 3 2>&1)
	! grep -q "^ctx ${id:-x} " <<<"$out"
	ok "monitor as another user ($access access) hears nothing of root's training" $?
done
# a second user trains; the first neither sees it nor is seen
chmod 0755 "$tmp"
chmod -R a+rX "$tmp/data" 2>/dev/null
# (64 MiB of locked memory: the pinned data count against it)
(ulimit -l 65536 && exec setpriv --reuid=65533 --regid=65533 --clear-groups \
	"$ctl" train "${D[@]}" --backend kernel --arch 784-32-10 --epochs 100 --train-limit 2000 \
	--test-limit 50 --batch 50) >"$tmp/u2.out" 2>&1 &
u2=$!
id2=
for _ in $(seq 1 120); do
	out=$(as 65533 "$ctl" stats --all --json 2>/dev/null)
	id2=$(python3 -c '
import json, sys
for c in json.loads(sys.argv[1])["contexts"]:
    if c["uid"] == 65533 and c["has_model"]:
        print(c["id"])' "$out" 2>/dev/null)
	[ -n "$id2" ] && break
	kill -0 $u2 2>/dev/null || break
	sleep 1
done
[ -n "$id2" ] && ! lists "$out" "${id:-0}"
ok "a second user sees its own context, not root's" $?
[ -n "$id2" ] || { sed 's/^/# u2: /' "$tmp/u2.out"; echo "# $out"; }
out=$(as 65534 "$ctl" stats --all --json 2>&1)
! lists "$out" "${id2:-0}"
ok "the first user does not see the second user's context" $?
out=$("$ctl" stats --all --json 2>&1)
lists "$out" "${id2:-0}" 65533 "$u2" && lists "$out" "${id:-0}" 0 "$bg"
rc=$?
ok "root sees both, with their uids and pids" $rc
[ $rc -eq 0 ] || echo "# contexts $id ($bg) and $id2 ($u2): $out"
# in a user namespace where uid 0 is 65533: its own context, as it numbers it
out=$(as 65533 unshare --user --map-root-user "$ctl" stats --all --json 2>&1)
lists "$out" "${id2:-0}" 0 "$u2" && ! lists "$out" "${id:-0}"
rc=$?
ok "in a user namespace (0 = host 65533) stats shows the context with uid 0, not root's" $rc
[ $rc -eq 0 ] || echo "# context $id2 ($u2): $out"
kill $u2 2>/dev/null
wait $u2 2>/dev/null
chmod "$mode" /dev/fewmul
chmod 0700 "$tmp"

kill -INT $bg 2>/dev/null
for _ in $(seq 1 120); do kill -0 $bg 2>/dev/null || break; sleep 1; done
if kill -0 $bg 2>/dev/null; then kill -KILL $bg; fi
wait $bg
rc=$?
sed 's/^/# bg: /' "$tmp/bg.out"
# 130: stopped by SIGINT, the model saved (Documentation/cli.rst)
[ $rc -eq 130 ] && grep -q "stopped .*model saved to" "$tmp/bg.out"
ok "Ctrl-C stops a kernel-backend training cleanly, saves the model, exits 130" $?
"$ctl" eval "${D[@]}" --model "$tmp/bg.model" --backend kernel --test-limit 100 --calib 200 >/dev/null 2>&1
ok "the model saved on Ctrl-C loads and evaluates on the kernel backend" $?
rm -rf "$tmp"

echo "1..$n"
[ "$fail" -eq 0 ]
