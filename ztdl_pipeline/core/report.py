"""Reports: our numbers next to the book's, rendered as Markdown with the plots."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ztdl_pipeline.core import atomic


@dataclass(frozen=True)
class BookNumber:
    """A number the book prints: which split and metric, its value, and where the book says it. `tolerance`:
    how far ours may be from it where the book's run cannot be repeated exactly (e.g. an unseeded random forest);
    None: ours must match within the book's rounding (core/results.number_verdict)."""

    split: str
    metric: str
    value: float
    where: str = ""
    tolerance: float | None = None


@dataclass(frozen=True)
class BookClaim:
    """What the book shows without printing a number (a plot, a sentence) and the numbers our report measures
    for it: `measured` names each as "split/metric" in the report's metrics.json. The results table lists them
    with the claim beside them (core/results.claim_rows)."""

    claim: str
    where: str
    measured: tuple[str, ...]


def lookup_metric(metrics: Mapping[str, Any], split: str, metric: str) -> float | None:
    """Find metrics[split][metric]; CV results live under metrics['cv'] as mean/std."""
    section = metrics.get(split)
    if not isinstance(section, Mapping):
        return None
    value = section.get(metric)
    return float(value) if isinstance(value, (int, float)) else None


def comparison_rows(metrics: Mapping[str, Any], book: Sequence[BookNumber]) -> list[dict[str, Any]]:
    rows = []
    for number in book:
        ours = lookup_metric(metrics, number.split, number.metric)
        rows.append({
            "split": number.split, "metric": number.metric, "ours": ours, "book": number.value,
            "difference": None if ours is None else ours - number.value, "book_ref": number.where,
        })
    return rows


def significant(value: float, digits: int = 4) -> float:
    """`value` rounded to `digits` significant digits, still a float (nan and inf as they are): what the UI
    shows and plots, where 0.9208333333333333 says no more than 0.9208."""
    if not math.isfinite(value) or value == 0:
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def headline(title: str, numbers: Mapping[str, Any], sections: Sequence[str], limit: int = 1000) -> str:
    """A short Markdown summary of a report for the UI (under `limit` characters): its title, its headline
    numbers and what its full report holds."""
    lines = [f"**{title}**", "", "| number | value |", "|---|---:|"] if numbers else [f"**{title}**"]
    for name, value in numbers.items():
        line = f"| {name} | {format(value, '.6g') if isinstance(value, float) else value} |"
        if len("\n".join([*lines, line])) > limit - 200:
            lines.append("| … | more in the full report |")
            break
        lines.append(line)
    holds = "; ".join(sections)
    tail = f"\n\nThe full report (the `report` entry) holds: {holds}."
    return "\n".join(lines) + (tail if len(tail) < 180 else "\n\nThe full report is the `report` entry.")


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def comparison_table(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| split | metric | ours | book | ours − book | book ref |", "|---|---|---:|---:|---:|---|"]
    for row in rows:
        diff = "—" if row["difference"] is None else f"{row['difference']:+.4f}"
        lines.append(f"| {row['split']} | {row['metric']} | {_fmt(row['ours'])} | {_fmt(row['book'])} "
                     f"| {diff} | {row['book_ref']} |")
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def image_markdown(name: str, png: bytes, embed: bool) -> str:
    """A Markdown image: a data URI for the Dagster UI (no image metadata type), a file link on disk."""
    if embed:
        return f"![{name}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
    return f"![{name}]({name}.png)"


def render(title: str, sections: Sequence[tuple[str, str]], images: Mapping[str, bytes], embed: bool) -> str:
    parts = [f"# {title}", ""]
    for heading, body in sections:
        parts += [f"## {heading}", "", body, ""]
    if images:
        parts += ["## Plots", ""]
        parts += [image_markdown(name, png, embed) + "\n" for name, png in images.items()]
    return "\n".join(parts)


def resumed_section(info: Mapping[str, Any]) -> str:
    """The report's note that its training was killed and resumed (empty when it ran in one go)."""
    resumed = info.get("resumed") or []
    if not resumed:
        return ""
    where = ", ".join(f"seed {r['seed']} from epoch {r['from_epoch']}" for r in resumed)
    return ("\n## Resumed\n\nThis training was killed and resumed from its last completed epoch (weights, epoch "
            f"and history are saved after every epoch): {where}.\n")


def write_report_folder(folder: Path, markdown: str, images: Mapping[str, bytes]) -> list[Path]:
    """Write report.md and the PNGs (each atomically); metrics.json is written by the IO manager."""
    written = [atomic.write_text(folder / "report.md", markdown)]
    written += [atomic.write_bytes(folder / f"{name}.png", png) for name, png in images.items()]
    return written
