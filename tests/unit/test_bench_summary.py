"""bench/summary.py: one table of headline ratios from the results files the benchmarks wrote."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _summary():
    spec = importlib.util.spec_from_file_location("bench_summary", REPO / "bench" / "summary.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_committed_result_gives_its_headline_ratio():
    summary = _summary()
    rows = [summary.row(h) for h in summary.HEADLINES]
    assert [r["problem"] for r in rows] == [None] * len(rows), rows  # a renamed key in a results file shows here
    assert all(r["ratio"] > 0 for r in rows)
    assert all(r["met"] is not None for r, h in zip(rows, summary.HEADLINES, strict=True) if h.goal is not None)


def test_goals_missing_files_and_damaged_results_are_rows_that_say_so(tmp_path):
    summary = _summary()
    (tmp_path / "windows.json").write_text(json.dumps({"speedup": 25.0, "created": "today"}))
    (tmp_path / "import_time.json").write_text(json.dumps({"ratio_definitions_over_dagster": 2.0}))
    (tmp_path / "living_cycle.json").write_text("{not json")
    rows = {r["benchmark"]: r for r in (summary.row(h, tmp_path) for h in summary.HEADLINES)}
    assert rows["windows"]["ratio"] == 25.0 and rows["windows"]["met"] is True  # goal >= 20
    assert rows["import_time"]["met"] is False  # lower is better there: 2.0 > 1.3
    assert "unreadable results" in rows["living_cycle"]["problem"]
    assert rows["soak"]["problem"].startswith("no results yet")

    assert summary.main(tmp_path) == 0
    written = (tmp_path / "summary.md").read_text()
    assert "| windows |" in written and "25.00" in written and "**no**" in written and "no results yet" in written
    assert len(json.loads((tmp_path / "summary.json").read_text())) == len(summary.HEADLINES)
