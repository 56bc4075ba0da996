"""Goal 6 of issue 20: does the tuned variant beat the book's printed number, within the card's budgets, here?

For each example (default: every card with a search, of any group), materialize its tuned chain at the book profile
(`+exports/<card>_tuned_export`: raw -> features -> the book-settings model -> the search -> report -> gated
export) in-process, under one storage root that persists between invocations: the studies live in
<root>/tuning/studies/optuna.db (the instance is ephemeral), so an interrupted bench continues where it stopped and a
finished example runs no new trial. Then write the tuned rows (core/tuned_results.py) from the reports.

    python bench/tuning.py [--root DIR] [--cards a,b,...] [--profile book|fast] [--reports-only]
      -> bench/results/tuning.json and bench/results/tuning.md

With --cards, the rows of the other examples are kept from the previous results of the same profile (merged:
the file says which rows came from which invocation), so a few new searches need not rerun every other one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"


def searched_cards() -> list[str]:
    from ztdl_pipeline import catalog

    return [card.name for _, card in catalog.cards() if card.tuning is not None]


def earlier_rows(profile: str, rerun: list[str]) -> tuple[list, dict | None]:
    """The rows of the previous results (same profile) for the examples not rerun now, and where they came from."""
    from ztdl_pipeline.core.tuned_results import TunedRow

    path = RESULTS / "tuning.json"
    if not path.is_file():
        return [], None
    previous = json.loads(path.read_text())
    if previous.get("profile") != profile:
        return [], None
    kept = [TunedRow(**row) for row in previous["rows"] if row["example"] not in rerun]
    merged = previous.get("merged") or []
    before = {e for entry in merged for e in entry["examples"]}
    own = {"finished": previous["finished"], "load_start": previous["load_start"], "load_end": previous["load_end"],
           "root": previous["root"], "examples": [row["example"] for row in previous["rows"]
                                                   if row["example"] not in before]}
    earlier = [{**entry, "examples": [e for e in entry["examples"] if e not in rerun]} for entry in [*merged, own]]
    return kept, {"earlier": [entry for entry in earlier if entry["examples"]]}


def materialize(card: str, reports_only: bool) -> dict:
    """The tuned chain and everything upstream of it (or only the tuned report, its upstream read from the files
    an earlier run left, with `reports_only`)."""
    import dagster as dg

    from ztdl_pipeline.assets.base import key
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    report = key("reports", f"{card}_tuned")
    selection = (dg.AssetSelection.assets(report) if reports_only
                 else dg.AssetSelection.assets(key("exports", f"{card}_tuned")).upstream())
    start = time.perf_counter()
    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=dg.DagsterInstance.ephemeral(),
                            selection=selection, raise_on_error=False)
    failures = [e.event_specific_data.error.message.strip().splitlines()[0] for e in result.all_events
                if e.event_type_value == "STEP_FAILURE"]
    refused = [e for e in result.get_asset_check_evaluations() if e.asset_key == report and not e.passed]
    # a refusal of the tuned gate is an outcome (the row says why), not a failure of the bench
    failures = [f for f in failures if not (refused and "blocking asset check failed" in f)]
    models = result.asset_materializations_for_node(f"models__{card}_tuned_model")
    ran_now = models[0].metadata["ran_now"].value if models else 0
    return {"card": card, "seconds": round(time.perf_counter() - start, 1), "success": not failures,
            "gate_refused": bool(refused), "reports_only": reports_only, "ran_now": ran_now, "failures": failures}


def merged_lines(meta: dict) -> list[str]:
    if not meta.get("merged"):
        return []
    lines = [f"Rows merged from earlier invocations (`--cards` reran only {', '.join(f'`{r}`' for r in meta['rerun'])}):"]
    lines += [f"- {', '.join(f'`{e}`' for e in entry['examples'])}: {entry['finished']}, load average "
              f"{entry['load_start']} at the start and {entry['load_end']} at the end, storage root `{entry['root']}`"
              for entry in meta["merged"]]
    return [*lines, ""]


def render(rows, runs: list[dict], meta: dict) -> str:
    from ztdl_pipeline.core.tuned_results import render_tuned

    lines = ["# Tuned variants against the book (issue 20, goal 6)", "",
             f"`python bench/tuning.py --profile {meta['profile']}"
             f"{' --cards ' + ','.join(meta['rerun']) if meta['merged'] else ''}` — {meta['finished']}, {meta['machine']}, load average "
             f"{meta['load_start']} at the start and {meta['load_end']} at the end (the machine is shared, so the time "
             f"budgets buy fewer trials under load). Storage root `{meta['root']}`.", "",
             *merged_lines(meta), *render_tuned(rows)[2:], "",
             "## This invocation", "",
             "Studies persist under the storage root, so a search finished by an earlier invocation runs no trial "
             "here (its trials and seconds above are the study's).", "",
             "| example | wall seconds | what ran | trials run now | tuned gate | failed steps |",
             "|---|---:|---|---:|---|---|"]
    lines += [f"| `{r['card']}` | {r['seconds']} | {'the report' if r['reports_only'] else 'the whole chain'} | "
              f"{r['ran_now']} | {'refused' if r['gate_refused'] else 'passed' if r['success'] else '—'} | {'; '.join(r['failures']) or '—'} |"
              for r in runs]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "ztdl-tuning-bench"))
    parser.add_argument("--cards", default="", help="comma-separated card names (default: every searched tabular card)")
    parser.add_argument("--profile", default="book")
    parser.add_argument("--reports-only", action="store_true",
                        help="rewrite the tuned reports from the models an earlier run left (no search, no training)")
    args = parser.parse_args()
    os.environ.update(ZTDL_DATA_DIR=args.root, ZTDL_PROFILE=args.profile)
    os.environ.setdefault("ZTDL_DATA_MIRROR", str(REPO.parent / "shared" / "data"))
    from ztdl_pipeline import catalog, settings
    from ztdl_pipeline.core import atomic
    from ztdl_pipeline.core.tuned_results import goal, tuned_row
    from ztdl_pipeline.results import machine, read_metrics

    cards = [c for c in args.cards.split(",") if c] or searched_cards()
    load_start = [round(x, 2) for x in os.getloadavg()]
    runs = []
    for name in cards:
        runs.append(materialize(name, args.reports_only))
        print(json.dumps(runs[-1]), flush=True)
    root = settings.profile_root(args.profile, args.root)
    rows = [tuned_row(catalog.card(name), read_metrics(root, f"{name}_tuned")) for name in cards]
    kept, merged = earlier_rows(args.profile, cards) if args.cards else ([], None)
    order = searched_cards()
    rows = sorted([*kept, *rows], key=lambda r: order.index(r.example) if r.example in order else len(order))
    meta = {"rerun": cards, "merged": merged["earlier"] if merged else [],"profile": args.profile, "root": str(root), "machine": machine(), "python": platform.python_version(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_start": load_start,
            "load_end": [round(x, 2) for x in os.getloadavg()]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    wins, judged = goal(rows)
    atomic.write_json(RESULTS / "tuning.json", {**meta, "goal": {"wins": wins, "judged": judged},
                                                "rows": [asdict(r) for r in rows], "runs": runs})
    atomic.write_text(RESULTS / "tuning.md", render(rows, runs, meta))
    print((RESULTS / "tuning.md").read_text())


if __name__ == "__main__":
    main()
