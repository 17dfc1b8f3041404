#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Classify IDX images with a model from `fewmulctl export` (.npz), numpy only.

    fewmulctl export --model M.model -o M.npz
    python3 export_infer.py M.npz t10k-images-idx3-ubyte.gz [--labels L] [--first N] [--scores]

prints "INDEX CLASS" per image (with --scores the output layer's integer
scores too, Q12: 4096 is 1.0) and, with --labels, the error rate. The
arithmetic is the engine's evaluation (fewmulctl eval and predict) in
int64, so the classes and scores are the same bit for bit:

    x = pixels << 4                                   (Q12)
    per layer: y = x @ w                              (full: round(y / 2^24), clamped)
               z = round((y - mean) * mult / 2^shift) + beta
                   (half up; shift < 0: left shift; mult 1 but with bn shift2)
               z = clip(z, -x_max, x_max); x = max(z, 0) except after the last layer
    class = first argmax of the last layer's z
"""
import argparse
import gzip
import json
import sys

import numpy as np


def load(path):
    """The config dict and a list of (w, beta, mean, shift, mult) int64 arrays."""
    z = np.load(path)
    cfg = json.loads(z["config.json"])
    if cfg.get("format") != "fewmul-export" or cfg.get("version") not in (1, 2):
        raise ValueError(f"{path}: not a fewmul export of layout version 1 or 2")
    # version 1 had no multL: its scales are powers of two (mult 1)
    layers = [tuple(z[f"{k}{l}"].astype(np.int64) if f"{k}{l}" in z else
                    np.ones_like(z[f"shift{l}"], dtype=np.int64)
                    for k in ("w", "beta", "mean", "shift", "mult"))
              for l in range(1, cfg["layers"] + 1)]
    return cfg, layers


def scale(v, sh):
    """round(v / 2^sh) per column, half up; a (wrapping) left shift for sh <= 0."""
    left = np.where(sh < 0, -sh, 0).astype(np.uint64)
    right = np.where(sh > 0, np.minimum(sh, 63), 0)
    up = (v.astype(np.uint64) << left).astype(np.int64)
    half = np.where(right > 0, np.left_shift(1, np.maximum(right - 1, 0)), 0)
    return np.where(sh > 62, 0, (up + half) >> right)


def scores(cfg, layers, pixels):
    """Output-layer scores (int64, [N, classes]) of uint8 images [N, inputs]."""
    fp = cfg["fixed_point"]
    x = pixels.astype(np.int64) << fp["input_shift"]
    for l, (w, beta, mean, shift, mult) in enumerate(layers, 1):
        y = x @ w
        if cfg["weights"] == "full":
            y = np.clip(scale(y, np.int64(fp["fw"])), -fp["y_max"], fp["y_max"])
        z = np.clip(scale((y - mean) * mult, shift) + beta, -fp["x_max"], fp["x_max"])
        x = z if l == len(layers) else np.maximum(z, 0)
    return x


def read_idx(path, magic):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    head = np.frombuffer(data, ">u4", 1 + (magic & 0xff))
    if head[0] != magic:
        raise ValueError(f"{path}: bad magic {head[0]:#010x}")
    return np.frombuffer(data, np.uint8, offset=4 * len(head)).reshape(head[1], -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="MODEL.npz from fewmulctl export")
    ap.add_argument("images", help="IDX image file (plain or .gz)")
    ap.add_argument("--labels", help="IDX label file: also print the error rate")
    ap.add_argument("--first", type=int, default=0, help="classify the first N images only")
    ap.add_argument("--scores", action="store_true", help="print the integer scores too")
    a = ap.parse_args()
    cfg, layers = load(a.model)
    images = read_idx(a.images, 0x803)
    if a.first:
        images = images[:a.first]
    out = np.concatenate([scores(cfg, layers, images[i:i + 1000])
                          for i in range(0, len(images), 1000)])
    pred = out.argmax(axis=1)
    for i, p in enumerate(pred):
        print(i, p, *(out[i] if a.scores else ()))
    if a.labels:
        labels = read_idx(a.labels, 0x801)[:len(pred), 0]
        err = int((pred != labels).sum())
        print(f"errors {err} of {len(pred)} ({100 * err / len(pred):.2f}%)", file=sys.stderr)


if __name__ == "__main__":
    main()
