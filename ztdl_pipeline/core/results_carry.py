"""Rows a partial book-profile run cannot refresh, carried over from the previous docs/results.md.

A full book-profile run takes hours on a small machine, so `make results` is often run on the storage root of
a run that covered only some groups (the tabular chapters, the tuned searches). Regenerating from that root
alone would turn every other example back into "not run here" and lose numbers that a real run did produce.
Instead, an example (or a printed number, or a report's number) that none of the given roots has a report for
keeps what the previous generation of the file said, with that row's own run id, date and commit, so a
reader sees which run each number came from. Nothing is typed by hand: the previous file was itself generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MISSING = "—"


def _cells(line: str) -> list[str]:
    """The cells of one Markdown table line; `\\|` inside a cell is a literal bar."""
    inner = line.strip()[1:-1].replace("\\|", "\0")
    return [cell.strip().replace("\0", "|") for cell in inner.split("|")]


def markdown_tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every table of a Markdown text: (header cells, rows of cells)."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2:
            tables.append((_cells(block[0]), [_cells(row) for row in block[2:]]))
        block = []
    return tables


def number(cell: str) -> float | None:
    """A table cell as a number (None: the "—" of a missing value, or text)."""
    try:
        return None if cell in ("", MISSING) else float(cell)
    except ValueError:
        return None


@dataclass
class Previous:
    """What the previous results.md said, by example, by (example, metric) and by (report, number)."""

    heads: dict[str, dict[str, str]] = field(default_factory=dict)
    others: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    reports: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    tuned: dict[str, dict[str, str]] = field(default_factory=dict)  # the tuned variants' table, by example


def previous(text: str) -> Previous:
    """Parse a generated results.md; only rows that had a number of ours are kept (nothing else is worth
    carrying)."""
    found = Previous()
    for header, rows in markdown_tables(text):
        for cells in rows:
            row = dict(zip(header, cells))
            if header[:4] == ["example", "metric", "book", "book settings"]:
                if number(row.get("tuned", MISSING)) is not None:
                    found.tuned[row["example"].strip("`")] = row
                continue
            if number(row.get("ours", MISSING)) is None:
                continue
            if header[:2] == ["example", "group"]:
                found.heads[row["example"].strip("`")] = row
            elif header[:2] == ["example", "metric"]:
                found.others[(row["example"], row["metric"])] = row
            elif header[:2] == ["report", "number"]:
                found.reports[(row["report"], row["number"])] = row
    return found
