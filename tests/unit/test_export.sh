#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fewmulctl export (native, ASan build), without the module. Prints TAP.
#
# For small models of every weight and BN mode, trained on the cpu
# backend: the classes and integer scores of Documentation/export_infer.py
# (numpy, on the .npz) and of Documentation/export_example.c (compiled
# with -Wall -Wextra -Werror against the C header) are the same, line for
# line, on the first test images; their confusion matrix is eval --json's;
# and each of the first few images gets predict --json's class and scores.
FEWMULCTL=${FEWMULCTL:-$(dirname "$0")/fewmulctl}
SRC=${FEWMUL_SRCDIR:-$(dirname "$0")/../..}
DATA=/usr/share/datasets/fashion-mnist
N=300		# test images compared with eval and between Python and C
NPRED=5		# of them, also compared with predict one by one
CC=${CC:-cc}
n=0
fail=0

# shellcheck source=tests/unit/cli-tap.sh
. "${FEWMUL_SRCDIR:-$(dirname "$0")/../..}/tests/unit/cli-tap.sh"

# A Python 3 with numpy (Debian's python3-numpy is in /usr/bin's).
PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import numpy' 2>/dev/null; then
		PY=$p
		break
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zcat "$DATA/t10k-images-idx3-ubyte.gz" >"$tmp/t10k-images"

# The Python classes and scores of the first N images against eval's
# confusion matrix (DIR/eval.json) and predict's JSON for image i
# (DIR/pred-i.json).
cat >"$tmp/check.py" <<'EOF'
import json, sys
import numpy as np
out, labels_path, d, npred = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rows = [list(map(int, l.split())) for l in open(out)]
pred = np.array([r[1] for r in rows])
import gzip
labels = np.frombuffer(gzip.open(labels_path).read(), np.uint8, offset=8)[:len(pred)]
k = len(rows[0]) - 2
conf = np.zeros((k, k), np.int64)
np.add.at(conf, (labels, pred), 1)
ev = json.load(open(f"{d}/eval.json"))
bad = []
if ev["samples"] != len(pred) or ev["confusion"] != conf.tolist():
    bad.append("confusion matrix differs from eval's")
for i in range(npred):
    p = json.load(open(f"{d}/pred-{i}.json"))
    mine = [float("%.6g" % (s / 4096)) for s in rows[i][2:]]
    if p["prediction"] != rows[i][1] or p["scores"] != mine:
        bad.append(f"image {i}: predict says {p['prediction']} {p['scores']}, "
                   f"Python {rows[i][1]} {mine}")
print("; ".join(bad) if bad else "same")
sys.exit(1 if bad else 0)
EOF

