"""MLflow records of trainings, through MLflow's own client (the `mlflow` extra): one MLflow run per model
materialization, in an experiment named after the example, holding its hyper-parameters as parameters, every
epoch's metrics (step = epoch) and tags saying which model version, Dagster run, profile and commit it was;
once the model is exported, the SavedModel folder as the run's artifacts and the registry version as tags.

The default store is local: an SQLite file with its artifacts beside it (MLflow 3 keeps its plain-folder
file store in maintenance mode and refuses it unless MLFLOW_ALLOW_FILE_STORE is set).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EXPORT_VERSION_TAG = "ztdl.export_version"
EXPORT_PATH_TAG = "ztdl.export_path"
MODEL_VERSION_TAG = "ztdl.model_version"
ARTIFACT_FOLDER = "savedmodel"
_BATCH = {"params": 100, "metrics": 1000}  # MLflow's limits for one log_batch call
_PARAM_CHARS = 6000


def local_store(folder: Path) -> str:
    """The tracking URI of the local store in `folder` (an SQLite file; artifacts under folder/artifacts)."""
    return f"sqlite:///{Path(folder).resolve() / 'mlflow.db'}"


def artifact_root(uri: str) -> str | None:
    """Where a local SQLite store keeps its artifacts (beside the database); None: the server decides."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri()
    return None


@contextmanager
def _quiet() -> Iterator[None]:
    # MLflow's SQLAlchemy store trips SQLAlchemy's own deprecation warnings; they say nothing about our runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def client(uri: str):
    from mlflow import MlflowClient

    with _quiet():
        return MlflowClient(tracking_uri=uri)


def experiment_id(tracking, name: str, artifacts: str | None) -> str:
    """The experiment called `name`, made on first use (a concurrent maker may win the race: read it then)."""
    from mlflow.exceptions import MlflowException

    found = tracking.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return tracking.create_experiment(name, artifact_location=artifacts)
    except MlflowException:
        found = tracking.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def flat_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as MLflow parameters: dotted names, string values within MLflow's length limit."""
    flat: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, Mapping):
            flat.update(flat_params(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = str(value)[:_PARAM_CHARS]
    return flat


def record_training(uri: str, experiment: str, *, run_name: str, params: Mapping[str, Any],
                    history: Mapping[str, Sequence[float]], tags: Mapping[str, str]) -> str:
    """A finished MLflow run with `params`, every epoch's metrics of `history` (step 1 is the first epoch) and
    `tags`; returns its run id."""
    from mlflow.entities import Metric, Param

    if uri.startswith("sqlite:///"):  # a local store is made on first use, its folder first
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with _quiet():
        tracking = client(uri)
        run = tracking.create_run(experiment_id(tracking, experiment, artifact_root(uri)), run_name=run_name,
                                  tags=dict(tags))
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        for batch in _chunks([Param(k, v) for k, v in flat_params(params).items()], _BATCH["params"]):
            tracking.log_batch(run_id, params=list(batch))
        metrics = [Metric(name, float(value), now, step) for name, values in history.items()
                   for step, value in enumerate(values, start=1)]
        for batch in _chunks(metrics, _BATCH["metrics"]):
            tracking.log_batch(run_id, metrics=list(batch))
        tracking.set_terminated(run_id)
    return run_id


def link_export(uri: str, run_id: str, version: int, path: str, local: Path | None) -> None:
    """Tag the training's run with the export registry version and its published `path`; with a `local` copy of
    the SavedModel folder, also log it as the run's artifacts (under savedmodel/)."""
    with _quiet():
        tracking = client(uri)
        if local is not None:
            tracking.log_artifacts(run_id, str(local), artifact_path=ARTIFACT_FOLDER)
        tracking.set_tag(run_id, EXPORT_VERSION_TAG, str(version))
        tracking.set_tag(run_id, EXPORT_PATH_TAG, path)
