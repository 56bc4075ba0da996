"""The search (core/tuning.py) on a real Optuna SQLite storage, with a cheap objective in place of training:
reproducible from its seed, bounded by its budgets, resumable after a failure without repeating or changing a
trial; the search space as data (core/search_space.py); where studies are stored (resources/tuning.py)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import optuna
import pytest

from ztdl_pipeline.core import tuning as T
from ztdl_pipeline.core.search_space import Choice, FloatRange, IntRange, Tuning
from ztdl_pipeline.core.tuning import TrialResult
from ztdl_pipeline.resources.tuning import locate

SPACE = {"learning_rate": FloatRange(1e-3, 1.0, log=True), "hidden_layers": IntRange(0, 3),
         "batch_size": Choice((16, 32, 64))}
SEARCH = Tuning(space=SPACE, trials=6, startup_trials=2, seed=7)


def objective(params: dict) -> TrialResult:
    """A smooth score with its best near learning rate 0.05 and one hidden layer; nan (diverged) above 0.8."""
    import math

    if params["learning_rate"] > 0.8:
        return TrialResult(float("nan"), 0, 1, 0.0)
    value = 1 - (math.log10(params["learning_rate"]) + 1.3) ** 2 / 10 - abs(params["hidden_layers"] - 1) / 20
    return TrialResult(value, 3 + params["hidden_layers"], 5, 0.0)


def _storage(tmp_path: Path, name: str = "optuna.db"):
    return T.open_storage(f"sqlite:///{tmp_path / name}")


def _trials(outcome: T.Outcome) -> list[tuple]:
    return [(t["params"], t["value"], t["state"]) for t in outcome.trials if t["state"] != "RUNNING"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> T.Outcome:
    """SEARCH run once, uninterrupted, in a storage of its own."""
    return T.search(objective, SEARCH, _storage(tmp_path_factory.mktemp("reference")), "s")


def test_the_same_seed_gives_the_same_trials_and_another_seed_others(tmp_path, reference):
    first = reference
    again = T.search(objective, SEARCH, _storage(tmp_path, "b.db"), "s")
    other = T.search(objective, Tuning(space=SPACE, trials=6, startup_trials=2, seed=8), _storage(tmp_path, "c.db"), "s")
    assert first.finished == 6 and first.ran_now == 6 and first.stopped_by == "trial budget"
    assert _trials(first) == _trials(again)
    assert [t[0] for t in _trials(first)] != [t[0] for t in _trials(other)]
    assert first.best == max((t for t in first.trials if t["state"] == "COMPLETE"), key=lambda t: t["value"])


@pytest.mark.fault
@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_search_stopped_after_k_trials_resumes_with_only_the_remaining_trials_and_the_same_ones(tmp_path,
                                                                                                  reference):
    storage = _storage(tmp_path)

    def stop_after_three(trial: dict, finished: int) -> None:
        if finished == 3:
            raise KeyboardInterrupt("the worker was stopped")

    with pytest.raises(KeyboardInterrupt):
        T.search(objective, SEARCH, storage, "s", on_trial=stop_after_three)
    # a trial the dead worker had started (asked, never told) stays RUNNING and never counts
    optuna.load_study(study_name="s", storage=storage).ask()
    resumed = T.search(objective, SEARCH, storage, "s")
    assert (resumed.resumed_from, resumed.ran_now, resumed.finished) == (3, 3, 6)
    assert _trials(resumed) == _trials(reference)  # the resumed search proposed what the uninterrupted one did
    assert [t["state"] for t in resumed.trials].count("RUNNING") == 1
    assert T.search(objective, SEARCH, storage, "s").ran_now == 0  # nothing left: a rerun runs no trial


def test_raising_the_trial_budget_continues_the_same_study(tmp_path, reference):
    storage = _storage(tmp_path)
    T.search(objective, Tuning(space=SPACE, trials=4, startup_trials=2, seed=7), storage, "s")
    more = T.search(objective, SEARCH, storage, "s")
    assert (more.resumed_from, more.ran_now, more.finished) == (4, 2, 6)
    assert _trials(more) == _trials(reference)


def test_the_time_budget_counts_the_trials_compute_time(tmp_path):
    def slow(params: dict) -> TrialResult:
        time.sleep(0.3)
        return objective(params)

    outcome = T.search(slow, Tuning(space=SPACE, trials=50, timeout_s=0.7, seed=7), _storage(tmp_path), "s")
    seconds = [t["seconds"] for t in outcome.trials]
    assert outcome.stopped_by == "time budget" and outcome.finished == len(seconds) >= 1
    # no trial starts once 0.7 s are spent, and none is refused before (each trial's seconds are rounded to
    # milliseconds): on an idle machine two or more trials fit; under a heavy load one trial alone may pass 0.7 s
    assert sum(seconds[:-1]) < 0.71 and 0.69 <= sum(seconds) == pytest.approx(outcome.search_seconds, abs=0.01)


def test_a_diverged_trial_spends_the_budget_and_is_never_chosen(tmp_path):
    space = {"learning_rate": FloatRange(0.6, 1.0), "hidden_layers": IntRange(0, 1)}
    outcome = T.search(objective, Tuning(space=space, trials=4, startup_trials=4, seed=0), _storage(tmp_path), "s")
    diverged = [t for t in outcome.trials if t["diverged"]]
    assert diverged and all(t["state"] == "FAIL" for t in diverged)
    assert outcome.finished == 4 and len(outcome.trials) == 4
    assert outcome.best is not None and not outcome.best["diverged"]


def test_equal_scores_are_told_apart_by_the_validation_loss(tmp_path):
    def plateau(params: dict) -> TrialResult:  # every setting scores the same; the loss says which fits better
        return TrialResult(0.95, 3, 5, 0.0, loss=abs(params["learning_rate"] - 0.05))

    outcome = T.search(plateau, SEARCH, _storage(tmp_path), "s")
    complete = [t for t in outcome.trials if t["state"] == "COMPLETE"]
    assert outcome.best == min(complete, key=lambda t: t["validation_loss"]) and outcome.best["number"] != 0


def test_parameter_importance_needs_two_varying_parameters_and_four_trials(tmp_path):
    storage = _storage(tmp_path)
    T.search(objective, Tuning(space=SPACE, trials=8, startup_trials=8, seed=7), storage, "s")
    importance = T.importance(storage, "s", seed=0)
    assert set(importance) == set(SPACE) and sum(importance.values()) == pytest.approx(1.0)
    assert importance["learning_rate"] == max(importance.values())  # the objective depends on it most
    T.search(objective, Tuning(space=SPACE, trials=3, seed=7), storage, "few")  # three trials: too few
    assert T.importance(storage, "few", seed=0) == {}


def test_the_study_name_follows_what_is_searched_not_the_budgets():
    book = {"learning_rate": 0.1}
    name = T.study_name("iris_softmax_tuned", "book", T.identity(SEARCH, book))
    assert name.startswith("iris_softmax_tuned/book/")
    budgets = replace(SEARCH, trials=99, timeout_s=1.0, resamples=200, note="budgets and the report's settings")
    assert T.study_name("iris_softmax_tuned", "book", T.identity(budgets, book)) == name
    assert T.study_name("iris_softmax_tuned", "book", T.identity(replace(SEARCH, seed=8), book)) != name
    assert T.study_name("iris_softmax_tuned", "fast", T.identity(SEARCH, book)) != name


@pytest.mark.fault
@pytest.mark.parametrize("changes, problem", [
    ({"space": {"layers": IntRange(0, 2)}}, "unknown setting 'layers'"),
    ({"space": {"units": IntRange(8, 4)}}, "units needs low < high"),
    ({"space": {"learning_rate": FloatRange(0.0, 1.0, log=True)}}, "log-scaled"),
    ({"space": {"units": IntRange(4, 8)}, "fixed": {"units": 8}}, "both searched and fixed"),
    ({"space": SPACE, "metric": "f1"}, "metric 'f1'"),
    ({"space": SPACE, "fast": {"trials": 0}}, "trials=0 is out of range"),
    ({"space": SPACE, "fast": {"epochs": 3}}, "unknown field 'epochs'"),
])
def test_a_bad_search_is_named_before_anything_trains(changes, problem):
    assert any(problem in line for line in Tuning(**changes).problems())


def test_every_search_in_the_catalogue_is_valid():
    from ztdl_pipeline import catalog

    searches = {card.name: card.tuning for _, card in catalog.cards() if card.tuning is not None}
    assert len(searches) >= 8
    assert {name: t.problems() for name, t in searches.items() if t.problems()} == {}
    assert all(t.for_profile(fast=True).trials < t.trials for t in searches.values())


def test_where_studies_are_kept(tmp_path):
    root = tmp_path / "data" / "tuning" / "studies"
    url = "postgresql+psycopg2://ztdl:secret@db.example:5432/dagster"
    assert locate("sqlite:////x.db", url, "/home", root) == ("sqlite:////x.db", "the resource's configured URL")
    found, where = locate(None, url, "/home", root)
    assert found == url and "secret" not in where and "schema optuna" in where
    assert locate(None, None, "/home", root)[0] == "sqlite:////home/optuna.db"  # beside the instance
    # an ephemeral instance (no folder of its own) keeps studies under the storage root, PostgreSQL or not
    assert locate(None, url, None, root)[0] == f"sqlite:///{root}/optuna.db"
