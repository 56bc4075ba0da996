"""The key rename keeps an instance's history: a real instance with runs under the old keys (`raw/toy`,
`features/toy`, a blocking check), then the same assets under the renamed keys; after ztdl_pipeline.migrate the
renamed assets are materialized and fresh, their check passed against the carried materialization, and a
second pass changes nothing."""

from __future__ import annotations

import dagster as dg
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._time import get_current_datetime

from ztdl_pipeline import migrate
from ztdl_pipeline.core.names import key_parts


def _chain(raw_key: list[str], features_key: list[str]) -> list:
    @dg.asset(key=raw_key, code_version="1")
    def raw() -> int:
        return 3

    @dg.asset(key=features_key, ins={"raw": dg.AssetIn(dg.AssetKey(raw_key))}, code_version="1")
    def features(raw: int) -> int:
        return raw * 2

    @dg.asset_check(asset=dg.AssetKey(features_key), blocking=True)
    def positive(features: int) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=features > 0)

    return [raw, features, positive]


OLD = _chain(["raw", "toy"], ["features", "toy"])
NEW = _chain(key_parts("raw", "toy"), key_parts("features", "toy"))
NEW_RAW, NEW_FEATURES = dg.AssetKey(key_parts("raw", "toy")), dg.AssetKey(key_parts("features", "toy"))


def _data_version(instance, key) -> str:
    return instance.get_latest_data_version_record(key).asset_event.tags["dagster/data_version"]


def _status(instance, assets, key):
    graph = dg.Definitions(assets=assets).resolve_asset_graph()
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=graph)
    return CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view).get_status(key)


def test_old_parts_and_tags():
    assert migrate.old_parts(["raw", "iris_raw"]) == ["raw", "iris"]
    assert migrate.old_parts(["raw", "iris"]) is None
    renames = {"raw/iris": "raw/iris_raw"}
    assert migrate.renamed_tag("dagster/input_data_version/raw/iris", renames) == "dagster/input_data_version/raw/iris_raw"
    assert migrate.renamed_tag("dagster/code_version", renames) == "dagster/code_version"


def test_history_is_carried_over_and_a_second_pass_does_nothing(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        assert dg.materialize(OLD, instance=instance, resources={"io_manager": dg.FilesystemIOManager(
            base_dir=str(tmp_path / "storage"))}).success
        old_version = _data_version(instance, dg.AssetKey(["features", "toy"]))
        assert _status(instance, NEW, NEW_FEATURES) == StaleStatus.MISSING  # what a user saw before
        assert [k.to_user_string() for k in migrate.candidates(instance)] == ["features/toy", "raw/toy"]

        graph = dg.Definitions(assets=NEW).resolve_asset_graph()
        report = migrate.carry_history(instance, graph)
        assert sorted(report.carried) == ["features/toy_features", "raw/toy_raw"] and report.checks == 1

        assert _data_version(instance, NEW_FEATURES) == old_version
        assert _status(instance, NEW, NEW_RAW) == StaleStatus.FRESH
        assert _status(instance, NEW, NEW_FEATURES) == StaleStatus.FRESH  # the input versions were renamed too
        materialization = instance.fetch_materializations(NEW_FEATURES, limit=1).records[0]
        assert "features/toy" in materialization.asset_materialization.metadata["migrated_from"].value
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(NEW_FEATURES, "positive")])[dg.AssetCheckKey(NEW_FEATURES, "positive")]
        evaluation = check.event.dagster_event.event_specific_data
        assert evaluation.passed and evaluation.target_materialization_data.storage_id == materialization.storage_id

        assert migrate.candidates(instance) == []  # nothing left: `make run` does not load the code location
        assert migrate.carry_history(instance, graph).carried == []


def test_wipe_old_removes_the_old_keys(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        assert dg.materialize(OLD, instance=instance, resources={"io_manager": dg.FilesystemIOManager(
            base_dir=str(tmp_path / "storage"))}).success
        report = migrate.carry_history(instance, dg.Definitions(assets=NEW).resolve_asset_graph(), wipe_old=True)
        assert sorted(report.wiped) == ["features/toy", "raw/toy"]
        assert not instance.has_asset_key(dg.AssetKey(["raw", "toy"]))
        assert instance.has_asset_key(NEW_RAW)
