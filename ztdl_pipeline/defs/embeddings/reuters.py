"""ch12 exercise 2 on Reuters, its data: features/reuters_features (the book's load_data + pad_sequences) and
features/reuters_vocabulary_features (the model's ids as a vocabulary table), with their checks; and
reports/reuters_embeddings_<word2vec|glove>, random vs frozen side by side (core/reuters_steps.py). The models,
reports and exports of the cards are examples/defs.yaml (ExampleChains, assets/families/embeddings.py)."""

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, key, versioned_asset
from ztdl_pipeline.assets.chapters import chapter_output
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.assets.features import table_features_checks
from ztdl_pipeline.catalog import embeddings as catalog
from ztdl_pipeline.defs.text.text import resolved
from ztdl_pipeline.resources.storage import Storage

ReutersFeaturesConfig = values_config(
    "reuters_features", catalog.REUTERS_FEATURES,
    "keras.datasets.reuters.load_data(num_words=20000, index_from=2) + pad_sequences(maxlen=100); train_rows / "
    "test_rows: the first sequences of each split kept (0: all)")


@versioned_asset(catalog.REUTERS_FEATURES_FAST, key=key("features", "reuters"), ins={"raw": asset_in("raw", "reuters")},
                 group_name="embeddings", io_manager_key="parquet_io", kinds={"pyarrow", "parquet"},
                 description="Reuters as the book prepares it: load_data(num_words=20000, index_from=2) (8,982 train "
                             "/ 2,246 test), padded at the front to 100 ids; ids as a fixed-shape int32 tensor column "
                             "(fast profile: the first 1,000 / 300)")
def reuters_features(context: dg.AssetExecutionContext, config: ReutersFeaturesConfig,  # type: ignore[valid-type]
                     storage: Storage, raw: pd.DataFrame) -> dg.Output[pa.Table]:
    from ztdl_pipeline.core.reuters_steps import features_table

    values, adjusted = resolved(context, config, storage, catalog.REUTERS_FEATURES_FAST)
    table, numbers = features_table(raw, profile=adjusted["profile"], **values)
    return dg.Output(table, metadata={**numbers, **adjusted})


@versioned_asset(key=key("features", "reuters_vocabulary"), ins={"raw": asset_in("raw", "reuters")},
                 group_name="embeddings", io_manager_key="parquet_io", kinds={"pandas", "parquet"},
                 description="The Reuters model's ids as a vocabulary table (id, token, count in the whole train "
                             "split): 0 \"\", 1 \"[START]\", 2 \"[UNK]\", word rank r -> id r + 2, up to 19,999")
def reuters_vocabulary(config: ReutersFeaturesConfig, raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:  # type: ignore[valid-type]
    from ztdl_pipeline.core.reuters_steps import vocabulary_table

    table, numbers = vocabulary_table(raw, num_words=config.num_words, index_from=config.index_from,
                                      seed=config.seed, test_split=config.test_split)
    return dg.Output(table, metadata=numbers)


def _ids_in_vocabulary(features) -> list[str]:
    from ztdl_pipeline.core.reuters_steps import id_problems

    return id_problems(features)


checks = [
    # 46 topics, several under 1 % of the wires: labels must be topics, no balance floor
    *table_features_checks("reuters", {"ids": "vector<integer>", "label": "integer", "split": "string"},
                           min_rows=100, n_classes=catalog.REUTERS_TOPICS, min_class_share=None,
                           extra_problems=_ids_in_vocabulary),
    *table_features_checks("reuters_vocabulary", {"id": "integer", "token": "string", "count": "integer"},
                           min_rows=4, splits=())]


def comparison_asset(short: str) -> dg.AssetsDefinition:
    frozen = catalog.FROZEN[short]
    name = f"reuters_embeddings_{short}"

    @versioned_asset(catalog.RANDOM, frozen, key=key("reports", name),
                     ins={"random": asset_in("reports", catalog.RANDOM.name), "frozen": asset_in("reports", frozen.name)},
                     group_name="embeddings", io_manager_key="report_io", kinds={"markdown"},
                     description=f"ch12 ex2: trainable random vs frozen {short} Embedding on Reuters, side by side "
                                 "with the book's random vs frozen FastText (train/test accuracy, overfitting, curves)")
    def _compare(storage: Storage, random: dict, frozen: dict) -> dg.Output[dict]:
        from ztdl_pipeline.core.reuters_steps import comparison_report

        chapter = comparison_report(short, catalog.PRETRAINED[short], random, frozen, catalog.RANDOM,
                                    catalog.FROZEN[short])
        return chapter_output(storage, name, chapter)

    return _compare


defs = dg.Definitions(assets=[reuters_features, reuters_vocabulary,
                              *(comparison_asset(short) for short in catalog.EMBEDDINGS)], asset_checks=checks)
