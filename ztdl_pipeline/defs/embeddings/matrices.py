"""features/<vocabulary>_<embedding>: the EMBEDDING MATRIX (core/embeddings.py) of a vocabulary table (the text
group's features/<corpus>_vocabulary, or features/reuters_vocabulary_features) filled from word vectors, with its checks."""

import json

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, key, versioned_asset
from ztdl_pipeline.assets.features import table_features_checks
from ztdl_pipeline.catalog import embeddings as catalog

MATRIX_COLUMNS = {"id": "integer", "token": "string", "vector": "vector<float>", "found": "bool"}
VOCABULARIES = (*catalog.TEXT_CORPORA, "reuters")


def matrix_asset(vocab: str, short: str) -> dg.AssetsDefinition:
    reserved = catalog.MATRIX_RESERVED[vocab]

    @versioned_asset(key=key("features", f"{vocab}_{short}"),
                     ins={"vocabulary": asset_in("features", f"{vocab}_vocabulary"),
                          "embedding": asset_in("models", catalog.EMBEDDINGS[short])},
                     group_name="embeddings", io_manager_key="parquet_io", kinds={"pyarrow", "parquet"},
                     description=f"{short} vectors aligned to {key('features', vocab + '_vocabulary').to_user_string()}: row i = the vector of "
                                 f"token id i; the {reserved} reserved ids and unknown tokens hold zeros "
                                 "(found = False)")
    def _matrix(vocabulary: pd.DataFrame, embedding: dict) -> dg.Output[pa.Table]:
        from ztdl_pipeline.core.embedding_steps import aligned_matrix

        table, metadata = aligned_matrix(vocabulary, embedding["path"], reserved)
        return dg.Output(table, metadata=metadata)

    return _matrix


def matrix_checks(vocab: str, short: str) -> list[dg.AssetChecksDefinition]:
    name = f"{vocab}_{short}"

    @dg.asset_check(asset=key("features", name), name="aligned_to_vocabulary", blocking=True,
                    additional_ins={"vocabulary": asset_in("features", f"{vocab}_vocabulary")},
                    description=f"one row per id of {key('features', vocab + '_vocabulary').to_user_string()}, in order, with its token (row i "
                                "is the vector of token i); rows not found are zeros")
    def _aligned(features: pa.Table, vocabulary: pd.DataFrame) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.tables import alignment_problems

        problems = alignment_problems(features, vocabulary)
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems)})

    return [*table_features_checks(name, MATRIX_COLUMNS, min_rows=3, splits=()), _aligned]


matrices = [matrix_asset(vocab, short) for vocab in VOCABULARIES for short in catalog.EMBEDDINGS]
checks = [c for vocab in VOCABULARIES for short in catalog.EMBEDDINGS for c in matrix_checks(vocab, short)]
defs = dg.Definitions(assets=matrices, asset_checks=checks)
