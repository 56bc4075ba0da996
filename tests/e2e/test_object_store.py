"""Shared object storage (issue 19, item 3) against a real S3-compatible server on loopback: moto's standalone
server (`python -m moto.server`), a stand-in for real object storage such as AWS S3 or MinIO.

With nothing but ZTDL_DATA_DIR=s3://<bucket>/team and the AWS variables (AWS_ENDPOINT_URL_S3 naming the
server), a real `dagster asset materialize` of iris_softmax's chain writes every layer into the bucket and
registers version 1, and a real `ztdl-serve` on the bucket answers predictions over HTTP. A publish killed half
way (SIGKILL while its objects are copied to the version's key) changes nothing that is served, its claimed
number is never reused, and the next publish is served without a restart. Two publishers with no lock between
them neither share a version number nor lose each other's registry entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.serving.helpers import free_port, start_server, stop_process_group, stop_server

pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install -e '.[dev]')")
pytest.importorskip("s3fs", reason="s3fs is not installed (pip install -e '.[s3]')")
pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BUCKET = "ztdl-e2e"
MODEL = "iris_softmax"
CHAIN = '+key:"exports/iris_softmax_export"'
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}

# a publisher killed half way (core.export.publish_version's object-store path, without Keras' import time): the
# SavedModel is uploaded under its temporary key and verified, the version number claimed, and the process gets
# SIGKILL right after the first object is copied to the version's key
KILLED_PUBLISH = textwrap.dedent('''
    import os, signal, sys
    from pathlib import Path
    from ztdl_pipeline.core import stores

    model_dir = stores.root_of(sys.argv[2])
    fs = model_dir.fs  # fsspec keeps one instance per settings: the one publish uses
    copy = fs.copy

    def copy_then_die(*args, **kwargs):
        copy(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    fs.copy = copy_then_die
    stores.publish(Path(sys.argv[1]), model_dir)
''')


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto server on 127.0.0.1 with an empty bucket; the AWS variables point this process at it too.
    Yields (the variables, the working folder)."""
    import s3fs

    work = tmp_path_factory.mktemp("object_store")
    port = free_port()
    log = open(work / "moto.log", "wb")  # noqa: SIM115 - the child writes to it
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, work / "moto.log")
        variables = {**AWS, "AWS_ENDPOINT_URL_S3": url}
        with pytest.MonkeyPatch.context() as patch:
            for name, value in variables.items():
                patch.setenv(name, value)
            s3fs.S3FileSystem.clear_instance_cache()  # none made for another server may be reused
            s3fs.S3FileSystem().mkdir(BUCKET)
            yield variables, work
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        stop_process_group(proc)


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"moto did not answer on {url} within 30 s")


def _store(path: str = ""):
    from ztdl_pipeline.core.stores import root_of

    return root_of(f"s3://{BUCKET}/team/fast" + (f"/{path}" if path else ""))


