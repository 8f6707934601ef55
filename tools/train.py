#!/usr/bin/env python3
"""Train the example Fashion-MNIST models and export them to quant's model format.

    /usr/bin/python3 tools/train.py --variant float   --out models/fmnist_float.safetensors
    /usr/bin/python3 tools/train.py --variant ternary --out models/fmnist_ternary.safetensors
    /usr/bin/python3 tools/train.py --variant binary  --out models/fmnist_binary.safetensors

Needs Debian's python3-torch (CPU) and dataset-fashion-mnist. Fixed seed, one
progress line per epoch. The network: conv3x3(1->32)+BN+ReLU+maxpool2,
conv3x3(32->64)+BN+ReLU+maxpool2, dense(3136->128)+ReLU, dense(128->10).
Export folds batch norm into the convolutions, stores weights in the runner's
layouts (NHWC activations: conv weights [out][kh][kw][in], dense weights
[out][in] with inputs in (h, w, c) order), and writes the graph as JSON in the
safetensors __metadata__ (format described in README.md).

Variants (trained with the straight-through estimator):
  float    plain fp32 training.
  ternary  conv2 and fc1 weights ternary (TWN: delta = 0.7 mean|w|, per output
           channel scale), conv1 and fc2 kept full precision (8-bit at run time).
  binary   XNOR: conv2 and fc1 binary weights (sign, per-channel mean|w|) and
           binary activations (sign of the batch-normed previous layer); conv1 and
           fc2 full precision (8-bit at run time).
"""
import argparse
import gzip
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    x = read_idx(f"{DATA}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(f"{DATA}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


class SignSTE(torch.autograd.Function):
    """sign with 0 -> +1; gradient passed where |x| <= 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)


def binarize_w(w):
    """BWN: sign(w) * mean|w| per output channel, STE through the sign."""
    dims = tuple(range(1, w.dim()))
    alpha = w.abs().mean(dim=dims, keepdim=True)
    return SignSTE.apply(w) * alpha


class TernarySTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w):
        dims = tuple(range(1, w.dim()))
        delta = 0.7 * w.abs().mean(dim=dims, keepdim=True)
        mask = (w.abs() > delta).to(w.dtype)
        alpha = (w.abs() * mask).sum(dim=dims, keepdim=True) / mask.sum(dim=dims, keepdim=True).clamp(min=1)
        return torch.sign(w) * mask * alpha

    @staticmethod
    def backward(ctx, g):
        return g


class Net(nn.Module):
    def __init__(self, variant):
        super().__init__()
        self.variant = variant
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=variant != "binary")
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(3136, 128, bias=variant != "binary")
        self.bn3 = nn.BatchNorm1d(128) if variant == "binary" else None
        self.fc2 = nn.Linear(128, 10)
        self.register_buffer("thr", torch.zeros(()))  # binary: the first sign's threshold (running)

    def qw(self, w):
        if self.variant == "ternary":
            return TernarySTE.apply(w)
        if self.variant == "binary":
            return binarize_w(w)
        return w

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        if self.variant == "binary":
            # XNOR block: binary input (sign), binary weights, BN, pool
            if self.training:  # centre before the sign: a running threshold, fixed at export
                with torch.no_grad():
                    self.thr.mul_(0.9).add_(0.1 * 0.5 * x.mean())
            x = SignSTE.apply(x - self.thr)
            x = F.conv2d(x, self.qw(self.conv2.weight), None, padding=1)
            x = F.max_pool2d(self.bn2(x), 2)
            x = SignSTE.apply(x)
            x = torch.flatten(x.permute(0, 2, 3, 1), 1)
            x = F.linear(x, self.qw(self.fc1.weight))
            x = F.relu(self.bn3(x))
        else:
            x = F.conv2d(x, self.qw(self.conv2.weight), self.conv2.bias, padding=1)
            x = F.max_pool2d(F.relu(self.bn2(x)), 2)
            x = torch.flatten(x.permute(0, 2, 3, 1), 1)  # NHWC flatten, as the runner
            x = F.relu(F.linear(x, self.qw(self.fc1.weight), self.fc1.bias))
        return self.fc2(x)


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


def fold_bn(w, b, bn):
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = w * s.reshape(-1, *([1] * (w.dim() - 1)))
    b = (b if b is not None else torch.zeros_like(bn.running_mean)) * s + bn.bias - bn.running_mean * s
    return w, b


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8",
              np.dtype(np.int32): "I32"}[arr.dtype]
        raw = arr.tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = metadata
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def export(model, path, acc):
    v = model.variant
    t, nodes = {}, []
    with torch.no_grad():
        w1, b1 = fold_bn(model.conv1.weight, model.conv1.bias, model.bn1)
        t["conv1.weight"] = w1.permute(0, 2, 3, 1).numpy()
        t["conv1.bias"] = b1.numpy()
        nodes += [{"op": "conv2d", "in": ["x"], "out": "c1", "weight": "conv1.weight", "bias": "conv1.bias",
                   "kernel": [3, 3], "stride": [1, 1], "pad": [1, 1, 1, 1]},
                  {"op": "relu", "in": ["c1"], "out": "r1"},
                  {"op": "maxpool", "in": ["r1"], "out": "p1", "kernel": [2, 2], "stride": [2, 2]}]
        w2 = model.qw(model.conv2.weight)
        if v == "binary":
            # sign input centred by the training-time offset is replaced at run time by a
            # per-tensor threshold on p1 (recorded below); BN after the conv stays a scale + bias
            s = model.bn2.weight / torch.sqrt(model.bn2.running_var + model.bn2.eps)
            t["conv2.weight"] = w2.permute(0, 2, 3, 1).numpy()
            t["conv2.bn_scale"] = s.numpy()
            t["conv2.bn_bias"] = (model.bn2.bias - model.bn2.running_mean * s).numpy()
        else:
            w2f, b2 = fold_bn(w2, model.conv2.bias, model.bn2)
            t["conv2.weight"] = w2f.permute(0, 2, 3, 1).numpy()
            t["conv2.bias"] = b2.numpy()
        wf1 = model.qw(model.fc1.weight)
        t["fc1.weight"] = wf1.numpy()
        if v == "binary":
            s = model.bn3.weight / torch.sqrt(model.bn3.running_var + model.bn3.eps)
            t["fc1.bn_scale"] = s.numpy()
            t["fc1.bn_bias"] = (model.bn3.bias - model.bn3.running_mean * s).numpy()
        else:
            t["fc1.bias"] = model.fc1.bias.numpy()
        t["fc2.weight"] = model.fc2.weight.numpy()
        t["fc2.bias"] = model.fc2.bias.numpy()
    if v == "binary":
        nodes += [{"op": "sign", "in": ["p1"], "out": "s1", "threshold": "sign1.threshold"},
                  {"op": "conv2d", "in": ["s1"], "out": "c2", "weight": "conv2.weight", "kernel": [3, 3],
                   "stride": [1, 1], "pad": [1, 1, 1, 1], "weights": "binary", "padding_value": 0,
                   "scale": "conv2.bn_scale", "bias": "conv2.bn_bias"},
                  {"op": "maxpool", "in": ["c2"], "out": "p2", "kernel": [2, 2], "stride": [2, 2]},
                  {"op": "sign", "in": ["p2"], "out": "s2"},
                  {"op": "flatten", "in": ["s2"], "out": "f"},
                  {"op": "dense", "in": ["f"], "out": "d1", "weight": "fc1.weight", "weights": "binary",
                   "scale": "fc1.bn_scale", "bias": "fc1.bn_bias"},
                  {"op": "relu", "in": ["d1"], "out": "r3"}]
    else:
        wt = {"weights": "ternary"} if v == "ternary" else {}
        nodes += [dict({"op": "conv2d", "in": ["p1"], "out": "c2", "weight": "conv2.weight", "bias": "conv2.bias",
                        "kernel": [3, 3], "stride": [1, 1], "pad": [1, 1, 1, 1]}, **wt),
                  {"op": "relu", "in": ["c2"], "out": "r2"},
                  {"op": "maxpool", "in": ["r2"], "out": "p2", "kernel": [2, 2], "stride": [2, 2]},
                  {"op": "flatten", "in": ["p2"], "out": "f"},
                  dict({"op": "dense", "in": ["f"], "out": "d1", "weight": "fc1.weight", "bias": "fc1.bias"}, **wt),
                  {"op": "relu", "in": ["d1"], "out": "r3"}]
    nodes += [{"op": "dense", "in": ["r3"], "out": "logits", "weight": "fc2.weight", "bias": "fc2.bias"},
              {"op": "softmax", "in": ["logits"], "out": "prob"}]
    if v == "binary":
        t["sign1.threshold"] = np.array([model.sign1_threshold], dtype=np.float32)
    graph = {"inputs": [{"name": "x", "shape": [28, 28, 1]}], "nodes": nodes, "output": "prob"}
    meta = {"format": "quant-model-1", "graph": json.dumps(graph, separators=(",", ":")),
            "variant": v, "trained_accuracy": f"{acc:.4f}", "dataset": "fashion-mnist"}
    write_safetensors(path, t, meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=["float", "ternary", "binary"], default="float")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.manual_seed(1234)
    np.random.seed(1234)
    torch.set_num_threads(a.threads)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    model = Net(a.variant)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3 if a.variant == "float" else 2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
    g = torch.Generator().manual_seed(1234)
    for ep in range(a.epochs):
        model.train()
        t0, tot, n = time.time(), 0.0, 0
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
            n += len(idx)
        sched.step()
        acc = evaluate(model, xte, yte)
        print(f"epoch {ep + 1}/{a.epochs}  loss {tot / n:.4f}  test accuracy {acc * 100:.2f}%  ({time.time() - t0:.0f} s)",
              flush=True)
    model.sign1_threshold = float(model.thr)
    export(model, a.out, acc)
    print(f"wrote {a.out} ({a.variant}, test accuracy {acc * 100:.2f}%)")


if __name__ == "__main__":
    sys.exit(main())
