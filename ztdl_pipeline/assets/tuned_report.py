"""reports/<card>_tuned, its blocking gate, and exports/<card>_tuned (assets/tuned.py builds the chain).

The report judges the tuned model once on the test split next to the book-settings model (models/<card>), and
stores that comparison with its bootstrap noise; the gate is a function of the stored report and the tuned
export already published, so the check and the export decide alike."""


import json

import dagster as dg

from ztdl_pipeline.assets.base import asset_in, key, versioned_asset
from ztdl_pipeline.assets.exports import export_asset
from ztdl_pipeline.assets.family import TABULAR, Family
from ztdl_pipeline.assets.reports import report_provenance, write_report
from ztdl_pipeline.assets.tuned import tuned_card
from ztdl_pipeline.resources.storage import Storage


def tuned_decision(report: dict, model_dir):
    """The tuned gate on a stored report, against the tuned export currently published (`model_dir`)."""
    from ztdl_pipeline.core import registry
    from ztdl_pipeline.core.tuned_gate import Comparison, decide_tuned

    current = registry.current_entry(model_dir)
    return decide_tuned(Comparison(**report["comparison"]), baseline=report["gate"]["baseline"],
                        previous=current.get("gate_metric") if current else None)


def book_settings(card, hyper: dict, tuning: dict) -> dict:
    """The book model's settings as the report's "book" column shows them: its training settings and, for a card
    search, the builder arguments the card sets (a tuple as the search writes it: "24-12-6")."""
    if tuning.get("model") != "card":
        return dict(hyper)
    return {**hyper, **{k: "-".join(map(str, v)) if isinstance(v, (tuple, list)) else v
                        for k, v in card.builder_kwargs.items()}}


def tuned_report_asset(card, group: str, family: Family = TABULAR) -> dg.AssetsDefinition:
    tuned = tuned_card(card)

    @versioned_asset(card, tuned, key=key("reports", tuned.name),
                     ins={"trained": asset_in("models", tuned.name), "book": asset_in("models", card.name),
                          "features": asset_in("features", card.dataset)},
                     group_name=group, io_manager_key="report_io", kinds={"keras", "json", "markdown"},
                     description=f"{card.title}: the tuned model once on the test split, against the book settings")
    def _tuned_report(context: dg.AssetExecutionContext, storage: Storage, trained, book,
                      features: family.features_type) -> dg.Output[dict]:
        from ztdl_pipeline.core import tuned_report as R
        from ztdl_pipeline.core.gate import baseline_of
        from ztdl_pipeline.core.tuned_gate import compare
        from ztdl_pipeline.core.tuned_results import against_book

        info, tuning = trained.info, trained.info["tuning"]
        metric, profile = tuning["metric"], info["hyper"]["profile"]
        if tuning.get("model") == "card":  # the card's own evaluation, and each model's test outputs row by row
            metrics = {**family.evaluate(tuned, trained, features), "test_split_uses": 1}
            y_test, tuned_output = family.test_outputs(tuned, trained, features)
        else:
            metrics, y_test, tuned_output = R.evaluate_once(card, trained.model, family.view(card, features), profile)
        book_output = family.test_outputs(card, book, features)[1]
        comparison = compare(metric, y_test, tuned_output, book_output, resamples=tuning["resamples"],
                             seed=tuning["seed"])
        printed = card.book_value("test", metric)
        metrics.update(
            search=info["search"], tuning=tuning, storage=info["storage"], importance=info["importance"],
            chosen=info["chosen"], book_settings=book_settings(card, book.info["hyper"], tuning), validation_rows=info["validation_rows"],
            validation_rule=info.get("validation_rule"),
            train_rows=info["train_rows"], final_seconds=info["seconds"], comparison=comparison.__dict__,
            book_printed=printed,
            against_book=against_book(metric, comparison.tuned, printed, comparison.book_settings, tuning["note"],
                                      comparison.noise),
            gate={"split": "test", "metric": metric, "baseline": baseline_of(metrics, "test", metric)},
            provenance=report_provenance(context, tuned, profile))
        decision = tuned_decision(metrics, storage.folder("exports", tuned.name))
        metrics["gate"].update(rule=decision.bar, passed=decision.passed, reasons=decision.reasons,
                               threshold=decision.threshold)
        images = {"trials": R.trials_plot(info["search"]["trials"], metric, f"{card.name}: search")}
        if info["importance"]:
            images["importance"] = R.importance_plot(info["importance"], f"{card.name}: parameter importance")
        from ztdl_pipeline.core.plots import learning_curves

        images["learning_curves"] = learning_curves(trained.history, f"{tuned.title}: final training")
        shown = write_report(storage, tuned.name, lambda embed: R.markdown(card, metrics, images, embed), images,
                             R.story(metrics), "tuned_vs_book")
        s = info["search"]
        return dg.Output(metrics, metadata={
            **shown, f"test_{metric}": comparison.tuned, f"book_settings_test_{metric}": comparison.book_settings,
            "difference": comparison.difference, "noise": comparison.noise, "trials": s["finished"],
            "search_seconds": s["search_seconds"], "against_book": metrics["against_book"][0], "profile": profile})

    return _tuned_report


def tuned_gate_check(card) -> dg.AssetChecksDefinition:
    tuned = tuned_card(card)

    @dg.asset_check(asset=key("reports", tuned.name), name="export_gate", blocking=True,
                    description="the tuned model beats the book-settings model on the test split by more than the "
                                "noise (paired bootstrap), beats its trivial baseline and is no worse than the "
                                "current tuned export; a failure blocks the tuned export")
    def _gate(storage: Storage, report: dict) -> dg.AssetCheckResult:
        decision = tuned_decision(report, storage.folder("exports", tuned.name))
        comparison = report["comparison"]
        return dg.AssetCheckResult(passed=decision.passed, metadata={
            "metric": decision.metric, "value": decision.value, "book_settings": comparison["book_settings"],
            "difference": comparison["difference"], "noise": comparison["noise"], "rule": decision.bar,
            "reasons": json.dumps(decision.reasons)})

    return _gate


def tuned_export_asset(card, group: str, family: Family = TABULAR) -> dg.AssetsDefinition:
    """exports/<card>_tuned: the one export path, with the tuned gate; the book-settings export stays as is."""
    return export_asset(tuned_card(card), group, family, gate=tuned_decision)
