"""`make run`: materialize only what is missing or stale in a selection (the UI's "materialize changed and missing").

1. Every source the selection reads is observed (assets/sources.changed_sources), so a changed file is
   noticed even without the daemon.
2. Each selected asset's status comes from Dagster's own staleness resolver against this instance: MISSING
   and STALE (a changed input, code version or source) run, and so does everything selected downstream of
   them (it will read new data); FRESH does not, unless its latest materialization was made under another
   profile (each profile keeps its own files: a fast run does not make the book profile's export).
3. Left out, with the reason printed: assets downstream of a source that cannot be read here (no mirror, no
   $ZTDL_SOURCE_<NAME>, no network), and exports whose report's gate refused the current model (rerunning
   would only be refused again; retrain with other settings instead).
4. The rest goes to `dg launch` (the README's command; `dagster asset materialize` does the same and warns that
   it is superseded), with the sources it reads observed as the run's first steps (so each raw asset records the
   source version it read). `--force` (make run FORCE=1) runs the whole selection, sources permitting. With
   nothing to do it says so and exits 0.
5. It prints INFO and above, the run's start and end and any failed check (`--log-level debug`, $ZTDL_LOG_LEVEL
   or `make run LOG_LEVEL=debug`: every Dagster event), then a summary per example read back from the instance:
   the gate metric against its threshold, the version published or why none, the report's and export's paths.
   It exits 0 when the run's only failed steps are export gates refusing their model (Dagster marks such a run
   failed; the summary names the refusals), 1 when anything else failed.
6. Runs whose process died are ended first (recovery.py) and history under old keys carried over (migrate.py),
   in this process. After a run or a no-op whose plan is "nothing to do", that plan is stamped (run_stamp.py):
   the next `make run` of the selection with nothing changed prints it again without loading anything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ztdl_pipeline import run_stamp, settings
from ztdl_pipeline.core import names, run_summary


@dataclass
class Plan:
    run: list = field(default_factory=list)  # asset keys to materialize, in the graph's order
    fresh: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # key string -> why it is left out

    def lines(self) -> list[str]:
        lines = [f"{len(self.run)} to materialize (missing or stale), {len(self.fresh)} fresh"]
        lines += [f"left out {key}: {why}" for key, why in sorted(self.skipped.items())]
        return lines

    observe: list = field(default_factory=list)  # source keys the run observes first (recorded as read)

    def selection(self) -> str:
        return " or ".join(f'key:"{key.to_user_string()}"' for key in [*self.observe, *self.run])


def _resolver(instance, graph):
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._time import get_current_datetime

    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=graph)
    return CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)


def _refused(instance, graph, export_key) -> bool:
    """The export's report has a failed export gate for its latest materialization."""
    import dagster as dg

    layer, name = names.split_key(export_key.path)
    report = dg.AssetKey(names.key_parts("reports", name))
    if not graph.has(report):
        return False
    check = dg.AssetCheckKey(report, "export_gate")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([check]).get(check)
    latest = instance.fetch_materializations(report, limit=1).records
    if record is None or record.event is None or not latest:
        return False
    evaluation = record.event.dagster_event.event_specific_data
    target = getattr(evaluation, "target_materialization_data", None)
    return not evaluation.passed and target is not None and target.storage_id == latest[0].storage_id


def _made_under_another_profile(instance, asset_key) -> bool:
    """The latest materialization came from a run of another profile (its `ztdl/profile` tag): Dagster's
    staleness does not know profiles, but each profile keeps its own files, so under this one it is missing."""
    from ztdl_pipeline.core.provenance import PROFILE_TAG

    latest = instance.fetch_materializations(asset_key, limit=1).records
    run = instance.get_run_by_id(latest[0].run_id) if latest else None
    made = run.tags.get(PROFILE_TAG) if run is not None else None
    return made is not None and made != settings.resolve_profile()


def plan(instance, graph, selected: list, unavailable: dict[str, str], force: bool = False) -> Plan:
    """What `make run` does for the `selected` asset keys, given the sources that cannot be read here."""
    import dagster as dg
    from dagster._core.definitions.data_version import StaleStatus

    from ztdl_pipeline.assets.sources import source_key

    blocked = {}
    for dataset, why in sorted(unavailable.items()):
        if graph.has(source_key(dataset)):
            for downstream in dg.AssetSelection.assets(source_key(dataset)).downstream().resolve(graph):
                blocked.setdefault(downstream, f"its source {dataset} cannot be read here ({why})")
    resolver = _resolver(instance, graph)
    result = Plan()
    order = {key: i for i, key in enumerate(graph.toposorted_asset_keys)}
    for asset_key in sorted(selected, key=lambda k: order.get(k, 0)):
        why = blocked.get(asset_key)
        status = resolver.get_status(asset_key)
        if why and (force or status != StaleStatus.FRESH):
            result.skipped[asset_key.to_user_string()] = why
        elif names.split_key(asset_key.path)[0] == "exports" and status != StaleStatus.FRESH \
                and _refused(instance, graph, asset_key) and not force:
            result.skipped[asset_key.to_user_string()] = "its report's export gate refused the current model"
        elif force or status != StaleStatus.FRESH or set(graph.get(asset_key).parent_keys) & set(result.run) \
                or _made_under_another_profile(instance, asset_key):
            result.run.append(asset_key)  # missing, stale, or reading something this run rematerializes
        else:
            result.fresh.append(asset_key)
    return result


