"""TuningStorage: where hyper-parameter searches keep their Optuna studies, so a killed search continues and
several workers share one study.

Where, in this order:
1. `url` set in the resource's config (any SQLAlchemy URL Optuna accepts);
2. the PostgreSQL database of a persistent Dagster instance when `ZTDL_POSTGRES_URL` is set (docs/deployment.md):
   the same SQLAlchemy URL (postgresql+psycopg2://...), the studies in their own schema `optuna`;
3. `optuna.db` in the Dagster instance's folder ($DAGSTER_HOME) when the instance is persistent: the instance's
   own SQLite files live there on local disk, every process of the instance already shares that folder, and a
   study is run state (which trials ran), not a data product (the storage root may be object storage, where
   SQLite cannot live);
4. otherwise (an ephemeral instance: tests, `dg.materialize` in a script) `tuning/studies/optuna.db` under the
   run profile's storage root (on this machine when the root is an object store), which outlives the process
   where the instance's temporary folder does not.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from ztdl_pipeline.instance import POSTGRES_URL_ENV


def locate(url: str | None, postgres_url: str | None, instance_root: str | None,
           local_folder: Path) -> tuple[str, str]:
    """(the storage URL, where it is in words without any password); `instance_root`: the persistent
    instance's folder (None: an ephemeral instance, whose PostgreSQL setting does not apply either)."""
    if url:
        return url, "the resource's configured URL"
    if postgres_url and instance_root:
        where = postgres_url.rsplit("@", 1)[-1]
        return postgres_url, f"PostgreSQL ({where}), schema optuna: the instance's database (ZTDL_POSTGRES_URL)"
    if instance_root:
        path = Path(instance_root) / "optuna.db"
        return f"sqlite:///{path}", f"SQLite {path}, beside the Dagster instance"
    path = local_folder / "optuna.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}", f"SQLite {path}, under the storage root (the instance is ephemeral)"


class TuningStorage(dg.ConfigurableResource):
    url: str | None = None  # unset: the instance's PostgreSQL, else SQLite beside the instance (see the module)

    def locate(self, instance: dg.DagsterInstance, local_folder: Path) -> tuple[str, str]:
        """`local_folder`: where the study goes when the instance is ephemeral (a folder on this machine)."""
        root = instance.root_directory if instance.is_persistent else None
        return locate(self.url, os.environ.get(POSTGRES_URL_ENV) or None, root, local_folder)

    def open(self, url: str):
        from ztdl_pipeline.core.requirements import require

        require("optuna", "tune", "a tuned chain's search (models/<card>_tuned)")
        from ztdl_pipeline.core.tuning import open_storage

        return open_storage(url)
