#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, on whatever kernel runs it: load fewmul.ko unless it is
# loaded, show what the module reports, then train a ternary + quantized
# backprop model on a Fashion-MNIST subset through /dev/fewmul while
# `fewmulctl monitor` prints the module's progress events, evaluate it,
# and print the multiplication table of the run.
# usage: demo-guest.sh BUILD_DIR
# FEWMUL_DEMO_TRAIN / FEWMUL_DEMO_TEST / FEWMUL_DEMO_EPOCHS size the run.
set -eu
b=$1
ctl=$b/fewmulctl
ntrain=${FEWMUL_DEMO_TRAIN:-10000}
ntest=${FEWMUL_DEMO_TEST:-2000}
epochs=${FEWMUL_DEMO_EPOCHS:-3}
model=$(mktemp /tmp/fewmul-demo.XXXXXX.model)
trap 'rm -f "$model"' EXIT

if [ ! -c /dev/fewmul ]; then
	insmod "$b/kmod-stock/fewmul.ko"
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/fewmul ] && break; sleep 0.2; done
fi
echo "\$ fewmulctl info"
"$ctl" info
echo

echo "\$ fewmulctl monitor | awk 'NR % 10 == 1' &   # every 10th progress event"
"$ctl" monitor --timeout 3600 | awk 'NR % 10 == 1 { print; fflush() }' &
mon=$!
sleep 0.5
echo "\$ fewmulctl train --backend kernel --weights ternary --qbp" \
	"--train-limit $ntrain --test-limit $ntest --epochs $epochs --save MODEL"
"$ctl" train --backend kernel --weights ternary --qbp \
	--train-limit "$ntrain" --test-limit "$ntest" --epochs "$epochs" \
	--save "$model"
sleep 0.5
pkill -f "$ctl monitor" 2>/dev/null || true
wait "$mon" 2>/dev/null || true
echo

echo "\$ fewmulctl eval --backend kernel --model MODEL --test-limit $ntest"
"$ctl" eval --backend kernel --model "$model" --test-limit "$ntest"
echo

echo "\$ fewmulctl count --batch 200   # the paper's table for this net, without and with BN"
"$ctl" count --batch 200
echo
echo "(the run's own counters are in the epoch lines: the only multiplications"
echo " the ternary+QB engine executed are the 10 per sample of the loss report)"

