"""The development cycle with no human in it (issue 14): real `dagster dev` (web server + daemon), real `make run`
and real `ztdl-serve`, on a temporary instance and a temporary copy of the mirror.

Two examples are materialized (iris_softmax from the user's own copy of iris.csv, $ZTDL_SOURCE_IRIS, and
banknotes_logreg); then valid rows are appended to the iris file and nothing else is done. The source sensor
notices the change, declarative automation retrains iris's chain, the gate runs, export version 2 is
published and the running server answers from it; banknotes gets no new materialization. Bounded in time;
every process started here is stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_webserver import _free_port, _graphql
from tests.serving.helpers import start_server, stop_process_group, stop_server
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core.names import user_key

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SENSOR_INTERVAL_S = "5"  # the daemon's sensors tick every 5 s here instead of 30 (ZTDL_SENSOR_INTERVAL_S)
CYCLE_TIMEOUT_S = 480.0  # sensor tick + automation tick + a fast retrain + publish + server poll
IRIS = ("raw", "features", "models", "reports", "exports")
SELECT = '+key:"exports/iris_softmax_export" or +key:"exports/banknotes_logreg_export"'


def _counts(env: dict, keys: list[str]) -> dict[str, int]:
    code = ("import json, sys, dagster as dg\n"
            "with dg.DagsterInstance.get() as i:\n"
            "    print(json.dumps({k: len(i.fetch_materializations(dg.AssetKey.from_user_string(k), limit=100)"
            ".records) for k in sys.argv[1:]}))")
    proc = subprocess.run([str(BIN / "python"), "-c", code, *keys], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _served_version(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/iris_softmax", timeout=5) as response:
            statuses = json.load(response)["model_version_status"]
    except (urllib.error.URLError, OSError, KeyError, ValueError):
        return None
    available = [int(s["version"]) for s in statuses if s.get("state") == "AVAILABLE"]
    return max(available) if available else None


def test_appending_rows_to_a_source_retrains_gates_exports_and_serves_that_example_alone(tmp_path, mirror):
    own_mirror = tmp_path / "mirror"  # the book's files for these two examples only: the rest are unavailable
    own_mirror.mkdir()
    for name in ("iris", "banknotes"):
        shutil.copyfile(mirror / datasets.get(name).filename, own_mirror / datasets.get(name).filename)
    mine = tmp_path / "my_iris.csv"
    shutil.copyfile(mirror / "iris.csv", mine)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(REPO / "ztdl_pipeline" / "instance" / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(tmp_path / "data"), "ZTDL_DATA_MIRROR": str(own_mirror),
                "ZTDL_PROFILE": "fast", "ZTDL_SOURCE_IRIS": str(mine), "ZTDL_SENSOR_INTERVAL_S": SENSOR_INTERVAL_S,
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "DAGSTER_DISABLE_TELEMETRY": "yes", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"})

    first = subprocess.run([str(BIN / "python"), "-m", "ztdl_pipeline.run", "--select", SELECT], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=600, check=False)
    assert first.returncode == 0 and "run: 10 to materialize" in first.stdout, (first.stdout + first.stderr)[-5000:]
    iris_keys = [user_key(layer, "iris" if layer in ("raw", "features") else "iris_softmax") for layer in IRIS]
    banknotes_keys = [user_key(layer, "banknotes" if layer in ("raw", "features") else "banknotes_logreg")
                      for layer in IRIS]
    assert set(_counts(env, iris_keys + banknotes_keys).values()) == {1}

    exports = tmp_path / "data" / "fast" / "exports"
    port = _free_port()
    log_path = tmp_path / "dagster_dev.log"
    with open(log_path, "wb") as log:
        dev = subprocess.Popen([str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                               cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = None
    try:
        server = start_server(exports, tmp_path / "serve.log", "--poll-interval", "1")
        assert _served_version(server.port) == 1
        deadline = time.monotonic() + 180  # the web server is up and the daemon has evaluated the sensors once
        while time.monotonic() < deadline:
            assert dev.poll() is None, log_path.read_text()[-5000:]
            try:
                ticks = _graphql(port, '{ sensorOrError(sensorSelector: {repositoryLocationName: "ztdl_pipeline", '
                                       'repositoryName: "__repository__", sensorName: "observe_sources"}) '
                                       '{ ... on Sensor { sensorState { ticks(limit: 1) { status } } } } }')
                if ticks["sensorOrError"]["sensorState"]["ticks"]:
                    break
            except (urllib.error.URLError, OSError, AssertionError):
                pass
            time.sleep(2)
        else:
            pytest.fail("the daemon never ticked the source sensor:\n" + log_path.read_text()[-5000:])

        with mine.open("a") as handle:  # the only thing the user does
            handle.write("6.1,3.0,5.0,1.9,virginica\n5.0,3.4,1.5,0.2,setosa\n")
        deadline = time.monotonic() + CYCLE_TIMEOUT_S
        while time.monotonic() < deadline and _served_version(server.port) != 2:
            assert dev.poll() is None, log_path.read_text()[-5000:]
            time.sleep(3)
        assert _served_version(server.port) == 2, ("no version 2 served within the bound", log_path.read_text()[-8000:])
        assert (exports / "iris_softmax" / "2" / "saved_model.pb").is_file()
        answer = server.post("/v1/models/iris_softmax/versions/2:predict", {"instances": [
            {"sepal_length": 6.1, "sepal_width": 3.0, "petal_length": 5.0, "petal_width": 1.9}]})
        assert answer.status == 200 and len(answer.json["predictions"][0]) == 3

        runs = _graphql(port, '{ runsOrError(filter: {tags: [{key: "ztdl/launched_by", value: "automation"}]}) '
                              '{ ... on Runs { results { status tags { key value } } } } }')["runsOrError"]["results"]
        assert runs and all(r["status"] in ("SUCCESS", "STARTED", "STARTING") for r in runs), runs
        # the daemon's runs carry the profile and commit tags too (Storage tags every run it serves)
        done = [{t["key"]: t["value"] for t in r["tags"]} for r in runs if r["status"] == "SUCCESS"]
        assert done and all(t.get("ztdl/profile") == "fast" and t.get("ztdl/git_commit") for t in done), done
    finally:
        if server is not None:
            stop_server(server)
        stop_process_group(dev)
    counts = _counts(env, iris_keys + banknotes_keys)
    assert all(counts[k] == 2 for k in iris_keys), counts  # the changed example's chain, once more
    assert all(counts[k] == 1 for k in banknotes_keys), counts  # the unrelated example: untouched
