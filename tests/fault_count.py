"""The number of fault cases in the test suite: the test items marked `fault` that pytest collects (each
parametrized case counts). README.md states it; tests/unit/test_fault_count.py keeps the two equal.

    python tests/fault_count.py            print the number
    python tests/fault_count.py --update   also write it into README.md
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
STATED = re.compile(r"has \*\*(\d+)\*\* cases")  # the README's sentence: "... has **N** cases ..."


def collected() -> int:
    """Items marked `fault`, as `pytest -m fault` selects them (collection only)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "fault",
                           "-p", "no:cacheprovider"], cwd=REPO, capture_output=True, text=True, timeout=600,
                          check=False)
    match = re.search(r"^(\d+)(?:/\d+)? tests? collected", proc.stdout, re.M)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"pytest could not collect the fault cases (exit {proc.returncode}):\n"
                           f"{(proc.stdout + proc.stderr)[-3000:]}")
    return int(match.group(1))


def stated(text: str | None = None) -> int | None:
    match = STATED.search(README.read_text() if text is None else text)
    return int(match.group(1)) if match else None


def main(argv: list[str]) -> int:
    count = collected()
    print(count)
    if "--update" in argv:
        text = README.read_text()
        if stated(text) is None:
            print(f"{README}: no 'has **N** cases' sentence to update", file=sys.stderr)
            return 1
        README.write_text(STATED.sub(f"has **{count}** cases", text, count=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
