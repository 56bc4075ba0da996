"""The ch8 feature tables as plain functions (core/text.py holds the tokenizer, readers and table layouts):
each returns the table its asset stores and the numbers a person wants to see beside it; the check arithmetic
returns problems (empty: nothing). No Dagster, no Keras.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ztdl_pipeline.core import refs
from ztdl_pipeline.core import text as T
from ztdl_pipeline.core.specs import Card
from ztdl_pipeline.core.tables import id_range_problems, table_attrs


@dataclass(frozen=True)
class TextExample(Card):
    """A ch8 card: `dataset` is its feature table, `raw_dataset` the raw file its texts come from."""

    raw_dataset: str = ""


# ------------------------------------------------------------------ raw files


def read_raw(reader: str, path, per_folder: int = 0) -> pd.DataFrame:
    """A raw text file read by the reader a card names ("package.module:function"); `per_folder` (0: all)
    goes to readers that take it (the IMDB archive: the first n reviews of each split and label)."""
    read = refs.resolve(reader)
    if "per_folder" in inspect.signature(read).parameters:
        return read(path, per_folder=per_folder or None)
    return read(path)


def raw_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Rows and columns; ham/spam counts of the SMS table; reviews per split and label of the IMDB archive."""
    out: dict[str, Any] = {"rows": len(frame), "columns": list(map(str, frame.columns)),
                           "dagster/row_count": len(frame)}
    if "spam" in frame.columns:
        counts = frame["spam"].value_counts()
        out.update({"ham": int(counts.get(0, 0)), "spam": int(counts.get(1, 0))})
    if {"split", "label"} <= set(frame.columns):
        out["reviews per split/label"] = json.dumps(
            {f"{s}/{'pos' if label else 'neg'}": int(n) for (s, label), n in frame.groupby(["split", "label"]).size().items()})
    return out


def sms_copies_problem(summary: dict[str, Any], in_zip: dict[str, int]) -> str | None:
    """The two copies of the SMS messages (CSV and sms.zip) must hold the same ham/spam counts."""
    if in_zip != {"ham": summary["ham"], "spam": summary["spam"]}:
        return f"has ham/spam {summary['ham']}/{summary['spam']} but sms.zip holds {in_zip}"
    return None


# ------------------------------------------------------------------ cleaned text (the embeddings group's contract)


def frame_summary(frame: pd.DataFrame) -> dict[str, Any]:
    split = frame["split"].value_counts()
    return {"rows": len(frame), "rows_train": int(split.get("train", 0)), "rows_test": int(split.get("test", 0)),
            "tokens_per_text (mean)": float(frame["tokens"].map(len).mean()) if len(frame) else 0.0,
            "dagster/row_count": len(frame)}


def sms_text(raw: pd.DataFrame, rows: int = 0, seed: int = 0) -> pd.DataFrame:
    """Messages, tokens, label spam and the book's split; `rows` (0: all) keeps a sub-sample stratified on spam."""
    frame = T.subsample(raw, rows or None, seed, by="spam")
    out = T.text_frame(frame["message"], frame["spam"], T.book_split(len(frame)))
    out.attrs = {"classes": ["ham", "spam"], "source": "raw/sms_spam"}
    return out


def movie_reviews_text(raw: pd.DataFrame, rows: int = 0, seed: int = 0) -> pd.DataFrame:
    """The book's Rotten Tomatoes rows and split; `rows` (0: all) keeps a stratified sub-sample, split anew."""
    frame, classes = T.movie_reviews_frame(raw)
    if rows:
        frame = T.subsample(frame, rows, seed, by="label")
        frame["split"] = T.book_split(len(frame))
    out = T.text_frame(frame["review"], frame["label"], frame["split"])
    out.attrs = {"classes": classes, "source": "raw/movie_reviews"}
    return out


def shuffle_splits(frame: pd.DataFrame, seed: int = 113) -> pd.DataFrame:
    """Train rows, then test rows, each shuffled by one RandomState(seed) as `keras.datasets.imdb.load_data`
    does (the archive lists reviews by label, and Keras' validation_split takes the last rows)."""
    rng = np.random.RandomState(seed)
    parts = []
    for split in ("train", "test"):
        part = frame[frame["split"] == split]
        parts.append(part.iloc[rng.permutation(len(part))])
    return pd.concat(parts, ignore_index=True)


def imdb_text(raw: pd.DataFrame, seed: int = 113) -> pd.DataFrame:
    """The official split, each shuffled with seed 113 as keras.datasets.imdb.load_data (the archive is sorted)."""
    frame = shuffle_splits(raw, seed=seed)
    out = T.text_frame(frame["text"], frame["label"], frame["split"])
    out.attrs = {"classes": ["neg", "pos"], "source": "raw/imdb"}
    return out


# ------------------------------------------------------------------ feature tables


def table_summary(table) -> dict[str, Any]:
    split = table.column("split").to_pandas().value_counts()
    return {"rows": table.num_rows, "rows_train": int(split.get("train", 0)), "rows_test": int(split.get("test", 0)),
            "columns": json.dumps({f.name: str(f.type) for f in table.schema}),
            "classes": json.dumps(table_attrs(table).get("classes")), "dagster/row_count": table.num_rows}


