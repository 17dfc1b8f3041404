#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fewmulctl argument handling and errors, without the module (native,
# ASan build). Prints TAP.
FEWMULCTL=${FEWMULCTL:-$(dirname "$0")/fewmulctl}
n=0
fail=0

# shellcheck source=tests/unit/cli-tap.sh
. "${FEWMUL_SRCDIR:-$(dirname "$0")/../..}/tests/unit/cli-tap.sh"

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
t "info on a non-fewmul device names it" 1 \
	"^fewmulctl: /dev/null: not a fewmul device \(FEWMUL_IOC_INFO: Inappropriate ioctl for device\)$" info --device /dev/null

# Training on the default dataset (Debian's dataset-fashion-mnist), on the
# cpu backend whatever the machine has loaded.
tmp=$(mktemp -d)
small=(--backend cpu --arch 784-32-10 --epochs 2 --train-limit 600 --test-limit 200)
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
t "eval reports error and the confusion matrix" 0 "class  accuracy" eval --model "$tmp/m" --test-limit 200 --calib 400 --backend cpu
t "eval --json" 0 '"confusion":\[\[' eval --model "$tmp/m" --test-limit 200 --calib 400 --json --backend cpu
t "eval without --model prints usage" 1 "^Usage: fewmulctl eval" eval
t "eval --test-weights real uses the shadow weights" 0 "real-valued test-time weights, BN statistics re-estimated from 400" \
	eval --model "$tmp/m" --test-limit 200 --calib 400 --backend cpu --test-weights real
t "eval --test-weights real --json" 0 '"test_weights":"real"' \
	eval --model "$tmp/m" --test-limit 200 --backend cpu --test-weights real --json
t "eval --test-weights real refuses the stored BN statistics" 1 "stored batch-norm statistics are those of the deterministic" \
	eval --model "$tmp/m" --test-limit 200 --calib 0 --backend cpu --test-weights real
t "eval --test-weights sampled samples one network" 0 "sampled test-time weights, BN statistics re-estimated from 400" \
	eval --model "$tmp/m" --test-limit 200 --calib 400 --backend cpu --test-weights sampled
e1=$("$FEWMULCTL" eval --model "$tmp/m" --test-limit 500 --calib 400 --backend cpu --test-weights sampled --json 2>&1)
e2=$("$FEWMULCTL" eval --model "$tmp/m" --test-limit 500 --calib 400 --backend cpu --test-weights sampled --json --threads 3 2>&1)
e3=$("$FEWMULCTL" eval --model "$tmp/m" --test-limit 500 --calib 400 --backend cpu --json 2>&1)
ok_if "eval --test-weights sampled: the same network for any thread count, not the deterministic one" \
	test -n "$e1" -a "$e1" = "$e2" -a \
	"$(grep -o '"loss":[0-9.e-]*' <<<"$e1")" != "$(grep -o '"loss":[0-9.e-]*' <<<"$e3")"
t "eval --test-weights sampled refuses the stored BN statistics" 1 "re-estimate them for --test-weights sampled" \
	eval --model "$tmp/m" --test-limit 200 --calib 0 --backend cpu --test-weights sampled
t "an unknown --test-weights is named" 1 "^fewmulctl: --test-weights bogus: want 'ternary'" \
	eval --model "$tmp/m" --test-weights bogus
t "train --test-weights real reports it" 0 '"test_weights":"real"' train "${small[@]}" --test-weights real --json
printf 'garbage' >"$tmp/bad"
t "eval of a damaged model says what is wrong" 1 "bad: truncated header" eval --model "$tmp/bad" --backend cpu
t "train --resume of a damaged file says what is wrong" 1 "^fewmulctl: --resume .*bad: truncated header" train --resume "$tmp/bad" --backend cpu
t "train with a missing data directory names it" 1 "^fewmulctl: --data: /nonexistent: No such file or directory$" train --data /nonexistent --backend cpu
mkdir "$tmp/empty-data"
t "train with a data directory without the files names both" 1 "^fewmulctl: --data: .*/empty-data: neither train-images-idx3-ubyte\[\.gz\] nor train-labels-idx1-ubyte\[\.gz\] is there" train --data "$tmp/empty-data" --backend cpu
t "train --arch rejects a bad architecture" 1 "fewmulctl: --arch 784-0-10" train --arch 784-0-10
t "train --arch must match the images" 1 "^fewmulctl: --arch 100-10: input width 100 does not match the 28x28 images" train --arch 100-10 --backend cpu
t "train --weights rejects unknown modes" 1 "want full, binary, binary-stoch or ternary" train --weights quaternary
t "train --lr rejects rates above 1" 1 "fewmulctl: --lr" train --lr 2
# Backends. Without the module the default is cpu, and kernel fails clearly.
t "train --backend cpu names the backend and its threads" 0 "^backend cpu, 1 thread; " train "${small[@]}" --threads 1 --backend cpu
c4=$("$FEWMULCTL" train "${small[@]}" --threads 1 --backend cpu --json 2>&1 | sed -n '$s/.*"checksum":"\([0-9a-f]*\)".*/\1/p')
n=$((n + 1))
if [ -n "$c4" ] && [ "$c4" = "$c1" ]; then echo "ok $n - train --json reports the backend and the same weights checksum"; else echo "not ok $n - JSON checksum '$c4' vs '$c1'"; fail=$((fail + 1)); fi
t "train --json names the backend" 0 '"backend":"cpu","checksum":"[0-9a-f]{16}"\}$' train "${small[@]}" --backend cpu --json
t "train --backend rejects unknown backends" 1 "^fewmulctl: --backend gpu: want kernel or cpu$" train --backend gpu
t "train --backend kernel on a missing node says so" 1 \
	"^fewmulctl: --backend kernel: /nonexistent/fewmul: No such file or directory$" train --backend kernel --device /nonexistent/fewmul
t "train --backend kernel on a missing node says how to load the module" 1 \
	"module is not loaded; load it with 'modprobe fewmul'" train --backend kernel --device /nonexistent/fewmul
t "train --backend kernel on a missing node suggests --backend cpu" 1 \
	"or train in this process with --backend cpu" train --backend kernel --device /nonexistent/fewmul
t "train --backend kernel on another device says it is not fewmul" 1 \
	"^fewmulctl: --backend kernel: /dev/null: not a fewmul device$" train --backend kernel --device /dev/null
t "train --device needs the kernel backend" 1 "^fewmulctl: --device /dev/null: only with --backend kernel$" train --backend cpu --device /dev/null
t "eval --backend kernel fails before reading the model" 1 \
	"^fewmulctl: --backend kernel: /dev/null: not a fewmul device$" eval --model "$tmp/m" --device /dev/null
t "eval --backend cpu names the backend" 0 "; backend cpu$" eval --model "$tmp/m" --test-limit 100 --calib 200 --backend cpu
t "eval --json names the backend" 0 '"backend":"cpu"' eval --model "$tmp/m" --test-limit 100 --calib 200 --backend cpu --json
t "bench accepts --backend cpu" 0 "^threads 1: full\(int\)" bench --backend cpu --no-torch --steps 1 --arch 784-16-10 --batch 10 --threads 1
t "bench reports each run's model memory and peak RSS" 0 \
	"^           memory MiB: model full\(int\) [0-9.]+, ternary\+QB [0-9.]+; peak RSS full\(int\) [1-9][0-9.]*, ternary\+QB [1-9]" \
	bench --backend cpu --no-torch --steps 1 --arch 784-16-10 --batch 10 --threads 1
t "bench --json has the memory fields" 0 '"model_bytes_ternary_qb":[1-9][0-9]*,.*"peak_rss_kib_ternary_qb":[1-9]' \
	bench --backend cpu --no-torch --steps 1 --arch 784-16-10 --batch 10 --threads 1 --json
