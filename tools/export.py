#!/usr/bin/env python3
"""Export a PyTorch nn.Module to quant's model format (README "Model format").

Python:

    import sys; sys.path.insert(0, "tools")
    from export import export
    export(model, torch.zeros(1, 1, 28, 28), "model.safetensors")

Command line (the module is built by a Python callable, no arguments):

    /usr/bin/python3 tools/export.py my_models:build_net model.safetensors \\
        --input-shape 1,28,28 [--weights state_dict.pt] [--mean 0.2860 --std 0.3530]

With mean / std (per input channel, or one value for all), the file starts
with a "normalize" node, y = (x - mean[c]) / std[c]: the model then takes raw
inputs (pixel / 255 in this project's tools) where the PyTorch module took
normalized ones.

The module is traced with torch.fx (symbolic tracing) and evaluated in eval
mode. Activations in the runner are NHWC: the input [N,C,H,W] becomes [H,W,C],
conv weights are written [out][kh][kw][in], depthwise [kh][kw][c], dense
[out][in] with the inputs of a flattened feature map in (h, w, c) order (the
columns of a Linear after a flatten are permuted from PyTorch's (c, h, w)).
Batch norm after a Conv2d / Linear is folded into that layer, which keeps
what it said of the layer's outputs as "out_stats" (F32 [2][out]: mean
beta and deviation |gamma| sqrt(var / (var + eps)) per channel, for
data-free bias correction: quant-tool quantize --bias-correct=analytic); one
that cannot be (first layer, after an add / pool / activation, or after a conv
whose output has other readers) becomes a "batchnorm" node (per-channel scale
and bias). Grouped convs keep the [out][kh][kw][in / groups] layout. A binary
add / mul may broadcast a [N, C, 1, 1] operand over [N, C, H, W] (written as
the second input). Anything the runner cannot compute exactly as PyTorch does
is refused with an ExportError naming the module or function.

The file is safetensors, written here with struct and json: an 8-byte
little-endian header length, a JSON header (tensors and "__metadata__":
{"format": "quant-model-1", "graph": <JSON string>, "variant": "float"}), the
raw little-endian float32 data.
"""
import argparse
import importlib
import json
import math
import operator
import re
import struct
import sys

import numpy as np
import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
from torch.fx.passes.shape_prop import ShapeProp

SUPPORTED = ("Conv2d (any groups; zero padding), Linear, BatchNorm2d (folded into a Conv2d directly before "
             "it, else per-channel), BatchNorm1d, ReLU, ReLU6, Hardtanh(0, 6), clamp(0) / clamp(0, 6), "
             "LeakyReLU, Sigmoid, Tanh, Hardswish, Hardsigmoid, SiLU, GELU (and their functional / method "
             "forms), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), mean over (H, W), add / mul of two tensors "
             "(same shape, or [N, C, 1, 1] over [N, C, H, W]), cat along the channels (dim=1, 2 to 16 "
             "tensors), ZeroPad2d / ConstantPad2d / F.pad(mode='constant') on H and W, flatten / view / "
             "reshape to [N, -1] (followed by a Linear) or between [N, C] and [N, C, 1, 1], Softmax(dim=1) "
             "on [N, F], Dropout, Identity; input normalization via export(..., mean=, std=)")

MAX_CONCAT = 16
MAX_PAD = 64

MAX_VALUE_NAME = 60
MAX_TENSOR_NAME = 200


class ExportError(ValueError):
    """The module uses something the exporter or the runner does not support."""


def _unsupported(what):
    return ExportError(f"{what} is not supported; supported: {SUPPORTED}")


def _pair(v, what):
    if isinstance(v, int):
        return [v, v]
    v = list(v)
    if len(v) == 1:
        return [int(v[0]), int(v[0])]
    if len(v) != 2 or not all(isinstance(a, int) for a in v):
        raise ExportError(f"{what}: expected an int or a pair of ints, got {v!r}")
    return [int(v[0]), int(v[1])]


class _Val:
    """A tensor value of the traced graph as the runner will hold it."""

    def __init__(self, name, shape, producer=None, flat_chw=None):
        self.name = name            # runner value name
        self.shape = tuple(shape)   # PyTorch shape with the batch
        self.producer = producer    # index of the node writing it (None: the input)
        self.flat_chw = flat_chw    # (C, H, W) if a flatten of a [N,C,H,W] map


