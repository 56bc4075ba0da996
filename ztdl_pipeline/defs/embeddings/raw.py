"""raw/glove_6b_50d_raw and raw/reuters_raw: files the data mirror does not hold, fetched from a configured copy, the
cache, the mirror or their canonical URL, and verified (their sha256 makes the data version)."""

import json

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import key, source_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.resources.data_source import DatasetSource

GLOVE_FIX = ("download http://nlp.stanford.edu/data/glove.6B.zip (822 MB) once and give its path (or that "
             "of glove.6B.50d.txt) in the run config: ops: {raw__glove_6b_50d_raw: {config: {path: "
             "/path/to/glove.6B.zip}}}; or put it in the mirror as embeddings/glove.6B.zip; or leave GloVe "
             "out with --select 'group:embeddings and not key:\"*glove*\" and not key:\"*reuters*\"'")
REUTERS_FIX = ("download https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz and "
               "reuters_word_index.json once and give them in the run config: ops: {raw__reuters_raw: {config: "
               "{url: file:///path/reuters.npz, sha256: <its sha256>, word_index_url: "
               "file:///path/reuters_word_index.json}}}; or put them in the mirror's keras_datasets/; or "
               "leave Reuters out with --select 'group:embeddings and not key:\"*reuters*\"'")


GloveSourceConfig = values_config(
    "glove_source", {"path": None, "url": None, "sha256": None, "member": "glove.6B.50d.txt"},
    "Where raw/glove_6b_50d_raw reads GloVe from: a local glove.6B.zip or glove.6B.50d.txt (`path`), or another "
    "copy of glove.6B.zip by `url` (https://, file://) with its `sha256`; unset: cache, mirror "
    "(embeddings/glove.6B.zip), then Stanford's URL.",
    {"path": "a local glove.6B.zip or glove.6B.50d.txt", "url": "another copy of glove.6B.zip (https://, file://)",
     "sha256": "that copy's (or the local file's) sha256", "member": "the file read inside the zip"})
ReutersSourceConfig = values_config(
    "reuters_source", {"url": None, "sha256": None, "word_index_url": None, "word_index_sha256": None},
    "Other copies of Keras' reuters.npz (url + sha256, required: the catalog pins Keras' hash) and of "
    "reuters_word_index.json (word_index_url, optional word_index_sha256).",
    {"url": "another copy of reuters.npz (https://, file://)", "sha256": "its sha256 (required with a url)",
     "word_index_url": "another copy of reuters_word_index.json", "word_index_sha256": "its sha256 (optional)"})


def _fetch(data_source: DatasetSource, entry, log, fix: str):
    from ztdl_pipeline.core.errors import DataError

    try:
        return data_source.fetch(entry, log=log)
    except DataError as exc:
        raise DataError(exc.source, exc.problem + " (this file is not in the data mirror)", fix) from None


@source_asset("glove_6b_50d", key=key("raw", "glove_6b_50d"), group_name="embeddings", io_manager_key="parquet_io",
                 kinds={"pandas", "parquet"},
                 description="GloVe 6B 50d (glove.6B.zip from Stanford, or a local .zip / .txt given in the run "
                             "config): the verified file, one row; its sha256 is the data version. Not in the data "
                             "mirror.")
def raw_glove_6b_50d(context: dg.AssetExecutionContext, config: GloveSourceConfig,  # type: ignore[valid-type]
                     data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core import embedding_steps as S

    entry = datasets.get("glove_6b_50d")
    if config.path:
        path, digest = S.configured_file(config.path, config.sha256, "glove_6b_50d", GLOVE_FIX)
        origin = "config path"
    else:
        entry = S.other_copy(entry, config.url, config.sha256)
        path, digest, origin = _fetch(data_source, entry, context.log, GLOVE_FIX)
    # the unpacked text file is kept beside the cached downloads (the DatasetSource's cache folder)
    frame, text = S.glove_frame(path, digest, data_source.cache_folder("embeddings"), config.member)
    return dg.Output(frame, data_version=dg.DataVersion(digest), metadata={
        "sha256": digest, "fetched_from": origin, "source": dg.MetadataValue.path(str(path)),
        "text_file": dg.MetadataValue.path(str(text)), "bytes": float(path.stat().st_size),
        "canonical_url": dg.MetadataValue.url(entry.url), "dagster/row_count": 1})


@source_asset("reuters", key=key("raw", "reuters"), group_name="embeddings", io_manager_key="parquet_io",
                 kinds={"pandas", "parquet"},
                 description="Keras' reuters.npz + reuters_word_index.json (canonical URLs, or copies given in the run "
                             "config), verified: one row per file; the two hashes make the data version. Not in the "
                             "data mirror.")
def raw_reuters(context: dg.AssetExecutionContext, config: ReutersSourceConfig,  # type: ignore[valid-type]
                data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core import embedding_steps as S

    npz = S.other_copy(datasets.get("reuters"), config.url, config.sha256, require_sha256=True)
    index = S.other_copy(datasets.get("reuters_word_index"), config.word_index_url, config.word_index_sha256)
    rows = []
    for entry in (npz, index):
        path, digest, origin = _fetch(data_source, entry, context.log, REUTERS_FIX)
        rows.append({"name": entry.name, "file": str(path), "bytes": path.stat().st_size, "sha256": digest,
                     "fetched_from": origin, "url": entry.url})
    frame, version = S.files_frame(rows)
    return dg.Output(frame, data_version=dg.DataVersion(version), metadata={
        "npz_sha256": rows[0]["sha256"], "word_index_sha256": rows[1]["sha256"],
        "fetched_from": json.dumps([r["fetched_from"] for r in rows]),
        "canonical_url": dg.MetadataValue.url(datasets.get("reuters").url), "dagster/row_count": len(frame)})


defs = dg.Definitions(assets=[raw_glove_6b_50d, raw_reuters])
