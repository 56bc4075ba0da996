"""models/reports/exports reuters_lstm_{random,word2vec,glove}: the cards of catalog/embeddings.py through the
generic building blocks (assets/chain.card_assets with the Reuters family). A frozen model reads one more input
than the generic model asset offers, the pretrained matrix features/reuters_<embedding>, so its model asset is
written here with the same steps (run config generated from the card, resolved through core/profile.py)."""

import json

import dagster as dg
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, explicit_config, key, settings_metadata, versioned_asset
from ztdl_pipeline.assets.chain import card_assets
from ztdl_pipeline.assets.config import resolve_training, training_config
from ztdl_pipeline.assets.families.embeddings import REUTERS
from ztdl_pipeline.assets.models import epoch_logger, model_data_version, resume_folder, resumed_metadata
from ztdl_pipeline.catalog import embeddings as catalog
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.storage import Storage


def frozen_model_asset(short: str) -> dg.AssetsDefinition:
    """models/reuters_lstm_<short>: the card's LSTM with the pretrained matrix frozen in its Embedding."""
    card = catalog.FROZEN[short]
    config_cls = training_config(card)

    @versioned_asset(card, config_cls, REUTERS.builder_ref(card), key=key("models", card.name),
                     ins={"features": asset_in("features", card.dataset),
                          "matrix": asset_in("features", f"reuters_{short}")},
                     group_name="embeddings", io_manager_key="keras_io", kinds={"keras", "tensorflow"}, pool="gpu",
                     description=f"{card.title} — {card.source}")
    def _model(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
               compute: TensorFlowCompute, storage: Storage, features: pa.Table, matrix: pa.Table) -> dg.Output:
        from ztdl_pipeline.core.reuters_steps import train_frozen

        device = compute.setup()
        hyper, settings = resolve_training(config, card, storage.run_profile(), REUTERS.hyper_type,
                                           explicit_config(context))
        context.log.info(f"training {card.name}: {hyper} on {device}")
        inputs = [key("features", card.dataset), key("features", f"reuters_{short}")]
        version = model_data_version(context, inputs, hyper, device)
        trained = train_frozen(card, features, matrix, hyper, short, strategy=compute.strategy(),
                               jit_compile=compute.jit_compile, seed_fn=compute.seed_everything,
                               on_epoch_end=epoch_logger(context, hyper.epochs),
                               backup_dir=resume_folder(context, storage, card.name, version))
        trained.info["device"] = device
        return dg.Output(trained, data_version=dg.DataVersion(version),
                         metadata={**{f"final_{k}": float(v[-1]) for k, v in trained.history.items()},
                                   "epochs": hyper.epochs, "profile": hyper.profile,
                                   "training_seconds": trained.info["seconds"],
                                   "trainable_params": trained.info["trainable_params"], "embedding": short,
                                   "embedding rows found": float(trained.info["rows_found"]),
                                   "hyper_parameters": json.dumps(trained.info["hyper"]),
                                   **settings_metadata(context, settings),
                                   **resumed_metadata(context, card.name, trained)})

    return _model


_built = [card_assets(catalog.RANDOM, "embeddings", REUTERS),
          *(card_assets(card, "embeddings", REUTERS, model=frozen_model_asset(short))
            for short, card in catalog.FROZEN.items())]
defs = dg.Definitions(assets=[a for assets, _ in _built for a in assets],
                      asset_checks=[c for _, checks in _built for c in checks])
