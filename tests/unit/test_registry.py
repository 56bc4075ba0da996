"""core.registry: the export manifest; versions only grow, `current` follows the last recorded one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ztdl_pipeline.core import registry


def test_read_of_a_missing_manifest(tmp_path):
    model_dir = tmp_path / "iris_softmax"
    assert registry.read(model_dir) == {"model": "iris_softmax", "current": None, "versions": {}}
    assert registry.current_entry(model_dir) is None
    assert not model_dir.exists()  # reading does not create anything


def test_record_writes_manifest_and_tracks_current(tmp_path):
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    registry.record(model_dir, 1, {"gate_metric": 0.8, "profile": "fast"})
    assert registry.current_entry(model_dir) == {"version": 1, "gate_metric": 0.8, "profile": "fast"}

    manifest = registry.record(model_dir, 2, {"gate_metric": 0.9, "profile": "fast"})
    assert manifest["current"] == 2
    on_disk = json.loads((model_dir / registry.MANIFEST).read_text())
    assert on_disk == manifest
    assert on_disk["model"] == "m"
    assert set(on_disk["versions"]) == {"1", "2"}
    assert registry.current_entry(model_dir)["gate_metric"] == 0.9
    assert on_disk["versions"]["1"]["gate_metric"] == 0.8  # older entries are kept


@pytest.mark.fault
def test_recording_an_existing_version_raises_and_changes_nothing(tmp_path):
    model_dir = tmp_path / "m"
    registry.record(model_dir, 1, {"gate_metric": 0.8})
    registry.record(model_dir, 2, {"gate_metric": 0.9})
    before = (model_dir / registry.MANIFEST).read_bytes()
    with pytest.raises(ValueError, match="version 1 is already registered"):
        registry.record(model_dir, 1, {"gate_metric": 0.1})
    assert (model_dir / registry.MANIFEST).read_bytes() == before
    assert registry.current_entry(model_dir)["version"] == 2


def test_record_without_making_current(tmp_path):
    model_dir = tmp_path / "m"
    registry.record(model_dir, 1, {"x": 1})
    registry.record(model_dir, 2, {"x": 2}, make_current=False)
    assert registry.read(model_dir)["current"] == 1
    assert registry.current_entry(model_dir) == {"version": 1, "x": 1}
    assert "2" in registry.read(model_dir)["versions"]


def test_ztdl_serve_serves_the_book_profile_unless_told_otherwise(tmp_path, monkeypatch):
    from ztdl_pipeline.serving.server import exports_folder

    monkeypatch.setenv("ZTDL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ZTDL_PROFILE", "fast")  # a smoke-test shell: still the book profile's exports
    assert exports_folder(None, None) == tmp_path / "data" / "exports"
    assert exports_folder(None, "fast") == tmp_path / "data" / "fast" / "exports"
    assert exports_folder(str(tmp_path / "elsewhere"), None) == tmp_path / "elsewhere"


def _record_many(model_dir: str, start: int, count: int) -> None:
    from pathlib import Path

    from ztdl_pipeline.core import registry as r

    for version in range(start, start + count):
        r.record(Path(model_dir), version, {"gate_metric": 0.5, "writer": start})


@pytest.mark.fault
def test_two_processes_recording_at_once_lose_no_version(tmp_path):
    import multiprocessing

    model_dir = tmp_path / "m"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_record_many, args=(str(model_dir), start, 40)) for start in (1, 41)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    manifest = registry.read(model_dir)
    assert sorted(map(int, manifest["versions"])) == list(range(1, 81))
    assert json.loads((model_dir / registry.MANIFEST).read_text()) == manifest  # valid JSON on disk


@pytest.mark.fault
def test_a_damaged_registry_names_the_file_and_the_repair_which_rebuilds_it(tmp_path):
    import numpy as np
    import tensorflow as tf

    from ztdl_pipeline.core import export

    model_dir = tmp_path / "m"
    for _ in range(2):  # two real SavedModel versions
        staged = export.staging_dir(model_dir)

        class Double(tf.Module):
            @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
            def serve(self, x):
                return {"output_0": 2 * x}

        module = Double()
        tf.saved_model.save(module, str(staged), signatures={"serving_default": module.serve})
        version, _ = export.publish_version(staged, model_dir)
        registry.record(model_dir, version, {"gate_metric": 0.9})
    (model_dir / registry.MANIFEST).write_text('{"model": "m", "current": 2, "versi')  # cut mid-write
    with pytest.raises(registry.DamagedRegistry) as info:
        registry.record(model_dir, 3, {"gate_metric": 0.9})
    message = str(info.value)
    assert str(model_dir / registry.MANIFEST) in message
    assert f"python -m ztdl_pipeline.core.registry --repair {model_dir}" in message

    proc = subprocess.run([sys.executable, "-m", "ztdl_pipeline.core.registry", "--repair", str(model_dir)],
                          capture_output=True, text=True, timeout=120, check=True)
    assert "versions [1, 2], current 2" in proc.stdout
    manifest = registry.read(model_dir)
    assert manifest["current"] == 2 and manifest["versions"]["1"]["signature"]["x"]["dtype"] == "float32"
    assert (model_dir / (registry.MANIFEST + ".damaged")).read_text().startswith('{"model": "m"')
    loaded = tf.saved_model.load(manifest["versions"]["2"]["path"])
    np.testing.assert_allclose(loaded.serve(tf.constant([1.5]))["output_0"], [3.0])
