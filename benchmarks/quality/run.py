#!/usr/bin/env python3
"""The quality benchmark (docs/quality.md): does searching beat drawing architectures at random?

Two parts, each resumable (what is done is kept and skipped on the next call):

  cells    bench_quality_cells trains random NAS-Bench-201 cells with the demo's final-training
           recipe and scores each with every zero-cost proxy (cells.jsonl);
  search   nas_search --preset demo runs every strategy and option for the given seeds, with no
           random baseline of its own (--baseline 0): its found cell gets the same final
           training (runs/quality/<config>-seed<S>/summary.json, collected into searches.jsonl).

Then `report` writes results.json and quality.svg from whatever is there: the random cells'
distribution, each search's found cells (test accuracy, percentile among the random cells,
wall times), the baselines that need no search (the largest cell; the best of N random cells
by parameter count or by a proxy), each proxy's Spearman rank correlation with the trained
accuracy, and a verdict in words.

  bash scripts/quality.sh cells  [--cells 50] [--threads 2]
  bash scripts/quality.sh search [--seeds 0 1 2] [--configs gdas darts ...]
  bash scripts/quality.sh report
  bash scripts/quality.sh all    (the three in turn)

scripts/quality.sh builds build/bin/nas_search and build-bench/bin/bench_quality_cells first.
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CELLS = os.path.join(HERE, "cells.jsonl")
SEARCHES = os.path.join(HERE, "searches.jsonl")
RESULTS = os.path.join(HERE, "results.json")
PLOT = os.path.join(HERE, "quality.svg")
PROXIES = ["naswot", "synflow", "grad_norm", "snip", "jacob_cov", "params"]

# Every strategy and option at the demo's budget (nas_search --preset demo, docs/nas_search.md).
# Successive halving is not among them: nas_search does not run it (sampled_search --halving
# does, docs/sampled.md).
CONFIGS = {
    "gdas": ["--strategy", "gdas"],
    "gdas+beta": ["--strategy", "gdas", "--beta-decay", "25"],
    "gdas+aux-skip": ["--strategy", "gdas", "--aux-skip"],
    "darts": ["--strategy", "darts"],
    "darts+beta": ["--strategy", "darts", "--beta-decay", "25"],
    "darts+aux-skip": ["--strategy", "darts", "--aux-skip"],
    "darts+pt": ["--strategy", "darts", "--derive", "perturbation"],
    "darts-2nd": ["--strategy", "darts", "--order", "2"],
    "pc-darts": ["--strategy", "pc-darts"],
    "drnas": ["--strategy", "drnas"],
    "drnas+pt": ["--strategy", "drnas", "--derive", "perturbation"],
    "enas": ["--strategy", "enas"],
    "spos": ["--strategy", "spos"],
    "random": ["--strategy", "random"],
    "evolution": ["--strategy", "evolution"],
    "evolution+naswot": ["--strategy", "evolution", "--warm-start", "naswot"],
    "reinforce": ["--strategy", "reinforce"],
}


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def run_cells(args):
    exe = os.path.join(ROOT, "build-bench", "bin", "bench_quality_cells")
    cmd = [exe, "--cells", str(args.cells), "--seed", str(args.seed), "--largest",
           "--out", CELLS, "--threads", str(args.threads)]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def run_search(args):
    exe = os.path.join(ROOT, "build", "bin", "nas_search")
    done = {(r["config"], r["seed"]) for r in read_lines(SEARCHES)}
    for name in args.configs:
        for seed in args.seeds:
            if (name, seed) in done:
                continue
            out = os.path.join(ROOT, "runs", "quality", f"{name}-seed{seed}")
            cmd = [exe, "--preset", "demo", "--seed", str(seed), "--baseline", "0",
                   "--threads", str(args.threads), "--out", out, "--overwrite", "--quiet"]
            cmd += CONFIGS[name]
            print("+", " ".join(cmd), flush=True)
            t0 = time.monotonic()
            subprocess.run(cmd, check=True)
            wall = time.monotonic() - t0
            with open(os.path.join(out, "summary.json")) as f:
                s = json.load(f)
            row = {"config": name, "seed": seed, "args": CONFIGS[name],
                   "genotype": s["genotype"], "test_accuracy": s["test_accuracy"],
                   "parameters": s["parameters"], "search_seconds": s["search_seconds"],
                   "eval_seconds": wall - s["search_seconds"], "wall_seconds": wall,
                   "threads": args.threads}
            with open(SEARCHES, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"  {name} seed {seed}: {s['genotype']} {s['test_accuracy']:.4f} "
                  f"(search {s['search_seconds']:.0f} s, wall {wall:.0f} s)", flush=True)


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return r


def spearman(xs, ys):
    pairs = [(x, y) for x, y in zip(xs, ys)
             if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]
    if len(pairs) < 3:
        return None, len(pairs)
    rx, ry = ranks([p[0] for p in pairs]), ranks([p[1] for p in pairs])
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    sy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return (cov / (sx * sy) if sx > 0 and sy > 0 else None), len(pairs)


def percentile(value, population):
    below = sum(1 for p in population if p < value)
    ties = sum(1 for p in population if p == value)
    return 100.0 * (below + 0.5 * ties) / len(population)


def best_by(cells, key, n):
    pool = [c for c in cells[:n] if c.get(key) is not None and math.isfinite(c[key])]
    return max(pool, key=lambda c: c[key]) if pool else None


def report(_args):
    cells = read_lines(CELLS)
    random_cells = [c for c in cells if c["role"] == "random"]
    accs = [c["test_accuracy"] for c in random_cells]
    out = {
        "what": "found architectures versus random ones of NAS-Bench-201's space on "
                "Fashion-MNIST, all trained with the demo's final-training recipe "
                "(16 channels, 1 cell per stage, 4 epochs on 15,000 images, SGD 0.05 cosine, "
                "batch 64; tested on 10,000 images)",
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "commands": ["bash scripts/quality.sh cells --cells 50 --threads 1",
                     "bash scripts/quality.sh search --seeds 0 1 2",
                     "bash scripts/quality.sh report"],
        "random": {"count": len(accs), "cells": random_cells},
        "baselines": {},
        "proxies": {},
        "searches": {},
    }
    if accs:
        out["random"].update(median=statistics.median(accs), mean=statistics.fmean(accs),
                             min=min(accs), max=max(accs),
                             train_seconds_mean=statistics.fmean(
                                 c["train_seconds"] for c in random_cells))
        for name in PROXIES:
            rho, n = spearman([c.get(name) for c in random_cells], accs)
            out["proxies"][name] = {"spearman": rho, "cells": n,
                                    "seconds_mean": statistics.fmean(
                                        c.get(name + "_seconds", 0.0) for c in random_cells)}
        for c in cells:
            if c["role"] == "largest":
                out["baselines"]["largest cell"] = {
                    "genotype": c["genotype"], "test_accuracy": c["test_accuracy"],
                    "parameters": c["parameters"],
                    "percentile": percentile(c["test_accuracy"], accs)}
        for n in sorted({min(6, len(random_cells)), len(random_cells)}):
            for key in PROXIES:
                b = best_by(random_cells, key, n)
                if b is None:
                    continue
                label = ("most parameters" if key == "params" else "best " + key) + \
                    f" of the first {n} random cells"
                out["baselines"][label] = {
                    "genotype": b["genotype"], "test_accuracy": b["test_accuracy"],
                    "parameters": b["parameters"],
                    "percentile": percentile(b["test_accuracy"], accs)}
    rows = read_lines(SEARCHES)
    for name in CONFIGS:
        mine = [r for r in rows if r["config"] == name]
        if not mine:
            continue
        a = [r["test_accuracy"] for r in mine]
        out["searches"][name] = {
            "args": CONFIGS[name], "seeds": [r["seed"] for r in mine],
            "genotypes": [r["genotype"] for r in mine], "test_accuracy": a,
            "mean": statistics.fmean(a), "std": statistics.pstdev(a) if len(a) > 1 else 0.0,
            "percentiles": [percentile(x, accs) for x in a] if accs else [],
            "above_random_median": [x > out["random"]["median"] for x in a] if accs else [],
            "search_seconds": [r["search_seconds"] for r in mine],
            "eval_seconds": [r["eval_seconds"] for r in mine],
            "threads": [r["threads"] for r in mine]}
    out["verdict"] = verdict(out)
    with open(RESULTS, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    plot(out)
    write_tables(out)
    print(out["verdict"])
    print(f"wrote {os.path.relpath(RESULTS, ROOT)} and {os.path.relpath(PLOT, ROOT)}")


def verdict(out):
    if not out["random"]["count"]:
        return "no random cells trained yet: run `run.py cells` first"
    med = out["random"]["median"]
    lines = [f"{out['random']['count']} random cells: median test accuracy {med:.4f}."]
    for name, s in out["searches"].items():
        wins = sum(s["above_random_median"])
        lines.append(f"{name}: above the random median on {wins} of {len(s['seeds'])} seeds "
                     f"(mean {s['mean']:.4f}, percentiles "
                     + ", ".join(f"{p:.0f}" for p in s["percentiles"]) + ").")
    for label, b in out["baselines"].items():
        if label == "largest cell" or label.startswith("most parameters"):
            lines.append(f"{label}: {b['test_accuracy']:.4f} (percentile {b['percentile']:.0f}).")
    return " ".join(lines)


def write_tables(out):
    """The tables of docs/quality.md, between its `<!-- results -->` markers."""
    r = out["random"]
    lines = [f"Written by `run.py report` on {out['date']} ({out['machine']}).", ""]
    if r["count"]:
        lines += [f"**Random cells**: {r['count']} trained, median {r['median']:.4f}, mean "
                  f"{r['mean']:.4f}, min {r['min']:.4f}, max {r['max']:.4f}; one training "
                  f"takes {r['train_seconds_mean']:.0f} s on average.", ""]
    if out["searches"]:
        lines += ["| search | seeds | found cells' test accuracy | percentile among the random "
                  "cells | above the median | search s | evaluation s |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for name, s in out["searches"].items():
            lines.append(
                f"| {name} | {', '.join(str(x) for x in s['seeds'])} | "
                f"{', '.join(f'{a:.4f}' for a in s['test_accuracy'])} | "
                f"{', '.join(f'{p:.0f}' for p in s['percentiles'])} | "
                f"{sum(s['above_random_median'])} of {len(s['seeds'])} | "
                f"{', '.join(f'{t:.0f}' for t in s['search_seconds'])} | "
                f"{', '.join(f'{t:.0f}' for t in s['eval_seconds'])} |")
        lines.append("")
    else:
        lines += ["No search has been run yet (`run.py search`).", ""]
    if out["baselines"]:
        lines += ["| baseline (no search) | cell | test accuracy | percentile |",
                  "| --- | --- | --- | --- |"]
        for label, b in out["baselines"].items():
            cell = b["genotype"].replace("|", "\\|")
            lines.append(f"| {label} | `{cell}` | {b['test_accuracy']:.4f} | "
                         f"{b['percentile']:.0f} |")
        lines.append("")
    if out["proxies"]:
        lines += ["| proxy | Spearman with trained test accuracy | cells | seconds per cell |",
                  "| --- | --- | --- | --- |"]
        for name, p in out["proxies"].items():
            rho = "n/a" if p["spearman"] is None else f"{p['spearman']:.3f}"
            lines.append(f"| {name} | {rho} | {p['cells']} | {p['seconds_mean']:.2f} |")
        lines.append("")
    lines += ["**Verdict**: " + out["verdict"], "", "![the quality plot](../benchmarks/quality/quality.svg)"]
    doc = os.path.join(ROOT, "docs", "quality.md")
    with open(doc) as f:
        text = f.read()
    begin, end = "<!-- results -->", "<!-- /results -->"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        with open(doc, "w") as f:
            f.write(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)


def plot(out):
    """A strip plot: the random cells on the top row, each search's found cells below."""
    accs = [c["test_accuracy"] for c in out["random"]["cells"]]
    rows = [("random cells", accs, "#888888")]
    for label, b in out["baselines"].items():
        if label == "largest cell" or label.startswith("most parameters"):
            rows.append((label, [b["test_accuracy"]], "#2b8cbe"))
    for name, s in out["searches"].items():
        rows.append((name, s["test_accuracy"], "#d95f0e"))
    shown = sorted(a for r in rows for a in r[1])
    if not shown:
        return
    # the axis fits the bulk: below the 5th percentile of everything, points sit at the edge
    lo = shown[max(0, len(shown) // 20)] - 0.005
    hi = shown[-1] + 0.003
    left, width, step = 240, 560, 22
    height = 60 + step * len(rows)

    def x(a):
        return left + width * (min(max(a, lo), hi) - lo) / (hi - lo)

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" '
           f'height="{height}" font-family="sans-serif" font-size="12">',
           f'<text x="{left}" y="16">test accuracy after the final training '
           f'(points below {lo:.3f} drawn at the left edge)</text>']
    if accs:
        med = out["random"]["median"]
        svg.append(f'<line x1="{x(med):.1f}" y1="24" x2="{x(med):.1f}" y2="{height - 30}" '
                   f'stroke="#888888" stroke-dasharray="4 3"/>')
        svg.append(f'<text x="{x(med) + 3:.1f}" y="{height - 32}" fill="#555555">random median '
                   f'{med:.4f}</text>')
    for i, (label, values, color) in enumerate(rows):
        y = 40 + step * i
        svg.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{label}</text>')
        for a in values:
            svg.append(f'<circle cx="{x(a):.1f}" cy="{y}" r="4" fill="{color}" '
                       f'fill-opacity="0.7"/>')
    y0 = height - 20
    svg.append(f'<line x1="{left}" y1="{y0}" x2="{left + width}" y2="{y0}" stroke="black"/>')
    for k in range(6):
        a = lo + (hi - lo) * k / 5
        svg.append(f'<line x1="{x(a):.1f}" y1="{y0}" x2="{x(a):.1f}" y2="{y0 + 4}" '
                   f'stroke="black"/>')
        svg.append(f'<text x="{x(a):.1f}" y="{y0 + 16}" text-anchor="middle">{a:.3f}</text>')
    svg.append("</svg>")
    with open(PLOT, "w") as f:
        f.write("\n".join(svg) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("part", choices=["cells", "search", "report", "all"])
    p.add_argument("--cells", type=int, default=50)
    p.add_argument("--seed", type=int, default=0, help="cells: the demo seed whose cells to draw")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    if args.part in ("cells", "all"):
        run_cells(args)
    if args.part in ("search", "all"):
        run_search(args)
    if args.part in ("report", "all"):
        report(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
