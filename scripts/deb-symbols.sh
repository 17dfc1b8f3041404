#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bring debian/libfewmul0.symbols in line with userspace/lib/libfewmul.map:
# every version node and global symbol of the map, each with the upstream
# version that first shipped it (kept from the file; new ones get the
# Makefile's VERSION). Run after adding symbols to the map; the package
# build (dpkg-gensymbols at check level 4) fails until the two agree.
set -euo pipefail
cd "$(dirname "$0")/.."
ver=$(make -s --no-print-directory print-version)
python3 - "$ver" <<'PY'
import re, sys
ver = sys.argv[1]
path = "debian/libfewmul0.symbols"
old = {}
for line in open(path):
    m = re.match(r"^ (\S+@\S+) (\S+)$", line)
    if m:
        old[m.group(1)] = m.group(2)
syms = []
for m in re.finditer(r"(LIBFEWMUL_[0-9.]+)\s*\{(.*?)\}", open("userspace/lib/libfewmul.map").read(), re.S):
    node, body = m.group(1), m.group(2).split("local:")[0].replace("global:", "")
    syms.append(f"{node}@{node}")
    syms += [f"{n}@{node}" for n in re.findall(r"([A-Za-z_]\w*)\s*;", body)]
out = ["libfewmul.so.0 libfewmul0 #MINVER#", "* Build-Depends-Package: libfewmul-dev"]
out += [f" {s} {old.get(s, ver)}" for s in sorted(syms, key=str.lower)]
open(path, "w").write("\n".join(out) + "\n")
added = [s for s in syms if s not in old]
gone = [s for s in old if s not in syms]
print(f"deb-symbols: {len(syms)} symbols, {len(added)} added, {len(gone)} removed")
PY
