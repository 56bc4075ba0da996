"""core.atomic: a write either fully replaces the target or leaves the old one, never a temp file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ztdl_pipeline.core import atomic


class Boom(RuntimeError):
    pass


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_write_bytes_creates_parents_and_replaces(tmp_path):
    target = tmp_path / "deep" / "er" / "file.bin"
    assert atomic.write_bytes(target, b"first") == target
    assert target.read_bytes() == b"first"
    atomic.write_bytes(target, b"second, longer")
    assert target.read_bytes() == b"second, longer"
    assert _listing(target.parent) == ["file.bin"]


def test_write_text_and_json(tmp_path):
    atomic.write_text(tmp_path / "a.txt", "héllo")
    assert (tmp_path / "a.txt").read_bytes() == "héllo".encode()

    obj = {"acc": np.float32(0.5), "matrix": np.array([[1, 2], [3, 4]]), "path": tmp_path / "x",
           "n": np.int64(3)}
    atomic.write_json(tmp_path / "m.json", obj)
    text = (tmp_path / "m.json").read_text()
    assert text.endswith("\n")
    assert json.loads(text) == {"acc": 0.5, "matrix": [[1, 2], [3, 4]], "path": str(tmp_path / "x"), "n": 3}


@pytest.mark.fault
def test_write_json_unserialisable_keeps_old_file(tmp_path):
    target = tmp_path / "m.json"
    atomic.write_json(target, {"ok": 1})
    with pytest.raises(TypeError, match="not JSON serializable"):
        atomic.write_json(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert _listing(tmp_path) == ["m.json"]


def test_atomic_path_success_replaces(tmp_path):
    target = tmp_path / "out.parquet"
    target.write_bytes(b"old")
    with atomic.atomic_path(target, suffix=".parquet") as tmp:
        assert tmp.parent == tmp_path and tmp != target
        assert target.read_bytes() == b"old"  # not touched while writing
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert _listing(tmp_path) == ["out.parquet"]


@pytest.mark.fault
def test_atomic_path_failure_keeps_previous_file_and_cleans_up(tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"good data")
    with pytest.raises(Boom), atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"half-writ")
        raise Boom("killed mid-write")
    assert target.read_bytes() == b"good data"
    assert _listing(tmp_path) == ["out.csv"]


@pytest.mark.fault
def test_atomic_path_failure_without_previous_file_leaves_nothing(tmp_path):
    target = tmp_path / "new.bin"
    with pytest.raises(Boom), atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise Boom()
    assert not target.exists()
    assert _listing(tmp_path) == []


@pytest.mark.fault
def test_write_bytes_failure_keeps_previous(tmp_path):
    target = tmp_path / "f.txt"
    atomic.write_text(target, "keep me")
    with pytest.raises(TypeError):
        atomic.write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "keep me"
    assert _listing(tmp_path) == ["f.txt"]


def test_atomic_dir_success_replaces_whole_folder(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old_only.txt").write_text("old")
    (target / "shared.txt").write_text("old")
    with atomic.atomic_dir(target) as tmp:
        assert tmp.is_dir() and tmp.parent == tmp_path and tmp != target
        (tmp / "shared.txt").write_text("new")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "w.bin").write_bytes(b"\x00\x01")
        assert (target / "old_only.txt").exists()  # the old folder is intact until the end
    assert _listing(target) == ["shared.txt", "sub", "sub/w.bin"]  # no stale file from the old folder
    assert (target / "shared.txt").read_text() == "new"
    assert _listing(tmp_path) == ["model", "model/shared.txt", "model/sub", "model/sub/w.bin"]


def test_atomic_dir_creates_new_folder(tmp_path):
    target = tmp_path / "a" / "b"
    with atomic.atomic_dir(target) as tmp:
        (tmp / "x").write_text("1")
    assert (target / "x").read_text() == "1"
    assert _listing(tmp_path / "a") == ["b", "b/x"]


@pytest.mark.fault
def test_atomic_dir_failure_keeps_previous_folder_and_cleans_up(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "model.keras").write_bytes(b"trained weights")
    (target / "history.json").write_text("{}")
    with pytest.raises(Boom), atomic.atomic_dir(target) as tmp:
        (tmp / "model.keras").write_bytes(b"half")
        raise Boom("save failed")
    assert (target / "model.keras").read_bytes() == b"trained weights"
    assert (target / "history.json").read_text() == "{}"
    assert _listing(tmp_path) == ["model", "model/history.json", "model/model.keras"]


@pytest.mark.fault
def test_atomic_dir_failure_without_previous_folder_leaves_nothing(tmp_path):
    with pytest.raises(Boom), atomic.atomic_dir(tmp_path / "model") as tmp:
        (tmp / "x").write_text("partial")
        raise Boom()
    assert _listing(tmp_path) == []
