"""The blocking checks of the text tables: column kinds, no nulls, row counts, label balance, ids in range
(core/tables.py, core/text_features.py), and the vocabulary tables' order (core/text.py)."""

import json

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import key
from ztdl_pipeline.assets.features import table_features_checks
from ztdl_pipeline.core import text_features as F

_LABELLED = {"label": "integer", "split": "string"}
TEXT_COLUMNS = {"text": "string", "tokens": "list<string>", **_LABELLED}
SEQUENCE_COLUMNS = {"text": "string", "x": "vector<integer>", **_LABELLED}
SPARSE_COLUMNS = {"text": "string", "indices": "list<integer>", "values": "list<float>", **_LABELLED}
VOCABULARY_COLUMNS = {"id": "integer", "token": "string", "count": "integer"}


def vocabulary_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=key("features", name), name="vocabulary_table", blocking=True,
                    description="ids 0..n-1 in order, id 0 '' and id 1 [UNK], unique tokens, counts non-increasing")
    def _check(features: pd.DataFrame) -> dg.AssetCheckResult:
        problems = F.T.vocabulary_problems(features)
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems)})

    return _check


checks = [
    *(c for name in ("sms_spam_text", "movie_reviews_text", "imdb_text")
      for c in table_features_checks(name, TEXT_COLUMNS, min_rows=100)),
    *(c for name in ("movie_reviews_sequences", "imdb_sequences")
      for c in table_features_checks(name, SEQUENCE_COLUMNS, min_rows=100, extra_problems=F.sequence_id_problems)),
    *(c for name in ("sms_spam_bow", "movie_reviews_tfidf")
      for c in table_features_checks(name, SPARSE_COLUMNS, min_rows=100, extra_problems=F.sparse_id_problems)),
    *table_features_checks("sms_spam_two_features", {"text": "string", "x": "vector<float>", **_LABELLED},
                           min_rows=100),
    # next-character targets: no test split, and a rare character is no imbalance to guard against
    *table_features_checks("names_windows", SEQUENCE_COLUMNS, min_rows=1000, splits=("train",),
                           min_class_share=None, extra_problems=F.char_id_problems),
    *(c for name in ("movie_reviews_vocabulary", "imdb_vocabulary")
      for c in table_features_checks(name, VOCABULARY_COLUMNS, min_rows=3, splits=())),
    *(vocabulary_check(name) for name in ("movie_reviews_vocabulary", "imdb_vocabulary"))]

defs = dg.Definitions(asset_checks=checks)
