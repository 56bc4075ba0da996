"""Declarative automation (ztdl_pipeline/automation.py) evaluated by Dagster's own evaluator on the real code
location and a real instance: a fresh instance requests nothing; a changed source requests its raw asset, and a
raw asset whose data changed requests exactly everything downstream of it, while one rerun on identical bytes
requests nothing; a tick with nothing new requests nothing; the expensive groups wait for the weekly tick at
book settings."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from ztdl_pipeline import automation
from ztdl_pipeline.assets.base import key
from ztdl_pipeline.assets.sources import changed_sources, source_key
from ztdl_pipeline.core.names import split_key

EXPORT = key("exports", "iris_softmax")


@pytest.fixture
def automated(tmp_path, mirror, monkeypatch):
    """(defs, instance, the user's iris file) with the fast profile, a temp storage root and ZTDL_SOURCE_IRIS."""
    mine = tmp_path / "my_iris.csv"
    shutil.copyfile(mirror / "iris.csv", mine)
    for name, value in {"ZTDL_DATA_DIR": str(tmp_path / "data"), "ZTDL_DATA_MIRROR": str(mirror),
                        "ZTDL_PROFILE": "fast", "ZTDL_SOURCE_IRIS": str(mine)}.items():
        monkeypatch.setenv(name, value)
    from ztdl_pipeline.definitions import location

    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        yield location(), instance, mine


def _requested(defs, instance, cursor=None):
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    keys = {k for k in defs.resolve_asset_graph().get_all_asset_keys() if result.get_num_requested(k)}
    return {k.to_user_string() for k in keys}, result.cursor


def _observe(defs, instance, names=None):
    graph = defs.resolve_asset_graph()
    all_sources = [split_key(k.path)[1] for k in graph.get_all_asset_keys() if k.path[0] == "sources"]
    events, _ = changed_sources(instance, defs.resources["data_source"], names or all_sources)
    for event in events:
        instance.report_runless_asset_event(event)
    return events


def test_conditions_by_layer_and_profile():
    assert automation.condition("raw", "tabular", ()).get_label() == "on source change"
    assert automation.condition("features", "vision", ()).get_label() == "on new input data"
    assert automation.condition("models", "vision", ()).get_label() == "on upstream change"
    assert "weekly" in automation.condition("models", "vision", ("vision",)).get_label()
    export = automation.condition("exports", "tabular", ())
    assert "all_deps_blocking_checks_passed" in str(export.get_snapshot()) or any(
        "blocking" in (c.get_label() or c.name or "") for c in export.children)
    assert automation.condition("sources", "tabular", ()) is None
    from ztdl_pipeline.core.profile import rules

    # searches (group tuned) wait for the weekly tick under both profiles
    assert set(rules("book").cron_groups) == {"vision", "transfer", "embeddings", "tuned"}
    assert rules("fast").cron_groups == ("tuned",)


def test_a_changed_source_retrains_exactly_its_downstream(automated):
    defs, instance, mine = automated
    requested, cursor = _requested(defs, instance)
    assert requested == set()  # a fresh instance launches nothing
    _observe(defs, instance)
    requested, cursor = _requested(defs, instance, cursor)
    assert requested == set()  # observed sources alone start nothing: no chain was started by hand

    from ztdl_pipeline.definitions import ALL_CHECKS, resources

    chain = dg.AssetSelection.assets(EXPORT).upstream()
    result = dg.materialize([*defs.assets, *ALL_CHECKS], resources=resources(), instance=instance, selection=chain)
    assert result.success
    requested, cursor = _requested(defs, instance, cursor)
    assert requested == set()  # nothing new since
    requested, cursor = _requested(defs, instance, cursor)
    assert requested == set()

    # the same bytes again: the raw asset may rerun, but nothing downstream does
    raw_iris = key("raw", "iris").to_user_string()
    assert dg.materialize([*defs.assets, *ALL_CHECKS], resources=resources(), instance=instance,
                          selection=[key("raw", "iris")]).success
    requested, cursor = _requested(defs, instance, cursor)
    assert requested == set()

    with mine.open("a") as handle:  # new rows: the raw asset first ...
        handle.write("6.1,3.0,5.0,1.9,virginica\n")
    assert [e.asset_key for e in _observe(defs, instance, ["iris", "banknotes"])] == [source_key("iris")]
    requested, cursor = _requested(defs, instance, cursor)
    assert requested == {raw_iris}
    assert dg.materialize([*defs.assets, *ALL_CHECKS], resources=resources(), instance=instance,
                          selection=[key("raw", "iris")]).success
    requested, cursor = _requested(defs, instance, cursor)  # ... then, its data changed, all that follows
    from ztdl_pipeline.core.profile import rules

    graph = defs.resolve_asset_graph()
    waiting = rules("fast").cron_groups  # the searches (group tuned) wait for the weekly tick
    downstream = {k.to_user_string() for k in dg.AssetSelection.assets(key("raw", "iris")).downstream(
        include_self=False).resolve(graph) if graph.get(k).group_name not in waiting}
    assert requested == downstream, requested ^ downstream
    assert key("models", "iris_softmax_tuned").to_user_string() not in requested
    assert EXPORT.to_user_string() in requested and not any("banknotes" in k for k in requested)
