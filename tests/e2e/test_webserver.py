"""The real web server: `dagster-webserver -w workspace.yaml` in its own session, queried over GraphQL.

The iris chain up to reports/iris_softmax_report is materialized in-process first, into the same DAGSTER_HOME
the server reads, so the UI's view of that materialization (the embedded report) is checked too.
Nothing is launched through the server.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.serving.helpers import stop_process_group
from ztdl_pipeline.core.names import split_key

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 90.0
IRIS_CHAIN = [["raw", "iris_raw"], ["features", "iris_features"], ["models", "iris_softmax_model"], ["reports", "iris_softmax_report"],
              ["exports", "iris_softmax_export"]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.load(response)
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"GraphQL HTTP {exc.code}: {exc.read()[:2000]!r}") from None
    assert not payload.get("errors"), payload.get("errors")
    return payload["data"]


@pytest.fixture(scope="module")
def server_env(tmp_path_factory, mirror) -> dict[str, str]:
    base = tmp_path_factory.mktemp("webserver")
    home = base / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(base / "data"), "ZTDL_DATA_MIRROR": str(mirror),
                "ZTDL_PROFILE": "fast", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    return env


@pytest.fixture(scope="module")
def report_run(server_env) -> str:
    """reports/iris_softmax_report and its upstream materialized in-process into the server's instance; the run id."""
    import dagster as dg

    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", "ZTDL_DATA_DIR", "ZTDL_DATA_MIRROR", "ZTDL_PROFILE"):
            patch.setenv(name, server_env[name])
        with dg.DagsterInstance.get() as instance:
            assert Path(instance.root_directory) == Path(server_env["DAGSTER_HOME"])
            result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                    selection=dg.AssetSelection.assets(["reports", "iris_softmax_report"]).upstream())
            assert result.success
            return result.run_id


