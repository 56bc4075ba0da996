"""`make results`: write docs/results.md, the table of every example's book number next to ours, from the
reports under a storage root (default: the book profile's, $ZTDL_DATA_DIR or ./data).

    python -m ztdl_pipeline.results [--root DATA_DIR ...] [--profile book|fast] [--out docs/results.md]
                                    [--keep-previous]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Sequence
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


Roots = Path | Sequence[Path]


def read_metrics(root: Roots, name: str) -> dict | None:
    """reports/<name>/metrics.json under `root`; of several roots, the report made last (its provenance)."""
    found = []
    for one in [root] if isinstance(root, Path) else root:
        path = Path(one) / "reports" / name / "metrics.json"
        if path.is_file():
            metrics = json.loads(path.read_text())
            found.append((str((metrics.get("provenance") or {}).get("created", "")), len(found), metrics))
    return max(found)[2] if found else None


def rows(root: Roots) -> tuple[list[Row], list[list[Any]]]:
    heads, others = [], []
    for group, example in examples():
        metrics = read_metrics(root, example.name)
        heads.append(headline_row(example, group, metrics))
        others += other_numbers(example, metrics)
    return heads, others


def report_rows(root: Roots) -> list[list[Any]]:
    """The numbers of the reports without an exported model (the fundamentals' arithmetic, the scikit-learn
    comparisons): a catalogue module's REPORT_NUMBERS ({report name: the book's numbers}) next to what
    reports/<name>/metrics.json holds (none yet: "not run here")."""
    from ztdl_pipeline import catalog

    return [row for _, module in catalog.modules() for report, book in getattr(module, "REPORT_NUMBERS", {}).items()
            for row in report_numbers(report, book, read_metrics(root, report))]


def claim_rows(root: Roots) -> list[list[Any]]:
    """What the book shows only as a plot or a sentence (a catalogue module's REPORT_CLAIMS: {report name: its
    core.report.BookClaim tuple}), each number our report measured for it beside the claim."""
    from ztdl_pipeline import catalog
    from ztdl_pipeline.core.results import claim_rows as rows_of

    return [row for _, module in catalog.modules() for report, claims in getattr(module, "REPORT_CLAIMS", {}).items()
            for row in rows_of(report, claims, read_metrics(root, report))]


def tuned_rows(root: Roots) -> list:
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


def carry(heads: list[Row], others: list[list[Any]], reports: list[list[Any]], text: str,
          tuned: list | None = None) -> int:
    """Fill, in place, what no root has a report for from the previous results.md `text`
    (core/results_carry.py says why), the tuned variants included; the number of example rows carried."""
    from dataclasses import replace

    from ztdl_pipeline.core.results import verdict
    from ztdl_pipeline.core.results_carry import number, previous

    before = previous(text)
    carried = 0
    for i, row in enumerate(heads):
        old = before.heads.get(row.example)
        if row.ours is None and old is not None and old.get("gate metric") == row.metric:
            ours, baseline = number(old["ours"]), number(old.get("baseline", ""))
            heads[i] = replace(row, ours=ours, baseline=baseline,
                               threshold=number(old.get("gate threshold", "")) if row.threshold is None else row.threshold,
                               verdict=verdict(ours, row.book, row.tolerance, row.threshold, baseline),
                               profile=old.get("profile", ""), run_id=old.get("run", ""), created=old.get("date", ""),
                               commit=old.get("commit", ""))
            carried += 1
    for row in others:
        old = before.others.get((row[0], row[1]))
        if row[3] is None and old is not None:
            row[3] = number(old["ours"])
    for row in reports:
        old = before.reports.get((row[0], row[1]))
        if row[3] is None and old is not None:
            row[3], row[4] = number(old["ours"]), old["verdict"]
    for i, row in enumerate(tuned or []):
        old = before.tuned.get(row.example)
        if row.tuned is None and old is not None and old.get("metric") == row.metric:
            trials = number(old.get("trials", ""))
            tuned[i] = replace(row, book_settings=number(old["book settings"]), tuned=number(old["tuned"]),
                               noise=number(old.get("noise", "")), gate=old.get("tuned export", row.gate),
                               trials=None if trials is None else int(trials), seconds=number(old.get("seconds", "")),
                               stopped_by=old.get("stopped by", ""), verdict=old.get("against the book", ""),
                               why="" if old.get("why") == "—" else old.get("why", ""), profile=old.get("profile", ""))
    return carried


def write(root: Roots, out: Path, *, keep_previous: bool = False) -> Path:
    """Render the table from the reports under `root` (one or several storage roots); with `keep_previous`,
    what none of them has a report for keeps what `out` said before (`carry`)."""
    from ztdl_pipeline.core.tuned_results import render_tuned, tuned_cell

    roots = [root] if isinstance(root, Path) else list(root)
    heads, others = rows(roots)
    reports = report_rows(roots)
    tuned = tuned_rows(roots)
    where = ", ".join(f"`{r}`" for r in roots)
    if keep_previous and out.is_file():
        carried = carry(heads, others, reports, out.read_text(), tuned)
        if carried:
            where += (f"; {carried} example rows, for which these have no report, are carried over from the "
                      "previous generation of this file (their run, date and commit columns name the run)")
    text = render(heads, others, root=where, machine=machine(), generated=time.strftime("%Y-%m-%d %H:%M %Z"),
                  reports=reports, tuned={row.example: tuned_cell(row) for row in tuned},
                  tuned_section=render_tuned(tuned), claims=claim_rows(roots))
    return atomic.write_text(out, text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", action="append", default=None,
                        help="storage root (default $ZTDL_DATA_DIR or ./data); repeat it to read several runs' "
                             "roots (the newest report of each example wins)")
    parser.add_argument("--profile", default="book", help="whose reports: book (default) or fast")
    parser.add_argument("--out", default="docs/results.md")
    parser.add_argument("--keep-previous", action="store_true",
                        help="examples without a report under these roots keep the row the previous --out file "
                             "gave them (for a run that covered only some groups)")
    args = parser.parse_args(argv)
    root = [settings.profile_root(args.profile, one) for one in (args.root or [None])]
    path = write(root, Path(args.out), keep_previous=args.keep_previous)
    heads, _ = rows(root)
    numbers = report_rows(root)
    print(f"{path}: {sum(r.ours is not None for r in heads)} of {len(heads)} examples with a report under "
          f"{', '.join(map(str, root))}; {sum(agrees(row[4]) for row in numbers)} of {len(numbers)} numbers of reports "
          "without an exported model agree with the book" + (" (what the file carries over from its previous "
                                                             "generation is named in its header)"
                                                             if args.keep_previous else ""))


if __name__ == "__main__":
    main()
