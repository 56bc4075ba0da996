"""Dead runs never block later ones: find runs whose process is gone, end them, free their pool slots.

A `dagster asset materialize` killed with `kill -9` (or a crashed machine) leaves its run STARTED for
good, and the slot it claimed in the `gpu` pool (limit 1, see ztdl_pipeline/instance/dagster.yaml) stays
claimed: every later training step waits at "Step blocked by limit for pool gpu". Dagster's run
monitoring cannot see this for CLI runs, nor for runs of the default run launcher (it has no worker
health check); it only enforces start/cancel timeouts and frees the slots of runs that have ended.

`sweep(instance)` does the rest: `make run` / `make dev` call it first (`python -m
ztdl_pipeline.recovery`), and the `sweep_dead_runs` sensor repeats it wherever the daemon runs:

- a run in STARTING, STARTED or CANCELING is dead when every process that worked on it (the pid of its
  RUN_START event and of its STEP_START events; Dagster records the emitting pid on every event) no
  longer exists on this host, or that pid now belongs to a process started after the run did (reused);
  a dead STARTED/STARTING run is marked FAILURE, a dead CANCELING run CANCELED, with a message naming
  the pid, the host and this sweep;
- runs tagged with another host (`ztdl/host`), runs with no recorded process yet, and, on shared
  (non-SQLite) storage, runs without a host tag are never touched (a SQLite instance lives in the
  local DAGSTER_HOME folder, so its runs ran here);
- every concurrency slot or pending claim held by a run that has ended (or no longer exists) is freed.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ztdl_pipeline.core.provenance import HOST_TAG  # a run tagged with another host is never touched
from ztdl_pipeline.instance import TEMPLATE as INSTANCE_TEMPLATE  # noqa: F401  (the Makefile's default instance file)

IN_PROGRESS = ("STARTING", "STARTED", "CANCELING")
REUSE_SLACK_S = 2.0  # a pid whose process started this long after the run did belongs to another process


# -- processes (pure apart from /proc and os.kill) -------------------------------------------------------


def process_start_time(pid: int) -> float | None:
    """When a process started (epoch seconds), from /proc on Linux; None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 onwards
    try:
        ticks = int(fields[19])  # field 22: starttime, in clock ticks since boot
    except (IndexError, ValueError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def pid_alive(pid: int, run_started_at: float | None = None) -> bool:
    """Whether `pid` is still the process that worked on a run that started at `run_started_at`.

    A pid that exists but belongs to another user counts as alive (PermissionError); a pid whose process
    started after the run did has been reused and counts as dead."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if run_started_at is not None:
        started = process_start_time(pid)
        if started is not None and started > run_started_at + REUSE_SLACK_S:
            return False
    return True


# -- the decision (pure) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunProcesses:
    """What the instance knows about who runs a run in progress."""

    run_id: str
    status: str  # STARTING | STARTED | CANCELING
    pids: tuple[int, ...]  # RUN_START and STEP_START events' pids
    host: str | None  # the ztdl/host tag
    started_at: float | None  # the first RUN_START event's timestamp


def verdict(run: RunProcesses, this_host: str, local_storage: bool,
            alive: Callable[[int, float | None], bool] = pid_alive) -> tuple[bool, str]:
    """(dead, why) for one run in progress. Only a run provably on this host with no living process is dead."""
    if run.host and run.host != this_host:
        return False, f"runs on host {run.host}, not {this_host}"
    if not run.host and not local_storage:
        return False, "no host recorded and the instance storage is shared: cannot tell where it runs"
    if not run.pids:
        return False, "no process recorded yet (run monitoring's start timeout covers runs that never start)"
    living = [pid for pid in run.pids if alive(pid, run.started_at)]
    if living:
        return False, f"process {', '.join(map(str, living))} is alive"
    pids = ", ".join(map(str, run.pids))
    return True, f"its process (pid {pids} on host {this_host}) no longer exists: killed or crashed"


def failure_message(run: RunProcesses, why: str, slots: Iterable[str], by: str = "ztdl_pipeline.recovery") -> str:
    held = sorted(set(slots))
    freed = f"; its slot in pool {', '.join(held)} is freed" if held else ""
    return (f"Marked {'canceled' if run.status == 'CANCELING' else 'failed'} by {by}: "
            f"{why}{freed}. Materialize the selection again to finish it.")


# -- the sweep (Dagster) ---------------------------------------------------------------------------------


@dataclass
class SweepReport:
    ended: list[tuple[str, str, str]] = field(default_factory=list)  # (run id, old status, new status)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (run id, why it was left alone)
    freed: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (run id, status, pools)

    def lines(self) -> list[str]:
        out = [f"run {run_id}: {old} -> {new} (its process is gone)" for run_id, old, new in self.ended]
        out += [f"run {run_id}: freed {len(pools)} slot(s)/claim(s) in pool {', '.join(sorted(set(pools)))} "
                f"(run {status})" for run_id, status, pools in self.freed]
        out += [f"run {run_id}: left alone, {why}" for run_id, why in self.kept]
        if not self.ended and not self.freed:
            out.insert(0, "nothing to sweep: no dead run, no slot held by an ended run")
        return out


def _held_slots(instance) -> dict[str, list[str]]:
    """{run id: [pool, ...]} for every claimed slot and pending claim in the instance."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    held: dict[str, list[str]] = {}
    for key, info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).items():
        for slot in info.claimed_slots:
            held.setdefault(slot.run_id, []).append(key)
        for step in info.pending_steps:
            held.setdefault(step.run_id, []).append(key)
    for run_id in storage.get_concurrency_run_ids():
        held.setdefault(run_id, [])
    return held


