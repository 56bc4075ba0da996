"""The export gate blocks a model below its threshold, and a blocked run leaves the current export alone."""

from __future__ import annotations

import json

import dagster as dg

from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

IRIS = dg.AssetSelection.assets(["exports", "iris_softmax_export"]).upstream()


def _run(instance, run_config=None, selection=IRIS):
    return dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                          selection=selection, run_config=run_config, raise_on_error=False)


def _registry(root):
    return json.loads((root / "exports" / "iris_softmax" / "registry.json").read_text())


def test_failing_gate_blocks_export_and_keeps_current_version(data_env):
    instance = dg.DagsterInstance.ephemeral()
    first = _run(instance)
    assert first.success
    assert _registry(data_env)["current"] == 1

    # a learning rate this small leaves the model at chance level: below the gate's floor
    crippled = {"ops": {"models__iris_softmax_model": {"config": {"learning_rate": 1e-7, "epochs": 1}}}}
    second = _run(instance, crippled)
    gate = [e for e in second.get_asset_check_evaluations() if e.check_name == "export_gate"]
    assert len(gate) == 1 and not gate[0].passed
    assert "below the threshold" in gate[0].metadata["reasons"].value
    assert not second.asset_materializations_for_node("exports__iris_softmax_export")
    assert _registry(data_env)["current"] == 1
    assert not (data_env / "exports" / "iris_softmax" / "2").exists()

    # asking for the export alone re-applies the same gate instead of bypassing it
    alone = _run(instance, selection=dg.AssetSelection.assets(["exports", "iris_softmax_export"]))
    assert not alone.success
    failure = next(e for e in alone.all_events if e.event_type_value == "STEP_FAILURE")
    assert "not exported" in failure.event_specific_data.error.message
    assert _registry(data_env)["current"] == 1


def test_a_better_model_adds_a_version_and_never_overwrites_and_a_rerun_adds_none(data_env):
    instance = dg.DagsterInstance.ephemeral()
    weak = {"ops": {"models__iris_softmax_model": {"config": {"epochs": 8}}}}
    assert _run(instance, weak).success
    first_pb = (data_env / "exports" / "iris_softmax" / "1" / "saved_model.pb").read_bytes()
    assert _run(instance).success  # the book's settings: another model, at least as good
    registry = _registry(data_env)
    assert registry["current"] == 2 and set(registry["versions"]) == {"1", "2"}
    assert (data_env / "exports" / "iris_softmax" / "1" / "saved_model.pb").read_bytes() == first_pb
    assert registry["versions"]["2"]["gate_metric"] >= registry["versions"]["1"]["gate_metric"]
    assert _run(instance).success  # nothing changed: the same model version, nothing published
    assert _registry(data_env) == registry
