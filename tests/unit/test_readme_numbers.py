"""The README's timings are the benchmark files' numbers, not typed by hand: a rerun of the benchmark that
changes them fails here until the README says the same."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_quick_start_timings_are_the_materialize_benchmarks():
    readme = (REPO / "README.md").read_text()
    stated = re.search(r"\*\*(\d+) s\*\* at the fast profile,\s+\*\*(\d+) s\*\* at the book's settings", readme)
    assert stated, "the README's quick start no longer states the tabular group's timings"
    for profile, seconds in zip(("fast", "book"), stated.groups(), strict=True):
        result = json.loads((REPO / "bench" / "results" / f"materialize_time_{profile}.json").read_text())
        assert "group:tabular" in result["command"] and result["returncode"] == 0
        assert int(seconds) == round(result["wall_seconds"]), (profile, seconds, result["wall_seconds"])
