"""The code location: the autoloaded defs folder (ztdl_pipeline/defs/: one folder per domain), the observed
sources its raw assets read, jobs, schedules, sensors, automation, resources and the executor.

Importing this module must not import TensorFlow (bench/import_time.py measures it).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

from ztdl_pipeline import automation, console, executors, recovery, settings, ui
from ztdl_pipeline.alerts import failure_alerts
from ztdl_pipeline.assets.sources import observation_sensor, source_asset, source_names
from ztdl_pipeline.core import requirements
from ztdl_pipeline.jobs import group_jobs, retrain_job
from ztdl_pipeline.resources import (
    DatasetSource,
    ExperimentTracking,
    JsonIOManager,
    KerasModelIOManager,
    ParquetIOManager,
    PretrainedModels,
    Storage,
    TensorFlowCompute,
)
from ztdl_pipeline.resources.tuning import TuningStorage
from ztdl_pipeline.schedules import weekly_retrain


def resources() -> dict:
    """Default resources; every path follows $ZTDL_DATA_DIR, $ZTDL_PROFILE and $ZTDL_DATA_MIRROR at run time.

    One Storage instance is shared by the IO managers and the assets, so the profile set for a run
    (`resources.storage.config.profile`) moves every output of that run to the profile's storage root."""
    storage = Storage.configure_at_launch()  # one instance, so run config reaches the IO managers too
    return {
        "storage": storage,
        "data_source": DatasetSource(),
        "compute": TensorFlowCompute(),
        "pretrained": PretrainedModels(),  # Xception weights (transfer group): local path, cache or download
        "tracking": ExperimentTracking(storage=storage),  # TensorBoard logs and MLflow runs of every training
        "parquet_io": ParquetIOManager(storage=storage),
        "keras_io": KerasModelIOManager(storage=storage),
        "report_io": JsonIOManager(storage=storage, file_name="metrics"),
        "export_record_io": JsonIOManager(storage=storage, file_name="export"),
        "tuning_storage": TuningStorage(),  # Optuna studies of the tuned chains (resources/tuning.py)
    }


def defs_folder() -> dg.Definitions:
    """Everything under ztdl_pipeline/defs/. In a checkout, the dg way (pyproject.toml's [tool.dg] names the
    project); installed from a wheel there is no pyproject.toml beside the package, so load the folder directly."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file():
        return dg.load_from_defs_folder(path_within_project=root)
    import ztdl_pipeline.defs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return dg.load_defs(defs_root=ztdl_pipeline.defs, project_root=root)


def location() -> dg.Definitions:
    """Everything the code location holds. The executor is $ZTDL_EXECUTOR's (executors.py); by default in-process:
    every step of a run shares one Python process, so TensorFlow is imported and configured once per run instead
    of once per step (docs/configuration.md: "Runs use the in-process executor"). Automation conditions and freshness policies are set in one place
    (ztdl_pipeline/automation.py); every observed source a raw asset reads gets its source asset and the sensor."""
    level = settings.log_level()
    console.setup(level)  # before anything warns or imports TensorFlow: silence the known harmless notices
    # every model, report and export needs TensorFlow: a missing or doubled build fails here, with its install
    # command, instead of deep inside the first training step (cheap: TensorFlow itself is not imported)
    requirements.check_tensorflow_installed("the code location ztdl_pipeline")
    folder = defs_folder()
    sources = source_names(folder.assets or [])  # {dataset: group}
    interval_s = settings.sensor_interval_s()
    # ui.present: every asset's owner and code references (card, builder, family, definition)
    return ui.present(dg.Definitions.merge(
        automation.apply(folder, settings.resolve_profile()),
        dg.Definitions(
            assets=[source_asset(name, group) for name, group in sorted(sources.items())],
            jobs=[*group_jobs, retrain_job],
            schedules=[weekly_retrain],
            # failure_alerts (ztdl_pipeline/alerts.py): failed runs -> log, alerts.jsonl, webhook; sweep_dead_runs
            # (recovery.py): a killed run's pool slot is freed while the daemon runs
            sensors=[observation_sensor(sources, interval_s), automation.automation_sensor(interval_s), failure_alerts,
                     recovery.sweep_sensor(interval_s)],
            resources=resources(),
            loggers={"console": console.console_logger(level)},  # INFO unless $ZTDL_LOG_LEVEL says otherwise
            executor=executors.executor(),
        ),
    ))


defs = location()
# every asset (observable sources apart) and check of the location, for tools and tests
ALL_ASSETS = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and not a.is_observable]
ALL_CHECKS = list(defs.asset_checks or [])
