#!/usr/bin/env python3
"""Models made elsewhere: five PyTorch architectures of the kind users bring,
trained briefly on Fashion-MNIST and exported with tools/export.py, with the
data and PyTorch's own outputs that tests/torch_check.c compares the runner to.

    /usr/bin/python3 tests/torch_models.py OUTDIR [--no-ptq] [--extra] [--no-selftest] [--threads N]

Writes to OUTDIR:
  t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte   the 10000 test images / labels (IDX)
  calib-1000-images-idx3-ubyte (+ labels)          1000 training images not trained on
  <model>.safetensors                              the exported model
  <model>.logits.f32 / <model>.probs.f32           PyTorch's fp32 outputs on the first 2000 test
                                                   images, little-endian float32 [2000][10]
                                                   (probs: the model ends in a softmax)
  models.txt                                       one line per model: name, file, reference file,
                                                   PyTorch fp32 accuracy, PyTorch int8 accuracy (or -),
                                                   both on those 2000 images

Models: cnn (conv-BN-ReLU-maxpool x2, 2 Linear; trained on normalized inputs,
exported with mean 0.2860 / std 0.3530: the file starts with a "normalize"
node), resnet (stride-2 conv, a residual block with a depthwise conv and an
add, AvgPool2d, AdaptiveAvgPool2d), mlp (flatten, 3 Linear, ReLU, softmax),
actnet (Hardswish, SiLU, LeakyReLU, GELU, tanh, a sigmoid squeeze-excitation
gate applied with a broadcast mul, a concat of two branches, ZeroPad2d, a
grouped conv, batch norms that cannot be folded), mobile (MobileNetV3-style
inverted residual blocks: Hardswish, depthwise convs, a Hardsigmoid gate from
Linear layers, a skip add). With --extra also "extra": max / avg
pooling with padding, ceil mode and count_include_pad=False, and two conv
branches whose ReLUs both come after the two convs (a conv's ReLU not the next
node), which needs a runner that honours those attributes and that order.

Before training, an exporter self-test: small untrained models covering each
supported op and attribute are exported and run by a numpy NHWC reference of
the graph (written here, independent of the C runner), which must agree with
PyTorch; unsupported models must be refused by name. The trained models are
checked the same way on 200 images.

Training is brief (2 epochs of 12000 images; 4 for the cheap mlp): about 45
CPU seconds at 1 thread (about 70 at 2, for a little less time on an idle
2-core machine, more on a busy one). So the weights it gives at 1 thread are
committed in tests/torch_weights/ (numpy .npz, no pickle) and loaded instead:
a test run exports and checks the models without training them. --train
trains anyway; after a change to an architecture or to the training, retrain
and commit: torch_models.py OUTDIR --train --save-weights tests/torch_weights.

torch_check compares the runner's fp32 outputs to PyTorch's on the first
2000 test images, and its int8 accuracy to its fp32 accuracy on all 10000:
that check (at most 0.3 points lost) measures a difference of accuracies,
and where int8 and fp32 disagree on ~2% of the images the difference varies
by ~0.3 points from one set of 2000 images to another, ~0.14 over 10000 (the
mobile model of the earlier 3-epoch training, at 1 thread, lost 0.50 points
on the first 2000 test images and 0.01 on all 10000).

Inputs are pixel / 255 in NCHW [N, 1, 28, 28]. Deterministic for a given
number of threads (fixed seeds; torch.set_num_threads(--threads), default 1):
another thread count sums the gradients in another order and trains other
models (at 1 and 2 threads, every int8 check passes with 0.19 points to spare
or more).
"""
import argparse
import warnings
import gzip
import json
import math
import os
import struct
import sys
import time

# OpenMP threads that sleep instead of spinning while they wait: on a loaded
# 2-core machine the spinning made training 10-40x slower
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from export import ExportError, export, to_graph  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
warnings.filterwarnings("ignore", message="Lazy modules")
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")
N_TRAIN, N_TEST, N_REF, N_CALIB = 12000, 10000, 2000, 1000
FMNIST_NORM = (0.2860, 0.3530)  # Fashion-MNIST's mean and std of pixel / 255
# the weights this script trained at 1 thread (--train --threads 1
# --save-weights tests/torch_weights), committed so that a test run need not train
WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_weights")


# ------------------------------------------------------------------ data
def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    nd = magic & 0xFF
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def write_idx(path, a):
    a = np.ascontiguousarray(a, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">I", 0x0800 | a.ndim))
        f.write(struct.pack(">" + "I" * a.ndim, *a.shape))
        f.write(a.tobytes())


def to_input(u8):
    return torch.from_numpy(u8.astype(np.float32) / 255.0).unsqueeze(1)


# ------------------------------------------------------------------ models
class CNN(nn.Module):
    """conv-BN-ReLU-maxpool x2, then 2 Linear (the flatten's columns get permuted)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.pool1 = nn.MaxPool2d(2, stride=2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool2 = nn.MaxPool2d(2, stride=2)
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        x = torch.flatten(x, 1)
        return self.fc2(self.drop(F.relu(self.fc1(x))))


class ResNet(nn.Module):
    """stem, a stride-2 conv, a residual block (depthwise 3x3 + ReLU6, pointwise
    1x1, skip add), AvgPool2d, a conv, AdaptiveAvgPool2d(1), Linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.down = nn.Sequential(nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.dw = nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
        self.dw_bn = nn.BatchNorm2d(32)
        self.act = nn.ReLU6()
        self.pw = nn.Conv2d(32, 32, 1, bias=False)
        self.pw_bn = nn.BatchNorm2d(32)
        self.relu = nn.ReLU()
        self.pool = nn.AvgPool2d(2, stride=2)
        self.head = nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.down(self.stem(x))                      # 14 x 14 x 32
        y = self.pw_bn(self.pw(self.act(self.dw_bn(self.dw(x)))))
        x = self.relu(y + x)
        x = self.head(self.pool(x))                      # 7 x 7 x 64
        return self.fc(self.gap(x).view(x.size(0), -1))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                 nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


class WithSoftmax(nn.Module):
    def __init__(self, core):
        super().__init__()
        self.core = core
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.core(x))


