#!/usr/bin/env bash
# scripts/torch_versions.sh: builds nas against other LibTorch versions of PyPI's torch wheel and
# runs the unit tests (ctest -L unit) with each, so that the supported range in the README is
# measured, not hoped for.
#
#   bash scripts/torch_versions.sh                 # the newest torch on PyPI
#   bash scripts/torch_versions.sh 2.12.1 2.15.0   # these versions
#
# Each version gets its own venv (${NAS_TORCH_VENVS:-/tmp/nas-torch}/<version>, several GB: the
# wheel and its CUDA libraries) and build folder (build-torch-<version>/, Release, -Werror, the
# unit-test programs and the header check only). The pinned version (scripts/torch-version) is
# what scripts/test.sh uses; move the pin only to a version this script passed with. Ends with
# one line per version: ok or FAILED (the step) and the seconds it took.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
jobs="${NAS_JOBS:-2}"
venvs="${NAS_TORCH_VENVS:-/tmp/nas-torch}"

versions=("$@")
if ((${#versions[@]} == 0)); then
  newest="$(python3 -m pip index versions torch 2>/dev/null | sed -n 's/^torch (\(.*\))$/\1/p')"
  [[ -n "${newest}" ]] || {
    echo "torch_versions: cannot ask PyPI for torch's versions (pip index versions torch)" >&2
    exit 1
  }
  versions=("${newest}")
fi

declare -a summary=()
failed=0
for v in "${versions[@]}"; do
  t0=${SECONDS}
  dir="build-torch-${v}"
  step=""
  (
    set -e
    export NAS_TORCH_VERSION="${v}" NAS_VENV="${venvs}/${v}"
    mkdir -p "${venvs}"
    # shellcheck source=scripts/setup.sh
    source scripts/setup.sh
    # The wheel's libtorch_cuda needs the NCCL of its own nvidia-nccl wheel; a CUDA toolkit in
    # /usr/local/cuda (whose lib folder LibTorch's CMake puts on the link path) may hold an older
    # libnccl.so.2 that lacks newer symbols (2.15 against CUDA 13.0's): the wheel's comes first.
    site="$(cd "${NAS_TORCH_DIR}/../../../.." && pwd)"
    nas_configure "${dir}" -DCMAKE_BUILD_TYPE=Release -DNAS_WERROR=ON -DNAS_VERIFY_TORCH_HEADERS=ON \
      -DNAS_INSTALL=OFF "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,${site}/nvidia/nccl/lib"
    cmake --build "${dir}" -j "${jobs}" --target nas_core_tests nas_torch_tests
    ctest --test-dir "${dir}" --output-on-failure -j "${jobs}" -L unit
  ) 2>&1 | tee "/tmp/nas-torch-${v}.log"
  rc=${PIPESTATUS[0]}
  dt=$((SECONDS - t0))
  if ((rc == 0)); then
    summary+=("$(printf 'torch %-8s ok      %5ds' "${v}" "${dt}")")
  else
    step="$(grep -E '^(CMake Error|FAILED:|The following tests FAILED)' "/tmp/nas-torch-${v}.log" | head -1)"
    summary+=("$(printf 'torch %-8s FAILED  %5ds  %s (log: /tmp/nas-torch-%s.log)' "${v}" "${dt}" "${step}" "${v}")")
    failed=1
  fi
done
printf '\n==== torch versions ====\n'
printf '%s\n' "${summary[@]}"
exit "${failed}"
