#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...]: runs nas's libFuzzer harnesses for longer than the test
# command does (default 300 s each, every target), keeping what they find:
#   build-fuzz/corpus/<target>/     inputs that reached new code (seed a later run; copy the
#                                   interesting ones to tests/fuzz/corpus/<target>/)
#   build-fuzz/findings/            fuzz-<target>-crash-* (an input that crashed) and the logs
# and prints, per target, the executions and whether anything was found. A crash becomes a
# regression test: add its input to tests/fuzz/corpus/<target>/ (the fuzz.* tests replay every
# seed) and fix the reader.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
seconds="${1:-300}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(darts_text nb201_text genotype_json history_jsonl settings_json idx
  cifar10 checkpoint archive)

# shellcheck source=scripts/setup.sh
source "${root}/scripts/setup.sh"
nas_configure build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 -DNAS_FUZZ=ON -DNAS_INSTALL=OFF
cmake --build build-fuzz -j "${NAS_JOBS:-2}" --target nas_fuzz

export NAS_FUZZ_SECONDS="${seconds}" NAS_FUZZ_CORPUS="${root}/build-fuzz/corpus"
export NAS_FUZZ_ARTIFACTS="${root}/build-fuzz/findings"
failed=0
for t in "${targets[@]}"; do
  printf '%-14s ' "${t}"
  if out=$(bash tests/fuzz/run.sh build-fuzz/bin/nas_fuzz "${t}" 2>&1); then
    echo "ok: $(grep -Eo 'stat::number_of_executed_units: [0-9]+' <<<"${out}" | grep -Eo '[0-9]+') executions in ${seconds} s, no crash"
  else
    failed=1
    echo "FOUND: see ${NAS_FUZZ_ARTIFACTS}/fuzz-${t}.log"
  fi
done
exit "${failed}"
