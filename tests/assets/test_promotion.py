"""Trustworthy lineage and promotion (banknotes_logreg, a model that trains in seconds):

- a retrain with other hyper-parameters gives the model a new data version, and Dagster's own resolver then
  marks its report and export unsynced; the same settings give the same version;
- a rerun with nothing changed publishes no new export version;
- runs are tagged with their profile and commit, and registry.json records them;
- nothing a fast-profile run makes reaches the book profile's exports, even with ztdl-serve running on them.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.data_version import DATA_VERSION_TAG, StaleCauseCategory, StaleStatus

from tests.assets.test_lineage import _defs, _resolver
from ztdl_pipeline.assets.base import key
from ztdl_pipeline.core.provenance import COMMIT_TAG, HOST_TAG, PROFILE_TAG, git_commit
from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

MODEL, REPORT, EXPORT = (key(layer, "banknotes_logreg") for layer in ("models", "reports", "exports"))
CHAIN = dg.AssetSelection.assets(EXPORT).upstream()


def _run(instance, selection=CHAIN, run_config=None) -> dg.ExecuteInProcessResult:
    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                            selection=selection, run_config=run_config or {}, raise_on_error=False)
    failures = [str(e.event_specific_data.error) for e in result.all_events if e.is_step_failure]
    assert result.success, failures
    return result


def _version(instance, key) -> str:
    return instance.get_latest_materialization_event(key).asset_materialization.tags[DATA_VERSION_TAG]


def _registry(root: Path) -> dict:
    return json.loads((root / "exports" / "banknotes_logreg" / "registry.json").read_text())


def _lr(value: float) -> dict:
    return {"ops": {"models__banknotes_logreg_model": {"config": {"learning_rate": value}}}}


@pytest.fixture
def instance(tmp_path, data_env):
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


def test_retrain_marks_report_and_export_unsynced_and_reruns_publish_nothing_new(instance, data_env):
    first = _run(instance)
    model_v1 = _version(instance, MODEL)
    assert _registry(data_env)["current"] == 1
    resolver = _resolver(instance, _defs(ALL_ASSETS))
    assert resolver.get_status(REPORT) == StaleStatus.FRESH and resolver.get_status(EXPORT) == StaleStatus.FRESH

    # same settings, same inputs: the same model version, and the export says "unchanged"
    again = _run(instance)
    assert _version(instance, MODEL) == model_v1
    export = instance.get_latest_materialization_event(EXPORT).asset_materialization
    assert export.metadata["published"].value == "unchanged, version 1"
    assert sorted(p.name for p in (data_env / "exports" / "banknotes_logreg").iterdir() if p.name.isdigit()) == ["1"]
    assert list(_registry(data_env)["versions"]) == ["1"]
    assert again.run_id != first.run_id

    # another learning rate: a new model version; the report and export describe the old model -> unsynced
    _run(instance, dg.AssetSelection.assets(MODEL), _lr(0.05))
    model_v2 = _version(instance, MODEL)
    assert model_v2 != model_v1
    resolver = _resolver(instance, _defs(ALL_ASSETS))
    for asset_key in (REPORT, EXPORT):
        assert resolver.get_status(asset_key) == StaleStatus.STALE, asset_key
        causes = resolver.get_stale_root_causes(asset_key)
        assert {c.key.asset_key for c in causes} == {MODEL} and all(c.category == StaleCauseCategory.DATA for c in causes)
    assert resolver.get_status(MODEL) == StaleStatus.FRESH

    # rematerializing them brings them in sync and publishes the new model as version 2
    _run(instance, dg.AssetSelection.assets(REPORT, EXPORT))
    resolver = _resolver(instance, _defs(ALL_ASSETS))
    assert resolver.get_status(REPORT) == StaleStatus.FRESH and resolver.get_status(EXPORT) == StaleStatus.FRESH
    registry = _registry(data_env)
    assert registry["current"] == 2
    assert registry["versions"]["2"]["upstream_data_versions"]["models/banknotes_logreg_model"] == model_v2
    assert registry["versions"]["1"]["upstream_data_versions"]["models/banknotes_logreg_model"] == model_v1

    # the same learning rate again gives the same model version as before: nothing new to publish
    _run(instance, CHAIN, _lr(0.05))
    assert _version(instance, MODEL) == model_v2
    assert _registry(data_env)["current"] == 2 and len(_registry(data_env)["versions"]) == 2


def test_runs_and_registry_record_profile_and_commit(instance, data_env):
    result = _run(instance)
    tags = instance.get_run_by_id(result.run_id).tags
    assert tags[PROFILE_TAG] == "fast" and tags[COMMIT_TAG] == git_commit()
    # in-process: every step ran here, so the recovery sweep of this machine may end the run if it is killed
    assert tags[HOST_TAG] == socket.gethostname()
    assert len(git_commit().split("-")[0]) == 40  # this checkout's commit (tests run from a git clone)
    entry = _registry(data_env)["versions"]["1"]
    assert entry["profile"] == "fast" and entry["git_commit"] == git_commit() and entry["run_id"] == result.run_id
    assert entry["gate_baseline"] is not None and "> baseline" in entry["gate"]
    report = json.loads((data_env / "reports" / "banknotes_logreg" / "metrics.json").read_text())
    assert report["provenance"]["run_id"] == result.run_id
    assert report["provenance"]["model_data_version"] == _version(instance, MODEL)
    assert report["gate"]["baseline"] == report["baselines"]["test"]["accuracy"]


@pytest.mark.e2e
def test_fast_runs_never_touch_the_served_book_export(tmp_path, mirror, monkeypatch):
    from tests.serving.helpers import start_server, stop_server

    base = tmp_path / "data"
    monkeypatch.setenv("ZTDL_DATA_DIR", str(base))
    monkeypatch.setenv("ZTDL_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ZTDL_PROFILE", "book")
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        _run(instance)
        book = _registry(base)
        assert book["current"] == 1 and book["versions"]["1"]["profile"] == "book"
        server = start_server(base / "exports", tmp_path / "serve.log", "--poll-interval", "0.2")
        try:
            before = server.get("/v1/models/banknotes_logreg").json
            # the environment says book, the run config says fast: the run's resource decides for every step
            fast = {"resources": {"storage": {"config": {"profile": "fast"}}}}
            _run(instance, dg.AssetSelection.groups("tabular"), fast)
            monkeypatch.setenv("ZTDL_PROFILE", "fast")
            _run(instance)
            after = server.get("/v1/models/banknotes_logreg").json
        finally:
            stop_server(server)
    assert after == before
    assert [v["version"] for v in before["model_version_status"]] == ["1"]
    assert _registry(base) == book
    assert sorted(p.name for p in (base / "exports" / "banknotes_logreg").iterdir() if p.is_dir()) == ["1"]
    assert json.loads((base / "exports" / "banknotes_logreg" / "export.json").read_text())["profile"] == "book"
    fast_registry = _registry(base / "fast")
    assert {v["profile"] for v in fast_registry["versions"].values()} == {"fast"}
    assert (base / "fast" / "reports" / "banknotes_logreg" / "metrics.json").is_file()
    assert json.loads((base / "reports" / "banknotes_logreg" / "metrics.json").read_text())["profile"] == "book"
