#!/usr/bin/env python3
"""Runs nas's search steps (bench_steps) and the eager-PyTorch reference (reference/steps.py)
side by side, one configuration per process (so that each peak memory is its own), and prints
a table with nas's time and peak memory next to their ratios to eager PyTorch, then the ratios
the performance targets name. Writes every measurement as JSON.

    python3 benchmarks/run.py --bench build-bench/bin/bench_steps --out results.json
        [--device cpu|cuda] [--steps darts1,gdas] [--sizes published] [--batches 64,16]
        [--reps 3] [--warmup 1] [--threads N] [--layout channels_last|nchw]
        [--no-reference] [--python .venv/bin/python]

Both programs use the same torch build (the LibTorch of the Python package in --python) and the
same intra-op thread count. nas runs in --layout (default channels_last: nas::use_channels_last,
the library's recommended CPU setting); the reference runs as a user's eager program would,
NCHW. Benchmarks measure; nothing here asserts on time.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = ["darts1", "darts2", "gdas", "enas", "controller", "spos", "darts_v2"]


def run(cmd):
    started = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}\n")
        return None
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    result = json.loads(line)
    result["wall_s"] = round(time.time() - started, 1)
    result["command"] = " ".join(cmd)
    return result


def spread(r):
    """(max - min) / median of the timed steps, in percent."""
    if not r or not r["times_ms"] or r["median_ms"] == 0:
        return None
    return 100.0 * (r["max_ms"] - r["min_ms"]) / r["median_ms"]


def peak(r, device):
    return r["cuda_peak_mib"] if device == "cuda" else r["peak_rss_mib"]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 else None
    except (OSError, IndexError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="build-bench/bin/bench_steps")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--out", default=None, help="JSON file for every measurement")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--sizes", default="published,small")
    ap.add_argument("--batches", default="64,16")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    ap.add_argument("--layout", default="channels_last", choices=["channels_last", "nchw"])
    ap.add_argument("--no-reference", action="store_true")
    args = ap.parse_args()

    steps = [s for s in args.steps.split(",") if s]
    for s in steps:
        if s not in STEPS:
            ap.error(f"unknown step '{s}' (one of {', '.join(STEPS)})")
    common = ["--device", args.device, "--reps", str(args.reps), "--warmup", str(args.warmup)]
    if args.threads:
        common += ["--threads", str(args.threads)]
    reference = os.path.join(HERE, "reference", "steps.py")

    rows = []
    for size in args.sizes.split(","):
        for batch in args.batches.split(","):
            for step in steps:
                config = ["--step", step, "--size", size, "--batch", batch] + common
                mine = run([args.bench] + config + (["--channels-last"] if args.layout == "channels_last" else []))
                eager = None if args.no_reference else run([args.python, reference] + config)
                rows.append({"step": step, "size": size, "batch": int(batch), "nas": mine, "eager": eager})
                print_row(rows[-1], args.device, header=len(rows) == 1)
                sys.stdout.flush()

    targets = derived(rows, args.device)
    print()
    for t in targets:
        print(f"{t['what']}: {t['ratio']:.2f}  ({t['target']})")
    if args.out:
        doc = {
            "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "gpu": gpu_name() if args.device == "cuda" else None},
            "settings": vars(args),
            "results": rows,
            "targets": targets,
        }
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"\nwrote {args.out}")


def print_row(row, device, header):
    mem = "peak CUDA MiB" if device == "cuda" else "peak RSS MiB"
    if header:
        print(f"{'step':10} {'size':9} {'batch':>5} | {'nas ms':>9} {'spread':>6} {mem:>13} | "
              f"{'eager ms':>9} {mem:>13} | {'time x':>6} {'mem x':>6}")
    n, e = row["nas"], row["eager"]
    def f(v, fmt):
        return format(v, fmt) if v is not None else "-"
    nas_ms = n["median_ms"] if n else None
    nas_mem = peak(n, device) if n else None
    e_ms = e["median_ms"] if e else None
    e_mem = peak(e, device) if e else None
    ratio_t = nas_ms / e_ms if nas_ms and e_ms else None
    ratio_m = nas_mem / e_mem if nas_mem and e_mem else None
    sp = spread(n)
    print(f"{row['step']:10} {row['size']:9} {row['batch']:>5} | {f(nas_ms, '9.1f')} "
          f"{(f(sp, '5.1f') + '%') if sp is not None else '     -'} {f(nas_mem, '13.0f')} | "
          f"{f(e_ms, '9.1f')} {f(e_mem, '13.0f')} | {f(ratio_t, '6.2f')} {f(ratio_m, '6.2f')}")


def derived(rows, device):
    """The ratios the performance targets name, for every size and batch measured."""
    def get(step, size, batch, impl="nas"):
        for r in rows:
            if r["step"] == step and r["size"] == size and r["batch"] == batch and r[impl]:
                return r[impl]
        return None
    out = []
    for size in sorted({r["size"] for r in rows}):
        for batch in sorted({r["batch"] for r in rows}, reverse=True):
            d1, ref = get("darts1", size, batch), get("darts1", size, batch, "eager")
            v2 = get("darts_v2", size, batch)
            g, s = get("gdas", size, batch), get("spos", size, batch)
            tag = f"{size}/{batch}"
            if d1 and ref:
                out.append({"what": f"DARTS 1st-order step, nas / eager time [{tag}]", "ratio": d1["median_ms"] / ref["median_ms"], "target": "<= 0.5 at published/64 on CPU; <= 1/3 on GPU"})
                if peak(d1, device) and peak(ref, device):
                    out.append({"what": f"DARTS 1st-order step, nas / eager peak memory [{tag}]", "ratio": peak(d1, device) / peak(ref, device), "target": "<= 0.6 at published/64 on CPU"})
            if g and v2:
                out.append({"what": f"GDAS step (2 batches) / 2 discrete DARTS_V2 steps [{tag}]", "ratio": g["median_ms"] / (2 * v2["median_ms"]), "target": "<= 1.5"})
            if s and v2:
                out.append({"what": f"SPOS step / discrete DARTS_V2 step [{tag}]", "ratio": s["median_ms"] / v2["median_ms"], "target": "<= 1.5"})
            if d1 and g:
                out.append({"what": f"DARTS 1st-order step / GDAS step [{tag}]", "ratio": d1["median_ms"] / g["median_ms"], "target": ">= 4"})
            if d1 and s:
                out.append({"what": f"DARTS 1st-order step / SPOS step [{tag}]", "ratio": d1["median_ms"] / s["median_ms"], "target": ">= 4 (SPOS steps one batch, DARTS two)"})
    return out


if __name__ == "__main__":
    main()
