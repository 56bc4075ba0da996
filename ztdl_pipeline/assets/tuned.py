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

import dagster as dg
import pandas as pd

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


def tuned_model_asset(card, group: str, family: Family = TABULAR) -> dg.AssetsDefinition:
    tuned = tuned_card(card)
    config_cls = search_config(card)

    @versioned_asset(card, tuned, config_cls, key=key("models", tuned.name),
                     ins={"features": asset_in("features", card.dataset)},
                     required_resource_keys={"compute", "storage", "tuning_storage"}, group_name=group,
                     io_manager_key="keras_io", kinds={"keras", "optuna"}, pool="gpu",
                     description=f"{card.title}: the Optuna search of its card, then the best settings retrained")
    def _tuned_model(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                     features: pd.DataFrame) -> dg.Output:
        from ztdl_pipeline.core import tuning as T
        from ztdl_pipeline.core.tuned_models import (
            carve_validation,
            run_trial,
            settings_of,
            train_chosen,
            training_rows,
        )

        compute, storage = context.resources.compute, context.resources.storage
        device = compute.setup()
        profile = storage.run_profile()
        tuning, settings = resolve_search(config, card, profile, explicit_config(context))
        problems = tuning.problems()
        if problems:
            raise dg.Failure(f"{card.name}: its card's search is invalid: " + "; ".join(problems), allow_retries=False)
        data = family.view(card, features)
        train = training_rows(data)
        validation = carve_validation(train, tuning.validation, tuning.seed, data.attrs["task"] != "regression")
        code = context.assets_def.code_versions_by_key[context.asset_key]
        features_version = data_versions(context, [key("features", card.dataset)])
        # the study's name follows the code that trains and scores a trial, not this asset's version (which
        # includes the budgets): raising the trial budget continues the same study
        trial_code = versioning.code_version(run_trial, settings_of, carve_validation, T.search)
        name = T.study_name(tuned.name, profile, {**T.identity(tuning, card.hyper), "code": trial_code,
                                                   "features": features_version})
        url, where = context.resources.tuning_storage.locate(context.instance, storage.local_folder("tuning", "studies"))
        study_storage = context.resources.tuning_storage.open(url)
        context.log.info(f"searching {card.name}: study {name} in {where}; budgets {tuning.trials} trials, "
                         f"{tuning.timeout_s:g} s")

        def objective(params: dict):
            return run_trial(card, train, validation, settings_of(params, tuning, card.hyper), tuning,
                             seed=tuning.seed, seed_fn=compute.seed_everything, jit_compile=compute.jit_compile)

        outcome = T.search(objective, tuning, study_storage, name, on_trial=trial_logger(context, tuned.name,
                                                                                           tuning.trials))
        if outcome.best is None:
            raise dg.Failure(f"{tuned.name}: no trial of study {name} completed ({outcome.finished} finished, all "
                             "diverged): widen or lower the card's learning-rate range")
        chosen = settings_of(outcome.best["params"], tuning, card.hyper)
        epochs = max(1, outcome.best["best_epoch"])
        version = versioning.data_version({"inputs": features_version, "study": name, "finished": outcome.finished,
                                           "chosen": chosen, "epochs": epochs, "device": device, "code_version": code})
        trained = train_chosen(card, data, chosen, epochs, seed=tuning.seed, profile=profile,
                               seed_fn=compute.seed_everything, jit_compile=compute.jit_compile,
                               on_epoch_end=epoch_logger(context, epochs),
                               backup_dir=resume_folder(context, storage, tuned.name, version))
        trained.info.update(device=device, search=asdict(outcome), storage=where, tuning=asdict(tuning),
                            importance=T.importance(study_storage, name, tuning.seed),
                            validation_rows=int(validation.sum()), chosen={**chosen, "epochs": epochs})
        best = outcome.best
        context.log.info(f"{tuned.name}: best of {outcome.finished} trials is trial {best['number']} "
                         f"(validation {best['value']:.4f}), stopped by the {outcome.stopped_by}")
        return dg.Output(trained, data_version=dg.DataVersion(version), metadata={
            "trials": trials_markdown(outcome), "finished_trials": outcome.finished, "ran_now": outcome.ran_now,
            "resumed_from": outcome.resumed_from, "search_seconds": outcome.search_seconds,
            "best_validation_score": float(best["value"]), "best_trial": best["number"],
            "stopped_by": outcome.stopped_by, "study": name, "study_storage": where,
            "chosen_settings": json.dumps(trained.info["chosen"], sort_keys=True),
            "training_seconds": trained.info["seconds"], **settings_metadata(context, settings)})

    return _tuned_model


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
