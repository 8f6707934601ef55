#!/usr/bin/python3
"""gen_golden.py - PyTorch golden vectors for quant.h (tests/test_golden.c).

Run from the repository root with Debian's python3-torch (1.13):

    /usr/bin/python3 tools/gen_golden.py [outdir]      # default tests/golden

The output is deterministic (fixed seeds, one thread) and small (a few
hundred kB). Regenerate only when the set of cases changes; the files are
committed so the C test needs neither Python nor torch.

FILE FORMAT
===========
Plain ASCII, whitespace-separated tokens; line breaks are only for the
reader. '#' starts a comment that runs to the end of the line. Floats are
the 8 hex digits of their IEEE-754 binary32 bit pattern (no 0x, so C reads
them exactly); integers are decimal. Every file starts with

    quant-golden 1 <kind> <ncases>

and then holds <ncases> cases of that kind. Common fields:

    dtype    0 = qint8, 1 = quint8, 2 = qint32 (observer custom ranges only)
    scheme   0 = affine, 1 = symmetric            (quant_scheme values)
    kind     0 = MinMaxObserver, 1 = MovingAverageMinMaxObserver
    avg      averaging constant as float bits (00000000 for MinMax)
    reduce   reduce_range 0 / 1
    custom   1 when quant_min / quant_max were passed to the observer
    qmin qmax  the range torch actually used (observer.quant_min/quant_max)
    shape    ndim d0 d1 ... (row-major, contiguous)

observer.txt (kind "obs"), one case:
    OBS <name> <kind> <avg> <nbatches> <nparams>
    B <n> <x0> ... <xn-1>                nbatches times (n may be 0, nbatches too)
    MM <min> <max>                  torch's final min_val / max_val buffers
    P <scheme> <dtype> <reduce> <custom> <qmin> <qmax> <scale> <zp>   nparams times
  Every P line is a fresh observer of the given kind fed the same batches,
  then calculate_qparams().

observer_pc.txt (kind "obs_pc"):
    OPC <name> <kind> <avg> <axis> <channels> <nbatches> <nparams>
    B <shape> <x...>            nbatches times (non-channel dims may differ)
    MM <min x channels> <max x channels>
    P <scheme> <dtype> <reduce> <custom> <qmin> <qmax> <scale x channels> <zp x channels>

quantize.txt (kind "quantize"): torch.quantize_per_tensor(x, s, zp, dt).int_repr()
(dtype 2 = qint32 here: range [-2^31, 2^31 - 1]; nonzero zero points only
where |x / s| < 2^24, because torch adds the zero point in float)
    QT <name> <n> <nparams>
    X <x0> ... <xn-1>
    Q <dtype> <scale> <zp> <q0> ... <qn-1>                  nparams times

quantize_pc.txt (kind "quantize_pc"): torch.quantize_per_channel(...).int_repr()
    QC <name> <shape> <nparams>
    X <x...>
    C <axis> <dtype> <scale x channels> <zp x channels> <q...>   nparams times

fake_quant.txt (kind "fake_quant"): torch.fake_quantize_per_tensor_affine;
the mask is the gradient of sum(y) with respect to x (the STE mask).
    FQ <name> <n> <nparams>
    X <x...>
    F <scale> <zp> <qmin> <qmax> <y0> ... <yn-1> <mask>   nparams times
  <mask> is one token of n digits 0/1 (1: the gradient passes).

fake_quant_pc.txt (kind "fake_quant_pc"): torch.fake_quantize_per_channel_affine
    FC <name> <shape> <nparams>
    X <x...>
    G <axis> <qmin> <qmax> <scale x channels> <zp x channels> <y...> <mask>

WHAT IS LEFT OUT ON PURPOSE
===========================
 * NaN and +-Inf are never fed to torch: its behaviour there is undefined or
   different by design (quant.h skips NaN/Inf in observers and maps NaN to
   the zero point).
 * Symmetric quint8 with reduce_range: torch returns zero point 128, outside
   its own range [0, 127]; quant.h returns 64. Intended difference.
 * Symmetric with a custom range whose qmin >= 0 (any dtype), and symmetric
   quint8 with any custom range: torch picks the zero point from the dtype
   (quint8: floor((qmin + qmax) / 2); qint8/qint32: 0), quant.h from the
   range (qmin < 0: 0, else (qmin + qmax + 1) / 2). Intended difference.
 * Quantize / fake quant inputs with |x / scale| >= 2^40: torch converts
   zp + round(x / s) to int64 without a range check, which is undefined
   behaviour past 2^63 (on x86 it yields INT64_MIN, so large positive values
   land on qmin). Saturation is still covered by values a little past the
   range.
 * Subnormal or zero scales (quant.h rejects them with QUANT_ESCALE).
 * A 16-bit observer range: torch 1.13 rejects [-32768, 32767] for qint8 /
   quint8, so those cases use dtype qint32 with a custom range.
"""
import os
import sys