t "bench --backend rejects unknown backends" 1 "^fewmulctl: --backend x: want kernel or cpu$" bench --backend x
if [ ! -e /dev/fewmul ]; then
	t "without /dev/fewmul the default backend is cpu" 0 "^backend cpu, 1 thread; " \
		train --arch 784-32-10 --epochs 1 --train-limit 200 --test-limit 100 --threads 1
	t "train --backend kernel without the module gives a clear error" 1 \
		"^fewmulctl: --backend kernel: /dev/fewmul: No such file or directory$" train --backend kernel
	t "stats without the module says the family is missing" 1 \
		'^fewmulctl: genetlink family "fewmul": No such file or directory$' stats
	t "stats without the module says how to load it" 1 "module is not loaded" stats --json
	t "stats --ctx without the module" 1 'genetlink family "fewmul": No such file' stats --ctx 1
	t "monitor without the module says the family is missing" 1 \
		'^fewmulctl: genetlink family "fewmul": No such file or directory$' monitor --count 1 --timeout 1
	t "hist --ctx without the module" 1 'genetlink family "fewmul": No such file' hist --ctx 1
fi

# stats, monitor, hist: argument errors.
t "stats --help" 0 "^Usage: fewmulctl stats \[--ctx ID\] \[--all\] \[--json\]" stats --help
t "stats with a stray argument prints usage" 1 "^Usage: fewmulctl stats" stats extra
t "stats with an unknown option prints usage" 1 "^Usage: fewmulctl stats" stats --bogus
t "stats --ctx wants a number" 1 "^fewmulctl: --ctx abc: want a context id" stats --ctx abc
t "stats --ctx rejects negative ids" 1 "^fewmulctl: --ctx -1: want a context id" stats --ctx -1
t "monitor --help" 0 "^Usage: fewmulctl monitor \[--count N\] \[--timeout SECONDS\]" monitor --help
t "monitor with a stray argument prints usage" 1 "^Usage: fewmulctl monitor" monitor extra
t "monitor --count wants a positive number" 1 "^fewmulctl: --count 0: want a positive number of events$" monitor --count 0
t "monitor --count rejects junk" 1 "^fewmulctl: --count 2x: want a positive number" monitor --count 2x
t "monitor --timeout wants seconds" 1 "^fewmulctl: --timeout 0: want 1\.\.2000000 seconds$" monitor --timeout 0
t "monitor --timeout rejects negative values" 1 "^fewmulctl: --timeout -5: want" monitor --timeout -5
t "hist --help" 0 "^Usage: fewmulctl hist --ctx ID \| --model FILE" hist --help
t "hist needs a source" 1 "^fewmulctl: hist: give --ctx ID \(a live context\) or --model FILE" hist
t "hist takes one source" 1 "^fewmulctl: hist: --ctx and --model exclude each other$" hist --ctx 1 --model "$tmp/m"
t "hist --ctx wants a number" 1 "^fewmulctl: --ctx x1: want a context id" hist --ctx x1
t "hist --limit only applies to --model" 1 "^fewmulctl: hist: --data, --limit, --backend, --device and --threads only apply to --model$" hist --ctx 1 --limit 5
t "hist --limit wants a positive count" 1 "^fewmulctl: --limit 0: want a positive number of samples$" hist --model "$tmp/m" --limit 0
t "hist --layer wants 0..16" 1 "^fewmulctl: --layer 17: want 0\.\.16$" hist --model "$tmp/m" --layer 17
t "hist --layer must exist in the model" 1 "^fewmulctl: --layer 5: the model has layers 0\.\.2$" hist --model "$tmp/m" --layer 5 --limit 50
t "hist --backend rejects unknown backends" 1 "^fewmulctl: --backend tpu: want kernel or cpu$" hist --model "$tmp/m" --backend tpu
t "hist of a damaged model says what is wrong" 1 "bad: truncated header" hist --model "$tmp/bad"
t "hist --model draws a log2 histogram of the hidden layer" 0 "^ +2\^-?[0-9]+ \|#+ *\| +[0-9.]+% [0-9]+$" hist --model "$tmp/m" --limit 200
t "hist --model reports per-layer operations" 0 "^layer 2 \(output\): adds [0-9.e+]+ shifts [0-9.e+]+ muls [0-9.e+]+$" hist --model "$tmp/m" --limit 200
t "hist --model --json has 32 bins for the hidden layer" 0 '"layer":1,"adds":[0-9]+,"shifts":[0-9]+,"muls":[0-9]+,"bins":\[([0-9]+,){31}[0-9]+\]' hist --model "$tmp/m" --limit 200 --json
sum_before=$(md5sum <"$tmp/m")
"$FEWMULCTL" hist --model "$tmp/m" --limit 100 >/dev/null 2>&1
n=$((n + 1))
if [ "$(md5sum <"$tmp/m")" = "$sum_before" ]; then echo "ok $n - hist --model leaves the file unchanged"; else echo "not ok $n - hist --model changed the model file"; fail=$((fail + 1)); fi

png_sig() {	# the 8-byte PNG signature and a nonzero size
	[ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]
}
png_size() {	# the IHDR width and height, "WxH"
	local h
	h=$(od -An -j16 -N8 -tu1 "$1" | tr -s ' ')
	read -r a b c d e f g i <<<"$h"
	echo "$(((a << 24) | (b << 16) | (c << 8) | d))x$(((e << 24) | (f << 16) | (g << 8) | i))"
}

# Every command: --help is the full usage on stdout with exit 0, and an
# unknown option is named.
for c in info train eval predict count bench stats monitor hist plot; do
	t "$c --help prints the usage and every option" 0 "^Usage: fewmulctl $c .*" $c --help
	out=$("$FEWMULCTL" $c --help 2>/dev/null)
	ok_if "$c --help lists options with descriptions and -h, --help" \
		grep -Eq '^Options:$' <<<"$out"
	ok_if "$c --help: every option line has a description" \
		bash -c '! grep -E "^  -" <<<"$1" | grep -Ev "^  -[-a-z].*[^ ]  +[a-zA-Z(]"' _ "$out"
	t "$c with an unknown option names it" 1 "^fewmulctl: $c: unrecognized option '--bogus'$" $c --bogus
done
t "-h anywhere prints the help" 0 "^Usage: fewmulctl count" count --batch 5 -h
t "a missing option argument is named" 1 "^fewmulctl: train: option '--epochs' requires an argument$" train --epochs
t "an argument to a flag is refused" 1 "^fewmulctl: count: option '--json' doesn't allow an argument$" count --json=1
t "an ambiguous abbreviation is refused" 1 "^fewmulctl: train: option '--t' is ambiguous$" train --t 1
t "a stray argument is named" 1 "^fewmulctl: count: unexpected argument 'extra'$" count extra
# --help documents every option each command accepts.
declare -A cmd_opts=(
	[info]="json device"
	[train]="data arch weights qbp no-qbp exp-range bn epochs batch lr seed threads backend device train-limit test-limit val log save resume progress test-weights json"
	[eval]="model data calib test-limit test-weights threads backend device json"
	[predict]="model index image csv data calib threads backend device json"
	[count]="arch batch bn json"
	[bench]="arch batch steps threads backend device no-torch json"
	[stats]="ctx all json"
	[monitor]="count timeout all json"
	[hist]="ctx model data limit layer backend device threads plot size title json"
	[plot]="output label xy title size json"
)
for c in "${!cmd_opts[@]}"; do
	out=$("$FEWMULCTL" "$c" --help 2>/dev/null)
	missing=
	for o in ${cmd_opts[$c]}; do
		grep -Eq -- "^  (-., |--[a-z-]+, )?--$o[ ,]" <<<"$out" || missing="$missing --$o"
	done
	ok_if "$c --help documents all its options${missing:+ (missing:$missing)}" [ -z "$missing" ]
done

