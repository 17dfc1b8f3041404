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
for k in ("workers", "max_layers", "max_width", "max_batch", "max_scratch_bytes"):
    assert d["ioctl"][k] == d["genetlink"][k] and d["ioctl"][k] > 0, k
PY
ok "info --json is valid JSON with matching ioctl and genetlink fields" $?

# Open contexts are counted: hold the device open in the background.
exec 7<>/dev/fewmul
out=$("$ctl" info --json 2>&1)
exec 7>&-
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["genetlink"]["contexts"] >= 1 else 1)' "$out"
ok "genetlink counts open contexts" $?

echo "1..$n"
[ "$fail" -eq 0 ]
