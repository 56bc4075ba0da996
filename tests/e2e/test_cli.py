"""The real `dagster` CLI in subprocesses: materialize, list and validate the code location.

Every call runs in a fresh process with its own DAGSTER_HOME (telemetry off), its own storage root
(ZTDL_DATA_DIR), the shared data mirror and the fast profile, from the repository root so that
`[tool.dagster]` in pyproject.toml is found. Each call pays the CLI's start-up (~3-10 s), so the
module materializes the iris chain once and reuses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ztdl_pipeline.core.names import user_key

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin: dagster, dagster-webserver
EXPORT = 'key:"exports/iris_softmax_export"'
IRIS_CHAIN = ["raw/iris_raw", "features/iris_features", "models/iris_softmax_model", "reports/iris_softmax_report", "exports/iris_softmax_export"]


def _cli_env(home: Path, data: Path, mirror: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(data), "ZTDL_DATA_MIRROR": str(mirror),
                "ZTDL_PROFILE": "fast", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    return env


def _dagster(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(BIN / "dagster"), *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(f"dagster {' '.join(args)} exited {proc.returncode}\n--- stdout (tail)\n{proc.stdout[-4000:]}"
                    f"\n--- stderr (tail)\n{proc.stderr[-6000:]}")
    return proc


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, mirror) -> dict[str, str]:
    base = tmp_path_factory.mktemp("cli")
    return _cli_env(base / "dagster_home", base / "data", mirror)


@pytest.fixture(scope="module")
def first_export(cli_env) -> dict:
    """`+key:"exports/iris_softmax_export"` materialized once; what was on disk right after, for later comparison."""
    proc = _dagster(cli_env, "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select", f"+{EXPORT}")
    data = Path(cli_env["ZTDL_DATA_DIR"]) / "fast"  # the fast profile's storage root
    model_dir = data / "exports" / "iris_softmax"
    registry = json.loads((model_dir / "registry.json").read_text()) if (model_dir / "registry.json").exists() else None
    v1 = model_dir / "1"
    files = {str(p.relative_to(v1)): _sha256(p) for p in sorted(v1.rglob("*")) if p.is_file()} if v1.exists() else {}
    return {"proc": proc, "data": data, "model_dir": model_dir, "registry": registry, "v1_files": files}


def test_materialize_export_with_upstream_writes_servable_savedmodel(first_export):
    data, model_dir = first_export["data"], first_export["model_dir"]
    assert "RUN_SUCCESS" in first_export["proc"].stdout + first_export["proc"].stderr
    assert (model_dir / "1" / "saved_model.pb").is_file()
    assert (model_dir / "1" / "variables").is_dir()
    assert (data / "reports" / "iris_softmax" / "report.md").is_file()
    assert "iris" in (data / "reports" / "iris_softmax" / "report.md").read_text()
    # the whole upstream chain was materialized by this one command
    assert (data / "raw" / "iris.parquet").is_file() and (data / "features" / "iris.parquet").is_file()
    assert (data / "models" / "iris_softmax" / "model.keras").is_file()
    registry = first_export["registry"]
    assert registry is not None and registry["current"] == 1 and list(registry["versions"]) == ["1"]
    assert Path(registry["versions"]["1"]["path"]) == model_dir / "1"
    # nothing outside the iris chain ran
    assert not (data / "features" / "banknotes.parquet").exists()

    import tensorflow as tf

    loaded = tf.saved_model.load(str(model_dir / "1"))
    serving = loaded.signatures["serving_default"]
    _, specs = serving.structured_input_signature
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert sorted(specs) == sorted(names)
    for name in names:
        assert specs[name].dtype == tf.float32 and specs[name].shape.as_list() == [None]
    rows = {"sepal_length": [5.1, 6.3], "sepal_width": [3.5, 3.3], "petal_length": [1.4, 6.0],
            "petal_width": [0.2, 2.5]}  # iris.csv rows 1 (setosa) and 101 (virginica), raw units
    probs = np.asarray(loaded.serve({k: tf.constant(v, tf.float32) for k, v in rows.items()}))
    assert probs.shape == (2, 3)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    classes = registry["versions"]["1"]["outputs"]["classes"]
    assert [classes[i] for i in probs.argmax(axis=1)] == ["setosa", "virginica"]


def test_registry_records_upstream_data_versions(first_export, mirror):
    entry = first_export["registry"]["versions"]["1"]
    versions = entry["upstream_data_versions"]
    assert set(versions) == {"raw/iris_raw", "features/iris_features", "models/iris_softmax_model"}
    assert versions["raw/iris_raw"] == _sha256(mirror / "iris.csv")  # raw data version = the file's sha256
    assert all(versions.values()), versions


def test_launch_without_module_reads_pyproject(tmp_path, mirror):
    """`dg launch` finds the code location through [tool.dg] in pyproject.toml: no -m needed.

    (`dagster asset materialize` in 1.13 only takes explicit -m/-f pointers; the workspace commands
    such as `dagster dev` and `dagster definitions validate` read [tool.dagster], checked below.)
    """
    env = _cli_env(tmp_path / "dagster_home", tmp_path / "data", mirror)
    proc = subprocess.run([str(BIN / "dg"), "launch", "--assets", 'key:"raw/iris_raw"'], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "RUN_SUCCESS" in proc.stdout + proc.stderr
    data = tmp_path / "data"
    assert (data / "fast" / "raw" / "iris.parquet").is_file()  # the fast profile's storage root
    assert _sha256(data / "raw" / "iris.csv") == _sha256(mirror / "iris.csv")  # the shared download cache
    assert not (data / "fast" / "features").exists()  # only the selection ran


def test_same_model_publishes_nothing_and_a_retrained_one_becomes_version_2(first_export, cli_env):
    model_dir = first_export["model_dir"]
    assert first_export["v1_files"], "the first export left no version 1"
    # the export again, from the same model: nothing new is published
    proc = _dagster(cli_env, "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select", EXPORT)
    assert "unchanged, version 1" in proc.stdout + proc.stderr
    assert sorted(p.name for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()) == ["1"]
    # the model retrained with other settings (iris reaches the same accuracy either way), then the export
    config = {"ops": {"models__iris_softmax_model": {"config": {"learning_rate": 0.05}}}}
    _dagster(cli_env, "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select",
             'key:"models/iris_softmax_model" or key:"reports/iris_softmax_report" or ' + EXPORT, "--config-json", json.dumps(config))
    assert sorted(p.name for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()) == ["1", "2"]
    assert (model_dir / "2" / "saved_model.pb").is_file()
    v1 = model_dir / "1"
    assert {str(p.relative_to(v1)): _sha256(p) for p in sorted(v1.rglob("*")) if p.is_file()} \
        == first_export["v1_files"], "version 1 was modified by the second export"
    registry = json.loads((model_dir / "registry.json").read_text())
    assert registry["current"] == 2
    assert sorted(registry["versions"]) == ["1", "2"]
    assert registry["versions"]["1"] == first_export["registry"]["versions"]["1"]
    assert registry["versions"]["2"]["path"] == str(model_dir / "2")
    assert registry["versions"]["2"]["run_id"] != registry["versions"]["1"]["run_id"]
    models = {v: registry["versions"][v]["upstream_data_versions"]["models/iris_softmax_model"] for v in ("1", "2")}
    assert models["1"] != models["2"]
    assert not list(model_dir.glob(".staging-*")), "a staging folder was left behind"


def test_asset_list_and_validate(cli_env):
    from ztdl_pipeline.catalog import tabular

    datasets = [*tabular.RAW_FILES, *(g.name for g in tabular.GENERATED)]

    proc = _dagster(cli_env, "asset", "list", "-m", "ztdl_pipeline.definitions", "--select", "group:tabular")
    listed = {line.strip() for line in proc.stdout.splitlines() if line.strip()}
    assert set(IRIS_CHAIN) <= listed
    expected = ({user_key("raw", n) for n in datasets} | {user_key("features", f.dataset) for f in tabular.FEATURES}
                | {user_key(layer, e.name) for e in tabular.CARDS for layer in ("models", "reports", "exports")}
                | {user_key("predictions", p.name) for p in tabular.PREDICTIONS} | {"reports/banknotes_sweeps_report"}
                | {user_key("reports", spec.name) for spec in (*tabular.CLASSIC, *tabular.EXPERIMENTS)})
    assert listed == expected

    proc = _dagster(cli_env, "asset", "list", "-m", "ztdl_pipeline.definitions", "--select", 'key:"raw/*"')
    raw = {line.strip() for line in proc.stdout.splitlines() if line.strip()}
    from ztdl_pipeline.definitions import defs

    every_raw = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "raw"}
    assert {user_key("raw", n) for n in datasets} <= raw
    assert raw == every_raw

    # no -m: the code location comes from [tool.dagster] in pyproject.toml, under its configured name
    proc = _dagster(cli_env, "definitions", "validate")
    output = proc.stdout + proc.stderr
    assert "Validation successful for code location ztdl_pipeline" in output


def test_cli_materializes_a_text_classifier_that_takes_raw_strings(tmp_path, mirror):
    """A new user's path for the text group: one command builds the SMS bag-of-words chain from the mirror's
    files, and the published SavedModel classifies raw messages with plain TensorFlow."""
    import tensorflow as tf

    env = _cli_env(tmp_path / "home", tmp_path / "data", mirror)
    _dagster(env, "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select", '+key:"exports/sms_bow_export"')
    model_dir = tmp_path / "data" / "fast" / "exports" / "sms_bow"
    registry = json.loads((model_dir / "registry.json").read_text())
    assert registry["current"] == 1 and registry["versions"]["1"]["signature"]["text"]["dtype"] == "string"
    loaded = tf.saved_model.load(str(model_dir / "1"))
    messages = ["WINNER!! You have won a FREE prize, txt CLAIM to 80086 now", "ok see you at home later"]
    spam = np.asarray(loaded.serve({"text": tf.constant(messages)})).reshape(-1)
    assert spam.shape == (2,) and np.all((spam >= 0) & (spam <= 1)) and spam[0] > spam[1]


def test_cli_takes_xception_weights_from_run_config(tmp_path, mirror):
    """The README's way to give Xception's weights on a machine without network: the pretrained resource's
    config in --config-json (here a stand-in file in Keras' h5 layout, so md5 checking is off)."""
    import pyarrow.parquet as pq

    from tests.conftest import write_keras_weights_file
    from ztdl_pipeline.core.tables import table_attrs
    from ztdl_pipeline.resources.pretrained import WEIGHT_FILES

    weights = tmp_path / "models" / WEIGHT_FILES[False][0]
    write_keras_weights_file(weights, seed=2)
    env = _cli_env(tmp_path / "home", tmp_path / "data", mirror)
    env["KERAS_HOME"] = str(tmp_path / "no-keras-home")
    config = {"resources": {"pretrained": {"config": {"notop_weights_path": str(weights), "verify_md5": False}}}}
    _dagster(env, "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select",
             'key:"features/male_female_bottlenecks_features"', "--config-json", json.dumps(config))
    attrs = table_attrs(pq.read_table(tmp_path / "data" / "fast" / "features" / "male_female_bottlenecks.parquet"))
    assert attrs["weights"]["weights"] == "imagenet" and attrs["weights"]["path"] == str(weights)