check_model() {	# check_model <name> <train args...>
	local name=$1 d=$tmp/$1 i r
	shift
	mkdir "$d"
	if ! "$FEWMULCTL" train --backend cpu --threads 1 --epochs 2 --batch 50 \
		--train-limit 600 --test-limit 100 --save "$d/m.model" "$@" >"$d/train.log" 2>&1; then
		ok_if "$name: train" false
		sed 's/^/#     /' "$d/train.log"
		return
	fi
	t "$name: export to .npz" 0 "^$d/m.npz: NumPy \.npz of $d/m.model" \
		export --model "$d/m.model" -o "$d/m.npz"
	t "$name: export to a C header (by the name)" 0 "^$d/model.h: C header of" \
		export --model "$d/m.model" -o "$d/model.h"
	"$FEWMULCTL" eval --model "$d/m.model" --backend cpu --test-limit $N --json >"$d/eval.json" 2>&1
	for ((i = 0; i < NPRED; i++)); do
		"$FEWMULCTL" predict --model "$d/m.model" --backend cpu --index $i --json \
			>"$d/pred-$i.json" 2>&1
	done
	if [ -n "$PY" ]; then
		"$PY" "$SRC/Documentation/export_infer.py" "$d/m.npz" "$DATA/t10k-images-idx3-ubyte.gz" \
			--first $N --scores >"$d/py.txt" 2>"$d/py.err"
		ok_if "$name: export_infer.py classifies $N images" \
			[ "$(wc -l <"$d/py.txt")" -eq $N ]
		r=$("$PY" "$tmp/check.py" "$d/py.txt" "$DATA/t10k-labels-idx1-ubyte.gz" \
			"$d" $NPRED 2>&1)
		ok_if "$name: export_infer.py gives eval's confusion matrix and predict's classes and scores ($r)" \
			[ "$r" = same ]
	else
		skip "$name: export_infer.py" "no python3 with numpy"
		skip "$name: export_infer.py agrees with eval and predict" "no python3 with numpy"
	fi
	if ! "$CC" -std=c11 -O2 -Wall -Wextra -Werror -I"$d" -o "$d/classify" \
		"$SRC/Documentation/export_example.c" 2>"$d/cc.err"; then
		ok_if "$name: export_example.c compiles with -Wall -Wextra -Werror" false
		head -20 "$d/cc.err" | sed 's/^/#     /'
		return
	fi
	ok_if "$name: export_example.c compiles with -Wall -Wextra -Werror" true
	"$d/classify" "$tmp/t10k-images" $N >"$d/c.txt" 2>&1
	if [ -n "$PY" ]; then
		ok_if "$name: the C header gives export_infer.py's classes and scores" \
			cmp -s "$d/c.txt" "$d/py.txt"
	fi
	# Without Python: the C classes against predict's.
	for ((i = 0; i < NPRED; i++)); do
		r=$(sed -n 's/.*"prediction":\([0-9]*\).*/\1/p' "$d/pred-$i.json")
		[ "$(sed -n "$((i + 1))s/^$i \([0-9]*\) .*/\1/p" "$d/c.txt")" = "$r" ] || break
	done
	ok_if "$name: the C header's classes of the first $NPRED images are predict's" [ "$i" -eq $NPRED ]
}

check_model ternary-bn --arch 784-32-16-10 --bn shift
check_model ternary-shift2 --arch 784-32-16-10 --bn shift2
check_model full-shift2 --arch 784-16-10 --weights full --no-qbp --bn shift2
check_model binary-nobn --arch 784-24-10 --weights binary --bn none
check_model stoch-bn --arch 784-20-10 --weights binary-stoch --no-qbp
check_model full-bn --arch 784-16-10 --weights full --no-qbp
check_model full-nobn --arch 784-16-12 --weights full --bn none --no-qbp

