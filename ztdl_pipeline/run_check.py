"""After `make run`: check, read-only, whether a rerun would have nothing to do, and if so stamp that (run_stamp.py).

The check is the no-op run itself: the selection's sources observed (every one a local file or folder), the
staleness resolver asked, the summary read back; nothing is written to the instance. The fingerprint of what it
reads is taken before and compared after, so a change made while it looked leaves no stamp.
"""

from __future__ import annotations

import os
from pathlib import Path

from ztdl_pipeline import run_stamp, settings
from ztdl_pipeline.core import registry, stores

LOCAL_ORIGINS = ("configured", "mirror", "file")  # a URL's version is only known by asking its server
WAITING = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")  # runs that will still write history


def storage_folders(instance) -> list[str] | None:
    """The folders of the instance's SQLite storage (runs, event logs, schedules); None for any other storage."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
    from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage

    runs, events, schedules = instance.run_storage, instance.event_log_storage, instance.schedule_storage
    if not (isinstance(runs, SqliteRunStorage) and type(events) is SqliteEventLogStorage
            and isinstance(schedules, SqliteScheduleStorage)):
        return None
    databases = [runs._conn_string, schedules._conn_string]  # noqa: SLF001  (sqlite:///<path>)
    return sorted({str(Path(events._base_dir)), *(str(Path(c.split("sqlite:///", 1)[1]).parent) for c in databases)})  # noqa: SLF001


def _summary_files(graph, selected) -> list[str] | None:
    from ztdl_pipeline import summary

    root = settings.profile_root(settings.resolve_profile())
    if stores.is_remote(root):
        return None
    return [str(path) for name in summary.examples(graph, selected)
            for path in (root / "exports" / name / registry.MANIFEST, root / "reports" / name / "report.md")]


def _observe(data_source, sources, stats: dict) -> dict | None:
    """{dataset: Observation} of every source, or None when one is not a local file or folder."""
    from ztdl_pipeline.catalog import datasets

    seen = {name: data_source.observe(datasets.get(name), stats) for name in sorted(sources)}
    return seen if all(s.available and s.origin in LOCAL_ORIGINS for s in seen.values()) else None


def remember(stamp_settings: dict, select: str, graph, selected, sources, data_source) -> bool:
    """Stamp `select`'s plan if a rerun now would have nothing to do; whether it did."""
    import dagster as dg

    from ztdl_pipeline import migrate, recovery, summary
    from ztdl_pipeline.assets.sources import latest_version, source_key
    from ztdl_pipeline.run import plan, plan_lines, summary_lines

    stats: dict = {}
    seen = _observe(data_source, sources, stats)
    with dg.DagsterInstance.get() as instance:
        folders, files = storage_folders(instance), _summary_files(graph, selected)
        if run_stamp.stamp_path(select) is None or seen is None or folders is None or files is None:
            return False
        folders += [s.detail for s in seen.values() if Path(s.detail).is_dir()]
        files += [str(Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml"),
                  *(s.detail for s in seen.values() if Path(s.detail).is_file())]
        before = run_stamp.fingerprint(stamp_settings, select, folders, files)
        waiting = instance.get_runs_count(dg.RunsFilter(statuses=[dg.DagsterRunStatus(s) for s in WAITING]))
        if waiting or recovery.sweep(instance, dry_run=True).freed or migrate.candidates(instance):
            return False
        again = _observe(data_source, sources, stats)  # unchanged files are not hashed again
        if again is None or any(latest_version(instance, source_key(name)) != s.data_version
                                for name, s in again.items()):
            return False
        todo = plan(instance, graph, selected, {})
        if todo.run or todo.skipped:
            return False
        outcomes = summary.outcomes(instance, graph, todo, selected, None)
    lines = [*plan_lines(todo), *summary_lines(outcomes, None)]
    return run_stamp.save(select, stamp_settings, folders, files, lines, before)
