"""Storage: the run's profile and the folders its outputs go to, one storage root per profile.

Every IO manager and every asset that writes beside its output (report folders, export versions, the
registry) asks this resource for its folder, so one setting moves all of a run's outputs and a fast
(smoke-test) run can never overwrite or publish over a book-profile result. The profile is a property
of the whole run: choose it with `ZTDL_PROFILE`, or per run in the launchpad with
`resources: {storage: {config: {profile: fast}}}`.
"""

from __future__ import annotations

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
        """The profile's storage root: <base> for book, <base>/<profile> otherwise."""
        return settings.profile_root(self.run_profile(), self.base_dir)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Tag the run with its profile and the code's commit: every run that stores anything passes here."""
        from ztdl_pipeline.core.provenance import run_tags

        run = context.dagster_run
        if context.instance is None or run is None:
            return
        tags = run_tags(self.run_profile())
        missing = {k: v for k, v in tags.items() if run.tags.get(k) != v}
        if missing:
            context.instance.add_run_tags(run.run_id, missing)

    def folder(self, layer: str, name: str) -> Path:
        """<root>/<layer>/<name>, e.g. reports/iris_softmax or exports/wifi_fc."""
        return self.root() / layer / name
