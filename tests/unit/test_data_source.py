"""resources.DatasetSource: cache -> mirror -> download, with the sha256 checked every time."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import logging
import shutil
import socket
import threading
from pathlib import Path

import pytest

from ztdl_pipeline import settings
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.catalog.tabular import RAW_FILES
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.schema import read_csv_checked, sha256_file
from ztdl_pipeline.resources.data_source import DatasetSource

IRIS = datasets.get("iris")


@pytest.fixture
def dirs(tmp_path, mirror, monkeypatch):
    """An empty cache and a temp mirror holding a copy of iris.csv; no mirror from the environment."""
    monkeypatch.delenv(settings.MIRROR_ENV, raising=False)
    cache, own_mirror = tmp_path / "cache", tmp_path / "mirror"
    own_mirror.mkdir()
    shutil.copyfile(mirror / IRIS.filename, own_mirror / IRIS.filename)
    return cache, own_mirror


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_copies_from_mirror_into_cache_and_verifies(dirs):
    cache, mirror = dirs
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False)
    path, digest, origin = source.fetch(IRIS)
    assert (path, digest, origin) == (cache / IRIS.filename, IRIS.sha256, "mirror")
    assert path.read_bytes() == (mirror / IRIS.filename).read_bytes()
    assert sha256_file(path) == IRIS.sha256
    assert _files(cache) == [IRIS.filename]  # no temp file left beside it


def test_cache_hit_does_not_need_the_mirror(dirs):
    cache, mirror = dirs
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False)
    source.fetch(IRIS)
    (mirror / IRIS.filename).unlink()
    path, digest, origin = source.fetch(IRIS)
    assert origin == "cache" and digest == IRIS.sha256 and path == cache / IRIS.filename


@pytest.mark.fault
def test_corrupted_cached_file_is_replaced_from_the_mirror(dirs, caplog):
    cache, mirror = dirs
    cache.mkdir()
    (cache / IRIS.filename).write_text("sepal_length\ngarbage\n")
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False)
    with caplog.at_level(logging.WARNING, logger="ztdl-test"):
        path, _, origin = source.fetch(IRIS, log=logging.getLogger("ztdl-test"))
    assert origin == "mirror"
    assert sha256_file(path) == IRIS.sha256
    assert path.read_bytes() == (mirror / IRIS.filename).read_bytes()
    assert any("does not match the catalog" in r.getMessage() for r in caplog.records)
    assert _files(cache) == [IRIS.filename]


@pytest.mark.fault
def test_hash_mismatch_in_mirror_is_a_data_error(dirs):
    cache, mirror = dirs
    bad = mirror / IRIS.filename
    bad.write_bytes(bad.read_bytes().replace(b"5.1,3.5", b"5.1,3.6", 1))
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False)
    with pytest.raises(DataError) as info:
        source.fetch(IRIS)
    message = str(info.value)
    assert str(bad) in message  # names the file
    assert f"expected {IRIS.sha256}" in message  # the expected hash
    assert f"got {sha256_file(bad)}" in message  # and what it found
    assert "fix:" in message and IRIS.url in message and "datasets.py" in message  # and the fix
    assert not (cache / IRIS.filename).exists()  # the bad file did not reach the cache


def test_nothing_found_without_downloads_names_the_mirror_variable(dirs):
    cache, _ = dirs
    source = DatasetSource(cache_dir=str(cache), allow_download=False)
    with pytest.raises(DataError) as info:
        source.fetch(IRIS)
    message = str(info.value)
    assert message.startswith(IRIS.filename)
    assert settings.MIRROR_ENV in message and "none configured" in message
    assert "downloads are disabled" in message


def test_empty_mirror_folder_without_downloads(dirs, tmp_path):
    cache, _ = dirs
    empty = tmp_path / "empty_mirror"
    empty.mkdir()
    with pytest.raises(DataError, match=settings.MIRROR_ENV) as info:
        DatasetSource(cache_dir=str(cache), mirror_dir=str(empty), allow_download=False).fetch(IRIS)
    assert str(empty) in str(info.value)


def test_default_locations_follow_the_environment(dirs, tmp_path, monkeypatch):
    _, mirror = dirs
    monkeypatch.setenv(settings.DATA_DIR_ENV, str(tmp_path / "root"))
    monkeypatch.setenv(settings.MIRROR_ENV, str(mirror))
    path, _, origin = DatasetSource(allow_download=False).fetch(IRIS)
    assert origin == "mirror" and path == tmp_path / "root" / "raw" / IRIS.filename


@pytest.mark.parametrize("name", RAW_FILES)
def test_catalog_hashes_match_the_shared_mirror(name, mirror, tmp_path):
    entry = datasets.get(name)
    source = DatasetSource(cache_dir=str(tmp_path), mirror_dir=str(mirror), allow_download=False)
    path, digest, origin = source.fetch(entry)
    assert origin == "mirror" and digest == entry.sha256
    frame = read_csv_checked(path, entry.columns, entry.read_options)  # and the file fits its schema
    assert set(entry.column_names) <= set(frame.columns)
    assert len(frame) > 0


# ---------------------------------------------------------------- downloads


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def http_dir(tmp_path, monkeypatch):
    """A folder served over HTTP on 127.0.0.1; yields (folder, base url)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    served = tmp_path / "served"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_download_success(dirs, http_dir, mirror):
    cache, _ = dirs
    served, base = http_dir
    shutil.copyfile(mirror / IRIS.filename, served / "iris-pinned.csv")
    entry = dataclasses.replace(IRIS, url=base + "iris-pinned.csv")
    path, digest, origin = DatasetSource(cache_dir=str(cache), timeout_seconds=10).fetch(entry)
    assert (path, digest, origin) == (cache / IRIS.filename, IRIS.sha256, "download")
    assert path.read_bytes() == (mirror / IRIS.filename).read_bytes()
    assert _files(cache) == [IRIS.filename]
    # downloaded once, then served from the cache
    (served / "iris-pinned.csv").unlink()
    assert DatasetSource(cache_dir=str(cache), timeout_seconds=10).fetch(entry)[2] == "cache"


