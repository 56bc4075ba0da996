"""Wall time of the same materialization under each executor that runs on one machine (ZTDL_EXECUTOR).

The iris and banknotes chains (raw -> features -> model -> report -> export, with their checks; fast profile by
default) through `dagster asset materialize`, each run with a fresh DAGSTER_HOME (the SQLite instance `make home`
writes) and a fresh storage root:

- in_process: every step in the CLI's process;
- multiprocess: a process per step (Dagster's multiprocess executor, at most one per CPU);
- celery: Redis on loopback and two `dagster-celery worker` processes started before the run and ready (worker
  `cpu` on the default queue, worker `gpu` on the `gpu` queue, both with the code location and TensorFlow
  loaded at start, as long-lived workers would be); their start-up is timed apart from the run.

Rounds alternate the executors so that a change in the machine's load falls on all of them alike.
The k8s executor needs a cluster and is not measured.

    python bench/executors.py [--repeats 3] [--profile fast]
      -> bench/results/executors.json and .md   (--render: the .md again from the .json)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.e2e.celery_cluster import BIN, missing_reason, redis_server, start_worker, stop_process  # noqa: E402
from ztdl_pipeline import settings  # noqa: E402
from ztdl_pipeline.instance import CELERY_SETTINGS, TEMPLATE  # noqa: E402

RESULTS = REPO / "bench" / "results"
SELECTION = '+key:"exports/iris_softmax_export" or +key:"exports/banknotes_logreg_export"'
EXECUTORS = ("in_process", "multiprocess", "celery")


def _mirror() -> Path:
    path = Path(os.environ.get("ZTDL_DATA_MIRROR") or REPO.parent / "shared" / "data").resolve()
    if not (path / "iris.csv").exists():
        sys.exit(f"data mirror not found at {path}: set ZTDL_DATA_MIRROR")
    return path


def _env(work: Path, mirror: Path, profile: str, executor: str, broker: str | None = None) -> dict:
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(TEMPLATE, home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(work / "data"), "ZTDL_DATA_MIRROR": str(mirror),
                "ZTDL_PROFILE": profile, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
                settings.EXECUTOR_ENV: executor, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"})
    if broker:
        env.update({"ZTDL_CELERY_BROKER": broker, settings.CELERY_CONFIG_ENV: str(CELERY_SETTINGS)})
    return env


def _run_seconds(home: Path) -> tuple[str, float | None, int]:
    """(status, RUN_START -> RUN_SUCCESS/FAILURE seconds, steps that succeeded) of the one run in `home`."""
    import dagster as dg

    kinds = {dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE,
             dg.DagsterEventType.STEP_SUCCESS}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        events = instance.all_logs(run.run_id, of_type=kinds)
    times = {e.dagster_event.event_type: e.timestamp for e in events}
    end = times.get(dg.DagsterEventType.RUN_SUCCESS) or times.get(dg.DagsterEventType.RUN_FAILURE)
    start = times.get(dg.DagsterEventType.RUN_START)
    steps = sum(e.dagster_event.event_type == dg.DagsterEventType.STEP_SUCCESS for e in events)
    return run.status.value, (end - start) if start and end else None, steps


def materialize(env: dict, log: Path) -> dict:
    command = [str(BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select", SELECTION]
    start = time.perf_counter()
    with log.open("wb") as handle:
        returncode = subprocess.run(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                    timeout=900, check=False).returncode
    wall = time.perf_counter() - start
    status, run_seconds, steps = _run_seconds(Path(env["DAGSTER_HOME"]))
    if returncode != 0 or status != "SUCCESS":
        print(f"run failed ({returncode}, {status}); log tail:\n{log.read_text(errors='replace')[-3000:]}",
              file=sys.stderr)
    return {"returncode": returncode, "status": status, "cli_wall_seconds": wall, "run_seconds": run_seconds,
            "steps_succeeded": steps}


def run_celery(work: Path, mirror: Path, profile: str) -> dict:
    """Start Redis and the two workers, wait until both are ready (timed), then time the run."""
    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(redis_server())
        env = _env(work, mirror, profile, "celery", broker)
        import dagster as dg

        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:  # tables before two workers open it
            instance.get_runs(limit=1)
        start = time.perf_counter()
        workers = []
        for name, queue in (("cpu", "dagster"), ("gpu", "gpu")):
            worker = start_worker(name, (queue,), CELERY_SETTINGS, env, work,
                                  preload=("ztdl_pipeline.definitions", "tensorflow"))
            stack.callback(stop_process, worker.proc)
            workers.append(worker)
        while not all(worker.ready() for worker in workers):
            if any(worker.proc.poll() is not None for worker in workers) or time.perf_counter() - start > 300:
                raise RuntimeError("a Celery worker did not start: " + " | ".join(
                    w.log.read_text(errors="replace")[-1500:] for w in workers))
            time.sleep(0.2)
        ready = time.perf_counter() - start
        result = materialize(env, work / "materialize.log")
        return {**result, "workers_ready_seconds": ready}


def measure(executor: str, mirror: Path, profile: str) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"ztdl-bench-{executor}-"))
    try:
        if executor == "celery":
            return run_celery(work, mirror, profile)
        return materialize(_env(work, mirror, profile, executor), work / "materialize.log")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(result: dict) -> str:
    rows = []
    for name in EXECUTORS:
        summary = result["summary"][name]
        ready = (f"{summary['median_workers_ready_seconds']:.1f}" if "median_workers_ready_seconds" in summary
                 else "—")
        rounds = ", ".join(f"{run['cli_wall_seconds']:.1f}" for run in result["runs"][name])
        rows.append(f"| {name} | {summary['median_cli_wall_seconds']:.1f} | {rounds} | "
                    f"{summary['median_run_seconds']:.1f} | {ready} | {summary['runs_succeeded']}/{summary['runs']} | "
                    f"{summary['steps_succeeded']} |")
    base = result["summary"]["in_process"]["median_cli_wall_seconds"]
    ratios = ", ".join(f"{name} {result['summary'][name]['median_cli_wall_seconds'] / base:.2f}×"
                       for name in EXECUTORS[1:])
    return "\n".join([
        "# Executors: the same materialization in-process, multiprocess and on Celery", "",
        (f"`dagster asset materialize --select '{SELECTION}'`, profile {result['profile']}, "
         f"{result['repeats']} rounds — {result['created']}, {result['cpus']} CPUs, Python {result['python']}, "
         f"load average {result['load_average_at_start']} at the start and {result['load_average_at_end']} "
         "at the end. Medians over the rounds."), "",
        "| executor | CLI wall s | CLI wall s per round | run s (RUN_START→RUN_SUCCESS) | "
        "workers ready s (before the run) | runs succeeded | steps per run |", "|---|---:|---|---:|---:|---|---:|",
        *rows, "",
        f"CLI wall relative to in_process: {ratios}.", "",
        ("Celery's workers were started (Redis, two `dagster-celery worker` processes loading the code location "
         "and TensorFlow) before each run and are timed apart; the run itself still loads the code location in "
         "the CLI. The k8s executor needs a cluster and is not measured here."), ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", choices=("book", "fast"), default="fast")
    parser.add_argument("--render", action="store_true", help="only rewrite executors.md from executors.json")
    args = parser.parse_args()
    if args.render:
        (RESULTS / "executors.md").write_text(markdown(json.loads((RESULTS / "executors.json").read_text())))
        return 0
    if (reason := missing_reason()) is not None:
        sys.exit(f"cannot measure the celery executor: {reason}")
    mirror = _mirror()
    load_start = [round(x, 2) for x in os.getloadavg()]
    runs: dict[str, list[dict]] = {name: [] for name in EXECUTORS}
    for round_index in range(args.repeats):
        for name in EXECUTORS:
            print(f"round {round_index + 1}/{args.repeats}: {name} ...", flush=True)
            runs[name].append(measure(name, mirror, args.profile))
            print(f"  {json.dumps(runs[name][-1])}", flush=True)
    summary = {}
    for name, results in runs.items():
        ok = [r for r in results if r["status"] == "SUCCESS"]
        summary[name] = {"runs": len(results), "runs_succeeded": len(ok),
                         "median_cli_wall_seconds": statistics.median(r["cli_wall_seconds"] for r in results),
                         "median_run_seconds": statistics.median(r["run_seconds"] or 0.0 for r in results),
                         "steps_succeeded": max((r["steps_succeeded"] for r in results), default=0)}
        if name == "celery":
            summary[name]["median_workers_ready_seconds"] = statistics.median(
                r["workers_ready_seconds"] for r in results)
    result = {"created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
              "python": platform.python_version(), "profile": args.profile, "repeats": args.repeats,
              "selection": SELECTION, "load_average_at_start": load_start,
              "load_average_at_end": [round(x, 2) for x in os.getloadavg()], "summary": summary, "runs": runs}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "executors.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "executors.md").write_text(markdown(result))
    print(markdown(result))
    return 0 if all(s["runs_succeeded"] == s["runs"] for s in summary.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
