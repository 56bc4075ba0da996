"""Bad input through Dagster, in-process: a corrupt raw file fails the run with a message that names the
file and the problem, and never replaces the parquet a good run wrote before."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import dagster as dg
import pytest

from ztdl_pipeline.assets.features import features_asset
from ztdl_pipeline.assets.raw import raw_file_asset
from ztdl_pipeline.catalog import datasets, tabular
from ztdl_pipeline.core.schema import sha256_file
from ztdl_pipeline.definitions import resources
from ztdl_pipeline.resources.io import read_parquet

IRIS = datasets.get("iris")
RAW_KEY, FEATURES_KEY = dg.AssetKey(["raw", "iris_raw"]), dg.AssetKey(["features", "iris_features"])
FEATURES = features_asset(next(spec for spec in tabular.FEATURES if spec.dataset == "iris"), "tabular")


@pytest.fixture
def bad_mirror(data_env, tmp_path, mirror, monkeypatch) -> Path:
    """A temp mirror with a good copy of iris.csv, used instead of the shared one."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    shutil.copyfile(mirror / IRIS.filename, folder / IRIS.filename)
    monkeypatch.setenv("ZTDL_DATA_MIRROR", str(folder))
    return folder


def _drop_column(text: str) -> str:  # petal_width is the 4th of 5 columns
    return "".join(",".join(v for i, v in enumerate(line.split(",")) if i != 3) for line in text.splitlines(True))


def _non_numeric(text: str) -> str:
    lines = text.splitlines(True)
    fields = lines[7].split(",")  # data row 7
    fields[1] = "3.4cm"
    lines[7] = ",".join(fields)
    return "".join(lines)


# case -> (corruption, message fragments)
CORRUPTIONS = {
    "missing_column": (_drop_column, ["missing column(s) 'petal_width'"]),
    "non_numeric": (_non_numeric, ["column 'sepal_width', data row 7", "'3.4cm' is not a number"]),
    "empty_file": (lambda text: "", ["the file is empty (0 bytes)"]),
}


def _corrupt(folder: Path, case: str) -> Path:
    path = folder / IRIS.filename
    path.write_text(CORRUPTIONS[case][0](path.read_text()))
    return path


def _materialize(entry: datasets.DatasetFile) -> dg.ExecuteInProcessResult:
    raw = raw_file_asset(entry, group="tabular")
    return dg.materialize([raw, FEATURES], resources=resources(), raise_on_error=False,
                          selection=dg.AssetSelection.assets(RAW_KEY, FEATURES_KEY))


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The raw step's failure, with the chain of causes (Dagster wraps the user error)."""
    failures = result.get_step_failure_events()
    assert [event.step_key for event in failures] == ["raw__iris_raw"]
    error, parts = failures[0].step_failure_data.error, []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {event.asset_key for event in result.get_asset_materialization_events()}


def _without_cache_hit(entry_sha: str, data_env: Path) -> None:
    # the run must read the file from the mirror, not an earlier cached copy
    cached = data_env.parent / "raw" / IRIS.filename
    assert not cached.exists() or sha256_file(cached) != entry_sha


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
@pytest.mark.fault
def test_schema_errors_fail_the_run_naming_file_and_problem(case, data_env, bad_mirror):
    bad = _corrupt(bad_mirror, case)
    entry = dataclasses.replace(IRIS, sha256=sha256_file(bad))  # so the schema check is reached
    result = _materialize(entry)

    assert result.success is False
    message = _failure_message(result)
    assert "DataError" in message
    assert str(data_env.parent / "raw" / IRIS.filename) in message  # the file
    for fragment in CORRUPTIONS[case][1]:  # the problem
        assert fragment in message, message
    assert _materialized(result) == set()
    assert not (data_env / "raw" / "iris.parquet").exists()
    assert not (data_env / "features" / "iris.parquet").exists()


@pytest.mark.fault
def test_hash_mismatch_fails_the_run_naming_file_and_hashes(data_env, bad_mirror):
    bad = bad_mirror / IRIS.filename
    bad.write_bytes(bad.read_bytes().replace(b"setosa", b"Setosa", 1))
    result = _materialize(IRIS)  # the catalog entry as it is

    assert result.success is False
    message = _failure_message(result)
    assert str(bad) in message
    assert f"sha256 mismatch for {IRIS.filename}: expected {IRIS.sha256}, got {sha256_file(bad)}" in message
    assert "fix:" in message
    assert _materialized(result) == set()
    assert not (data_env.parent / "raw" / IRIS.filename).exists()  # the bad file was not cached
    assert not (data_env / "raw" / "iris.parquet").exists()


def test_good_file_materializes(data_env, bad_mirror):
    result = _materialize(IRIS)
    assert result.success
    assert _materialized(result) == {RAW_KEY, FEATURES_KEY}
    assert len(read_parquet(data_env / "raw" / "iris.parquet")) == 150


@pytest.mark.parametrize("case", ["non_numeric", "missing_column", "hash_mismatch"])
@pytest.mark.fault
def test_failed_run_leaves_the_earlier_parquet_untouched(case, data_env, bad_mirror):
    good = _materialize(IRIS)
    assert good.success
    raw_parquet = data_env / "raw" / "iris.parquet"
    features_parquet = data_env / "features" / "iris.parquet"
    assert raw_parquet.exists() and features_parquet.exists()
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (raw_parquet, features_parquet)}

    if case == "hash_mismatch":
        bad = bad_mirror / IRIS.filename
        bad.write_bytes(bad.read_bytes().replace(b"virginica", b"virginika", 1))
        # the good cached copy would satisfy the unchanged entry: remove it so the bad mirror file is read
        (data_env.parent / "raw" / IRIS.filename).unlink()
        entry = IRIS
    else:
        bad = _corrupt(bad_mirror, case)
        entry = dataclasses.replace(IRIS, sha256=sha256_file(bad))
    _without_cache_hit(entry.sha256, data_env)

    result = _materialize(entry)
    assert result.success is False
    assert str(bad if case == "hash_mismatch" else data_env.parent / "raw" / IRIS.filename) in _failure_message(result)
    for path, (data, mtime) in before.items():
        assert path.read_bytes() == data, f"{path} changed after a failed run"
        assert path.stat().st_mtime_ns == mtime
    # no temp files: the download cache (shared by the profiles) and the fast profile's raw parquet
    assert sorted(p.name for p in (data_env.parent / "raw").iterdir()) == (
        [IRIS.filename] if case != "hash_mismatch" else [])
    assert sorted(p.name for p in (data_env / "raw").iterdir()) == ["iris.parquet", "iris.parquet.sha256"]
    assert len(read_parquet(raw_parquet)) == 150
