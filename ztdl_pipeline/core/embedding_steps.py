"""The embeddings steps the assets call (core/embeddings.py reads, trains and aligns the vectors): where a raw
file comes from when the run config names another copy, the KeyedVectors record of a model asset, and
Word2Vec on the review corpora with the numbers its asset shows. No Dagster."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ztdl_pipeline.core import embeddings as E
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.names import user_key
from ztdl_pipeline.core.schema import sha256_file

W2V_SETTINGS = ("vector_size", "window", "min_count", "sg", "negative", "epochs", "seed")


def configured_file(path: str, sha256: str | None, name: str, fix: str) -> tuple[Path, str]:
    """A local copy given in the run config: (resolved path, its sha256), checked against `sha256` if given."""
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise DataError(resolved, f"{user_key('raw', name)}: the configured path is not a file", fix)
    digest = sha256_file(resolved)
    if sha256 and digest != sha256:
        raise DataError(resolved, f"sha256 {digest} differs from the configured {sha256}")
    return resolved, digest


def other_copy(entry, url: str | None, sha256: str | None, *, require_sha256: bool = False):
    """The catalogue entry, pointed at another copy when the run config gives `url` and/or `sha256`."""
    if not (url or sha256):
        return entry
    if require_sha256 and not sha256:
        raise ValueError(f"{user_key('raw', entry.name)}: config gives url {url} but no sha256; a copy is read only with the "
                         "hash that proves its bytes")
    return dataclasses.replace(entry, url=url or entry.url, sha256=sha256, alt_sha256=())


def glove_frame(path: Path, digest: str, text_folder: Path, member: str) -> tuple[pd.DataFrame, Path]:
    """raw/glove_6b_50d's one row: the verified file and the text file unpacked from it under `text_folder`."""
    text = E.glove_text(path, Path(text_folder) / member, member=member)
    frame = pd.DataFrame({"file": [str(path)], "text_file": [str(text)], "bytes": [path.stat().st_size],
                          "text_bytes": [text.stat().st_size], "sha256": [digest]})
    return frame, text


def files_frame(rows: Sequence[Mapping[str, Any]]) -> tuple[pd.DataFrame, str]:
    """One row per fetched file (name, file, bytes, sha256, fetched_from, url) and the data version of all of
    them: the sha256 of their hashes, in order."""
    frame = pd.DataFrame(list(rows))
    return frame, hashlib.sha256("".join(frame.sha256).encode()).hexdigest()


def kv_record(kv, path: str | Path, name: str, extra: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Save the vectors as `path` (a .kv file); the model asset's record and the vectors' content hash."""
    saved = E.save_keyed_vectors(kv, path)
    digest = E.vectors_digest(kv)
    record = {"name": name, "path": str(saved), "vocabulary_size": len(kv.index_to_key),
              "dim": int(kv.vector_size), "vectors_sha256": digest, "first_words": kv.index_to_key[:20], **extra}
    return record, digest


def glove_vectors(raw: pd.DataFrame, path: str | Path, reader: str) -> tuple[dict[str, Any], str]:
    """GloVe read from raw/glove_6b_50d's text file with `reader` and kept as KeyedVectors at `path`."""
    start = time.perf_counter()
    kv = E.load_glove(raw.text_file.iloc[0], reader=reader)
    seconds = time.perf_counter() - start
    return kv_record(kv, path, "glove_6b_50d", {"source": raw.file.iloc[0], "source_sha256": raw.sha256.iloc[0],
                                                 "load_seconds": round(seconds, 3), "reader": reader})


def word2vec_vectors(frames: Mapping[str, pd.DataFrame], values: Mapping[str, Any], profile: str,
                     path: str | Path) -> tuple[dict[str, Any], str]:
    """Word2Vec (core/embeddings.train_word2vec, reproducible) on the train tokens of `values["corpora"]`,
    kept as KeyedVectors at `path`; the record holds documents, tokens, seconds and the settings used."""
    sentences, documents = E.review_sentences(frames, values["corpora"])
    start = time.perf_counter()
    kv = E.train_word2vec(sentences, **{k: values[k] for k in W2V_SETTINGS})
    seconds = time.perf_counter() - start
    used = {**values, "workers": 1, "hashfxn": "crc32", "profile": profile}
    return kv_record(kv, path, "word2vec_reviews", {
        "documents": documents, "tokens": sum(len(s) for s in sentences), "train_seconds": round(seconds, 3),
        "settings": used})


def aligned_matrix(vocabulary: pd.DataFrame, kv_path: str | Path, reserved: int) -> tuple[Any, dict[str, Any]]:
    """The EMBEDDING MATRIX of `vocabulary` from the vectors at `kv_path`, and its numbers: coverage, rows, dim."""
    kv = E.load_keyed_vectors(kv_path)
    table = E.embedding_matrix(vocabulary, kv, reserved=reserved)
    share = E.coverage(vocabulary, table.column("found").to_numpy(), reserved=reserved)
    return table, {**share, "rows": float(table.num_rows), "dim": float(kv.vector_size),
                   "missing rows": "zeros, found = False (reserved ids and tokens the embedding lacks)",
                   "dagster/row_count": table.num_rows}
