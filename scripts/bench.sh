#!/usr/bin/env bash
# Builds bench_steps in build-bench/ (Release) and runs benchmarks/run.py: every search step of
# nas next to the same step in eager PyTorch (benchmarks/reference/steps.py), with the same torch
# build and thread count, one configuration per process; prints the table and the target ratios.
#   bash scripts/bench.sh [run.py options]
#   e.g. bash scripts/bench.sh --out bench.json                 (everything: about 25 min on 2 cores)
#        bash scripts/bench.sh --steps darts1 --sizes published --batches 64
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
nas_configure build-bench -DCMAKE_BUILD_TYPE=Release -DNAS_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build-bench --target bench_steps -j2 >/dev/null
python="${NAS_PYTHON:-${NAS_VENV:-.venv}/bin/python}"
[[ -x "${python}" ]] || python=python3
exec "${python}" benchmarks/run.py --bench build-bench/bin/bench_steps --python "${python}" "$@"
