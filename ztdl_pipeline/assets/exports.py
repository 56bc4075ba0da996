"""exports/<card>: the gated, verified, versioned SavedModel taking raw values (TF Serving layout), and the
check that reloads the published version with plain TensorFlow. Every family publishes through
`publish_gated_export`."""


import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg

from ztdl_pipeline.assets.base import asset_in, data_versions, key, rounded, versioned_asset
from ztdl_pipeline.assets.family import TABULAR, Family, raw_name
from ztdl_pipeline.assets.reports import gate_decision
from ztdl_pipeline.resources.storage import Storage
from ztdl_pipeline.resources.tracking import ExperimentTracking


def _ins(where: dict[str, tuple[str, str]]) -> dict[str, dg.AssetIn]:
    return {name: asset_in(*at) for name, at in where.items()}


def export_asset(card, group: str, family: Family = TABULAR, gate: Callable[[dict, Any], Any] | None = None
                 ) -> dg.AssetsDefinition:
    """exports/<card.name>: `family.write_export` of the trained model, verified on what the family reads
    (`export_inputs`: raw/<dataset> unless the family takes its rows from elsewhere, e.g. the features); `gate`
    replaces the card's gate (see `publish_gated_export`)."""
    extra = family.export_inputs(card)

    @versioned_asset(card, family.builder_ref(card), key=key("exports", card.name),
                     ins={"trained": asset_in("models", card.name), "features": asset_in("features", card.dataset),
                          "report": asset_in("reports", card.name), **_ins(extra)},
                     group_name=group, io_manager_key="export_record_io", kinds={"tensorflow", "savedmodel"},
                     description=f"{card.title} {family.export_description}")
    def _export(context: dg.AssetExecutionContext, storage: Storage, tracking: ExperimentTracking, trained,
                features: family.features_type, report: dict, **inputs) -> dg.Output[dict]:
        data = family.view(card, features)
        return publish_gated_export(context, storage, card, report,
                                    lambda staged: family.write_export(staged, card, trained, data, **inputs), gate,
                                    training=Training(tracking, trained.info.get("mlflow_run_id")))

    return _export


@dataclass(frozen=True)
class Training:
    """The training an export publishes, as experiment tracking knows it: its MLflow run (None: not tracked)."""

    tracking: ExperimentTracking | None = None
    mlflow_run_id: str | None = None

    def link(self, context: dg.AssetExecutionContext, version: int, path, upload: bool = True) -> dict[str, str]:
        """Tag the training's MLflow run with the registry version (and log the SavedModel to it); the
        metadata entry that names the run."""
        if self.tracking is None or not self.mlflow_run_id:
            return {}
        self.tracking.link_export(context.log, self.mlflow_run_id, version, path, upload=upload)
        return {"mlflow_run_id": self.mlflow_run_id}


def _unchanged(context, card, current: dict, model_version: str, gate_value, training: Training) -> dg.Output[dict]:
    context.log.info(f"{key('exports', card.name).to_user_string()}: unchanged, version {current['version']} was built from this "
                     f"model version ({model_version[:12]}); nothing published")
    # a retraining of the same model version: its MLflow run is tagged with the version it reproduces
    linked = training.link(context, current["version"], current["path"], upload=False)
    return dg.Output({"model": card.name, **current}, metadata={
        "version": current["version"], "published": f"unchanged, version {current['version']}",
        "path": dg.MetadataValue.path(current["path"]), **rounded({"gate_metric": gate_value or 0.0}), **linked})