class _Exporter:
    def __init__(self, module, example_input, mean=None, std=None):
        if not isinstance(module, nn.Module):
            raise ExportError("export: module must be a torch.nn.Module")
        if not isinstance(example_input, torch.Tensor):
            raise ExportError("export: example_input must be a tensor [N, C, H, W] (or [N, F])")
        self.module = module
        self.example = example_input
        self.norm = (mean, std)
        self.nodes = []        # runner nodes (dicts); layers carry "_w", "_b", "_kind", "_label"
        self.vals = {}         # fx node -> _Val (tensors only)
        self.count = 0
        self.tensor_names = set()

    # ------------------------------------------------------------ helpers
    def fresh(self):
        self.count += 1
        return f"v{self.count}"

    def tensor_name(self, base):
        base = re.sub(r"[^A-Za-z0-9_.]", "_", base)[:MAX_TENSOR_NAME - 8] or "t"
        name, k = base, 1
        while name in self.tensor_names:
            k += 1
            name = f"{base}_{k}"
        self.tensor_names.add(name)
        return name

    def val(self, arg, where):
        if not isinstance(arg, torch.fx.Node) or arg not in self.vals:
            raise ExportError(f"{where}: an input is not a tensor computed by the model ({arg!r}); "
                              f"constants and parameters used directly are not supported")
        return self.vals[arg]

    def shape_of(self, node):
        meta = node.meta.get("tensor_meta")
        if meta is None or not hasattr(meta, "shape"):
            return None
        return tuple(int(s) for s in meta.shape)

    def emit(self, node, op, inputs, where, flat_chw=None, **attrs):
        """Appends a runner node computing fx node `node` from the _Vals `inputs`. A flattened feature
        map may only enter an elementwise op whose output keeps its order (flat_chw the same)."""
        for v in inputs:
            if v.flat_chw is not None and v.flat_chw != flat_chw:
                raise ExportError(f"{where}: uses a flattened feature map (C={v.flat_chw[0]}, "
                                  f"H={v.flat_chw[1]}, W={v.flat_chw[2]}) other than as the input of a "
                                  f"Linear: its element order differs between PyTorch (c, h, w) and the "
                                  f"runner (h, w, c)")
        out = self.fresh()
        nd = {"op": op, "in": [v.name for v in inputs], "out": out}
        nd.update(attrs)
        self.nodes.append(nd)
        self.vals[node] = _Val(out, self.shape_of(node), len(self.nodes) - 1, flat_chw)
        return nd

    def alias(self, node, v):
        self.vals[node] = v

    def check_inplace(self, node, src, where):
        """An in-place op changes its input for the later users of that input too."""
        order = {n: i for i, n in enumerate(self.gm.graph.nodes)}
        later = [u for u in src.users if u is not node and order[u] > order[node]]
        if later:
            raise ExportError(f"{where}: works in place on a tensor that '{later[0].name}' also reads "
                              f"afterwards; use the out-of-place form (inplace=False)")

    # ------------------------------------------------------------ ops
    def conv(self, node, m, where):
        x = self.val(node.args[0], where)
        if len(x.shape) != 4:
            raise ExportError(f"{where}: Conv2d on a tensor of shape {list(x.shape)}")
        if m.padding_mode != "zeros":
            raise ExportError(f"{where}: Conv2d padding_mode '{m.padding_mode}' (only 'zeros')")
        cin, cout, g = m.in_channels, m.out_channels, m.groups
        kh, kw = m.kernel_size
        sh, sw = m.stride
        dh, dw = m.dilation
        if isinstance(m.padding, str):
            if m.padding == "valid":
                pad = [0, 0, 0, 0]
            else:  # "same" (stride 1): PyTorch puts the odd extra at the end
                th, tw = dh * (kh - 1), dw * (kw - 1)
                pad = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
        else:
            ph, pw = _pair(m.padding, where + " padding")
            pad = [ph, pw, ph, pw]
        w = m.weight.detach().double().numpy()
        b = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(cout)
        attrs = {}
        if g == 1:
            kind, op = "conv", "conv2d"
        elif g == cin and cout == cin:
            kind, op = "dw", "dwconv2d"
        else:  # grouped: weight [out][in / g][kh][kw], written [out][kh][kw][in / g] as for groups = 1
            kind, op = "conv", "conv2d"
            attrs["groups"] = g
        nd = self.emit(node, op, [x], where, kernel=[kh, kw], stride=[sh, sw], pad=pad, dilation=[dh, dw], **attrs)
        nd.update(_kind=kind, _w=w, _b=b, _label=self.qualname)
        return nd

    def linear(self, node, m, where):
        x = self.val(node.args[0], where)
        if len(x.shape) != 2:
            raise ExportError(f"{where}: Linear on a tensor of shape {list(x.shape)}; flatten to [N, features] first")
        w = m.weight.detach().double().numpy()
        b = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(m.out_features)
        if x.flat_chw is not None:
            c, h, wd = x.flat_chw
            w = w.reshape(w.shape[0], c, h, wd).transpose(0, 2, 3, 1).reshape(w.shape[0], c * h * wd)
        # the flatten tag is consumed here: "emit" checks it for every other op
        xin = _Val(x.name, x.shape, x.producer)
        nd = self.emit(node, "dense", [xin], where)
        nd.update(_kind="dense", _w=w, _b=b, _label=self.qualname)
        return nd

    def readers(self, v, node):
        """The fx nodes other than `node` that read the runner value of _Val v (through aliases)."""
        same = {n for n, w in self.vals.items() if w.name == v.name}
        return [u for n in same for u in n.users if u is not node and u not in same]

    def batchnorm(self, node, m, where):
        src = node.args[0]
        x = self.val(src, where)
        kind = type(m).__name__
        if not m.track_running_stats or m.running_mean is None:
            raise ExportError(f"{where}: {kind} without running statistics (track_running_stats=False)")
        want = 4 if isinstance(m, nn.BatchNorm2d) else 2
        if len(x.shape) != want:
            raise ExportError(f"{where}: {kind} on a tensor of shape {list(x.shape)}")
        mean = m.running_mean.detach().double().numpy()
        var = m.running_var.detach().double().numpy()
        gamma = m.weight.detach().double().numpy() if m.weight is not None else np.ones_like(mean)
        beta = m.bias.detach().double().numpy() if m.bias is not None else np.zeros_like(mean)
        s = gamma / np.sqrt(var + m.eps)
        b = beta - mean * s
        prod = self.nodes[x.producer] if x.producer is not None else None
        ok_kinds = ("conv", "dw") if isinstance(m, nn.BatchNorm2d) else ("dense",)
        if prod is not None and prod.get("_kind") in ok_kinds and prod["out"] == x.name and \
                not self.readers(x, node):
            w = prod["_w"]  # folded: y = s (x . w + b0) + b
            prod["_w"] = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
            prod["_b"] = prod["_b"] * s + b
            # what the batch norm says of the folded layer's output channels (the
            # inputs' mean and variance are its running statistics): mean beta,
            # deviation |gamma| sqrt(var / (var + eps)); kept as "out_stats" for
            # data-free (analytic) bias correction of the layers it feeds
            prod["_stats"] = np.stack([beta, np.abs(gamma) * np.sqrt(var / (var + m.eps))])
            self.alias(node, x)
            return
        if x.flat_chw is not None:  # per-feature of a flattened map: into the runner's (h, w, c) order
            c, h, wd = x.flat_chw
            s = s.reshape(c, h, wd).transpose(1, 2, 0).reshape(-1)
            b = b.reshape(c, h, wd).transpose(1, 2, 0).reshape(-1)
        nd = self.emit(node, "batchnorm", [x], where, flat_chw=x.flat_chw)
        nd.update(_kind="bn", _w=s, _b=b, _label=self.qualname)

    def pool(self, node, op, where, kernel, stride, padding, dilation=1, ceil_mode=False,
             count_include_pad=True, divisor_override=None, return_indices=False):
        x = self.val(node.args[0], where)
        if len(x.shape) != 4:
            raise ExportError(f"{where}: pooling on a tensor of shape {list(x.shape)}")
        k = _pair(kernel, where + " kernel_size")
        st = _pair(stride, where + " stride") if stride not in (None, [], ()) else list(k)
        ph, pw = _pair(padding, where + " padding")
        if _pair(dilation, where + " dilation") != [1, 1]:
            raise ExportError(f"{where}: pooling with dilation {dilation}")
        if return_indices:
            raise ExportError(f"{where}: MaxPool2d with return_indices=True")
        if divisor_override:
            raise ExportError(f"{where}: AvgPool2d with divisor_override={divisor_override}")
        attrs = dict(kernel=k, stride=st, pad=[ph, pw, ph, pw], ceil_mode=bool(ceil_mode))
        if op == "avgpool":
            attrs["count_include_pad"] = bool(count_include_pad)
        self.emit(node, op, [x], where, **attrs)

    def gap(self, node, where):
        x = self.val(node.args[0], where)
        if len(x.shape) != 4:
            raise ExportError(f"{where}: global average pooling of a tensor of shape {list(x.shape)}")
        self.emit(node, "gap", [x], where)

    def flatten(self, node, where):
        """flatten / view / reshape / unsqueeze / squeeze: to [N, -1], or between the shapes of a map
        without spatial extent ([N, C], [N, C, 1], [N, C, 1, 1]: one runner value [1, 1, C])."""
        x = self.val(node.args[0], where)
        out = self.shape_of(node)
        n = x.shape[0]

        def chan_only(s):
            return len(s) >= 2 and all(d == 1 for d in s[2:])
        if out is None or len(out) < 2 or out[0] != n or int(np.prod(out[1:])) != int(np.prod(x.shape[1:])):
            raise ExportError(f"{where}: a reshape from {list(x.shape)} to {list(out or [])}; only a flatten "
                              f"to [N, -1] is supported (or between [N, C] and [N, C, 1, 1])")
        if tuple(out) == x.shape or chan_only(x.shape) and chan_only(out) and (len(out) == 2 or x.flat_chw is None):
            self.alias(node, _Val(x.name, out, x.producer, x.flat_chw))
            return
        if len(out) != 2 or len(x.shape) != 4:
            raise ExportError(f"{where}: a reshape from {list(x.shape)} to {list(out)}; only a flatten "
                              f"to [N, -1] is supported (or between [N, C] and [N, C, 1, 1])")
        c, h, w = x.shape[1:]
        self.emit(node, "flatten", [x], where, flat_chw=(c, h, w) if h * w > 1 and c > 1 else None)

    def unary(self, node, op, where, **attrs):
        x = self.val(node.args[0], where)
        return self.emit(node, op, [x], where, flat_chw=x.flat_chw, **attrs)

    def binary(self, node, op, where, args, alpha=1):
        """add / mul: the same shapes, or a [N, C, 1, 1] operand (written second) over [N, C, H, W]."""
        if len(args) < 2:
            raise ExportError(f"{where}: {op} needs two tensors")
        if alpha != 1:
            raise ExportError(f"{where}: add with alpha={alpha}")
        if not all(isinstance(t, torch.fx.Node) and t in self.vals for t in args[:2]):
            raise ExportError(f"{where}: {op} with a constant or a parameter ({args[0]!r}, {args[1]!r}); only "
                              f"{op} of two tensors computed by the model is supported")
        a = self.val(args[0], where)
        b = self.val(args[1], where)

        def per_channel(small, big):
            return len(big.shape) == 4 and small.shape == (big.shape[0], big.shape[1], 1, 1)
        if a.shape == b.shape:
            return self.emit(node, op, [a, b], where, flat_chw=a.flat_chw if a.flat_chw == b.flat_chw else None)
        if per_channel(a, b):
            a, b = b, a
        elif not per_channel(b, a):
            raise ExportError(f"{where}: {op} of shapes {list(a.shape)} and {list(b.shape)}; only the same "
                              f"shape, or a per-channel [N, C, 1, 1] with [N, C, H, W]")
        self.emit(node, op, [a, b], where)

    def concat(self, node, where, tensors, dim):
        if not isinstance(tensors, (list, tuple)) or not 2 <= len(tensors) <= MAX_CONCAT:
            raise ExportError(f"{where}: cat of {len(tensors) if isinstance(tensors, (list, tuple)) else '?'} "
                              f"tensors; 2 to {MAX_CONCAT} are supported")
        vs = [self.val(t, where) for t in tensors]
        nd = len(vs[0].shape)
        if nd not in (2, 4) or any(len(v.shape) != nd for v in vs) or not isinstance(dim, int) or dim % nd != 1:
            raise ExportError(f"{where}: cat along dim {dim} of tensors of shapes "
                              f"{[list(v.shape) for v in vs]}; only along the channels (dim=1) of [N, C, H, W] "
                              f"or [N, F]")
        self.emit(node, "concat", vs, where)

    def pad(self, node, where, pad, mode="constant", value=None):
        x = self.val(node.args[0], where)
        pad = list(pad) if isinstance(pad, (list, tuple)) else None
        if len(x.shape) != 4 or pad is None or len(pad) % 2 or not 2 <= len(pad) <= 8 or \
                not all(isinstance(p, int) for p in pad):
            raise ExportError(f"{where}: padding {pad} of a tensor of shape {list(x.shape)}; only of H and W "
                              f"of [N, C, H, W]")
        if mode != "constant":
            raise ExportError(f"{where}: padding mode '{mode}'; only 'constant' (zeros or a value)")
        pad += [0] * (4 - len(pad))
        left, right, top, bottom = pad[:4]
        if any(pad[4:]):
            raise ExportError(f"{where}: padding {pad} pads the channels or the batch; only H and W")
        if min(pad) < 0 or max(pad) > MAX_PAD:
            raise ExportError(f"{where}: padding {pad}; each side must be 0 to {MAX_PAD} (negative crops)")
        v = 0.0 if value is None else float(value)
        if not math.isfinite(v):
            raise ExportError(f"{where}: padding value {v}")
        if not any(pad):
            return self.alias(node, x)
        self.emit(node, "pad", [x], where, pad=[top, left, bottom, right], value=v)

    def softmax(self, node, where, dim):
        x = self.val(node.args[0], where)
        if len(x.shape) != 2 or dim not in (None, 1, -1):
            raise ExportError(f"{where}: softmax over dim {dim} of a tensor of shape {list(x.shape)}; only "
                              f"over the features of [N, F]")
        self.emit(node, "softmax", [x], where)

    def leaky(self, node, slope, where):
        if not isinstance(slope, (int, float)) or not math.isfinite(slope):
            raise ExportError(f"{where}: LeakyReLU with negative_slope {slope!r}")
        self.unary(node, "leaky_relu", where, alpha=float(slope))

    def gelu(self, node, approximate, where):
        if approximate not in ("none", "tanh"):
            raise ExportError(f"{where}: GELU with approximate={approximate!r}; only 'none' and 'tanh'")
        self.unary(node, "gelu", where, approximate=approximate)

    def relu6_or_refuse(self, node, lo, hi, where):
        if lo == 0 and hi == 6:
            self.unary(node, "relu6", where)
        elif lo == 0 and hi is None:
            self.unary(node, "relu", where)
        else:
            raise ExportError(f"{where}: clamp / hardtanh to [{lo}, {hi}]; only [0, 6] (ReLU6) and [0, inf) (ReLU)")

    # ------------------------------------------------------------ dispatch
    def call_module(self, node):
        m = self.gm.get_submodule(node.target)
        self.qualname = node.target
        where = f"module '{node.target}' ({type(m).__name__})"
        if isinstance(m, nn.Conv2d):
            return self.conv(node, m, where)
        if isinstance(m, nn.Linear):
            return self.linear(node, m, where)
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            return self.batchnorm(node, m, where)
        if getattr(m, "inplace", False) and isinstance(m, (nn.ReLU, nn.Hardtanh, nn.LeakyReLU, nn.Hardswish,
                                                           nn.Hardsigmoid, nn.SiLU)):
            self.check_inplace(node, node.args[0], where)
        if isinstance(m, nn.ReLU6):
            return self.unary(node, "relu6", where)
        if isinstance(m, nn.Hardtanh):
            return self.relu6_or_refuse(node, m.min_val, m.max_val, where)
        if isinstance(m, nn.ReLU):
            return self.unary(node, "relu", where)
        if isinstance(m, nn.LeakyReLU):
            return self.leaky(node, m.negative_slope, where)
        simple = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid",
                  nn.SiLU: "silu"}
        if type(m) in simple:
            return self.unary(node, simple[type(m)], where)
        if isinstance(m, nn.GELU):
            return self.gelu(node, getattr(m, "approximate", "none"), where)
        if isinstance(m, nn.ConstantPad2d):  # and ZeroPad2d: padding (left, right, top, bottom)
            return self.pad(node, where, m.padding, "constant", m.value)
        if isinstance(m, nn.MaxPool2d):
            return self.pool(node, "maxpool", where, m.kernel_size, m.stride, m.padding, m.dilation,
                             m.ceil_mode, return_indices=m.return_indices)
        if isinstance(m, nn.AvgPool2d):
            return self.pool(node, "avgpool", where, m.kernel_size, m.stride, m.padding, 1, m.ceil_mode,
                             m.count_include_pad, m.divisor_override)
        if isinstance(m, nn.AdaptiveAvgPool2d):
            if _pair(m.output_size, where) != [1, 1]:
                raise ExportError(f"{where}: AdaptiveAvgPool2d({m.output_size}); only output size 1")
            return self.gap(node, where)
        if isinstance(m, nn.Flatten):
            return self.flatten(node, where)
        if isinstance(m, nn.Softmax):
            return self.softmax(node, where, m.dim)
        if isinstance(m, (nn.Dropout, nn.Dropout2d, nn.Identity)):
            return self.alias(node, self.val(node.args[0], where))
        raise _unsupported(where)

    def call_function(self, node, fn, args, kw, method=False):
        name = getattr(fn, "__name__", str(fn))
        where = (f"method '.{fn}()'" if method else f"function '{name}'") + f" (node '{node.name}')"
        self.qualname = node.name

        def arg(i, key, default=None):
            if key in kw:
                return kw[key]
            return args[i] if len(args) > i else default

        if name in ("relu", "relu_"):
            if name == "relu_" or arg(1, "inplace", False):
                self.check_inplace(node, args[0], where)
            return self.unary(node, "relu", where)
        if name in ("relu6",):
            if arg(1, "inplace", False):
                self.check_inplace(node, args[0], where)
            return self.unary(node, "relu6", where)
        if name in ("hardtanh", "hardtanh_"):
            if name == "hardtanh_" or arg(3, "inplace", False):
                self.check_inplace(node, args[0], where)
            return self.relu6_or_refuse(node, arg(1, "min_val", -1.0), arg(2, "max_val", 1.0), where)
        if name in ("clamp", "clip", "clamp_min"):
            lo = arg(1, "min") if name != "clamp_min" else arg(1, "min")
            hi = arg(2, "max") if name != "clamp_min" else None
            return self.relu6_or_refuse(node, lo, hi, where)
        if name in ("add", "add_", "iadd"):
            if name in ("add_", "iadd"):
                self.check_inplace(node, args[0], where)
            return self.binary(node, "add", where, [arg(0, "input"), arg(1, "other")], arg(2, "alpha", 1))
        if name in ("mul", "mul_", "imul"):
            if name in ("mul_", "imul"):
                self.check_inplace(node, args[0], where)
            return self.binary(node, "mul", where, [arg(0, "input"), arg(1, "other")])
        if name in ("cat", "concat", "concatenate"):
            return self.concat(node, where, arg(0, "tensors"), arg(1, "dim", 0))
        if name in ("pad", "_pad"):
            return self.pad(node, where, arg(1, "pad"), arg(2, "mode", "constant"), arg(3, "value"))
        if name in ("leaky_relu", "leaky_relu_"):
            if name == "leaky_relu_" or arg(2, "inplace", False):
                self.check_inplace(node, args[0], where)
            return self.leaky(node, arg(1, "negative_slope", 0.01), where)
        if name in ("sigmoid", "sigmoid_", "tanh", "tanh_", "hardswish", "hardsigmoid", "silu"):
            if name.endswith("_") or arg(1, "inplace", False):
                self.check_inplace(node, args[0], where)
            return self.unary(node, name.rstrip("_"), where)
        if name == "gelu":
            return self.gelu(node, arg(1, "approximate", "none"), where)
        if name in ("max_pool2d", "_max_pool2d", "max_pool2d_with_indices"):
            return self.pool(node, "maxpool", where, arg(1, "kernel_size"), arg(2, "stride"), arg(3, "padding", 0),
                             arg(4, "dilation", 1), arg(5, "ceil_mode", False),
                             return_indices=arg(6, "return_indices", False) or name == "max_pool2d_with_indices")
        if name == "avg_pool2d":
            return self.pool(node, "avgpool", where, arg(1, "kernel_size"), arg(2, "stride"), arg(3, "padding", 0), 1,
                             arg(4, "ceil_mode", False), arg(5, "count_include_pad", True), arg(6, "divisor_override"))
        if name == "adaptive_avg_pool2d":
            if _pair(arg(1, "output_size"), where) != [1, 1]:
                raise ExportError(f"{where}: adaptive_avg_pool2d to {arg(1, 'output_size')}; only output size 1")
            return self.gap(node, where)
        if name == "mean":
            x = self.val(args[0], where)
            dims = arg(1, "dim")
            dims = [dims] if isinstance(dims, int) else list(dims or [])
            if len(x.shape) != 4 or sorted(d % 4 for d in dims) != [2, 3] or kw.get("dtype") is not None:
                raise ExportError(f"{where}: mean over dims {dims} of a tensor of shape {list(x.shape)}; only "
                                  f"over (H, W) of [N, C, H, W]")
            return self.gap(node, where)
        if name in ("flatten", "view", "reshape", "unsqueeze", "squeeze"):
            return self.flatten(node, where)
        if name in ("softmax", "_softmax"):
            if kw.get("dtype") is not None:
                raise ExportError(f"{where}: softmax with dtype={kw['dtype']}")
            return self.softmax(node, where, arg(1, "dim"))
        if name in ("dropout", "dropout2d", "feature_dropout", "alpha_dropout", "contiguous"):
            return self.alias(node, self.val(args[0], where))
        raise _unsupported(where)

    def normalize(self, node, shape):
        c = int(shape[1])
        mean, std = self.norm

        def per_channel(v, default, what):
            if v is None:
                return [default] * c
            v = [float(a) for a in (v.flatten().tolist() if isinstance(v, (torch.Tensor, np.ndarray)) else
                                    ([v] if isinstance(v, (int, float)) else v))]
            if len(v) == 1:
                v = v * c
            if len(v) != c or not all(math.isfinite(a) for a in v):
                raise ExportError(f"export: {what} {v}: expected one finite value per input channel ({c}), or one")
            return v
        m, s = per_channel(mean, 0.0, "mean"), per_channel(std, 1.0, "std")
        if min(s) <= 0:
            raise ExportError(f"export: std {s}: must be positive")
        self.emit(node, "normalize", [self.vals[node]], "normalize", mean=m, std=s)

    # ------------------------------------------------------------ main
    def run(self):
        self.gm = torch.fx.symbolic_trace(self.module)
        ex = self.example.detach().float()
        if ex.dim() not in (2, 4) or ex.shape[0] < 1:
            raise ExportError(f"export: example_input of shape {list(ex.shape)}; expected [N, C, H, W] or [N, F]")
        # two samples, so that a reshape that would also merge the batch shows in the shapes
        ex = ex[:1].expand(2, *ex.shape[1:]).contiguous()
        with torch.no_grad():
            ShapeProp(self.gm).propagate(ex)
        out_val = None
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                if self.vals:
                    raise ExportError(f"export: the model takes more than one input ('{node.name}')")
                self.vals[node] = _Val("x", ex.shape)
                if self.norm != (None, None):
                    self.normalize(node, ex.shape)
                continue
            if node.op == "get_attr":
                raise ExportError(f"export: parameter or buffer '{node.target}' used directly in forward(); "
                                  f"only parameters of supported modules can be exported")
            if node.op == "output":
                res = node.args[0]
                if not isinstance(res, torch.fx.Node) or res not in self.vals:
                    raise ExportError("export: the model must return one tensor")
                out_val = self.vals[res]
                continue
            shape = self.shape_of(node)
            if shape is None:  # x.size(0), x.shape, ... : not tensors, only used by a reshape
                if node.op == "call_method" and node.target == "size" or \
                        node.op == "call_function" and node.target in (getattr, operator.getitem):
                    continue
                raise _unsupported(f"{node.op} '{node.target}' (node '{node.name}', not a tensor)")
            if node.op == "call_module":
                self.call_module(node)
            elif node.op == "call_function":
                self.call_function(node, node.target, node.args, node.kwargs)
            elif node.op == "call_method":
                self.call_function(node, node.target, node.args, node.kwargs, method=True)
            else:
                raise _unsupported(f"{node.op} '{node.target}'")
        if out_val is None or out_val.producer is None:
            raise ExportError("export: the model computes nothing from its input")
        if out_val.flat_chw is not None:
            raise ExportError("export: the model returns a flattened feature map, whose element order "
                              "differs between PyTorch (c, h, w) and the runner (h, w, c)")
        return self.finish(out_val)

    def finish(self, out_val):
        xs = self.example.shape
        in_shape = [int(xs[2]), int(xs[3]), int(xs[1])] if len(xs) == 4 else [1, 1, int(xs[1])]
        tensors = {}
        nodes = []
        for nd in self.nodes:
            nd = dict(nd)
            kind = nd.pop("_kind", None)
            w, b, label = nd.pop("_w", None), nd.pop("_b", None), nd.pop("_label", None)
            stats = nd.pop("_stats", None)
            if kind == "bn":
                sn, bn = self.tensor_name(label + ".scale"), self.tensor_name(label + ".bias")
                tensors[sn] = np.ascontiguousarray(w, dtype="<f4")
                tensors[bn] = np.ascontiguousarray(b, dtype="<f4")
                nd["scale"], nd["bias"] = sn, bn
                if not np.all(np.isfinite(tensors[sn])) or not np.all(np.isfinite(tensors[bn])):
                    raise ExportError(f"export: '{label}' has a NaN or Inf scale or bias")
            elif kind is not None:
                if kind == "conv":
                    wl = w.transpose(0, 2, 3, 1)          # [out][kh][kw][in]
                elif kind == "dw":
                    wl = w[:, 0].transpose(1, 2, 0)       # [kh][kw][c]
                else:
                    wl = w                                # [out][in]
                wn, bn = self.tensor_name(label + ".weight"), self.tensor_name(label + ".bias")
                tensors[wn] = np.ascontiguousarray(wl, dtype="<f4")
                tensors[bn] = np.ascontiguousarray(b, dtype="<f4")
                nd["weight"], nd["bias"] = wn, bn
                if not np.all(np.isfinite(tensors[wn])) or not np.all(np.isfinite(tensors[bn])):
                    raise ExportError(f"export: '{label}' has NaN or Inf weights after folding")
                if stats is not None and np.all(np.isfinite(stats)):  # (else left out: it is optional)
                    sn = self.tensor_name(label + ".out_stats")
                    tensors[sn] = np.ascontiguousarray(stats, dtype="<f4")
                    nd["out_stats"] = sn
            nodes.append(nd)
        for nd in nodes:
            assert len(nd["out"]) <= MAX_VALUE_NAME
        graph = {"inputs": [{"name": "x", "shape": in_shape}], "nodes": nodes, "output": out_val.name}
        return graph, tensors


