"""The tuned variants in the results table: a "tuned" cell per example and a section with every search's
numbers and cost, generated from reports/<card>_tuned/metrics.json (core/tuned_report.py writes them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TunedRow:
    example: str
    metric: str  # test/<metric>
    printed: float | None  # the book's printed test number
    book_settings: float | None  # our model at the book's settings, same test split
    tuned: float | None
    noise: float | None
    gate: str  # "exported" | "refused" | "not run here"
    trials: int | None
    seconds: float | None  # the search's trial compute plus the final training
    stopped_by: str
    verdict: str  # against the book's printed number
    why: str
    profile: str


def tuned_row(card: Any, metrics: Mapping[str, Any] | None) -> TunedRow:
    metric = f"test/{card.tuning.metric}"
    printed = card.book_value("test", card.tuning.metric)
    if metrics is None:
        return TunedRow(card.name, metric, printed, None, None, None, "not run here", None, None, "", "not run here",
                        "", "")
    c, s = metrics["comparison"], metrics["search"]
    verdict, why = metrics["against_book"]
    return TunedRow(card.name, metric, printed, c["book_settings"], c["tuned"], c["noise"],
                    "exported" if metrics["gate"]["passed"] else "refused", s["finished"],
                    round(s["search_seconds"] + metrics["final_seconds"], 1), s["stopped_by"], verdict, why,
                    str(metrics.get("profile", "")))


def against_book(metric: str, tuned: float | None, printed: float | None, book_settings: float | None,
                 note: str = "", noise: float | None = None) -> tuple[str, str]:
    """(verdict, why) of the tuned test number against the book's printed one; `noise`: the test split's noise
    (core/tuned_gate), to say when a win is smaller than it."""
    if tuned is None:
        return "not run here", ""
    if printed is None:
        return "the book prints no test number", note
    if tuned > printed:
        margin = tuned - printed
        small = noise is not None and margin <= noise
        return "beats the book", (f"by {margin:+.4f}, within this test split's noise ({noise:.4f})" if small else "")
    reasons = []
    if metric == "accuracy" and printed >= 1.0:
        reasons.append("the book prints 1.000: no model can beat it, at best match it")
    if book_settings is not None and book_settings < printed:
        reasons.append(f"at the book's own settings our model scores {book_settings:.4f} on our test split against "
                       f"the book's {printed:.4f}: the split (and with few rows, each row) differs")
    if note:
        reasons.append(note)
    return ("matches the book" if tuned == printed else "below the book"), "; ".join(reasons)


def tuned_cell(row: TunedRow) -> str:
    """The results table's "tuned" cell: the tuned test number, its trials and compute time."""
    if row.tuned is None:
        return "—"
    return f"{row.tuned:.4f} ({row.metric}; {row.trials} trials, {row.seconds:g} s)"


def goal(rows: Sequence[TunedRow]) -> tuple[int, int]:
    """(examples whose tuned model beats the book's printed test number, examples run that have one)."""
    judged = [r for r in rows if r.tuned is not None and r.printed is not None]
    return sum(r.verdict == "beats the book" for r in judged), len(judged)


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{value:.4f}" if isinstance(value, float) else str(value).replace("|", "\\|")


def render_tuned(rows: Iterable[TunedRow]) -> list[str]:
    """The section's Markdown lines."""
    rows = list(rows)
    wins, judged = goal(rows)
    lines = ["## Tuned variants (models/<example>_tuned)", "",
             "A bounded Optuna search per example (its card's space, trial and time budgets, seed); trials are "
             "scored on validation rows carved from the training split, the chosen settings are retrained on the "
             "training split and judged once on the test split. *book settings* is our model at the book's "
             "settings on the same test split; *noise* is 1.96 × the standard deviation of the tuned − book-settings "
             "difference over a paired bootstrap of the test rows; the tuned export is published only when the "
             "difference is larger. *seconds*: the trials' compute plus the final training.", "",
             f"The tuned model beats the book's printed test number on {wins} of the {judged} examples run here that "
             "have one.", "",
             "| example | metric | book | book settings | tuned | noise | tuned export | trials | seconds | stopped by "
             "| against the book | why | profile |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|---|---|---|---|"]
    for r in rows:
        cells = [f"`{r.example}`", r.metric, r.printed, r.book_settings, r.tuned, r.noise, r.gate, r.trials,
                 None if r.seconds is None else f"{r.seconds:.1f}", r.stopped_by, r.verdict, r.why, r.profile]
        lines.append("| " + " | ".join(_fmt(c) for c in cells) + " |")
    return lines
