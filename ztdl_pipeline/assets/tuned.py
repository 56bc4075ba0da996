"""Tuned chains: for every card with a search (`card.tuning`), beside its book chain,

    features/<dataset> -> models/<card>_tuned -> reports/<card>_tuned -> exports/<card>_tuned
                          models/<card> (book settings) ----^

models/<card>_tuned runs the card's Optuna search (core/tuning.py) in the TuningStorage resource's study, logs
every trial as it ends and retrains the best settings; the report judges that model once on the test split
against the book-settings model (core/tuned_report.py); the export is gated on beating it by more than the
noise (core/tuned_gate.py) and is published under its own name, never over the book-settings export.
A domain's defs folder instantiates `TunedChains` in a defs.yaml (ztdl_pipeline/defs/tabular/tuned/).
"""


import importlib
import json
from dataclasses import asdict, dataclass, replace
from types import ModuleType
from typing import Any

import dagster as dg

from ztdl_pipeline.assets.base import asset_in, data_versions, explicit_config, key, settings_metadata, versioned_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.assets.exports import export_reload_check
from ztdl_pipeline.assets.family import TABULAR, Family
from ztdl_pipeline.assets.models import epoch_logger, resume_folder
from ztdl_pipeline.core import versioning

SEARCHED = ("trials", "timeout_s", "seed")  # the search's settings the launchpad offers (the rest is the card's)


def tuned_card(card):
    """The card of a tuned variant: its own name (so its own keys, folders and served name), same data."""
    return replace(card, name=f"{card.name}_tuned", title=f"{card.title} (tuned)", tuning=None)


def search_config(card) -> type[dg.Config]:
    values = {name: getattr(card.tuning, name) for name in SEARCHED}
    notes = {name: f"card: {values[name]!r}" + (f"; fast profile: {card.tuning.fast[name]!r}"
                                                  if name in card.tuning.fast else "") for name in SEARCHED}
    return values_config(f"{card.name}_search", values, f"The search of {card.name}'s tuned model", notes)


def resolve_search(config, card, profile: str, explicit):
    """(the Tuning this run uses, core.profile.Settings): the profile's changes, then the run config's values."""
    from ztdl_pipeline.core.profile import resolve_config, rules

    tuning = card.tuning.for_profile(rules(profile).applies_fast_overrides)
    fast = {k: v for k, v in card.tuning.fast.items() if k in SEARCHED}
    settings = resolve_config(config, profile, fast, explicit)
    return replace(tuning, **settings.values), settings


def trial_logger(context: dg.AssetExecutionContext, name: str, budget: int):
    """Log each trial as it ends: number, state, score, settings (what the run's log view shows live)."""

    def log(trial: dict, finished: int) -> None:
        score = "diverged" if trial["diverged"] else (
            f"validation score {trial['value']:.4f}" if trial["value"] is not None else trial["state"].lower())
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial["params"].items())
        context.log.info(f"{name} trial {trial['number']} ({finished}/{budget} finished): {score}; {params}; "
                         f"best epoch {trial['best_epoch']}, {trial['seconds']:.1f} s")

    return log


def trials_markdown(outcome) -> dg.MetadataValue:
    from ztdl_pipeline.core.tuned_report import trials_table

    return dg.MetadataValue.md(trials_table(outcome.trials, outcome.params))


def profile_hyper(card, profile: str, hyper_type: type):
    """The card's training settings under `profile` (its book values, the fast profile's changes applied): what
    its book-settings model trains with when the run config sets nothing, and where a card search starts."""
    from ztdl_pipeline.assets.config import resolve_training, training_config

    return resolve_training(training_config(card)(), card, profile, hyper_type)[0]


@dataclass
class Search:
    """One tuned model's search as the asset prepared it: what a search kind needs to run its trials."""

    context: dg.AssetExecutionContext
    tuning: Any
    features: Any
    profile: str
    storage: Any  # the Optuna storage
    study: str


