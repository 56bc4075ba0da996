"""The Reuters steps of ch12 exercise 2 that the assets call (core/reuters.py reads, preprocesses and trains):
the padded feature table with its numbers, the vocabulary table, and the random-vs-frozen comparison report.
No Dagster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.core import reuters as R
from ztdl_pipeline.core.chapter import Chapter


def splits(raw: pd.DataFrame, num_words: int, index_from: int, seed: int, test_split: float):
    """load_data on the files of raw/reuters (one row per file: name, file): ((x, y) train, (x, y) test,
    word_index)."""
    files = dict(zip(raw.name, raw.file))
    sequences, labels = R.read_npz(files["reuters"])
    word_index = R.read_word_index(files["reuters_word_index"])
    train, test = R.load_data(sequences, labels, num_words=num_words, index_from=index_from, seed=seed,
                              test_split=test_split)
    return train, test, word_index


def features_table(raw: pd.DataFrame, *, num_words: int, index_from: int, maxlen: int, seed: int,
                   test_split: float, train_rows: int = 0, test_rows: int = 0, profile: str = "book"
                   ) -> tuple[pa.Table, dict[str, Any]]:
    """The book's preprocessing, the first `train_rows` / `test_rows` sequences of each split (0: all), padded
    at the front to `maxlen`; the table and its numbers."""
    (x_train, y_train), (x_test, y_test), _ = splits(raw, num_words, index_from, seed, test_split)
    longest = max((len(x) for x in [*x_train, *x_test]), default=0)
    if train_rows:
        x_train, y_train = x_train[:train_rows], y_train[:train_rows]
    if test_rows:
        x_test, y_test = x_test[:test_rows], y_test[:test_rows]
    ids = np.concatenate([R.pad(x_train, maxlen), R.pad(x_test, maxlen)])
    split = np.array(["train"] * len(x_train) + ["test"] * len(x_test))
    attrs = {"num_words": num_words, "index_from": index_from, "profile": profile, "source": "raw/reuters",
             "longest_sequence": longest}
    table = R.table(ids, np.concatenate([y_train, y_test]), split, attrs)
    return table, {"rows_train": float(len(x_train)), "rows_test": float(len(x_test)), "maxlen": float(maxlen),
                   "longest_sequence (book: 2376)": float(longest), "profile": profile,
                   "topics in train": float(len(np.unique(y_train))), "dagster/row_count": table.num_rows}


def vocabulary_table(raw: pd.DataFrame, *, num_words: int, index_from: int, seed: int, test_split: float
                     ) -> tuple[pd.DataFrame, dict[str, Any]]:
    (x_train, _), _, word_index = splits(raw, num_words, index_from, seed, test_split)
    table = R.vocabulary(word_index, x_train, num_words=num_words, index_from=index_from)
    return table, {"ids": float(len(table)), "word_index_size": float(len(word_index)),
                   "dagster/row_count": len(table)}


def _accuracies(card) -> dict[str, float]:
    return {split: card.book_value(split, "accuracy") for split in ("train", "test")}


def comparison_report(short: str, described: str, random: Mapping[str, Any], frozen: Mapping[str, Any],
                      random_card, frozen_card) -> Chapter:
    """Trainable random vs frozen `short` embedding, next to the book's random vs frozen FastText (the cards'
    numbers); its metadata: test accuracies and overfitting (train − test) of both."""
    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.report import markdown_table

    book = {"random": _accuracies(random_card), "frozen": _accuracies(frozen_card)}
    rows = []
    for label, metrics, ref in (("random, trainable", random, book["random"]),
                                (f"{short}, frozen", frozen, book["frozen"])):
        gap = metrics["train"]["accuracy"] - metrics["test"]["accuracy"]
        rows.append([label, metrics["train"]["accuracy"], metrics["test"]["accuracy"], f"{gap:+.4f}",
                     metrics["test"]["loss"], ref["train"], ref["test"], f"{ref['train'] - ref['test']:+.4f}"])
    table = markdown_table(["embedding", "train accuracy", "test accuracy", "train − test", "test loss",
                            "book train", "book test", "book train − test"], rows)
    curves = {"random: accuracy": random["curves"]["accuracy"], f"{short}: accuracy": frozen["curves"]["accuracy"]}
    for label, metrics in (("random", random), (short, frozen)):
        if "val_accuracy" in metrics["curves"]:
            curves[f"{label}: val_accuracy"] = metrics["curves"]["val_accuracy"]
    images = {"accuracy_curves": plots.sweep_curves({k: {"accuracy": v} for k, v in curves.items()},
                                                    "accuracy", f"Reuters: random vs frozen {short}")}
    sections = [
        ("Random vs frozen", table),
        ("The book", f"Random 300-d embeddings: train {book['random']['train']:.3f}, test {book['random']['test']:.3f}; "
                     f"frozen FastText 300d: train {book['frozen']['train']:.3f}, test {book['frozen']['test']:.3f} "
                     "(L24456–24508): the random embedding overfits more, the frozen one stays closer to its train "
                     "score."),
        ("Pretrained vectors used", f"{short} ({described}); the book's FastText wiki-news 300d is not available here."),
        ("Profile", f"{random['profile']} (the fast profile trains on a sub-sample for fewer epochs)"),
        ("Source", random_card.source)]
    result = {"profile": random["profile"], "embedding": short, "random": {s: random[s] for s in ("train", "test")},
              "frozen": {s: frozen[s] for s in ("train", "test")}, "book": book}
    numbers = {"random_test_accuracy": random["test"]["accuracy"], "frozen_test_accuracy": frozen["test"]["accuracy"],
               "random_overfit": random["train"]["accuracy"] - random["test"]["accuracy"],
               "frozen_overfit": frozen["train"]["accuracy"] - frozen["test"]["accuracy"]}
    return Chapter(f"Reuters: trainable random vs frozen {short} embeddings", sections, images, result, numbers)


def train_frozen(card, features: pa.Table, matrix: pa.Table, hyper, embedding: str, **kwargs):
    """The card's model with `matrix` (an EMBEDDING MATRIX aligned to features/reuters_vocabulary) frozen in its
    Embedding; rows the pretrained vectors lack are filled as `hyper.missing` says (core/reuters.frozen_weights).
    The trained model's info records how many rows were found."""
    from ztdl_pipeline.core.embeddings import matrix_numpy

    found = matrix.column("found").to_numpy(zero_copy_only=False)
    weights = R.frozen_weights(matrix_numpy(matrix), found, hyper.missing, hyper.seed)
    trained = R.train(card, features, hyper, weights=weights, embedding_name=embedding, **kwargs)
    trained.info.update(rows_found=int(found.sum()), rows=int(len(found)), missing=hyper.missing)
    return trained


def id_problems(features) -> list[str]:
    """features/reuters: every id below the table's num_words."""
    from ztdl_pipeline.core.tables import id_range_problems, table_attrs

    return id_range_problems(features, "ids", int(table_attrs(features)["num_words"]))
