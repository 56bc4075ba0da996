"""`make results` over a run that covered only some groups (ztdl_pipeline/results.carry): an example no root
has a report for keeps the row the previous generation of docs/results.md gave it, with that run's id, date
and commit; an example with a report is always regenerated; a previous row of a different gate metric is not
carried."""

from __future__ import annotations

from dataclasses import replace

from ztdl_pipeline.core.results import Row, render
from ztdl_pipeline.core.results_carry import markdown_tables, previous
from ztdl_pipeline.results import carry


def _row(example: str, ours: float | None, run: str = "", metric: str = "test/accuracy") -> Row:
    return Row(example, "tabular", "t", metric, 0.9, ours, 0.05, 0.85, 0.5 if ours is not None else None,
               "within tolerance" if ours is not None else "not run here", "book" if ours is not None else "",
               run, "2026-12-03" if run else "", "55e7c2b114eb" if run else "")


def _previous_text() -> str:
    heads = [_row("kept", 0.91, "2728b2d5"), _row("rerun", 0.70, "2728b2d5"), _row("changed", 0.93, "2728b2d5"),
             _row("never", None)]
    others = [["kept", "train/loss", 0.3, 0.29, "L10"], ["never", "train/loss", 0.3, None, "L11"]]
    reports = [["reports/fundamentals", "a/b", 26, 26, "matches", "001:L47"]]
    return render(heads, others, root="/old", machine="m", generated="then", reports=reports)


def test_markdown_tables_reads_cells_with_escaped_bars():
    (header, rows), = markdown_tables("x\n\n| a | b |\n|---|---|\n| 1 \\| 2 | `c` |\n\ny")
    assert header == ["a", "b"] and rows == [["1 | 2", "`c`"]]


def test_rows_without_a_report_are_carried_with_their_own_run_and_the_rest_regenerated():
    before = previous(_previous_text())
    assert set(before.heads) == {"kept", "rerun", "changed"}  # "never" had no number of ours: nothing to carry
    heads = [_row("kept", None), _row("rerun", 0.95, "9dec450e"), _row("changed", None, metric="test/r2"),
             _row("never", None)]
    others = [["kept", "train/loss", 0.3, None, "L10"], ["never", "train/loss", 0.3, None, "L11"]]
    reports = [["reports/fundamentals", "a/b", 26, None, "not run here", "001:L47"]]
    assert carry(heads, others, reports, _previous_text()) == 1
    assert heads[0] == replace(_row("kept", 0.91, "2728b2d5"), verdict="within tolerance")
    assert heads[1].ours == 0.95 and heads[1].run_id == "9dec450e"  # a report under the roots always wins
    assert heads[2].ours is None  # its gate metric changed since: the old number is not this row's
    assert heads[3].ours is None
    assert others[0][3] == 0.29 and others[1][3] is None
    assert reports[0][3:5] == [26.0, "matches"]


def test_a_carried_number_below_the_gate_keeps_an_honest_verdict():
    text = render([_row("low", 0.40, "2728b2d5")], [], root="/old", machine="m", generated="then")
    heads = [_row("low", None)]
    carry(heads, [], [], text)
    assert heads[0].ours == 0.40 and heads[0].verdict == "no better than its baseline: not exported"


def test_a_tuned_variant_without_a_report_keeps_its_previous_row():
    from ztdl_pipeline import catalog
    from ztdl_pipeline.core.tuned_results import render_tuned, tuned_cell, tuned_row

    moons = catalog.card("moons_logreg")
    metrics = {"comparison": {"tuned": 0.99, "book_settings": 0.8467, "noise": 0.03},
               "search": {"finished": 20, "search_seconds": 80.25, "stopped_by": "trial budget"}, "final_seconds": 4.75,
               "gate": {"passed": True}, "against_book": ["beats the book", ""], "profile": "book"}
    text = render([_row("moons_logreg", 0.8467, "2728b2d5")], [], root="/old", machine="m", generated="then",
                  tuned_section=render_tuned([tuned_row(moons, metrics)]))
    tuned = [tuned_row(moons, None)]
    carry([_row("moons_logreg", None)], [], [], text, tuned)
    assert tuned[0] == tuned_row(moons, metrics)
    assert tuned_cell(tuned[0]) == "0.9900 (test/accuracy; 20 trials, 85 s)"
