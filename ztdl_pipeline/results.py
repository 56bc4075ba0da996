"""`make results`: write docs/results.md, the table of every example's book number next to ours, from the
reports under a storage root (default: the book profile's, $ZTDL_DATA_DIR or ./data).

    python -m ztdl_pipeline.results [--root DATA_DIR] [--profile book|fast] [--out docs/results.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from ztdl_pipeline import settings
from ztdl_pipeline.core import atomic
from ztdl_pipeline.core.results import Row, agrees, headline_row, other_numbers, render, report_numbers


def examples() -> list[tuple[str, Any]]:
    """(group, card) of every example that has a model, report and gated export, domain by domain in the
    catalogue's order (read from the code location, so a new card appears here with no edit)."""
    from ztdl_pipeline import catalog
    from ztdl_pipeline.assets.base import key
    from ztdl_pipeline.assets.reports import FAMILIES
    from ztdl_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    by_group: dict[str, list[tuple[str, Any]]] = {domain: [] for domain in catalog.DOMAINS}
    for name, (card, _) in FAMILIES.items():
        if graph.has(key("exports", name)):
            group = graph.get(key("reports", name)).group_name
            by_group.setdefault(group, []).append((group, card))
    return [item for items in by_group.values() for item in items]


def read_metrics(root: Path, name: str) -> dict | None:
    path = root / "reports" / name / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else None


def rows(root: Path) -> tuple[list[Row], list[list[Any]]]:
    heads, others = [], []
    for group, example in examples():
        metrics = read_metrics(root, example.name)
        heads.append(headline_row(example, group, metrics))
        others += other_numbers(example, metrics)
    return heads, others


def report_rows(root: Path) -> list[list[Any]]:
    """The numbers of the reports without an exported model (the fundamentals' arithmetic, the scikit-learn
    comparisons): a catalogue module's REPORT_NUMBERS ({report name: the book's numbers}) next to what
    reports/<name>/metrics.json holds (none yet: "not run here")."""
    from ztdl_pipeline import catalog

    return [row for _, module in catalog.modules() for report, book in getattr(module, "REPORT_NUMBERS", {}).items()
            for row in report_numbers(report, book, read_metrics(root, report))]


def tuned_rows(root: Path) -> list:
    """The tuned variant of every example whose card declares a search, from reports/<card>_tuned/metrics.json."""
    from ztdl_pipeline import catalog
    from ztdl_pipeline.core.tuned_results import tuned_row

    return [tuned_row(card, read_metrics(root, f"{card.name}_tuned")) for _, card in catalog.cards()
            if card.tuning is not None]


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), "")
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores" + (f", {model}" if model else "")


def write(root: Path, out: Path) -> Path:
    from ztdl_pipeline.core.tuned_results import render_tuned, tuned_cell

    heads, others = rows(root)
    tuned = tuned_rows(root)
    text = render(heads, others, root=str(root), machine=machine(), generated=time.strftime("%Y-%m-%d %H:%M %Z"),
                  reports=report_rows(root), tuned={row.example: tuned_cell(row) for row in tuned},
                  tuned_section=render_tuned(tuned))
    return atomic.write_text(out, text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=None, help="storage root (default $ZTDL_DATA_DIR or ./data)")
    parser.add_argument("--profile", default="book", help="whose reports: book (default) or fast")
    parser.add_argument("--out", default="docs/results.md")
    args = parser.parse_args(argv)
    root = settings.profile_root(args.profile, args.root)
    path = write(root, Path(args.out))
    heads, _ = rows(root)
    numbers = report_rows(root)
    print(f"{path}: {sum(r.ours is not None for r in heads)} of {len(heads)} examples with a report under {root}; "
          f"{sum(agrees(row[4]) for row in numbers)} of {len(numbers)} numbers of reports without an exported model "
          "agree with the book")


if __name__ == "__main__":
    main()