d=$tmp/ternary-bn
if [ -n "$PY" ]; then
	cfg=$("$PY" -c 'import numpy as np, json, sys
z = np.load(sys.argv[1])
c = json.loads(z["config.json"])
print(c["arch"], c["weights"], c["bn"], c["bn_stats"], c["fixed_point"]["fa"], z["w1"].dtype,
      z["w1"].shape, z["beta1"].dtype, z["shift3"].shape, sorted(set(z["w2"].ravel().tolist())) <= [-1, 0, 1])' "$d/m.npz" 2>&1)
	ok_if "the .npz has the config and per-layer arrays ($cfg)" \
		[ "$cfg" = "[784, 32, 16, 10] ternary shift stored 12 int8 (784, 32) int32 (10,) True" ]
	cfg=$("$PY" -c 'import numpy as np, json, sys
z = np.load(sys.argv[1])
print(z["w1"].dtype, json.loads(z["config.json"])["weights_dtype"])' "$tmp/full-nobn/m.npz" 2>&1)
	ok_if "full weights are exported as int32 shadow weights ($cfg)" [ "$cfg" = "int32 int32" ]
fi
"$FEWMULCTL" export --model "$d/m.model" -o "$d/again.npz" >/dev/null 2>&1
ok_if "the same model exports to the same bytes" cmp -s "$d/m.npz" "$d/again.npz"
t "--format c-header whatever the name" 0 "C header of" export --model "$d/m.model" -o "$d/h.txt" --format c-header
ok_if "the header names the model's architecture" grep -q "784-32-16-10, ternary weights" "$d/h.txt"
t "--format npz whatever the name" 0 "NumPy \.npz of" export --model "$d/m.model" -o "$d/x.h" --format npz
ok_if "an .npz is a zip archive" [ "$(head -c 4 "$d/x.h" | od -An -tx1 | tr -d ' ')" = 504b0304 ]
t "--calib re-estimates the statistics" 0 "statistics re-estimated" export --model "$d/m.model" -o "$d/c.npz" --calib 200

# Errors: one line naming the option and its value, exit 1, no file left.
t "export --help" 0 "^Usage: fewmulctl export --model FILE -o" export --help
out=$("$FEWMULCTL" export --help 2>&1)
missing=
for o in model output format calib data threads help; do
	grep -Eq -- "^  (-., )?--$o[ ,]" <<<"$out" || missing="$missing --$o"
done
ok_if "export --help documents all its options${missing:+ (missing:$missing)}" [ -z "$missing" ]
t "fewmulctl --help lists export" 0 "^  export +write a model" --help
t "export without --model" 1 "^fewmulctl: export: --model FILE is required$" export -o "$tmp/x.npz"
t "export without -o" 1 "^fewmulctl: export: -o FILE is required$" export --model "$d/m.model"
t "export of a missing model names it" 1 "^fewmulctl: --model $tmp/none.model: No such file or directory$" \
	export --model "$tmp/none.model" -o "$tmp/x.npz"
printf garbage >"$tmp/bad"
t "export of a damaged model says what is wrong" 1 "^fewmulctl: --model $tmp/bad: truncated header" \
	export --model "$tmp/bad" -o "$tmp/x.npz"
t "export to an unknown format" 1 "^fewmulctl: --format onnx: want npz or c-header$" \
	export --model "$d/m.model" -o "$tmp/x.onnx" --format onnx
t "export into a missing directory" 1 "^fewmulctl: -o /nonexistent/x.npz: cannot create a temporary file beside it: No such file or directory$" \
	export --model "$d/m.model" -o /nonexistent/x.npz
t "export onto a directory" 1 "^fewmulctl: -o $tmp: " export --model "$d/m.model" -o "$tmp"
ok_if "failed exports leave no file" [ ! -e "$tmp/x.npz" -a ! -e "$tmp/x.onnx" ]
# A write that fails half-way (a 4 KiB file size limit; SIGXFSZ ignored,
# so write(2) fails with EFBIG) keeps the old file and removes the new one.
cp "$d/m.npz" "$tmp/keep.npz"
cp "$d/model.h" "$tmp/keep.h"
small() { (trap '' XFSZ; ulimit -f 4; "$FEWMULCTL_REAL" "$@"); }
FEWMULCTL_REAL=$FEWMULCTL
FEWMULCTL=small
t "a failed .npz write names the file and the error" 1 "^fewmulctl: -o $tmp/keep.npz: write failed: File too large$" \
	export --model "$d/m.model" -o "$tmp/keep.npz"
t "a failed header write names the file and the error" 1 "^fewmulctl: -o $tmp/keep.h: write failed: File too large$" \
	export --model "$d/m.model" -o "$tmp/keep.h"
FEWMULCTL=$FEWMULCTL_REAL
ok_if "a failed export leaves the old files as they were" \
	bash -c 'cmp -s "$1" "$2" && cmp -s "$3" "$4"' _ "$d/m.npz" "$tmp/keep.npz" "$d/model.h" "$tmp/keep.h"
ok_if "and no temporary file beside them" [ -z "$(ls "$tmp" | grep 'keep\..*\.tmp')" ]
t "export with a stray argument" 1 "^fewmulctl: export: unexpected argument 'extra'$" export --model "$d/m.model" -o "$tmp/y.npz" extra

echo "1..$n"
[ "$fail" -eq 0 ]
