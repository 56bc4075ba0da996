"""predictions/<card>: the current export, loaded as a consumer loads it, scores the source's rows; a newly
published export version makes the predictions stale (exports is their parent), and rematerializing them
records the new version.

A real in-process run of the Wi-Fi example (fast profile, data from ZTDL_DATA_MIRROR) on a persistent temporary
instance; staleness is judged by Dagster's own resolver, as in tests/assets/test_promotion.py."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from dagster._core.definitions.data_version import DATA_VERSION_TAG, StaleCauseCategory, StaleStatus

from tests.assets.test_lineage import _defs, _resolver
from ztdl_pipeline.assets.base import key
from ztdl_pipeline.catalog import modules
from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources
from ztdl_pipeline.resources.io import read_parquet

NAME = "wifi_fc"
EXPORT, PREDICTIONS, MODEL = key("exports", NAME), key("predictions", NAME), key("models", NAME)


def _run(instance, selection, run_config=None) -> dg.ExecuteInProcessResult:
    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                            selection=selection, run_config=run_config or {}, raise_on_error=False)
    failures = [str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure]
    assert result.success, failures
    return result


def _materialization(instance, asset_key):
    return instance.get_latest_materialization_event(asset_key).asset_materialization


@pytest.fixture
def instance(tmp_path, data_env):
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        yield instance


def test_every_scored_example_reads_its_export_and_raw_source():
    graph = _defs(ALL_ASSETS).resolve_asset_graph()
    entries = [(entry, domain) for domain, module in modules() for entry in getattr(module, "PREDICTIONS", ())]
    assert {entry.name for entry, _ in entries} >= {"wifi_fc", "titanic_fc", "sms_bow"}
    for entry, domain in entries:
        node = graph.get(key("predictions", entry.name))
        assert node.parent_keys == {key("exports", entry.name), key("raw", entry.dataset)}, entry.name
        assert node.group_name == domain and node.code_version


def test_predictions_score_with_the_current_export_and_follow_a_new_version(instance, data_env):
    _run(instance, dg.AssetSelection.assets(PREDICTIONS).upstream())
    table = read_parquet(data_env / "predictions" / f"{NAME}.parquet")
    assert len(table) == 2000 and set(table["export_version"]) == {1}
    assert {"row", "predicted_class", "probability_0", "probability_3", "actual"} <= set(table.columns)
    assert set(table["predicted_class"]) <= {0, 1, 2, 3}
    first = _materialization(instance, PREDICTIONS).metadata
    assert first["export_version"].value == 1 and first["rows_scored"].value == 2000
    assert sum(first["class_counts"].value.values()) == 2000
    assert first["agreement_with_actual"].value > 0.7  # the gate let through a model this good on its test rows
    assert "| row |" in first["sample"].value

    # other settings: a new model version, published by the gated export as version 2
    _run(instance, dg.AssetSelection.assets(MODEL, key("reports", NAME), EXPORT),
         {"ops": {"models__wifi_fc_model": {"config": {"epochs": 25}}}})
    registry = json.loads((data_env / "exports" / NAME / "registry.json").read_text())
    assert registry["current"] == 2
    # the predictions were made with version 1: Dagster shows them stale, because of the export
    resolver = _resolver(instance, _defs(ALL_ASSETS))
    assert resolver.get_status(PREDICTIONS) == StaleStatus.STALE
    causes = resolver.get_stale_root_causes(PREDICTIONS)
    assert {c.key.asset_key for c in causes} == {EXPORT} and all(c.category == StaleCauseCategory.DATA for c in causes)

    _run(instance, dg.AssetSelection.assets(PREDICTIONS))
    table = read_parquet(data_env / "predictions" / f"{NAME}.parquet")
    assert set(table["export_version"]) == {2} and len(table) == 2000
    again = _materialization(instance, PREDICTIONS)
    assert again.metadata["export_version"].value == 2
    assert again.metadata["export_path"].value == str(data_env / "exports" / NAME / "2")
    # lineage: the predictions were made from the export's latest materialization (and the raw rows)
    export_version = _materialization(instance, EXPORT).tags[DATA_VERSION_TAG]
    assert again.tags[f"dagster/input_data_version/{EXPORT.to_user_string()}"] == export_version
    assert f"dagster/input_data_version/{key('raw', 'wifi_location').to_user_string()}" in again.tags
    assert _resolver(instance, _defs(ALL_ASSETS)).get_status(PREDICTIONS) == StaleStatus.FRESH
