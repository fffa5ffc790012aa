#!/usr/bin/env bash
# scripts/test.sh: THE test command (also what CI runs, via .ci/run).
#
#   1. setup (scripts/setup.sh)
#   2. build/       Release, -Werror: all + all_verify_interface_header_sets (every header under
#                   include/nas compiles on its own, the LibTorch layer included), then ctest -j2
#                   (unit tests, examples, compile-fail tests, package tests, the layer check)
#   3. format       clang-format --dry-run --Werror over include/ tests/ examples/ benchmarks/
#   4. build-asan/  ASan + UBSan (-O0 -g1): test programs and examples, ctest without the
#                   package and compile_fail labels
#   5. build-fuzz/  clang-14, libFuzzer + ASan + UBSan: nas_fuzz, then every fuzz.* test (each
#                   harness a fixed number of inputs over its seed corpus; scripts/fuzz.sh runs
#                   them for longer)
# Every stage runs; the script exits non-zero when any failed and ends with a summary.
#
# Environment: NAS_JOBS (default 2), NAS_SKIP_ASAN=1, NAS_SKIP_FORMAT=1, NAS_SKIP_FUZZ=1, and those
# of setup.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
jobs="${NAS_JOBS:-2}"

# shellcheck source=scripts/setup.sh
source "${root}/scripts/setup.sh"

declare -a summary=()
failed=0
t_start=${SECONDS}

# stage NAME CMD...: runs CMD, records "NAME: ok|FAILED (seconds)".
stage() {
  local name="$1" t0=${SECONDS} rc=0
  shift
  printf '\n==== %s ====\n' "${name}"
  "$@" || rc=$?
  local dt=$((SECONDS - t0))
  if ((rc == 0)); then
    summary+=("$(printf '%-28s ok      %4ds' "${name}" "${dt}")")
  else
    summary+=("$(printf '%-28s FAILED  %4ds  (exit %d)' "${name}" "${dt}" "${rc}")")
    failed=1
  fi
  return "${rc}"
}

# ctest_run DIR LOG [ctest args]: ctest, keeping its summary lines for the final report.
ctest_run() {
  local dir="$1" log="$2"
  shift 2
  local rc=0
  ctest --test-dir "${dir}" --output-on-failure -j "${jobs}" "$@" 2>&1 | tee "${log}" || rc=$?
  return "${rc}"
}

build_main() {
  cmake --build build -j "${jobs}" || return 1
  # The target exists once some header set has files (CMake creates it only then).
  if ninja -C build -t targets all 2>/dev/null | grep -q '^all_verify_interface_header_sets:'; then
    cmake --build build -j "${jobs}" --target all_verify_interface_header_sets
  fi
}

format_check() {
  local -a files=()
  mapfile -d '' files < <(find include tests examples benchmarks -type f \
    \( -name '*.cpp' -o -name '*.hpp' \) -print0 2>/dev/null | sort -z)
  if ((${#files[@]} == 0)); then
    echo "no C++ files"
    return 0
  fi
  echo "clang-format $(clang-format --version | sed 's/.*version //'): ${#files[@]} files"
  clang-format --dry-run --Werror "${files[@]}"
}

asan_env() {
  # LibTorch itself is not instrumented; only nas's code is. Measured here (CPU, LibTorch 2.11):
  # the tests and examples run clean under ASan + UBSan (vptr included) with leak detection on.
  # protect_shadow_gap=0: the CUDA runtime maps memory in ASan's shadow gap and would fail to
  #   initialise on GPU machines; lsan.supp: allocations the CUDA driver/runtime keep for the
  #   life of the process. Neither matters on a CPU-only machine.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-protect_shadow_gap=0:detect_leaks=1:strict_string_checks=1:check_initialization_order=1}"
  export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=${root}/scripts/lsan.supp}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
}

mkdir -p build
rm -f build/ctest.log build-asan/ctest.log
if stage "configure build/" nas_configure build -DCMAKE_BUILD_TYPE=Release -DNAS_WERROR=ON \
  -DNAS_VERIFY_TORCH_HEADERS=ON &&
  stage "build build/" build_main; then
  stage "ctest build/" ctest_run build build/ctest.log || true
fi

if [[ "${NAS_SKIP_FORMAT:-0}" != 1 ]]; then
  stage "clang-format" format_check || true
fi

if [[ "${NAS_SKIP_ASAN:-0}" != 1 ]]; then
  mkdir -p build-asan
  # -O0 -g1: half the compile time of -O1 -g for the same findings on these small tests (LibTorch,
  # which does the heavy lifting, is not instrumented and runs at full speed either way); -g1
  # keeps file:line in sanitizer reports.
  if stage "configure build-asan/" nas_configure build-asan -DCMAKE_BUILD_TYPE=Debug \
    "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" -DNAS_SANITIZE=ON -DNAS_WERROR=ON -DNAS_INSTALL=OFF &&
    stage "build build-asan/" cmake --build build-asan -j "${jobs}" --target nas_test_programs; then
    asan_env
    stage "ctest build-asan/" ctest_run build-asan build-asan/ctest.log \
      -LE 'package|compile_fail|cli' || true
  fi
fi

if [[ "${NAS_SKIP_FUZZ:-0}" != 1 ]]; then
  mkdir -p build-fuzz
  rm -f build-fuzz/ctest.log
  if stage "configure build-fuzz/" nas_configure build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_COMPILER=clang-14 -DNAS_FUZZ=ON -DNAS_INSTALL=OFF &&
    stage "build build-fuzz/" cmake --build build-fuzz -j "${jobs}" --target nas_fuzz; then
    stage "fuzz (short runs)" ctest_run build-fuzz build-fuzz/ctest.log -L fuzz || true
  fi
fi

printf '\n==== summary (%ds) ====\n' "$((SECONDS - t_start))"
for log in build/ctest.log build-asan/ctest.log build-fuzz/ctest.log; do
  if [[ -f "${log}" ]]; then
    printf '%s: %s\n' "${log%/ctest.log}" \
      "$(grep -E 'tests passed|tests failed out of' "${log}" | tail -n1 || echo 'no summary')"
  fi
done
printf '%s\n' "${summary[@]}"
if ((failed)); then
  echo "RESULT: FAILED"
  exit 1
fi
echo "RESULT: ok"