import numpy as np
import torch
from torch.ao.quantization.observer import (
    MinMaxObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    PerChannelMinMaxObserver,
)

import warnings

warnings.filterwarnings("ignore")  # reduce_range deprecation chatter
torch.set_num_threads(1)
torch.manual_seed(0)

SEED = 20240601
F32 = np.float32

DT_QINT8, DT_QUINT8, DT_QINT32 = 0, 1, 2
TORCH_DT = {DT_QINT8: torch.qint8, DT_QUINT8: torch.quint8, DT_QINT32: torch.qint32}
DT_RANGE = {DT_QINT8: (-128, 127), DT_QUINT8: (0, 255)}
AFFINE, SYMMETRIC = 0, 1


def hx(v):
    """float32 -> 8 hex digits of its bit pattern."""
    return "%08x" % int(np.array(v, dtype=F32).view(np.uint32))


def hxs(a):
    a = np.ascontiguousarray(np.asarray(a, dtype=F32)).reshape(-1)
    return " ".join("%08x" % u for u in a.view(np.uint32))


def ints(a):
    return " ".join(str(int(v)) for v in np.asarray(a).reshape(-1))


def bits(a):
    """0/1 mask as one token of digits."""
    return "".join("1" if v else "0" for v in np.asarray(a).reshape(-1))


def shape_tok(shape):
    return " ".join(str(d) for d in [len(shape)] + list(shape))


class Out:
    def __init__(self, path, kind, header):
        self.path, self.kind, self.header = path, kind, header
        self.cases = []  # list of list of lines

    def add(self, lines):
        self.cases.append(lines)

    def write(self):
        with open(self.path, "w") as f:
            f.write("# generated by tools/gen_golden.py with torch %s - do not edit\n" % torch.__version__)
            for h in self.header:
                f.write("# %s\n" % h)
            f.write("quant-golden 1 %s %d\n" % (self.kind, len(self.cases)))
            for c in self.cases:
                for ln in c:
                    f.write(ln + "\n")
        return os.path.getsize(self.path)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
rng = np.random.default_rng(SEED)


def normal(n, s=1.0, m=0.0):
    return (rng.standard_normal(n) * s + m).astype(F32)


