#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fewmulctl argument handling and errors, without the module (native,
# ASan build). Prints TAP.
FEWMULCTL=${FEWMULCTL:-$(dirname "$0")/fewmulctl}
n=0
fail=0

t() {	# t <name> <expected exit> <expected output regex> <args...>
	local name=$1 want_rc=$2 want_re=$3 out rc
	shift 3
	out=$("$FEWMULCTL" "$@" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq "$want_rc" ] && grep -Eq -- "$want_re" <<<"$out"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "#   rc=$rc (want $want_rc), output:"
		sed 's/^/#     /' <<<"$out"
		fail=$((fail + 1))
	fi
}

t "no arguments prints usage, exit 1" 1 "^Usage: fewmulctl" 
t "--help lists commands, exit 0" 0 "info +show module version" --help
t "--version" 0 "^fewmulctl [0-9]+\.[0-9]+\.[0-9]+$" --version
t "unknown command" 1 "^fewmulctl: unknown command 'frobnicate'" frobnicate
t "commands match exactly (no prefixes)" 1 "unknown command 'inf'" inf
t "info --help" 0 "^Usage: fewmulctl info \[--json\]" info --help
t "info with a stray argument prints usage" 1 "^Usage: fewmulctl info" info extra
t "info with an unknown option prints usage" 1 "Usage: fewmulctl info" info --bogus
t "info without the device says the module is not loaded" 1 \
	"fewmulctl: /nonexistent: No such file or directory" info --device /nonexistent
t "info without the device explains how to load it" 1 \
	"module is not loaded; load it with 'modprobe fewmul'" info --device /nonexistent
t "info on a non-fewmul device fails the ioctl" 1 \
	"fewmulctl: FEWMUL_IOC_INFO: Inappropriate ioctl for device" info --device /dev/null

# Training on the default dataset (Debian's dataset-fashion-mnist).
tmp=$(mktemp -d)
small=(--arch 784-32-10 --epochs 2 --train-limit 600 --test-limit 200)
t "train runs and prints per-epoch results" 0 "^epoch 2/2 .*test err" train "${small[@]}" --threads 1
c1=$("$FEWMULCTL" train "${small[@]}" --threads 1 2>&1 | sed -n 's/^weights checksum //p')
c2=$("$FEWMULCTL" train "${small[@]}" --threads 2 --save "$tmp/m" --log "$tmp/l.csv" 2>&1 | sed -n 's/^weights checksum //p')
n=$((n + 1))
if [ -n "$c1" ] && [ "$c1" = "$c2" ]; then echo "ok $n - same checksum with 1 and 2 threads ($c1)"; else echo "not ok $n - checksums '$c1' vs '$c2'"; fail=$((fail + 1)); fi
c3=$("$FEWMULCTL" train "${small[@]}" --resume "$tmp/m" 2>&1 | sed -n 's/^weights checksum //p')
n=$((n + 1))
if [ -n "$c3" ] && [ "$c3" = "$c1" ]; then echo "ok $n - --save writes a model that --resume reloads bit-exactly"; else echo "not ok $n - resume checksum '$c3' vs '$c1'"; fail=$((fail + 1)); fi
n=$((n + 1))
if [ "$(wc -l <"$tmp/l.csv")" -eq 3 ] && head -1 "$tmp/l.csv" | grep -q '^epoch,lr_shift,train_loss'; then echo "ok $n - --log writes a header and one CSV line per epoch"; else echo "not ok $n - --log CSV"; fail=$((fail + 1)); fi
t "train --json prints one object per epoch" 0 '^\{"epoch":2,"epochs":2,"lr_shift":[0-9]+,"train_loss"' train "${small[@]}" --json
t "train --json has per-layer operation counts" 0 '"layer_ops":\[\[[0-9]+,[0-9]+,0\],\[[0-9]+,[0-9]+,0\],\[[0-9]+,[0-9]+,[0-9]+\]\]' train "${small[@]}" --json
t "eval reports error and the confusion matrix" 0 "class  accuracy" eval --model "$tmp/m" --test-limit 200 --calib 400
t "eval --json" 0 '"confusion":\[\[' eval --model "$tmp/m" --test-limit 200 --calib 400 --json
t "eval without --model prints usage" 1 "^Usage: fewmulctl eval" eval
printf 'garbage' >"$tmp/bad"
t "eval of a damaged model says what is wrong" 1 "bad: truncated header" eval --model "$tmp/bad"
t "train --resume of a damaged file says what is wrong" 1 "fewmulctl: --resume: .*bad: truncated header" train --resume "$tmp/bad"
t "train with a missing data directory names the file" 1 "fewmulctl: training data: /nonexistent/train-images-idx3-ubyte.gz: No such file" train --data /nonexistent
t "train --arch rejects a bad architecture" 1 "fewmulctl: --arch 784-0-10" train --arch 784-0-10
t "train --arch must match the images" 1 "input width 100 does not match the 28x28 images" train --arch 100-10
t "train --weights rejects unknown modes" 1 "want full, binary, binary-stoch or ternary" train --weights quaternary
t "train --lr rejects rates above 1" 1 "fewmulctl: --lr" train --lr 2
t "count prints the paper's numbers" 0 "1747974000" count --arch 784-1024-1024-1024-10 --batch 200
t "count --json gives the ratio" 0 '"ratio":0.001057' count --json
rm -rf "$tmp"

echo "1..$n"
[ "$fail" -eq 0 ]