class Extra(nn.Module):
    """max / avg pooling with padding, ceil mode and count_include_pad=False, and
    two conv branches whose ReLUs come after both convs in the graph's order."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.p1 = nn.MaxPool2d(3, stride=2, padding=1)                     # 28 -> 14
        self.ca = nn.Conv2d(16, 32, 3)                                     # 14 -> 12
        self.bna = nn.BatchNorm2d(32)
        self.cb = nn.Conv2d(16, 32, 3, dilation=1)
        self.p2 = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)  # 12 -> 7
        self.p3 = nn.MaxPool2d(2, ceil_mode=True)                          # 7 -> 4
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = self.p1(self.c1(x))
        a = self.bna(self.ca(x))
        b = self.cb(x)
        x = self.p3(self.p2(F.relu(a) + F.relu(b)))
        return self.fc(x.reshape(x.shape[0], -1))


class ActNet(nn.Module):
    """The nonlinear activations: a batch norm on the input (not foldable), conv-BN-Hardswish,
    two branches (conv + SiLU; ZeroPad2d + grouped conv + LeakyReLU) concatenated, a
    squeeze-excitation gate (conv 1x1 pair, sigmoid) applied with a mul, a stride-2 conv-BN-GELU,
    a residual add followed by a batch norm (not foldable) and tanh, global pooling, Linear."""

    def __init__(self):
        super().__init__()
        self.bn_in = nn.BatchNorm2d(1)
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
        self.pool = nn.MaxPool2d(2)                                                   # 14 x 14 x 16
        self.a = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.SiLU())
        self.b = nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(16, 16, 3, groups=4), nn.LeakyReLU(0.1))
        self.se1, self.se2 = nn.Conv2d(32, 8, 1), nn.Conv2d(8, 32, 1)
        self.down = nn.Sequential(nn.Conv2d(32, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32),
                                  nn.GELU())                                          # 7 x 7 x 32
        self.res = nn.Conv2d(32, 32, 1)
        self.bn_add = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(self.stem(self.bn_in(x)))
        x = torch.cat([self.a(x), self.b(x)], dim=1)
        x = x * torch.sigmoid(self.se2(F.relu(self.se1(x.mean((2, 3), keepdim=True)))))
        x = self.down(x)
        x = torch.tanh(self.bn_add(x + self.res(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    """MobileNetV3's block: 1x1 expand-BN-Hardswish, depthwise 3x3-BN-ReLU, squeeze-excitation
    (Linear pair, Hardsigmoid, view to [N, C, 1, 1], mul), 1x1 project-BN, skip add."""

    def __init__(self, cin, exp, cout, stride):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(cin, exp, 1, bias=False), nn.BatchNorm2d(exp), nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(exp, exp, 3, stride=stride, padding=1, groups=exp, bias=False),
                                nn.BatchNorm2d(exp), nn.ReLU(inplace=True))
        self.fc1, self.fc2 = nn.Linear(exp, exp // 4), nn.Linear(exp // 4, exp)
        self.project = nn.Sequential(nn.Conv2d(exp, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.dw(self.expand(x))
        s = F.hardsigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(y, 1).flatten(1)))))
        y = self.project(y * s.view(s.size(0), -1, 1, 1))
        return x + y if self.skip else y


class Mobile(nn.Module):
    """MobileNetV3-small style: a stride-2 conv-BN-Hardswish stem, two inverted residual blocks
    (one with a skip add, one stride 2), a 1x1 conv-BN-Hardswish head, global pooling,
    Linear-Hardswish-Dropout-Linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16),
                                  nn.Hardswish())                                     # 14 x 14 x 16
        self.b1 = InvertedResidual(16, 48, 16, 1)
        self.b2 = InvertedResidual(16, 64, 24, 2)                                     # 7 x 7 x 24
        self.head = nn.Sequential(nn.Conv2d(24, 96, 1, bias=False), nn.BatchNorm2d(96), nn.Hardswish())
        self.classifier = nn.Sequential(nn.Linear(96, 64), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(self, x):
        x = self.head(self.b2(self.b1(self.stem(x))))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ------------------------------------------------------------------ numpy NHWC reference of the graph
def read_model(path):
    with open(path, "rb") as f:
        b = f.read()
    n, = struct.unpack("<Q", b[:8])
    h = json.loads(b[8:8 + n])
    meta = h.pop("__metadata__")
    t = {}
    for k, v in h.items():
        assert v["dtype"] == "F32"
        o0, o1 = v["data_offsets"]
        t[k] = np.frombuffer(b, dtype="<f4", count=(o1 - o0) // 4, offset=8 + n + o0).reshape(v["shape"])
    return json.loads(meta["graph"]), t, meta


def pool_out(size, k, s, p0, p1, ceil):
    """PyTorch's pooling output size (pooling_output_shape)."""
    num = size + p0 + p1 - k
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= size + p0:
        o -= 1
    return o


_erf = np.frompyfunc(math.erf, 1, 1)


def np_run(graph, t, x):
    """x: [N, H, W, C] float64; returns the graph's output [N, F] (float64). Every value is held
    [N, H, W, C] (a vector as [N, 1, 1, F])."""
    v = {graph["inputs"][0]["name"]: x}
    for nd in graph["nodes"]:
        op, a = nd["op"], v[nd["in"][0]]
        if op in ("conv2d", "dwconv2d"):
            w = t[nd["weight"]].astype(np.float64)
            if "scale" in nd:
                w = w * (t[nd["scale"]].reshape(-1, 1, 1, 1) if op == "conv2d" else t[nd["scale"]])
            b = t[nd["bias"]].astype(np.float64) if "bias" in nd else 0.0
            kh, kw = nd["kernel"]
            sh, sw = nd.get("stride", [1, 1])
            pt, pl, pb, pr = nd.get("pad", [0, 0, 0, 0])
            dh, dw = nd.get("dilation", [1, 1])
            g = nd.get("groups", 1)
            n, hh, ww, c = a.shape
            ap = np.zeros((n, hh + pt + pb, ww + pl + pr, c))
            ap[:, pt:pt + hh, pl:pl + ww] = a
            oh = (hh + pt + pb - dh * (kh - 1) - 1) // sh + 1
            ow = (ww + pl + pr - dw * (kw - 1) - 1) // sw + 1
            y = np.zeros((n, oh, ow, w.shape[0] if op == "conv2d" else c)) + b
            ig, og = c // g, (w.shape[0] // g if op == "conv2d" else 0)
            for i in range(kh):
                for j in range(kw):
                    patch = ap[:, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
                    if op == "dwconv2d":
                        y += patch * w[i, j]
                        continue
                    for k in range(g):  # group k: inputs k*ig.., outputs k*og..
                        y[..., k * og:(k + 1) * og] += patch[..., k * ig:(k + 1) * ig] @ w[k * og:(k + 1) * og, i, j, :].T
        elif op == "dense":
            w = t[nd["weight"]].astype(np.float64)
            if "scale" in nd:
                w = w * t[nd["scale"]].reshape(-1, 1)
            y = a.reshape(a.shape[0], -1) @ w.T + (t[nd["bias"]] if "bias" in nd else 0.0)
        elif op == "sign":
            th = float(t[nd["threshold"]].reshape(-1)[0]) if "threshold" in nd else 0.0
            y = np.where(a - th < 0, -1.0, 1.0)
        elif op == "relu":
            y = np.maximum(a, 0)
        elif op == "relu6":
            y = np.clip(a, 0, 6)
        elif op == "relu_clip":
            y = np.minimum(np.maximum(a, 0), t[nd["max"]].astype(np.float64))
        elif op == "leaky_relu":
            y = np.where(a > 0, a, a * nd["alpha"])
        elif op == "sigmoid":
            y = 1 / (1 + np.exp(-a))
        elif op == "tanh":
            y = np.tanh(a)
        elif op == "hardswish":
            y = a * np.clip(a + 3, 0, 6) / 6
        elif op == "hardsigmoid":
            y = np.clip(a + 3, 0, 6) / 6
        elif op == "silu":
            y = a / (1 + np.exp(-a))
        elif op == "gelu":
            if nd["approximate"] == "tanh":
                y = 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))
            else:
                y = 0.5 * a * (1 + _erf(a / math.sqrt(2)).astype(np.float64))
        elif op == "normalize":
            y = (a - np.array(nd["mean"])) / np.array(nd["std"])
        elif op == "batchnorm":
            y = a * t[nd["scale"]].astype(np.float64) + t[nd["bias"]]
        elif op == "pad":
            pt, pl, pb, pr = nd["pad"]
            n, hh, ww, c = a.shape
            y = np.full((n, hh + pt + pb, ww + pl + pr, c), float(nd.get("value", 0.0)))
            y[:, pt:pt + hh, pl:pl + ww] = a
        elif op in ("maxpool", "avgpool"):
            kh, kw = nd["kernel"]
            sh, sw = nd.get("stride", nd["kernel"])
            pt, pl, pb, pr = nd.get("pad", [0, 0, 0, 0])
            ceil = nd.get("ceil_mode", False)
            n, hh, ww, c = a.shape
            oh, ow = pool_out(hh, kh, sh, pt, pb, ceil), pool_out(ww, kw, sw, pl, pr, ceil)
            y = np.zeros((n, oh, ow, c))
            for i in range(oh):
                for j in range(ow):
                    h0, w0 = i * sh - pt, j * sw - pl
                    h1, w1 = min(h0 + kh, hh + pb), min(w0 + kw, ww + pr)
                    size = (h1 - h0) * (w1 - w0)
                    h0c, w0c, h1c, w1c = max(h0, 0), max(w0, 0), min(h1, hh), min(w1, ww)
                    win = a[:, h0c:h1c, w0c:w1c]
                    if op == "maxpool":
                        y[:, i, j] = win.max(axis=(1, 2))
                    else:
                        div = size if nd.get("count_include_pad", True) else (h1c - h0c) * (w1c - w0c)
                        y[:, i, j] = win.sum(axis=(1, 2)) / div
        elif op == "gap":
            y = a.mean(axis=(1, 2), keepdims=True)
        elif op in ("add", "mul"):
            b = v[nd["in"][1]]
            assert b.shape == a.shape or b.shape == (a.shape[0], 1, 1, a.shape[3]), (op, a.shape, b.shape)
            y = a + b if op == "add" else a * b
        elif op == "concat":
            parts = [v[i] for i in nd["in"]]
            assert all(p.shape[:3] == a.shape[:3] for p in parts)
            y = np.concatenate(parts, axis=3)
        elif op == "flatten":
            y = a.reshape(a.shape[0], -1)
        elif op == "softmax":
            a = a.reshape(a.shape[0], -1)
            e = np.exp(a - a.max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
        else:
            raise ValueError(f"numpy reference: op {op}")
        v[nd["out"]] = y.reshape(y.shape[0], 1, 1, -1) if y.ndim == 2 else y
    out = v[graph["output"]]
    return out.reshape(out.shape[0], -1)


def normalized(x, norm):
    """x as the PyTorch module sees it: (x - mean[c]) / std[c] with norm = (mean, std), or x."""
    if norm is None:
        return x
    shape = (1, -1) + (1,) * (x.dim() - 2)
    return (x - torch.tensor(norm[0], dtype=x.dtype).reshape(shape)) / torch.tensor(norm[1], dtype=x.dtype).reshape(shape)


def np_check(path, model, x_nchw, norm=None):
    """max |numpy NHWC reference of the exported file - PyTorch| on x, and the argmax mismatches.
    norm: the (mean, std) the file was exported with; the module sees normalized inputs."""
    graph, t, _ = read_model(path)
    with torch.no_grad():
        ref = model.eval()(normalized(x_nchw, norm)).double().numpy()
    xn = x_nchw.double().numpy()
    got = np_run(graph, t, xn.transpose(0, 2, 3, 1) if xn.ndim == 4 else xn.reshape(len(xn), 1, 1, -1))
    return float(np.abs(got - ref).max()), int((got.argmax(1) != ref.argmax(1)).sum())


# ------------------------------------------------------------------ exporter self-test
def selftest(tmp):
    """Small untrained models through export + the numpy reference; refusals by name."""
    torch.manual_seed(1)

    class Fn(nn.Module):  # functional forms, method forms, BN1d, hardtanh, clamp, mean, 'same' padding
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 1))
            self.c2 = nn.Conv2d(8, 8, 3, padding="same", dilation=2)
            self.bn2 = nn.BatchNorm2d(8)
            self.dw = nn.Conv2d(8, 8, 5, padding=2, groups=8)
            self.c3 = nn.Conv2d(8, 6, 2, stride=2)
            self.fc1 = nn.Linear(6 * 4 * 5, 20)
            self.bn1d = nn.BatchNorm1d(20)
            self.fc2 = nn.Linear(20, 7)
            self.h6 = nn.Hardtanh(0.0, 6.0)

        def forward(self, x):
            x = torch.relu(self.c1(x))                     # 8 x 8 x 10 (from 16 x 10)
            y = self.h6(self.bn2(self.c2(x)))
            x = torch.add(x, y)
            x = x + F.relu6(self.dw(x))
            x = self.c3(x).clamp(min=0)                    # 4 x 5 x 6
            x = F.relu(self.bn1d(self.fc1(x.reshape(x.size(0), -1))))
            return F.softmax(self.fc2(x), dim=1)

    class PoolPad(nn.Module):
        def __init__(self, ceil, cip):
            super().__init__()
            self.c = nn.Conv2d(2, 4, 3, padding=1)
            self.m = nn.MaxPool2d((3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=ceil)
            self.a = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=ceil, count_include_pad=cip)
            self.fc = nn.LazyLinear(5)  # sized by the first forward

        def forward(self, x):
            x = self.a(self.m(self.c(x)))
            return self.fc(torch.flatten(x, 1))

    class Gap(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(1, 4, 3)
            self.bn = nn.BatchNorm2d(4)
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.c(x))), 2)
            x = F.avg_pool2d(x, 2, 1)
            return self.fc(x.mean(dim=(-1, -2)))

    class Gap2(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c = nn.Conv2d(c, 4, 3, padding=1)
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(F.relu(self.c(x)).mean((2, 3)))

    class Block(nn.Module):  # torchvision's BasicBlock style: in-place ReLU, out += identity
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(4)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(4)
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            out = self.relu(out)
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))

    class Acts(nn.Module):  # every activation, as a module and as a function / method
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(2, 6, 3, padding=1)
            self.c2 = nn.Conv2d(6, 6, 3, padding=1)
            self.mods = nn.ModuleList([nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.Hardswish(), nn.Hardsigmoid(),
                                       nn.SiLU(), nn.GELU(), nn.GELU(approximate="tanh")])
            self.fc = nn.Linear(6 * 5 * 5, 4)
            with torch.no_grad():
                self.c1.weight.mul_(4)                           # outputs over [-6, 6]: every piece of hardswish

        def forward(self, x):
            y = self.c1(x)
            outs = [m(y) for m in self.mods]
            outs += [F.leaky_relu(y, 0.05), torch.sigmoid(y), y.tanh(), F.hardswish(y), F.hardsigmoid(y),
                     F.silu(y), F.gelu(y), F.gelu(y, approximate="tanh"), F.leaky_relu(y), y.sigmoid()]
            z = outs[0]
            for o in outs[1:]:
                z = z + o
            z = F.silu(self.c2(z))
            z = torch.tanh(torch.flatten(F.max_pool2d(z, 2), 1))  # elementwise on a flattened map
            return self.fc(F.leaky_relu(z, 0.3))

    class SE(nn.Module):  # squeeze-excitation gates (conv and Linear forms), mul / add with broadcast
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 8, 3, padding=1)
            self.s1, self.s2 = nn.Conv2d(8, 4, 1), nn.Conv2d(4, 8, 1)
            self.l1, self.l2 = nn.Linear(8, 4), nn.Linear(4, 8)
            self.d = nn.Conv2d(8, 8, 3)
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            x = F.relu(self.c(x))
            g = torch.sigmoid(self.s2(F.relu(self.s1(x.mean((2, 3), keepdim=True)))))
            a = x * g                                            # [N,C,H,W] * [N,C,1,1]
            h = F.hardsigmoid(self.l2(F.relu(self.l1(F.adaptive_avg_pool2d(a, 1).flatten(1)))))
            b = torch.mul(h.view(h.size(0), -1, 1, 1), a)        # broadcast operand first: swapped
            c = b + g                                            # add with broadcast
            c = c.mul(self.d(F.pad(c, (1, 1, 1, 1))))            # same shape
            c = c * c.mean((2, 3), keepdim=True).unsqueeze(-1).squeeze(-1)
            v = c.mean((2, 3))
            return self.fc(v * torch.tanh(v))                    # [N, F] * [N, F]

    class CatPad(nn.Module):  # cat of 3 maps and of 2 vectors, ZeroPad2d, ConstantPad2d, F.pad
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(2, 3, 3, padding=1)
            self.b = nn.Sequential(nn.ZeroPad2d((1, 2, 0, 1)), nn.Conv2d(2, 4, (2, 4)))
            self.c = nn.Sequential(nn.ConstantPad2d(1, 0.5), nn.Conv2d(2, 5, 3))
            self.d = nn.Conv2d(12, 6, 3, stride=2)
            self.l1, self.l2 = nn.Linear(6, 5), nn.Linear(6, 7)
            self.fc = nn.Linear(12, 3)

        def forward(self, x):
            y = torch.cat([self.a(x), F.relu(self.b(x)), self.c(x)], dim=1)
            y = self.d(F.pad(y, (2, 0, 1, 3), mode="constant", value=-1.0))
            v = torch.flatten(F.adaptive_avg_pool2d(y, 1), 1)
            return self.fc(torch.cat((self.l1(v), self.l2(v)), -1))

    class Grouped(nn.Module):  # grouped convs (groups 2 and 4, a depthwise multiplier), folded BN
        def __init__(self):
            super().__init__()
            self.g1 = nn.Conv2d(4, 8, 3, groups=2, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.g2 = nn.Conv2d(8, 12, (3, 2), groups=4, stride=2, dilation=(1, 2), padding=(1, 0))
            self.g3 = nn.Conv2d(12, 24, 3, groups=12, bias=False)
            self.fc = nn.LazyLinear(3)

        def forward(self, x):
            x = self.g3(F.relu(self.g2(F.relu(self.bn(self.g1(x))))))
            return self.fc(torch.flatten(x, 1))

    class BN(nn.Module):  # batch norms that cannot be folded
        def __init__(self):
            super().__init__()
            self.bn_in = nn.BatchNorm2d(3)                       # on the input
            self.c = nn.Conv2d(3, 6, 3, padding=1)
            self.bn_shared = nn.BatchNorm2d(6)                   # the conv's output has another reader
            self.bn_add = nn.BatchNorm2d(6)                      # after an add
            self.bn_pool = nn.BatchNorm2d(6)                     # after a pool
            self.bn_relu = nn.BatchNorm2d(6, affine=False)       # after a ReLU, no gamma / beta
            self.bn_flat = nn.BatchNorm1d(6 * 4 * 3)             # on a flattened map: per (c, h, w)
            self.fc1 = nn.Linear(6 * 4 * 3, 8)
            self.bn_vec = nn.BatchNorm1d(6)                      # on a pooled vector
            self.fc = nn.Linear(14, 3)

        def forward(self, x):
            y = self.c(self.bn_in(x))
            y = self.bn_add(self.bn_shared(y) + y)
            y = self.bn_relu(F.relu(self.bn_pool(F.max_pool2d(y, 2))))
            f = self.fc1(self.bn_flat(torch.flatten(y, 1)))
            return self.fc(torch.cat([f, self.bn_vec(y.mean((2, 3)))], 1))

    class Edge(nn.Module):  # corners: cat of 16, x * x, odd LeakyReLU slopes, a pad before a maxpool,
        def __init__(self):  # grouped 'same' with an even kernel, a batch norm after an add of two Linear
            super().__init__()
            self.heads = nn.ModuleList([nn.Conv2d(3, 1 + k % 3 + (k == 0), 1) for k in range(16)])
            with torch.no_grad():
                for k, h in enumerate(self.heads):
                    h.weight.mul_(0.25 * (k + 1))
            self.g = nn.Conv2d(32, 16, 4, padding="same", groups=8)
            with torch.no_grad():
                self.g.weight.mul_(4)
            self.fc1, self.fc2, self.fc3 = nn.Linear(16, 6), nn.Linear(16, 6), nn.Linear(6, 5)
            self.bn = nn.BatchNorm1d(6)

        def forward(self, x):
            x = F.max_pool2d(F.pad(x, (1, 0, 2, 1), value=1.0), 2)    # the pad value wins some windows
            y = torch.cat([h(x) for h in self.heads], 1)              # 32 channels, very different ranges
            y = F.leaky_relu(y, -0.5) + F.leaky_relu(y * y, 1.5)
            y = torch.sigmoid(self.g(y))
            v = y.mean((2, 3))
            return self.fc3(self.bn(self.fc1(v) + self.fc2(v)))

    class OutputOf(nn.Module):  # the graph's output made by an op other than a conv / Linear
        def __init__(self, what):
            super().__init__()
            self.what = what
            self.c1, self.c2 = nn.Conv2d(2, 8, 3, stride=2), nn.Conv2d(8, 5, 3)

        def forward(self, x):
            y = self.c2(F.relu(self.c1(x))).mean((2, 3))   # an all-convolutional classifier: a gap last
            return torch.sigmoid(y) if self.what == "sigmoid" else y

    passed = failed = 0
    cases = [("functional", Fn(), (3, 16, 10)), ("basic-block", Block(), (4, 9, 9)), ("pool-pad-floor", PoolPad(False, True), (2, 13, 11)),
             ("pool-pad-ceil", PoolPad(True, False), (2, 13, 11)), ("gap-mean", Gap(), (1, 12, 12)),
             ("activations", Acts(), (2, 10, 10)), ("se-mul-broadcast", SE(), (3, 9, 7)), ("cat-pad", CatPad(), (2, 9, 8)),
             ("grouped-conv", Grouped(), (4, 11, 12)), ("batchnorm", BN(), (3, 8, 6))]
    norm_cases = [("normalize-3ch", Gap2(3), (3, 8, 8), ([0.5, -0.25, 0.1], [0.3, 2.0, 1.5])),
                  ("normalize-1ch", Gap2(1), (1, 12, 10), (0.2860, 0.3530)),
                  ("edge", Edge(), (3, 9, 8), ([0.5, 0.0, -0.5], [0.5, 1.0, 2.0])),
                  ("output-gap", OutputOf("gap"), (2, 11, 11), None), ("output-sigmoid", OutputOf("sigmoid"), (2, 11, 11), None),
                  ("normalize-vector", nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2)), (5,),
                   ([0.1, 0.2, 0.3, 0.4, 0.5], [1.0, 2.0, 0.5, 0.25, 4.0]))]
    listed = []
    for name, m, shape, norm in [c + (None,) for c in cases] + norm_cases:
        # non-trivial batch norm statistics
        m.train()
        with torch.no_grad():
            for _ in range(3):
                m(torch.randn(8, *shape) * 2 + 0.5)
        m.eval()
        x = torch.randn(16, *shape)
        p = os.path.join(tmp, f"selftest-{name}.safetensors")
        try:
            if norm is None:
                export(m, x[:1], p)
            else:
                g = export(m, x[:1], p, mean=norm[0], std=norm[1])
                assert g["nodes"][0]["op"] == "normalize" and g["nodes"][0]["in"] == ["x"], g["nodes"][0]
                k = shape[0]
                norm = tuple(v if isinstance(v, list) else [v] * k for v in norm)
            d, mis = np_check(p, m, x, norm)
            ok = d < 1e-4 and mis == 0
            if name == "grouped-conv":  # the folded batch norm's word on g1's outputs, kept as out_stats
                g, t, _ = read_model(p)
                st = [t[n["out_stats"]] for n in g["nodes"] if "out_stats" in n]
                v = m.bn.running_var.detach().double().numpy()
                want = np.stack([m.bn.bias.detach().double().numpy(),
                                 np.abs(m.bn.weight.detach().double().numpy()) * np.sqrt(v / (v + m.bn.eps))])
                st_ok = len(st) == 1 and st[0].shape == (2, 8) and np.allclose(st[0], want, rtol=1e-6, atol=1e-7)
                print(f"  selftest {name}: out_stats of the conv its batch norm folds into: {'ok' if st_ok else 'FAIL'}")
                ok = ok and st_ok
            # for torch_check --float: 64 inputs (NHWC, as the file takes them) and PyTorch's outputs
            x64 = torch.randn(64, *shape)
            with torch.no_grad():
                y64 = m(normalized(x64, norm))
            xn = x64.numpy()
            (xn.transpose(0, 2, 3, 1) if xn.ndim == 4 else xn).astype("<f4").tofile(p[:-12] + ".in.f32")
            y64.numpy().astype("<f4").tofile(p[:-12] + ".out.f32")
            listed.append(f"{name} {os.path.basename(p)} {os.path.basename(p)[:-12]}.in.f32 "
                          f"{os.path.basename(p)[:-12]}.out.f32\n")
        except Exception as e:  # noqa: BLE001
            print(f"  selftest {name}: {type(e).__name__}: {e}")
            ok = False
            d = float("nan")
        print(f"  selftest {name}: numpy NHWC reference vs PyTorch max abs diff {d:.2e}: {'ok' if ok else 'FAIL'}")
        passed, failed = passed + ok, failed + (not ok)
    with open(os.path.join(tmp, "selftest.txt"), "w") as f:
        f.writelines(listed)

    class Elu(nn.Sequential):
        pass

    class FlatOut(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(4, 4, 3)

        def forward(self, x):
            return torch.flatten(self.c(x), 1)

    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(4, 4, 3)

        def forward(self, x):
            y = self.c(x)
            return (F.relu(y, inplace=True) + y).mean((2, 3))

    class Lambda(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return self.fn(x)

    class InPlaceAct(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.Hardswish(inplace=True)

        def forward(self, x):
            y = x * x
            return (self.act(y) + y).mean((2, 3))

    class SpatialGate(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(4, 1, 1)

        def forward(self, x):
            return (x * self.c(x)).mean((2, 3))

    refusals = [("ELU", Elu(nn.Conv2d(4, 4, 3), nn.ELU(), nn.Flatten(), nn.Linear(64, 2)), "'1' (ELU)"),
                ("flatten as output", FlatOut(), "flattened"),
                ("in-place ReLU on a tensor read later", InPlace(), "in place"),
                ("in-place Hardswish on a tensor read later", InPlaceAct(), "in place"),
                ("ReflectionPad2d", nn.Sequential(nn.ReflectionPad2d(1), nn.Flatten()), "(ReflectionPad2d)"),
                ("reflect F.pad", Lambda(lambda x: F.pad(x, (1, 1, 1, 1), mode="reflect").mean((2, 3))), "mode 'reflect'"),
                ("F.pad of the channels", Lambda(lambda x: F.pad(x, (0, 0, 0, 0, 1, 1)).mean((2, 3))), "pads the channels"),
                ("cat along H", Lambda(lambda x: torch.cat([x, x], 2).mean((2, 3))), "cat along dim 2"),
                ("cat of flattened maps", Lambda(lambda x: torch.cat([x.flatten(1), x.flatten(1)], 1)),
                 "flattened feature map"),
                ("mul by a constant", Lambda(lambda x: (x * 2).mean((2, 3))), "with a constant"),
                ("spatial broadcast", SpatialGate(),
                 "mul of shapes [2, 4, 6, 6] and [2, 1, 6, 6]"),
                ("Softplus", Lambda(lambda x: F.softplus(x).mean((2, 3))), "function 'softplus'"),
                ("clamp(-1, 1)", Lambda(lambda x: x.clamp(-1, 1).mean((2, 3))), "clamp / hardtanh to [-1, 1]")]
    for name, m, want in refusals:
        try:
            to_graph(m, torch.zeros(1, 4, 6, 6))
            msg = "(exported)"
        except ExportError as e:
            msg = str(e)
        ok = want in msg
        if not ok:
            print(f"  selftest refuses {name}: wanted '{want}'")
        print(f"  selftest refuses {name}: {msg[:110]}{'...' if len(msg) > 110 else ''}: {'ok' if ok else 'FAIL'}")
        passed, failed = passed + ok, failed + (not ok)
    for name, mean, std, want in [("std 0", 0.5, 0.0, "must be positive"), ("3 means for 4 channels", [1, 2, 3], 1.0,
                                                                              "one finite value per input channel")]:
        try:
            to_graph(Gap2(4), torch.zeros(1, 4, 6, 6), mean, std)
            msg = "(exported)"
        except ExportError as e:
            msg = str(e)
        ok = want in msg
        print(f"  selftest refuses normalize with {name}: {msg[:110]}: {'ok' if ok else 'FAIL'}")
        passed, failed = passed + ok, failed + (not ok)
    return passed, failed


# ------------------------------------------------------------------ training
def train(model, x, y, epochs, lr, bs=64):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    model.train()
    for ep in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        tot = 0.0
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            tot += float(loss) * len(idx)
        print(f"    epoch {ep + 1}/{epochs}: loss {tot / len(x):.4f}", flush=True)
    model.eval()
    return model


def load_weights(model, path):
    """The state dict saved by --save-weights (numpy arrays, no pickle); every
    tensor must be there with its shape, else the architecture changed since
    the weights were trained (retrain with --train --save-weights)."""
    with np.load(path, allow_pickle=False) as z:
        sd = {k: torch.from_numpy(z[k].copy()) for k in z.files}
    want = model.state_dict()
    bad = sorted(set(want) ^ set(sd)) + [k for k in want if k in sd and tuple(want[k].shape) != tuple(sd[k].shape)]
    if bad:
        raise SystemExit(f"{path}: does not match the model defined here ({', '.join(bad[:4])}); "
                         "retrain: torch_models.py OUTDIR --train --save-weights tests/torch_weights")
    model.load_state_dict(sd, strict=True)
    return model.eval()


def torch_int8_accuracy(model, xc, xt, yt):
    """PyTorch's own post-training int8 (FX graph mode, onednn engine, per-channel weights)."""
    import copy
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    engine = "onednn" if "onednn" in torch.backends.quantized.supported_engines else "qnnpack"
    torch.backends.quantized.engine = engine
    m = copy.deepcopy(model).eval()
    prepared = prepare_fx(m, get_default_qconfig_mapping(engine), example_inputs=(xc[:1],))
    with torch.no_grad():
        for i in range(0, len(xc), 250):
            prepared(xc[i:i + 250])
        q = convert_fx(prepared)
        pred = q(xt).argmax(1)
    return 100.0 * float((pred == yt).float().mean()), engine


def main():
    ap = argparse.ArgumentParser(description="train, export and write the references for tests/torch_check.c")
    ap.add_argument("outdir")
    ap.add_argument("--no-ptq", action="store_true", help="skip PyTorch's own int8 reference accuracy")
    ap.add_argument("--extra", action="store_true", help="also the model with padded / ceil-mode pooling and "
                                                         "non-adjacent conv / ReLU pairs")
    ap.add_argument("--no-selftest", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (another count trains other models)")
    ap.add_argument("--selftest-only", action="store_true", help="only the exporter self-test (no data, no training)")
    ap.add_argument("--weights", default=WEIGHTS,
                    help="load each model's trained weights from DIR/<model>.npz where present "
                         f"(default: {os.path.relpath(WEIGHTS)}); the others are trained")
    ap.add_argument("--train", action="store_true", help="train every model (ignore --weights)")
    ap.add_argument("--save-weights", metavar="DIR", help="write each model's weights to DIR/<model>.npz")
    a = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    np.random.seed(0)
    os.makedirs(a.outdir, exist_ok=True)

    st_pass = st_fail = 0
    if not a.no_selftest:
        print("exporter self-test (numpy NHWC reference of the exported graph vs PyTorch):")
        st_pass, st_fail = selftest(a.outdir)
        if a.selftest_only:
            print(f"{st_pass} passed, {st_fail} failed")
            return 1 if st_fail else 0

    xtr_u8 = read_idx_gz(f"{DATA}/train-images-idx3-ubyte.gz")
    ytr = read_idx_gz(f"{DATA}/train-labels-idx1-ubyte.gz")
    xte_u8 = read_idx_gz(f"{DATA}/t10k-images-idx3-ubyte.gz")[:N_TEST]
    yte = read_idx_gz(f"{DATA}/t10k-labels-idx1-ubyte.gz")[:N_TEST]
    xc_u8, yc = xtr_u8[-N_CALIB:], ytr[-N_CALIB:]  # not among the training images
    write_idx(os.path.join(a.outdir, "t10k-images-idx3-ubyte"), xte_u8)
    write_idx(os.path.join(a.outdir, "t10k-labels-idx1-ubyte"), yte)
    write_idx(os.path.join(a.outdir, "calib-1000-images-idx3-ubyte"), xc_u8)
    write_idx(os.path.join(a.outdir, "calib-1000-labels-idx1-ubyte"), yc)
    xtr = to_input(xtr_u8[:N_TRAIN])
    ytr_t = torch.from_numpy(ytr[:N_TRAIN].astype(np.int64))
    xte, yte_t = to_input(xte_u8), torch.from_numpy(yte.astype(np.int64))
    xc = to_input(xc_u8)

    # name, class, epochs, learning rate, ends in a softmax, input normalization (mean, std)
    specs = [("cnn", CNN, 2, 2e-3, False, FMNIST_NORM), ("resnet", ResNet, 2, 3e-3, False, None),
             ("mlp", MLP, 4, 1e-3, True, None), ("actnet", ActNet, 2, 3e-3, False, None),
             ("mobile", Mobile, 2, 4e-3, False, None)]
    if a.extra:
        specs.append(("extra", Extra, 2, 2e-3, False, None))
    lines = []
    for name, cls, epochs, lr, softmax, norm in specs:
        t1 = time.time()
        torch.manual_seed(0)
        nrm = None if norm is None else ([norm[0]], [norm[1]])
        wfile = os.path.join(a.weights, f"{name}.npz")
        if not a.train and os.path.exists(wfile):
            print(f"{name}: weights from {os.path.relpath(wfile)} (trained {epochs} epochs on {N_TRAIN} images"
                  f"{'' if norm is None else ', normalized'}, by --train)", flush=True)
            core = load_weights(cls(), wfile)
        else:
            print(f"{name}: training {epochs} epochs on {N_TRAIN} images{'' if norm is None else ' (normalized)'}",
                  flush=True)
            core = train(cls(), normalized(xtr, nrm), ytr_t, epochs, lr)
        if a.save_weights:
            os.makedirs(a.save_weights, exist_ok=True)
            np.savez(os.path.join(a.save_weights, f"{name}.npz"),
                     **{k: v.detach().numpy() for k, v in core.state_dict().items()})
        model = WithSoftmax(core).eval() if softmax else core
        path = os.path.join(a.outdir, f"{name}.safetensors")
        if norm is None:
            graph = export(model, xte[:1], path)
        else:  # the file takes pixel / 255 and normalizes it itself
            graph = export(model, xte[:1], path, mean=norm[0], std=norm[1])
        with torch.no_grad():  # the references: the first N_REF test images
            out = model(normalized(xte[:N_REF], nrm))
        kind = "probs" if softmax else "logits"
        ref = os.path.join(a.outdir, f"{name}.{kind}.f32")
        out.numpy().astype("<f4").tofile(ref)
        acc = 100.0 * float((out.argmax(1) == yte_t[:N_REF]).float().mean())
        d, mis = np_check(path, model, xte[:200], nrm)
        ok = d < 1e-4 and mis == 0
        st_pass, st_fail = st_pass + ok, st_fail + (not ok)
        q8 = "-"
        if not a.no_ptq:
            try:
                qa, eng = torch_int8_accuracy(core, normalized(xc, nrm), normalized(xte[:N_REF], nrm), yte_t[:N_REF])
                q8 = f"{qa:.2f}"
                q8s = f", PyTorch int8 PTQ ({eng}, per-channel) {qa:.2f}%"
            except Exception as e:  # noqa: BLE001
                q8s = f", PyTorch int8 PTQ failed: {type(e).__name__}: {e}"
        else:
            q8s = ""
        print(f"{name}: {len(graph['nodes'])} nodes, fp32 accuracy {acc:.2f}%{q8s} (first {N_REF} test images); numpy NHWC reference on 200 "
              f"images: max abs diff {d:.2e}, {mis} argmax mismatches: {'ok' if ok else 'FAIL'} "
              f"({time.time() - t1:.1f} s)", flush=True)
        lines.append(f"{name} {name}.safetensors {os.path.basename(ref)} {acc:.2f} {q8}\n")
    with open(os.path.join(a.outdir, "models.txt"), "w") as f:
        f.writelines(lines)
    print(f"torch_models: {time.time() - t0:.1f} s")
    print(f"{st_pass} passed, {st_fail} failed")
    return 1 if st_fail else 0


if __name__ == "__main__":
    sys.exit(main())
