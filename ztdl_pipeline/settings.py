"""Environment-driven settings, read at call time (never cached at import) so tests can change them."""

from __future__ import annotations

import os
from pathlib import Path

from ztdl_pipeline.core.stores import is_remote, root_of  # stdlib only at import: settings stays cheap

DATA_DIR_ENV = "ZTDL_DATA_DIR"
MIRROR_ENV = "ZTDL_DATA_MIRROR"
PROFILE_ENV = "ZTDL_PROFILE"
SENSOR_INTERVAL_ENV = "ZTDL_SENSOR_INTERVAL_S"
SENSOR_INTERVAL_DEFAULT_S = 30
LOCAL_DIR_ENV = "ZTDL_LOCAL_DIR"  # machine-local caches when the storage root is an object store
LOG_LEVEL_ENV = "ZTDL_LOG_LEVEL"
LOG_LEVELS = ("debug", "info", "warning", "error")
MLFLOW_ENV = "ZTDL_MLFLOW_URI"  # an MLflow tracking URI, or off (resources/tracking.py)
SOURCE_ENV_PREFIX = "ZTDL_SOURCE_"  # + the dataset's name in capitals: ZTDL_SOURCE_IRIS=/path/to/iris.csv


def data_dir() -> Path:
    """Storage root for everything the pipeline writes (default ./data): a folder, or an object-store URL
    (s3://bucket/prefix, a upath.UPath; core/stores.py) shared by several machines."""
    try:
        return root_of(os.environ.get(DATA_DIR_ENV) or "data")
    except ValueError as exc:
        raise ValueError(f"{DATA_DIR_ENV}: {exc}") from None


def local_dir() -> Path:
    """This machine's folder for download caches, training checkpoints and served copies: the storage root
    itself when that is a folder (as always); with an object-store root, $ZTDL_LOCAL_DIR (default
    ~/.cache/ztdl-pipeline)."""
    root = data_dir()
    return machine_cache_dir() if is_remote(root) else root


def machine_cache_dir() -> Path:
    """$ZTDL_LOCAL_DIR, default ~/.cache/ztdl-pipeline: where this machine keeps copies of an object store."""
    return Path(os.environ.get(LOCAL_DIR_ENV) or "~/.cache/ztdl-pipeline").expanduser().resolve()


def profile_root(profile: str | None, base: str | Path | None = None) -> Path:
    """Where a profile's outputs live: the storage root itself for `book`, `<root>/<profile>` otherwise.

    One root per profile means that nothing made under the fast profile (a test, a smoke run) can overwrite a
    book-profile model, report or export, or be served from `<root>/exports`. Download caches stay shared.
    """
    from ztdl_pipeline.core.profile import rules

    root = root_of(base) if base else data_dir()
    subfolder = rules(resolve_profile(profile)).storage_subfolder
    return root / subfolder if subfolder else root


def mirror_dir() -> Path | None:
    """Local mirror of the book's data/ folder, if one is configured."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser().resolve() if value else None


def mlflow_uri() -> str | None:
    """The MLflow tracking store asked for ($ZTDL_MLFLOW_URI; `off` turns MLflow off), if any."""
    return os.environ.get(MLFLOW_ENV) or None


def source_env(dataset: str) -> str:
    """The variable that points dataset `dataset` at a user's own file: ZTDL_SOURCE_<NAME>."""
    return SOURCE_ENV_PREFIX + "".join(c if c.isalnum() else "_" for c in dataset).upper()


def configured_source(dataset: str) -> Path | None:
    """The user's own file for `dataset` ($ZTDL_SOURCE_<NAME>), if one is configured."""
    value = os.environ.get(source_env(dataset))
    return Path(value).expanduser().resolve() if value else None


def resolve_profile(explicit: str | None = None) -> str:
    """The run profile: an explicit (run config) value wins over $ZTDL_PROFILE; default 'book'."""
    from ztdl_pipeline.core.profile import rules

    return rules(explicit or os.environ.get(PROFILE_ENV) or "book").name


def sensor_interval_s() -> int:
    """Seconds between evaluations of the daemon's sensors (source observation, declarative automation):
    $ZTDL_SENSOR_INTERVAL_S, default 30. Shorter reacts sooner to a changed source at the cost of more ticks."""
    value = os.environ.get(SENSOR_INTERVAL_ENV, "").strip()
    if not value:
        return SENSOR_INTERVAL_DEFAULT_S
    if not value.isdigit() or not 1 <= int(value) <= 86_400:
        raise ValueError(f"{SENSOR_INTERVAL_ENV}={value!r}: expected a whole number of seconds from 1 to 86400")
    return int(value)


EXECUTOR_ENV = "ZTDL_EXECUTOR"
EXECUTORS = ("in_process", "multiprocess", "celery", "k8s")  # the first is the default
LOCAL_EXECUTORS = ("in_process", "multiprocess")  # every step of a run on the machine that runs it
CELERY_CONFIG_ENV = "ZTDL_CELERY_CONFIG"  # the Celery settings file shared by the runs and the workers


def executor_name() -> str:
    """The executor every job of the location uses: $ZTDL_EXECUTOR, default in_process (docs/deployment.md)."""
    value = os.environ.get(EXECUTOR_ENV, "").strip() or EXECUTORS[0]
    if value not in EXECUTORS:
        raise ValueError(f"{EXECUTOR_ENV}={value!r} is not an executor of this project; "
                         f"allowed values: {', '.join(EXECUTORS)} (unset means {EXECUTORS[0]})")
    return value


def celery_config_path() -> Path:
    """The Celery settings file ($ZTDL_CELERY_CONFIG, default ztdl_pipeline/instance/celery.yaml): the same file
    configures the executor of a run and `dagster-celery worker start -y`."""
    from ztdl_pipeline.instance import CELERY_SETTINGS

    value = os.environ.get(CELERY_CONFIG_ENV)
    return Path(value).expanduser().resolve() if value else CELERY_SETTINGS
def log_level() -> str:
    """What runs print ($ZTDL_LOG_LEVEL): 'info' by default, 'debug' for every Dagster event and TensorFlow's own
    log lines."""
    value = (os.environ.get(LOG_LEVEL_ENV) or "info").strip().lower()
    if value not in LOG_LEVELS:
        raise ValueError(f"${LOG_LEVEL_ENV}={value!r}: expected one of {', '.join(LOG_LEVELS)}")
    return value