def write_safetensors(path, tensors, metadata):
    """tensors: name -> numpy array (written little-endian as stored); metadata: str -> str."""
    dtypes = {np.dtype("<f4"): "F32", np.dtype("int8"): "I8", np.dtype("uint8"): "U8", np.dtype("<i4"): "I32",
              np.dtype("<f2"): "F16"}
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        if a.dtype not in dtypes:
            raise ExportError(f"write_safetensors: dtype {a.dtype} of '{name}'")
        raw = a.tobytes()
        header[name] = {"dtype": dtypes[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode("ascii")
    h += b" " * (-len(h) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def to_graph(module, example_input, mean=None, std=None):
    """The runner graph (a dict) and the tensors (name -> float32 array) of `module`."""
    was_training = module.training
    module.eval()
    try:
        return _Exporter(module, example_input, mean, std).run()
    finally:
        module.train(was_training)


def export(module, example_input, path, mean=None, std=None):
    """Writes `module` (traced with torch.fx, in eval mode) to `path` in quant's model format.
    example_input: a tensor [N, C, H, W] (or [N, F]) giving the input shape. mean / std (a float or one
    per input channel): the file starts with a "normalize" node, y = (x - mean[c]) / std[c], so that it
    takes raw inputs where `module` takes normalized ones. Returns the graph dict."""
    graph, tensors = to_graph(module, example_input, mean, std)
    write_safetensors(path, tensors, {"format": "quant-model-1", "graph": json.dumps(graph, separators=(",", ":")),
                                      "variant": "float"})
    return graph


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Supported: " + SUPPORTED)
    ap.add_argument("builder", help="module:callable returning the nn.Module (the module is imported from the "
                                    "current directory or PYTHONPATH)")
    ap.add_argument("out", help="output .safetensors file")
    ap.add_argument("--input-shape", required=True, help="C,H,W (or F) of one sample, e.g. 1,28,28")
    ap.add_argument("--weights", help="a state_dict saved with torch.save, loaded into the module")
    ap.add_argument("--mean", help="input normalization: mean per input channel, comma-separated (or one value)")
    ap.add_argument("--std", help="input normalization: std per input channel, comma-separated (or one value)")
    a = ap.parse_args(argv)
    if ":" not in a.builder:
        ap.error("builder must be module:callable")
    modname, fn = a.builder.split(":", 1)
    sys.path.insert(0, ".")
    model = getattr(importlib.import_module(modname), fn)()
    if a.weights:
        model.load_state_dict(torch.load(a.weights, map_location="cpu"))
    shape = [int(s) for s in a.input_shape.split(",")]
    try:
        floats = lambda t: [float(v) for v in t.split(",")] if t else None  # noqa: E731
        g = export(model, torch.zeros([1] + shape), a.out, floats(a.mean), floats(a.std))
    except ExportError as e:
        print(f"export: {e}", file=sys.stderr)
        return 1
    print(f"wrote {a.out}: {len(g['nodes'])} nodes, input {g['inputs'][0]['shape']} (H, W, C)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
