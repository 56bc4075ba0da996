"""ExperimentTracking: where trainings leave their record for comparing one with another.

- TensorBoard, always: every model training writes its per-epoch metrics under
  `<profile root>/tensorboard/<example>/<model version>/<run>/` (`make tensorboard` serves that folder).
- MLflow, when asked for with `$ZTDL_MLFLOW_URI` (or the resource's `mlflow_uri`): `local` is a local SQLite
  store in `<profile root>/mlflow/store/` (`make mlflow` serves it), anything else an MLflow tracking URI (a
  server, a database); unset or `off`, MLflow is off. One MLflow run per training (parameters, per-epoch metrics,
  then the exported SavedModel and its registry version), linked both ways with the export registry. Opt-in,
  because every run would otherwise pay for importing MLflow and concurrent runs would share one SQLite file;
  the `mlflow` extra installs it, and asking for it without the extra fails at once with the install command.
With an object-store root both stay on this machine, under the local twin of the root (Storage.local_folder).

A tracking failure (a locked database, a full disk) is logged as a warning and never fails a training or an
export: the model, its report and its export stand without it.
"""

from contextlib import nullcontext
from pathlib import Path

import dagster as dg

from ztdl_pipeline import settings
from ztdl_pipeline.resources.storage import Storage

_OFF = ("", "off", "none", "false", "0")
LOCAL = "local"  # ZTDL_MLFLOW_URI=local: the local store under the profile's root


class ExperimentTracking(dg.ConfigurableResource):
    storage: Storage  # no `from __future__ import annotations` here: it would hide this type from Dagster
    mlflow_uri: str | None = None  # unset: $ZTDL_MLFLOW_URI; `local`, an MLflow tracking URI, or off (unset: off)

    def tensorboard_folder(self, name: str, model_version: str, run_id: str) -> Path:
        """One folder per model version and run: two trainings of one example sit side by side. Always on this
        machine (TensorFlow writes event files by path): under the local twin of an object-store root."""
        return self.storage.local_folder("tensorboard", name) / model_version[:12] / run_id[:8]

    def tensorboard_root(self) -> Path:
        """What `make tensorboard` serves: every example's folder."""
        return self.storage.local_folder("tensorboard", "-").parent

    def tracking_uri(self) -> str | None:
        """The MLflow tracking URI of this run, or None when MLflow is off; asked for but not installed, it
        fails with the install command (core/requirements)."""
        asked = (self.mlflow_uri or settings.mlflow_uri() or "").strip()
        if asked.lower() in _OFF:
            return None
        from ztdl_pipeline.core.requirements import require

        require("mlflow", "mlflow", f"experiment tracking ({settings.MLFLOW_ENV}={asked})")
        if asked.lower() != LOCAL:
            return asked
        from ztdl_pipeline.core.experiments import local_store

        return local_store(self.storage.local_folder("mlflow", "store"))

    def record_training(self, log, experiment: str, *, run_name: str, params: dict, history: dict,
                        tags: dict[str, str]) -> str | None:
        """The MLflow run id of this training's record (None: MLflow off, or it failed and said why)."""
        uri = self.tracking_uri()
        if uri is None:
            return None
        from ztdl_pipeline.core.experiments import record_training

        try:
            run_id = record_training(uri, experiment, run_name=run_name, params=params, history=history, tags=tags)
        except Exception as exc:  # tracking is a record beside the model, never a reason to lose it
            log.warning(f"MLflow: could not record the training of {experiment} in {uri} ({exc})")
            return None
        log.info(f"MLflow: {experiment} recorded as run {run_id} in {uri}")
        return run_id

    def link_export(self, log, run_id: str | None, version: int, path, *, upload: bool = True) -> None:
        """Tag the training's MLflow run with the export's registry version and path (and, with `upload`, log
        the SavedModel as its artifacts; from an object store, through a temporary local copy)."""
        uri = self.tracking_uri() if run_id else None
        if uri is None or run_id is None:
            return
        from ztdl_pipeline.core.experiments import link_export
        from ztdl_pipeline.core.stores import local_view

        try:
            with local_view(path) if upload else nullcontext(None) as local:
                link_export(uri, run_id, version, str(path), local)
        except Exception as exc:
            log.warning(f"MLflow: could not link run {run_id} to export version {version} ({exc})")

