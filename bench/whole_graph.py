"""The whole graph against the book's own code, chapter by chapter (issue 17 item 1).

For every chapter that has a book script (bench/book/chNN_<topic>.py, the book's cells for that chapter's
examples), in one run:

1. the book's code: the script in a fresh process (`--data` the mirror), timed by wall clock, its peak RSS from
   os.wait4; it prints one JSON line per example (seconds, the numbers it evaluated). A script whose data files
   are missing exits 3: the chapter is listed as "no data on this machine" and ours is not run either.
2. ours: the same chapter's examples through the real CLI, `dagster asset materialize -m ztdl_pipeline.definitions
   --select '+key:"models/<x>_model" or +key:"reports/<x>_report" or ...'` (each example and everything upstream),
   at ZTDL_PROFILE=<profile>, in a fresh DAGSTER_HOME and data dir. Per-asset seconds come from the run's
   STEP_START -> STEP_SUCCESS events (bench/materialize_time.read_steps); per-asset peak memory from a sampler
   reading VmRSS of the CLI's process tree from /proc every 50 ms (the most it held while the step ran; steps run
   one after another in the default in-process executor); the whole process's peak from os.wait4.

Which examples belong to a chapter comes from the catalogue: every card / scikit-learn comparison whose `source`
names `chN.` (book chapter N or its solutions `sol.chN.`), plus ch5's banknotes sweeps. Only the examples the book
script printed are selected on our side, so both sides cover the same examples; the others are listed.

    python bench/whole_graph.py [--chapters ch3,ch4] [--profile book|fast] [--results DIR] [--keep]
      -> DIR/whole_graph.json and .md (default bench/results/); --render rewrites the .md from the .json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]
import materialize_time  # noqa: E402  (bench/materialize_time.py: the instance file, the event reader)
import whole_graph_report  # noqa: E402

BOOK_SCRIPTS = BENCH / "book"
MISSING_DATA = 3  # bench/book/book_cells.MISSING_DATA
LAYERS = ("models", "reports", "exports")  # the assets an example is: models/<x>_model, reports/<x>_report, ...
MODULE_LEVEL_EXAMPLES = {"SWEEPS_SOURCE": "banknotes_sweeps"}  # catalogue sources that are not records' fields


def chapter_of(source: str) -> str | None:
    """'ch5' for 'book ch5.banknotes_…' or 'book sol.ch5.ex1_wines …'; None for DataCamp and our own examples."""
    match = re.search(r"\bch(\d+)\.", source)
    return f"ch{int(match.group(1))}" if match else None


def _records():
    """(name, source, record) for every catalogue record that has a name and a source (cards, scikit-learn
    comparisons, ...), and the module-level sources (record None)."""
    from ztdl_pipeline import catalog

    for _, module in catalog.modules():
        for attribute, value in vars(module).items():
            if attribute in MODULE_LEVEL_EXAMPLES and isinstance(value, str):
                yield MODULE_LEVEL_EXAMPLES[attribute], value, None
            elif isinstance(value, tuple) and value and all(_sourced(v) for v in value):
                yield from ((v.name, v.source, v) for v in value)
            elif _sourced(value):  # a record on its own (text's NAMES_CARD)
                yield value.name, value.source, value


def _sourced(value) -> bool:
    return isinstance(getattr(value, "name", None), str) and isinstance(getattr(value, "source", None), str)


def catalogue_examples() -> dict[str, list[str]]:
    """chapter -> example names; 'other' holds those of no book chapter (DataCamp, ours)."""
    chapters: dict[str, list[str]] = {}
    for name, source, _ in _records():
        names = chapters.setdefault(chapter_of(source) or "other", [])
        if name not in names:
            names.append(name)
    return chapters


def annotate(chapters: list[dict]) -> list[dict]:
    """Adds to each compared chapter what our run repeats beyond the book's cells (from the catalogue)."""
    notes = beyond_the_book()
    for c in chapters:
        if c["status"] == "run":
            c["beyond_the_book"] = {x: notes[x] for x in c["examples"] if x in notes}
    return chapters


def beyond_the_book() -> dict[str, str]:
    """example -> the repeated work our book-settings run does that the book's cells do not (by its settings)."""
    notes = {}
    for name, _, record in _records():
        restarts = dict(getattr(record, "hyper", None) or {}).get("restarts", 1)
        seeds = dict(getattr(record, "settings", None) or {}).get("seeds", 1)
        said = ([f"trains from {restarts} seeds and keeps the best"] if restarts > 1 else []) + \
               ([f"fits each seeded estimator {seeds} times"] if seeds > 1 else [])
        if said:
            notes[name] = "; ".join(said)
    return notes