@pytest.fixture(scope="module")
def published(s3, mirror) -> dict[str, str]:
    """The chain materialized by the real CLI into the bucket; returns the environment it ran with."""
    variables, work = s3
    home = work / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({**variables, "DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": f"s3://{BUCKET}/team",
                "ZTDL_LOCAL_DIR": str(work / "local"), "ZTDL_DATA_MIRROR": str(mirror), "ZTDL_PROFILE": "fast",
                "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1"})
    run = subprocess.run([str(BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions",
                          "--select", CHAIN], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "RUN_SUCCESS" in run.stdout + run.stderr, (run.stdout + run.stderr)[-4000:]
    return env


@pytest.fixture(scope="module")
def server(published, s3):
    _, work = s3
    env = {k: published[k] for k in ("ZTDL_LOCAL_DIR", *AWS, "AWS_ENDPOINT_URL_S3")}
    running = start_server(str(_store("exports")), work / "ztdl-serve.log", "--store-poll-interval", "0.5", env=env)
    try:
        yield running
    finally:
        stop_server(running)


def _rows(n: int = 8) -> list[dict]:
    """Raw iris rows from the bucket, keyed by the served signature's input names."""
    from ztdl_pipeline.core import registry
    from ztdl_pipeline.resources.io import read_parquet

    signature = registry.current_entry(_store(f"exports/{MODEL}"))["signature"]
    raw = read_parquet(_store("raw/iris.parquet"))
    return [{name: float(raw[spec["column"]].iloc[i]) for name, spec in signature.items()} for i in range(n)]


def _files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()]


def _served_versions(server) -> tuple[list[str], str]:
    answer = server.get("/v1/models").json
    entry = next(m for m in answer["models"] if m["name"] == MODEL)
    return entry["versions"], entry["current"]


def test_the_chain_is_stored_in_the_bucket_and_the_registry_names_its_version(published, s3):
    from ztdl_pipeline.core import registry

    _, work = s3
    stored = {str(p.path).split("/team/fast/", 1)[1] for p in _store().rglob("*") if p.is_file()}
    for expected in ("raw/iris.parquet", "features/iris.parquet", f"models/{MODEL}/model.keras",
                     f"reports/{MODEL}/metrics.json", f"reports/{MODEL}/report.md", f"exports/{MODEL}/export.json",
                     f"exports/{MODEL}/1/saved_model.pb", f"exports/{MODEL}/registry.json"):
        assert expected in stored, sorted(stored)
    assert not [name for name in stored if ".staging-" in name], "a temporary key was left behind"
    manifest = registry.read(_store(f"exports/{MODEL}"))
    assert manifest["current"] == 1
    assert manifest["versions"]["1"]["path"] == f"s3://{BUCKET}/team/fast/exports/{MODEL}/1"
    # this machine kept only its caches: the download, the training checkpoint and the TensorBoard event files
    # (written where the training runs), no layer of the pipeline
    assert sorted(p.name for p in (work / "local").iterdir()) == ["fast", "raw"]
    assert sorted(p.name for p in (work / "local" / "fast").iterdir()) == ["tensorboard", "training"]


def test_ztdl_serve_answers_from_the_bucket(server, tmp_path):
    from tests.serving.helpers import served_in_process
    from ztdl_pipeline.core import stores

    rows = _rows()
    answer = server.post(f"/v1/models/{MODEL}:predict", {"instances": rows})
    assert answer.status == 200, answer.body
    predictions = answer.json["predictions"]
    assert len(predictions) == len(rows) and all(abs(sum(p) - 1) < 1e-4 for p in predictions)
    # the very model the bucket holds, loaded with plain TensorFlow from a download
    local = stores.fetch_folder(_store(f"exports/{MODEL}/1"), tmp_path / MODEL / "1")
    columns = {name: np.array([r[name] for r in rows], dtype="float32") for name in rows[0]}
    expected = served_in_process(local.parent.parent, MODEL, 1, columns)
    assert np.allclose(predictions, expected, atol=1e-5)
    assert _served_versions(server) == (["1"], "1")


@pytest.mark.fault
def test_a_publish_killed_half_way_changes_nothing_served(server, tmp_path):
    from ztdl_pipeline.core import export, registry, stores
    from ztdl_pipeline.core.schema import folder_sha256

    rows = _rows()
    before = server.post(f"/v1/models/{MODEL}:predict", {"instances": rows}).json
    model_dir = _store(f"exports/{MODEL}")
    # a new SavedModel to publish: version 1's files plus an asset, so its content differs
    staged = stores.fetch_folder(model_dir / "1", tmp_path / "staged")
    (staged / "assets").mkdir(exist_ok=True)
    (staged / "assets" / "note.txt").write_text("republished\n")
    killed = subprocess.run([sys.executable, "-c", KILLED_PUBLISH, str(staged), str(model_dir)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr[-3000:]
    names = stores.list_names(model_dir)
    assert "2.claim" in names and "2" in names, names  # it died after claiming 2 and starting its copy
    assert len(_files(model_dir / "2")) < len(_files(model_dir / "1"))
    assert registry.read(model_dir)["current"] == 1

    time.sleep(2.0)  # four polls of the server's registry
    assert _served_versions(server) == (["1"], "1")
    assert server.post(f"/v1/models/{MODEL}:predict", {"instances": rows}).json == before

    # the next publish does not reuse the claimed number, and is served without a restart
    version, path = export.publish_version(staged, model_dir)
    assert version == 3
    entry = {**registry.current_entry(model_dir), "path": str(path), "content_sha256": folder_sha256(staged)}
    entry.pop("version")
    registry.record(model_dir, version, entry)
    deadline = time.monotonic() + 20
    while _served_versions(server)[1] != "3" and time.monotonic() < deadline:
        time.sleep(0.25)
    assert _served_versions(server) == (["1", "3"], "3"), server.log_tail()
    assert server.post(f"/v1/models/{MODEL}:predict", {"instances": rows}).json == before  # same weights

    # a registered version whose objects are not those recorded at publishing is never served
    version, path = export.publish_version(staged, model_dir)
    registry.record(model_dir, version, {**entry, "path": str(path), "content_sha256": "0" * 64})
    deadline = time.monotonic() + 20
    while "not served" not in server.log_tail() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert f"recorded when version {version} was published; not served" in server.log_tail()
    assert _served_versions(server) == (["1", "3"], "3")


def test_publishers_without_a_shared_lock_neither_share_a_version_nor_lose_an_update(s3, tmp_path):
    from ztdl_pipeline.core import export, registry, stores

    staged = tmp_path / "staged"
    (staged / "variables").mkdir(parents=True)
    (staged / "saved_model.pb").write_bytes(b"not a real model: the protocol is what is tested")
    (staged / "variables" / "variables.index").write_bytes(b"\0" * 64)
    model_dir = _store("exports/race")
    start, results = threading.Barrier(2), []

    def publish() -> None:
        start.wait()
        version, path = export.publish_version(staged, model_dir)
        registry.record(model_dir, version, {"path": str(path)})
        results.append(version)

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [1, 2]
    manifest = registry.read(model_dir)
    assert sorted(manifest["versions"]) == ["1", "2"] and manifest["current"] in (1, 2)
    for version in (1, 2):
        assert not stores.differences(staged, model_dir / str(version))

    # the primitive under both: a write conditional on an ETag that changed meanwhile loses
    data, tag = stores.read_versioned(model_dir / "registry.json")
    stores.write_if(model_dir / "registry.json", data + b"\n", tag)  # another writer, first
    with pytest.raises(stores.ConditionFailed):
        stores.write_if(model_dir / "registry.json", b"{}", tag)
    assert json.loads(stores.read_versioned(model_dir / "registry.json")[0]) == manifest
