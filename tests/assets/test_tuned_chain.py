"""A tuned chain end to end (fast profile: three trials), the way the issue asks a user to try it: materialize it
with `dagster asset materialize`, kill the process (SIGKILL) once a trial has finished, materialize again and
read the report. Real Keras training, a real Optuna study in SQLite beside the Dagster instance."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import report_metrics
from ztdl_pipeline.assets.base import key

REPO = Path(__file__).resolve().parents[2]
CARD = "moons_logreg"  # generated data, a logistic regression the book prints 0.847 for: a search clearly wins
TUNED = f"{CARD}_tuned"
TRIALS = 3  # the fast profile's budget (catalog/tabular.py)


def _finished(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:  # the tables are being created
        return 0


def _kill_after_first_trial(env: dict[str, str], home: Path, log: Path) -> int:
    """Run `dagster asset materialize` of the tuned report and its upstream, SIGKILL it once a trial finished;
    return how many trials had finished."""
    proc = subprocess.Popen([sys.executable, "-m", "dagster", "asset", "materialize", "-m", "ztdl_pipeline.definitions",
                             "--select", f'+key:"reports/{TUNED}_report"'], cwd=REPO, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while _finished(home / "optuna.db") < 1:
            assert proc.poll() is None, f"the materialization ended before a trial finished:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no trial finished in 300 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    return _finished(home / "optuna.db")


@pytest.fixture(scope="module")
def resumed(tmp_path_factory, mirror):
    """(the in-process run that resumed the killed search, storage root, DAGSTER_HOME, trials finished at the
    kill, the instance)."""
    base = tmp_path_factory.mktemp("tuned")
    home, data = base / "home", base / "data"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(data), "ZTDL_DATA_MIRROR": str(mirror),
                "ZTDL_PROFILE": "fast", "TF_CPP_MIN_LOG_LEVEL": "2"})
    killed_at = _kill_after_first_trial(env, home, base / "killed.log")
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", "ZTDL_DATA_DIR", "ZTDL_DATA_MIRROR", "ZTDL_PROFILE"):
            patch.setenv(name, env[name])
        with dg.DagsterInstance.get() as instance:  # the killed command's instance
            result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                    selection=dg.AssetSelection.assets(key("exports", TUNED)).upstream(),
                                    raise_on_error=False)
            yield result, data / "fast", home, killed_at, instance


def _model_metadata(result) -> dict:
    [event] = result.asset_materializations_for_node(f"models__{TUNED}_model")
    return {k: v.value for k, v in event.metadata.items()}


@pytest.mark.fault
def test_a_killed_search_resumes_and_runs_only_the_remaining_trials(resumed):
    result, root, home, killed_at, _ = resumed
    assert result.success
    metadata = _model_metadata(result)
    assert 1 <= killed_at < TRIALS
    assert (metadata["resumed_from"], metadata["ran_now"], metadata["finished_trials"]) == (
        killed_at, TRIALS - killed_at, TRIALS)
    assert (home / "optuna.db").is_file() and str(home) in metadata["study_storage"]  # beside the instance
    search = report_metrics(root, TUNED)["search"]
    # the trial the kill interrupted (if one had started) is kept as it was left, and never counted
    left = [t for t in search["trials"] if t["state"] != "COMPLETE"]
    assert len(search["trials"]) == TRIALS + len(left) and len(left) <= 1
    assert all(t["state"] in ("RUNNING", "FAIL") and not t["diverged"] for t in left)
    report = (root / "reports" / TUNED / "report.md").read_text()
    assert f"| resumed from | {killed_at} finished trials |" in report


def test_the_tuned_chain_publishes_its_own_export_and_reports_every_trial_with_the_test_split_used_once(resumed):
    result, root, _, _, _ = resumed
    gates = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations() if e.check_name == "export_gate"}
    gate = gates[f"reports/{TUNED}_report"]
    assert gate.passed, gate.metadata["reasons"].value
    assert (root / "exports" / TUNED / "1" / "saved_model.pb").is_file()
    assert not (root / "exports" / CARD).exists()  # the book-settings export is another asset, untouched here
    metrics = report_metrics(root, TUNED)
    assert metrics["test_split_uses"] == 1
    assert metrics["test"]["n"] == metrics["comparison"]["rows"] == 300
    # the validation rows were carved from the 700 training rows; the chosen settings retrained on all 700
    assert metrics["validation_rows"] == 140 and metrics["train_rows"] == metrics["train"]["n"] == 700
    comparison = metrics["comparison"]
    assert comparison["difference"] == pytest.approx(comparison["tuned"] - comparison["book_settings"])
    assert comparison["difference"] > comparison["noise"] > 0
    assert metrics["against_book"][0] in ("beats the book", "below the book", "matches the book")
    folder = root / "reports" / TUNED
    report = (folder / "report.md").read_text()
    completed = [t for t in metrics["search"]["trials"] if t["state"] == "COMPLETE"]
    assert len(completed) == TRIALS
    for trial in completed:  # every trial is a row of the report's table
        assert f"| {trial['number']} | complete |" in report
    assert "The test split (300 rows) was used once" in report and (folder / "trials.png").is_file()
    assert "| trial |" in _model_metadata(result)["trials"]  # the model's materialization lists them too
    (shown,) = [m.materialization.metadata for m in result.get_asset_materialization_events()
                if m.asset_key.to_user_string() == f"reports/{TUNED}_report"]
    story = shown["tuned_vs_book"].value  # the report's few lines, shown inline in the UI
    assert len(story) < 1000 and f"tuned **{comparison['tuned']:.4f}**" in story and "Gate `" in story


def test_each_trial_is_logged_as_it_finishes(resumed):
    result, _, _, killed_at, instance = resumed
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    logged = [m for m in messages if m.startswith(f"{TUNED} trial ")]
    assert len(logged) == TRIALS - killed_at
    assert all("validation score" in m and "learning_rate=" in m for m in logged)
    # the resumed run says so before its first trial
    assert any(m.startswith(f"resuming {TUNED}'s search from {killed_at} finished trial(s) of {TRIALS}")
               for m in messages), [m for m in messages if "search" in m]


def test_the_same_seed_gives_the_same_trial_in_another_process(resumed):
    """Trial 0 ran in the killed `dagster` process; trained again here from its settings and the same seed, it
    scores the same."""
    from ztdl_pipeline import catalog
    from ztdl_pipeline.core.tuned_models import carve_validation, run_trial, settings_of, training_rows
    from ztdl_pipeline.resources.compute import TensorFlowCompute
    from ztdl_pipeline.resources.io import read_parquet

    _, root, _, _, _ = resumed
    card = catalog.card(CARD)
    tuning = card.tuning.for_profile(fast=True)
    first = report_metrics(root, TUNED)["search"]["trials"][0]
    compute = TensorFlowCompute()
    compute.setup()
    train = training_rows(read_parquet(root / "features" / "moons.parquet"))
    again = run_trial(card, train, carve_validation(train, tuning.validation, tuning.seed, True),
                      settings_of(first["params"], tuning, card.hyper), tuning, seed=tuning.seed,
                      seed_fn=compute.seed_everything, jit_compile=compute.jit_compile)
    assert (again.score, again.best_epoch) == (first["value"], first["best_epoch"]), json.dumps(first)
