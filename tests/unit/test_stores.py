"""The storage root setting (core/stores.py, settings.py): a folder stays exactly the plain resolved Path it always
was, with caches beside it; an object-store URL is a UPath with its caches on this machine; anything else is
refused naming the setting. The object-store behaviour itself is tested against a real server in
tests/e2e/test_object_store.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztdl_pipeline import settings
from ztdl_pipeline.core import atomic, stores


def test_a_folder_root_is_the_plain_resolved_path_it_always_was(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(settings.DATA_DIR_ENV, "store")
    root = settings.data_dir()
    assert type(root) is type(Path()) and root == (tmp_path / "store").resolve()
    assert settings.local_dir() == root  # download caches and checkpoints stay under the root, as before
    assert settings.profile_root("fast") == root / "fast"
    assert not stores.is_remote(root) and not stores.is_remote(str(root))


def test_an_s3_root_is_a_upath_with_this_machines_caches_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.DATA_DIR_ENV, "s3://a-bucket/team/")
    monkeypatch.setenv(settings.LOCAL_DIR_ENV, str(tmp_path / "cache"))
    root = settings.data_dir()
    assert stores.is_remote(root) and str(root) == "s3://a-bucket/team"
    assert str(settings.profile_root("fast") / "exports") == "s3://a-bucket/team/fast/exports"
    assert settings.local_dir() == tmp_path / "cache"
    assert stores.is_remote("s3://a-bucket/x") and str(stores.as_path("s3://a-bucket/x/1")) == "s3://a-bucket/x/1"


@pytest.mark.fault
def test_an_unsupported_root_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv(settings.DATA_DIR_ENV, "gs://a-bucket/team")
    with pytest.raises(ValueError, match=r"ZTDL_DATA_DIR: gs://a-bucket/team: unsupported storage root.*s3://"):
        settings.data_dir()


def test_local_writes_take_the_local_path(tmp_path):
    target = atomic.write_json(tmp_path / "a" / "b.json", {"x": 1})
    assert target.read_text() == '{\n  "x": 1\n}\n' and [p.name for p in target.parent.iterdir()] == ["b.json"]
    with stores.local_view(str(tmp_path / "a")) as folder:
        assert folder == tmp_path / "a"  # a local folder is used in place, nothing copied
