#!/usr/bin/env bash
# Tests of examples/nas_search as a program: kill-and-resume equivalence for every
# strategy, checkpoint round trip, and every bad input the program must refuse with one
# clear line and a non-zero exit code, leaving no half-written checkpoint.
#
#   tests/cli/nas_search.sh <path to nas_search> [case...]
set -uo pipefail
BIN=${1:?usage: nas_search.sh <nas_search binary> [case...]}
shift
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nas_search_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() {
  echo "FAIL: $*"
  FAILED=1
}

# Tiny settings that still run every phase (search, outputs, final training, baseline).
TINY=(--epochs 2 --train 256 --valid 128 --batch 64 --final-epochs 1 --final-train 128
  --test 128 --baseline 1 --threads 1 --quiet)

strip_times() { sed -E 's/"(search_)?seconds": [-0-9.e+]+//g; s/"eta_seconds": [-0-9.e+]+//g' "$@"; }

# Runs `name` twice: straight through, and killed (SIGKILL) after `die` steps or trials
# then resumed; the genotype, summary and history must be the same.
resume_case() {
  local name=$1 die=$2 before=$FAILED
  FAILED=0
  shift 2
  local a="$WORK/$name-straight" b="$WORK/$name-killed"
  "$BIN" "$@" "${TINY[@]}" --out "$a" > "$WORK/$name.out" 2>&1 || {
    fail "$name: the uninterrupted run failed: $(tail -3 "$WORK/$name.out")"
    return
  }
  "$BIN" "$@" "${TINY[@]}" --out "$b" --die-after "$die" > /dev/null 2>&1
  local rc=$?
  [[ $rc == 137 ]] || fail "$name: --die-after $die should have killed the run (exit $rc)"
  [[ -f $b/checkpoint.pt ]] || fail "$name: no checkpoint before the kill"
  [[ ! -f $b/summary.json ]] || fail "$name: the killed run finished"
  "$BIN" --resume "$b" --quiet > "$WORK/$name.resumed" 2>&1 || {
    fail "$name: the resumed run failed: $(tail -3 "$WORK/$name.resumed")"
    return
  }
  cmp -s "$a/genotype.txt" "$b/genotype.txt" ||
    fail "$name: resumed genotype $(cat "$b/genotype.txt") != $(cat "$a/genotype.txt")"
  diff <(strip_times "$a/summary.json") <(strip_times "$b/summary.json") > /dev/null ||
    fail "$name: summaries differ"
  diff <(strip_times "$a/history.jsonl") <(strip_times "$b/history.jsonl") > /dev/null ||
    fail "$name: histories differ"
  for f in genotype.json cell_*.dot curves.svg summary.json; do
    compgen -G "$b/$f" > /dev/null || fail "$name: the run folder lacks $f"
  done
  [[ $FAILED == 0 ]] && echo "ok: $name (killed after $die, resumed, same result)"
  [[ $before == 1 ]] && FAILED=1
}

# Expects a non-zero exit and a message matching `pattern` on stderr.
error_case() {
  local name=$1 pattern=$2
  shift 2
  local out="$WORK/$name.err"
  "$BIN" "$@" > "$WORK/$name.stdout" 2> "$out"
  local rc=$?
  if [[ $rc == 0 ]]; then
    fail "$name: exit code 0 (expected an error)"
  elif ! grep -Eq "$pattern" "$out"; then
    fail "$name: message '$(head -c 300 "$out")' does not match /$pattern/"
  else
    echo "ok: $name (exit $rc): $(grep -E "$pattern" "$out" | head -1 | cut -c1-150)"
  fi
}

