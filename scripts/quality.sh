#!/usr/bin/env bash
# Builds what the quality benchmark needs (build/bin/nas_search as scripts/demo.sh does;
# build-bench/bin/bench_quality_cells) and runs benchmarks/quality/run.py (docs/quality.md).
#   bash scripts/quality.sh cells --cells 50 --threads 1     (the random cells, about 4 min each)
#   bash scripts/quality.sh search --seeds 0 1 2             (every strategy and option)
#   bash scripts/quality.sh report                           (results.json and quality.svg)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
nas_configure build -DCMAKE_BUILD_TYPE=Release -DNAS_WERROR=ON >&2
cmake --build build --target nas_search -j "${NAS_JOBS:-2}" >&2
nas_configure build-bench -DCMAKE_BUILD_TYPE=Release -DNAS_BUILD_BENCHMARKS=ON >&2
cmake --build build-bench --target bench_quality_cells -j "${NAS_JOBS:-2}" >&2
exec python3 benchmarks/quality/run.py "$@"
