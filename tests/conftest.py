"""Shared fixtures. Tests run offline on the CPU with the fast profile, against the real data mirror
(ZTDL_DATA_MIRROR, default ../shared/data) and a temporary storage root per test or session."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _mirror() -> Path:
    path = Path(os.environ.get("ZTDL_DATA_MIRROR") or REPO.parent / "shared" / "data").resolve()
    if not (path / "weight-height.csv").exists():
        raise RuntimeError(f"data mirror not found at {path}: set ZTDL_DATA_MIRROR to a folder with the "
                           "book's data files (CI uses ../shared/data)")
    return path


@pytest.fixture(scope="session")
def mirror() -> Path:
    return _mirror()


@pytest.fixture
def data_env(tmp_path, monkeypatch, mirror) -> Path:
    """A fresh storage root for one test, the mirror as data source, fast profile."""
    root = tmp_path / "data"
    monkeypatch.setenv("ZTDL_DATA_DIR", str(root))
    monkeypatch.setenv("ZTDL_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ZTDL_PROFILE", "fast")
    return root / "fast"  # the fast profile's storage root; download caches stay in root/raw


@contextlib.contextmanager
def group_run(root: Path, mirror: Path, profile: str, *groups: str):
    """Materialize whole groups in-process with a storage root, the mirror and a profile; yield the result.

    The environment stays set while the caller's fixture is alive, so tests can read what was written.
    """
    import dagster as dg

    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", profile)
        instance = dg.DagsterInstance.ephemeral()
        yield dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                             selection=dg.AssetSelection.groups(*groups), raise_on_error=False)


@pytest.fixture(scope="session")
def tabular_run(tmp_path_factory, mirror):
    """The whole tabular group materialized once (fast profile) in-process: (result, data root)."""
    root = tmp_path_factory.mktemp("tabular") / "data"
    with group_run(root, mirror, "fast", "tabular") as result:
        yield result, root / "fast"


def write_keras_weights_file(path: Path, seed: int, size: int = 71):
    """An Xception (no top) weights file in the layout of Keras' published .h5 files (legacy HDF5 weights),
    with seeded random values: it stands in for the ImageNet file, which cannot be downloaded here.
    Returns the Keras model the weights came from."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(seed)
    source = keras.applications.Xception(include_top=False, weights=None, input_shape=(size, size, 3),
                                         pooling="avg")
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, source)
    return source


def report_metrics(root: Path, name: str, layer: str = "reports") -> dict:
    """The metrics.json an asset wrote under the storage root (reports/<name>/ by default)."""
    return json.loads((root / layer / name / "metrics.json").read_text())


def assert_every_gate_passed_and_exported(result, root: Path, names) -> None:
    failed = [(e.asset_key.to_user_string(), e.check_name, e.metadata.get("reasons"))
              for e in result.get_asset_check_evaluations() if not e.passed]
    assert not failed
    assert result.success
    for name in names:
        assert (root / "exports" / name / "1" / "saved_model.pb").exists(), name
