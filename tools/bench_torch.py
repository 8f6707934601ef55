#!/usr/bin/env python3
"""PyTorch on any model file of ours: the same graph and weights, timed.

    /usr/bin/python3 tools/bench_torch.py MODEL DATA_DIR [--images N] [--threads 1] [--runs R]

    e.g. /usr/bin/python3 tools/bench_torch.py models/fmnist_float.safetensors examples/data

Reads the model file (README "Model format"; json + numpy, no extra
dependency) and rebuilds it as a torch nn.Module: an interpreter whose layers
are real nn.Conv2d / nn.Linear / nn.ReLU / nn.MaxPool2d ... submodules built
from the file, applied in the graph's order on NCHW tensors (the NHWC weight
layouts converted back; a flatten permutes to NHWC before flattening, as the
runner's dense layers expect). Its fp32 outputs are first checked against a
double-precision numpy reference of the runner's semantics (tests/torch_models.py
np_run) on a few test images (max abs difference at most 1e-4).

Then, with torch.set_num_threads(THREADS) (1 by default; install
libopenblas0-pthread first, see the field notes), on the first N test images:
fp32 accuracy, batch-1 latency (median of R single-image runs) and batch-64
images/s; and the same for PyTorch's int8 post-training quantization (FX graph
mode, prepare_fx / convert_fx, the onednn engine's default qconfig: per-channel
int8 weights, histogram-calibrated uint8 activations) calibrated on
calib-1000-images-idx3-ubyte.

DATA_DIR holds t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte and
calib-1000-images-idx3-ubyte (uncompressed IDX of bytes); each image has the
model input's H x W x C values and enters as pixel / 255. Quantized files are
run from their float tensors.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

CHECK_IMAGES = 8
CHECK_TOL = 1e-4


def read_safetensors(path):
    """(graph dict, float32 tensors by name, metadata); tensors of other dtypes are skipped
    (a quantized file runs from its float tensors)."""
    with open(path, "rb") as f:
        data = f.read()
    n, = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    if meta.get("format") != "quant-model-1" or "graph" not in meta:
        raise SystemExit(f"bench_torch: {path} is not a quant-model-1 file")
    base = 8 + n
    out = {}
    for k, v in header.items():
        if v["dtype"] != "F32":
            continue
        b, e = v["data_offsets"]
        out[k] = np.frombuffer(data[base + b:base + e], dtype="<f4").reshape(v["shape"]).astype(np.float32)
    return json.loads(meta["graph"]), out, meta


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


# ------------------------------------------------------------------ the graph as an nn.Module
class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class Sign(nn.Module):
    """x - t < 0 gives -1, else +1."""

    def __init__(self, t):
        super().__init__()
        self.t = float(t)

    def forward(self, x):
        return torch.where(x - self.t < 0, -torch.ones_like(x), torch.ones_like(x))


class NHWCFlatten(nn.Module):
    """[N, C, H, W] to [N, H x W x C] in the runner's (h, w, c) order."""

    def forward(self, x):
        return torch.flatten(x.permute(0, 2, 3, 1), 1)


class ReLUClip(nn.Module):
    """relu_clip: min(max(x, 0), max[c]) per channel (dim 1)."""

    def __init__(self, mx, vec):
        super().__init__()
        self.register_buffer("mx", torch.from_numpy(np.asarray(mx, dtype=np.float32)).reshape((1, -1) if vec else (1, -1, 1, 1)))

    def forward(self, x):
        return torch.minimum(torch.relu(x), self.mx)


def _affine_bn(scale, bias, vec):
    """y = x * scale + bias per channel as a BatchNorm (mean 0, var 1, eps 0: exact)."""
    c = len(scale)
    bn = nn.BatchNorm1d(c, eps=0.0) if vec else nn.BatchNorm2d(c, eps=0.0)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(scale))
        bn.bias.copy_(torch.from_numpy(bias))
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0)
    return bn.eval()