def tuned_model_asset(card, group: str, family: Family = TABULAR) -> dg.AssetsDefinition:
    tuned = tuned_card(card)
    config_cls = search_config(card)
    by_card = card.tuning.model == "card"

    @versioned_asset(card, tuned, config_cls, family.builder_ref(card) if by_card else None,
                     key=key("models", tuned.name),
                     ins={"features": asset_in("features", card.dataset)},
                     required_resource_keys={"compute", "storage", "tuning_storage"}, group_name=group,
                     io_manager_key="keras_io", kinds={"keras", "optuna"}, pool="gpu",
                     description=f"{card.title}: the Optuna search of its card, then the best settings retrained")
    def _tuned_model(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                     features: family.features_type) -> dg.Output:
        from ztdl_pipeline.core import tuning as T

        compute, storage = context.resources.compute, context.resources.storage
        device = compute.setup()
        profile = storage.run_profile()
        tuning, settings = resolve_search(config, card, profile, explicit_config(context))
        problems = tuning.problems()
        if by_card:
            from ztdl_pipeline.core.tuned_search import card_space_problems

            problems += card_space_problems(tuning, card, family.hyper_type)
        if problems:
            raise dg.Failure(f"{card.name}: its card's search is invalid: " + "; ".join(problems), allow_retries=False)
        code = context.assets_def.code_versions_by_key[context.asset_key]
        features_version = data_versions(context, [key("features", card.dataset)])
        # the study's name follows the code that trains and scores a trial, not this asset's version (which
        # includes the budgets): raising the trial budget continues the same study
        trial_code = _card_trial_code(family) if by_card else _dense_trial_code()
        book = dict(card.hyper) if not by_card else {**card.hyper, "builder_kwargs": dict(card.builder_kwargs)}
        name = T.study_name(tuned.name, profile, {**T.identity(tuning, book), "code": trial_code,
                                                   "features": features_version})
        url, where = context.resources.tuning_storage.locate(context.instance, storage.local_folder("tuning", "studies"))
        search = Search(context, tuning, features, profile, context.resources.tuning_storage.open(url), name)
        context.log.info(f"searching {card.name}: study {name} in {where}; budgets {tuning.trials} trials, "
                         f"{tuning.timeout_s:g} s")
        outcome, train_final, extra = (_card_search if by_card else _dense_search)(search, card, family, compute)
        best, epochs = outcome.best, extra.pop("epochs")
        version = versioning.data_version({"inputs": features_version, "study": name, "finished": outcome.finished,
                                           "chosen": extra["chosen"], "device": device, "code_version": code})
        trained = train_final(epoch_logger(context, epochs),
                              resume_folder(context, storage, tuned.name, version))
        trained.info.update(device=device, search=asdict(outcome), storage=where, tuning=asdict(tuning),
                            importance=T.importance(search.storage, name, tuning.seed), **extra)
        context.log.info(f"{tuned.name}: best of {outcome.finished} trials is trial {best['number']} "
                         f"(validation {best['value']:.4f}), stopped by the {outcome.stopped_by}")
        return dg.Output(trained, data_version=dg.DataVersion(version), metadata={
            "trials": trials_markdown(outcome), "finished_trials": outcome.finished, "ran_now": outcome.ran_now,
            "resumed_from": outcome.resumed_from, "search_seconds": outcome.search_seconds,
            "best_validation_score": float(best["value"]), "best_trial": best["number"],
            "stopped_by": outcome.stopped_by, "study": name, "study_storage": where,
            "chosen_settings": json.dumps(trained.info["chosen"], sort_keys=True, default=str),
            "training_seconds": trained.info["seconds"], **settings_metadata(context, settings)})

    return _tuned_model


def _dense_trial_code() -> str:
    from ztdl_pipeline.core import tuning as T
    from ztdl_pipeline.core.tuned_models import carve_validation, run_trial, settings_of

    return versioning.code_version(run_trial, settings_of, carve_validation, T.search)


def _card_trial_code(family: Family) -> str:
    from ztdl_pipeline.core import tuning as T
    from ztdl_pipeline.core.tuned_search import card_settings, run_card_trial, search_table

    return versioning.code_version(run_card_trial, card_settings, search_table, T.search,
                                   type(family).train, type(family).evaluate)


def _searched(search: Search, card, objective):
    """Run the study; fail clearly when no trial completed."""
    from ztdl_pipeline.core import tuning as T

    tuned = tuned_card(card)

    def on_start(finished: int, seconds: float) -> None:
        if finished:  # a killed or finished search of the same settings: only the remainder runs
            search.context.log.info(f"resuming {tuned.name}'s search from {finished} finished trial(s) of "
                                    f"{search.tuning.trials} ({seconds:.0f} s of the {search.tuning.timeout_s:g} s "
                                    "budget already spent)")

    outcome = T.search(objective, search.tuning, search.storage, search.study, on_start=on_start,
                       on_trial=trial_logger(search.context, tuned.name, search.tuning.trials))
    if outcome.best is None:
        raise dg.Failure(f"{tuned.name}: no trial of study {search.study} completed ({outcome.finished} finished, "
                         "all diverged): widen or lower the card's learning-rate range")
    return outcome