def _processes(instance, run) -> RunProcesses:
    from dagster import DagsterEventType

    events = instance.all_logs(run.run_id, of_type={DagsterEventType.RUN_START, DagsterEventType.STEP_START})
    pids = tuple(dict.fromkeys(e.dagster_event.pid for e in events
                               if e.dagster_event is not None and e.dagster_event.pid is not None))
    starts = [e.timestamp for e in events if e.dagster_event_type == DagsterEventType.RUN_START]
    return RunProcesses(run_id=run.run_id, status=run.status.value, pids=pids, host=run.tags.get(HOST_TAG),
                        started_at=min(starts) if starts else None)


def sweep(instance, *, host: str | None = None, alive: Callable[[int, float | None], bool] = pid_alive,
          dry_run: bool = False, by: str = "ztdl_pipeline.recovery") -> SweepReport:
    """End the dead runs of `instance` and free every slot held by an ended run; say what was done (`by`: who
    sweeps, for the runs' failure messages)."""
    from dagster import DagsterRunStatus, RunsFilter
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

    this_host = host or socket.gethostname()
    local_storage = isinstance(instance.run_storage, SqliteRunStorage)
    report = SweepReport()
    held = _held_slots(instance)
    in_progress = [DagsterRunStatus(s) for s in IN_PROGRESS]
    for record in instance.get_run_records(filters=RunsFilter(statuses=in_progress)):
        run = record.dagster_run
        processes = _processes(instance, run)
        dead, why = verdict(processes, this_host, local_storage, alive)
        if not dead:
            report.kept.append((run.run_id, why))
            continue
        message = failure_message(processes, why, held.get(run.run_id, []), by)
        new = "CANCELED" if run.status == DagsterRunStatus.CANCELING else "FAILURE"
        if not dry_run:
            if new == "CANCELED":
                instance.report_run_canceled(run, message=message)
            else:
                instance.report_run_failed(run, message=message)
        report.ended.append((run.run_id, run.status.value, new))
    ended = {run_id: new for run_id, _, new in report.ended}
    for run_id, pools in held.items():
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished and run_id not in ended:
            continue  # a living run (or one left alone above) keeps its slots
        if not dry_run:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        status = ended.get(run_id) or ("deleted" if run is None else run.status.value)
        report.freed.append((run_id, status, pools))
    return report


def sweep_sensor(interval_s: int):
    """`sweep_dead_runs`: the same sweep every `interval_s` seconds wherever the daemon runs (`make dev`), so a
    killed `dagster asset materialize` or `dg launch` never leaves the next run waiting for its `gpu` slot, even
    when nobody runs `make sweep`. It launches nothing; what it ended is in its tick log and the daemon's log."""
    import dagster as dg

    @dg.sensor(name="sweep_dead_runs", minimum_interval_seconds=interval_s,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="End this machine's runs whose process is gone (killed, crashed) and free the pool "
                           "slots ended runs still hold: the same as `make sweep` (ztdl_pipeline/recovery.py)")
    def _sweep(context):  # (unannotated: dg is imported locally, and annotations are strings here)
        report = sweep(context.instance, by="ztdl_pipeline.recovery (the daemon's sweep_dead_runs sensor)")
        lines = report.lines()
        if report.ended or report.freed:
            for line in lines:
                context.log.warning(f"recovery: {line}")
        return dg.SkipReason("; ".join(lines))

    return _sweep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ztdl_pipeline.recovery", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="say what would be swept, change nothing")
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        print("recovery: DAGSTER_HOME is not set, so no run history is kept: nothing to sweep")
        return 0
    from ztdl_pipeline.core.requirements import MissingDependency
    from ztdl_pipeline.instance import require_storage_packages

    try:
        require_storage_packages()
    except MissingDependency as error:
        print(f"recovery: {error}", file=sys.stderr)
        return 2
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        report = sweep(instance, dry_run=args.dry_run)
    prefix = "recovery (dry run)" if args.dry_run else "recovery"
    for line in report.lines():
        print(f"{prefix}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
