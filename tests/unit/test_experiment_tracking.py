"""Where trainings are recorded (resources/tracking.py, ztdl_pipeline/where.py): TensorBoard always, under the
profile's root; MLflow only when ZTDL_MLFLOW_URI asks for it, and asking without the extra fails with the command
that installs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ztdl_pipeline.core.requirements import MissingDependency
from ztdl_pipeline.resources import ExperimentTracking, Storage


def _tracking(uri: str | None = None) -> ExperimentTracking:
    return ExperimentTracking(storage=Storage(), mlflow_uri=uri)


def test_mlflow_is_off_unless_asked_for(data_env, monkeypatch):
    monkeypatch.delenv("ZTDL_MLFLOW_URI", raising=False)
    assert _tracking().tracking_uri() is None and _tracking("off").tracking_uri() is None
    assert _tracking("local").tracking_uri() == f"sqlite:///{data_env / 'mlflow' / 'store' / 'mlflow.db'}"
    assert _tracking("http://127.0.0.1:5000").tracking_uri() == "http://127.0.0.1:5000"
    monkeypatch.setenv("ZTDL_MLFLOW_URI", "local")
    assert _tracking().tracking_uri().endswith("/fast/mlflow/store/mlflow.db")  # the fast profile's own store


def test_asking_for_mlflow_without_the_extra_fails_with_the_install_command(data_env, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if it were not installed
    with pytest.raises(MissingDependency, match=r"(?s)ZTDL_MLFLOW_URI=local.*extra 'mlflow'.*make install EXTRAS=mlflow"):
        _tracking("local").tracking_uri()


def test_where_prints_the_folders_make_tensorboard_and_make_mlflow_open(data_env, monkeypatch):
    monkeypatch.delenv("ZTDL_MLFLOW_URI", raising=False)

    def where(what: str) -> str:
        return subprocess.run([sys.executable, "-m", "ztdl_pipeline.where", what], capture_output=True, text=True,
                              check=True, timeout=120).stdout.strip()

    assert where("tensorboard") == str(data_env / "tensorboard")
    assert where("mlflow") == f"sqlite:///{data_env / 'mlflow' / 'store' / 'mlflow.db'}"
    assert (data_env / "mlflow" / "store").is_dir()  # so `mlflow ui` opens before the first tracked training
