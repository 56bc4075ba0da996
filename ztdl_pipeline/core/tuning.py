"""A bounded, reproducible, resumable hyper-parameter search with Optuna.

- **Reproducible.** Each trial gets a fresh `TPESampler(seed=tuning.seed + finished trials)`, so the k-th
  finished trial depends only on the seed and the k trials before it: the same seed gives the same trials,
  and a search killed after k trials and resumed proposes what the uninterrupted search would have.
- **Resumable and shared.** The study lives in an RDB storage (SQLite file or PostgreSQL) under a name that
  says what is searched; `load_if_exists=True` continues it: finished trials are counted and only the
  remainder runs. Several processes may work on one study; a trial whose process died keeps no heartbeat and
  is marked failed by the next worker after `GRACE_S` (it never counts toward the budget).
- **Bounded.** At most `tuning.trials` finished trials, and no new trial once the finished trials' compute
  time reaches `tuning.timeout_s` (summed from the storage, so time spent before a kill counts too).

A finished trial is a completed one, or one whose training diverged (failed with the `diverged` mark):
both spent the budget. Optuna is imported here only; the catalogue declares searches as plain data.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import optuna

from ztdl_pipeline.core.search_space import Choice, FloatRange, IntRange, Tuning

HEARTBEAT_S = 10  # a running trial's process writes a heartbeat this often
GRACE_S = 60  # a running trial without a heartbeat for this long belongs to a dead process: failed
SCHEMA = "optuna"  # on PostgreSQL, the studies live in this schema (Dagster's tables, alembic's included, stay apart)


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """The RDB storage at `url` (SQLAlchemy: sqlite:///path or postgresql+psycopg2://...), heartbeats on. On
    PostgreSQL the tables go to schema `optuna`, created if missing: Optuna and Dagster both keep an
    `alembic_version` table, so they cannot share one schema."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        import sqlalchemy

        engine = sqlalchemy.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        engine.dispose()
        engine_kwargs = {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}
    elif url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}  # several workers on one file wait for the write lock
    with warnings.catch_warnings():  # heartbeats are marked experimental in Optuna 4 and 5
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S,
                                          grace_period=GRACE_S)


def study_name(example: str, profile: str, identity: Mapping[str, Any]) -> str:
    """`<example>/<profile>/<hash>`: the hash covers what makes trials comparable (data, code, space, seed, ...)
    and leaves out the budgets, so raising `trials` continues the same study."""
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{example}/{profile}/{digest}"


