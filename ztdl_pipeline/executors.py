"""The executor of every job, chosen by $ZTDL_EXECUTOR (settings.executor_name), never by editing code:

- in_process (default): every step of a run in one Python process; TensorFlow is imported once per run.
- multiprocess: a process per step on this machine (Dagster's multiprocess executor).
- celery: each step is a Celery task on a Redis broker; training steps go to the `gpu` queue (core/placement.py),
  everything else to the default queue `dagster`. Settings: ztdl_pipeline/instance/celery.yaml.
- k8s: each step is a Kubernetes Job (dagster-k8s's k8s_job_executor); training steps ask for one GPU.

The optional executors import their package only when chosen, and fail at once, naming the install command, when
it is missing. docs/deployment.md says what each one needs and costs.
"""

from __future__ import annotations

import dagster as dg

from ztdl_pipeline import settings
from ztdl_pipeline.core.requirements import require

EXTRAS = {"celery": ("dagster_celery", "celery"), "k8s": ("dagster_k8s", "k8s")}  # executor -> (module, extra)


def _import(name: str):
    module, extra = EXTRAS[name]
    return require(module, extra, f"{settings.EXECUTOR_ENV}={name}")


def celery_settings() -> dict:
    """The `execution.config` block of the Celery settings file (settings.celery_config_path)."""
    import yaml

    path = settings.celery_config_path()
    try:
        config = yaml.safe_load(path.read_text())["execution"]["config"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a Celery settings file with an execution.config block ({exc})") from exc
    if not isinstance(config, dict):
        raise ValueError(f"{path}: execution.config must be a mapping, found {type(config).__name__}")
    return config


def executor() -> dg.ExecutorDefinition:
    """The executor $ZTDL_EXECUTOR names."""
    name = settings.executor_name()
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "celery":
        return _import("celery").celery_executor.configured(celery_settings(), name="celery")
    return _import("k8s").k8s_job_executor
