"""bench/tuning.py --cards: the examples not rerun keep their rows from the previous results of the same profile,
and the file says which invocation each kept row came from."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_tuning", REPO / "bench" / "tuning.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _row(example: str) -> dict:
    return {"example": example, "metric": "test/accuracy", "printed": 0.9, "book_settings": 0.8, "tuned": 0.85,
            "noise": 0.01, "gate": "exported", "trials": 3, "seconds": 1.0, "stopped_by": "trial budget",
            "verdict": "below the book", "why": "", "profile": "book"}


def _results(finished: str, rows: list[str], rerun: list[str], merged: list[dict], profile="book") -> dict:
    return {"profile": profile, "root": f"/r/{finished}", "finished": finished, "load_start": [1], "load_end": [2],
            "rows": [_row(r) for r in rows], "rerun": rerun, "merged": merged}


def test_rows_not_rerun_are_kept_with_the_invocation_they_came_from(tmp_path, monkeypatch):
    bench = _bench()
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    # a whole run (a, b), then `--cards c` (a, b merged from the first), now `--cards b`
    first = {"finished": "t1", "load_start": [1], "load_end": [2], "root": "/r/t1", "examples": ["a", "b"]}
    (tmp_path / "tuning.json").write_text(json.dumps(_results("t2", ["a", "b", "c"], ["c"], [first])))
    kept, merged = bench.earlier_rows("book", ["b"])
    assert [r.example for r in kept] == ["a", "c"]
    assert [(m["finished"], m["examples"]) for m in merged["earlier"]] == [("t1", ["a"]), ("t2", ["c"])]
    lines = bench.merged_lines({"merged": merged["earlier"], "rerun": ["b"]})
    assert lines[0].startswith("Rows merged from earlier invocations (`--cards` reran only `b`)")
    assert "- `a`: t1" in lines[1] and "- `c`: t2" in lines[2]


def test_results_of_another_profile_are_not_merged(tmp_path, monkeypatch):
    bench = _bench()
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    (tmp_path / "tuning.json").write_text(json.dumps(_results("t1", ["a"], [], [], profile="fast")))
    assert bench.earlier_rows("book", ["b"]) == ([], None)
