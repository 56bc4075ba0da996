"""`make run` exits 0 when the run's only failures are export gates refusing their model (summary.refusals_only):
a refusal is the gate's answer, while any other failed step still fails the command. Real Dagster runs on an
ephemeral instance, with the step keys the pipeline's reports, gates and exports have."""

from __future__ import annotations

import dagster as dg

from ztdl_pipeline.summary import refusals_only


def _run(gate_passes: bool, export_breaks: bool = False) -> tuple[dg.DagsterInstance, str]:
    @dg.asset(key=["reports", "toy_report"])
    def report():
        return 1

    @dg.asset_check(asset=report, name="export_gate", blocking=True)
    def export_gate():
        return dg.AssetCheckResult(passed=gate_passes)

    @dg.asset(key=["reports", "other_report"])
    def other():
        if export_breaks:
            raise RuntimeError("a real failure")
        return 1

    @dg.asset(key=["exports", "toy_export"], deps=[report])
    def export():
        return 1

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([report, other, export, export_gate], instance=instance, raise_on_error=False)
    return instance, result.run_id


def test_a_refused_gate_alone_is_named_and_nothing_else_counts_as_one():
    instance, run_id = _run(gate_passes=False)
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE  # Dagster's verdict
    assert refusals_only(instance, run_id) == ["toy"]

    instance, run_id = _run(gate_passes=False, export_breaks=True)  # a refusal and a real failure
    assert refusals_only(instance, run_id) == []

    instance, run_id = _run(gate_passes=True)
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
    assert refusals_only(instance, run_id) == []
