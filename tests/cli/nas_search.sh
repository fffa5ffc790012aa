#!/usr/bin/env bash
# Tests of examples/nas_search as a program: kill-and-resume and SIGTERM-and-resume equivalence
# for every strategy, checkpoint round trip, a full disk, checkpoints truncated, bit-flipped or
# of a newer format, and every bad input the program must refuse with one clear line and a
# non-zero exit code, leaving no half-written checkpoint.
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

# Runs `name` three times: straight through; killed (SIGKILL) after `die` steps or trials then
# resumed; preempted (SIGTERM, as Slurm and Kubernetes send, at the `sig`-th step or trial: it
# must save and exit 75) then resumed. The genotype, summary and history must be the same.
resume_case() {
  local name=$1 die=$2 sig=$3 before=$FAILED
  FAILED=0
  shift 3
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
  same_run "$name" "$a" "$b"
  for f in genotype.json cell_*.dot curves.svg summary.json; do
    compgen -G "$b/$f" > /dev/null || fail "$name: the run folder lacks $f"
  done
  local c="$WORK/$name-preempted"
  "$BIN" "$@" "${TINY[@]}" --out "$c" --signal-after "$sig" > /dev/null 2> "$WORK/$name.term"
  rc=$?
  [[ $rc == 75 ]] || fail "$name: SIGTERM at $sig should end the run with 75 (exit $rc: $(tail -2 "$WORK/$name.term"))"
  grep -q "stopped by SIGTERM.*--resume $c" "$WORK/$name.term" ||
    fail "$name: no 'stopped by SIGTERM ... --resume' line: $(cat "$WORK/$name.term")"
  [[ -f $c/checkpoint.pt && ! -f $c/summary.json ]] || fail "$name: no checkpoint, or finished"
  "$BIN" --resume "$c" --quiet > "$WORK/$name.resumed2" 2>&1 ||
    fail "$name: the run resumed after SIGTERM failed: $(tail -3 "$WORK/$name.resumed2")"
  same_run "$name (SIGTERM)" "$a" "$c"
  [[ $FAILED == 0 ]] && echo "ok: $name (killed after $die / SIGTERM at $sig, resumed, same result)"
  [[ $before == 1 ]] && FAILED=1
}