def publish_gated_export(context: dg.AssetExecutionContext, storage: Storage, card, report: dict,
                         write_and_verify: Callable[[Any], tuple[dict, float, dict]],
                         gate: Callable[[dict, Any], Any] | None = None,
                         training: Training = Training()) -> dg.Output[dict]:
    """Re-apply the gate (the blocking check stops a run, this also covers a lone export); if the current
    export was built from this very model version, publish nothing and say so; else write the SavedModel into
    a staging folder and verify it there (`write_and_verify(staged)` -> (input signature, max difference vs
    Keras, extra registry fields)), publish it as the next integer version (never overwriting one) and record
    it in registry.json. Everything lives under the run profile's root, so a fast run never publishes where
    the book profile's exports are served from. `gate(report, export folder)` replaces the card's gate (a tuned
    model's: beat the book settings by more than the noise)."""
    from ztdl_pipeline.core import export, registry
    from ztdl_pipeline.core.provenance import git_commit
    from ztdl_pipeline.core.schema import folder_sha256

    model_dir = storage.folder("exports", card.name)
    decision = gate(report, model_dir) if gate else gate_decision(card, report, model_dir)
    if not decision.passed:
        raise dg.Failure(f"{key('exports', card.name).to_user_string()}: not exported — " + "; ".join(decision.reasons))
    model_key = key("models", card.name).to_user_string()
    upstream = data_versions(context, [key("raw", raw_name(card)), key("features", card.dataset),
                                       key("models", card.name)])
    current = registry.current_entry(model_dir)
    if current and upstream[model_key] and current.get("upstream_data_versions", {}).get(model_key) == upstream[model_key]:
        return _unchanged(context, card, current, upstream[model_key], decision.value, training)
    staged = export.staging_dir(model_dir)
    try:
        start = time.perf_counter()
        signature, difference, extra = write_and_verify(staged)
        served = registry.savedmodel_signature(staged)  # what TF Serving will see: shapes, output names
        content = folder_sha256(staged)  # ztdl-serve checks it before serving the version
        version, path = export.publish_version(staged, model_dir)
    finally:
        export.discard(staged)
    entry = {
        "path": str(path),
        "signature": {name: {**spec, "shape": served["inputs"].get(name, {}).get("shape", spec.get("shape"))}
                      for name, spec in signature.items()},
        "signature_name": served["signature_name"], "method_name": served["method_name"],
        "output_signature": served["outputs"], **extra,
        "gate_metric": decision.value, "gate": decision.bar, "gate_baseline": decision.baseline,
        "metrics": {s: {k: v for k, v in report[s].items() if isinstance(v, float)}
                    for s in ("train", "test", "all") if s in report},
        "content_sha256": content,
        "profile": report["profile"], "run_id": context.run_id, "git_commit": git_commit(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "upstream_data_versions": upstream,
        # the MLflow run of the training published here (experiment tracking; that run is tagged back)
        **({"mlflow_run_id": training.mlflow_run_id} if training.mlflow_run_id else {}),
    }
    registry.record(model_dir, version, entry)
    linked = training.link(context, version, path)
    return dg.Output({"model": card.name, "version": version, **entry}, metadata={
        "version": version, "published": f"new version {version}", "path": dg.MetadataValue.path(str(path)),
        **rounded({"max_abs_difference_vs_keras": difference, "gate_metric": decision.value or 0.0}),
        "export_seconds": round(time.perf_counter() - start, 2), "signature": dg.MetadataValue.json(signature),
        **{k: v for k, v in extra.items() if isinstance(v, str | int | float)}, **linked})


def _with_parameters(fn: Callable, names) -> Callable:
    """`fn(..., **inputs)` with a parameter per name in its signature: dg.asset_check wants one for each of its
    `additional_ins` (dg.asset passes undeclared inputs to **kwargs as they are)."""
    signature = inspect.signature(fn)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    fn.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=fixed + [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names])
    return fn


def export_reload_check(card, family: Family = TABULAR) -> dg.AssetChecksDefinition:
    extra = family.export_inputs(card)

    def _reload(record: dict, trained, features: family.features_type, **inputs) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.stores import local_view

        data = family.view(card, features)
        try:
            with local_view(record["path"]) as path:  # on an object store: the published objects, downloaded
                difference = family.verify(str(path), card, trained, data, record["signature"], **inputs)
        except ValueError as exc:
            return dg.AssetCheckResult(passed=False, metadata={"error": str(exc)})
        return dg.AssetCheckResult(passed=True, metadata={family.difference_name: difference,
                                                          "version": record["version"]})

    return dg.asset_check(asset=key("exports", card.name), name="savedmodel_matches_keras",
                          additional_ins={"trained": asset_in("models", card.name),
                                          "features": asset_in("features", card.dataset), **_ins(extra)},
                          description=family.reload_description)(_with_parameters(_reload, extra))
