#!/usr/bin/env python3
"""Checks that every C++ code block of a doc page is code that CI compiles.

    python3 scripts/check_doc_snippets.py DOC.md SOURCE.cpp [SOURCE.cpp ...]

Each ```cpp block of DOC.md must appear, line for line (trailing spaces ignored), as a
contiguous run of lines in one of the SOURCE files, which CI builds and runs as examples.
A block that starts with the line `// not compiled` is exempt (a sketch). Exit code 0 when
every block is found, 1 otherwise (naming the block's first line in DOC.md).
"""

from __future__ import annotations

import pathlib
import sys


def blocks(doc: str) -> list[tuple[int, list[str]]]:
    out, current, start = [], None, 0
    for number, line in enumerate(doc.splitlines(), 1):
        if current is None and line.strip() == "```cpp":
            current, start = [], number + 1
        elif current is not None and line.strip() == "```":
            out.append((start, current))
            current = None
        elif current is not None:
            current.append(line.rstrip())
    return out


def contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    doc_path = pathlib.Path(sys.argv[1])
    sources = {p: [line.rstrip() for line in pathlib.Path(p).read_text().splitlines()]
               for p in sys.argv[2:]}
    missing = 0
    found = blocks(doc_path.read_text())
    for start, block in found:
        if block and block[0].strip() == "// not compiled":
            continue
        if not any(contains(lines, block) for lines in sources.values()):
            missing += 1
            print(f"{doc_path}:{start}: this code block is in none of {', '.join(sources)} "
                  "(copy it from the example, or change the example and the doc together)")
    if missing:
        return 1
    print(f"{doc_path}: {len(found)} code blocks, each compiled in an example")
    return 0


if __name__ == "__main__":
    sys.exit(main())
