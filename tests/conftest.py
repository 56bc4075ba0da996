"""Shared fixtures. Tests run offline on the CPU with the fast profile, against the real data mirror
(ZTDL_DATA_MIRROR, default ../shared/data) and a temporary storage root per test or session."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from ztdl_pipeline.core.names import split_key, user_key

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


def gate_refusals(result) -> dict[str, list[str]]:
    """{example: reasons} of the export gates that failed in a run."""
    return {split_key(e.asset_key.path)[1]: json.loads(e.metadata["reasons"].value)
            for e in result.get_asset_check_evaluations() if e.check_name == "export_gate" and not e.passed}


def assert_only_baseline_refusals(result, allowed) -> dict[str, list[str]]:
    """Every failed check of a fast run is an export gate of an example in `allowed` that refused a model no
    better than its trivial baseline (a few fast epochs rarely beat the naive forecast); return them."""
    refused = gate_refusals(result)
    failed = {(e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations()
              if not e.passed}
    assert failed == {(user_key("reports", name), "export_gate") for name in refused}, failed
    assert set(refused) <= set(allowed), set(refused) - set(allowed)
    for name, reasons in refused.items():
        assert any("no better than the baseline" in r for r in reasons), (name, reasons)
    return refused


def savedmodel_of(root: Path, name: str, workdir: Path) -> Path:
    """The published version 1 of an export, or, where the gate refused the fast model, the SavedModel the
    export asset would have written (the same family steps), so tests still exercise what serving takes."""
    published = root / "exports" / name / "1"
    if published.is_dir():
        return published
    import keras

    from ztdl_pipeline.assets.reports import FAMILIES
    from ztdl_pipeline.core import export
    from ztdl_pipeline.core.training import TrainedModel
    from ztdl_pipeline.resources.io import read_parquet

    example, family = FAMILIES[name]
    folder = root / "models" / name
    trained = TrainedModel(model=keras.models.load_model(folder / "model.keras"),
                           history=json.loads((folder / "history.json").read_text()),
                           info=json.loads((folder / "training.json").read_text()))
    data = family.view(example, read_parquet(root / "features" / f"{example.dataset}.parquet"))
    serving, signature = family.serving(example, trained, data)
    path = workdir / name / "1"
    export.write_savedmodel(serving, signature, path)
    return path
