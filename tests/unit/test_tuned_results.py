"""The results table's tuned column and section (core/tuned_results.py), and the report's verdict against the
book's printed number (against_book)."""

from __future__ import annotations

from ztdl_pipeline import catalog
from ztdl_pipeline.core.results import Row, render
from ztdl_pipeline.core.tuned_results import against_book, goal, render_tuned, tuned_cell, tuned_row


def _metrics(tuned: float, book_settings: float, passed: bool, verdict: tuple[str, str]) -> dict:
    """The parts of reports/<card>_tuned/metrics.json the table reads."""
    return {"comparison": {"tuned": tuned, "book_settings": book_settings, "noise": 0.03},
            "search": {"finished": 20, "search_seconds": 80.25, "stopped_by": "trial budget"}, "final_seconds": 4.75,
            "gate": {"passed": passed}, "against_book": list(verdict), "profile": "book"}


def test_the_tuned_cell_and_section_come_from_the_tuned_reports():
    moons, iris, banknotes = catalog.card("moons_logreg"), catalog.card("iris_softmax"), catalog.card("banknotes_logreg")
    rows = [tuned_row(moons, _metrics(0.99, 0.8467, True, ("beats the book", ""))),
            tuned_row(iris, _metrics(1.0, 0.9667, False, ("matches the book", "the book prints 1.000"))),
            tuned_row(banknotes, None)]
    assert tuned_cell(rows[0]) == "0.9900 (test/accuracy; 20 trials, 85 s)"
    assert tuned_cell(rows[2]) == "—"
    assert goal(rows) == (1, 2)  # banknotes was not run: it does not count
    section = "\n".join(render_tuned(rows))
    assert "beats the book's printed test number on 1 of the 2 examples" in section
    assert "| `moons_logreg` | test/accuracy | 0.8470 | 0.8467 | 0.9900 | 0.0300 | exported | 20 | 85.0 |" in section
    assert "| `iris_softmax` |" in section and "refused" in section and "the book prints 1.000" in section
    head = Row("moons_logreg", "tabular", "t", "test/accuracy", 0.847, 0.8467, 0.05, 0.797, 0.4567, "within tolerance",
               "book", "r", "c", "g")
    text = render([head], [], root="/r", machine="m", generated="now", tuned={"moons_logreg": tuned_cell(rows[0])},
                  tuned_section=render_tuned(rows))
    assert "| book | ours | tuned |" in text
    assert "| 0.8470 | 0.8467 | 0.9900 (test/accuracy; 20 trials, 85 s) |" in text
    assert "## Tuned variants" in text


def test_the_verdict_against_the_book_says_why_it_does_not_win():
    assert against_book("accuracy", 0.99, 0.847, 0.8467, noise=0.04) == ("beats the book", "")
    assert against_book("accuracy", 0.7403, 0.7273, 0.7208, noise=0.0605) == (
        "beats the book", "by +0.0130, within this test split's noise (0.0605)")
    verdict, why = against_book("accuracy", 1.0, 1.0, 0.9667)
    assert verdict == "matches the book" and "no model can beat it" in why
    verdict, why = against_book("r2", 0.80, 0.843, 0.797, note="the book's model saw the test rows")
    assert verdict == "below the book" and "our model scores 0.7970" in why and "saw the test rows" in why
    assert against_book("accuracy", 0.9, None, 0.85)[0] == "the book prints no test number"