def identity(tuning: Tuning, book: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a search that change what its trials are (budgets, bootstrap and notes left out)."""
    kept = {k: v for k, v in asdict(tuning).items() if k not in ("trials", "timeout_s", "resamples", "note", "fast")}
    return {"tuning": kept, "book": dict(book)}


def suggest(trial: optuna.Trial, space: Mapping[str, Any]) -> dict[str, Any]:
    """One value per dimension of the space, in the space's order."""
    params = {}
    for name, dim in space.items():
        if isinstance(dim, FloatRange):
            params[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log)
        elif isinstance(dim, IntRange):
            params[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
        elif isinstance(dim, Choice):
            params[name] = trial.suggest_categorical(name, list(dim.options))
        else:
            raise TypeError(f"space dimension {name!r}: {dim!r} is not a FloatRange, IntRange or Choice")
    return params


def counted(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The finished trials (completed, or failed because the training diverged), in trial order."""
    trials = study.get_trials(deepcopy=False)
    return [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE
            or (t.state == optuna.trial.TrialState.FAIL and t.user_attrs.get("diverged"))]


def _seconds(trial: optuna.trial.FrozenTrial) -> float:
    if trial.datetime_start and trial.datetime_complete:
        return (trial.datetime_complete - trial.datetime_start).total_seconds()
    return 0.0


@dataclass(frozen=True)
class TrialResult:
    """What training one setting gave (core/tuned_models.run_trial)."""

    score: float  # on the validation rows (nan: the training diverged)
    best_epoch: int  # the epoch with the lowest validation loss (early stopping restored its weights)
    epochs_run: int
    seconds: float
    loss: float = float("nan")  # that lowest validation loss: breaks ties between equal scores


@dataclass
class Outcome:
    """What a search did: every trial of the study, the best one, and how this run added to it."""

    study: str
    trials: list[dict[str, Any]]  # every trial in the study (any state), for the report
    best: dict[str, Any] | None  # the best finished trial (None: none completed)
    finished: int  # finished trials counted toward the budget
    ran_now: int  # trials this call ran
    resumed_from: int  # finished trials the study held before this call (0: a fresh search)
    search_seconds: float  # compute time of the finished trials (this call and any before it)
    stopped_by: str  # "trial budget" or "time budget"
    params: list[str] = field(default_factory=list)


def describe(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    return {"number": trial.number, "state": trial.state.name, "value": trial.value, "params": dict(trial.params),
            "best_epoch": trial.user_attrs.get("best_epoch"), "epochs_run": trial.user_attrs.get("epochs_run"),
            "validation_loss": trial.user_attrs.get("validation_loss"),
            "seconds": round(_seconds(trial), 3), "diverged": bool(trial.user_attrs.get("diverged"))}


def search(objective: Callable[[dict[str, Any]], Any], tuning: Tuning, storage: Any, name: str, *,
           on_trial: Callable[[dict[str, Any], int], None] | None = None,
           on_start: Callable[[int, float], None] | None = None) -> Outcome:
    """Run the search `name` in `storage` until `tuning`'s budgets are spent.

    `objective(params)` trains one setting and returns a TrialResult (score nan: diverged).
    `on_trial(trial, finished)` hears of each trial as it ends (log it, or raise to stop the search);
    `on_start(finished, seconds)` of what the study already held (a resumed search: finished > 0)."""
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True)
    before = len(counted(study))
    if on_start is not None:
        on_start(before, sum(map(_seconds, counted(study))))
    ran = 0

    def run(trial: optuna.Trial) -> float:
        result = objective(suggest(trial, tuning.space))
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("epochs_run", result.epochs_run)
        trial.set_user_attr("validation_loss", result.loss)
        if result.score != result.score:  # nan: Optuna fails the trial; the mark counts it as finished
            trial.set_user_attr("diverged", True)
        return result.score

    while True:
        finished = counted(study)
        if len(finished) >= tuning.trials:
            stopped = "trial budget"
            break
        if sum(map(_seconds, finished)) >= tuning.timeout_s:
            stopped = "time budget"
            break
        study.sampler = optuna.samplers.TPESampler(seed=tuning.seed + len(finished),
                                                   n_startup_trials=tuning.startup_trials)
        study.optimize(run, n_trials=1)
        ran += 1
        if on_trial is not None:
            on_trial(describe(study.get_trials(deepcopy=False)[-1]), len(counted(study)))
    return outcome(study, name, before=before, ran=ran, stopped=stopped, params=list(tuning.space))


def _rank(trial: optuna.trial.FrozenTrial) -> tuple[float, float, int]:
    """Best score first; among equal scores (a validation split of a few hundred rows ties often) the lower
    validation loss, then the earlier trial."""
    loss = trial.user_attrs.get("validation_loss")
    return (trial.value, -loss if isinstance(loss, (int, float)) and loss == loss else float("-inf"), -trial.number)


def outcome(study: optuna.Study, name: str, *, before: int, ran: int, stopped: str, params: list[str]) -> Outcome:
    finished = counted(study)
    complete = [t for t in finished if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=_rank, default=None)
    return Outcome(name, [describe(t) for t in study.get_trials(deepcopy=False)],
                   describe(best) if best else None, len(finished), ran, before,
                   round(sum(map(_seconds, finished)), 3), stopped, params)


def importance(storage: Any, name: str, seed: int) -> dict[str, float]:
    """fANOVA importance of each searched parameter for the validation score (optuna.importance), or {} when
    fewer than two parameters vary or fewer than four trials completed (too few to say anything)."""
    study = optuna.load_study(study_name=name, storage=storage)
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    varied = [p for p in {k for t in complete for k in t.params} if len({repr(t.params.get(p)) for t in complete}) > 1]
    if len(varied) < 2 or len(complete) < 4:
        return {}
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    values = optuna.importance.get_param_importances(study, evaluator=evaluator, params=sorted(varied))
    return {k: float(v) for k, v in values.items()}
