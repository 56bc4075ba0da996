"""The results table: every example's book number next to ours, generated from the reports' metrics.json.

Nothing here is typed by hand: each row is an example's card (its book numbers, gate metric, tolerance) and
the report an actual run wrote (ours, baseline, profile, run id, date, commit). `docs/results.md` is this
table rendered from a book-profile run; `make results` writes it and `make test-book` checks every row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ztdl_pipeline.core.report import lookup_metric


@dataclass(frozen=True)
class Row:
    """One example's headline: its gate metric, the book's value, ours, and what the gate decided."""

    example: str
    group: str
    title: str
    metric: str  # split/metric
    book: float | None
    ours: float | None
    tolerance: float | None
    threshold: float | None
    baseline: float | None
    verdict: str
    profile: str
    run_id: str
    created: str
    commit: str

    @property
    def covered(self) -> bool:
        """A row `make test-book` can hold to its stated tolerance (the book prints the gated number)."""
        return self.book is not None and self.tolerance is not None


def verdict(ours: float | None, book: float | None, tolerance: float | None, threshold: float | None,
            baseline: float | None) -> str:
    """In words: how our number stands against the book's (within tolerance, better, below) and the gate."""
    if ours is None:
        return "not run here"
    if baseline is not None and ours <= baseline:
        return "no better than its baseline: not exported"
    if threshold is not None and ours < threshold - 1e-12:
        return "below the gate: not exported"
    if book is None:
        return "clears its gate (the book prints no number)"
    if tolerance is not None and ours >= book + tolerance:
        return "better than the book"
    if tolerance is not None and ours < book - tolerance - 1e-12:  # only where the gate is not the book's (fast)
        return "clears its gate, more than the tolerance below the book"
    return "within tolerance"


def headline_row(example: Any, group: str, metrics: Mapping[str, Any] | None) -> Row:
    """The row of one example from its card and its report's metrics (None: no report under this root)."""
    split, metric = example.primary
    book = example.book_value(split, metric)
    tolerance = example.tolerance if example.threshold is None and book is not None else None
    if metrics is None:
        threshold = example.threshold if example.threshold is not None else (
            book - tolerance if book is not None and tolerance is not None else None)
        return Row(example.name, group, example.title, f"{split}/{metric}", book, None, tolerance, threshold,
                   None, "not run here", "", "", "", "")
    gate = metrics.get("gate") or {}
    provenance = metrics.get("provenance") or {}
    ours = lookup_metric(metrics, split, metric)
    threshold, baseline = gate.get("threshold"), gate.get("baseline")
    return Row(example.name, group, example.title, f"{split}/{metric}", book, ours, tolerance, threshold, baseline,
               verdict(ours, book, tolerance, threshold, baseline), str(metrics.get("profile", "")),
               str(provenance.get("run_id", "")), str(provenance.get("created", "")),
               str(provenance.get("git_commit", "")))


def other_numbers(example: Any, metrics: Mapping[str, Any] | None) -> list[list[Any]]:
    """Every other number the book prints for the example, with ours beside it (no tolerance: context)."""
    rows = []
    for number in example.book:
        if (number.split, number.metric) == tuple(example.primary):
            continue
        ours = lookup_metric(metrics, number.split, number.metric) if metrics else None
        rows.append([example.name, f"{number.split}/{number.metric}", number.value, ours, number.where])
    return rows


# the Dagster UI shows a Markdown metadata entry inline only when it is shorter than this (ui-core's
# MetadataEntry.tsx: `mdStr.length < 1000`); a longer one hides behind a "[Show Markdown]" link
INLINE_MARKDOWN_LIMIT = 1000


def ours_vs_book(example: Any, metrics: Mapping[str, Any], limit: int = INLINE_MARKDOWN_LIMIT) -> str:
    """A report's story in a few lines, short enough to show inline in the UI: the gate metric in a sentence
    (ours, the book's, the tolerance, the verdict), the book's other numbers beside ours while they fit, and the
    gate."""
    row = headline_row(example, "", metrics)
    gate = metrics.get("gate") or {}
    book = f", the book's {_fmt(row.book)}" if row.book is not None else ""  # else the verdict says so
    tolerance = f", tolerance {row.tolerance:g}" if row.tolerance is not None else ""
    lines = [f"**{row.metric}** (the gate): ours **{_fmt(row.ours)}**{book}{tolerance}: {row.verdict}.", ""]
    basis = example.gate_basis(str(metrics.get("profile", "")))
    footer = (f"\n\nGate: {row.metric} ≥ {_fmt(row.threshold)} ({basis}), baseline {_fmt(gate.get('baseline'))}; "
              f"profile {metrics.get('profile', '?')}. The full report with plots is the `report` entry.")
    others = other_numbers(example, metrics)
    if others:
        lines += ["| metric | ours | book | ours − book |", "|---|---:|---:|---:|"]
    for shown, (_, metric, value, ours, _) in enumerate(others):
        line = f"| {metric} | {_fmt(ours)} | {_fmt(value)} | {'—' if ours is None else format(ours - value, '+.4f')} |"
        rest = len(others) - shown - 1  # the rows after this one, announced in one line when they must go
        if len("\n".join([*lines, line, _more(rest)]) + footer) >= limit:
            lines.append(_more(rest + 1))
            break
        lines.append(line)
    return "\n".join(lines).rstrip("\n") + footer


def _more(rows: int) -> str:
    return f"| … | {rows} more in the full report | | |" if rows else ""


