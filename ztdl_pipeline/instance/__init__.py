"""The Dagster instance settings of this project (dagster.yaml), copied to $DAGSTER_HOME by the Makefile.

TEMPLATE keeps everything in SQLite under $DAGSTER_HOME (nothing to start); POSTGRES_TEMPLATE moves run,
event-log and schedule storage to the PostgreSQL database named by the environment variable POSTGRES_URL_ENV,
and the Makefile picks it whenever that variable is set (docs/deployment.md). CELERY_SETTINGS is not an instance
file: it configures ZTDL_EXECUTOR=celery, the runs' executor and the workers alike (ztdl_pipeline/executors.py)."""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "dagster.yaml"
POSTGRES_TEMPLATE = HERE / "dagster-postgres.yaml"
POSTGRES_URL_ENV = "ZTDL_POSTGRES_URL"
CELERY_SETTINGS = HERE / "celery.yaml"


def require_storage_packages() -> None:
    """The PostgreSQL instance needs the deploy extra: say so with its install command, before Dagster fails to
    load its storage class."""
    if os.environ.get(POSTGRES_URL_ENV):
        from ztdl_pipeline.core.requirements import require

        require("dagster_postgres", "deploy", f"the PostgreSQL instance (${POSTGRES_URL_ENV} is set)")