# The genotype, summary and history of run folders `a` and `b` agree (wall times aside).
same_run() {
  local name=$1 a=$2 b=$3
  cmp -s "$a/genotype.txt" "$b/genotype.txt" ||
    fail "$name: genotype $(cat "$b/genotype.txt" 2> /dev/null) != $(cat "$a/genotype.txt")"
  diff <(strip_times "$a/summary.json") <(strip_times "$b/summary.json") > /dev/null 2>&1 ||
    fail "$name: summaries differ"
  diff <(strip_times "$a/history.jsonl") <(strip_times "$b/history.jsonl") > /dev/null 2>&1 ||
    fail "$name: histories differ"
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
  elif ! grep -Eq -e "$pattern" "$out"; then
    fail "$name: message '$(head -c 300 "$out")' does not match /$pattern/"
  else
    echo "ok: $name (exit $rc): $(grep -E -e "$pattern" "$out" | head -1 | cut -c1-150)"
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

# --- kill-and-resume and SIGTERM-and-resume equivalence, every strategy (steps or trials as the
# kill point; TINY has 4 steps per epoch; ENAS: 4 weight steps then 4 trials per epoch, SPOS: 8
# weight steps then its trials), in three parts so that ctest -j runs them side by side
resume_cases() {
  resume_cases_1
  resume_cases_2
  resume_cases_3
}

resume_cases_1() {
  resume_case gdas-nb201 6 3 --strategy gdas --space nb201
  resume_case darts2-darts 6 5 --strategy darts --order 2 --space darts --layers 3 \
    --channels 4 --final-layers 3 --final-channels 4
  resume_case darts-mobile 5 4 --strategy darts --space mobile --channels 2 --final-channels 2
}

resume_cases_2() {
  resume_case pcdarts-nb201 6 7 --strategy pc-darts --space nb201 --channels 4
  resume_case pcdarts-darts 6 2 --strategy pc-darts --space darts --layers 3 --channels 4 \
    --final-layers 3 --final-channels 4
  # DrNAS with DARTS-'s skip and DARTS-PT's selection: killed and stopped inside the selection
  # (the 8 search steps, then one tick per decision), which starts over from the searched state
  resume_case drnas-pt-nb201 10 9 --strategy drnas --aux-skip --derive perturbation --pt-tune 1 \
    --space nb201
  resume_case enas-nb201 5 10 --strategy enas --space nb201 --controller-steps 2 --children 2
}

resume_cases_3() {
  resume_case spos-mobile 3 11 --strategy spos --space mobile --channels 2 --final-channels 2 \
    --trials 6 --checkpoint-every 2
  resume_case reinforce-nb201 3 3 --strategy reinforce --space nb201 --trials 5 --children 2 \
    --checkpoint-every 2
  resume_case evolution-darts 3 2 --strategy evolution --space darts --layers 3 --channels 4 \
    --final-layers 3 --final-channels 4 --trials 5 --checkpoint-every 2
  resume_case evolution-warm-nb201 3 4 --strategy evolution --space nb201 --trials 5 \
    --checkpoint-every 2 --warm-start naswot
  resume_case random-nb201 4 4 --strategy random --space nb201 --trials 5 --checkpoint-every 3
}

error_cases() {
  [[ -d $WORK/gdas-nb201-killed ]] || resume_case gdas-nb201 6 3 --strategy gdas --space nb201
  # --- bad input: one line naming the problem and the fix, non-zero exit
  error_case unknown-strategy "strategy.*not in" --strategy magic
  error_case unknown-space "space.*not in" --space resnet
  error_case out-of-range "epochs.*not in range" --epochs 0
  error_case bad-order "order.*not in" --order 3
  error_case pcdarts-mobile "pc-darts searches the darts and nb201 spaces" --strategy pc-darts \
    --space mobile
  error_case pcdarts-channels "divisible by 4" --strategy pc-darts --channels 6
  error_case pt-gdas "perturbation.*darts, pc-darts or drnas" --strategy gdas \
    --derive perturbation
  error_case aux-skip-trials "aux-skip.*differentiable" --strategy random --aux-skip
  error_case warm-start-gdas "warm-start.*--strategy evolution" --strategy gdas \
    --warm-start naswot
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

fault_cases() {
  local straight="$WORK/gdas-nb201-straight"
  [[ -d $straight ]] || resume_case gdas-nb201 6 3 --strategy gdas --space nb201
  local g=(--strategy gdas --space nb201 "${TINY[@]}")

  # --- SIGTERM during the final training (the random baseline's): saved, 75, resumed
  local f="$WORK/term-final"
  "$BIN" "${g[@]}" --out "$f" --signal-after 10 > /dev/null 2>&1
  local rc=$?
  [[ $rc == 75 ]] || fail "term-final: exit $rc, expected 75"
  "$BIN" --resume "$f" --quiet > /dev/null 2>&1 || fail "term-final: the resumed run failed"
  same_run term-final "$straight" "$f"
  [[ $rc == 75 ]] && echo "ok: term-final (SIGTERM in the final training, resumed, same result)"

  # --- a real SIGTERM from outside (a scheduler's), most likely mid-way through a child's
  # training (SIGINT would be ignored: this script's background jobs start with SIGINT ignored,
  # and the program keeps an ignored signal ignored)
  local t=(--strategy random --space nb201 "${TINY[@]}" --trials 30 --checkpoint-every 1)
  "$BIN" "${t[@]}" --out "$WORK/int-straight" > /dev/null 2>&1 || fail "int: straight run failed"
  "$BIN" "${t[@]}" --out "$WORK/int" > /dev/null 2> "$WORK/int.err" &
  local pid=$!
  for _ in $(seq 600); do
    [[ -f $WORK/int/checkpoint.pt ]] && break
    sleep 0.05
  done
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  if [[ $rc == 75 ]] && grep -q "stopped by SIGTERM" "$WORK/int.err"; then
    "$BIN" --resume "$WORK/int" --quiet > /dev/null 2>&1 || fail "int: the resumed run failed"
    same_run int "$WORK/int-straight" "$WORK/int"
    echo "ok: term-outside (SIGTERM from outside: exit 75, resumed, same result)"
  else
    fail "term-outside: exit $rc after SIGTERM, expected 75: $(cat "$WORK/int.err")"
  fi

  # --- the disk full while writing the checkpoint: the previous one stays whole, one line
  local d="$WORK/full"
  "$BIN" "${g[@]}" --out "$d" --die-after 6 > /dev/null 2>&1
  cp "$d/checkpoint.pt" "$WORK/full.before"
  ln -s /dev/full "$d/checkpoint.pt.tmp"  # a write there fails: no space left on device
  error_case disk-full "cannot write '.*checkpoint.pt': writing .* failed: No space left on device; the previous 'checkpoint.pt' is unchanged" \
    --resume "$d"
  cmp -s "$d/checkpoint.pt" "$WORK/full.before" || fail "disk-full: the checkpoint changed"
  [[ ! -e $d/checkpoint.pt.tmp && ! -L $d/checkpoint.pt.tmp ]] ||
    fail "disk-full: the temporary file was left behind"
  # ... and a run-folder file: the run ends naming it; resumed with space, it completes
  ln -s /dev/full "$d/summary.json.tmp"
  error_case disk-full-summary "cannot write '.*summary.json'.*No space left on device" \
    --resume "$d"
  if "$BIN" --resume "$d" --quiet > /dev/null 2>&1; then
    same_run disk-full "$straight" "$d"
    echo "ok: disk-full (resumed after the failed writes, same result)"
  else
    fail "disk-full: the run did not complete once the disk had space"
  fi

  # --- a checkpoint from elsewhere: each refused by name, the file and the folder unchanged
  local k="$WORK/refuse" kind
  "$BIN" "${g[@]}" --out "$k" --die-after 6 > /dev/null 2>&1
  cp "$k/checkpoint.pt" "$WORK/refuse.good"
  for kind in truncated flipped newer empty; do
    python3 - "$WORK/refuse.good" "$k/checkpoint.pt" "$kind" << 'PY'
import sys
src, dst, kind = sys.argv[1:]
b = bytearray(open(src, "rb").read())
if kind == "truncated":
    b = b[: len(b) // 2]
elif kind == "flipped":
    b[len(b) * 2 // 3] ^= 0x04
elif kind == "newer":
    b = b.replace(b"nas-checkpoint 2 ", b"nas-checkpoint 3 ", 1)
else:
    b = b""
open(dst, "wb").write(bytes(b))
PY
    cp "$k/checkpoint.pt" "$WORK/refuse.$kind"
    local listing
    listing=$(ls -l --time-style=full-iso "$k")
    case $kind in
      truncated) error_case "refuse-$kind" "checkpoint.pt' is truncated" --resume "$k" ;;
      flipped) error_case "refuse-$kind" "checkpoint.pt' is corrupt" --resume "$k" ;;
      newer) error_case "refuse-$kind" "has checkpoint format 3.*reads formats 1 to 2" --resume "$k" ;;
      empty) error_case "refuse-$kind" "checkpoint.pt' is empty" --resume "$k" ;;
    esac
    cmp -s "$k/checkpoint.pt" "$WORK/refuse.$kind" || fail "refuse-$kind: the file changed"
    [[ $(ls -l --time-style=full-iso "$k") == "$listing" ]] ||
      fail "refuse-$kind: the run folder changed"
  done
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

# The verbs: count, convert, draw, train, evaluate; each with --help, and a malformed genotype
# refused with its position.
verb_cases() {
  local out="$WORK/verbs"
  mkdir -p "$out"
  local v
  for v in count convert draw train evaluate; do
    "$BIN" "$v" --help > "$out/$v.help" 2>&1 && grep -q -- "--" "$out/$v.help" ||
      fail "verb $v: --help failed"
  done
  # DARTS V2 at the published size: DARTS reports 3.3 M parameters (3,349,342 in its code)
  "$BIN" count --space darts --genotype darts_v2 --channels 36 --layers 20 --json > "$out/count" 2>&1 ||
    fail "count: $(cat "$out/count")"
  grep -q '"parameters": 3349342' "$out/count" && echo "ok: count darts_v2 (3349342 parameters)" ||
    fail "count darts_v2: $(cat "$out/count")"
  # the same genotype through every form and back
  local nb='|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'
  "$BIN" convert --space nb201 --genotype "$nb" --to json > "$out/g.json" 2>&1 || fail "convert to json"
  "$BIN" convert --space nb201 --genotype-file "$out/g.json" --to darts > "$out/g.darts" 2>&1 ||
    fail "convert json to darts: $(cat "$out/g.darts")"
  "$BIN" convert --space nb201 --genotype "$(cat "$out/g.darts")" --to nb201 > "$out/g.nb201" 2>&1 ||
    fail "convert darts to nb201: $(cat "$out/g.nb201")"
  [[ $(cat "$out/g.nb201") == "$nb" ]] && echo "ok: convert nb201 -> json -> darts -> nb201" ||
    fail "convert round trip: $(cat "$out/g.nb201") != $nb"
  "$BIN" draw --space darts --genotype darts_v2 --out "$out/cell_" > "$out/draw" 2>&1 ||
    fail "draw: $(cat "$out/draw")"
  [[ -s $out/cell_normal.dot && -s $out/cell_reduce.dot ]] && echo "ok: draw darts_v2" ||
    fail "draw: no DOT files"
  # malformed genotypes: the position named, with the text around it
  error_case verb-bad-op 'at offset 1 \(line 1, column 2\): unknown op .no_such_op.' count --space nb201 --genotype '|no_such_op~0|+|'
  error_case verb-bad-darts 'cannot read .*offset' convert --space darts --genotype "Genotype(normal=[('sep_conv_3x3', 0)"
  error_case verb-bad-json 'cannot read .*offset' convert --space nb201 --genotype '{"cells": ['
  error_case verb-no-genotype 'give the genotype as --genotype TEXT or --genotype-file FILE' count --space nb201
  error_case verb-missing-file "--genotype-file: '.*/nope.txt' is not a file" count --space nb201 --genotype-file "$out/nope.txt"
  error_case verb-search-option-first "--data is an option of the search, not of 'count'" --data idx count --space nb201 --genotype "$nb"
  error_case verb-nb201-text-for-darts 'do not fit NAS-Bench-201 text' convert --space darts --genotype darts_v2 --to nb201
  # train a genotype on IDX data, save it, evaluate the saved network: the same test accuracy
  make_idx "$out/data" none
  "$BIN" train --space nb201 --genotype "$nb" --data idx --data-dir "$out/data" --epochs 1 \
    --train 256 --test 128 --channels 4 --layers 1 --save "$out/net.pt" --json > "$out/train" 2>&1 ||
    fail "train: $(cat "$out/train")"
  "$BIN" evaluate --network "$out/net.pt" --data idx --data-dir "$out/data" --test 128 --json \
    > "$out/eval" 2>&1 || fail "evaluate: $(cat "$out/eval")"
  python3 -c '
import json, sys
t, e = (json.load(open(f)) for f in sys.argv[1:3])
assert t["test_accuracy"] == e["test_accuracy"] and t["parameters"] == e["parameters"], (t, e)
assert abs(t["test_loss"] - e["test_loss"]) < 1e-6, (t, e)
' "$out/train" "$out/eval" && echo "ok: train --save, then evaluate: the same test accuracy" ||
    fail "train/evaluate disagree: $(cat "$out/train") / $(cat "$out/eval")"
  head -c 1000 "$out/net.pt" > "$out/cut.pt"
  error_case verb-evaluate-truncated "is not a file torch.save or nas::export_network wrote" \
    evaluate --network "$out/cut.pt" --data idx --data-dir "$out/data"
  error_case verb-evaluate-wrong-space "genotype this space cannot read" \
    evaluate --network "$out/net.pt" --space darts --data idx --data-dir "$out/data" --test 128
}

run_all() {
  resume_cases
  error_cases
  nan_cases
  fault_cases
  json_cases
  verb_cases
}

if [[ $# -gt 0 ]]; then
  for c in "$@"; do eval "$c"; done
else
  run_all
fi
exit $FAILED