class GraphNet(nn.Module):
    """The runner's graph on NCHW tensors. A value is a map [N, C, H, W] or a vector [N, F] (the
    runner's [1, 1, F]); which one is known when the module is built, so that forward() is a
    straight sequence of module calls that torch.fx can trace."""

    def __init__(self, graph, t):
        super().__init__()
        inp = graph["inputs"][0]
        self.in_name, (self.H, self.W, self.C) = inp["name"], inp["shape"]
        self.layers = nn.ModuleDict()
        self.plan = []                      # (op, key or None, input names, output name)
        kind = {self.in_name: "map"}        # value -> "map" / "vec"
        for i, nd in enumerate(graph["nodes"]):
            op, ins, out = nd["op"], nd["in"], nd["out"]
            key = f"n{i}_{op}"
            mods = []                       # applied in order
            k0 = kind[ins[0]]
            res = k0
            if op in ("conv2d", "dwconv2d"):
                w = t[nd["weight"]].astype(np.float64)
                kh, kw = nd["kernel"]
                st, dil = nd.get("stride", [1, 1]), nd.get("dilation", [1, 1])
                pt, pl, pb, pr = nd.get("pad", [0, 0, 0, 0])
                if op == "conv2d":
                    g = nd.get("groups", 1)
                    cout, cin = w.shape[0], w.shape[3] * g
                    w = w.transpose(0, 3, 1, 2)                  # [out][in/g][kh][kw]
                else:
                    g = cout = cin = w.shape[2]
                    w = w.transpose(2, 0, 1)[:, None]            # [c][1][kh][kw]
                if "scale" in nd:
                    w = w * t[nd["scale"]].astype(np.float64).reshape(-1, 1, 1, 1)
                sym = pt == pb and pl == pr
                if not sym:
                    mods.append(nn.ZeroPad2d((pl, pr, pt, pb)))
                conv = nn.Conv2d(cin, cout, (kh, kw), stride=tuple(st), padding=(pt, pl) if sym else 0,
                                 dilation=tuple(dil), groups=g, bias=True)
                with torch.no_grad():
                    conv.weight.copy_(torch.from_numpy(w.astype(np.float32)))
                    conv.bias.copy_(torch.from_numpy(t[nd["bias"]]) if "bias" in nd else torch.zeros(cout))
                mods.append(conv)
                res = "map"
            elif op == "dense":
                w = t[nd["weight"]].astype(np.float64)
                if "scale" in nd:
                    w = w * t[nd["scale"]].astype(np.float64).reshape(-1, 1)
                if k0 == "map":             # the runner reads the H x W x C values in NHWC order
                    mods.append(NHWCFlatten())
                lin = nn.Linear(w.shape[1], w.shape[0])
                with torch.no_grad():
                    lin.weight.copy_(torch.from_numpy(w.astype(np.float32)))
                    lin.bias.copy_(torch.from_numpy(t[nd["bias"]]) if "bias" in nd else torch.zeros(w.shape[0]))
                mods.append(lin)
                res = "vec"
            elif op in ("maxpool", "avgpool"):
                k = nd["kernel"]
                st = nd.get("stride", k)
                pt, pl, pb, pr = nd.get("pad", [0, 0, 0, 0])
                if pt != pb or pl != pr:
                    raise SystemExit(f"bench_torch: node {i} ({op}): asymmetric padding {nd['pad']} has no "
                                     f"PyTorch pooling module")
                if op == "maxpool":
                    mods.append(nn.MaxPool2d(k, st, (pt, pl), ceil_mode=bool(nd.get("ceil_mode", False))))
                else:
                    mods.append(nn.AvgPool2d(k, st, (pt, pl), ceil_mode=bool(nd.get("ceil_mode", False)),
                                             count_include_pad=bool(nd.get("count_include_pad", True))))
            elif op == "gap":
                mods.append(nn.AdaptiveAvgPool2d(1))
            elif op == "flatten":
                if k0 == "map":
                    mods.append(NHWCFlatten())
                res = "vec"
            elif op == "softmax":           # over the channels: dim 1 of a map or a vector
                mods.append(nn.Softmax(dim=1))
            elif op == "relu":
                mods.append(nn.ReLU())
            elif op == "relu6":
                mods.append(nn.ReLU6())
            elif op == "relu_clip":
                mods.append(ReLUClip(t[nd["max"]], k0 == "vec"))
            elif op == "leaky_relu":
                mods.append(nn.LeakyReLU(nd["alpha"]))
            elif op in ("sigmoid", "tanh", "hardswish", "hardsigmoid", "silu"):
                mods.append({"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "hardswish": nn.Hardswish,
                             "hardsigmoid": nn.Hardsigmoid, "silu": nn.SiLU}[op]())
            elif op == "gelu":
                mods.append(nn.GELU(approximate=nd.get("approximate", "none")))
            elif op == "sign":
                mods.append(Sign(t[nd["threshold"]].reshape(-1)[0] if "threshold" in nd else 0.0))
            elif op == "normalize":
                mods.append(Normalize(nd["mean"], nd["std"]))
            elif op == "batchnorm":
                mods.append(_affine_bn(t[nd["scale"]], t[nd["bias"]], k0 == "vec"))
            elif op == "pad":
                pt, pl, pb, pr = nd["pad"]
                mods.append(nn.ConstantPad2d((pl, pr, pt, pb), float(nd.get("value", 0.0))))
            elif op in ("add", "mul", "concat"):
                kinds = [kind[v] for v in ins]
                res = "map" if "map" in kinds else "vec"
                self.plan.append((op, None, ins, out, kinds))
                kind[out] = res
                continue
            else:
                raise SystemExit(f"bench_torch: node {i}: op '{op}' has no PyTorch equivalent here")
            self.layers[key] = nn.Sequential(*mods) if len(mods) > 1 else mods[0]
            self.plan.append((op, key, ins, out, None))
            kind[out] = res
        self.output = graph["output"]
        self.out_kind = kind[self.output]

    def forward(self, x):
        v = {self.in_name: x}
        for op, key, ins, out, kinds in self.plan:
            if key is not None:
                v[out] = self.layers[key](v[ins[0]])
                continue
            xs = [v[n] for n in ins]
            if "map" in kinds:              # a vector [N, F] is the map [N, F, 1, 1]
                xs = [a if k == "map" else a.unsqueeze(-1).unsqueeze(-1) for a, k in zip(xs, kinds)]
            if op == "add":
                v[out] = xs[0] + xs[1]
            elif op == "mul":
                v[out] = xs[0] * xs[1]
            else:
                v[out] = torch.cat(xs, 1)
        y = v[self.output]
        return torch.flatten(y.permute(0, 2, 3, 1), 1) if self.out_kind == "map" else y


