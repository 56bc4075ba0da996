"""DatasetSource for the vision data: files with several accepted hashes, and folders pinned by a per-file
manifest (from a mirror, file by file from a URL, or unpacked from a verified archive)."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from ztdl_pipeline import settings
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.schema import sha256_file
from ztdl_pipeline.defs.vision.sources import SourceConfig, source_of
from ztdl_pipeline.resources.data_source import DatasetSource

MNIST = datasets.get("mnist")
CIFAR = datasets.get("cifar10")
FACES = datasets.get("male_female")
SQUIRREL = datasets.get("generator")
MIRROR_MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.delenv(settings.MIRROR_ENV, raising=False)
    return tmp_path / "cache"


def test_mnist_accepts_the_mirror_repack_and_keras_file(cache, mirror):
    assert set(MNIST.accepted_sha256) == {MIRROR_MNIST_SHA256, KERAS_MNIST_SHA256}
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False)
    path, digest, origin = source.fetch(MNIST)
    assert (digest, origin) == (MIRROR_MNIST_SHA256, "mirror")  # the data version is the bytes' own hash
    assert path == cache / "keras_datasets" / "mnist.npz" and sha256_file(path) == digest
    assert source.fetch(MNIST)[1:] == (MIRROR_MNIST_SHA256, "cache")


def test_a_third_mnist_is_refused_listing_both_hashes(cache, tmp_path):
    fake_mirror = tmp_path / "mirror"
    (fake_mirror / "keras_datasets").mkdir(parents=True)
    np.savez(fake_mirror / "keras_datasets" / "mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(DataError) as info:
        DatasetSource(cache_dir=str(cache), mirror_dir=str(fake_mirror), allow_download=False).fetch(MNIST)
    message = str(info.value)
    assert f"expected one of {KERAS_MNIST_SHA256}, {MIRROR_MNIST_SHA256}" in message
    assert str(fake_mirror / "keras_datasets" / "mnist.npz") in message and "fix:" in message


def test_cifar_offline_is_a_clear_data_error(cache, mirror):
    with pytest.raises(DataError) as info:  # the mirror has no CIFAR-10 and downloads are off
        DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False).fetch(CIFAR)
    assert str(info.value).startswith("keras_datasets/cifar-10-python.tar.gz: not in the cache")
    assert settings.MIRROR_ENV in str(info.value)
    unreachable = dataclasses.replace(CIFAR, url="http://127.0.0.1:9/cifar-10-python.tar.gz")
    with pytest.raises(DataError, match="download from http://127.0.0.1:9/cifar-10-python.tar.gz failed") as info:
        DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), timeout_seconds=5).fetch(unreachable)
    assert CIFAR.sha256 in str(info.value)  # the fix names the file's hash for an offline copy


def test_source_config_points_at_another_copy_only_with_its_hash():
    assert source_of(SourceConfig(), CIFAR) is CIFAR
    copy = source_of(SourceConfig(url="file:///tmp/c.tar.gz", sha256="ab" * 32), CIFAR)
    assert (copy.url, copy.accepted_sha256, copy.filename) == ("file:///tmp/c.tar.gz", ("ab" * 32,), CIFAR.filename)
    archive = source_of(SourceConfig(sha256="cd" * 32), FACES)
    assert (archive.archive_url, archive.archive_sha256) == (FACES.archive_url, "cd" * 32)
    with pytest.raises(ValueError, match="no sha256"):
        source_of(SourceConfig(url="file:///tmp/c.tar.gz"), CIFAR)


# ---------------------------------------------------------------- folders


def test_folder_from_mirror_is_verified_copied_and_cached(cache, mirror, caplog):
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(mirror), allow_download=False)
    path, digest, origin, files = source.fetch_folder(FACES)
    assert (path, digest, origin) == (cache / "male_female", FACES.sha256, "mirror")
    assert len(files) == 900 and files == FACES.files()
    copied = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    assert copied == sorted(files)
    assert source.fetch_folder(FACES)[2] == "cache"
    # a file changed in the cache is noticed and the folder fetched again
    victim = path / next(iter(files))
    victim.write_bytes(b"tampered")
    with caplog.at_level(logging.WARNING, logger="ztdl-test"):
        again = source.fetch_folder(FACES, log=logging.getLogger("ztdl-test"))
    assert again[2] == "mirror" and sha256_file(victim) == files[next(iter(files))]
    assert any("changed or missing" in r.getMessage() for r in caplog.records)


@pytest.fixture
def squirrel_mirror(tmp_path, mirror):
    """A mirror holding a copy of the generator/ folder (one picture), to be damaged by a test."""
    own = tmp_path / "own_mirror"
    shutil.copytree(mirror / SQUIRREL.folder, own / SQUIRREL.folder)
    return own


def test_bad_or_missing_file_in_a_mirror_folder_names_it(cache, squirrel_mirror):
    picture = squirrel_mirror / "generator" / "class_0" / "squirrel.jpeg"
    picture.write_bytes(picture.read_bytes()[:-10])
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(squirrel_mirror), allow_download=False)
    with pytest.raises(DataError) as info:
        source.fetch_folder(SQUIRREL)
    message = str(info.value)
    assert str(picture) in message and "sha256 mismatch for generator/class_0/squirrel.jpeg" in message
    assert f"got {sha256_file(picture)}" in message and "manifests/generator.sha256" in message
    picture.unlink()
    with pytest.raises(DataError, match="missing: the catalog's manifest for generator/ lists 1 files"):
        source.fetch_folder(SQUIRREL)
    assert not (cache / "generator").exists()  # nothing half-copied into the cache


def test_folder_file_by_file_from_base_url(cache, mirror):
    entry = dataclasses.replace(SQUIRREL, base_url=(mirror / "generator").as_uri() + "/")
    path, digest, origin, files = DatasetSource(cache_dir=str(cache)).fetch_folder(entry)
    assert (digest, origin) == (SQUIRREL.sha256, "download")
    assert sha256_file(path / "class_0" / "squirrel.jpeg") == files["class_0/squirrel.jpeg"]


def _archive(tmp_path: Path, mirror: Path, top: str | None) -> Path:
    """A .tgz with 3 of the mirror's pictures in train|test/<class>/, under `top`/ or at the archive's root."""
    archive = tmp_path / "male_female.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for relative in sorted(FACES.files())[::300]:
            tar.add(mirror / "male_female" / relative, arcname=f"{top}/{relative}" if top else relative)
    return archive


@pytest.mark.parametrize("top", ["male_female", None])
def test_folder_from_a_verified_archive(cache, tmp_path, mirror, top):
    archive = _archive(tmp_path, mirror, top)
    entry = dataclasses.replace(FACES, archive_url=archive.as_uri(), archive_sha256=sha256_file(archive))
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(tmp_path / "no_mirror"))
    path, digest, origin, files = source.fetch_folder(entry)
    assert (digest, origin) == (sha256_file(archive), "download")  # data version: the archive's hash
    assert len(files) == 3 and all(r.startswith(("train/", "test/")) for r in files)
    assert all(FACES.files()[r] == h for r, h in files.items())
    assert source.fetch_folder(entry)[2] == "cache"
    assert not list(cache.glob(".male_female*"))  # no unpack or staging folder left behind


def test_archive_without_pinned_hash_or_with_a_wrong_one_is_refused(cache, tmp_path, mirror):
    archive = _archive(tmp_path, mirror, "male_female")
    source = DatasetSource(cache_dir=str(cache), mirror_dir=str(tmp_path / "no_mirror"))
    with pytest.raises(DataError, match="pins no sha256 for this archive") as info:
        source.fetch_folder(dataclasses.replace(FACES, archive_url=archive.as_uri()))
    assert "raw/male_female_raw" in str(info.value) and settings.MIRROR_ENV in str(info.value)
    with pytest.raises(DataError, match="sha256 mismatch for male_female.tgz"):
        source.fetch_folder(dataclasses.replace(FACES, archive_url=archive.as_uri(), archive_sha256="0" * 64))
    assert not (cache / "male_female").exists()


def test_manifest_is_pinned_by_the_catalog():
    with pytest.raises(ValueError, match="does not match the catalog"):
        dataclasses.replace(FACES, sha256="0" * 64).files()


def test_digits_come_from_scikit_learns_own_copy_offline(cache):
    digits = datasets.get("digits")
    path, digest, origin = DatasetSource(cache_dir=str(cache), allow_download=False).fetch(digits)
    assert (digest, origin) == (digits.sha256, "file") and path == cache / "sklearn" / "digits.csv.gz"


# ---------------------------------------------------------------- run config: book values, fast overrides


def test_vision_configs_take_the_fast_overrides_but_never_over_explicit_values():
    from ztdl_pipeline.assets.config import resolve_training, training_config, values_config
    from ztdl_pipeline.assets.families.vision import VISION
    from ztdl_pipeline.catalog import card
    from ztdl_pipeline.catalog.vision import EXPERIMENTS, IMAGE_FEATURES
    from ztdl_pipeline.core.image_specs import VisionHyper
    from ztdl_pipeline.core.profile import resolve_config

    male_female = card("male_female_cnn")
    config_cls = training_config(male_female)
    (book, _), (fast, _) = (resolve_training(config_cls(), male_female, p, VISION.hyper_type) for p in ("book", "fast"))
    assert isinstance(book, VisionHyper) and isinstance(fast, VisionHyper)
    assert (book.epochs, book.steps_per_epoch, book.batch_size, book.profile) == (3, 600, 32, "book")
    assert (fast.epochs, fast.steps_per_epoch, fast.batch_size, fast.profile) == (2, 4, 32, "fast")
    explicit, settings = resolve_training(config_cls(epochs=7), male_female, "fast", VISION.hyper_type)
    assert (explicit.epochs, explicit.steps_per_epoch) == (7, 4)
    assert settings.adjustments == {"steps_per_epoch": {"card": 600, "used": 4, "by": "fast profile"}}
    faces = next(spec for spec in IMAGE_FEATURES if spec.dataset == "male_female")
    FolderFeaturesConfig = values_config("faces", dict(faces.settings))
    features = resolve_config(FolderFeaturesConfig(test_images=7), "fast", faces.fast)
    assert (features.values["train_images"], features.values["test_images"]) == (240, 7)
    assert resolve_config(FolderFeaturesConfig(), "book", faces.fast).values["train_images"] == 0
    spec = next(e for e in EXPERIMENTS if e.name == "digits_improvements")
    improvements = resolve_config(values_config("x", dict(spec.settings))(), "fast", spec.fast).values
    assert (improvements["epochs"], improvements["batch_norm_epochs"], improvements["images"]) == (2, 2, 400)
