"""Wall time of `make run` (the tabular group through the real CLI), per step, and the book's plain script.

1. `dagster asset materialize -m ztdl_pipeline.definitions --select group:tabular` in a subprocess, with a
   temporary DAGSTER_HOME (persistent sqlite instance, the same dagster.yaml `make home` writes) and a
   temporary ZTDL_DATA_DIR; the data comes from the mirror (ZTDL_DATA_MIRROR, default ../shared/data).
2. The run's event log is read back from that instance: per step STEP_START -> STEP_SUCCESS/FAILURE.
3. The book's own banknotes code (pandas read_csv, train_test_split(test_size=0.3, random_state=42),
   Dense(1, sigmoid, kernel_initializer='ones'), SGD(learning_rate=0.01), fit(batch_size=16, epochs=N),
   evaluate) in a fresh subprocess, N = the epochs the pipeline trained under this profile (book: 20).

    python bench/materialize_time.py [--profile book|fast]
      -> bench/results/materialize_time_<profile>.json and .md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from ztdl_pipeline import settings  # noqa: E402

RESULTS = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
# what `make home` writes (no telemetry; the "gpu" pool runs one training step at a time across runs)
DAGSTER_YAML = (REPO / "ztdl_pipeline" / "instance" / "dagster.yaml").read_text()
BANKNOTES_STEPS = ("models__banknotes_logreg_model", "reports__banknotes_logreg_report", "exports__banknotes_logreg_export")

PLAIN_SCRIPT = r"""
import json, os, sys, time
t0 = time.perf_counter()
import pandas as pd
from sklearn.model_selection import train_test_split
import keras
from keras.layers import Dense
from keras.models import Sequential
from keras.optimizers import SGD
t1 = time.perf_counter()
df = pd.read_csv(sys.argv[1])
X = df.drop("class", axis=1).values
y = df["class"].values
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=42)
model = Sequential([keras.Input(shape=(4,)), Dense(1, kernel_initializer="ones", activation="sigmoid")])
model.compile(optimizer=SGD(learning_rate=0.01), loss="binary_crossentropy", metrics=["accuracy"])
t2 = time.perf_counter()
model.fit(X_train, y_train, batch_size=16, epochs=int(sys.argv[2]), verbose=0)
t3 = time.perf_counter()
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
t4 = time.perf_counter()
print(json.dumps({"import_seconds": t1 - t0, "prepare_seconds": t2 - t1, "fit_seconds": t3 - t2,
                  "evaluate_seconds": t4 - t3, "work_seconds": t4 - t1, "test_accuracy": float(accuracy),
                  "test_rows": int(len(y_test)), "epochs": int(sys.argv[2])}))