def with_outliers(n):
    x = normal(n)
    idx = rng.choice(n, size=max(1, n // 20), replace=False)
    x[idx] *= F32(40.0)
    return x


def tie_values(scale, ks):
    """Floats x with x * (1.0f / scale) == k + 0.5 exactly in float32, and
    their neighbours one ulp away."""
    inv = F32(1.0) / F32(scale)
    out = []
    for k in ks:
        t = F32(k + 0.5)
        x0 = F32(t / inv)
        found = None
        cand = x0
        for _ in range(4):
            if F32(cand * inv) == t:
                found = cand
                break
            cand = np.nextafter(cand, F32(np.inf), dtype=F32)
        if found is None:
            cand = x0
            for _ in range(4):
                if F32(cand * inv) == t:
                    found = cand
                    break
                cand = np.nextafter(cand, F32(-np.inf), dtype=F32)
        if found is not None:
            out.append(found)
            out.append(np.nextafter(found, F32(np.inf), dtype=F32))
            out.append(np.nextafter(found, F32(-np.inf), dtype=F32))
    return np.array(out, dtype=F32)


def streams():
    """name -> list of float32 batches (for the per-tensor observers)."""
    S = {}
    S["normal"] = [normal(40), normal(40), normal(31), normal(33)]
    S["normal_shifted"] = [normal(40, 3.7, 0.4), normal(40, 3.7, 0.4), normal(17, 3.7, 0.4)]
    S["lognormal"] = [rng.lognormal(0, 1, 50).astype(F32) for _ in range(3)]
    S["lognormal_mostly_pos"] = [(rng.lognormal(0, 1.5, 40) - 0.3).astype(F32) for _ in range(3)]
    S["outliers"] = [with_outliers(60), with_outliers(60), normal(30)]
    S["outlier_late"] = [normal(40), normal(40), np.array([0.1, 55.0, -0.2], dtype=F32), normal(40)]
    S["constant_pos"] = [np.full(16, 0.7, F32), np.full(9, 0.7, F32)]
    S["constant_neg"] = [np.full(12, -2.5, F32), np.full(5, -2.5, F32)]
    S["zeros"] = [np.zeros(10, F32), np.zeros(3, F32)]
    S["signed_zeros"] = [np.array([-0.0, 0.0, -0.0], F32), np.array([0.0], F32)]
    S["single"] = [np.array([1.2345], F32)]
    S["single_neg"] = [np.array([-3.75], F32)]
    S["single_tiny"] = [np.array([3e-30], F32)]
    S["n2"] = [np.array([-0.5, 0.25], F32), np.array([0.125, 1.0], F32)]
    S["n3"] = [np.array([2.0, -7.0, 0.3], F32)]
    S["n1_batches"] = [np.array([v], F32) for v in (0.3, -1.7, 2.9, 0.01, -0.2)]
    S["tiny"] = [normal(20, 1e-30), normal(20, 1e-30)]
    S["subnormal"] = [np.array([1e-40, -3e-41, 5e-45, 0.0], F32)]
    S["near_eps"] = [np.array([-1e-7, 2e-5, 3e-6], F32), normal(10, 1e-5)]
    S["huge"] = [normal(20, 1e30), normal(20, 1e30)]
    S["huge_pos"] = [np.abs(normal(20, 1e36)) + F32(1e35)]
    S["neg_only"] = [(-np.abs(normal(30)) - 0.1).astype(F32), (-np.abs(normal(30)) - 0.1).astype(F32)]
    S["pos_only"] = [(np.abs(normal(30)) + 0.1).astype(F32), (np.abs(normal(30)) + 0.1).astype(F32)]
    S["pos_only_large"] = [(np.abs(normal(25)) * 100 + 20).astype(F32)]
    S["neg_only_small"] = [(-np.abs(normal(25)) * 0.01 - 0.001).astype(F32)]
    S["ints"] = [rng.integers(-128, 128, 50).astype(F32), rng.integers(-20, 300, 50).astype(F32)]
    S["uniform"] = [rng.uniform(-1, 3, 40).astype(F32) for _ in range(3)]
    S["powers_of_two"] = [np.array([-4.0, 0.5, 8.0, 0.0625], F32), np.array([-16.0, 1.0], F32)]
    S["drifting"] = [normal(30, 1.0, m) for m in (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)]
    S["shrinking"] = [normal(30, s) for s in (10.0, 3.0, 1.0, 0.3, 0.1)]
    S["mixed_mag"] = [(np.sign(normal(40)) * 10.0 ** rng.uniform(-4, 3, 40)).astype(F32)]
    S["torch_note"] = [np.array([0.273939937, -0.273939937, 0.0], F32)]
    S["empty_batch_between"] = [normal(10), np.zeros(0, F32), normal(10, 2.0)]
    S["empty_batch_first"] = [np.zeros(0, F32), normal(7, 0.5, 1.0), normal(7)]
    S["no_batches"] = []  # torch: min +inf, max -inf, params (1.0, 0)
    return S


# --------------------------------------------------------------------------
# observer configurations: (scheme, dtype, reduce, custom_min, custom_max)
# --------------------------------------------------------------------------
OBS_CONFIGS = [
    (AFFINE, DT_QINT8, 0, None, None),
    (AFFINE, DT_QINT8, 1, None, None),
    (AFFINE, DT_QUINT8, 0, None, None),
    (AFFINE, DT_QUINT8, 1, None, None),
    (AFFINE, DT_QINT8, 0, -8, 7),
    (AFFINE, DT_QINT8, 1, -8, 7),
    (AFFINE, DT_QINT8, 0, -2, 1),
    (AFFINE, DT_QINT8, 0, -1, 1),
    (AFFINE, DT_QINT8, 0, -127, 127),
    (AFFINE, DT_QINT8, 0, -3, 12),
    (AFFINE, DT_QUINT8, 0, 0, 15),
    (AFFINE, DT_QUINT8, 1, 0, 15),
    (AFFINE, DT_QUINT8, 0, 0, 3),
    (AFFINE, DT_QINT32, 0, -32768, 32767),
    (AFFINE, DT_QINT32, 0, 0, 65535),
    (SYMMETRIC, DT_QINT8, 0, None, None),
    (SYMMETRIC, DT_QINT8, 1, None, None),
    (SYMMETRIC, DT_QUINT8, 0, None, None),
    # (SYMMETRIC, DT_QUINT8, 1, ...) left out: torch zp 128 outside [0, 127].
    (SYMMETRIC, DT_QINT8, 0, -8, 7),
    (SYMMETRIC, DT_QINT8, 1, -8, 7),
    (SYMMETRIC, DT_QINT8, 0, -2, 1),
    (SYMMETRIC, DT_QINT8, 0, -1, 1),
    (SYMMETRIC, DT_QINT8, 0, -127, 127),
    (SYMMETRIC, DT_QINT8, 0, -3, 12),
    (SYMMETRIC, DT_QINT32, 0, -32768, 32767),
    # symmetric custom ranges with qmin >= 0 / quint8 custom: left out (see top).
]

PC_CONFIGS = [
    (AFFINE, DT_QINT8, 0, None, None),
    (AFFINE, DT_QUINT8, 0, None, None),
    (AFFINE, DT_QUINT8, 1, None, None),
    (AFFINE, DT_QINT8, 0, -8, 7),
    (AFFINE, DT_QUINT8, 0, 0, 15),
    (AFFINE, DT_QINT8, 0, -1, 1),
    (SYMMETRIC, DT_QINT8, 0, None, None),
    (SYMMETRIC, DT_QINT8, 1, None, None),
    (SYMMETRIC, DT_QUINT8, 0, None, None),
    (SYMMETRIC, DT_QINT8, 0, -8, 7),
    (SYMMETRIC, DT_QINT8, 0, -127, 127),
]

QSCHEME_PT = {AFFINE: torch.per_tensor_affine, SYMMETRIC: torch.per_tensor_symmetric}
QSCHEME_PC = {AFFINE: torch.per_channel_affine, SYMMETRIC: torch.per_channel_symmetric}
AVG = [None, 0.01, 0.25]  # None: MinMax


def make_obs(avg, cfg, per_channel=False, axis=0):
    scheme, dt, red, cmin, cmax = cfg
    kw = dict(dtype=TORCH_DT[dt], reduce_range=bool(red))
    if cmin is not None:
        kw.update(quant_min=cmin, quant_max=cmax)
    if per_channel:
        kw["qscheme"] = QSCHEME_PC[scheme]
        kw["ch_axis"] = axis
        if avg is None:
            return PerChannelMinMaxObserver(**kw)
        return MovingAveragePerChannelMinMaxObserver(averaging_constant=avg, **kw)
    kw["qscheme"] = QSCHEME_PT[scheme]
    if avg is None:
        return MinMaxObserver(**kw)
    return MovingAverageMinMaxObserver(averaging_constant=avg, **kw)


def cfg_skip(cfg):
    scheme, dt, red, cmin, cmax = cfg
    if scheme != SYMMETRIC:
        return False
    if dt == DT_QUINT8 and (red or cmin is not None):
        return True
    if cmin is not None and cmin >= 0:
        return True
    return False


def run_observer_pt(avg, cfg, batches):
    o = make_obs(avg, cfg)
    for b in batches:
        o(torch.from_numpy(b.copy()))
    s, z = o.calculate_qparams()
    return o, float(s.reshape(-1)[0]), int(z.reshape(-1)[0])


def gen_observers(path):
    out = Out(path, "obs", ["per-tensor MinMaxObserver / MovingAverageMinMaxObserver calculate_qparams"])
    nparams = 0
    for name, batches in streams().items():
        for avg in AVG:
            kind = 0 if avg is None else 1
            lines = []
            mm = None
            plines = []
            for cfg in OBS_CONFIGS:
                assert not cfg_skip(cfg)
                o, s, z = run_observer_pt(avg, cfg, batches)
                cur = (hx(o.min_val.item()), hx(o.max_val.item()))
                assert mm is None or mm == cur
                mm = cur
                scheme, dt, red, cmin, cmax = cfg
                plines.append("P %d %d %d %d %d %d %s %d" % (
                    scheme, dt, red, 0 if cmin is None else 1, o.quant_min, o.quant_max, hx(s), z))
            lines.append("OBS %s_%s %d %s %d %d" % (
                name, "minmax" if avg is None else "ma%g" % avg, kind,
                hx(0.0 if avg is None else avg), len(batches), len(plines)))
            for b in batches:
                lines.append("B %d %s" % (b.size, hxs(b)))
            lines.append("MM %s %s" % mm)
            lines.extend(plines)
            nparams += len(plines)
            out.add(lines)
    return out, nparams


# --------------------------------------------------------------------------
# per-channel observers
# --------------------------------------------------------------------------
def pc_batch(shape, axis, style):
    """A tensor whose channels along `axis` have deliberately different
    statistics: channel c gets one of several behaviours."""
    x = rng.standard_normal(shape).astype(F32)
    C = shape[axis]
    xm = np.moveaxis(x, axis, 0)  # view
    for c in range(C):
        k = (c + style) % 7
        if k == 0:
            xm[c] *= F32(0.1)
        elif k == 1:
            xm[c] = np.abs(xm[c]) + F32(0.5)          # positive only
        elif k == 2:
            xm[c] = -np.abs(xm[c]) * F32(3.0) - F32(0.2)  # negative only
        elif k == 3:
            xm[c] = F32(0.0)                           # all zero
        elif k == 4:
            xm[c] = F32(1.75)                          # constant
        elif k == 5:
            xm[c] *= F32(1e-30)                        # tiny
        else:
            xm[c] = xm[c] * F32(25.0) + F32(3.0)
    return np.ascontiguousarray(x)


PC_SETUPS = [
    # name, list of batch shapes, axis
    ("2d_ax0", [(6, 5), (6, 3), (6, 7)], 0),
    ("2d_ax1", [(4, 7), (2, 7), (5, 7)], 1),
    ("4d_ax0", [(5, 3, 2, 2), (5, 2, 3, 1)], 0),
    ("4d_ax1", [(2, 8, 3, 3), (1, 8, 2, 4), (3, 8, 1, 2)], 1),
    ("4d_ax3", [(2, 3, 2, 6), (1, 2, 4, 6)], 3),
    ("3d_ax2", [(2, 3, 4), (3, 1, 4)], 2),
    ("2d_single_col", [(3, 1), (3, 1)], 0),
    ("2d_ax1_empty_batch", [(3, 4), (0, 4), (2, 4)], 1),
]


def gen_observers_pc(path):
    out = Out(path, "obs_pc", ["PerChannelMinMaxObserver / MovingAveragePerChannelMinMaxObserver"])
    nparams = 0
    for si, (name, shapes, axis) in enumerate(PC_SETUPS):
        batches = [pc_batch(s, axis, si + i) for i, s in enumerate(shapes)]
        C = shapes[0][axis]
        for avg in AVG:
            kind = 0 if avg is None else 1
            mm = None
            plines = []
            for cfg in PC_CONFIGS:
                assert not cfg_skip(cfg)
                o = make_obs(avg, cfg, per_channel=True, axis=axis)
                for b in batches:
                    o(torch.from_numpy(b.copy()))
                s, z = o.calculate_qparams()
                cur = (hxs(o.min_val.numpy()), hxs(o.max_val.numpy()))
                assert mm is None or mm == cur
                mm = cur
                scheme, dt, red, cmin, cmax = cfg
                assert s.numel() == C and z.numel() == C
                plines.append("P %d %d %d %d %d %d %s %s" % (
                    scheme, dt, red, 0 if cmin is None else 1, o.quant_min, o.quant_max,
                    hxs(s.numpy()), ints(z.numpy())))
            lines = ["OPC %s_%s %d %s %d %d %d %d" % (
                name, "minmax" if avg is None else "ma%g" % avg, kind,
                hx(0.0 if avg is None else avg), axis, C, len(batches), len(plines))]
            for b in batches:
                lines.append("B %s %s" % (shape_tok(b.shape), hxs(b)))
            lines.append("MM %s %s" % mm)
            lines.extend(plines)
            nparams += len(plines)
            out.add(lines)
    return out, nparams


# --------------------------------------------------------------------------
# quantize per tensor
# --------------------------------------------------------------------------
LIMIT = 2.0 ** 40  # |x / scale| above this hits torch's int64 conversion UB


def fits(x, scale):
    return float(np.max(np.abs(x.astype(np.float64)))) / float(scale) < LIMIT if x.size else True


def quant_sets():
    """name -> float32 array for the quantize / fake quant files."""
    D = {}
    D["normal"] = normal(64)
    D["normal_wide"] = normal(64, 50.0)
    D["lognormal"] = rng.lognormal(0, 1, 64).astype(F32)
    D["outliers"] = with_outliers(80)
    D["constant"] = np.full(7, 0.7, F32)
    D["zeros"] = np.array([0.0, -0.0, 0.0], F32)
    D["single"] = np.array([0.3], F32)
    D["n2"] = np.array([-1.0, 1.0], F32)
    D["tiny"] = normal(16, 1e-30)
    D["subnormal"] = np.array([1e-40, -1e-40, 5e-45, -5e-45], F32)
    D["huge"] = normal(16, 1e30)
    D["neg_only"] = (-np.abs(normal(32)) - 0.05).astype(F32)
    D["pos_only"] = (np.abs(normal(32)) + 0.05).astype(F32)
    D["saturating"] = np.array([-1e6, -1e3, -300.0, -129.0, -128.6, 128.6, 255.4, 256.0, 1e3, 1e6, 3e9, -3e9], F32)
    D["ties_half"] = (np.arange(-260, 261, 3, dtype=F32) + F32(0.5)) * F32(0.5)
    D["ties_0.1"] = tie_values(0.1, range(-140, 140, 5))
    D["ties_0.0213"] = tie_values(0.0213, range(-135, 135, 5))
    D["torch_note"] = np.array([0.273939937, -0.273939937, 0.273939907], F32)
    D["ints"] = rng.integers(-300, 300, 64).astype(F32)
    D["uniform01"] = rng.uniform(0, 1, 64).astype(F32)
    return D


def observer_params(x, dt, scheme):
    o = make_obs(None, (scheme, dt, 0, None, None))
    o(torch.from_numpy(x.copy()))
    s, z = o.calculate_qparams()
    return float(s.reshape(-1)[0]), int(z.reshape(-1)[0])


FIXED_SCALES = [0.1, 0.05, 0.0078125, 0.0625, 1.0, 3.0, 1e-3, 0.0213, 0.5, 0.00214854861, 7.3e-5]
ZPS = {DT_QUINT8: [0, 1, 127, 128, 255, 37], DT_QINT8: [0, -128, 127, -1, 5, -37]}


# Data sets built around one scale: that scale always goes with them, with
# even and odd zero points (an odd zero point tells round(zp + t) from
# zp + round(t) on ties).
TIE_SCALES = {"ties_half": 0.5, "ties_0.1": 0.1, "ties_0.0213": 0.0213, "torch_note": 0.00214854861}
I32_ZPS = [0, 1, -7, 1000001, -65536]
TIE_ZPS = {DT_QINT8: [0, 1, -3, 100], DT_QUINT8: [0, 1, 128, 77]}


def param_list(x, salt, name):
    """(dtype, scale(float32), zp) to use with data x: the observers' params,
    five of the fixed scales (a different five for each data set) and a
    random one."""
    P = []
    for dt in (DT_QINT8, DT_QUINT8):
        for scheme in (AFFINE, SYMMETRIC):
            s, z = observer_params(x, dt, scheme)
            P.append((dt, F32(s), z))
        zs = ZPS[dt]
        for j in range(5):
            i = (salt * 5 + j + dt) % len(FIXED_SCALES)
            P.append((dt, F32(FIXED_SCALES[i]), zs[(i + salt) % len(zs)]))
        if name in TIE_SCALES:
            for z in TIE_ZPS[dt]:
                P.append((dt, F32(TIE_SCALES[name]), z))
        for j in range(1):
            s = F32(10.0 ** rng.uniform(-3, 1))
            P.append((dt, s, int(rng.integers(DT_RANGE[dt][0], DT_RANGE[dt][1] + 1))))
    # qint32: torch adds the zero point in float (zp + nearbyintf(t)), which
    # rounds once |t| >= 2^24; quant.h adds exactly. Nonzero zero points only
    # where |t| < 2^24 (a torch precision artefact, not a quant.h contract).
    for j in range(2):
        s = F32(FIXED_SCALES[(salt + 4 * j) % len(FIXED_SCALES)])
        z = I32_ZPS[(salt + j) % len(I32_ZPS)]
        if x.size and float(np.max(np.abs(x.astype(np.float64)))) / float(s) >= 2.0 ** 24:
            z = 0
        P.append((DT_QINT32, s, z))
    out = []
    seen = set()
    for dt, s, z in P:
        key = (dt, hx(s), z)
        if key in seen or not fits(x, s) or not np.isfinite(s) or s < F32(1.1754944e-38):
            continue
        seen.add(key)
        out.append((dt, s, z))
    return out


def gen_quantize(path):
    out = Out(path, "quantize", ["torch.quantize_per_tensor(x, scale, zp, dtype).int_repr()"])
    nparams = 0
    for salt, (name, x) in enumerate(quant_sets().items()):
        pl = param_list(x, salt, name)
        lines = ["QT %s %d %d" % (name, x.size, len(pl)), "X " + hxs(x)]
        for dt, s, z in pl:
            q = torch.quantize_per_tensor(torch.from_numpy(x.copy()), float(s), z, TORCH_DT[dt]).int_repr()
            lines.append("Q %d %s %d %s" % (dt, hx(s), z, ints(q.numpy())))
        nparams += len(pl)
        out.add(lines)
    # qint32 saturation: |t| far past 2^31, zero point 0 (see param_list)
    x = np.array([1e9, -3e9, 2.5e9, 16777216.0, 2147483520.0, 2147483648.0, -2147483648.0,
                  -2147483904.0, 0.5, 1.5, -2.5, 3e11, -3e11], F32)
    pl = [(DT_QINT32, F32(1.0), 0), (DT_QINT32, F32(0.5), 0), (DT_QINT32, F32(0.25), 0)]
    lines = ["QT int32_edges %d %d" % (x.size, len(pl)), "X " + hxs(x)]
    for dt, s, z in pl:
        q = torch.quantize_per_tensor(torch.from_numpy(x.copy()), float(s), z, TORCH_DT[dt]).int_repr()
        lines.append("Q %d %s %d %s" % (dt, hx(s), z, ints(q.numpy())))
    nparams += len(pl)
    out.add(lines)
    return out, nparams


# --------------------------------------------------------------------------
# quantize per channel
# --------------------------------------------------------------------------
QC_SETUPS = [
    ("2d", (6, 5)),
    ("2d_wide", (3, 17)),
    ("4d", (4, 3, 2, 3)),
    ("3d", (2, 5, 3)),
    ("1d", (9,)),
]


def pc_params(x, axis, dt, style):
    C = x.shape[axis]
    lo, hi = DT_RANGE[dt]
    if style == "observer_affine" or style == "observer_symmetric":
        scheme = AFFINE if style == "observer_affine" else SYMMETRIC
        o = make_obs(None, (scheme, dt, 0, None, None), per_channel=True, axis=axis)
        o(torch.from_numpy(x.copy()))
        s, z = o.calculate_qparams()
        return s.numpy().astype(F32), z.numpy().astype(np.int64)
    s = (10.0 ** rng.uniform(-2.5, 0.5, C)).astype(F32)
    z = rng.integers(lo, hi + 1, C).astype(np.int64)
    if style == "pow2":
        s = (2.0 ** rng.integers(-6, 2, C)).astype(F32)
    return s, z


def gen_quantize_pc(path):
    out = Out(path, "quantize_pc", ["torch.quantize_per_channel(x, scales, zps, axis, dtype).int_repr()"])
    nparams = 0
    for si, (name, shape) in enumerate(QC_SETUPS):
        for variant in ("mixed", "ties"):
            if variant == "mixed":
                axis0 = len(shape) - 1
                x = pc_batch(shape, axis0, si)
                x[np.unravel_index(0, shape)] = F32(1000.0)  # saturates
            else:
                # multiples of 1/16 + 1/32: exact ties for power-of-two scales
                x = ((rng.integers(-300, 300, shape).astype(F32) + F32(0.5)) * F32(0.03125))
            lines = []
            plines = []
            for axis in range(len(shape)):
                for dt in (DT_QINT8, DT_QUINT8):
                    styles = ["observer_affine", "observer_symmetric", "random", "pow2"]
                    if len(shape) == 1:  # torch's per-channel observers need ndim >= 2
                        styles = styles[2:]
                    for st in styles:
                        s, z = pc_params(x, axis, dt, st)
                        if not all(fits(np.moveaxis(x, axis, 0)[c], s[c]) for c in range(len(s))):
                            continue
                        q = torch.quantize_per_channel(
                            torch.from_numpy(x.copy()), torch.from_numpy(s.astype(np.float64)),
                            torch.from_numpy(z), axis, TORCH_DT[dt]).int_repr()
                        plines.append("C %d %d %s %s %s" % (axis, dt, hxs(s), ints(z), ints(q.numpy())))
            lines.append("QC %s_%s %s %d" % (name, variant, shape_tok(shape), len(plines)))
            lines.append("X " + hxs(x))
            lines.extend(plines)
            nparams += len(plines)
            out.add(lines)
    return out, nparams


# --------------------------------------------------------------------------
# fake quant
# --------------------------------------------------------------------------
FQ_RANGES = [(0, 255), (-128, 127), (-127, 127), (0, 15), (-8, 7), (-1, 1), (-2, 1), (0, 1),
             (-64, 63), (0, 127), (-32768, 32767), (0, 65535), (-3, 12)]


def fq_torch(x, s, z, qmin, qmax):
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    y = torch.fake_quantize_per_tensor_affine(t, float(s), int(z), qmin, qmax)
    y.sum().backward()
    m = t.grad.numpy()
    assert set(np.unique(m)).issubset({0.0, 1.0})
    return y.detach().numpy().astype(F32), m.astype(np.int64)


def gen_fake_quant(path):
    out = Out(path, "fake_quant", ["torch.fake_quantize_per_tensor_affine; mask = d sum(y) / dx"])
    nparams = 0
    for salt, (name, x) in enumerate(quant_sets().items()):
        pl = []
        for j in range(4):
            ri = (salt * 4 + j) % len(FQ_RANGES)
            qmin, qmax = FQ_RANGES[ri]
            # observer params for this range (affine; symmetric when signed)
            for scheme in (AFFINE, SYMMETRIC):
                if scheme == SYMMETRIC and qmin >= 0:
                    continue
                o = make_obs(None, (scheme, DT_QINT32 if qmax - qmin > 255 else DT_QINT8, 0, qmin, qmax))
                o(torch.from_numpy(x.copy()))
                s, z = o.calculate_qparams()
                pl.append((F32(float(s.reshape(-1)[0])), int(z.reshape(-1)[0]), qmin, qmax))
            s = F32(FIXED_SCALES[ri % len(FIXED_SCALES)])
            z = [qmin, qmax, (qmin + qmax) // 2, qmin + 1][ri % 4]
            pl.append((s, z, qmin, qmax))
            s = F32(10.0 ** rng.uniform(-3, 0.5))
            pl.append((s, int(rng.integers(qmin, qmax + 1)), qmin, qmax))
            if name in TIE_SCALES:
                s = F32(TIE_SCALES[name])
                for z in ((qmin + qmax) // 2, (qmin + qmax) // 2 + 1):  # even and odd
                    pl.append((s, z, qmin, qmax))
        lines = []
        plines = []
        seen = set()
        for s, z, qmin, qmax in pl:
            key = (hx(s), z, qmin, qmax)
            if key in seen or not fits(x, s) or s < F32(1.1754944e-38):
                continue
            seen.add(key)
            y, m = fq_torch(x, s, z, qmin, qmax)
            plines.append("F %s %d %d %d %s %s" % (hx(s), z, qmin, qmax, hxs(y), bits(m)))
        lines.append("FQ %s %d %d" % (name, x.size, len(plines)))
        lines.append("X " + hxs(x))
        lines.extend(plines)
        nparams += len(plines)
        out.add(lines)
    return out, nparams


FQPC_RANGES = [(-128, 127), (0, 255), (-8, 7), (0, 15), (-1, 1)]


def gen_fake_quant_pc(path):
    out = Out(path, "fake_quant_pc", ["torch.fake_quantize_per_channel_affine; mask = d sum(y) / dx"])
    nparams = 0
    for si, (name, shape) in enumerate(QC_SETUPS):
        for variant in ("mixed", "ties"):
            if variant == "mixed":
                x = pc_batch(shape, 0, si + 3)
                x[np.unravel_index(x.size - 1, shape)] = F32(-500.0)
            else:
                x = ((rng.integers(-300, 300, shape).astype(F32) + F32(0.5)) * F32(0.0625))
            plines = []
            for axis in range(len(shape)):
                C = shape[axis]
                for qmin, qmax in [FQPC_RANGES[(si + axis + k) % len(FQPC_RANGES)] for k in range(2)]:
                    for st in ("observer", "random", "pow2"):
                        if st == "observer" and len(shape) == 1:
                            continue  # torch's per-channel observers need ndim >= 2
                        if st == "observer":
                            scheme = SYMMETRIC if (qmin < 0 and axis % 2 == 0) else AFFINE
                            o = make_obs(None, (scheme, DT_QINT8, 0, qmin, qmax), per_channel=True, axis=axis)
                            o(torch.from_numpy(x.copy()))
                            s, z = o.calculate_qparams()
                            s = s.numpy().astype(F32)
                            z = z.numpy().astype(np.int64)
                        elif st == "random":
                            s = (10.0 ** rng.uniform(-2.5, 0.5, C)).astype(F32)
                            z = rng.integers(qmin, qmax + 1, C).astype(np.int64)
                        else:
                            s = (2.0 ** rng.integers(-5, 1, C)).astype(F32)
                            z = rng.integers(qmin, qmax + 1, C).astype(np.int64)
                        if not all(fits(np.moveaxis(x, axis, 0)[c], s[c]) for c in range(C)):
                            continue
                        t = torch.from_numpy(x.copy()).requires_grad_(True)
                        y = torch.fake_quantize_per_channel_affine(
                            t, torch.from_numpy(s.copy()), torch.from_numpy(z.astype(np.int32)),
                            axis, qmin, qmax)
                        y.sum().backward()
                        m = t.grad.numpy()
                        assert set(np.unique(m)).issubset({0.0, 1.0})
                        plines.append("G %d %d %d %s %s %s %s" % (
                            axis, qmin, qmax, hxs(s), ints(z), hxs(y.detach().numpy()), bits(m)))
            lines = ["FC %s_%s %s %d" % (name, variant, shape_tok(shape), len(plines)), "X " + hxs(x)]
            lines.extend(plines)
            nparams += len(plines)
            out.add(lines)
    return out, nparams


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "golden")
    os.makedirs(outdir, exist_ok=True)
    total = 0
    for fname, fn in [
        ("observer.txt", gen_observers),
        ("observer_pc.txt", gen_observers_pc),
        ("quantize.txt", gen_quantize),
        ("quantize_pc.txt", gen_quantize_pc),
        ("fake_quant.txt", gen_fake_quant),
        ("fake_quant_pc.txt", gen_fake_quant_pc),
    ]:
        out, nparams = fn(os.path.join(outdir, fname))
        size = out.write()
        total += size
        print("%-18s %4d cases %5d parameter sets %8d bytes" % (fname, len(out.cases), nparams, size))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