def two_features_table(text: pd.DataFrame):
    """ch8's two engineered SMS features: count of the word 'free' and count of digits."""
    x = T.two_features(text["text"])
    table = T.dense_table(text["text"], text["label"], text["split"], x,
                          {"classes": ["ham", "spam"], "serving": "features", "features": ["free", "digits"]})
    return table, {**table_summary(table), "mean free/digits (spam)": json.dumps(
        x[text["label"].to_numpy() == 1].mean(axis=0).round(3).tolist())}


def vectorized_table(text: pd.DataFrame, kind: str, max_features: int, stop_words: str | None, fit_on: str,
                     classes: Sequence[str] | None = None):
    """Bag of words (kind count) or TF-IDF (kind tfidf), fitted on `fit_on` rows, stored sparse; the classes
    are the text table's unless given."""
    matrix, vocabulary, idf, params = T.vectorize(text["text"], text["split"], kind, max_features, stop_words, fit_on)
    weights = {} if kind == "count" else {"idf": idf}
    attrs = {"classes": list(classes) if classes is not None else text.attrs["classes"],
             "serving": "count" if kind == "count" else "tf_idf", "vocabulary": vocabulary, **weights,
             "vectorizer": params}
    table = T.sparse_table(text["text"], text["label"], text["split"], matrix, attrs)
    return table, {**table_summary(table), "vocabulary_size": len(vocabulary), "stored_elements": int(matrix.nnz),
                   "vectorizer": json.dumps(params)}


def train_vocabulary(text: pd.DataFrame, max_tokens: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The vocabulary of the train split (ids 0 padding, 1 [UNK], then by count) and its summary."""
    vocabulary = T.build_vocabulary(text.loc[text["split"] == "train", "tokens"], max_tokens)
    vocabulary.attrs = {"max_tokens": max_tokens}  # the Embedding's input_dim, even when a sub-sample has fewer
    total = int(vocabulary["count"].sum())
    return vocabulary, {"tokens": len(vocabulary), "oov_share_train": float(vocabulary["count"].iloc[1] / max(1, total)),
                        "top_tokens": json.dumps(vocabulary["token"].iloc[2:12].tolist()),
                        "dagster/row_count": len(vocabulary)}


def keras_overlap(vocabulary: pd.DataFrame, word_index: pd.DataFrame, max_tokens: int) -> float:
    """The share of our words among Keras' imdb_word_index top words (the ids Keras keeps with num_words)."""
    ours = set(vocabulary["token"].iloc[2:])
    keras_top = set(word_index.loc[word_index["index"] < max_tokens - 3, "word"])
    return float(len(ours & keras_top) / max(1, len(ours)))


def sequence_table(text: pd.DataFrame, vocabulary: pd.DataFrame, maxlen: int, padding: str = "pre",
                   truncating: str = "pre"):
    """Padded id sequences ([UNK] = 1 outside the vocabulary) and how many texts were cut or unknown."""
    ids = T.encode(text["tokens"], vocabulary)
    x = T.pad(ids, maxlen, padding, truncating)
    lengths = [len(i) for i in ids]
    table = T.dense_table(text["text"], text["label"], text["split"], x, {
        "classes": text.attrs["classes"], "serving": "sequence", "vocabulary": vocabulary["token"].tolist(),
        "vocab_size": max(len(vocabulary), int(vocabulary.attrs.get("max_tokens", 0))), "padding": padding,
        "truncating": truncating})
    return table, {**table_summary(table), "maxlen": maxlen, "longest_text_tokens": max(lengths, default=0),
                   "truncated_share": float(sum(n > maxlen for n in lengths) / max(1, len(lengths))),
                   "oov_share": float((x == 1).sum() / max(1, (x > 0).sum()))}


def every_nth(names: Sequence[str], n: int) -> list[str]:
    """At most n names spread over the list (every k-th, so every letter stays); 0 keeps all."""
    names = list(names)
    if not n or len(names) <= n:
        return names
    return names[::max(1, len(names) // n)][:n]


def names_table(names: Sequence[str], maxlen: int = 3, keep: int = 0):
    """ch8's character windows of the (sub-sampled) names and the next character as label."""
    names = every_nth(names, keep)
    x, y, chars = T.name_windows(names, maxlen)
    texts = ["".join(chars[i] for i in row) for row in x]
    table = T.dense_table(texts, y, ["train"] * len(y), x, {"classes": chars, "chars": chars, "serving": "none"})
    return table, {**table_summary(table), "names": len(names), "vocab_size": len(chars),
                   "X shape": json.dumps(list(x.shape))}


# ------------------------------------------------------------------ check arithmetic


def sequence_id_problems(features) -> list[str]:
    """Ids of column x index the table's vocabulary (vocab_size ids)."""
    return id_range_problems(features, "x", int(table_attrs(features)["vocab_size"]))


def sparse_id_problems(features) -> list[str]:
    """Column indices of a bag-of-words table stay below its n_features."""
    return id_range_problems(features, "indices", int(table_attrs(features)["n_features"]))


def char_id_problems(features) -> list[str]:
    """Character ids stay below the number of characters the table records."""
    return id_range_problems(features, "x", len(table_attrs(features)["chars"]))
