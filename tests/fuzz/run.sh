#!/usr/bin/env bash
# tests/fuzz/run.sh NAS_FUZZ TARGET [RUNS]: runs one libFuzzer harness of nas_fuzz (tests/fuzz) over
# its seed corpus (tests/fuzz/corpus/TARGET): RUNS inputs (default 3000), or NAS_FUZZ_SECONDS
# seconds when that is set (scripts/fuzz.sh). New inputs go to NAS_FUZZ_CORPUS/TARGET when that is
# set (kept), else to a temporary folder; a crash's input is written to
# NAS_FUZZ_ARTIFACTS (default: the current folder) as fuzz-TARGET-crash-<sha1>. Exit 0 when no
# input crashed; the last lines give the executions.
set -euo pipefail
bin=${1:?usage: run.sh <nas_fuzz> <target> [runs]}
target=${2:?usage: run.sh <nas_fuzz> <target> [runs]}
runs=${3:-3000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seeds="$here/corpus/$target"
[[ -d $seeds ]] || {
  echo "run.sh: no seed corpus $seeds" >&2
  exit 2
}
if [[ -n ${NAS_FUZZ_CORPUS:-} ]]; then
  new="$NAS_FUZZ_CORPUS/$target"
  mkdir -p "$new"
else
  new=$(mktemp -d "${TMPDIR:-/tmp}/nas_fuzz_$target.XXXXXX")
  trap 'rm -rf "$new"' EXIT
fi
artifacts=${NAS_FUZZ_ARTIFACTS:-$PWD}
mkdir -p "$artifacts"
args=(-seed=1 -max_len=65536 -timeout=30 -rss_limit_mb=6144 -print_final_stats=1
  "-artifact_prefix=$artifacts/fuzz-$target-")
if [[ -n ${NAS_FUZZ_SECONDS:-} ]]; then
  args+=("-max_total_time=$NAS_FUZZ_SECONDS")
else
  args+=("-runs=$runs")
fi
# LibTorch keeps allocations for the life of the process (not nas's: suppressed as in the ASan
# build); nas's own leaks are still reported
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/../../scripts/lsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
log="$artifacts/fuzz-$target.log"
rc=0
NAS_FUZZ_TARGET=$target "$bin" "${args[@]}" "$new" "$seeds" > "$log" 2>&1 || rc=$?
if ((rc == 0)); then
  grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" || tail -n 5 "$log"
else
  tail -n 200 "$log"
fi
exit "$rc"
