"""The closing summary of `make run`: per example, its gate metric against its threshold, what was published
(or why nothing was), and where its report and export are. Read from the instance by ztdl_pipeline/summary.py;
formatted here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Gate:
    metric: str  # "test/accuracy"
    value: float | None
    threshold: float
    passed: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExampleOutcome:
    name: str
    gate: Gate | None  # None: the gate has not judged this profile's current report
    published: str  # "published version 2", "unchanged: version 1 is current", "not published: ..."
    report: Path | str | None  # a path, or an object-store URL when the storage root is one
    export: Path | str | None


def publication(selected: bool, planned: str, materialized: str | None, gate: Gate | None,
                current_version: int | None) -> str:
    """What happened to an example's export. `planned`: 'run', 'fresh' or the reason `make run` left it out;
    `materialized`: the export's `published` metadata when this run materialized it."""
    current = f" (current: version {current_version})" if current_version else ""
    if not selected:
        return "not in the selection" + current
    if planned == "fresh":
        return f"unchanged: version {current_version} is current" if current_version else "unchanged"
    if planned != "run":
        return f"not published: {planned}{current}"
    if materialized and materialized.startswith("new version "):
        return f"published version {materialized.removeprefix('new version ')}"
    if materialized and materialized.startswith("unchanged, version "):
        return f"unchanged: version {materialized.removeprefix('unchanged, version ')} was built from this model"
    if materialized:
        return materialized
    if gate is not None and not gate.passed:
        why = "; ".join(gate.reasons)
        return "not published: refused by the gate" + (f" ({why})" if why else "") + current
    return "not published: the run did not materialize it (see the errors above)" + current


def _shown(path: Path | str | None, cwd: Path) -> str:
    if path is None:
        return "none yet"
    if "://" in str(path):
        return str(path)
    try:
        return os.path.relpath(path, cwd) if Path(path).resolve().is_relative_to(cwd.resolve()) else str(path)
    except ValueError:
        return str(path)


def gate_text(gate: Gate | None) -> str:
    if gate is None:
        return "gate not evaluated yet"
    value = "not measured" if gate.value is None or gate.value != gate.value else f"{gate.value:.4f}"
    return f"{gate.metric} {value} (threshold {gate.threshold:.4f}, {'passed' if gate.passed else 'refused'})"


def lines(outcomes: list[ExampleOutcome], profile: str, run_id: str | None, cwd: Path | None = None) -> list[str]:
    """The summary as printed: a header, then two lines per example."""
    cwd = cwd or Path.cwd()
    ran = f"run {run_id}" if run_id else "no run"
    out = [f"summary ({profile} profile, {ran}): {len(outcomes)} example{'s' * (len(outcomes) != 1)}"]
    width = max((len(o.name) for o in outcomes), default=0)
    for outcome in outcomes:
        out.append(f"  {outcome.name:<{width}}  {gate_text(outcome.gate)} -> {outcome.published}")
        out.append(f"  {'':<{width}}  report {_shown(outcome.report, cwd)}, export {_shown(outcome.export, cwd)}")
    return out
