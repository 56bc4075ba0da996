"""bench/whole_graph.py (issue 17 item 1): the book's cells and our CLI run for the same chapter's examples, side by
side, and the results say per chapter what each side took and which chapters were not compared and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import whole_graph  # noqa: E402


def test_the_catalogue_says_which_chapter_each_example_belongs_to():
    assert whole_graph.chapter_of("book sol.ch5.ex1_wines (L21609–21729)") == "ch5"
    assert whole_graph.chapter_of("book ch13.wifi_indoor_location_model") == "ch13"
    assert whole_graph.chapter_of("DataCamp memo dc.titanic_classification (001:L782–892)") is None
    chapters = whole_graph.catalogue_examples()
    assert chapters["ch5"][:1] == ["banknotes_logreg"] and "banknotes_sweeps" in chapters["ch5"]
    assert "banknotes_random_forest" in chapters["ch5"] and "diabetes_classic_ml" in chapters["ch4"]
    assert "titanic_fc" in chapters["other"] and "titanic_fc" not in chapters["ch3"]
    # what our book-settings run repeats beyond the book's cells, read from the same records' settings
    notes = whole_graph.beyond_the_book()
    assert notes["moons_deep"] == "trains from 5 seeds and keeps the best"
    assert notes["banknotes_random_forest"] == "fits each seeded estimator 21 times" and "iris_softmax" not in notes


def test_selection_takes_each_examples_existing_assets_and_refuses_an_unknown_one():
    keys = {"models/a_model", "reports/a_report", "exports/a_export", "reports/b_report"}
    assert whole_graph.selection(["a", "b"], keys) == ('+key:"models/a_model" or +key:"reports/a_report" or '
                                                       '+key:"exports/a_export" or +key:"reports/b_report"')
    with pytest.raises(ValueError, match="no models/reports/exports asset for"):
        whole_graph.selection(["nothing"], keys)


def test_a_book_script_whose_data_is_missing_names_the_files_and_exits_3(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "book" / "ch05_deep_learning_internals.py"),
                           "--data", str(tmp_path)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == whole_graph.MISSING_DATA, proc.stderr
    assert json.loads(proc.stdout)["missing"] == [str(tmp_path / "banknotes.csv"), str(tmp_path / "wines.csv")]


@pytest.mark.e2e
def test_one_chapter_side_by_side_at_the_fast_profile(tmp_path, mirror):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env["ZTDL_DATA_MIRROR"] = str(mirror)
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "whole_graph.py"), "--chapters", "ch1", "--profile",
                           "fast", "--results", str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((tmp_path / "whole_graph.json").read_text())
    chapters = {c["chapter"]: c for c in result["chapters"]}
    ch1 = chapters["ch1"]
    assert ch1["status"] == "run" and ch1["examples"] == ["circles_shallow"]
    # the book's side trained and evaluated: its script printed the example's accuracy
    (printed,) = ch1["book"]["examples"]
    assert printed["example"] == "circles_shallow" and 0.0 <= printed["numbers"]["train_accuracy"] <= 1.0
    # ours materialized the example's chain through the CLI, each step timed from its events, with its memory
    assert {"models/circles_shallow_model", "reports/circles_shallow_report", "exports/circles_shallow_export",
            "features/circles_features", "raw/circles_raw"} <= set(ch1["ours"]["materialized"])
    steps = {s["step"]: s for s in ch1["ours"]["steps"]}
    assert all(s["status"] == "success" and s["seconds"] > 0 for s in steps.values()), steps
    assert steps["models__circles_shallow_model"]["peak_rss_bytes"] > 100 * 1024 * 1024  # TensorFlow is loaded
    assert ch1["ours"]["wall_seconds"] > ch1["ours_steps_seconds"] > 0
    assert ch1["ratio_book_over_ours"] == pytest.approx(ch1["book"]["wall_seconds"] / ch1["ours"]["wall_seconds"])
    assert result["totals"]["chapters"] == ["ch1"] and result["machine"]["cpus"] >= 1
    assert len(result["load_average_before"]) == 3 and len(result["load_average_after"]) == 3
    # every other chapter is listed with the reason it was not compared
    assert chapters["ch5"]["status"] == "not run this time" and "banknotes_logreg" in chapters["ch5"]["examples"]
    assert chapters["ch6"]["status"] == "no book script yet" and chapters["ch13"]["status"] == "not run this time"
    written = (tmp_path / "whole_graph.md").read_text()
    assert "| ch1 | 1 |" in written and "`python bench/whole_graph.py --chapters ch5`" in written
    assert any(line.startswith("ch1 ") and line.split()[-1] == f"{ch1['ratio_book_over_ours']:.2f}"
               for line in proc.stdout.splitlines())
