#!/usr/bin/env bash
# ctest python.export: nas exports two trained networks, Python PyTorch opens them and rebuilds
# the DARTS one with its own NetworkCIFAR (tests/python/export_check.py: same logits within
# 1e-5), saves its state, and nas loads that back (same logits).
#
#   tests/python/export.sh <export_network binary> <python with torch> <work folder>
set -euo pipefail
BIN=$1 PY=$2 DIR=$3
rm -rf "$DIR"
"$BIN" "$DIR"
"$PY" "$(dirname "${BASH_SOURCE[0]}")/export_check.py" "$DIR"
"$BIN" "$DIR" --check