# ------------------------------------------------------------------ measuring
def accuracy(model, x, y, bs=250):
    with torch.no_grad():
        right = sum(int((model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum()) for i in range(0, len(x), bs))
    return 100.0 * right / len(x)


def latency_us(model, x, runs):
    """median wall time of one image, microseconds (after 20 warm-up runs)."""
    lat = []
    with torch.no_grad():
        for i in range(20):
            model(x[i % len(x):i % len(x) + 1])
        for i in range(runs):
            xi = x[i % len(x):i % len(x) + 1]
            t0 = time.perf_counter()
            model(xi)
            lat.append(time.perf_counter() - t0)
    return float(np.median(lat)) * 1e6


def throughput(model, x, bs=64):
    """images / s at batch bs over x (the last partial batch included), after one warm-up batch."""
    with torch.no_grad():
        model(x[:bs])
        t0 = time.perf_counter()
        for i in range(0, len(x), bs):
            model(x[i:i + bs])
        return len(x) / (time.perf_counter() - t0)


def int8_model(model, xc):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = "onednn"
    prepared = prepare_fx(model, get_default_qconfig_mapping("onednn"), example_inputs=(xc[:1],))
    with torch.no_grad():
        for i in range(0, len(xc), 100):
            prepared(xc[i:i + 100])
    return convert_fx(prepared).eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("data_dir")
    ap.add_argument("--images", type=int, default=0, help="test images used (default: all)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--runs", type=int, default=300, help="single-image runs for the batch-1 median (300)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    graph, t, meta = read_safetensors(a.model)
    h, w, c = graph["inputs"][0]["shape"]

    def images(name):
        u8 = read_idx(os.path.join(a.data_dir, name))
        if u8[0].size != h * w * c:
            raise SystemExit(f"bench_torch: {name}: {u8[0].size} values an image, the model takes {h}x{w}x{c}")
        return torch.from_numpy(u8.reshape(len(u8), h, w, c).astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()
    x = images("t10k-images-idx3-ubyte")
    y = torch.from_numpy(read_idx(os.path.join(a.data_dir, "t10k-labels-idx1-ubyte")).astype(np.int64))
    if a.images:
        x, y = x[:a.images], y[:a.images]
    xc = images("calib-1000-images-idx3-ubyte")

    net = GraphNet(graph, t).eval()

    # fp32 against the runner's semantics (double-precision numpy reference)
    from torch_models import np_run
    xs = x[:CHECK_IMAGES]
    with torch.no_grad():
        got = net(xs).double().numpy()
    ref = np_run(graph, t, xs.double().numpy().transpose(0, 2, 3, 1))
    diff = float(np.abs(got - ref).max())
    print(f"{os.path.basename(a.model)}: {len(graph['nodes'])} nodes, input {h}x{w}x{c}; PyTorch rebuild vs the "
          f"runner's semantics (numpy, double) on {len(xs)} images: max abs diff {diff:.2e} "
          f"({'ok' if diff <= CHECK_TOL else 'FAIL'}, at most {CHECK_TOL:g})")
    if not diff <= CHECK_TOL:
        return 1

    rows = [("fp32", accuracy(net, x, y), latency_us(net, x, a.runs), throughput(net, x))]
    if "onednn" in torch.backends.quantized.supported_engines:
        try:
            q = int8_model(GraphNet(graph, t).eval(), xc)
            rows.append(("int8 PTQ (onednn, FX)", accuracy(q, x, y), latency_us(q, x, a.runs), throughput(q, x)))
        except Exception as e:  # noqa: BLE001
            print(f"  int8 PTQ (onednn) failed: {type(e).__name__}: {str(e)[:200]}")
    else:
        print("  int8 PTQ: this torch has no onednn engine")
    print(f"PyTorch {torch.__version__}, {a.threads} thread{'s' if a.threads != 1 else ''}, {len(x)} test images, "
          f"int8 calibrated on {len(xc)} images, batch-1 median of {a.runs} runs")
    print(f"  {'mode':24s} {'accuracy':>9s} {'batch 1':>12s} {'batch 64':>14s}")
    for name, acc, lat, ips in rows:
        print(f"  {name:24s} {acc:8.2f}% {lat:9.1f} us {ips:9.0f} img/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