def _dense_search(search: Search, card, family: Family, compute):
    """A tabular card: dense networks scored on validation rows carved from the training split, each stopping
    early; the best retrained on the whole training split for its best epoch count."""
    from ztdl_pipeline.core.tuned_models import carve_validation, run_trial, settings_of, train_chosen, training_rows

    tuning = search.tuning
    data = family.view(card, search.features)
    train = training_rows(data)
    validation = carve_validation(train, tuning.validation, tuning.seed, data.attrs["task"] != "regression")

    def objective(params: dict):
        return run_trial(card, train, validation, settings_of(params, tuning, card.hyper), tuning,
                         seed=tuning.seed, seed_fn=compute.seed_everything, jit_compile=compute.jit_compile)

    outcome = _searched(search, card, objective)
    chosen = settings_of(outcome.best["params"], tuning, card.hyper)
    epochs = max(1, outcome.best["best_epoch"])

    def train_final(on_epoch_end, backup_dir):
        return train_chosen(card, data, chosen, epochs, seed=tuning.seed, profile=search.profile,
                            seed_fn=compute.seed_everything, jit_compile=compute.jit_compile,
                            on_epoch_end=on_epoch_end, backup_dir=backup_dir)

    return outcome, train_final, {"chosen": {**chosen, "epochs": epochs}, "epochs": epochs,
                                  "validation_rows": int(validation.sum())}


def _card_search(search: Search, card, family: Family, compute):
    """A vision, text or time-series card: its own builder and training step with the trial's settings, scored
    by its own evaluation on validation rows relabelled from the training split; the best retrained by the same
    step on the whole training split."""
    from ztdl_pipeline.core.tuned_search import card_settings, run_card_trial, search_table

    tuning = search.tuning
    hyper = profile_hyper(card, search.profile, family.hyper_type)
    table, validation_rows = search_table(search.features, tuning.validation, tuning.seed,
                                          chronological=family.search_chronological, stratify=family.search_stratify)
    steps = {"seed_fn": compute.seed_everything, "jit_compile": compute.jit_compile}

    def objective(params: dict):
        trial_card, trial_hyper, _ = card_settings(card, hyper, params, tuning)
        return run_card_trial(family.train, family.evaluate, trial_card, trial_hyper, table, tuning.metric, **steps)

    outcome = _searched(search, card, objective)
    chosen_card, chosen_hyper, chosen = card_settings(card, hyper, outcome.best["params"], tuning)
    final_card = replace(tuned_card(card), builder_kwargs=chosen_card.builder_kwargs)

    def train_final(on_epoch_end, backup_dir):
        resumable = {"backup_dir": backup_dir} if family.resumable else {}
        return family.train(final_card, search.features, chosen_hyper, on_epoch_end=on_epoch_end, **steps, **resumable)

    return outcome, train_final, {"chosen": {**chosen, "epochs": chosen_hyper.epochs}, "epochs": chosen_hyper.epochs,
                                  "validation_rows": validation_rows, "validation_rule": (
                                      "the last rows of the training period" if family.search_chronological
                                      else f"a share stratified by class, seed {tuning.seed}"),
                                  "builder_kwargs": {k: str(v) for k, v in chosen_card.builder_kwargs.items()}}


def tuned_chain(card, group: str, family: Family = TABULAR
                ) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    from ztdl_pipeline.assets.tuned_report import tuned_export_asset, tuned_gate_check, tuned_report_asset

    return ([tuned_model_asset(card, group, family), tuned_report_asset(card, group, family),
             tuned_export_asset(card, group, family)],
            [tuned_gate_check(card), export_reload_check(tuned_card(card), family)])


def tuned_definitions(catalog: ModuleType, group: str, family: Family) -> dg.Definitions:
    assets: list[dg.AssetsDefinition] = []
    checks: list[dg.AssetChecksDefinition] = []
    for card in getattr(catalog, "CARDS", ()):
        if getattr(card, "tuning", None) is not None:
            more_assets, more_checks = tuned_chain(card, group, family)
            assets += more_assets
            checks += more_checks
    return dg.Definitions(assets=assets, asset_checks=checks)


@dataclass
class TunedChains(dg.Component, dg.Resolvable):
    """The tuned chain of every card of one catalogue module that declares a search."""

    catalog: str  # e.g. ztdl_pipeline.catalog.tabular
    group: str  # the asset group, e.g. tuned
    family: str = "ztdl_pipeline.assets.family:TABULAR"

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from ztdl_pipeline.core.refs import resolve

        return tuned_definitions(importlib.import_module(self.catalog), self.group, resolve(self.family))
