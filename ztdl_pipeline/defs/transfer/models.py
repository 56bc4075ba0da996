"""models/<card> -> reports/<card> -> exports/<card> for every card of catalog/transfer.py.

The models are domain-specific (they need the `pretrained` resource; a fine-tuned card continues from the
end-to-end model), so they are built here, with the run config generated from the cards (assets/config.py). Reports
and the export gate are the generic blocks with the transfer family's steps. The export publishes through
assets/exports.publish_gated_export; it and its reload check are local because the generic ones also read
raw/<dataset> (an input these models do not have: their features carry the picture files)."""


import dagster as dg
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, explicit_config, key, settings_metadata, versioned_asset
from ztdl_pipeline.assets.config import resolve_training, training_config
from ztdl_pipeline.assets.exports import publish_gated_export
from ztdl_pipeline.assets.families.transfer import TRANSFER
from ztdl_pipeline.assets.models import model_data_version, resume_folder, resumed_metadata
from ztdl_pipeline.assets.reports import export_gate_check, report_asset
from ztdl_pipeline.catalog import transfer as catalog
from ztdl_pipeline.core.image_specs import TransferCard
from ztdl_pipeline.defs.transfer.features import run_of
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.pretrained import PretrainedModels
from ztdl_pipeline.resources.storage import Storage

GROUP = "transfer"


def _train(context, config, card: TransferCard, compute: TensorFlowCompute, pretrained: PretrainedModels,
           storage: Storage, features: pa.Table, start) -> dg.Output:
    from ztdl_pipeline.core import transfer_experiments as X

    hyper, settings = resolve_training(config, card, storage.run_profile(), TRANSFER.hyper_type,
                                       explicit_config(context))
    run = run_of(context, compute, settings.profile)
    inputs = [key("features", card.dataset)] + ([key("models", card.start)] if card.start else [])
    version = model_data_version(context, inputs, hyper, run.device)
    run.backup_dir = resume_folder(context, storage, card.name, version)
    trained, summary = X.train(card, features, start, hyper, settings.values, pretrained.xception, run)
    return dg.Output(trained, data_version=dg.DataVersion(version),
                     metadata={**summary, **settings_metadata(context, settings),
                               **resumed_metadata(context, card.name, trained)})


def model_asset(card: TransferCard) -> dg.AssetsDefinition:
    config_cls = training_config(card)
    spec = dict(key=key("models", card.name), group_name=GROUP, io_manager_key="keras_io",
                kinds={"keras", "tensorflow"}, pool="gpu", description=f"{card.title} — {card.source}")
    if card.start:  # continues from the model `start` names
        @versioned_asset(card, config_cls, ins={"features": asset_in("features", card.dataset),
                                                "start": asset_in("models", card.start)}, **spec)
        def _continued(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                       compute: TensorFlowCompute, pretrained: PretrainedModels, storage: Storage,
                       features: pa.Table, start) -> dg.Output:
            return _train(context, config, card, compute, pretrained, storage, features, start)

        return _continued

    @versioned_asset(card, config_cls, ins={"features": asset_in("features", card.dataset)}, **spec)
    def _model(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
               compute: TensorFlowCompute, pretrained: PretrainedModels, storage: Storage,
               features: pa.Table) -> dg.Output:
        return _train(context, config, card, compute, pretrained, storage, features, None)

    return _model


def export_asset(card: TransferCard) -> dg.AssetsDefinition:
    @versioned_asset(card, TRANSFER.builder_ref(card), key=key("exports", card.name),
                     ins={"trained": asset_in("models", card.name), "features": asset_in("features", card.dataset),
                          "report": asset_in("reports", card.name)},
                     group_name=GROUP, io_manager_key="export_record_io", kinds={"tensorflow", "savedmodel"},
                     description=f"{card.title} as one versioned SavedModel: serving_default takes raw image bytes "
                                 "(JPEG/PNG, decoded and resized in the graph), serve_pixels uint8 pixels")
    def _export(context: dg.AssetExecutionContext, storage: Storage, trained, features: pa.Table,
                report: dict) -> dg.Output[dict]:
        return publish_gated_export(context, storage, card, report,
                                    lambda staged: TRANSFER.export(staged, card, trained, features))

    return _export


def export_reload_check(card: TransferCard) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key("exports", card.name), name="savedmodel_matches_keras",
                    additional_ins={"trained": asset_in("models", card.name),
                                    "features": asset_in("features", card.dataset)},
                    description="tf.saved_model.load of the published version, fed real test picture bytes "
                                "(serving_default) and their pixels (serve_pixels), predicts what the Keras "
                                "model predicts")
    def _reload(record: dict, trained, features: pa.Table) -> dg.AssetCheckResult:
        try:
            difference = TRANSFER.verify(record["path"], card, trained, features, None, record["signature"])
        except ValueError as exc:
            return dg.AssetCheckResult(passed=False, metadata={"error": str(exc)})
        return dg.AssetCheckResult(passed=True, metadata={"max_abs_difference": difference,
                                                          "version": record["version"]})

    return _reload


defs = dg.Definitions(
    assets=[asset for card in catalog.CARDS for asset in (model_asset(card), report_asset(card, GROUP, TRANSFER),
                                                          export_asset(card))],
    asset_checks=[check for card in catalog.CARDS for check in (export_gate_check(card), export_reload_check(card))])
