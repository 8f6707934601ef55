#!/usr/bin/env python3
"""PyTorch on the same network and weights, for the demo's side-by-side table.

    /usr/bin/python3 tools/bench_torch.py models/fmnist_float.safetensors examples/data

Loads our safetensors file (no extra dependency: json + numpy), rebuilds the
float CNN in PyTorch (NCHW), and measures on the 10,000 test images, one
thread: fp32, and int8 post-training quantization (fbgemm is not in Debian's
torch 1.13, so the onednn and qnnpack engines) calibrated on the same 1,000
training images the demo uses. Prints accuracy, median latency at batch 1 and
images/s at batch 64.
"""
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    data = open(path, "rb").read()
    n, = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    dt = {"F32": np.float32, "I8": np.int8, "U8": np.uint8, "I32": np.int32}
    out = {}
    for k, v in header.items():
        b, e = v["data_offsets"]
        out[k] = np.frombuffer(data[base + b:base + e], dtype=dt[v["dtype"]]).reshape(v["shape"]).copy()
    return out, meta


def read_idx(path):
    data = open(path, "rb").read()
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


class Net(nn.Module):
    """The exported graph (BN folded): conv-relu-pool x2, dense-relu, dense."""

    def __init__(self, t):
        super().__init__()
        self.quant = torch.quantization.QuantStub()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(3136, 128)
        self.fc2 = nn.Linear(128, 10)
        self.relu1, self.relu2, self.relu3 = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.dequant = torch.quantization.DeQuantStub()
        with torch.no_grad():
            self.conv1.weight.copy_(torch.from_numpy(t["conv1.weight"]).permute(0, 3, 1, 2))
            self.conv1.bias.copy_(torch.from_numpy(t["conv1.bias"]))
            self.conv2.weight.copy_(torch.from_numpy(t["conv2.weight"]).permute(0, 3, 1, 2))
            self.conv2.bias.copy_(torch.from_numpy(t["conv2.bias"]))
            # our dense weights take (h, w, c) inputs; PyTorch flattens (c, h, w)
            w = torch.from_numpy(t["fc1.weight"]).reshape(128, 7, 7, 64).permute(0, 3, 1, 2).reshape(128, 3136)
            self.fc1.weight.copy_(w)
            self.fc1.bias.copy_(torch.from_numpy(t["fc1.bias"]))
            self.fc2.weight.copy_(torch.from_numpy(t["fc2.weight"]))
            self.fc2.bias.copy_(torch.from_numpy(t["fc2.bias"]))

    def forward(self, x):
        x = self.quant(x)
        x = self.pool(self.relu1(self.conv1(x)))
        x = self.pool(self.relu2(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.relu3(self.fc1(x))
        return self.dequant(self.fc2(x))


def measure(model, x, y):
    with torch.no_grad():
        correct, t0 = 0, time.perf_counter()
        for i in range(0, len(x), 64):
            correct += (model(x[i:i + 64]).argmax(1) == y[i:i + 64]).sum().item()
        ips = len(x) / (time.perf_counter() - t0)
        lat = []
        for i in range(300):
            t0 = time.perf_counter()
            model(x[i:i + 1])
            lat.append(time.perf_counter() - t0)
    return correct / len(x), float(np.median(lat)) * 1e6, ips


def main():
    path, ddir = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    t, _ = read_safetensors(path)
    x = torch.from_numpy(read_idx(f"{ddir}/t10k-images-idx3-ubyte").astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(read_idx(f"{ddir}/t10k-labels-idx1-ubyte").astype(np.int64))
    xc = torch.from_numpy(read_idx(f"{ddir}/calib-1000-images-idx3-ubyte").astype(np.float32) / 255.0).unsqueeze(1)
    rows = []
    m = Net(t).eval()
    rows.append(("PyTorch fp32",) + measure(m, x, y))
    for engine in ("onednn", "qnnpack"):
        if engine not in torch.backends.quantized.supported_engines:
            continue
        torch.backends.quantized.engine = engine
        q = Net(t).eval()
        q.qconfig = torch.quantization.get_default_qconfig(engine)
        torch.quantization.fuse_modules(q, [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]], inplace=True)
        torch.quantization.prepare(q, inplace=True)
        with torch.no_grad():
            for i in range(0, len(xc), 100):
                q(xc[i:i + 100])
        torch.quantization.convert(q, inplace=True)
        rows.append((f"PyTorch int8 PTQ ({engine})",) + measure(q, x, y))
    print(f"PyTorch {torch.__version__}, one thread, same weights and calibration images")
    print(f"  {'mode':32s} {'accuracy':>8s} {'batch 1':>11s} {'batch 64':>12s}")
    for name, acc, lat, ips in rows:
        print(f"  {name:32s} {acc * 100:7.2f}% {lat:8.1f} us {ips:9.0f} /s")


if __name__ == "__main__":
    main()
