#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, on whatever kernel runs it: load fewmul.ko unless it is
# loaded, then show what the module reports.
# usage: demo-guest.sh BUILD_DIR
set -eu
b=$1
if [ ! -c /dev/fewmul ]; then
	insmod "$b/kmod-stock/fewmul.ko"
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/fewmul ] && break; sleep 0.2; done
fi
echo "\$ fewmulctl info"
"$b/fewmulctl" info
echo
echo "\$ fewmulctl info --json"
"$b/fewmulctl" info --json
