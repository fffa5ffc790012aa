#!/usr/bin/env python3
"""Checks that nas's headers include one way: no header includes a higher layer.

    python3 scripts/check_layers.py [--root DIR]     check DIR/include/nas (default: the repo)
    python3 scripts/check_layers.py --self-test      also show that a planted upward include fails

The order (docs/design.md, "Layers"), lowest first; folders on one line are peers and may
include each other:

    core
    ops
    space
    layout
    relax, spaces
    nn
    controller
    data, train
    eval
    strategy
    dist
    run

`viz` and `testing` sit beside: they may include any layer, and no layer includes them, except
`run` (the session on top of everything: it draws cells and curves with viz). The
umbrella headers at the top (nas.hpp, core.hpp, space.hpp) may include anything. A folder not
in the order is an error (give it a place here and in docs/design.md). Exit code 0 when every
include flows downward, 1 otherwise (one line per offending include: file:line: message).
"""

from __future__ import annotations

import argparse
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ORDER = [
    ["core"],
    ["ops"],
    ["space"],
    ["layout"],
    ["relax", "spaces"],
    ["nn"],
    ["controller"],
    ["data", "train"],
    ["eval"],
    ["strategy"],
    ["dist"],
    ["run"],
]
BESIDE = {"viz", "testing"}
# layers that may include the folders beside (nothing includes them either)
MAY_USE_BESIDE = {"run": {"viz"}}
RANK = {folder: rank for rank, peers in enumerate(ORDER) for folder in peers}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]nas/([^/">]+)/[^">]+[">]')


def check(root: pathlib.Path) -> list[str]:
    """Every offending include under root/include/nas, as 'file:line: message'."""
    base = root / "include" / "nas"
    if not base.is_dir():
        return [f"{base}: no such folder"]
    problems = []
    for header in sorted(base.rglob("*.hpp")):
        rel = header.relative_to(base)
        if len(rel.parts) == 1:
            continue  # an umbrella header
        layer = rel.parts[0]
        if layer not in RANK and layer not in BESIDE:
            problems.append(f"{header}:1: folder '{layer}' has no place in the layer order "
                            "(add it to scripts/check_layers.py and docs/design.md)")
            continue
        for number, line in enumerate(header.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            if target == layer or layer in BESIDE:
                continue
            if target in BESIDE and target in MAY_USE_BESIDE.get(layer, set()):
                continue
            if target in BESIDE:
                problems.append(f"{header}:{number}: {layer}/ includes {target}/, which sits "
                                "beside the layers: nothing in the library may include it")
            elif target not in RANK:
                problems.append(f"{header}:{number}: includes nas/{target}/, a folder with no "
                                "place in the layer order")
            elif RANK[target] > RANK[layer]:
                problems.append(f"{header}:{number}: {layer}/ includes {target}/, a higher "
                                "layer (data flows one way: move the shared part down, see "
                                "docs/design.md)")
    return problems


def self_test() -> int:
    """Plants an upward include in a copy of the tree; the check must name it."""
    repo = pathlib.Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        copy = pathlib.Path(tmp)
        shutil.copytree(repo / "include", copy / "include")
        victim = copy / "include" / "nas" / "core" / "math.hpp"
        text = victim.read_text(encoding="utf-8")
        victim.write_text(text.replace("#pragma once\n",
                                       '#pragma once\n#include "nas/strategy/common.hpp"\n', 1),
                          encoding="utf-8")
        run = subprocess.run([sys.executable, __file__, "--root", str(copy)],
                             capture_output=True, text=True, check=False)
        expected = f"{victim}:2: core/ includes strategy/, a higher layer"
        if run.returncode == 1 and expected in run.stdout:
            print(f"self-test: the planted include was caught: {expected}")
            return 0
        print(f"self-test FAILED: exit {run.returncode}, output:\n{run.stdout}{run.stderr}")
        return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent.parent)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    problems = check(args.root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} include(s) against the layer order")
        return 1
    headers = len(list((args.root / "include" / "nas").rglob("*.hpp")))
    print(f"layers: {headers} headers, every include flows downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
