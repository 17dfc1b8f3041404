#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""float32 reference for `fewmulctl bench`: the same MLP, batch, loss and
optimizer in PyTorch on the CPU, timed the same way (samples/s over whole
training steps). Prints one JSON object.

usage: torch_mlp.py ARCH BATCH STEPS THREADS
"""
import json
import sys
import time

import torch

arch = [int(w) for w in sys.argv[1].split("-")]
batch, steps, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)

layers = []
for i in range(len(arch) - 1):
    layers.append(torch.nn.Linear(arch[i], arch[i + 1], bias=False))
    layers.append(torch.nn.BatchNorm1d(arch[i + 1], eps=1e-4))
    if i < len(arch) - 2:
        layers.append(torch.nn.ReLU())
net = torch.nn.Sequential(*layers)
opt = torch.optim.SGD(net.parameters(), lr=0.1)
x = torch.rand(batch, arch[0])
labels = torch.randint(0, arch[-1], (batch,))
t = -torch.ones(batch, arch[-1])
t[torch.arange(batch), labels] = 1.0


def step():
    opt.zero_grad()
    y = net(x)
    loss = torch.clamp(1.0 - t * y, min=0.0).pow(2).sum() / batch
    loss.backward()
    opt.step()


for _ in range(2):
    step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
dt = time.perf_counter() - t0
print(json.dumps({
    "samples_per_s": steps * batch / dt,
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
}))
