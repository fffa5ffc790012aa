#!/usr/bin/env bash
# scripts/demo.sh [args...]: set up, build the search program and run it: with no arguments, its
# demo preset into runs/demo (replacing an earlier demo run); otherwise with the given arguments.
# Shares build/ (and its settings) with scripts/test.sh, so one build serves both.
set -euo pipefail

# The example that the demo runs: a target registered in examples/CMakeLists.txt.
NAS_DEMO_TARGET="${NAS_DEMO_TARGET:-nas_search}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
# shellcheck source=scripts/setup.sh
source "${root}/scripts/setup.sh"

mkdir -p build
# The same configuration as scripts/test.sh: switching between the two rebuilds nothing.
nas_configure build -DCMAKE_BUILD_TYPE=Release -DNAS_WERROR=ON >&2
cmake --build build -j "${NAS_JOBS:-2}" --target "${NAS_DEMO_TARGET}" >&2
if [[ $# -eq 0 && "${NAS_DEMO_TARGET}" == nas_search ]]; then
  set -- --preset demo --out runs/demo --overwrite
fi
echo "---- build/bin/${NAS_DEMO_TARGET} $* ----" >&2
exec "build/bin/${NAS_DEMO_TARGET}" "$@"
