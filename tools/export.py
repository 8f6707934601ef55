#!/usr/bin/env python3
"""Export a PyTorch nn.Module to quant's model format (README "Model format").

Python:

    import sys; sys.path.insert(0, "tools")
    from export import export
    export(model, torch.zeros(1, 1, 28, 28), "model.safetensors")

Command line (the module is built by a Python callable, no arguments):

    /usr/bin/python3 tools/export.py my_models:build_net model.safetensors \\
        --input-shape 1,28,28 [--weights state_dict.pt]

The module is traced with torch.fx (symbolic tracing) and evaluated in eval
mode. Activations in the runner are NHWC: the input [N,C,H,W] becomes [H,W,C],
conv weights are written [out][kh][kw][in], depthwise [kh][kw][c], dense
[out][in] with the inputs of a flattened feature map in (h, w, c) order (the
columns of a Linear after a flatten are permuted from PyTorch's (c, h, w)).
Batch norm after a Conv2d / Linear is folded into that layer. Anything the
runner cannot compute exactly as PyTorch does is refused with an ExportError
naming the module or function.

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

SUPPORTED = ("Conv2d (groups 1, or depthwise: groups = in = out channels; zero padding), Linear, "
             "BatchNorm2d / BatchNorm1d directly after a Conv2d / Linear (folded), ReLU, ReLU6, "
             "Hardtanh(0, 6), clamp(0) / clamp(0, 6), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), "
             "mean over (H, W), add of two tensors of one shape, flatten / view / reshape to [N, -1] "
             "(followed by a Linear), Softmax(dim=1) on [N, F], Dropout, Identity")

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
    def __init__(self, module, example_input):
        if not isinstance(module, nn.Module):
            raise ExportError("export: module must be a torch.nn.Module")
        if not isinstance(example_input, torch.Tensor):
            raise ExportError("export: example_input must be a tensor [N, C, H, W] (or [N, F])")
        self.module = module
        self.example = example_input
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
        """Appends a runner node computing fx node `node` from the _Vals `inputs`."""
        for v in inputs:
            if v.flat_chw is not None and op not in ("dense", "relu", "relu6"):
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
        if g == 1:
            kind, op = "conv", "conv2d"
        elif g == cin and cout == cin:
            kind, op = "dw", "dwconv2d"
        else:
            raise ExportError(f"{where}: Conv2d with groups={g} (in {cin}, out {cout}) is not supported; "
                              f"groups must be 1 or equal to in = out channels (depthwise)")
        nd = self.emit(node, op, [x], where, kernel=[kh, kw], stride=[sh, sw], pad=pad, dilation=[dh, dw])
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

    def batchnorm(self, node, m, where):
        src = node.args[0]
        x = self.val(src, where)
        kind = type(m).__name__
        if not m.track_running_stats or m.running_mean is None:
            raise ExportError(f"{where}: {kind} without running statistics cannot be folded")
        prod = self.nodes[x.producer] if x.producer is not None else None
        ok_kinds = ("conv", "dw") if isinstance(m, nn.BatchNorm2d) else ("dense",)
        if prod is None or prod.get("_kind") not in ok_kinds or prod["out"] != x.name:
            raise ExportError(f"{where}: {kind} can only be folded into the Conv2d / Linear directly before "
                              f"it (BatchNorm2d after Conv2d, BatchNorm1d after Linear); its input here comes "
                              f"from '{src.name}'")
        if len(src.users) != 1:
            raise ExportError(f"{where}: {kind} cannot be folded: the output of '{prod['_label']}' before it "
                              f"is also used elsewhere ({', '.join(u.name for u in src.users if u is not node)})")
        if isinstance(m, nn.BatchNorm1d) and len(x.shape) != 2:
            raise ExportError(f"{where}: BatchNorm1d on a tensor of shape {list(x.shape)}")
        mean = m.running_mean.detach().double().numpy()
        var = m.running_var.detach().double().numpy()
        gamma = m.weight.detach().double().numpy() if m.weight is not None else np.ones_like(mean)
        beta = m.bias.detach().double().numpy() if m.bias is not None else np.zeros_like(mean)
        s = gamma / np.sqrt(var + m.eps)
        w = prod["_w"]
        prod["_w"] = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
        prod["_b"] = (prod["_b"] - mean) * s + beta
        self.alias(node, x)

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
        x = self.val(node.args[0], where)
        out = self.shape_of(node)
        n = x.shape[0]
        if out is None or len(out) != 2 or out[0] != n or out[1] != int(np.prod(x.shape[1:])):
            raise ExportError(f"{where}: a reshape from {list(x.shape)} to {list(out or [])}; only a flatten "
                              f"to [N, -1] is supported")
        if len(x.shape) == 2:
            self.alias(node, x)
            return
        if len(x.shape) != 4:
            raise ExportError(f"{where}: flatten of a tensor of shape {list(x.shape)}")
        c, h, w = x.shape[1:]
        self.emit(node, "flatten", [x], where, flat_chw=(c, h, w) if h * w > 1 and c > 1 else None)

    def unary(self, node, op, where, src=None):
        x = self.val(node.args[0] if src is None else src, where)
        nd = self.emit(node, op, [x], where, flat_chw=x.flat_chw)
        return nd

    def add(self, node, where, alpha=1):
        if len(node.args) < 2:
            raise ExportError(f"{where}: add needs two tensors")
        if alpha != 1:
            raise ExportError(f"{where}: add with alpha={alpha}")
        a = self.val(node.args[0], where)
        b = self.val(node.args[1], where)
        if a.shape != b.shape:
            raise ExportError(f"{where}: add of shapes {list(a.shape)} and {list(b.shape)} (broadcasting is "
                              f"not supported)")
        self.emit(node, "add", [a, b], where)

    def softmax(self, node, where, dim):
        x = self.val(node.args[0], where)
        if len(x.shape) != 2 or dim not in (None, 1, -1):
            raise ExportError(f"{where}: softmax over dim {dim} of a tensor of shape {list(x.shape)}; only "
                              f"over the features of [N, F]")
        self.emit(node, "softmax", [x], where)

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
        if isinstance(m, nn.ReLU6):
            if m.inplace:
                self.check_inplace(node, node.args[0], where)
            return self.unary(node, "relu6", where)
        if isinstance(m, nn.Hardtanh):
            if m.inplace:
                self.check_inplace(node, node.args[0], where)
            return self.relu6_or_refuse(node, m.min_val, m.max_val, where)
        if isinstance(m, nn.ReLU):
            if m.inplace:
                self.check_inplace(node, node.args[0], where)
            return self.unary(node, "relu", where)
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
            return self.add(node, where, arg(2, "alpha", 1))
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
        if name in ("flatten", "view", "reshape"):
            return self.flatten(node, where)
        if name in ("softmax", "_softmax"):
            if kw.get("dtype") is not None:
                raise ExportError(f"{where}: softmax with dtype={kw['dtype']}")
            return self.softmax(node, where, arg(1, "dim"))
        if name in ("dropout", "dropout2d", "feature_dropout", "alpha_dropout", "contiguous"):
            return self.alias(node, self.val(args[0], where))
        raise _unsupported(where)

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
            if kind is not None:
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


def to_graph(module, example_input):
    """The runner graph (a dict) and the tensors (name -> float32 array) of `module`."""
    was_training = module.training
    module.eval()
    try:
        return _Exporter(module, example_input).run()
    finally:
        module.train(was_training)


def export(module, example_input, path):
    """Writes `module` (traced with torch.fx, in eval mode) to `path` in quant's model format.
    example_input: a tensor [N, C, H, W] (or [N, F]) giving the input shape. Returns the graph dict."""
    graph, tensors = to_graph(module, example_input)
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
        g = export(model, torch.zeros([1] + shape), a.out)
    except ExportError as e:
        print(f"export: {e}", file=sys.stderr)
        return 1
    print(f"wrote {a.out}: {len(g['nodes'])} nodes, input {g['inputs'][0]['shape']} (H, W, C)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
