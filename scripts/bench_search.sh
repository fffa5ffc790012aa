#!/usr/bin/env bash
# Times one DARTS (first and second order), GDAS, ENAS and SPOS search step at the published search
# sizes and a small size, batch 64 and 16, each configuration in its own process so that
# its peak resident memory is its own. Builds bench_search_step in build-bench/ first.
#   bash scripts/bench_search.sh [filter-regex]   (default: every configuration)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
nas_configure build-bench -DCMAKE_BUILD_TYPE=Release -DNAS_BUILD_BENCHMARKS=ON >/dev/null
cmake --build build-bench --target bench_search_step -j2 >/dev/null
filter="${1:-.}"
for name in darts1 darts2 gdas enas spos; do
  for size in published small; do
    for batch in 64 16; do
      config="$name/$size/$batch"
      [[ "$config" =~ $filter ]] || continue
      build-bench/bin/bench_search_step --benchmark_filter="^$config/" \
        --benchmark_format=console 2>/dev/null | grep -E "^$name/"
    done
  done
done
if [[ "controller/10" =~ $filter ]]; then
  build-bench/bin/bench_search_step --benchmark_filter="^controller/" \
    --benchmark_format=console 2>/dev/null | grep -E "^controller/"
fi
