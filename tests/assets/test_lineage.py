"""Data versions and staleness: a raw file's data version is its sha256, and only a real change of bytes
makes its downstream features stale.

In-process runs against a persistent (sqlite, temp DAGSTER_HOME) instance; staleness is judged by
Dagster's own resolver (what the UI shows as "unsynced"), not recomputed here.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import (
    DATA_VERSION_TAG,
    CachingStaleStatusResolver,
    StaleCauseCategory,
    StaleStatus,
)
from dagster._time import get_current_datetime

from ztdl_pipeline.assets.raw import raw_file_asset
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

RAW_IRIS, RAW_BANKNOTES = dg.AssetKey(["raw", "iris_raw"]), dg.AssetKey(["raw", "banknotes_raw"])
FEATURES_IRIS, FEATURES_BANKNOTES = dg.AssetKey(["features", "iris_features"]), dg.AssetKey(["features", "banknotes_features"])
SELECTED = [RAW_IRIS, RAW_BANKNOTES, FEATURES_IRIS, FEATURES_BANKNOTES]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _defs(assets) -> dg.Definitions:
    return dg.Definitions(assets=assets, asset_checks=ALL_CHECKS, resources=resources(),
                          executor=dg.in_process_executor)


def _materialize(instance: dg.DagsterInstance, assets, keys) -> dg.ExecuteInProcessResult:
    result = dg.materialize([*assets, *ALL_CHECKS], resources=resources(), instance=instance,
                            selection=dg.AssetSelection.assets(*keys))
    assert result.success
    return result


def _resolver(instance: dg.DagsterInstance, defs: dg.Definitions) -> CachingStaleStatusResolver:
    """A fresh resolver (it caches per request) over the definitions' asset graph."""
    graph = defs.resolve_asset_graph()
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=graph)
    return CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey):
    event = instance.get_latest_materialization_event(key)
    assert event is not None, f"{key.to_user_string()} was never materialized"
    return event


@pytest.fixture
def lineage(tmp_path, data_env):
    """raw + features of iris and banknotes materialized once (fast profile) into a persistent instance."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        result = _materialize(instance, ALL_ASSETS, SELECTED)
        yield instance, result


def test_raw_data_version_is_file_sha256(lineage, mirror, data_env):
    instance, _ = lineage
    for key, filename in ((RAW_IRIS, "iris.csv"), (RAW_BANKNOTES, "banknotes.csv")):
        expected = _sha256(mirror / filename)
        assert _sha256(data_env.parent / "raw" / filename) == expected  # the cached copy is the mirror's bytes
        materialization = _latest(instance, key).asset_materialization
        assert materialization.metadata["sha256"].value == expected
        assert materialization.tags[DATA_VERSION_TAG] == expected
        record = instance.get_latest_data_version_record(key)
        assert record is not None and record.asset_event.tags[DATA_VERSION_TAG] == expected
        assert materialization.metadata["fetched_from"].value == "mirror"
    # features carry a data version derived by Dagster from their inputs (not a file hash)
    features_version = _latest(instance, FEATURES_IRIS).asset_materialization.tags[DATA_VERSION_TAG]
    assert features_version and features_version != _sha256(mirror / "iris.csv")
    resolver = _resolver(instance, _defs(ALL_ASSETS))
    for key in SELECTED:
        assert resolver.get_status(key) == StaleStatus.FRESH, key
    assert resolver.get_status(dg.AssetKey(["features", "wines_features"])) == StaleStatus.MISSING


def test_same_bytes_keep_data_version_and_freshness(lineage):
    instance, first = lineage
    before = _latest(instance, RAW_IRIS)
    second = _materialize(instance, ALL_ASSETS, [RAW_IRIS])
    after = _latest(instance, RAW_IRIS)
    assert after.run_id == second.run_id != first.run_id  # a new materialization really happened
    assert after.asset_materialization.metadata["fetched_from"].value == "cache"
    assert after.asset_materialization.tags[DATA_VERSION_TAG] == before.asset_materialization.tags[DATA_VERSION_TAG]
    resolver = _resolver(instance, _defs(ALL_ASSETS))
    assert resolver.get_status(FEATURES_IRIS) == StaleStatus.FRESH
    assert resolver.get_stale_causes(FEATURES_IRIS) == []
    assert resolver.get_status(FEATURES_BANKNOTES) == StaleStatus.FRESH


def test_changed_bytes_make_only_features_iris_stale(lineage, mirror, tmp_path, monkeypatch, data_env):
    instance, _ = lineage
    old_version = _latest(instance, RAW_IRIS).asset_materialization.tags[DATA_VERSION_TAG]

    # a mirror whose iris.csv differs in one value (row 1 sepal_length 5.1 -> 5.2)
    changed_mirror = tmp_path / "changed_mirror"
    changed_mirror.mkdir()
    text = (mirror / "iris.csv").read_text()
    header, first_row, rest = text.split("\n", 2)
    assert first_row.startswith("5.1,")
    (changed_mirror / "iris.csv").write_text("\n".join([header, "5.2," + first_row[4:], rest]))
    new_sha = _sha256(changed_mirror / "iris.csv")
    assert new_sha != old_version

    entry = dataclasses.replace(datasets.get("iris"), sha256=new_sha)
    replacement = raw_file_asset(entry, "tabular")
    assets = [replacement if a.key == RAW_IRIS else a for a in ALL_ASSETS]
    assert sum(a.key == RAW_IRIS for a in assets) == 1
    monkeypatch.setenv("ZTDL_DATA_MIRROR", str(changed_mirror))

    _materialize(instance, assets, [RAW_IRIS])  # only raw/iris_raw: the cached old copy no longer matches
    raw = _latest(instance, RAW_IRIS).asset_materialization
    assert raw.tags[DATA_VERSION_TAG] == new_sha == raw.metadata["sha256"].value
    assert raw.metadata["fetched_from"].value == "mirror"
    assert _sha256(data_env.parent / "raw" / "iris.csv") == new_sha

    defs = _defs(assets)
    resolver = _resolver(instance, defs)
    assert resolver.get_status(RAW_IRIS) == StaleStatus.FRESH
    assert resolver.get_status(FEATURES_IRIS) == StaleStatus.STALE
    causes = resolver.get_stale_root_causes(FEATURES_IRIS)
    assert causes and all(c.category == StaleCauseCategory.DATA for c in causes)
    assert {c.key.asset_key for c in causes} == {RAW_IRIS}
    assert resolver.get_status(FEATURES_BANKNOTES) == StaleStatus.FRESH
    assert resolver.get_status(RAW_BANKNOTES) == StaleStatus.FRESH

    # rebuilding the stale asset brings it back in sync, with a new data version
    features_before = _latest(instance, FEATURES_IRIS).asset_materialization.tags[DATA_VERSION_TAG]
    _materialize(instance, assets, [FEATURES_IRIS])
    resolver = _resolver(instance, defs)
    assert resolver.get_status(FEATURES_IRIS) == StaleStatus.FRESH
    assert _latest(instance, FEATURES_IRIS).asset_materialization.tags[DATA_VERSION_TAG] != features_before
