"""reports/<card>: the trained model judged on its features, ours next to the book's numbers, and the blocking
export gate. `write_report` is the one report writer: every report (the cards' and the chapter experiments')
goes through it, into the storage resource's folder."""


import json
import time
from collections.abc import Callable
from typing import Any

import dagster as dg

from ztdl_pipeline.assets.base import asset_in, data_versions, key, rounded, versioned_asset
from ztdl_pipeline.assets.family import TABULAR, Family
from ztdl_pipeline.resources.storage import Storage

FAMILIES: dict[str, tuple[Any, Family]] = {}  # card name -> (card, family), for tools and tests


def write_report(storage: Storage, name: str, markdown: Callable[[bool], str], images: dict[str, bytes],
                 summary: str, label: str = "ours_vs_book") -> dict[str, Any]:
    """Write reports/<name>/report.md and its PNGs (atomically) under the run profile's root; return the
    metadata that shows the report in the UI: `summary` (entry `label`), a few lines the UI shows inline (under
    its Markdown limit, core/results.INLINE_MARKDOWN_LIMIT), first, then the full report (`markdown(embed)`:
    images inline for the UI, as files on disk) behind its link."""
    from ztdl_pipeline.core.report import write_report_folder
    from ztdl_pipeline.core.results import INLINE_MARKDOWN_LIMIT

    if len(summary) >= INLINE_MARKDOWN_LIMIT:
        raise ValueError(f"reports/{name}: the inline summary has {len(summary)} characters; the UI shows "
                         f"fewer than {INLINE_MARKDOWN_LIMIT} inline")
    folder = storage.folder("reports", name)
    write_report_folder(folder, markdown(False), images)
    return {label: dg.MetadataValue.md(summary), "report": dg.MetadataValue.md(markdown(True)),
            "report_folder": dg.MetadataValue.path(str(folder))}


def with_learning_curve(shown: dict[str, Any], history: dict | None) -> dict[str, Any]:
    """`shown` with a `learning_curve` entry after the inline story: the loss per epoch as a picture small enough
    for the UI to show inline (core/sparkline.py), where the training recorded a loss."""
    from ztdl_pipeline.core.sparkline import loss_markdown

    curve = loss_markdown(history) if history else None
    if curve is None:
        return shown
    first, *rest = shown.items()
    return dict([first, ("learning_curve", dg.MetadataValue.md(curve)), *rest])


def gate_summary(card, metrics: dict) -> dict:
    """What the report records of its gate: split, metric, threshold, and the trivial predictor's score."""
    from ztdl_pipeline.core.gate import BASELINE_RULE, baseline_of

    split, metric = card.primary
    return {"split": split, "metric": metric, "threshold": card.gate_threshold(metrics["profile"]),
            "tolerance": card.tolerance if card.threshold is None else None,
            "baseline": baseline_of(metrics, split, metric), "baseline_rule": metrics.get(BASELINE_RULE, "")}


def report_provenance(context: dg.AssetExecutionContext, card, profile: str) -> dict:
    """Which run made a report, when, from which model version and which commit (the results table reads it)."""
    from ztdl_pipeline.core.provenance import git_commit

    model = key("models", card.name)
    return {"run_id": context.run_id, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "profile": profile,
            "git_commit": git_commit(), "model_data_version": data_versions(context, [model])[model.to_user_string()]}


def report_numbers(metrics: dict, splits: tuple[str, ...]) -> dict[str, float]:
    """Our float metrics per split and the book's numbers, as flat metadata entries (plotted over time by the
    UI), rounded to what they say (assets/base.rounded)."""
    numbers = {f"{split}_{name}": value for split in splits for name, value in metrics.get(split, {}).items()
               if isinstance(value, float)}
    numbers.update({f"book_{row['split']}_{row['metric']}": row["book"] for row in metrics["book"]})
    return rounded(numbers)


METRICS_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("split", "string"), dg.TableColumn("metric", "string"),
    dg.TableColumn("ours", "float", description="rounded to 4 significant digits; metrics.json has them all"),
    dg.TableColumn("book", "float", description="the number the book prints, where it prints one")])


