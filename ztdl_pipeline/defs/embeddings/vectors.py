"""models/glove_6b_50d_model and models/word2vec_reviews_model: word vectors kept as KeyedVectors files
(models/<name>/vectors.kv, through the storage resource); the record is the asset's metrics.json and the
vectors' content hash its data version."""

import json

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import asset_in, key, versioned_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import embeddings as catalog
from ztdl_pipeline.defs.text.text import resolved
from ztdl_pipeline.resources.storage import Storage

GloveLoadConfig = values_config(
    "glove_load", catalog.GLOVE_LOAD,
    "reader pandas (default): pandas' C parser into gensim's KeyedVectors.add_vectors; gensim: "
    "KeyedVectors.load_word2vec_format(no_header=True). Both give the same words and float32 values; pandas is "
    "about 10 times faster at ~4 times the peak memory (bench/glove_loading.py)")
Word2VecConfig = values_config(
    "word2vec", catalog.WORD2VEC,
    "gensim Word2Vec on the train splits of the review corpora, seeded and single-threaded (reproducible)")


@versioned_asset(key=key("models", "glove_6b_50d"), ins={"raw": asset_in("raw", "glove_6b_50d")},
                 group_name="embeddings", io_manager_key="report_io", kinds={"gensim", "json"},
                 description="GloVe 6B 50d read with gensim KeyedVectors.load_word2vec_format(no_header=True) and "
                             "kept as a KeyedVectors file (models/glove_6b_50d/vectors.kv); the record is "
                             "metrics.json")
def glove_6b_50d(context: dg.AssetExecutionContext, config: GloveLoadConfig,  # type: ignore[valid-type]
                 storage: Storage, raw: pd.DataFrame) -> dg.Output[dict]:
    from ztdl_pipeline.core.embedding_steps import glove_vectors

    with storage.working_folder("models", "glove_6b_50d") as folder:  # the record names this machine's copy
        record, digest = glove_vectors(raw, folder / "vectors.kv", config.reader)
    context.log.info(f"GloVe: {record['vocabulary_size']} words × {record['dim']} in {record['load_seconds']} s")
    return dg.Output(record, data_version=dg.DataVersion(digest), metadata={
        "vocabulary_size": float(record["vocabulary_size"]), "dim": float(record["dim"]),
        "load_seconds": record["load_seconds"], "kv_file": dg.MetadataValue.path(record["path"])})


@versioned_asset(catalog.WORD2VEC_FAST, key=key("models", "word2vec_reviews"),
                 ins={f"{c}_text": asset_in("features", f"{c}_text") for c in catalog.TEXT_CORPORA},
                 group_name="embeddings", io_manager_key="report_io", kinds={"gensim", "json"},
                 description="Word2Vec (gensim, skip-gram, seeded, one worker) trained on the tokens of the train "
                             "splits of the Rotten Tomatoes and IMDB reviews; kept as a KeyedVectors file "
                             "(models/word2vec_reviews/vectors.kv)")
def word2vec_reviews(context: dg.AssetExecutionContext, config: Word2VecConfig,  # type: ignore[valid-type]
                     storage: Storage, movie_reviews_text: pd.DataFrame, imdb_text: pd.DataFrame) -> dg.Output[dict]:
    from ztdl_pipeline.core.embedding_steps import word2vec_vectors

    values, adjusted = resolved(context, config, storage, catalog.WORD2VEC_FAST)
    with storage.working_folder("models", "word2vec_reviews") as folder:
        record, digest = word2vec_vectors({"movie_reviews": movie_reviews_text, "imdb": imdb_text}, values,
                                          adjusted["profile"], folder / "vectors.kv")
    context.log.info(f"Word2Vec: {record['tokens']} tokens of {record['documents']} reviews -> "
                     f"{record['vocabulary_size']} words in {record['train_seconds']} s")
    return dg.Output(record, data_version=dg.DataVersion(digest), metadata={
        "vocabulary_size": float(record["vocabulary_size"]), "dim": float(record["dim"]), **adjusted,
        "corpus_tokens": float(record["tokens"]), "train_seconds": record["train_seconds"], "vectors_sha256": digest,
        "settings": json.dumps(record["settings"]), "kv_file": dg.MetadataValue.path(record["path"])})


defs = dg.Definitions(assets=[glove_6b_50d, word2vec_reviews])