"""


def _mirror() -> Path:
    path = Path(os.environ.get("ZTDL_DATA_MIRROR") or REPO.parent / "shared" / "data").resolve()
    if not (path / "banknotes.csv").exists():
        sys.exit(f"data mirror not found at {path}: set ZTDL_DATA_MIRROR")
    return path


def run_pipeline(profile: str, select: str, work: Path, mirror: Path) -> dict:
    home, data = work / "dagster_home", work / "data"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(data), "ZTDL_DATA_MIRROR": str(mirror),
                "ZTDL_PROFILE": profile, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"})
    command = [str(BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select", select]
    log = work / "materialize.log"
    print(f"running: {' '.join(command[1:])}  (profile {profile}; log {log})", flush=True)
    start = time.perf_counter()
    with open(log, "wb") as handle:
        returncode = subprocess.run(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                    check=False).returncode
    wall = time.perf_counter() - start
    if returncode != 0:
        print(f"dagster exited {returncode}; log tail:\n{log.read_text(errors='replace')[-4000:]}", file=sys.stderr)
    return {"command": " ".join(command[1:]), "returncode": returncode, "wall_seconds": wall, "home": home,
            "log": log}


def read_steps(home: Path) -> dict:
    import dagster as dg
    from dagster._core.events import DagsterEventType

    kinds = {DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE,
             DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE,
             DagsterEventType.STEP_SKIPPED, DagsterEventType.ASSET_MATERIALIZATION}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        if len(runs) != 1:
            raise RuntimeError(f"expected one run in {home}, found {len(runs)}")
        run = runs[0]
        events = instance.all_logs(run.run_id, of_type=kinds)
    steps: dict[str, dict] = {}
    run_times: dict = {}
    banknotes_epochs = None
    for entry in events:
        kind = entry.dagster_event.event_type
        if kind in (DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
            run_times[kind] = entry.timestamp
            continue
        if kind == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = entry.dagster_event.event_specific_data.materialization
            if materialization.asset_key == dg.AssetKey(["models", "banknotes_logreg_model"]):
                banknotes_epochs = int(materialization.metadata["epochs"].value)
            continue
        step = steps.setdefault(entry.step_key, {"step": entry.step_key, "status": "started"})
        if kind == DagsterEventType.STEP_START:
            step["start"] = entry.timestamp
        elif kind == DagsterEventType.STEP_SKIPPED:
            step["status"] = "skipped"
        else:
            step["end"] = entry.timestamp
            step["status"] = "success" if kind == DagsterEventType.STEP_SUCCESS else "failure"
    for step in steps.values():
        step["seconds"] = step["end"] - step["start"] if "start" in step and "end" in step else 0.0
    ordered = sorted(steps.values(), key=lambda s: s.get("start", float("inf")))
    for index, step in enumerate(ordered):
        step["order"] = index + 1
    start = run_times.get(DagsterEventType.RUN_START)
    end = run_times.get(DagsterEventType.RUN_SUCCESS) or run_times.get(DagsterEventType.RUN_FAILURE)
    return {"run_id": run.run_id, "run_status": run.status.value, "steps": ordered,
            "run_seconds": end - start if start and end else None,
            "banknotes_epochs": banknotes_epochs}


def run_plain(mirror: Path, epochs: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow", "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(mirror / "banknotes.csv"), str(epochs)],
                          env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"plain banknotes script failed:\n{proc.stderr[-4000:]}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_wall_seconds": wall}


def markdown(result: dict) -> str:
    steps = sorted(result["steps"], key=lambda s: -s["seconds"])
    b, p = result["banknotes"], result["banknotes"]["plain"]
    wall, summed = result["wall_seconds"], result["sum_of_steps_seconds"]
    tf_note = ", the model step paying the TensorFlow import" if b["model_step_paid_tf_import"] else ""
    lines = [
        f"# `make run` materialization time, profile {result['profile']}", "",
        (f"`dagster {result['command']}` — {result['created']}, {result['cpus']} CPUs, "
         f"load average at start {result['load_average_at_start']}"), "",
        "| step | seconds | status | order |", "|---|---:|---|---:|",
        *[f"| {s['step']} | {s['seconds']:.2f} | {s['status']} | {s['order']} |" for s in steps],
        "", "| total | seconds |", "|---|---:|",
        f"| CLI wall (process start to exit) | {wall:.2f} |",
        f"| run (RUN_START to RUN_SUCCESS/FAILURE) | {result['run_seconds'] or 0:.2f} |",
        f"| sum of steps | {summed:.2f} |",
        f"| CLI wall − sum of steps (start-up, code location load, orchestration) | {wall - summed:.2f} |",
        "", "## banknotes: pipeline vs the book's plain script", "",
        "| side | includes | seconds |", "|---|---|---:|",
        (f"| pipeline | models + reports + exports steps for banknotes_logreg ({b['epochs']} epochs; training, "
         f"evaluation, plots, report, SavedModel export and its verification) | {b['pipeline_steps_seconds']:.2f} |"),
        f"| pipeline | models__banknotes_logreg_model step only | {b['pipeline_model_step_seconds']:.2f} |",
        (f"| plain | read_csv + split + build + compile + fit ({p['epochs']} epochs) + evaluate, imports excluded "
         f"| {p['work_seconds']:.2f} |"),
        (f"| plain | pandas/sklearn/keras/TensorFlow imports + the above "
         f"| {p['import_seconds'] + p['work_seconds']:.2f} |"),
        f"| plain | whole process: interpreter start-up + imports + the above | {p['process_wall_seconds']:.2f} |",
        "",
        (f"pipeline banknotes model step / plain book script: **{b['headline_ratio']:.1f}x** "
         f"(pipeline: models+reports+exports steps{tf_note}; plain: {b['headline_plain_side']}). "
         f"Other pairings: steps / plain work (imports excluded) {b['ratio_steps_over_plain_work']:.1f}x, "
         f"model step alone / plain work {b['ratio_model_step_over_plain_work']:.1f}x, "
         f"steps / plain whole process {b['ratio_steps_over_plain_process']:.1f}x."),
        "",
        (f"Test accuracy: pipeline {b['pipeline_test_accuracy']}, plain script {p['test_accuracy']:.4f} "
         f"(book 0.9782)."),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("book", "fast"), default="book")
    parser.add_argument("--select", default="group:tabular")
    parser.add_argument("--keep", action="store_true", help="keep the temporary DAGSTER_HOME and data")
    args = parser.parse_args()

    mirror = _mirror()
    load = [round(x, 2) for x in os.getloadavg()]
    work = Path(tempfile.mkdtemp(prefix="ztdl-bench-"))
    pipeline = run_pipeline(args.profile, args.select, work, mirror)
    events = read_steps(pipeline["home"])
    steps = events["steps"]
    by_name = {s["step"]: s for s in steps}
    sum_steps = sum(s["seconds"] for s in steps)

    missing = [s for s in BANKNOTES_STEPS if by_name.get(s, {}).get("status") != "success"]
    if missing:
        print(f"banknotes steps did not all succeed ({missing}): no side-by-side comparison", file=sys.stderr)
        return 1
    epochs = events["banknotes_epochs"]
    print(f"timing the plain book banknotes script ({epochs} epochs) in a fresh process", flush=True)
    plain = run_plain(mirror, epochs)
    training_steps = [s for s in steps if s["step"].startswith("models__") or s["step"] == "reports__banknotes_sweeps_report"]
    first_training = training_steps[0]["step"] if training_steps else None
    paid = first_training == BANKNOTES_STEPS[0]
    pipeline_steps = sum(by_name[s]["seconds"] for s in BANKNOTES_STEPS)
    model_step = by_name[BANKNOTES_STEPS[0]]["seconds"]
    metrics_file = settings.profile_root(args.profile, work / "data") / "reports" / "banknotes_logreg" / "metrics.json"
    test_accuracy = json.loads(metrics_file.read_text())["test"]["accuracy"] if metrics_file.exists() else None

    result = {
        "benchmark": "materialize_time", "profile": args.profile, "command": pipeline["command"],
        "returncode": pipeline["returncode"], "run_id": events["run_id"], "run_status": events["run_status"],
        "wall_seconds": pipeline["wall_seconds"], "run_seconds": events["run_seconds"],
        "sum_of_steps_seconds": sum_steps, "steps": steps,
        "banknotes": {
            "epochs": epochs, "pipeline_steps": list(BANKNOTES_STEPS), "pipeline_steps_seconds": pipeline_steps,
            "pipeline_model_step_seconds": model_step, "pipeline_test_accuracy": test_accuracy,
            "model_step_paid_tf_import": paid,
            "first_training_step (pays the TensorFlow import)": first_training,
            "plain": plain,
            # like for like: if the pipeline's banknotes model step was the run's first TensorFlow step it
            # paid the TensorFlow import, so the plain side then counts its imports too
            "headline_plain_side": "imports + work" if paid else "work (imports excluded)",
            "headline_ratio": pipeline_steps / (plain["import_seconds"] + plain["work_seconds"] if paid
                                                else plain["work_seconds"]),
            "ratio_steps_over_plain_work": pipeline_steps / plain["work_seconds"],
            "ratio_steps_over_plain_imports_and_work": pipeline_steps / (plain["import_seconds"]
                                                                         + plain["work_seconds"]),
            "ratio_model_step_over_plain_work": model_step / plain["work_seconds"],
            "ratio_steps_over_plain_process": pipeline_steps / plain["process_wall_seconds"],
        },
        "python": sys.version.split()[0], "machine": platform.platform(), "cpus": os.cpu_count(),
        "load_average_at_start": load, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"materialize_time_{args.profile}"
    for suffix, text in ((".json", json.dumps(result, indent=2) + "\n"), (".md", markdown(result))):
        tmp = stem.with_suffix(suffix + ".tmp")
        tmp.write_text(text)
        tmp.replace(stem.with_suffix(suffix))

    print(f"\n{'step':<60} {'seconds':>8}")
    for step in sorted(steps, key=lambda s: -s["seconds"]):
        print(f"{step['step']:<60} {step['seconds']:>8.2f}{'' if step['status'] == 'success' else '  ' + step['status']}")
    print(f"{'CLI wall':<60} {pipeline['wall_seconds']:>8.2f}")
    print(f"{'sum of steps':<60} {sum_steps:>8.2f}")
    b = result["banknotes"]
    print(f"\npipeline banknotes model step / plain book script: {b['headline_ratio']:.1f}x\n"
          f"  pipeline: models+reports+exports steps for banknotes_logreg = {pipeline_steps:.2f} s "
          f"(train {epochs} epochs, evaluate, plots, report, SavedModel export + verification; model step "
          f"{model_step:.2f} s{', incl. the TensorFlow import' if paid else ''})\n"
          f"  plain:    {b['headline_plain_side']}: read_csv + split + build + compile + fit {epochs} epochs + "
          f"evaluate = {plain['work_seconds']:.2f} s, imports {plain['import_seconds']:.2f} s, whole process "
          f"{plain['process_wall_seconds']:.2f} s\n"
          f"  other pairings: steps/plain work {b['ratio_steps_over_plain_work']:.1f}x, model step/plain work "
          f"{b['ratio_model_step_over_plain_work']:.1f}x, steps/plain whole process "
          f"{b['ratio_steps_over_plain_process']:.1f}x; test accuracy pipeline {test_accuracy}, plain "
          f"{plain['test_accuracy']:.4f}")
    print(f"wrote {stem.with_suffix('.json').relative_to(REPO)} and .md")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0 if pipeline["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