def asset_keys() -> set[str]:
    from ztdl_pipeline.definitions import defs

    return {spec.key.to_user_string() for spec in defs.resolve_all_asset_specs()}


def selection(examples: list[str], keys: set[str]) -> str:
    """Each example's models/reports/exports assets that exist, with everything upstream of them."""
    wanted = [f"{layer}/{name}_{layer[:-1]}" for name in examples for layer in LAYERS]
    found = [key for key in wanted if key in keys]
    if not found:
        raise ValueError(f"no models/reports/exports asset for {examples}")
    return " or ".join(f'+key:"{key}"' for key in found)


class TreeMemory:
    """Samples the resident memory of a process and its descendants (/proc VmRSS, summed) in a thread."""

    def __init__(self, pid: int, every: float = 0.05):
        self.pid, self.every, self.samples = pid, every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self, pid: int) -> list[int]:
        pids = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                pids += [p for child in task.read_text().split() for p in self._tree(int(child))]
            except OSError:
                pass
        return pids

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), sum(self._rss(p) for p in self._tree(self.pid))))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> int:
        """The most the tree held between two epoch times (the last sample before `end` if none fell between)."""
        inside = [rss for t, rss in self.samples if start <= t <= end]
        before = [rss for t, rss in self.samples if t <= end]
        return max(inside) if inside else (before[-1] if before else 0)


def run_timed(command: list[str], env: dict, cwd: Path, log: Path, sample: bool = False) -> dict:
    """Runs `command`, its output to `log`; wall seconds, exit status, peak RSS (os.wait4) and the sampler."""
    start = time.perf_counter()
    with open(log, "wb") as handle:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT)
        memory = TreeMemory(process.pid) if sample else None
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if memory:
        memory.stop()
    return {"wall_seconds": wall, "returncode": process.returncode, "peak_rss_bytes": usage.ru_maxrss * 1024,
            "memory": memory}


def run_book(script: Path, mirror: Path, profile: str, work: Path) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow", "PYTHONHASHSEED": "0"}
    log = work / f"{script.stem}.log"
    print(f"  book: {script.relative_to(REPO)} (log {log})", flush=True)
    timed = run_timed([sys.executable, str(script), "--data", str(mirror), "--profile", profile], env, REPO, log)
    lines = [json.loads(line) for line in log.read_text(errors="replace").splitlines() if line.startswith("{")]
    result = {"script": str(script.relative_to(REPO)), "wall_seconds": timed["wall_seconds"],
              "returncode": timed["returncode"], "peak_rss_bytes": timed["peak_rss_bytes"],
              "examples": [line for line in lines if "example" in line],
              "missing": next((line["missing"] for line in lines if "missing" in line), [])}
    if timed["returncode"] not in (0, MISSING_DATA):
        result["log_tail"] = log.read_text(errors="replace")[-3000:]
    return result