# Writes an IDX data set folder (MNIST names, gzip) with a defect: none, magic, truncated,
# count.
make_idx() {
  local dir=$1 defect=$2
  mkdir -p "$dir"
  python3 - "$dir" "$defect" << 'PY'
import gzip, struct, sys, random
d, defect = sys.argv[1], sys.argv[2]
random.seed(0)
def write(name, magic, dims, payload):
    data = struct.pack(">I", magic) + b"".join(struct.pack(">I", x) for x in dims) + payload
    if defect == "truncated" and "images" in name:
        data = data[: len(data) // 2]
    with gzip.open(f"{d}/{name}", "wb") as f:
        f.write(data)
for prefix, n in (("train", 512), ("t10k", 128)):
    labels = bytes(random.randrange(10) for _ in range(n))
    images = bytes(random.randrange(256) for _ in range(n * 28 * 28))
    magic = 0x00000803 if defect != "magic" else 0x12345678
    write(f"{prefix}-images-idx3-ubyte.gz", magic, (n, 28, 28), images)
    m = n - 7 if defect == "count" else n
    write(f"{prefix}-labels-idx1-ubyte.gz", 0x00000801, (m,), labels[:m])
PY
}

resume_cases() {
  # --- kill-and-resume equivalence, every strategy (steps or trials as the kill point)
  resume_case gdas-nb201 6 --strategy gdas --space nb201
  resume_case darts2-darts 6 --strategy darts --order 2 --space darts --layers 3 \
    --channels 4 --final-layers 3 --final-channels 4
  resume_case darts-mobile 5 --strategy darts --space mobile --channels 2 --final-channels 2
  resume_case pcdarts-nb201 6 --strategy pc-darts --space nb201 --channels 4
  resume_case pcdarts-darts 6 --strategy pc-darts --space darts --layers 3 --channels 4 \
    --final-layers 3 --final-channels 4
  resume_case enas-nb201 5 --strategy enas --space nb201 --controller-steps 2 --children 2
  resume_case spos-mobile 3 --strategy spos --space mobile --channels 2 --final-channels 2 \
    --trials 6 --checkpoint-every 2
  resume_case reinforce-nb201 3 --strategy reinforce --space nb201 --trials 5 --children 2 \
    --checkpoint-every 2
  resume_case evolution-darts 3 --strategy evolution --space darts --layers 3 --channels 4 \
    --final-layers 3 --final-channels 4 --trials 5 --checkpoint-every 2
  resume_case random-nb201 4 --strategy random --space nb201 --trials 5 --checkpoint-every 3
}

error_cases() {
  [[ -d $WORK/gdas-nb201-killed ]] || resume_case gdas-nb201 6 --strategy gdas --space nb201
  # --- bad input: one line naming the problem and the fix, non-zero exit
  error_case unknown-strategy "strategy.*not in" --strategy magic
  error_case unknown-space "space.*not in" --space resnet
  error_case out-of-range "epochs.*not in range" --epochs 0
  error_case bad-order "order.*not in" --order 3
  error_case pcdarts-mobile "pc-darts searches the darts and nb201 spaces" --strategy pc-darts \
    --space mobile
  error_case pcdarts-channels "divisible by 4" --strategy pc-darts --channels 6
  error_case missing-data "apt-get install dataset-fashion-mnist" --data-dir "$WORK/nowhere" \
    --out "$WORK/missing"
  make_idx "$WORK/idx-magic" magic
  error_case corrupt-magic "magic|0x12345678|IDX" --data idx --data-dir "$WORK/idx-magic" \
    --out "$WORK/o1"
  make_idx "$WORK/idx-truncated" truncated
  error_case corrupt-truncated "truncated|short|expected" --data idx \
    --data-dir "$WORK/idx-truncated" --out "$WORK/o2"
  make_idx "$WORK/idx-count" count
  error_case corrupt-count "holds 512 images but .* 505 labels" --data idx \
    --data-dir "$WORK/idx-count" --out "$WORK/o3"
  make_idx "$WORK/idx-ok" none
  error_case too-many-images "training split has 512" --data idx \
    --data-dir "$WORK/idx-ok" --train 500 --valid 100 --out "$WORK/o4" 2> /dev/null
  touch "$WORK/a-file"
  error_case unwritable-out "cannot create the output folder.*choose another --out" \
    --out "$WORK/a-file/run"
  error_case no-checkpoint "holds no checkpoint" --resume "$WORK/nowhere"
  error_case other-strategy "is a gdas search on the nb201 space.*resume it without" \
    --resume "$WORK/gdas-nb201-killed" --strategy darts
  error_case other-space "is a gdas search on the nb201 space" \
    --resume "$WORK/gdas-nb201-killed" --space darts
  error_case existing-run "already holds a run.*--resume" --out "$WORK/gdas-nb201-killed"
  error_case cifar-without-dir "needs --data-dir" --data cifar10
}

nan_cases() {
  # --- a loss that turns NaN: stop, with the last good checkpoint intact ...
  local good="$WORK/nan-run"
  "$BIN" --strategy gdas --space nb201 "${TINY[@]}" --out "$good" --die-after 5 \
    > /dev/null 2>&1
  cp "$good/checkpoint.pt" "$WORK/checkpoint.before"
  error_case nan-stop "not finite.*last checkpoint.*intact" --resume "$good" --lr 1e9
  cmp -s "$good/checkpoint.pt" "$WORK/checkpoint.before" ||
    fail "nan-stop: the checkpoint changed after the failed epoch"
  ls "$good" | grep -q '\.tmp' && fail "nan-stop: a temporary checkpoint file was left behind"
  # ... or skip the batches, by option
  if "$BIN" --strategy gdas --space nb201 "${TINY[@]}" --lr 1e9 --on-nan skip \
    --out "$WORK/nan-skip" --json > "$WORK/nan-skip.out" 2>&1; then
    grep -q '"skipped": [1-9]' "$WORK/nan-skip.out" ||
      fail "nan-skip: no skipped batch reported"
    echo "ok: nan-skip (non-finite batches skipped and counted)"
  else
    fail "nan-skip: $(tail -2 "$WORK/nan-skip.out")"
  fi
}

json_cases() {
  # --- JSON lines: every stdout line is one JSON object
  "$BIN" --strategy random --space nb201 "${TINY[@]}" --trials 2 --json \
    --out "$WORK/json" > "$WORK/json.out" 2>&1 || fail "json: the run failed"
  python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
events = [json.loads(l).get("event", "summary") for l in lines]
assert "trial" in events and "final" in events and events[-1] == "summary", events
' "$WORK/json.out" && echo "ok: json (every line parses)" || fail "json: not JSON lines"
}

run_all() {
  resume_cases
  error_cases
  nan_cases
  json_cases
}

if [[ $# -gt 0 ]]; then
  for c in "$@"; do eval "$c"; done
else
  run_all
fi
exit $FAILED