def _upstream(graph, keys) -> set:
    """`keys` and everything they read, observable sources included."""
    seen, todo = set(), list(keys)
    while todo:
        asset_key = todo.pop()
        if asset_key not in seen:
            seen.add(asset_key)
            todo += graph.get(asset_key).parent_keys
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ztdl_pipeline.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--select", required=True, help="a Dagster asset selection, e.g. 'group:tabular'")
    parser.add_argument("--force", action="store_true", help="materialize the whole selection")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    parser.add_argument("--log-level", choices=settings.LOG_LEVELS, default=None,
                        help=f"what the run prints (default ${settings.LOG_LEVEL_ENV} or info; debug: every event)")
    args = parser.parse_args(argv)
    stamp_settings = run_stamp.environment()  # before anything here changes the environment
    unchanged = None if args.force or args.dry_run else run_stamp.replay(args.select, stamp_settings)
    if unchanged is not None:
        print("\n".join(unchanged))
        return 0
    # before the code location loads: it sets the console level and TensorFlow's, here and in the run's process
    os.environ[settings.LOG_LEVEL_ENV] = args.log_level or settings.log_level()
    import dagster as dg

    from ztdl_pipeline import migrate, recovery
    from ztdl_pipeline.core.requirements import MissingDependency
    from ztdl_pipeline.instance import require_storage_packages

    try:  # a missing optional package fails here, with its install command, before any work
        require_storage_packages()
        for step in (recovery, migrate):  # dead runs ended, old keys' history carried over, before any planning
            if (code := step.main([])) != 0:
                return code
        from ztdl_pipeline.definitions import defs
    except MissingDependency as error:
        print(f"run: {error}", file=sys.stderr)
        return 2
    from ztdl_pipeline import summary
    from ztdl_pipeline.assets.sources import changed_sources

    graph = defs.resolve_asset_graph()
    selected = [k for k in dg.AssetSelection.from_string(args.select).resolve(graph)
                if graph.get(k).is_materializable]
    sources = {name for layer, name in map(names.split_key, (k.path for k in _upstream(graph, selected)))
               if layer == "sources"}
    with dg.DagsterInstance.get() as instance:
        events, unavailable = changed_sources(instance, defs.resources["data_source"], sources)
        for event in events:
            instance.report_runless_asset_event(event)
            print(f"run: {event.asset_key.to_user_string()} changed (new data version)")
        todo = plan(instance, graph, selected, unavailable, force=args.force)
    # the run observes the sources it reads first, so each raw asset records the version it read
    todo.observe = sorted((k for k in _upstream(graph, todo.run) if names.split_key(k.path)[0] == "sources"
                           and names.split_key(k.path)[1] not in unavailable), key=lambda k: k.path)
    print("\n".join(plan_lines(todo)), flush=True)  # before the run's own lines
    if args.dry_run:
        return 0
    code, run_id = launch(todo.selection(), os.environ[settings.LOG_LEVEL_ENV]) if todo.run else (0, None)
    with dg.DagsterInstance.get() as instance:
        outcomes = summary.outcomes(instance, graph, todo, selected, run_id)
        refused = summary.refusals_only(instance, run_id) if code != 0 and run_id else []
    print("\n".join(summary_lines(outcomes, run_id)))
    if refused:  # a gate that refuses a model is an answer, not an error: every step it had to run did
        print(f"run: done; the export gate refused {', '.join(refused)} (Dagster marks the run failed for that)")
        code = 0
    if code == 0:  # stamp the plan a rerun would make now, if it is "nothing to do" (run_check.py)
        from ztdl_pipeline.run_check import remember

        try:  # only ever saves time: a failed check costs the next no-op its shortcut, never this run its result
            remember(stamp_settings, args.select, graph, selected, sources, defs.resources["data_source"])
        except Exception as error:  # noqa: BLE001
            print(f"run: no stamp for the next no-op run ({type(error).__name__}: {error})", file=sys.stderr)
    return code


def plan_lines(todo: Plan) -> list[str]:
    lines = [f"run: {line}" for line in todo.lines()]
    if not todo.run:
        lines.append("run: nothing to do" + (": every selected asset is fresh" if todo.fresh else ""))
    return lines


def summary_lines(outcomes: list, run_id: str | None) -> list[str]:
    return [f"run: {line}" if not line.startswith(" ") else line
            for line in run_summary.lines(outcomes, settings.resolve_profile(), run_id)]


def launch(selection: str, level: str) -> tuple[int, str | None]:
    """`dg launch` of the selection (in this instance, in one process), the console at `level` with the run's start
    and end; returns its exit status and the id of the run it made (None if it made none)."""
    import dagster as dg

    from ztdl_pipeline import summary

    config = {"loggers": {"console": {"config": {"log_level": level.upper()}}}}
    command = [str(Path(sys.executable).with_name("dg")), "launch", "-m", "ztdl_pipeline.definitions",
               "--assets", selection, "--config-json", json.dumps(config)]
    since = datetime.now(UTC)
    child = subprocess.Popen(command, env=os.environ.copy())
    code = child.wait()
    with dg.DagsterInstance.get() as instance:
        return code, summary.launched_run(instance, child.pid, since)


if __name__ == "__main__":
    sys.exit(main())
