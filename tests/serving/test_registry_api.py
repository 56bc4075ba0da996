"""serving.registry: the public API over data/exports (list, versions, manifest, load) and its guards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.serving.helpers import MODELS, REPO
from ztdl_pipeline.catalog.datasets import CATALOG
from ztdl_pipeline.serving import registry
from ztdl_pipeline.serving.registry import InvalidName, NotFound


def test_lists_models_and_versions(exports_run):
    _, root, _, _ = exports_run
    exports = root / "exports"
    assert registry.list_models(exports) == sorted(MODELS)
    for name in MODELS:
        versions = registry.list_versions(name, exports)
        assert versions and versions == sorted(versions) and versions[0] == 1
        assert registry.current_version(name, exports) == registry.manifest(name, exports)["current"]


def test_default_root_follows_ztdl_data_dir(exports_run, monkeypatch):
    _, root, _, _ = exports_run
    monkeypatch.setenv("ZTDL_DATA_DIR", str(root))
    assert registry.exports_root() == root / "exports"
    assert registry.list_models() == sorted(MODELS)


def test_manifest_entry_describes_signature_metrics_and_lineage(exports_run):
    result, root, _instance, _ = exports_run
    exports = root / "exports"
    manifest = registry.manifest("wifi_fc", exports)
    assert manifest["model"] == "wifi_fc"
    entry = manifest["versions"]["1"]
    assert entry["version"] == 1 and entry["profile"] == "fast"
    assert entry["signature"] == {f"a_{i}": {"column": f"a_{i}", "dtype": "float32", "finite": True, "shape": [-1]}
                                  for i in range(1, 8)}
    assert entry["signature_name"] == "serving_default"
    assert entry["output_signature"] == {"output_0": {"dtype": "float32", "shape": [-1, 4]}}
    assert entry["outputs"]["classes"] == [0, 1, 2, 3]
    assert entry["metrics"]["test"]["accuracy"] == entry["gate_metric"] >= 0.7
    assert entry["run_id"] == result.run_id
    lineage = entry["upstream_data_versions"]
    assert lineage["raw/wifi_location_raw"] == CATALOG["wifi_location"].sha256
    assert set(lineage) == {"raw/wifi_location_raw", "features/wifi_location_features", "models/wifi_fc_model"}
    assert all(lineage.values())
    assert registry.entry("wifi_fc", 1, exports) == entry
    # the same signature as tf.saved_model.load sees it
    assert registry.signature("wifi_fc", 1, exports) == {
        "signature_name": "serving_default", "method_name": "tensorflow/serving/predict",
        "inputs": {n: {"dtype": s["dtype"], "shape": s["shape"]} for n, s in entry["signature"].items()},
        "outputs": entry["output_signature"]}
    titanic = registry.entry("titanic_fc", 1, exports)["signature"]
    assert {n: s["dtype"] for n, s in titanic.items()}["pclass"] == "int64"
    assert {n: s["dtype"] for n, s in titanic.items()}["sex"] == "string"


def test_load_gives_a_working_savedmodel(exports_run):
    import tensorflow as tf

    _, root, _, _ = exports_run
    model = registry.load("wifi_fc", root=root / "exports")
    rows = {f"a_{i}": tf.constant([-62.0, -49.0, -40.0]) for i in range(1, 8)}
    probabilities = np.asarray(model.serve(rows))
    assert probabilities.shape == (3, 4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    outputs = model.signatures["serving_default"](**rows)
    np.testing.assert_allclose(np.asarray(outputs["output_0"]), probabilities, rtol=1e-6)


@pytest.mark.parametrize("name", ["../wifi_fc", "wifi_fc/1", "/etc", "..", ".", "", "a\\b", "wifi fc", "x" * 200,
                                  "wifi_fc\x00", "-rf", "wïfi"])
def test_names_with_path_characters_are_rejected(exports_run, name):
    _, root, _, _ = exports_run
    with pytest.raises(InvalidName, match="invalid model name"):
        registry.list_versions(name, root / "exports")
    with pytest.raises(InvalidName):
        registry.load(name, root=root / "exports")


@pytest.mark.parametrize("version", ["0", "-1", "1.0", "1e3", "²", "latest", "", True, 0])
def test_versions_must_be_positive_integers(exports_run, version):
    _, root, _, _ = exports_run
    with pytest.raises(InvalidName, match="positive integer"):
        registry.version_dir("wifi_fc", version, root / "exports")


def test_unknown_models_and_versions(exports_run):
    _, root, _, _ = exports_run
    exports = root / "exports"
    with pytest.raises(NotFound):
        registry.version_dir("no_such_model", root=exports)
    with pytest.raises(NotFound, match="no version 999"):
        registry.version_dir("wifi_fc", 999, exports)
    with pytest.raises(NotFound):
        registry.manifest("no_such_model", exports)


def test_only_complete_integer_versions_count(exports_run, tmp_path):
    """Staging folders, stray files, empty version folders and symlinks out of the folder are not versions."""
    _, root, _, _ = exports_run
    exports = tmp_path / "exports"
    shutil.copytree(root / "exports" / "wifi_fc", exports / "wifi_fc", ignore=shutil.ignore_patterns("[2-9]*"))
    model = exports / "wifi_fc"
    (model / ".staging-abc").mkdir()
    shutil.copy(model / "1" / "saved_model.pb", model / ".staging-abc" / "saved_model.pb")
    (model / "7").write_text("not a folder")
    (model / "8").mkdir()
    outside = tmp_path / "outside"
    shutil.copytree(model / "1", outside / "9")
    (model / "9").symlink_to(outside / "9", target_is_directory=True)
    (exports / "elsewhere").symlink_to(tmp_path / "outside", target_is_directory=True)
    assert registry.list_versions("wifi_fc", exports) == [1]
    assert registry.list_models(exports) == ["wifi_fc"]
    with pytest.raises(NotFound):
        registry.version_dir("wifi_fc", 9, exports)
    with pytest.raises(NotFound):
        registry.list_versions("elsewhere", exports)
    # `current` naming a version that is not on disk falls back to the highest one on disk
    manifest = json.loads((model / "registry.json").read_text())
    manifest["current"] = 5
    (model / "registry.json").write_text(json.dumps(manifest))
    assert registry.current_version("wifi_fc", exports) == 1


def test_loading_the_code_location_imports_no_serving_or_tensorflow_stack():
    code = ("import sys, ztdl_pipeline.definitions, ztdl_pipeline.serving.client; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'tensorflow', 'keras', 'fastapi', 'uvicorn', 'hypothesis', 'flask'}))")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"
