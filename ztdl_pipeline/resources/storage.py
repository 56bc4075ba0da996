"""Storage: the run's profile and the folders its outputs go to, one storage root per profile.

Every IO manager and every asset that writes beside its output (report folders, export versions, the
registry) asks this resource for its folder, so one setting moves all of a run's outputs and a fast
(smoke-test) run can never overwrite or publish over a book-profile result. The profile is a property
of the whole run: choose it with `ZTDL_PROFILE`, or per run in the launchpad with
`resources: {storage: {config: {profile: fast}}}`.

The root may be an object store (`ZTDL_DATA_DIR=s3://bucket/prefix`, core/stores.py): `folder` is then a
UPath. What must be a local folder (training checkpoints; files a library writes by path) comes from
`local_folder` and `working_folder`, which are `folder` itself when the root is local.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from ztdl_pipeline import settings


class Storage(dg.ConfigurableResource):
    profile: str | None = None  # book | fast; unset: $ZTDL_PROFILE, default book
    base_dir: str | None = None  # unset: $ZTDL_DATA_DIR, default ./data

    def run_profile(self) -> str:
        """The profile of this run (validated: an unknown name fails with the ways to set it)."""
        return settings.resolve_profile(self.profile)

    def root(self) -> Path:
        """The profile's storage root: <base> for book, <base>/<profile> otherwise (a UPath on an object store)."""
        return settings.profile_root(self.run_profile(), self.base_dir)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Tag the run with its profile and the code's commit (every run that stores anything passes here), and
        with this machine's name where every step of the run runs on it, so that the recovery sweep may end the run
        if it is killed, also on storage that several machines share (docs/deployment.md, "Dead runs")."""
        import socket

        from ztdl_pipeline.core.provenance import HOST_TAG, run_tags

        run = context.dagster_run
        if context.instance is None or run is None:
            return
        tags = run_tags(self.run_profile())
        if settings.executor_name() in settings.LOCAL_EXECUTORS and HOST_TAG not in run.tags:
            tags[HOST_TAG] = socket.gethostname()  # (a Celery or Kubernetes step may run elsewhere: no tag)
        missing = {k: v for k, v in tags.items() if run.tags.get(k) != v}
        if missing:
            context.instance.add_run_tags(run.run_id, missing)

    def folder(self, layer: str, name: str) -> Path:
        """<root>/<layer>/<name>, e.g. reports/iris_softmax or exports/wifi_fc."""
        return self.root() / layer / name

    def local_folder(self, layer: str, name: str) -> Path:
        """A folder on this machine for what stays on it (e.g. training checkpoints): `folder` for a local root,
        else the same layout under settings.local_dir() (so a resumed training resumes on the same machine)."""
        from ztdl_pipeline.core.stores import is_remote

        folder = self.folder(layer, name)
        if not is_remote(folder):
            return folder
        return settings.profile_root(self.run_profile(), settings.local_dir()) / layer / name

    @contextlib.contextmanager
    def working_folder(self, layer: str, name: str) -> Iterator[Path]:
        """A local folder for code that writes files by path (gensim, an index): `folder` itself for a local
        root; else `local_folder`, uploaded to `folder` when the block ends without error (added to what the
        folder holds: a report folder gets its report.md and metrics.json from elsewhere)."""
        from ztdl_pipeline.core.stores import is_remote, put_folder

        folder = self.folder(layer, name)
        if not is_remote(folder):
            yield folder
            return
        local = self.local_folder(layer, name)
        local.mkdir(parents=True, exist_ok=True)
        yield local
        put_folder(local, folder, replace=False)
