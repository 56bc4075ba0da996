"""core.registry: the export manifest; versions only grow, `current` follows the last recorded one."""

from __future__ import annotations

import json

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