# Each command owns its help: 'help CMD' is 'CMD --help' (that every
# option it shows is in Documentation/cli.rst: test_docs.sh).
for c in $("$FEWMULCTL" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p'); do
	ok_if "help $c prints what $c --help prints" \
		[ "$("$FEWMULCTL" help "$c" 2>&1)" = "$("$FEWMULCTL" "$c" --help 2>&1)" ]
done

# predict: a test image by index, a PGM and IDX files; scores and class names.
data=/usr/share/datasets/fashion-mnist
pc=(--model "$tmp/m" --calib 400 --backend cpu)
t "predict --index shows the prediction with its class name" 0 "^prediction: [0-9] \([A-Z][A-Za-z/ -]+\)$" predict "${pc[@]}" --index 0
t "predict --index shows the true label" 0 "^label: +9 \(Ankle boot\), (correct|wrong)$" predict "${pc[@]}" --index 0
t "predict prints one score per class" 0 "^ +9 +[-+][0-9]+\.[0-9]{4}  Ankle boot" predict "${pc[@]}" --index 0
t "predict --json" 0 '^\{"model":"[^"]+","source":"test","index":0,"prediction":[0-9],"class":"[^"]+","label":9,"label_class":"Ankle boot","correct":(true|false),"scores":\[(-?[0-9.e+-]+,){9}-?[0-9.e+-]+\],"bn_stats":"re-estimated","calib":400,"test_weights":"deterministic","backend":"cpu"\}$' \
	predict "${pc[@]}" --index 0 --json
p0=$("$FEWMULCTL" predict "${pc[@]}" --index 0 --json 2>&1 | sed -n 's/.*"prediction":\([0-9]*\).*/\1/p')
conf=$("$FEWMULCTL" eval --model "$tmp/m" --calib 400 --backend cpu --test-limit 1 --json 2>&1 | sed -n 's/.*"confusion":\[\[\(.*\)\]\].*/\1/p')
e0=$(tr -d '[]' <<<"$conf" | tr ',' '\n' | grep -n '^1$' | cut -d: -f1)
e0=$(( (${e0:-0} - 1) % 10 ))
ok_if "predict --index 0 agrees with eval on test sample 0 ($p0)" [ "${p0:-x}" = "$e0" ]
{ printf 'P5\n# test sample 0\n28 28\n255\n'; zcat "$data/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c 784; } >"$tmp/s0.pgm"
s_idx=$("$FEWMULCTL" predict "${pc[@]}" --index 0 --json 2>&1 | sed -n 's/.*"scores":\(\[[^]]*\]\).*/\1/p')
s_pgm=$("$FEWMULCTL" predict "${pc[@]}" --image "$tmp/s0.pgm" --json 2>&1 | sed -n 's/.*"scores":\(\[[^]]*\]\).*/\1/p')
ok_if "predict --image PGM gives the scores of the same test image" [ "${s_pgm:-x}" = "$s_idx" ]
t "predict --image PGM names the class, no label" 0 "^prediction: $p0 \(" predict "${pc[@]}" --image "$tmp/s0.pgm"
t_not "predict --image PGM prints no label" 0 "^label:" predict "${pc[@]}" --image "$tmp/s0.pgm"
{ printf '\0\0\10\3\0\0\0\1\0\0\0\34\0\0\0\34'; tail -c 784 "$tmp/s0.pgm"; } >"$tmp/one.idx"
gzip -c "$tmp/one.idx" >"$tmp/one.idx.gz"
t "predict --image IDX with one image" 0 '"source":"idx","image":"[^"]+one.idx","prediction":'"$p0"',' predict "${pc[@]}" --image "$tmp/one.idx" --json
t "predict --image IDX.gz" 0 '"source":"idx".*"prediction":'"$p0"',' predict "${pc[@]}" --image "$tmp/one.idx.gz" --json
t "predict --image IDX --index picks an image" 0 '"index":0,"prediction":'"$p0"',' predict "${pc[@]}" --image "$data/t10k-images-idx3-ubyte.gz" --index 0 --json
mkdir "$tmp/other-data"
ln -s "$data"/* "$tmp/other-data/"
t "predict with another --data prints class numbers only" 0 "^prediction: [0-9]$" predict "${pc[@]}" --data "$tmp/other-data" --index 0
t "predict with another --data prints the label as a number" 0 "^label: +9, (correct|wrong)$" predict "${pc[@]}" --data "$tmp/other-data" --index 0
# predict errors
t "predict --index past the test split" 1 "^fewmulctl: --index 10000: the test split has 10000 images \(0\.\.9999\)$" predict "${pc[@]}" --index 10000
t "predict --index wants a number" 1 "^fewmulctl: --index x: want an image number" predict "${pc[@]}" --index x
t "predict needs an image" 1 "^fewmulctl: predict: give --index I" predict "${pc[@]}"
t "predict needs a model" 1 "^fewmulctl: predict: --model FILE is required$" predict --index 0
t "predict --backend kernel without a device says why" 1 "^fewmulctl: --backend kernel: /nonexistent/fewmul: No such file or directory$" predict "${pc[@]}" --index 0 --backend kernel --device /nonexistent/fewmul
t "predict of a damaged model says what is wrong" 1 "bad: truncated header" predict --model "$tmp/bad" --index 0
t "predict --image of a missing file" 1 "^fewmulctl: /nonexistent.pgm: No such file or directory$" predict "${pc[@]}" --image /nonexistent.pgm
{ printf 'P5 32 32 255\n'; head -c 1024 /dev/zero; } >"$tmp/big.pgm"
t "predict --image of the wrong size" 1 "big.pgm: 32x32 pixels; the model wants 28x28$" predict "${pc[@]}" --image "$tmp/big.pgm"
printf 'P2 28 28 255\n0 0 0\n' >"$tmp/p2.pgm"
t "predict --image of a plain (P2) PGM" 1 "p2.pgm: a P2 netpbm file; want a binary graymap" predict "${pc[@]}" --image "$tmp/p2.pgm"
{ printf 'P5 28 28 65535\n'; head -c 1568 /dev/zero; } >"$tmp/mv.pgm"
t "predict --image with maxval 65535" 1 "mv.pgm: PGM maxval 65535; want 255" predict "${pc[@]}" --image "$tmp/mv.pgm"
{ printf 'P5 28 28 255\n'; head -c 700 /dev/zero; } >"$tmp/short.pgm"
t "predict --image of a truncated PGM" 1 "short.pgm: truncated: the header says 28x28 pixels$" predict "${pc[@]}" --image "$tmp/short.pgm"
{ printf 'P5 28 28 255\n'; head -c 785 /dev/zero; } >"$tmp/trail.pgm"
t "predict --image with trailing data" 1 "trail.pgm: trailing data after the image" predict "${pc[@]}" --image "$tmp/trail.pgm"
printf 'P5 28 x 255\n' >"$tmp/hdr.pgm"
t "predict --image with a bad PGM header" 1 "hdr.pgm: bad PGM header" predict "${pc[@]}" --image "$tmp/hdr.pgm"
printf 'garbage, and more garbage' >"$tmp/junk"
t "predict --image of another file type" 1 "junk: bad magic 0x67617262; want a binary PGM \(P5\) or an IDX image file" predict "${pc[@]}" --image "$tmp/junk"
t "predict --image of a short file" 1 "bad: truncated header \(not an IDX file\?\)" predict "${pc[@]}" --image "$tmp/bad"
t "predict --image IDX with many images needs --index" 1 "t10k-images-idx3-ubyte.gz: 10000 images; choose one with --index 0\.\.9999$" predict "${pc[@]}" --image "$data/t10k-images-idx3-ubyte.gz"
t "predict --index past an IDX file" 1 "^fewmulctl: --index 1: .*one.idx has 1 image \(0\.\.0\)$" predict "${pc[@]}" --image "$tmp/one.idx" --index 1
t "predict --index with a PGM" 1 "^fewmulctl: --index: a PGM file holds one image" predict "${pc[@]}" --image "$tmp/s0.pgm" --index 0

# predict of many images: a range, an IDX file, a directory, stdin; CSV
# and JSON Lines. The model's stored statistics keep the 50 single runs fast.
pb=(--model "$tmp/m" --backend cpu)
pq=$("$FEWMULCTL" predict "${pb[@]}" --image "$tmp/s0.pgm" --json 2>&1 | sed -n 's/.*"prediction":\([0-9]*\).*/\1/p')
# t1 <name> <regex> <args...>: exit 1 and exactly one line of output, matching
t1() {
	local name=$1 re=$2 out rc
	shift 2
	out=$("$FEWMULCTL" "$@" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq 1 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -Eq -- "$re" <<<"$out"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "#   rc=$rc (want 1, one line), output:"
		sed 's/^/#     /' <<<"$out"
		fail=$((fail + 1))
	fi
}
{ printf '\0\0\10\3\0\0\0\62\0\0\0\34\0\0\0\34'; zcat "$data/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((50 * 784)); } >"$tmp/fifty.idx"
"$FEWMULCTL" predict "${pb[@]}" --image "$tmp/fifty.idx" --csv >"$tmp/b.csv" 2>&1
single=
for i in $(seq 0 49); do
	single="$single$("$FEWMULCTL" predict "${pb[@]}" --image "$tmp/fifty.idx" --index "$i" --json 2>&1 | sed -n 's/.*"prediction":\([0-9]*\).*/\1/p') "
done
ok_if "predict --csv of a 50-image IDX file: 50 lines after the header" [ "$(wc -l <"$tmp/b.csv")" -eq 51 ]
ok_if "predict of 50 IDX images in one call agrees with 50 single predicts" \
	[ "$(tail -n +2 "$tmp/b.csv" | cut -d, -f2 | tr '\n' ' ')" = "$single" ]
ok_if "predict --csv numbers the images of an IDX file" [ "$(tail -n +2 "$tmp/b.csv" | cut -d, -f1 | tr '\n' ' ')" = "$(seq 0 49 | tr '\n' ' ')" ]
ok_if "predict --csv header: image,prediction,label, then the scores (cpu)" \
	grep -Eq '^image,prediction,label,score0,score1,score2,score3,score4,score5,score6,score7,score8,score9$' "$tmp/b.csv"
ok_if "predict --csv lines: index, class, no label for an IDX file alone, 10 scores" \
	[ "$(grep -Ec '^[0-9]+,[0-9],(,-?[0-9]+\.[0-9]{6}){10}$' "$tmp/b.csv")" -eq 50 ]
"$FEWMULCTL" predict "${pb[@]}" --index 0-49 --csv >"$tmp/t.csv" 2>&1
ok_if "predict --index 0-49 of the test split gives the same classes" \
	[ "$(tail -n +2 "$tmp/t.csv" | cut -d, -f2 | tr '\n' ' ')" = "$single" ]
labels=$(zcat "$data/t10k-labels-idx1-ubyte.gz" | tail -c +9 | head -c 50 | od -An -v -tu1 | tr -s ' \n' ' ' | sed 's/^ //')
ok_if "predict --csv of the test split has the true labels" \
	[ "$(tail -n +2 "$tmp/t.csv" | cut -d, -f3 | tr '\n' ' ')" = "$labels" ]
t "predict --csv of the test IDX file finds its labels beside it" 0 '^9999,[0-9],5,' predict "${pb[@]}" --image "$data/t10k-images-idx3-ubyte.gz" --index 9990-9999 --csv
"$FEWMULCTL" predict "${pb[@]}" --image "$tmp/fifty.idx" --json >"$tmp/b.json" 2>&1
ok_if "predict --json of many images: one object per image and line" \
	[ "$(grep -Ec '^\{"model":"[^"]+","source":"idx","image":"[^"]+fifty.idx","index":[0-9]+,"prediction":[0-9],"class":"[^"]+","scores":\[(-?[0-9.e+-]+,){9}-?[0-9.e+-]+\],"bn_stats":"stored","calib":600,"test_weights":"deterministic","backend":"cpu"\}$' "$tmp/b.json")" -eq 50 ]
ok_if "predict --json: each object is the one of predict --index alone" \
	[ "$(sed -n 4p "$tmp/b.json")" = "$("$FEWMULCTL" predict "${pb[@]}" --image "$tmp/fifty.idx" --index 3 --json 2>&1)" ]
t "predict --csv and --json exclude each other" 1 "^fewmulctl: predict: --csv and --json: choose one$" predict "${pb[@]}" --index 0-1 --csv --json
t "predict --index wants A <= B" 1 "^fewmulctl: --index 5-2: want an image number \(0-based\), a range A-B or all$" predict "${pb[@]}" --index 5-2
t1 "predict --index range past the test split" "^fewmulctl: --index 9990-10000: the test split has 10000 images \(0\.\.9999\)$" predict "${pb[@]}" --index 9990-10000
t "predict --index all classifies the whole test split" 0 '^9999,[0-9],5,' predict "${pb[@]}" --index all
# stdin: one PGM or an IDX stream
t "predict --image - reads a PGM on standard input" 0 "^-,$pq,," predict "${pb[@]}" --image - <"$tmp/s0.pgm"
ok_if "predict --image - of an IDX stream prints what the file gives" \
	[ "$("$FEWMULCTL" predict "${pb[@]}" --image - <"$tmp/fifty.idx" 2>&1)" = "$(cat "$tmp/b.csv")" ]
ok_if "predict --image - reads a gzip'd stream and --index selects" \
	[ "$(gzip -c "$tmp/fifty.idx" | "$FEWMULCTL" predict "${pb[@]}" --image - --index 3 --json 2>&1 | sed 's/"image":"-",//')" = "$(sed -n 4p "$tmp/b.json" | sed 's/"image":"[^"]*",//')" ]
t1 "predict --image - of nothing" "^fewmulctl: standard input: empty; want a binary PGM \(P5\) or an IDX image stream$" predict "${pb[@]}" --image - </dev/null
t1 "predict --image - of another file" "^fewmulctl: standard input: bad magic" predict "${pb[@]}" --image - <"$tmp/m"
# a directory of a PGM and a PNG (8-bit grayscale, written here)
mkpng() {	# mkpng <out.png> <width> <height> <colour type 0|2>: pixels of s0.pgm, or zeros
	python3 - "$tmp/s0.pgm" "$@" <<'PY'
import struct, sys, zlib
src, out, w, h, ct = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
px = open(src, "rb").read()[-784:] if w * h == 784 else bytes(w * h)
if ct == 2:
    px = bytes(b for p in px for b in (p, p, p))
row = w * (3 if ct == 2 else 1)
raw = b"".join(b"\0" + px[y * row:(y + 1) * row] for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
open(out, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ct, 0, 0, 0)) +
                      chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
}
mkdir "$tmp/imgs" "$tmp/noimgs"
cp "$tmp/s0.pgm" "$tmp/imgs/a.pgm"
mkpng "$tmp/imgs/b.png" 28 28 0
mkpng "$tmp/rgb.png" 28 28 2
mkpng "$tmp/big.png" 32 32 0
t "predict --image PNG gives the class of the same PGM" 0 "^prediction: $pq \(" predict "${pb[@]}" --image "$tmp/imgs/b.png"
t "predict --image PNG --json" 0 '"source":"png","image":"[^"]+b.png","prediction":'"$pq"',' predict "${pb[@]}" --image "$tmp/imgs/b.png" --json
out=$("$FEWMULCTL" predict "${pb[@]}" --image "$tmp/imgs/" 2>&1)
ok_if "predict of a directory: a CSV line per PGM and PNG, in name order" \
	[ "$(tail -n +2 <<<"$out" | cut -d, -f1-3 | tr '\n' ' ')" = "$tmp/imgs/a.pgm,$pq, $tmp/imgs/b.png,$pq, " ]
t "predict --json of a directory names each file and its format" 0 '^\{"model":"[^"]+","source":"png","image":"[^"]+/imgs/b.png","prediction":'"$pq"',' predict "${pb[@]}" --image "$tmp/imgs" --json
t1 "predict --image PNG of the wrong size" "^fewmulctl: .*big.png: 32x32 pixels; the model wants 28x28$" predict "${pb[@]}" --image "$tmp/big.png"
t1 "predict --image of an RGB PNG" "^fewmulctl: .*rgb.png: PNG of colour type RGB, bit depth 8; want 8-bit grayscale" predict "${pb[@]}" --image "$tmp/rgb.png"
cp "$tmp/big.png" "$tmp/imgs/c.png"
t1 "predict of a directory with a PNG of the wrong size names it" "^fewmulctl: .*/imgs/c.png: 32x32 pixels; the model wants 28x28$" predict "${pb[@]}" --image "$tmp/imgs" --csv
rm "$tmp/imgs/c.png"
echo notes >"$tmp/imgs/notes.txt"
t1 "predict of a directory with a file that is no image names it" "^fewmulctl: .*/imgs/notes.txt: not a PGM \(P5\) or PNG image$" predict "${pb[@]}" --image "$tmp/imgs"
rm "$tmp/imgs/notes.txt"
t1 "predict of an empty directory" "^fewmulctl: .*/noimgs: no images in the directory; want PGM \(P5\) or PNG files$" predict "${pb[@]}" --image "$tmp/noimgs"
t1 "predict --index with a directory" "^fewmulctl: --index: selects images of an IDX file or of the test split, not of a directory$" predict "${pb[@]}" --image "$tmp/imgs" --index 0

# train --val: validation error in the human line, the JSON and the CSV.
t "train --val reports the validation error per epoch" 0 "^epoch 2/2 .* val err [0-9.]+%  test err" train "${small[@]}" --val 1000
t "train --val says which samples it holds out" 0 "^training on samples 0\.\.599, validating on the last 1000 \(59000\.\.59999\)" train "${small[@]}" --val 1000
t "train --val --json has val_error" 0 '"train_error":[0-9.e-]+,"val_error":[0-9.e-]+,"test_error"' train "${small[@]}" --val 1000 --json

# --keep-best: the model of the lowest validation error is kept, and it is
# the model of that epoch (its test error is that epoch's).
kb=(--backend cpu --arch 784-64-10 --train-limit 2000 --val 500 --test-limit 300 --epochs 4 --threads 1)
out=$("$FEWMULCTL" train "${kb[@]}" --keep-best "$tmp/best.model" 2>&1)
bep=$(sed -n 's/^best validation error [0-9.]*% at epoch \([0-9]*\);.*/\1/p' <<<"$out")
want=$(awk -v e="$bep" '$1 == "epoch" && $2 == e "/4" { for (i = 1; i < NF; i++) if ($i == "test" && $(i + 1) == "err") print $(i + 2) }' <<<"$out")
low=$(grep -o 'val err [0-9.]*%' <<<"$out" | awk '{ print $3 }' | sort -n | head -1)
got=$("$FEWMULCTL" eval --backend cpu --model "$tmp/best.model" --test-limit 300 2>&1 |
	sed -n 's/^test error \([0-9.]*%\).*/\1/p')
ok_if "--keep-best keeps the epoch of the lowest validation error ($bep, $low), whose test error the kept model has ($want = $got)" \
	test -n "$bep" -a -n "$want" -a "$want" = "$got" -a \
	"$(grep -c "^epoch $bep/4 .*val err $low " <<<"$out")" = 1
t "train --keep-best --json says which epochs were kept" 0 '"kept_best":true' train "${kb[@]}" --keep-best "$tmp/best2.model" --json
t "--keep-best needs --val" 1 "^fewmulctl: --keep-best $tmp/b.model: needs --val N" train "${small[@]}" --keep-best "$tmp/b.model"
t "--keep-best over an existing file is refused with --resume" 1 "^fewmulctl: --keep-best $tmp/best.model: exists; with --resume" train --resume "$tmp/m" --val 100 --keep-best "$tmp/best.model"
# A run stopped by SIGTERM and resumed keeps the resumed epochs' best in a
# new file.
"$FEWMULCTL" train --backend cpu --arch 784-64-10 --train-limit 2000 --val 500 \
	--test-limit 300 --threads 1 --epochs 30 --save "$tmp/kbr.model" \
	--log "$tmp/kbr.csv" >/dev/null 2>&1 &
kbpid=$!
for _ in $(seq 600); do
	[ "$(cat "$tmp/kbr.csv" 2>/dev/null | wc -l)" -ge 3 ] && break
	sleep 0.1
done
kill -TERM "$kbpid"
wait "$kbpid"
t "--keep-best with --resume keeps the resumed epochs' best in a new file" 0 \
	"lowest validation error so far: model kept in $tmp/kbr-best.model" \
	train --resume "$tmp/kbr.model" --backend cpu --threads 1 --val 500 --test-limit 300 \
	--keep-best "$tmp/kbr-best.model"
t "--keep-best must not be the --save file" 1 "^fewmulctl: --keep-best $tmp/b.model: the same file as --save" train "${small[@]}" --val 100 --save "$tmp/b.model" --keep-best "$tmp/b.model"
t "--keep-best into a missing directory is found before training" 1 "^fewmulctl: --keep-best $tmp/nodir/b.model" train "${small[@]}" --val 100 --keep-best "$tmp/nodir/b.model"
t_not "train --json without --val has no val_error" 0 'val_error' train "${small[@]}" --json
"$FEWMULCTL" train "${small[@]}" --val 1000 --log "$tmp/v.csv" >/dev/null 2>&1
ok_if "train --val --log adds val_error, then divs and saturated, as the last CSV columns" \
	grep -Eq '^epoch,lr_shift,train_loss,train_error,test_error,seconds,samples_per_s,adds,shifts,muls,val_error,divs,saturated$' "$tmp/v.csv"
ok_if "train --val --log fills val_error, divs and saturated" [ "$(grep -Ec '^[0-9]+,([^,]*,){9}0\.[0-9]{6},[1-9][0-9]*,[0-9]+$' "$tmp/v.csv")" -eq 2 ]
ok_if "train --log without --val leaves val_error empty" [ "$(grep -Ec '^[0-9]+,([^,]*,){9},[1-9][0-9]*,[0-9]+$' "$tmp/l.csv")" -eq 2 ]
t "train --json reports the divisions and saturated deltas of each epoch" 0 '"muls":[0-9]+,"divs":[1-9][0-9]*,"saturated":[0-9]+,' train "${small[@]}" --json
printf 'epoch,lr_shift,train_loss,train_error,test_error,seconds,samples_per_s,adds,shifts,muls,val_error\n1,3,1,0.5,0.5,1,1,1,1,1,0.5\n' >"$tmp/v2.csv"
"$FEWMULCTL" train "${small[@]}" --val 100 --log "$tmp/v2.csv" >/dev/null 2>&1
ok_if "train --log continues a log without divs in its format" [ "$(grep -Ec '^[0-9]+(,[^,]*){9},0\.[0-9]+$' "$tmp/v2.csv")" -eq 3 ]
t "train --val must leave training samples" 1 "^fewmulctl: --val 60000: want fewer than the 60000 training samples$" train "${small[@]}" --val 60000
t "train --val wants a positive count" 1 "^fewmulctl: --val 0: want a positive number of samples$" train --val 0
printf 'epoch,lr_shift,train_loss,train_error,test_error,seconds,samples_per_s,adds,shifts,muls\n1,3,1,0.5,0.5,1,1,1,1,1\n' >"$tmp/old.csv"
t "train --val refuses an old log without val_error" 1 "^fewmulctl: --log .*old.csv: the file has no val_error column" train "${small[@]}" --val 100 --log "$tmp/old.csv"
"$FEWMULCTL" train "${small[@]}" --log "$tmp/old.csv" >/dev/null 2>&1
ok_if "train --log continues an old log in its format" [ "$(grep -Ec '^[0-9]+(,[^,]*){9}$' "$tmp/old.csv")" -eq 3 ]
printf 'hello\n' >"$tmp/notlog.csv"
t "train --log refuses a file that is not a log" 1 "notlog.csv: not a fewmulctl train log" train "${small[@]}" --log "$tmp/notlog.csv"

# plot: the logs of train --log as PNG or SVG.
t "plot draws PNG and names the runs" 0 "^  l.csv: epochs 1\.\.2, last train [0-9.]+% test [0-9.]+%$" plot "$tmp/l.csv" "$tmp/v.csv" -o "$tmp/p.png"
ok_if "plot writes a PNG (signature, nonzero size)" png_sig "$tmp/p.png"
ok_if "plot's PNG is 800x500 by default" [ "$(png_size "$tmp/p.png")" = "800x500" ]
t "plot shows the validation error when the log has it" 0 "^  v.csv: epochs 1\.\.2, last train [0-9.]+% val [0-9.]+% test" plot "$tmp/l.csv" "$tmp/v.csv" -o "$tmp/p.png"
t "plot --size and --title" 0 "p2.png: 640x400 png, 1 run$" plot "$tmp/v.csv" --output "$tmp/p2.png" --size 640x400 --title "ternary, 2 epochs"
ok_if "plot --size sets the PNG size" [ "$(png_size "$tmp/p2.png")" = "640x400" ]
t "plot writes SVG" 0 "p.svg: 800x500 svg, 2 runs$" plot "$tmp/l.csv" "$tmp/v.csv" -o "$tmp/p.svg"
ok_if "plot's SVG is an SVG document" grep -q "<svg" "$tmp/p.svg"
# the SVG's <title> and <desc> carry the chart's text (cairo draws glyphs)
t "plot --label names the runs" 0 "^  ternary: epochs 1\.\.2" plot "$tmp/l.csv" "$tmp/v.csv" --label ternary --label "full & co" -o "$tmp/lab.svg"
ok_if "plot --label appears in the SVG legend" grep -q "^ternary train$" "$tmp/lab.svg"
ok_if "plot --label is escaped in the SVG" grep -q "^full &amp; co test" "$tmp/lab.svg"
mkdir -p "$tmp/ra" "$tmp/rb"
cp "$tmp/l.csv" "$tmp/ra/log.csv"
cp "$tmp/v.csv" "$tmp/rb/log.csv"
t "plot tells two logs of the same name apart" 0 "^  rb/log.csv: epochs" plot "$tmp/ra/log.csv" "$tmp/rb/log.csv" -o "$tmp/dup.svg"
ok_if "plot's legend has the distinct names" grep -q "^ra/log.csv train$" "$tmp/dup.svg"
t "plot --label for one file, the default for the next" 0 "^  log.csv: epochs" plot "$tmp/ra/log.csv" "$tmp/rb/log.csv" --label a -o "$tmp/dup.svg"
t "plot --label more often than files" 1 "^fewmulctl: plot: 2 --label for 1 file; give at most one per file, in order$" plot "$tmp/l.csv" --label a --label b -o "$tmp/x.png"
ok_if "plot draws the training loss panel" grep -q "^Training loss$" "$tmp/p.svg"
ok_if "plot's title names the loss" grep -q "<title>Error rate and training loss per epoch</title>" "$tmp/p.svg"
t "plot --json has the last training loss" 0 '"test_error":[0-9.e-]+,"train_loss":[0-9.e-]+\}' plot "$tmp/l.csv" -o "$tmp/p.png" --json
printf 'epoch,train_error,test_error\n1,0.5,0.5\n' >"$tmp/noloss.csv"
t "plot of a log without train_loss" 0 "noloss.csv: epochs 1\.\.1" plot "$tmp/noloss.csv" -o "$tmp/nl.svg"
ok_if "plot without train_loss draws no loss panel" bash -c '! grep -q "Training loss" "$1"' _ "$tmp/nl.svg"
printf 'epoch,train_loss,train_error,test_error\n1,x,0.5,0.5\n' >"$tmp/badloss.csv"
t "plot names a bad train_loss" 1 "^fewmulctl: .*badloss.csv:2: train_loss 'x' is not a loss \(a number >= 0\)$" plot "$tmp/badloss.csv" -o "$tmp/x.png"
t "plot --json" 0 '^\{"output":"[^"]+p.png","format":"png","width":800,"height":500,"runs":\[\{"file":"[^"]+l.csv","name":"l.csv","points":2,"first_epoch":1,"last_epoch":2,"train_error":[0-9.e-]+,"test_error":[0-9.e-]+,"train_loss":[0-9.e-]+\},\{.*"val_error"' \
	plot "$tmp/l.csv" "$tmp/v.csv" -o "$tmp/p.png" --json
{ cat "$tmp/l.csv"; tail -n +2 "$tmp/l.csv"; } >"$tmp/two.csv"
t "plot splits a log where a new run starts" 0 "^  two.csv #2: epochs 1\.\.2" plot "$tmp/two.csv" -o "$tmp/p.png"
t "plot of a missing file" 1 "^fewmulctl: /nonexistent.csv: No such file or directory$" plot /nonexistent.csv -o "$tmp/x.png"
head -1 "$tmp/v.csv" >"$tmp/hdr.csv"
t "plot of a log without data rows" 1 "hdr.csv: no data rows" plot "$tmp/hdr.csv" -o "$tmp/x.png"
: >"$tmp/empty.csv"
t "plot of an empty file" 1 "empty.csv: empty file" plot "$tmp/empty.csv" -o "$tmp/x.png"

# plot --xy: a table of series against its first column (make paper's
# exponent-range figure).
printf 'exponents,test_error,val_error\n1,0.30,0.31\n2,0.20,\n8,0.15,0.16\n' >"$tmp/xy.csv"
t "plot --xy draws a table's series against its first column" 0 "xy.png: 640x400 png, 2 series of 3 points against exponents$" \
	plot --xy "$tmp/xy.csv" -o "$tmp/xy.png" --size 640x400
ok_if "plot --xy writes a 640x400 PNG" [ "$(png_size "$tmp/xy.png")" = "640x400" ]
t "plot --xy writes SVG" 0 "xy.svg: 800x500 svg" plot --xy "$tmp/xy.csv" -o "$tmp/xy.svg"
ok_if "plot --xy: the series in the SVG's legend text, the x column its default title" \
	bash -c 'grep -q "^<desc>test_error$" "$1" && grep -q "^val_error</desc>$" "$1" && grep -q "^<title>exponents</title>$" "$1"' _ "$tmp/xy.svg"
t "plot --xy --json" 0 '^\{"output":"[^"]+xy.png","format":"png","width":800,"height":500,"x":"exponents","series":\["test_error","val_error"\],"points":3\}$' \
	plot --xy "$tmp/xy.csv" -o "$tmp/xy.png" --json
printf 'exponents,test_error\n1,1.5\n' >"$tmp/xybad.csv"
t "plot --xy names an error rate out of 0..1" 1 "^fewmulctl: .*xybad.csv:2: test_error '1.5' is not an error rate 0..1$" plot --xy "$tmp/xybad.csv" -o "$tmp/x.png"
printf 'exponents\n1\n' >"$tmp/xyone.csv"
t "plot --xy wants a series" 1 "xyone.csv:1: want a header of x and one or more series" plot --xy "$tmp/xyone.csv" -o "$tmp/x.png"
t "plot --xy of two tables" 1 "^fewmulctl: plot --xy: give one CSV table" plot --xy "$tmp/xy.csv" "$tmp/xy.csv" -o "$tmp/x.png"
{ head -2 "$tmp/l.csv"; echo "2,5,1.0,0.5,abc,1,1,1,1,1,,1,0"; } >"$tmp/badval.csv"
t "plot names file and line of a bad value" 1 "^fewmulctl: .*badval.csv:3: test_error 'abc' is not an error rate 0\.\.1$" plot "$tmp/badval.csv" -o "$tmp/x.png"
{ head -2 "$tmp/l.csv"; echo "2,5,1.0,0.5"; } >"$tmp/badcols.csv"
t "plot names file and line of a short row" 1 "^fewmulctl: .*badcols.csv:3: 4 fields, the header has 13$" plot "$tmp/badcols.csv" -o "$tmp/x.png"
printf 'a,b\n1,2\n' >"$tmp/other.csv"
t "plot of a CSV that is not a training log" 1 "other.csv:1: no epoch column" plot "$tmp/other.csv" -o "$tmp/x.png"
t "plot to an unknown format" 1 "^fewmulctl: -o .*x.jpg: unknown image format; want a name ending in .png or .svg$" plot "$tmp/l.csv" -o "$tmp/x.jpg"
t "plot needs -o" 1 "^fewmulctl: plot: -o FILE.png\|FILE.svg is required$" plot "$tmp/l.csv"
t "plot needs a CSV file" 1 "^fewmulctl: plot: give one or more CSV files" plot -o "$tmp/x.png"
t "plot --size wants WxH" 1 "^fewmulctl: --size 10x10: want WIDTHxHEIGHT" plot "$tmp/l.csv" -o "$tmp/x.png" --size 10x10
t "plot into a missing directory" 1 "^fewmulctl: -o /nonexistent/x.png: cannot create a temporary file beside it: No such file or directory$" plot "$tmp/l.csv" -o /nonexistent/x.png
ok_if "a failed plot leaves no file" [ ! -e "$tmp/x.png" ]

# hist --plot: the hidden layers' histograms as bar charts.
t "hist --plot draws PNG" 0 "^layer 1: adds" hist --model "$tmp/m" --limit 200 --plot "$tmp/h.png"
ok_if "hist --plot writes a PNG" png_sig "$tmp/h.png"
t "hist --plot says what it wrote" 0 "^$tmp/h.png: 800x500 png, 1 panel \(one per hidden layer\)$" hist --model "$tmp/m" --limit 200 --plot "$tmp/h.png"
t "hist --plot SVG with --json" 0 '^\{"model".*"plot": ?"[^"]*/h.svg"\}$' hist --model "$tmp/m" --limit 200 --plot "$tmp/h.svg" --size 600x400 --title "t" --json
ok_if "hist --plot writes an SVG" grep -q "<svg" "$tmp/h.svg"
t "hist --plot checks the format first" 1 "^fewmulctl: --plot .*h.gif: unknown image format" hist --model "$tmp/m" --plot "$tmp/h.gif"
t "hist --plot of a layer without histogram" 1 "^fewmulctl: --plot .*: --layer selects a layer without a histogram" hist --model "$tmp/m" --limit 50 --layer 2 --plot "$tmp/h.png"
t "hist --size needs --plot" 1 "^fewmulctl: hist: --size and --title only apply to --plot$" hist --model "$tmp/m" --size 800x600
"$FEWMULCTL" train --backend cpu --arch 784-10 --epochs 1 --train-limit 200 --test-limit 100 --save "$tmp/m1" >/dev/null 2>&1
t "hist --plot of a model without hidden layers" 1 "the model has no hidden layer, so no histogram" hist --model "$tmp/m1" --limit 50 --plot "$tmp/h.png"

t "count prints the paper's numbers" 0 "1747974000" count --arch 784-1024-1024-1024-10 --batch 200
t "count prints the paper's with-BN row" 0 "with standard BN +1.7535e\+09 +7.4245e\+06 +0.004234" count
t "count --bn --json gives the with-BN row" 0 '"bn":true,"full_precision":1753549338,"binary_ternary_qb":7424538' count --bn --json
t "count --json gives the ratio" 0 '"ratio":0.001057' count --json
t "count gives BN's divisions per minibatch" 0 '^divisions per training minibatch .*: at most 12328 \(4 per unit, 3082 units\)$' count
t "count --bn --json gives the divisions" 0 '"divs_max":12328\}$' count --bn --json --arch 784-1024-1024-1024-10
t "count --arch changes the divisions" 0 '"divs_max":296\}$' count --bn --json --arch 16-64-10
# --- saving never destroys files (issue 13, item 1) -------------------------
fast=(--backend cpu --arch 784-16-10 --epochs 1 --train-limit 400 --test-limit 100 --threads 1)
mkfifo "$tmp/fifo"
t "--save refuses a FIFO" 1 "^fewmulctl: --save .*fifo: a FIFO, not a regular file; refusing to replace it$" train "${fast[@]}" --save "$tmp/fifo"
ok_if "--save leaves the FIFO a FIFO" [ -p "$tmp/fifo" ]
if mknod "$tmp/nul" c 1 3 2>/dev/null; then
	t "--save refuses a character device" 1 "^fewmulctl: --save .*nul: a character device, not a regular file; refusing to replace it$" train "${fast[@]}" --save "$tmp/nul"
	ok_if "--save leaves the character device a device" [ -c "$tmp/nul" ]
	ln -s nul "$tmp/nul-link"
	t "--save refuses a link to a device, naming both" 1 "nul-link: links to .*nul, a character device; refusing to replace it$" train "${fast[@]}" --save "$tmp/nul-link"
fi
mkdir "$tmp/adir"
t "--save refuses a directory" 1 "^fewmulctl: --save .*adir: a directory, not a regular file" train "${fast[@]}" --save "$tmp/adir"
ln -s real.model "$tmp/link.model"
"$FEWMULCTL" train "${fast[@]}" --save "$tmp/link.model" >/dev/null 2>&1
ok_if "--save through a dangling symlink creates the file it names" [ -L "$tmp/link.model" ] && [ -s "$tmp/real.model" ]
"$FEWMULCTL" train "${fast[@]}" --save "$tmp/link.model" >/dev/null 2>&1
ok_if "--save over a symlink replaces its target and keeps the link" [ -L "$tmp/link.model" ] && [ "$(readlink "$tmp/link.model")" = real.model ]
chmod 640 "$tmp/real.model"
"$FEWMULCTL" train "${fast[@]}" --save "$tmp/real.model" >/dev/null 2>&1
ok_if "--save keeps an existing file's mode (0640)" [ "$(stat -c %a "$tmp/real.model")" = 640 ]
(umask 022; "$FEWMULCTL" train "${fast[@]}" --save "$tmp/new.model" >/dev/null 2>&1)
ok_if "--save creates a new file with 0666 & ~umask (0644)" [ "$(stat -c %a "$tmp/new.model")" = 644 ]
ok_if "--save leaves no temporary file" [ -z "$(ls "$tmp" | grep '\.tmp')" ]
t "--save into a missing directory fails before training" 1 "^fewmulctl: --save /nonexistent/m: cannot create a temporary file beside it: No such file or directory$" train "${fast[@]}" --save /nonexistent/m
t_not "--save into a missing directory trains nothing" 1 "^(backend|epoch)" train "${fast[@]}" --save /nonexistent/m
t "--log /dev/full fails before training, naming the option" 1 "^fewmulctl: --log /dev/full: not a regular file \(a device, FIFO or socket\); want a file to append to$" train "${fast[@]}" --log /dev/full
t_not "--log /dev/full trains nothing" 1 "^(backend|epoch)" train "${fast[@]}" --log /dev/full
t "--log into a missing directory fails before training" 1 "^fewmulctl: --log /nonexistent/l.csv: cannot create it in /nonexistent/: No such file or directory$" train "${fast[@]}" --log /nonexistent/l.csv
mkfifo "$tmp/pipe.png"
t "plot -o refuses a FIFO" 1 "^fewmulctl: -o .*pipe.png: a FIFO, not a regular file; refusing to replace it$" plot "$tmp/l.csv" -o "$tmp/pipe.png"
ok_if "plot -o leaves the FIFO a FIFO" [ -p "$tmp/pipe.png" ]
ln -s pipe.png "$tmp/link.png"
t "plot -o refuses a link to a FIFO, naming both" 1 "^fewmulctl: -o .*link.png: links to .*pipe.png, a FIFO; refusing to replace it$" plot "$tmp/l.csv" -o "$tmp/link.png"

# --- write errors are errors (item 2) ----------------------------------------
wfull() {	# wfull <name> <args...>: stdout to /dev/full must fail with exit 1
	local name=$1 out rc
	shift
	out=$("$FEWMULCTL" "$@" 2>&1 >/dev/full)
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq 1 ] && grep -q "^fewmulctl: standard output: No space left on device$" <<<"$out"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "#   rc=$rc, output:"
		sed 's/^/#     /' <<<"$out"
		fail=$((fail + 1))
	fi
}
wfull "train >/dev/full exits 1" train "${fast[@]}"
wfull "train --json >/dev/full exits 1" train "${fast[@]}" --json
wfull "eval >/dev/full exits 1" eval --model "$tmp/m" --backend cpu --test-limit 50 --calib 100
wfull "count >/dev/full exits 1" count
wfull "count --json >/dev/full exits 1" count --json
wfull "plot >/dev/full exits 1" plot "$tmp/l.csv" -o "$tmp/full.png"
wfull "--help >/dev/full exits 1" --help

# --- the user's work is protected (item 3) -----------------------------------
# the signal tests' run: 60000 samples per epoch, so that the first
# progress line (after 1 s) comes early in epoch 1 and a signal sent then
# lands mid-run however fast or busy the machine is
slow=(--backend cpu --arch 784-64-10 --epochs 3 --train-limit 60000 --test-limit 100 --threads 1 --progress 1)
# wait_line <file> <regex>: until a line matches (10 s at most)
wait_line() {
	local i
	for i in $(seq 100); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
"$FEWMULCTL" train "${slow[@]}" --save "$tmp/sig.model" >"$tmp/sig.out" 2>"$tmp/sig.err" &
pid=$!
wait_line "$tmp/sig.err" "^epoch [0-9]+/3: "
kill -TERM $pid
wait $pid
rc=$?
ok_if "SIGTERM: exit status 143 ($rc)" [ "$rc" -eq 143 ]
ok_if "SIGTERM: acknowledged at once" grep -q "^fewmulctl: stopping after this minibatch and saving the model" "$tmp/sig.err"
ok_if "SIGTERM: the model is saved" grep -Eq "^fewmulctl: stopped (in|after) epoch [0-9]+.*; model saved to .*sig.model \(continue with --resume\)$" "$tmp/sig.err"
out=$("$FEWMULCTL" train --backend cpu --threads 2 --progress 0 --resume "$tmp/sig.model" 2>&1)
ok_if "--resume without --save saves back to the file and says so" grep -Eq "^resuming .*sig.model at epoch .*; saving to .*sig.model \(give --save FILE to keep it\)$" <<<"$out"
cs=$(sed -n 's/^weights checksum //p' <<<"$out")
cs0=$("$FEWMULCTL" train "${slow[@]}" --threads 2 2>/dev/null | sed -n 's/^weights checksum //p')
ok_if "a run stopped by SIGTERM and resumed is bit-exact ($cs)" [ -n "$cs" ] && [ "$cs" = "$cs0" ]
t "--resume saved back at the end of the schedule" 0 "all 3 epochs of its schedule are done" train --backend cpu --resume "$tmp/sig.model"
"$FEWMULCTL" train "${slow[@]}" --save "$tmp/int.model" >/dev/null 2>"$tmp/int.err" &
pid=$!
wait_line "$tmp/int.err" "^epoch [0-9]+/3: "
kill -INT $pid
wait $pid
rc=$?
ok_if "SIGINT: exit status 130 ($rc) and the model is saved" [ "$rc" -eq 130 ] && [ -s "$tmp/int.model" ]
"$FEWMULCTL" train "${slow[@]}" --save "$tmp/int2.model" >/dev/null 2>"$tmp/int2.err" &
pid=$!
wait_line "$tmp/int2.err" "^epoch [0-9]+/3: "
kill -INT $pid
wait_line "$tmp/int2.err" "^fewmulctl: stopping after this minibatch"
kill -INT $pid
wait $pid
rc=$?
ok_if "a second SIGINT stops at once with 130, without saving ($rc)" [ "$rc" -eq 130 ] && [ ! -e "$tmp/int2.model" ] && grep -q "stopping now, without saving" "$tmp/int2.err"
t "--resume refuses a different --epochs" 1 "^fewmulctl: --epochs: --resume .*m continues that model's run, which has --epochs 2; leave --epochs out" train --backend cpu --resume "$tmp/m" --epochs 5
t "--resume refuses a different --train-limit" 1 "^fewmulctl: --train-limit: --resume .*m continues that model's run, which has --train-limit 600" train --backend cpu --resume "$tmp/m" --train-limit 500
t "--resume accepts the same options again" 0 "all 2 epochs of its schedule are done" train "${small[@]}" --resume "$tmp/m"

# --- clear, early errors (item 5) --------------------------------------------
t "--arch with fewer classes than labels is refused up front" 1 "^fewmulctl: --arch 784-64-5: 5 output classes, but the data has labels 0\.\.9; the last width must be at least 10$" train --backend cpu --arch 784-64-5
t_not "--arch with too few classes prints no header" 1 "^backend" train --backend cpu --arch 784-64-5
t "--arch with one class is refused" 1 "^fewmulctl: --arch 784-64-1: 1 output class; a classifier needs at least 2" train --backend cpu --arch 784-64-1
t "--lr below 2^-24 says the real range" 1 "^fewmulctl: --lr 1e-30: want START\[:END\], each a rate from 2\^-24 \(about 6e-08\) to 1" train --lr 1e-30
t "--model on a directory says so" 1 "^fewmulctl: .*adir: a directory, not a model file$" eval --backend cpu --model "$tmp/adir"
t "--resume on a directory says so" 1 "^fewmulctl: --resume .*adir: a directory, not a model file$" train --backend cpu --resume "$tmp/adir"
t "--exp-range rejects trailing junk" 1 "^fewmulctl: --exp-range -4:3x: want EMIN:EMAX" train --exp-range -4:3x

# --- self-contained inference (item 4) -----------------------------------------
t "eval uses the model's stored BN statistics by default" 0 '"bn_stats":"stored","calib":600,' eval --model "$tmp/m" --backend cpu --test-limit 50 --json
t "eval's confusion matrix has column indices" 0 "^ {17} +0 +1 +2 +3 +4 +5 +6 +7 +8 +9$" eval --model "$tmp/m" --backend cpu --test-limit 50
t "predict needs no training set with stored statistics" 0 '"source":"pgm",.*"bn_stats":"stored","calib":600,' predict --model "$tmp/m" --backend cpu --image "$tmp/s0.pgm" --data "$tmp/empty-data" --json
t "predict --calib 0 uses the stored statistics" 0 '"bn_stats":"stored"' predict --model "$tmp/m" --backend cpu --image "$tmp/s0.pgm" --calib 0 --json
t "predict --calib all re-estimates on every training sample" 0 '"bn_stats":"re-estimated","calib":60000,' predict --model "$tmp/m" --backend cpu --image "$tmp/s0.pgm" --calib all --json
t "--calib 0 on a model saved mid-epoch says it has no statistics" 1 "^fewmulctl: --calib 0: .*int.model has no stored batch-norm statistics for its weights" eval --model "$tmp/int.model" --backend cpu --test-limit 50 --calib 0
t "a model saved mid-epoch is re-estimated by default, with a note" 0 "^fewmulctl: note: .*int.model has no stored batch-norm statistics .* re-estimating them on 10000 training samples" eval --model "$tmp/int.model" --backend cpu --test-limit 50
t "--calib wants a count, all or 0" 1 "^fewmulctl: --calib x: want a number of training samples, 'all', or 0" eval --model "$tmp/m" --calib x

# --- polish (item 7) -----------------------------------------------------------
t "help CMD prints that command's help" 0 "^Usage: fewmulctl train " help train
t "help of an unknown command" 1 "^fewmulctl: unknown command 'trian'; did you mean 'train'\?" help trian
t "-V prints the version" 0 "^fewmulctl [0-9]+\.[0-9]+\.[0-9]+$" -V
t "version prints the version" 0 "^fewmulctl [0-9]+\.[0-9]+\.[0-9]+$" version
t "a typo gets a did-you-mean" 1 "^fewmulctl: unknown command 'evl'; did you mean 'eval'\?" evl
t "lr 1 prints as 1, not 2^-0" 0 "^backend .*lr 1\.\.2\^-1," train "${fast[@]}" --lr 1:0.5
t_not "one epoch is not '1 epochs'" 0 "1 epochs" train "${fast[@]}" --save "$tmp/one.model"

rm -rf "$tmp"

echo "1..$n"
[ "$fail" -eq 0 ]
