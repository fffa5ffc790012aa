#!/bin/bash
# nas_search on a GPU machine that has PyTorch but no network and none of the Debian
# header packages: builds examples/nas_search.cpp with g++ against that PyTorch's LibTorch,
# runs (with ALL=1) every strategy at tiny sizes on synthetic IDX data with --device cuda,
# then for four strategies: two straight runs (same history?) and a run killed with
# SIGKILL and resumed (same genotype, summary and history?). Results in $OUT/gpu.txt.
#
# gpu_deps/include (ignored by git) must hold the headers nas_search needs beyond LibTorch:
#   mkdir -p gpu_deps/include && cp -r /usr/include/{range,meta,concepts,std,CLI} \
#     /usr/include/zlib.h /usr/include/zconf.h gpu_deps/include/
# (Debian packages librange-v3-dev, libcli11-dev, zlib1g-dev). Run from the repository root:
#   ALL=1 bash tests/cli/cuda_check.sh
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import torch;print("torch", torch.__version__, "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI, "cuda", torch.version.cuda)'; } 2>&1 | tee "$O/gpu.txt"
TORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
ABI=$(python3 -c 'import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
start=$(date +%s)
g++ -std=c++20 -O1 -DNDEBUG -D_GLIBCXX_USE_CXX11_ABI=$ABI -w -Iinclude -Igpu_deps/include \
  -isystem $TORCH/include -isystem $TORCH/include/torch/csrc/api/include examples/nas_search.cpp \
  -o /tmp/nas_search -L$TORCH/lib -Wl,-rpath,$TORCH/lib -Wl,--no-as-needed -ltorch_cuda -ltorch \
  -ltorch_cpu -lc10_cuda -lc10 -Wl,--as-needed -l:libz.so.1 > "$O/build.txt" 2>&1
echo "build rc $? in $(( $(date +%s) - start )) s" | tee -a "$O/gpu.txt"
tail -20 "$O/build.txt"
python3 tests/cli/make_idx.py /tmp/idx
B=/tmp/nas_search
T="--data idx --data-dir /tmp/idx --epochs 2 --train 256 --valid 128 --batch 64 --final-epochs 1 --final-train 128 --test 128 --baseline 1 --device cuda --quiet --threads 4"
run() { local name=$1; shift; local s=$(date +%s%N)
  timeout 120 $B $T "$@" --out /tmp/runs/$name > /tmp/$name.log 2>&1; local rc=$?
  printf '%-22s rc %3d %6d ms  %s\n' "$name" $rc $(( ($(date +%s%N) - s) / 1000000 )) "$(grep -E 'test accuracy|error' /tmp/$name.log | head -1)" | tee -a "$O/gpu.txt"
  [[ $rc == 0 ]] || tail -5 /tmp/$name.log >> "$O/gpu.txt"; }
[[ ${ALL:-0} == 1 ]] && run gdas-nb201 --strategy gdas --space nb201
# kill and resume on CUDA
for c in "gdas --space nb201:6" "enas --space nb201 --controller-steps 2 --children 2:5" "darts --space darts --layers 3 --channels 4 --final-layers 3 --final-channels 4:6" "spos --space mobile --channels 4 --final-channels 4 --trials 6 --checkpoint-every 2:3"; do
  args=${c%:*}; die=${c##*:}; n=$(echo $args | cut -d' ' -f1)
  $B $T --strategy $args --out /tmp/r/$n-a > /dev/null 2>&1
  $B $T --strategy $args --out /tmp/r/$n-b --die-after $die > /dev/null 2>&1
  $B --resume /tmp/r/$n-b --quiet > /dev/null 2>&1
  $B $T --strategy $args --out /tmp/r/$n-c > /dev/null 2>&1
  diff -q <(sed -E 's/"(search_)?seconds": [-0-9.e+]+//g' /tmp/r/$n-a/history.jsonl) <(sed -E 's/"(search_)?seconds": [-0-9.e+]+//g' /tmp/r/$n-c/history.jsonl) > /dev/null && echo "straight twice on cuda $n: same history" | tee -a "$O/gpu.txt" || echo "straight twice on cuda $n: DIFFERENT history" | tee -a "$O/gpu.txt"
  if cmp -s /tmp/r/$n-a/genotype.txt /tmp/r/$n-b/genotype.txt && diff -q <(sed -E 's/"(search_)?seconds": [-0-9.e+]+//g' /tmp/r/$n-a/summary.json) <(sed -E 's/"(search_)?seconds": [-0-9.e+]+//g' /tmp/r/$n-b/summary.json) >/dev/null; then r=same; else r=DIFFERENT; fi
  echo "resume on cuda $n: $r" | tee -a "$O/gpu.txt"
  diff <(sed -E 's/"seconds": [-0-9.e+]+//g' /tmp/r/$n-a/history.jsonl) <(sed -E 's/"seconds": [-0-9.e+]+//g' /tmp/r/$n-b/history.jsonl) | head -4 | cut -c1-300 >> "$O/gpu.txt"
done
cp /tmp/runs/gdas-nb201/summary.json "$O/" 2>/dev/null
