"""The living pipeline, timed (issue 14): a changed file to its new version served, and `make run` twice.

In one scratch instance and storage root (fast profile, the mirror's iris.csv and banknotes files only, iris read
from the user's own copy via $ZTDL_SOURCE_IRIS):

1. `make run` on the iris and banknotes chains (a full run), then `make run` again with nothing changed (a
   no-op run): the ratio full / no-op is printed. The no-op replays the plan the full run stamped
   (ztdl_pipeline/run_stamp.py); the same no-op once more without the stamp times the full check it skips.
2. `dagster dev` (web server + daemon) and `ztdl-serve` started; rows appended to the iris file; the seconds
   from the append until the server answers from export version 2, with nothing else done, are printed, and
   split at the moments the source observation, the first automation run's start and the publish happened.

Results: bench/results/living_cycle.json and .md. Run: `.venv/bin/python bench/living_cycle.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving_latency import free_port, get_json, stop  # noqa: E402
from ztdl_pipeline import run_stamp  # noqa: E402
from ztdl_pipeline.catalog import datasets  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
SELECT = '+key:"exports/iris_softmax_export" or +key:"exports/banknotes_logreg_export"'


def make_run(env: dict) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(["make", "--no-print-directory", "run", f"SELECT={SELECT}"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        sys.exit(f"make run failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return time.monotonic() - started, proc.stdout


def served_version(port: int) -> int | None:
    try:
        statuses = get_json(port, "/v1/models/iris_softmax")["model_version_status"]
    except (OSError, KeyError, ValueError):
        return None
    versions = [int(s["version"]) for s in statuses if s.get("state") == "AVAILABLE"]
    return max(versions) if versions else None


def first_event_after(env: dict, kind: str, since: float) -> float | None:
    """Unix time of the first observation of sources/iris_source, or the first automation run start, after `since`."""
    code = ("import json, sys, dagster as dg\n"
            "since = float(sys.argv[2])\n"
            "with dg.DagsterInstance.get() as i:\n"
            "    if sys.argv[1] == 'observation':\n"
            "        r = i.fetch_observations(dg.AssetKey(['sources', 'iris_source']), limit=20).records\n"
            "        t = [x.timestamp for x in r if x.timestamp > since]\n"
            "    else:\n"
            "        runs = i.get_runs(filters=dg.RunsFilter(tags={'ztdl/launched_by': 'automation'}))\n"
            "        t = [s.start_time for s in (i.get_run_record_by_id(r.run_id) for r in runs) "
            "if s.start_time and s.start_time > since]\n"
            "    print(json.dumps(min(t) if t else None))")
    proc = subprocess.run([str(BIN / "python"), "-c", code, kind, str(since)], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(work: Path, mirror: Path, timeout_s: float) -> dict:
    own_mirror = work / "mirror"
    own_mirror.mkdir()
    for name in ("iris", "banknotes"):
        shutil.copyfile(mirror / datasets.get(name).filename, own_mirror / datasets.get(name).filename)
    mine = work / "my_iris.csv"
    shutil.copyfile(mirror / "iris.csv", mine)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(work / "home"), "ZTDL_DATA_DIR": str(work / "data"),
                "ZTDL_DATA_MIRROR": str(own_mirror), "ZTDL_PROFILE": "fast", "ZTDL_SOURCE_IRIS": str(mine),
                "TF_CPP_MIN_LOG_LEVEL": "2", "DAGSTER_DISABLE_TELEMETRY": "yes"})
    full_s, _ = make_run(env)
    noop_s, noop_out = make_run(env)
    assert "nothing to do" in noop_out, noop_out[-2000:]
    replayed = "run: nothing changed since the check at" in noop_out  # run_stamp.py: nothing loaded
    shutil.rmtree(work / "home" / run_stamp.STAMPS_FOLDER)  # the same no-op with the full check, for comparison
    checked_s, checked_out = make_run(env)
    assert "nothing to do" in checked_out and "nothing changed since" not in checked_out, checked_out[-2000:]

    port, serve_port = free_port(), free_port()
    dev = subprocess.Popen([str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                           cwd=REPO, env=env, stdout=open(work / "dev.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
                           start_new_session=True)
    serve = subprocess.Popen([str(BIN / "ztdl-serve"), "--port", str(serve_port), "--exports",
                              str(work / "data" / "fast" / "exports"), "--poll-interval", "1"], cwd=REPO, env=env,
                             stdout=open(work / "serve.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while served_version(serve_port) != 1 and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(45)  # the daemon up and its sensors evaluated once (first ticks within 30 s)
        appended = time.time()
        with mine.open("a") as handle:
            handle.write("6.1,3.0,5.0,1.9,virginica\n5.0,3.4,1.5,0.2,setosa\n")
        deadline = time.monotonic() + timeout_s
        while served_version(serve_port) != 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        served = time.time()
        if served_version(serve_port) != 2:
            sys.exit(f"version 2 not served within {timeout_s:.0f} s; see {work / 'dev.log'}")
        published = (work / "data" / "fast" / "exports" / "iris_softmax" / "2").stat().st_mtime
        observed = first_event_after(env, "observation", appended)
        run_started = first_event_after(env, "run", appended)
    finally:
        stop(serve)
        stop(dev)
    return {"full_make_run_s": round(full_s, 1), "noop_make_run_s": round(noop_s, 2),
            "full_over_noop": round(full_s / noop_s, 1), "noop_replayed_stamp": replayed,
            "noop_with_full_check_s": round(checked_s, 1),
            "change_to_served_s": round(served - appended, 1),
            "change_to_observed_s": round(observed - appended, 1) if observed else None,
            "change_to_automation_run_s": round(run_started - appended, 1) if run_started else None,
            "change_to_published_s": round(published - appended, 1)}


def markdown(result: dict) -> str:
    r = result["measured"]
    return "\n".join([
        "# Living pipeline: a changed file to the new version served, and `make run` twice", "",
        f"{result['created']}, {result['cpus']} CPUs, Python {result['python']}, load average at start "
        f"{result['load_average_at_start']}; fast profile, iris_softmax and banknotes_logreg chains "
        "(bench/living_cycle.py).", "",
        "| measure | seconds |", "|---|---|",
        f"| `make run` on both chains, first time (full) | {r['full_make_run_s']} |",
        f"| `make run` again, nothing changed (no-op) | {r['noop_make_run_s']} |",
        f"| **full / no-op** | **{r['full_over_noop']}×** |",
        f"| the same no-op without its stamp (the full check: Dagster, the code location, the staleness resolver) "
        f"| {r['noop_with_full_check_s']} |",
        f"| rows appended → source observed (sensor, every 30 s) | {r['change_to_observed_s']} |",
        f"| rows appended → automation run started (every 30 s) | {r['change_to_automation_run_s']} |",
        f"| rows appended → export version 2 published | {r['change_to_published_s']} |",
        f"| **rows appended → `ztdl-serve` answers from version 2** | **{r['change_to_served_s']}** |", "",
        "The full run ends by checking, read-only, that a rerun would have nothing to do (sources observed, "
        "Dagster's staleness resolver asked, the summary read back) and stamps that plan with a fingerprint of "
        "what it read (ztdl_pipeline/run_stamp.py); the no-op run computes the fingerprint again (the "
        "selection, settings, this package's files, the instance's SQLite files, the source files), finds it "
        "unchanged and prints the stamped plan: no Dagster import, no code location load. Its time is make, "
        "one Python start and those file stats. The cycle's time is mostly the two 30 s sensor intervals and "
        "the fast retrain; the server polls its export folder every second here.", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", default=os.environ.get("ZTDL_DATA_MIRROR", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for version 2")
    args = parser.parse_args()
    load = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="living_cycle_") as tmp:
        measured = measure(Path(tmp), Path(args.mirror), args.timeout)
    result = {"benchmark": "living_cycle", "created": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "cpus": os.cpu_count(), "python": platform.python_version(), "load_average_at_start": load,
              "measured": measured}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "living_cycle.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "living_cycle.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
