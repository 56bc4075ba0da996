"""reports/banknotes_sweeps_report: ch5's learning-rate and batch-size sweeps of the banknotes model, one report."""


import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import asset_in, explicit_config, key, settings_metadata, versioned_asset
from ztdl_pipeline.assets.chapters import chapter_output
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import tabular as catalog
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.storage import Storage

CARD = next(card for card in catalog.CARDS if card.name == catalog.SWEEP_CARD)
SweepConfig = values_config("banknotes_sweep", catalog.SWEEPS, "ch5 sweeps: the settings swept and their epochs")


@versioned_asset(CARD, catalog.SWEEPS_FAST, catalog.LR_BOOK, catalog.BATCH_BOOK,
                 key=key("reports", "banknotes_sweeps"), ins={"features": asset_in("features", CARD.dataset)},
                 group_name="tabular", io_manager_key="report_io", kinds={"keras", "markdown"}, pool="gpu",
                 description="ch5: banknotes logistic regression swept over learning rates and batch sizes, one report")
def banknotes_sweeps(context: dg.AssetExecutionContext, config: SweepConfig, compute: TensorFlowCompute,
                     storage: Storage, features: pd.DataFrame) -> dg.Output[dict]:
    from ztdl_pipeline.core import sweeps
    from ztdl_pipeline.core.profile import resolve_config

    compute.setup()
    settings = resolve_config(config, storage.run_profile(), catalog.SWEEPS_FAST, explicit_config(context))
    chapter = sweeps.banknotes_sweeps(CARD, features, settings.values, settings.profile, lr_book=catalog.LR_BOOK,
                                      batch_book=catalog.BATCH_BOOK, source=catalog.SWEEPS_SOURCE,
                                      seed_fn=compute.seed_everything, jit_compile=compute.jit_compile,
                                      log=context.log.info)
    settings_metadata(context, settings)
    return chapter_output(storage, "banknotes_sweeps", chapter, settings.adjustments)


defs = dg.Definitions(assets=[banknotes_sweeps])