@pytest.mark.fault
def test_download_hash_mismatch(dirs, http_dir, mirror):
    cache, _ = dirs
    served, base = http_dir
    (served / "iris.csv").write_bytes((mirror / IRIS.filename).read_bytes() + b"6.0,3.0,4.8,1.8,virginica\n")
    entry = dataclasses.replace(IRIS, url=base + "iris.csv")
    with pytest.raises(DataError) as info:
        DatasetSource(cache_dir=str(cache), timeout_seconds=10).fetch(entry)
    message = str(info.value)
    assert entry.url in message
    assert f"sha256 mismatch for {IRIS.filename}: expected {IRIS.sha256}" in message
    assert "fix:" in message
    assert _files(cache) == []  # neither the bad file nor a temp file is left


def test_download_http_error(dirs, http_dir):
    cache, _ = dirs
    _, base = http_dir
    entry = dataclasses.replace(IRIS, url=base + "missing.csv")
    with pytest.raises(DataError, match="download from .*missing.csv failed") as info:
        DatasetSource(cache_dir=str(cache), timeout_seconds=10).fetch(entry)
    assert "404" in str(info.value)
    assert _files(cache) == []


def test_unreachable_url(dirs):
    cache, _ = dirs
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    entry = dataclasses.replace(IRIS, url=f"http://127.0.0.1:{port}/iris.csv")
    with pytest.raises(DataError) as info:
        DatasetSource(cache_dir=str(cache), timeout_seconds=5).fetch(entry)
    message = str(info.value)
    assert message.startswith(IRIS.filename)
    assert f"download from {entry.url} failed" in message
    assert settings.MIRROR_ENV in message and IRIS.sha256 in message  # the fix says how to get it offline
    assert _files(cache) == []


def _parse(path):
    from ztdl_pipeline.core.schema import read_csv_checked

    return read_csv_checked(path, IRIS.columns, IRIS.read_options)


@pytest.mark.fault
def test_an_unpinned_invalid_file_never_enters_the_cache(dirs):
    cache, mirror = dirs
    unpinned = dataclasses.replace(IRIS, sha256=None, alt_sha256=())  # e.g. a user's own file: no hash vouches
    bad = mirror / IRIS.filename
    bad.write_text(bad.read_text().replace("5.1,3.5", "inf,3.5", 1))
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False)
    with pytest.raises(DataError) as info:
        source.fetch(unpinned, validate=_parse)
    assert str(bad) in str(info.value) and "not a finite number" in str(info.value)
    assert not cache.exists() or _files(cache) == []  # nothing was cached


@pytest.mark.fault
def test_an_invalid_unpinned_copy_in_the_cache_is_removed_not_reused(dirs):
    cache, mirror = dirs
    unpinned = dataclasses.replace(IRIS, sha256=None, alt_sha256=())
    cache.mkdir()
    (cache / IRIS.filename).write_text("sepal_length,sepal_width\n1,2\n")  # parses, but not iris's columns
    no_mirror = DatasetSource(cache_dir=str(cache), mirror_dir=str(cache / "none"), allow_download=False)
    with pytest.raises(DataError, match="missing column"):
        no_mirror.fetch(unpinned, validate=_parse)
    assert _files(cache) == []
    (cache / IRIS.filename).write_text("sepal_length,sepal_width\n1,2\n")
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False)
    path, _, origin = source.fetch(unpinned, validate=_parse)  # a mirror copy that differs wins over the cache
    assert origin == "mirror" and len(_parse(path)) == 150 and path == cache / IRIS.filename
