"""What `make run` says at the end, read back from the instance after the run: per example of the selection (every
card: a report with an `export_gate` check, and its export), the gate's metric against its threshold from the
check evaluation on this profile's current report, the version this run published (or why none: left out by the
plan, refused by the gate, unchanged, not selected), and the paths of the report and of the current export from
the profile's export registry. Formatting: core/run_summary.py."""

from __future__ import annotations

import json
from datetime import datetime

import dagster as dg

from ztdl_pipeline import settings
from ztdl_pipeline.core import names, registry
from ztdl_pipeline.core.run_summary import ExampleOutcome, Gate, publication

GATE_CHECK = "export_gate"


def launched_run(instance: dg.DagsterInstance, pid: int, since: datetime) -> str | None:
    """The run that process `pid` started after `since` (Dagster records the emitting pid on every event)."""
    for record in instance.get_run_records(filters=dg.RunsFilter(created_after=since)):
        run_id = record.dagster_run.run_id
        if any(entry.dagster_event is not None and entry.dagster_event.pid == pid
               for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_START)):
            return run_id
    return None


def refusals_only(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The examples whose export gate refused their model, when those refusals are the run's only failed steps
    (the gate did its job: every training and report ran); [] when another step failed, or none did."""
    failed = [entry.step_key or "" for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)]
    suffix = f"_report_{GATE_CHECK}"
    if not failed or not all(step.endswith(suffix) for step in failed):
        return []
    return sorted(names.split_key(tuple(step.removesuffix("_" + GATE_CHECK).split("__")))[1] for step in failed)


def _metadata_value(entry):
    return getattr(entry, "value", entry)


def _report_record(instance, report_key: dg.AssetKey, profile: str, scan: int = 20):
    """The latest materialization of the report made under `profile` (one instance may hold several profiles)."""
    for record in instance.fetch_materializations(report_key, limit=scan).records:
        if _metadata_value(record.asset_materialization.metadata.get("profile")) == profile:
            return record
    return None


def _gate(instance, report_key: dg.AssetKey, report_record) -> Gate | None:
    """The export gate's verdict on exactly that report materialization."""
    check = dg.AssetCheckKey(report_key, GATE_CHECK)
    execution = instance.event_log_storage.get_latest_asset_check_execution_by_key([check]).get(check)
    if report_record is None or execution is None or execution.event is None:
        return None
    evaluation = execution.event.dagster_event.event_specific_data
    target = getattr(evaluation, "target_materialization_data", None)
    if not isinstance(evaluation, dg.AssetCheckEvaluation) or target is None \
            or target.storage_id != report_record.storage_id:
        return None
    meta = {k: _metadata_value(v) for k, v in evaluation.metadata.items()}
    value = meta.get("value")
    return Gate(metric=str(meta.get("metric", "")), value=value if isinstance(value, int | float) else None,
                threshold=float(meta.get("threshold", float("nan"))), passed=evaluation.passed,
                reasons=tuple(json.loads(meta.get("reasons") or "[]")))


def _published_in(instance, export_key: dg.AssetKey, run_id: str | None) -> str | None:
    if run_id is None:
        return None
    latest = instance.fetch_materializations(export_key, limit=1).records
    if not latest or latest[0].run_id != run_id:
        return None
    return str(_metadata_value(latest[0].asset_materialization.metadata.get("published", "")))


def examples(graph, selected) -> list[str]:
    """Card names in the selection: reports that carry the export gate, or their exports."""
    checked = {check.asset_key for check in graph.asset_check_keys if check.name == GATE_CHECK}
    found = set()
    for asset_key in selected:
        layer, name = names.split_key(asset_key.path)
        if layer in ("reports", "exports") and dg.AssetKey(names.key_parts("reports", name)) in checked:
            found.add(name)
    return sorted(found)


def outcomes(instance, graph, plan, selected, run_id: str | None, profile: str | None = None) -> list[ExampleOutcome]:
    """One ExampleOutcome per example of `selected`, given `make run`'s plan (run, fresh, skipped)."""
    profile = settings.resolve_profile(profile)
    root = settings.profile_root(profile)
    run, fresh = {k.to_user_string() for k in plan.run}, {k.to_user_string() for k in plan.fresh}
    chosen = {k.to_user_string() for k in selected}
    result = []
    for name in examples(graph, selected):
        report_key = dg.AssetKey(names.key_parts("reports", name))
        export_key = dg.AssetKey(names.key_parts("exports", name))
        export = export_key.to_user_string()
        planned = "run" if export in run else "fresh" if export in fresh else plan.skipped.get(export, "run")
        report_record = _report_record(instance, report_key, profile)
        gate = _gate(instance, report_key, report_record)
        current = registry.current_entry(root / "exports" / name) if (root / "exports" / name).is_dir() else None
        report_md = root / "reports" / name / "report.md"
        result.append(ExampleOutcome(
            name=name, gate=gate,
            published=publication(export in chosen, planned, _published_in(instance, export_key, run_id), gate,
                                  current["version"] if current else None),
            report=report_md if report_md.is_file() else None, export=current["path"] if current else None))
    return result
