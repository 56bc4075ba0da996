"""Stored artifacts are verified when read: flipped bytes or a truncated file in features/ or models/ fail the
next step with the file, the asset and the fix named, instead of training on damaged values."""

from __future__ import annotations

import dagster as dg
import pytest

from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

MODEL = dg.AssetSelection.assets(["models", "iris_softmax_model"])


def _run(instance, selection) -> dg.ExecuteInProcessResult:
    return dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                          selection=selection, raise_on_error=False)


def _failure(result) -> str:
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    return str(failure.event_specific_data.error)


@pytest.fixture
def stored(data_env):
    instance = dg.DagsterInstance.ephemeral()
    assert _run(instance, MODEL.upstream()).success
    return instance, data_env


def _flip(path, offset: int, count: int = 64) -> None:
    data = bytearray(path.read_bytes())
    data[offset:offset + count] = bytes(b ^ 0xFF for b in data[offset:offset + count])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["flipped_bytes", "truncated"])
@pytest.mark.fault
def test_damaged_features_fail_the_next_step_naming_file_asset_and_fix(stored, damage):
    instance, root = stored
    features = root / "features" / "iris.parquet"
    model = root / "models" / "iris_softmax" / "model.keras"
    before = model.read_bytes()
    if damage == "flipped_bytes":
        _flip(features, len(features.read_bytes()) // 2)
    else:
        features.write_bytes(features.read_bytes()[:-100])
    result = _run(instance, MODEL)
    assert not result.success
    message = _failure(result)
    assert str(features) in message and "features/iris_features" in message and "damaged" in message
    assert "fix: rematerialize the asset features/iris_features" in message
    assert model.read_bytes() == before  # nothing trained on the damaged values, the stored model is intact
    assert _run(instance, dg.AssetSelection.assets(["features", "iris_features"])).success  # the fix it names works
    assert _run(instance, MODEL).success


@pytest.mark.fault
def test_a_damaged_model_file_fails_its_report_naming_it(stored):
    instance, root = stored
    model = root / "models" / "iris_softmax" / "model.keras"
    _flip(model, 200)
    result = _run(instance, dg.AssetSelection.assets(["reports", "iris_softmax_report"]))
    message = _failure(result)
    assert str(model) in message and "models/iris_softmax_model" in message and "rematerialize" in message


def test_parquet_page_checksums_are_written(stored):
    import pyarrow.parquet as pq

    _, root = stored
    assert pq.read_table(root / "features" / "iris.parquet", page_checksum_verification=True).num_rows == 150
    assert (root / "features" / "iris.parquet.sha256").read_text().strip()