def number_verdict(ours: float | None, number: Any) -> str:
    """One printed number (core.report.BookNumber) against ours: "matches" within the book's rounding (half a unit
    of the last digit printed), "within tolerance ±t" within the tolerance the number states, else "differs"."""
    import math

    from ztdl_pipeline.core.fundamentals import printed_rounding

    if ours is None:
        return "not run here"
    gap = abs(ours - number.value) if math.isfinite(ours) else math.inf
    if gap <= printed_rounding(number.value):
        return "matches"
    if number.tolerance is not None and gap <= number.tolerance:
        return f"within tolerance ±{number.tolerance:g}"
    return "differs"


def agrees(verdict: str) -> bool:
    """Whether a `number_verdict` holds the number to the book (matches, or within its stated tolerance)."""
    return verdict == "matches" or verdict.startswith("within tolerance")


def report_numbers(report: str, book: Iterable[Any], metrics: Mapping[str, Any] | None) -> list[list[Any]]:
    """The numbers of a report without an exported model (reports/fundamentals: arithmetic; the scikit-learn
    comparisons: models fitted and judged, not exported): each printed number, ours beside it, and its
    `number_verdict`."""
    rows = []
    for number in book:
        ours = lookup_metric(metrics, number.split, number.metric) if metrics else None
        rows.append([f"reports/{report}", f"{number.split}/{number.metric}", number.value, ours,
                     number_verdict(ours, number), number.where])
    return rows


def _code(root: str) -> str:
    """A single path as code; a description already formatted (several roots, carried rows) as it is."""
    return root if "`" in root else f"`{root}`"


def claim_rows(report: str, claims: Iterable[Any], metrics: Mapping[str, Any] | None) -> list[list[Any]]:
    """The numbers a report measures for what the book shows only as a plot or says in words (core.report.BookClaim):
    one row per measured number, the book's claim beside it ("not run here" while no report exists)."""
    rows = []
    for claim in claims:
        for measured in claim.measured:
            split, metric = measured.split("/", 1)
            ours = lookup_metric(metrics, split, metric) if metrics else None
            shown = ours if ours is not None else ("not run here" if metrics is None else "—")
            rows.append([f"reports/{report}", claim.claim, measured, shown, claim.where])
    return rows


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value).replace("|", "\\|")


def render(rows: Iterable[Row], others: Iterable[list[Any]], *, root: str, machine: str, generated: str,
           reports: Iterable[list[Any]] = (), tuned: Mapping[str, str] | None = None,
           tuned_section: Iterable[str] = (), claims: Iterable[list[Any]] = ()) -> str:
    """`tuned`: the "tuned" cell of each example with a search (core/tuned_results.tuned_cell); `tuned_section`:
    the Markdown lines of the tuned variants' own table."""
    rows = list(rows)
    tuned = tuned or {}
    header = ["example", "group", "gate metric", "book", "ours", "tuned", "tolerance", "gate threshold", "baseline",
              "verdict", "profile", "run", "date", "commit"]
    lines = [
        "# Results: the book's numbers next to ours",
        "",
        f"Generated by `make results` on {generated} from the reports under {_code(root)} "
        f"(machine: {machine}). Do not edit: rerun `make results` after a book-profile run.",
        "",
        "Each row is an example's gate metric. *book* is the number the book prints, *ours* what our report "
        "measured, *tolerance* how far below the book the export gate still accepts (the gate threshold is "
        "book − tolerance, or a stated threshold where the book prints no number), and *baseline* what a "
        "trivial predictor scores on the same split (majority class, train mean, or the naive last-value "
        "forecast): a model must beat it to be exported. *tuned* is the example's tuned variant on the test split, "
        "with its search's trial count and compute time (see the tuned variants below). `make test-book` checks "
        "every row that has a book number and a tolerance.",
        "",
        f"{sum(r.ours is not None for r in rows)} of {len(rows)} examples have a report here; "
        f"{sum(r.verdict in ('within tolerance', 'better than the book') for r in rows)} are within tolerance "
        f"of the book or better.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for r in rows:
        cells = [f"`{r.example}`", r.group, r.metric, r.book, r.ours, tuned.get(r.example, "—"), r.tolerance,
                 r.threshold, r.baseline, r.verdict, r.profile, r.run_id[:8], r.created[:10], r.commit[:12]]
        lines.append("| " + " | ".join(_fmt(c) for c in cells) + " |")
    tuned_section = list(tuned_section)
    if tuned_section:
        lines += ["", *tuned_section]
    others = list(others)
    if others:
        lines += ["", "## Every other number the book prints", "",
                  "| example | metric | book | ours | where in the book |", "|---|---|---:|---:|---|"]
        lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in others]
    reports = list(reports)
    if reports:
        lines += ["", "## Numbers of reports without an exported model", "",
                  "Worked arithmetic the seeds print (no model) and the book's scikit-learn comparisons (fitted and "
                  "judged, not exported: docs/architecture.md says why): each number must match the book's within "
                  "its rounding (half a unit of the last digit printed), or within the tolerance its verdict states "
                  "where the book's run cannot be repeated exactly (an unseeded random forest); the report's "
                  "blocking check holds it there.", "",
                  "| report | number | book | ours | verdict | where in the book |", "|---|---|---:|---:|---|---|"]
        exact = [[f"{c:.10g}" if isinstance(c, (int, float)) else c for c in row] for row in reports]  # as printed
        lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in exact]
    claims = list(claims)
    if claims:
        lines += ["", "## What the book shows without a number", "",
                  "Chapter experiments the book shows as plots or sums up in a sentence: the claim, and each number "
                  "our report measured for it (final losses, epochs to a threshold, which runs converge). There is no "
                  "book value to hold them to; the report's tests hold the claim where it can be checked.", "",
                  "| report | the book | number | ours | where in the book |", "|---|---|---|---:|---|"]
        lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in claims]
    return "\n".join(lines) + "\n"
