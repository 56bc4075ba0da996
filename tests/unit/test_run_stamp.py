"""A no-op `make run` replays its last verified plan only while nothing that plan read has changed
(ztdl_pipeline/run_stamp.py): a watched file, a file added to a watched folder, a setting, another selection."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ztdl_pipeline import run_stamp

SELECT = 'key:"exports/iris_softmax_export"'
LINES = ["run: nothing to do: every selected asset is fresh"]


@pytest.fixture
def stamped(tmp_path, monkeypatch):
    """A stamp for SELECT watching one history folder and one source file, as run_check.remember writes it."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    history, source = tmp_path / "home" / "history", tmp_path / "iris.csv"
    history.mkdir(parents=True)
    (history / "runs.db").write_text("runs")
    source.write_text("5.1,3.5,1.4,0.2,setosa\n")
    settings = run_stamp.environment()
    folders, files = [str(history)], [str(source)]
    before = run_stamp.fingerprint(settings, SELECT, folders, files)
    assert run_stamp.save(SELECT, settings, folders, files, LINES, before)
    return history, source


def test_an_unchanged_state_replays_the_recorded_plan(stamped):
    replayed = run_stamp.replay(SELECT, run_stamp.environment())
    assert replayed[1:] == LINES and "nothing changed since the check" in replayed[0]


def test_a_changed_source_file_is_noticed(stamped):
    _, source = stamped
    with source.open("a") as handle:
        handle.write("6.1,3.0,5.0,1.9,virginica\n")
    assert run_stamp.replay(SELECT, run_stamp.environment()) is None


def test_a_new_file_in_the_run_history_is_noticed(stamped):
    history, _ = stamped
    (history / "a-new-run.db").write_text("events")
    assert run_stamp.replay(SELECT, run_stamp.environment()) is None


def test_a_changed_setting_or_another_selection_is_not_replayed(stamped, monkeypatch):
    assert run_stamp.replay("group:tabular", run_stamp.environment()) is None
    monkeypatch.setenv("ZTDL_PROFILE", "book")
    assert run_stamp.replay(SELECT, run_stamp.environment()) is None


def test_a_change_while_the_check_looked_leaves_no_stamp(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    source = tmp_path / "iris.csv"
    source.write_text("a")
    settings = run_stamp.environment()
    before = run_stamp.fingerprint(settings, SELECT, [], [str(source)])
    source.write_text("ab")  # written between the fingerprint and the end of the check
    assert not run_stamp.save(SELECT, settings, [], [str(source)], LINES, before)
    assert run_stamp.replay(SELECT, settings) is None


def test_without_an_instance_folder_nothing_is_stamped(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run_stamp.stamp_path(SELECT) is None
    assert run_stamp.replay(SELECT, run_stamp.environment()) is None


def test_the_replay_loads_neither_dagster_nor_the_code_location(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    code = ("import sys; from ztdl_pipeline import run, run_stamp; run_stamp.replay('x', run_stamp.environment()); "
            "print(sorted(m for m in ('dagster', 'pandas', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