@pytest.fixture(scope="module")
def server(server_env, report_run, tmp_path_factory):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("webserver_log") / "webserver.log"
    log = open(log_path, "wb")  # noqa: SIM115 - outlives this statement: closed in the finally below
    proc = subprocess.Popen([str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
                             "-p", str(port)], cwd=REPO, env=server_env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        info = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"dagster-webserver exited {proc.returncode}:\n{log_path.read_text()[-5000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
                    info = json.load(response)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        if info is None:
            pytest.fail(f"/server_info did not answer within {STARTUP_TIMEOUT:.0f} s:\n"
                        f"{log_path.read_text()[-5000:]}")
        yield {"port": port, "info": info, "log": log_path}
    finally:
        stop_process_group(proc)  # the server and its code-server child: the whole session
        log.close()


def test_server_info_reports_dagster_version(server):
    import dagster

    assert server["info"]["dagster_version"] == dagster.__version__
    assert server["info"]["dagster_webserver_version"] == dagster.__version__


def test_code_location_loads_without_errors(server):
    query = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
                 locationOrLoadError { __typename ... on PythonError { message }
                   ... on RepositoryLocation { name repositories { name jobs { name } schedules { name } } } } } }
                 ... on PythonError { message } } }"""
    deadline = time.monotonic() + 60
    while True:
        workspace = _graphql(server["port"], query)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        entries = {e["name"]: e for e in workspace["locationEntries"]}
        assert set(entries) == {"ztdl_pipeline"}
        if entries["ztdl_pipeline"]["loadStatus"] == "LOADED" or time.monotonic() > deadline:
            break
        time.sleep(1)
    entry = entries["ztdl_pipeline"]
    assert entry["loadStatus"] == "LOADED"
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location.get("message")
    (repository,) = location["repositories"]
    assert {"tabular_job", "retrain_job"} <= {j["name"] for j in repository["jobs"]}
    assert {s["name"] for s in repository["schedules"]} == {"weekly_retrain"}


def test_asset_nodes_and_groups(server):
    nodes = _graphql(server["port"], "{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
    groups = {tuple(n["assetKey"]["path"]): n["groupName"] for n in nodes}
    for key in IRIS_CHAIN:
        assert groups.get(tuple(key)) == "tabular", key
    layers = {key[0] for key in groups}
    assert layers == {"sources", "raw", "features", "models", "reports", "exports", "predictions"}
    from ztdl_pipeline.jobs import GROUPS

    assert set(groups.values()) == set(GROUPS)  # every group the UI shows is a declared domain with its job


def test_asset_checks_present(server):
    nodes = _graphql(server["port"], """{ assetNodes { assetKey { path }
        assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } }""")["assetNodes"]
    checks = {}
    for node in nodes:
        result = node["assetChecksOrError"]
        assert result["__typename"] == "AssetChecks", (node["assetKey"], result)
        checks[split_key(node["assetKey"]["path"])] = {c["name"]: c["blocking"] for c in result["checks"]}
    models = {key[1] for key in checks if key[0] == "models"}
    assert "iris_softmax" in models
    # not served: a name generator, and word vectors (KeyedVectors files that other assets read)
    not_served = {"names_char_lstm", "word2vec_reviews", "glove_6b_50d"}
    assert not_served <= models and not any(("exports", name) in checks for name in not_served)
    for name in models - not_served:  # every trained classifier/regressor has a blocking export gate
        assert checks[("reports", name)].get("export_gate") is True, name
        assert "savedmodel_matches_keras" in checks[("exports", name)], name
    from ztdl_pipeline.catalog import serving, tabular

    recipes = {f.dataset: f.recipe for f in (*tabular.FEATURES, *serving.FEATURES)}

    for key, found in checks.items():
        if key[0] == "features":  # every features asset is guarded by blocking checks
            assert found and all(found.values()), key
            assert {"schema_and_nulls", "row_counts"} <= set(found), key
        if key[0] == "features" and key[1] in recipes:  # label_balance only where the table holds classes
            expected = {"schema_and_nulls": True, "row_counts": True}
            if recipes[key[1]].classes is not None:
                expected["label_balance"] = True
            assert found == expected, key
    assert checks[("reports", "banknotes_sweeps")] == {}  # a sweep report exports nothing: no gate


def test_latest_report_materialization_embeds_plots(server, report_run):
    query = """query ($path: [String!]!) { assetOrError(assetKey: {path: $path}) { __typename
        ... on Asset { assetMaterializations(limit: 1) { runId metadataEntries { __typename label
            ... on MarkdownMetadataEntry { mdStr } ... on FloatMetadataEntry { floatValue } } } } } }"""
    asset = _graphql(server["port"], query, {"path": ["reports", "iris_softmax_report"]})["assetOrError"]
    assert asset["__typename"] == "Asset"
    (materialization,) = asset["assetMaterializations"]
    assert materialization["runId"] == report_run
    entries = {e["label"]: e for e in materialization["metadataEntries"]}
    assert entries["report"]["__typename"] == "MarkdownMetadataEntry"
    report = entries["report"]["mdStr"]
    assert "book" in report
    assert "data:image/png;base64" in report
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)\)", report)
    assert images, "no complete data URI"
    for encoded in images:
        assert base64.b64decode(encoded).startswith(b"\x89PNG\r\n\x1a\n")
    accuracy = entries["test_accuracy"]["floatValue"]
    assert 0.0 <= accuracy <= 1.0
    assert f"{accuracy:.4f}" in report  # the embedded report shows the number the metadata charts


def test_export_gate_result_and_staleness_visible(server, report_run):
    query = """{ assetNodes(assetKeys: [{path: ["reports", "iris_softmax_report"]}, {path: ["features", "iris_features"]},
                 {path: ["exports", "iris_softmax_export"]}]) { assetKey { path } staleStatus
        assetChecksOrError { ... on AssetChecks { checks { name
            executionForLatestMaterialization { runId status } } } } } }"""
    nodes = {split_key(n["assetKey"]["path"]): n for n in _graphql(server["port"], query)["assetNodes"]}
    gate = {c["name"]: c for c in nodes[("reports", "iris_softmax")]["assetChecksOrError"]["checks"]}["export_gate"]
    assert gate["executionForLatestMaterialization"] == {"runId": report_run, "status": "SUCCEEDED"}
    assert nodes[("reports", "iris_softmax")]["staleStatus"] == "FRESH"
    assert nodes[("features", "iris")]["staleStatus"] == "FRESH"
    assert nodes[("exports", "iris_softmax")]["staleStatus"] == "MISSING"  # launched nothing


def test_a_retrain_with_other_settings_shows_the_report_unsynced_in_the_ui(server, server_env, report_run):
    """What a user sees after retraining models/iris_softmax_model with another learning rate: the web server marks
    the report (built from the old model) unsynced, with the model as the cause; features stay fresh."""
    import dagster as dg

    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", "ZTDL_DATA_DIR", "ZTDL_DATA_MIRROR", "ZTDL_PROFILE"):
            patch.setenv(name, server_env[name])
        with dg.DagsterInstance.get() as instance:
            result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                    selection=dg.AssetSelection.assets(["models", "iris_softmax_model"]),
                                    run_config={"ops": {"models__iris_softmax_model": {"config": {"learning_rate": 0.05}}}})
            assert result.success
    query = """{ assetNodes(assetKeys: [{path: ["reports", "iris_softmax_report"]}, {path: ["models", "iris_softmax_model"]},
                 {path: ["features", "iris_features"]}]) { assetKey { path } staleStatus
                 staleCauses { key { path } category reason } } }"""
    nodes = {split_key(n["assetKey"]["path"]): n for n in _graphql(server["port"], query)["assetNodes"]}
    assert nodes[("models", "iris_softmax")]["staleStatus"] == "FRESH"
    assert nodes[("features", "iris")]["staleStatus"] == "FRESH"
    report = nodes[("reports", "iris_softmax")]
    assert report["staleStatus"] == "STALE"
    assert {split_key(c["key"]["path"]) for c in report["staleCauses"]} == {("models", "iris_softmax")}
    assert {c["category"] for c in report["staleCauses"]} == {"DATA"}


def test_the_ui_shows_owners_code_links_the_inline_story_and_a_metrics_table(server, report_run):
    """What the asset pages draw from: the owner, the code references (card first), and on the report's latest
    materialization the short "ours vs the book" (short enough to be shown inline) beside the metrics table."""
    query = """{ assetNodes(assetKeys: [{path: ["models", "iris_softmax_model"]}, {path: ["sources", "iris_source"]}]) {
        assetKey { path } owners { ... on TeamAssetOwner { team } }
        metadataEntries { label ... on CodeReferencesMetadataEntry { codeReferences {
            ... on LocalFileCodeReference { filePath lineNumber label } } } } } }"""
    nodes = {split_key(n["assetKey"]["path"]): n for n in _graphql(server["port"], query)["assetNodes"]}
    assert {n["owners"][0]["team"] for n in nodes.values()} == {"ztdl"}
    references = {e["label"]: e for e in nodes[("models", "iris_softmax")]["metadataEntries"]}
    card = references["dagster/code_references"]["codeReferences"][0]
    assert card["label"].startswith("card iris_softmax") and card["filePath"].endswith("catalog/tabular.py")

    query = """{ assetOrError(assetKey: {path: ["reports", "iris_softmax_report"]}) { ... on Asset {
        assetMaterializations(limit: 1) { runId metadataEntries { __typename label
            ... on MarkdownMetadataEntry { mdStr } ... on TableMetadataEntry { table { records } } } } } } }"""
    (materialization,) = _graphql(server["port"], query)["assetOrError"]["assetMaterializations"]
    entries = {e["label"]: e for e in materialization["metadataEntries"]}
    assert len(entries["ours_vs_book"]["mdStr"]) < 1000 and "(the gate)" in entries["ours_vs_book"]["mdStr"]
    records = [json.loads(r) for r in entries["metrics"]["table"]["records"]]
    assert {"split": "test", "metric": "accuracy"}.items() <= next(r for r in records if r["split"] == "test"
                                                                    and r["metric"] == "accuracy").items()
