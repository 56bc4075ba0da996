"""models/<card>: the card's builder trained on its features through the TensorFlowCompute resource, in the
`gpu` pool, with the book's settings as typed run config (assets/config.py).

A model's data version hashes its inputs' data versions, resolved hyper-parameters (profile and seed
included), the device and its code version: training is seeded and deterministic, so the same version means
the same weights, and a retrain with other settings makes its report and export stale.
"""


import json
from collections.abc import Callable

import dagster as dg

from ztdl_pipeline.assets.base import (
    asset_in,
    data_versions,
    explicit_config,
    key,
    rounded,
    settings_metadata,
    versioned_asset,
)
from ztdl_pipeline.assets.config import TrainingConfig, resolve_training, training_config
from ztdl_pipeline.assets.family import TABULAR, Family, Fit
from ztdl_pipeline.core import versioning
from ztdl_pipeline.core.tracking import EpochLog
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.storage import Storage
from ztdl_pipeline.resources.tracking import ExperimentTracking


def model_data_version(context: dg.AssetExecutionContext, inputs: list, hyper, device: dict) -> str:
    """Inputs' data versions + resolved hyper-parameters + device + code version."""
    return versioning.data_version({
        "inputs": data_versions(context, inputs), "hyper": hyper.__dict__, "device": device,
        "code_version": context.assets_def.code_versions_by_key[context.asset_key]})


def resume_folder(context: dg.AssetExecutionContext, storage: Storage, name: str, version: str) -> str:
    """Where a training of this model version keeps what it needs to resume after a kill; logs when a killed
    run left a checkpoint there. A checkpoint that cannot be read is moved aside with a warning (a fresh start)."""
    from ztdl_pipeline.core.training import SET_ASIDE, set_aside_unreadable

    folder = storage.local_folder("training", name) / version[:16]
    set_aside_unreadable(folder, context.log.warning)
    for left in sorted(p for p in folder.rglob("training_metadata.json") if SET_ASIDE not in p.parent.name):
        context.log.info(f"resuming {name}: a killed run of this model version left a checkpoint "
                         f"({left.parent.name}, epoch {json.loads(left.read_text())['epoch']})")
    return str(folder)


def resumed_metadata(context: dg.AssetExecutionContext, name: str, trained) -> dict[str, int]:
    """Log each resumed fit of a training and return the epoch it resumed from (0: it ran in one go)."""
    resumed = trained.info.get("resumed", [])
    for entry in resumed:
        context.log.info(f"resumed {name} (seed {entry['seed']}) from epoch {entry['from_epoch']}")
    return {"resumed_from_epoch": max((entry["from_epoch"] for entry in resumed), default=0)}


def epoch_logger(context: dg.AssetExecutionContext, epochs: int) -> EpochLog:
    """Progress lines for a training that keeps no TensorBoard log of its own (core/tracking.EpochLog)."""
    return EpochLog(f"training {context.asset_key.to_user_string()}", epochs, context.log.info)


def training_metadata(trained, hyper) -> dict:
    """A trained model's standard numbers: final history values, epochs, speed, parameters, settings."""
    metadata = {**{f"final_{k}": float(v[-1]) for k, v in trained.history.items()},
                "epochs": hyper.epochs, "profile": hyper.profile, "training_seconds": trained.info["seconds"],
                "samples_per_second": trained.info["samples_per_second"] or 0.0,
                "trainable_params": trained.info["trainable_params"]}
    if "cv" in trained.info:
        metadata["cv_mean"] = trained.info["cv"]["mean"]
        metadata["cv_std"] = trained.info["cv"]["std"]
    return metadata


def track(context: dg.AssetExecutionContext, tracking: ExperimentTracking, card, trained, hyper,
          version: str, profile: str) -> dict:
    """Record the training in MLflow (when on): its settings, every epoch's metrics, which model version and
    run it was; the run id goes into the model's training info, so its export links back to it."""
    from ztdl_pipeline.core.experiments import MODEL_VERSION_TAG
    from ztdl_pipeline.core.provenance import run_tags

    run = tracking.record_training(
        context.log, card.name, run_name=f"{card.name} {version[:12]}",
        params=trained.info.get("hyper") or dict(hyper.__dict__), history=trained.history,
        tags={**run_tags(profile), MODEL_VERSION_TAG: version, "dagster.run_id": context.run_id,
              "dagster.asset": key("models", card.name).to_user_string()})
    if run is None:
        return {}
    trained.info["mlflow_run_id"] = run
    return {"mlflow_run_id": run}


def model_asset(card, group: str, family: Family = TABULAR, config_cls: type[TrainingConfig] | None = None,
                resolve: Callable | None = None) -> dg.AssetsDefinition:
    """models/<card.name>, trained by `family.fit` on the card's features and whatever else the family reads
    (`model_inputs`, `model_resources`). The run config is generated from the card unless a domain passes its
    own class and `resolve(config, card, profile, explicit field names) -> (hyper, settings or None)`."""
    config_cls = config_cls or training_config(card)
    resolve = resolve or (lambda config, c, profile, explicit: resolve_training(config, c, profile,
                                                                                  family.hyper_type, explicit))
    extra = family.model_inputs(card)  # {parameter: (layer, name)}

    # resources by key (a family may need more than compute and storage, e.g. pretrained weights)
    @versioned_asset(card, config_cls, family.builder_ref(card),
                     key=key("models", card.name), ins={"features": asset_in("features", card.dataset),
                                                        **{name: asset_in(*at) for name, at in extra.items()}},
                     required_resource_keys={"compute", "storage", "tracking", *family.model_resources},
                     group_name=group, io_manager_key="keras_io", kinds={"keras", "tensorflow"}, pool="gpu",
                     description=f"{card.title} — {card.source}")
    def _model(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
               features: family.features_type, **inputs) -> dg.Output:
        compute: TensorFlowCompute = context.resources.compute
        storage: Storage = context.resources.storage
        tracking: ExperimentTracking = context.resources.tracking
        tracking.tracking_uri()  # MLflow asked for but not installed fails here, before any training
        device = compute.setup()
        hyper, settings = resolve(config, card, storage.run_profile(), explicit_config(context))
        version = model_data_version(context, [key("features", card.dataset), *(key(*at) for at in extra.values())],
                                     hyper, device)
        context.log.info(f"training {card.name}: {hyper} on {device}")
        # a killed run of this very model version resumes from its last completed epoch
        backup = resume_folder(context, storage, card.name, version) if family.resumable else None
        # each epoch: a progress line at most every 15 s, and its metrics as TensorBoard scalars
        curves = tracking.tensorboard_folder(card.name, version, context.run_id)
        epochs = EpochLog(f"training {card.name}", hyper.epochs, context.log.info, curves)
        try:
            trained, summary = family.fit(card, features, hyper, Fit(
                compute, device, settings, context.log.info, epochs, backup, inputs,
                {name: getattr(context.resources, name) for name in family.model_resources}))
        finally:
            epochs.close()
        trained.info["device"] = device
        metadata = {**rounded(training_metadata(trained, hyper) if summary is None else summary),
                    "hyper_parameters": dg.MetadataValue.json(trained.info.get("hyper") or dict(hyper.__dict__)),
                    **(settings_metadata(context, settings) if settings is not None else {}),
                    **resumed_metadata(context, card.name, trained),
                    "tensorboard": dg.MetadataValue.path(str(curves)),
                    **track(context, tracking, card, trained, hyper, version, storage.run_profile())}
        return dg.Output(trained, data_version=dg.DataVersion(version), metadata=metadata)

    return _model