def metrics_table(metrics: dict, splits: tuple[str, ...]) -> dg.MetadataValue:
    """Every metric of the report's splits as one table, the book's number beside ours where it prints one
    (and the book's numbers for sections ours lacks, e.g. cv)."""
    from ztdl_pipeline.core.report import significant

    book = {(row["split"], row["metric"]): row["book"] for row in metrics["book"]}
    rows = [(split, name, value) for split in splits for name, value in metrics.get(split, {}).items()
            if isinstance(value, float)]
    rows += [(row["split"], row["metric"], row["ours"]) for row in metrics["book"] if row["split"] not in splits]
    return dg.MetadataValue.table(schema=METRICS_SCHEMA, records=[
        dg.TableRecord({"split": split, "metric": name, "ours": significant(value) if value is not None else None,
                        "book": book.get((split, name))}) for split, name, value in rows])


def report_asset(card, group: str, family: Family = TABULAR) -> dg.AssetsDefinition:
    FAMILIES[card.name] = (card, family)

    @versioned_asset(card, family.builder_ref(card), key=key("reports", card.name),
                     ins={"trained": asset_in("models", card.name), "features": asset_in("features", card.dataset)},
                     group_name=group, io_manager_key="report_io", kinds={"keras", "json", "markdown"},
                     description=f"Evaluation of {card.title}, ours vs the book")
    def _report(context: dg.AssetExecutionContext, storage: Storage, trained,
                features: family.features_type) -> dg.Output[dict]:
        from ztdl_pipeline.core.report import comparison_rows, resumed_section
        from ztdl_pipeline.core.results import ours_vs_book

        metrics = family.evaluate(card, trained, features)
        images = family.report_images(card, trained, features, metrics)
        profile = metrics["profile"]
        threshold = card.gate_threshold(profile)
        metrics["gate"] = gate_summary(card, metrics)
        metrics["book"] = comparison_rows(metrics, card.book)
        metrics["provenance"] = report_provenance(context, card, profile)
        shown = write_report(storage, card.name, lambda embed: family.report_markdown(
            card, trained, metrics, images, threshold, embed=embed) + resumed_section(trained.info), images,
            ours_vs_book(card, metrics))
        baseline = metrics["gate"]["baseline"]
        return dg.Output(metrics, metadata={
            **with_learning_curve(shown, getattr(trained, "history", None)),
            "metrics": metrics_table(metrics, family.metadata_splits),
            **report_numbers(metrics, family.metadata_splits), "profile": profile,
            **rounded({"gate_threshold": threshold, "gate_baseline": _nan_if_none(baseline)})})

    return _report


def gate_decision(card, report: dict, model_dir):
    """The gate on a report: baseline, threshold, and the export currently published under this profile
    (`model_dir` is the profile's export folder, so the comparison never crosses profiles)."""
    from ztdl_pipeline.core import registry
    from ztdl_pipeline.core.gate import baseline_of, decide
    from ztdl_pipeline.core.report import lookup_metric

    split, metric = card.primary
    current = registry.current_entry(model_dir)
    return decide(f"{split}/{metric}", lookup_metric(report, split, metric), card.gate_threshold(report["profile"]),
                  baseline=baseline_of(report, split, metric), previous=current.get("gate_metric") if current else None)


def _nan_if_none(value: float | None) -> float:
    return value if value is not None else float("nan")


def export_gate_check(card) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key("reports", card.name), name="export_gate", blocking=True,
                    description="the model beats its trivial baseline, clears its threshold (book value − "
                                "tolerance) and is no worse than the current export; a failure blocks the export")
    def _gate(storage: Storage, report: dict) -> dg.AssetCheckResult:
        decision = gate_decision(card, report, storage.folder("exports", card.name))
        return dg.AssetCheckResult(passed=decision.passed, metadata=rounded({
            "metric": decision.metric, "value": _nan_if_none(decision.value), "threshold": decision.threshold,
            "rule": decision.bar, "baseline": _nan_if_none(decision.baseline),
            "previous_export": _nan_if_none(decision.previous), "reasons": json.dumps(decision.reasons)}))

    return _gate
