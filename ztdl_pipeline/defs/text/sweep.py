"""reports/sms_vocab_sweep_report: ch8 exercise 1, CountVectorizer vocabulary size vs accuracy of the SMS logistic
regression (core/text_sweep.py)."""

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import asset_in, key, versioned_asset
from ztdl_pipeline.assets.chapters import chapter_output, run_settings
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import text as catalog
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.storage import Storage

VocabSweepConfig = values_config("vocab_sweep", catalog.VOCAB_SWEEP, "ch8 exercise 1: the vocabulary sizes swept "
                                                                     "and the training settings of each")
VocabSweepConfig.FAST = catalog.VOCAB_SWEEP_FAST  # what assets.chapters.run_settings applies under the fast profile


@versioned_asset(catalog.VOCAB_SWEEP_FAST, key=key("reports", "sms_vocab_sweep"),
                 ins={"text": asset_in("features", "sms_spam_text")}, group_name="text", io_manager_key="report_io",
                 kinds={"keras", "markdown"}, pool="gpu",
                 description="ch8 exercise 1: CountVectorizer vocabulary size vs train/test accuracy of the logistic "
                             "regression on SMS spam (log-x plot with the 0.866 baseline)")
def sms_vocab_sweep(context: dg.AssetExecutionContext, config: VocabSweepConfig,  # type: ignore[valid-type]
                    compute: TensorFlowCompute, storage: Storage, text: pd.DataFrame) -> dg.Output[dict]:
    from ztdl_pipeline.core import text_sweep

    compute.setup()
    settings = run_settings(context, config, storage)
    values = settings.values
    chapter = text_sweep.sweep_report(text, values["sizes"], values["epochs"], values["batch_size"], values["seed"],
                                      settings.profile, compute.seed_everything, context.log.info)
    return chapter_output(storage, "sms_vocab_sweep", chapter, settings.adjustments)


defs = dg.Definitions(assets=[sms_vocab_sweep])
