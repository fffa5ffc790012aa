#!/usr/bin/env bash
# The GPU check, for a machine that has a GPU and PyTorch but no network and none of Debian's
# header packages. From the repository root:
#   bash benchmarks/gpu/run.sh RESULTS_DIR
# It configures against that PyTorch's LibTorch (torch.utils.cmake_prefix_path), builds the
# torch test binary and bench_steps (Release, -j<cores>), runs the CUDA test suite and the
# CUDA benchmarks (nas next to eager PyTorch, benchmarks/run.py), and writes into RESULTS_DIR:
# gpu.txt (the GPU, the driver, torch, build and test log tails), tests.txt, bench.json,
# bench.txt (the table) and gdas_projection.txt. Meant to finish in under 8 minutes.
#
# The headers nas needs beyond LibTorch come from gpu_deps/include (ignored by git). Fill it on
# a Debian machine that has the packages (librange-v3-dev, doctest-dev, zlib1g-dev) and carry
# it over with the working tree:
#   mkdir -p gpu_deps/include && cp -r /usr/include/{range,meta,concepts,std,doctest} \
#     /usr/include/zlib.h /usr/include/zconf.h gpu_deps/include/
# Knobs: PYTHON (default python3), REPS (default 10), STEPS, SIZES, BATCHES (run.py's lists).
set -uo pipefail
cd "$(dirname "$0")/../.."
[[ $# -ge 1 ]] || { echo "usage: bash benchmarks/gpu/run.sh RESULTS_DIR" >&2; exit 2; }
mkdir -p "$1" && results="$(cd "$1" && pwd)"
deps="$PWD/gpu_deps"
for h in range/v3/all.hpp meta/meta.hpp doctest/doctest.h zlib.h; do
  [[ -f "$deps/include/$h" ]] || {
    echo "gpu_deps/include/$h is missing: fill gpu_deps/include as this script's header says" >&2
    exit 2
  }
done
python="${PYTHON:-python3}"
started=$(date +%s)
log() { echo "$*" | tee -a "$results/gpu.txt"; }
: > "$results/gpu.txt"
log "$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
log "$("$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 | tail -1)"
prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"

# Minimal CMake package files for the header-only dependencies (what Debian's packages provide).
mkdir -p "$deps/cmake/range-v3" "$deps/cmake/doctest"
cat > "$deps/cmake/range-v3/range-v3-config.cmake" <<EOF
add_library(range-v3::range-v3 INTERFACE IMPORTED)
set_target_properties(range-v3::range-v3 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "$deps/include")
EOF
cat > "$deps/cmake/doctest/doctest-config.cmake" <<EOF
add_library(doctest::doctest INTERFACE IMPORTED)
set_target_properties(doctest::doctest PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "$deps/include")
EOF
zlib="$(ldconfig -p 2>/dev/null | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')"
[[ -n "$zlib" ]] || zlib=/lib/x86_64-linux-gnu/libz.so.1
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_PREFIX_PATH=$prefix" -Drange-v3_DIR="$deps/cmake/range-v3" \
  -Ddoctest_DIR="$deps/cmake/doctest" -DZLIB_INCLUDE_DIR="$deps/include" \
  -DZLIB_LIBRARY="$zlib" -DNAS_BUILD_BENCHMARKS=ON -DNAS_BUILD_EXAMPLES=OFF -DNAS_INSTALL=OFF \
  -DNAS_WERROR=OFF > "$results/configure.txt" 2>&1
log "configure rc $? ($(( $(date +%s) - started )) s)"
cmake --build build-gpu --target nas_torch_tests bench_steps -j"$(nproc)" > "$results/build.txt" 2>&1
log "build rc $? ($(( $(date +%s) - started )) s)"
tail -5 "$results/build.txt" >> "$results/gpu.txt"

timeout 120 build-gpu/bin/nas_torch_tests -ts=cuda > "$results/tests.txt" 2>&1
log "CUDA tests rc $? ($(( $(date +%s) - started )) s): $(grep -E 'test cases' "$results/tests.txt" | tail -1)"

timeout 330 "$python" benchmarks/run.py --device cuda --bench build-gpu/bin/bench_steps \
  --python "$python" --reps "${REPS:-10}" --warmup 3 --out "$results/bench.json" \
  ${STEPS:+--steps "$STEPS"} ${SIZES:+--sizes "$SIZES"} ${BATCHES:+--batches "$BATCHES"} \
  > "$results/bench.txt" 2>&1
log "benchmarks rc $? ($(( $(date +%s) - started )) s)"
cat "$results/bench.txt" >> "$results/gpu.txt"

# GDAS's search at the settings of nas_search --preset full (240 epochs, 25,000 training
# images, batch 64: 391 steps an epoch), from the measured median GDAS step.
"$python" - "$results/bench.json" > "$results/gdas_projection.txt" 2>&1 <<'EOF'
import json, math, sys
doc = json.load(open(sys.argv[1]))
for r in doc["results"]:
    if r["step"] == "gdas" and r["size"] == "published" and r["batch"] == 64 and r["nas"]:
        steps = 240 * math.ceil(25000 / 64)
        hours = steps * r["nas"]["median_ms"] / 3.6e6
        print(f"GDAS search, published sizes, 240 epochs x {math.ceil(25000 / 64)} steps of batch 64: "
              f"{r['nas']['median_ms']:.1f} ms/step -> {hours:.2f} GPU-hours of steps "
              f"(evaluation and data loading not counted) on {doc['machine']['gpu']}")
EOF
cat "$results/gdas_projection.txt" >> "$results/gpu.txt"
log "total $(( $(date +%s) - started )) s"