def run_ours(select: str, profile: str, mirror: Path, work: Path) -> dict:
    home, data = work / "dagster_home", work / "data"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(materialize_time.DAGSTER_YAML)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(data), "ZTDL_DATA_MIRROR": str(mirror),
                "ZTDL_PROFILE": profile, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
                "PATH": f"{materialize_time.BIN}{os.pathsep}{os.environ.get('PATH', '')}"})
    command = [str(materialize_time.BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions",
               "--select", select]
    log = work / "materialize.log"
    print(f"  ours: dagster asset materialize --select '{select[:80]}…' (log {log})", flush=True)
    timed = run_timed(command, env, REPO, log, sample=True)
    result = {"command": " ".join(command[1:]), "wall_seconds": timed["wall_seconds"],
              "returncode": timed["returncode"], "peak_rss_bytes": timed["peak_rss_bytes"]}
    if timed["returncode"] != 0:
        result["log_tail"] = log.read_text(errors="replace")[-3000:]
    try:
        events = materialize_time.read_steps(home)
    except Exception as error:  # noqa: BLE001  (a run that never started: the log tail says why)
        return {**result, "steps": [], "materialized": [], "run_seconds": None, "problem": repr(error)}
    memory = timed["memory"]
    for step in events["steps"]:
        step["peak_rss_bytes"] = memory.peak(step["start"], step["end"]) if "start" in step and "end" in step else 0
        for moment in ("start", "end"):
            step.pop(moment, None)
    return {**result, "run_id": events["run_id"], "run_status": events["run_status"],
            "run_seconds": events["run_seconds"], "steps": events["steps"], "materialized": materialized(home)}


def materialized(home: Path) -> list[str]:
    import dagster as dg
    from dagster._core.events import DagsterEventType

    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs()[0]
        events = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    return sorted({e.dagster_event.event_specific_data.materialization.asset_key.to_user_string() for e in events})


def chapter(name: str, script: Path, examples: list[str], keys: set[str], args, mirror: Path) -> dict:
    print(f"{name}: {', '.join(examples)}", flush=True)
    work = Path(tempfile.mkdtemp(prefix=f"ztdl-whole-{name}-"))
    book = run_book(script, mirror, args.profile, work)
    if book["returncode"] == MISSING_DATA:
        return {"chapter": name, "status": "no data on this machine", "missing": book["missing"]}
    if book["returncode"] != 0:
        return {"chapter": name, "status": "book script failed", "book": book}
    printed = [line["example"] for line in book["examples"]]
    compared = [x for x in examples if x in printed]
    ours = run_ours(selection(compared, keys), args.profile, mirror, work)
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    steps_seconds = sum(s["seconds"] for s in ours["steps"])
    return {"chapter": name, "status": "run" if ours["returncode"] == 0 else "our run failed",
            "examples": compared, "not_in_book_script": [x for x in examples if x not in printed],
            "book_only": [x for x in printed if x not in examples], "book": book, "ours": ours,
            "ours_steps_seconds": steps_seconds,
            "ratio_book_over_ours": book["wall_seconds"] / ours["wall_seconds"]}


def _order(chapter: str) -> tuple[bool, int]:
    return chapter == "other", int(chapter[2:]) if chapter != "other" else 0


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu_model": model, "platform": platform.platform(),
            "python": sys.version.split()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", help="comma-separated, e.g. ch3,ch4 (default: every chapter with a book script)")
    parser.add_argument("--profile", choices=("book", "fast"), default="book",
                        help="book settings (default); fast only checks that the benchmark works")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--keep", action="store_true", help="keep each chapter's DAGSTER_HOME, data and logs")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: rewrite the .md (and the notes) from the .json in --results")
    args = parser.parse_args(argv)
    if args.render:
        result = json.loads((args.results / "whole_graph.json").read_text())
        result = whole_graph_report.summarise({**result, "chapters": annotate(result["chapters"])})
        whole_graph_report.write(result, args.results)
        print(whole_graph_report.console(result))
        return 0

    mirror = materialize_time._mirror()
    catalogue = catalogue_examples()
    scripts = {f"ch{int(p.name[2:4])}": p for p in sorted(BOOK_SCRIPTS.glob("ch[0-9][0-9]_*.py"))}
    chosen = args.chapters.split(",") if args.chapters else sorted(scripts, key=_order)
    unknown = [c for c in chosen if c not in catalogue]
    if unknown:
        parser.error(f"no catalogue examples for {unknown}; chapters: {', '.join(sorted(catalogue))}")
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    keys = asset_keys()
    done: list[dict] = []

    def save(pending: list[str]) -> dict:
        """The results so far: written after every chapter, so a run stopped part-way keeps what it measured."""
        rest = [{"chapter": name, "status": "not run this time: the run stopped before it", "examples": catalogue[name]}
                for name in pending]
        for name in sorted(set(catalogue) - set(chosen), key=_order):
            reason = ("no book chapter (DataCamp or ours)" if name == "other"
                      else "not run this time" if name in scripts else "no book script yet")
            rest.append({"chapter": name, "status": reason, "examples": catalogue[name]})
        result = whole_graph_report.summarise({
            "benchmark": "whole_graph", "profile": args.profile, "created": started, "machine": machine(),
            "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "command": "python bench/whole_graph.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "chapters": annotate(done + rest)})
        whole_graph_report.write(result, args.results)
        return result

    for index, name in enumerate(chosen):
        if name not in scripts:
            done.append({"chapter": name, "status": "no book script yet", "examples": catalogue[name]})
        else:
            done.append(chapter(name, scripts[name], catalogue[name], keys, args, mirror))
        result = save(chosen[index + 1:])
    print(whole_graph_report.console(result))
    failed = [c["chapter"] for c in done if c["status"] in ("our run failed", "book script failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
