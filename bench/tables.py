#!/usr/bin/env python3
"""Markdown tables from the benchmark outputs (used by bench/bench.mk).

  tables.py gbench ST.json [MT.json]   Google Benchmark JSON (aggregates) ->
                                       medians, GOPS, epilogue cost, 2-thread
  tables.py isa HYPERFINE.json CHECKSUMS.txt
                                       hyperfine JSON of bench_isa_<isa> (full
                                       workload and 'setup' runs) -> speed-up
                                       of each ISA over scalar
"""
import json
import re
import sys


def gbench_aggregates(path):
    """{run_name: {aggregate_name: entry}} of one Google Benchmark JSON file."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    # registration order (random interleaving shuffles the file's order)
    for b in sorted(data["benchmarks"], key=lambda b: (b.get("family_index", 0), b.get("per_family_instance_index", 0))):
        if b.get("run_type") != "aggregate":
            continue
        out.setdefault(b["run_name"], {})[b["aggregate_name"]] = b
    return data["context"], out


def fmt_time(us):
    return "%.1f us" % us if us < 1000 else "%.2f ms" % (us / 1000)


def to_us(entry, key):
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[entry["time_unit"]]
    return entry[key] * scale


def gbench(paths):
    runs = {}
    ctx = None
    for p in paths:
        c, r = gbench_aggregates(p)
        ctx = ctx or c
        runs.update(r)
    reps = next(iter(runs.values()))["median"]["repetitions"] if runs else 0
    print("quant isa %s; medians of %d repetitions (GOPS = 2*M*N*K/s; single thread: CPU time of the pinned "
          "thread, 2 threads: wall time)\n" % (ctx.get("quant_isa", "?"), reps))
    shapes = []
    for name in runs:
        m = re.match(r"st/gemm_i32/(\S+)$", name)
        if m:
            shapes.append(m.group(1))
    print("| shape (M x N x K) | int32 out: time | GOPS | cv | int8 out (gemmlowp rq, per channel): time | GOPS "
          "| cv | int8 / int32 time |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for s in shapes:
        a = runs["st/gemm_i32/" + s]
        b = runs.get("st/gemm_i8rq/" + s)
        ta = to_us(a["median"], "cpu_time")
        row = "| %s | %s | %.1f | %.1f%% |" % (s, fmt_time(ta), a["median"]["GOPS"], 100 * a["cv"]["GOPS"])
        if b:
            tb = to_us(b["median"], "cpu_time")
            row += " %s | %.1f | %.1f%% | %+.1f%% |" % (fmt_time(tb), b["median"]["GOPS"], 100 * b["cv"]["GOPS"],
                                                      100 * (tb / ta - 1))
        print(row)
    modes = [("st/gemm_i8rq/", "gemmlowp"), ("st/gemm_i8rq_single/", "single"), ("st/gemm_i8rq_fp32/", "fp32")]
    if any(n.startswith(modes[1][0]) or n.startswith(modes[2][0]) for n in runs):
        print("\n| epilogue cost: int8-out time / int32-out time - 1 | gemmlowp mode | single rounding | fp32 | "
              "gemmlowp mode, ns per output |")
        print("|---|---:|---:|---:|---:|")
        for s in shapes:
            ta = to_us(runs["st/gemm_i32/" + s]["median"], "cpu_time")
            cells = []
            for prefix, _ in modes:
                b = runs.get(prefix + s)
                cells.append("%+.1f%%" % (100 * (to_us(b["median"], "cpu_time") / ta - 1)) if b else "-")
            b = runs.get(modes[0][0] + s)
            mnk = [int(x) for x in s.split("x")]
            per = (to_us(b["median"], "cpu_time") - ta) * 1e3 / (mnk[0] * mnk[1]) if b else None
            cells.append("%.2f" % per if per is not None else "-")
            print("| %s | %s |" % (s, " | ".join(cells)))
    packs = [n for n in runs if n.startswith("st/pack/")]
    if packs:
        print("\n| packing (quant_gemm_pack, N x K weights, once at load) | time | weights GB/s | cv |")
        print("|---|---:|---:|---:|")
        for n in packs:
            e = runs[n]
            print("| %s | %s | %.2f | %.1f%% |" % (n[len("st/pack/"):], fmt_time(to_us(e["median"], "cpu_time")),
                                                 e["median"]["bytes_per_second"] * 1e-9,
                                                 100 * e["cv"]["bytes_per_second"]))
    mts = [n for n in runs if n.startswith("mt/")]
    if mts:
        single = runs.get("st/gemm_i32/2048x2048x2048")
        print("\n| 2 threads (quant_gemm_tile + std::thread) | wall time | GOPS | cv | vs 1 thread |")
        print("|---|---:|---:|---:|---:|")
        for n in mts:
            e = runs[n]
            vs = "%.2fx" % (e["median"]["GOPS"] / single["median"]["GOPS"]) if single else "-"
            print("| %s | %s | %.1f | %.1f%% | %s |" % (n[3:].replace("/real_time", ""),
                                                      fmt_time(to_us(e["median"], "real_time")),
                                                      e["median"]["GOPS"], 100 * e["cv"]["GOPS"], vs))


def isa(path, checksum_path):
    with open(path) as f:
        results = json.load(f)["results"]
    full, setup = {}, {}
    for r in results:
        m = re.search(r"bench_isa_(\w+)(\s+setup)?\s*$", r["command"])
        if not m:
            continue
        (setup if m.group(2) else full)[m.group(1)] = r
    sums = {}
    with open(checksum_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[1] == "checksum":
                sums[parts[0]] = parts[2]
    order = [i for i in ["scalar", "sse41", "avx2", "avxvnni", "avx512", "avx512vnni"] if i in full]
    order += [i for i in full if i not in order]
    base = full["scalar"]["median"]
    base_work = base - setup["scalar"]["median"] if "scalar" in setup else None
    gop = None
    with open(checksum_path) as f:
        for line in f:
            m = re.search(r": ([\d.]+) Gop", line)
            if m:
                gop = float(m.group(1))
    print("| ISA | whole process (median) | speed-up over scalar | setup only | workload (whole - setup) "
          "| workload speed-up | workload GOPS | runs | checksum |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for i in order:
        w = full[i]["median"]
        s = setup[i]["median"] if i in setup else None
        work = w - s if s is not None else None
        cells = ["%.1f ms" % (w * 1e3), "%.2fx" % (base / w)]
        cells.append("%.1f ms" % (s * 1e3) if s is not None else "-")
        cells.append("%.1f ms" % (work * 1e3) if work else "-")
        cells.append("%.2fx" % (base_work / work) if work and base_work else "-")
        cells.append("%.0f" % (gop / work) if work and gop else "-")
        cells.append(str(len(full[i]["times"])))
        cells.append(sums.get(i, "?"))
        print("| %s | %s |" % (i, " | ".join(cells)))
    distinct = set(sums.values())
    print("\nchecksums: %s" % ("all ISAs equal (bit-exact)" if len(distinct) == 1
                                else "DIFFER between ISAs: %s" % sums))
    return 0 if len(distinct) == 1 else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "gbench":
        gbench(sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "isa":
        sys.exit(isa(sys.argv[2], sys.argv[3]))
    else:
        print(__doc__)
        sys.exit(2)
