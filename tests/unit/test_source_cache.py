"""core.source_cache: stored readings of the source give exactly the versions reading the source gives, an
edited module is read again, a damaged entry is never trusted, and concurrent writers leave whole entries."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ztdl_pipeline.core import source_cache, versioning
from ztdl_pipeline.core.versioning import Ref, code_version

PACKAGE = Path(versioning.__file__).resolve().parents[1]
REFS = [Ref("ztdl_pipeline.core.models", "circles_shallow"), Ref("ztdl_pipeline.core.models", "linear_regression"),
        Ref("ztdl_pipeline.assets.features", "features_asset"), Ref("ztdl_pipeline.assets.chain", "chain_definitions")]
VERSIONS = ("import json; from ztdl_pipeline.core.versioning import Ref, code_version; "
            "print(json.dumps([code_version(Ref(*r)) for r in {refs!r}]))")


def _versions() -> list[str]:
    """Versions of REFS and of assets made by a factory (functions made inside it: `_nested`)."""
    from ztdl_pipeline.assets.features import features_asset
    from ztdl_pipeline.catalog.tabular import FEATURES

    spec = next(s for s in FEATURES if s.dataset == "moons")
    other = dataclasses.replace(spec, recipe=dataclasses.replace(spec.recipe, random_state=7))
    assets = [features_asset(spec, "tabular"), features_asset(other, "tabular")]
    return [code_version(ref) for ref in REFS] + [v for a in assets for v in a.code_versions_by_key.values()]


def _fresh(monkeypatch, folder: Path | str) -> None:
    monkeypatch.setenv(source_cache.ENV, str(folder))
    source_cache.forget()


@pytest.fixture
def from_source(monkeypatch) -> list[str]:
    """The versions with nothing stored (every module parsed)."""
    _fresh(monkeypatch, "off")
    versions = _versions()
    yield versions
    source_cache.forget()


def _no_parsing(monkeypatch) -> None:
    def refuse(*args):
        raise AssertionError(f"read from source: {args}")

    monkeypatch.setitem(source_cache._uncached, "module", refuse)
    monkeypatch.setitem(source_cache._uncached, "nested", refuse)


def test_stored_readings_give_the_versions_the_source_gives(monkeypatch, tmp_path, from_source):
    _fresh(monkeypatch, tmp_path)
    assert _versions() == from_source  # cold: read from source, stored
    assert list(tmp_path.glob("*.json")) and not list(tmp_path.glob("*.tmp"))
    _fresh(monkeypatch, tmp_path)
    _no_parsing(monkeypatch)
    assert _versions() == from_source  # warm: nothing parsed


def test_caching_off_stores_nothing(monkeypatch, tmp_path, from_source):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _fresh(monkeypatch, "off")
    assert _versions() == from_source
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("damage", ["truncated", "flipped", "empty", "not json", "wrong key", "wrong shape",
                                    "lines out of range"])
def test_a_damaged_entry_is_read_from_source_again(monkeypatch, tmp_path, from_source, damage):
    _fresh(monkeypatch, tmp_path)
    _versions()
    entries = sorted(tmp_path.glob("*.json"))
    for path in entries:
        raw = path.read_bytes()
        checksum, _, body = raw.partition(b"\n")
        record = json.loads(body)
        value = record["value"]
        if damage == "truncated":
            path.write_bytes(raw[: len(raw) // 2])
        elif damage == "flipped":
            path.write_bytes(raw[:-10] + bytes([raw[-10] ^ 1]) + raw[-9:])
        elif damage == "empty":
            path.write_bytes(b"")
        elif damage == "not json":
            path.write_bytes(checksum + b"\n{")
        elif damage == "wrong key":  # another entry's body, intact: not for this key
            other = entries[0] if path != entries[0] else entries[1]
            path.write_bytes(other.read_bytes())
        elif damage == "wrong shape":
            source_cache.store(path.stem, {"definitions": [1, 2], "source": 3, "refs": "ab"})
        elif damage == "lines out of range" and "definitions" in value:
            for entry in value["definitions"].values():
                entry[1] = 10**6
            source_cache.store(path.stem, value)
    _fresh(monkeypatch, tmp_path)
    assert _versions() == from_source
    _fresh(monkeypatch, tmp_path)  # and what was read again was stored whole
    _no_parsing(monkeypatch)
    assert _versions() == from_source


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    shutil.copytree(PACKAGE, root / "ztdl_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _in_copy(root: Path, folder: Path | str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1", source_cache.ENV: str(folder)}
    refs = [(r.module, r.name) for r in REFS]
    out = subprocess.run([sys.executable, "-c", VERSIONS.format(refs=refs)], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_an_edited_module_is_read_again_and_only_it(tmp_path):
    root, folder = _copy(tmp_path), tmp_path / "cache"
    before = _in_copy(root, folder)
    stored = len(list(folder.glob("*.json")))
    assert before == _in_copy(root, folder) == _in_copy(root, "off")
    models = root / "ztdl_pipeline" / "core" / "models.py"
    source = models.read_text()
    edit = 'keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1, activation="sigmoid")])'  # circles_shallow
    assert source.count(edit) == 1
    models.write_text(source.replace(edit, edit.replace("Dense(4,", "Dense(8,")))
    after = _in_copy(root, folder)
    assert after == _in_copy(root, "off")
    assert after[0] != before[0] and after[1:] == before[1:]  # circles_shallow only
    assert len(list(folder.glob("*.json"))) == stored + 1  # core/models.py read again, nothing else


def test_a_module_file_added_reads_everything_again(tmp_path):
    """Whether `from x import y` imports a module depends on which files exist, so a new module file anywhere
    in the package makes every reading new."""
    root, folder = _copy(tmp_path), tmp_path / "cache"
    before = _in_copy(root, folder)
    stored = len(list(folder.glob("*.json")))
    (root / "ztdl_pipeline" / "core" / "added.py").write_text("X = 1\n")
    assert _in_copy(root, folder) == before == _in_copy(root, "off")
    assert len(list(folder.glob("*.json"))) == 2 * stored


def test_concurrent_writers_leave_whole_entries(tmp_path, monkeypatch):
    monkeypatch.setenv(source_cache.ENV, str(tmp_path))
    make = '{"text": "x" * 200_000, "n": list(range(2000))}'
    value = eval(make)
    writer = f"from ztdl_pipeline.core import source_cache as c\nvalue = {make}\nfor _ in range(150): c.store('k', value)"
    env = {**os.environ, source_cache.ENV: str(tmp_path)}
    writers = [subprocess.Popen([sys.executable, "-c", writer], env=env) for _ in range(4)]
    seen = 0
    while any(w.poll() is None for w in writers):
        found = source_cache.load("k")
        assert found in (None, value)
        seen += found is not None
    assert all(w.returncode == 0 for w in writers)
    assert source_cache.load("k") == value and seen
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]  # no temporary file left behind


def test_processes_starting_together_agree(tmp_path):
    """Several processes filling one empty folder at once get the versions reading the source gives."""
    root, folder = _copy(tmp_path), tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1", source_cache.ENV: str(folder)}
    refs = [(r.module, r.name) for r in REFS]
    runs = [subprocess.Popen([sys.executable, "-c", VERSIONS.format(refs=refs)], cwd=root, env=env,
                             stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [json.loads(run.communicate(timeout=120)[0].strip().splitlines()[-1]) for run in runs]
    expected = _in_copy(root, "off")
    assert all(output == expected for output in outputs)
    assert _in_copy(root, folder) == expected


def test_a_full_folder_keeps_the_most_recent_entries(tmp_path, monkeypatch):
    monkeypatch.setenv(source_cache.ENV, str(tmp_path))
    monkeypatch.setattr(source_cache, "LIMIT", 8)
    for i in range(10):
        (tmp_path / f"old{i}.json").write_text("x")
        os.utime(tmp_path / f"old{i}.json", (1_000_000 + i, 1_000_000 + i))
    (tmp_path / ".left.tmp").write_text("x")
    os.utime(tmp_path / ".left.tmp", (1_000_000, 1_000_000))
    source_cache.forget()
    source_cache.store("new", {"a": 1})
    kept = sorted(p.name for p in tmp_path.iterdir())  # 10 > 8: down to 6 (the newest) before writing
    assert kept == ["new.json", *(f"old{i}.json" for i in range(4, 10))]
    assert source_cache.load("new") == {"a": 1}
