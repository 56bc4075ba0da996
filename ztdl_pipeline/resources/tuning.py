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
4. otherwise (an ephemeral instance: tests, `dg.materialize` in a script) `tuning/optuna.db` under the run
   profile's storage root, which outlives the process where the instance's temporary folder does not.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

POSTGRES_ENV = "ZTDL_POSTGRES_URL"


def locate(url: str | None, postgres_url: str | None, instance_root: str | None,
           storage_root: Path) -> tuple[str, str]:
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
    path = storage_root / "tuning" / "optuna.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}", f"SQLite {path}, under the storage root (the instance is ephemeral)"


class TuningStorage(dg.ConfigurableResource):
    url: str | None = None  # unset: the instance's PostgreSQL, else SQLite beside the instance (see the module)

    def locate(self, instance: dg.DagsterInstance, storage_root: Path) -> tuple[str, str]:
        root = instance.root_directory if instance.is_persistent else None
        return locate(self.url, os.environ.get(POSTGRES_ENV) or None, root, storage_root)

    def open(self, url: str):
        try:
            from ztdl_pipeline.core.tuning import open_storage
        except ModuleNotFoundError as exc:
            raise dg.Failure(f"the tuned chains need Optuna ({exc}): pip install -e '.[tune]' "
                             "(make install brings it with the development tools)", allow_retries=False) from exc
        return open_storage(url)
