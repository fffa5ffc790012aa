#!/usr/bin/env python3
"""Summarizes a chrome trace written by `bench_steps --profile FILE` (LibTorch's profiler):
each op's self time (its time minus the ops it called), largest first.

    python3 benchmarks/profile_summary.py trace.json [rows]
"""
import collections
import json
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    events = [e for e in json.load(open(sys.argv[1])) if e.get("ph") == "X"]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[(e["pid"], e["tid"])].append(e)
    self_time, calls, total = collections.Counter(), collections.Counter(), 0.0
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # (event, end) of the enclosing ops
        for e in evs:
            while stack and stack[-1][1] <= e["ts"]:
                stack.pop()
            if stack:
                self_time[stack[-1][0]["name"]] -= e["dur"]
            else:
                total += e["dur"]
            self_time[e["name"]] += e["dur"]
            calls[e["name"]] += 1
            stack.append((e, e["ts"] + e["dur"]))
    print(f"total (outermost ops): {total / 1e3:.0f} ms")
    print(f"{'self ms':>9} {'share':>6} {'calls':>7}  op")
    for name, t in self_time.most_common(rows):
        print(f"{t / 1e3:9.0f} {100 * t / total:5.1f}% {calls[name]:7d}  {name}")


if __name__ == "__main__":
    main()
