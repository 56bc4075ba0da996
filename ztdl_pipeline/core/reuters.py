"""Reuters newswire topics (book ch12 exercise 2, solution in ch26): Keras' reuters.npz read without Keras'
downloader, the book's preprocessing, and the LSTM with a trainable random vs a frozen pretrained Embedding.

Preprocessing is `keras.datasets.reuters.load_data(num_words=20000, index_from=2)` step by step (the
function downloads and hash-checks its own copy, so it cannot read a configured one): shuffle with
RandomState(113), prepend start_char 1, add index_from to every word rank, replace ids ≥ num_words by
oov_char 2, first 80 % train (8,982) / last 20 % test (2,246); then `pad_sequences(maxlen=100)` (Keras'
defaults: pad and truncate at the front). Ids: 0 padding, 1 start, 2 out-of-vocabulary, word rank r -> r + 2.

The vocabulary table of Reuters follows those ids (id 0 "", 1 "[START]", 2 "[UNK]", id r + 2 = the word of
rank r), so it differs from the text group's tables (which have [UNK] at 1) in its reserved rows only.

Keras and TensorFlow are imported by the model functions only.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.specs import Hyper
from ztdl_pipeline.core.tables import ATTRS_KEY, table_attrs

N_CLASSES = 46
RESERVED = ("", "[START]", "[UNK]")  # ids 0, 1, 2 with index_from=2


@dataclass(frozen=True)
class ReutersHyper(Hyper):
    """A Reuters run's settings: the random Embedding's size, and how a frozen one fills the rows its pretrained
    vectors lack ("random": np.random.random rows, the book's choice; "zeros")."""

    embedding_dim: int = 300
    missing: str = "random"

# ---------------------------------------------------------------- reading Keras' files


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and Python lists only (what an object array in reuters.npz holds)."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("builtins", "list")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        return super().find_class(module, name)


def _read_npy(data: bytes, source: str) -> np.ndarray:
    import io

    handle = io.BytesIO(data)
    version = np.lib.format.read_magic(handle)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    _, _, dtype = read_header(handle)
    if dtype.hasobject:
        return _ArrayUnpickler(handle).load()
    handle.seek(0)
    return np.lib.format.read_array(handle, allow_pickle=False)


def read_npz(path: str | Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Keras' reuters.npz: `x` (object array of word-rank lists) and `y` (topic ids), read with a restricted
    unpickler (numpy arrays and lists only, as Keras' own loader does)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [k for k in ("x.npy", "y.npy") if k not in names]
            if missing:
                raise DataError(path, f"no {' or '.join(missing)} in the archive (it has {sorted(names)})",
                                "give Keras' reuters.npz (arrays x and y)")
            xs = _read_npy(archive.read("x.npy"), str(path))
            ys = _read_npy(archive.read("y.npy"), str(path))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(path, f"not a readable .npz ({type(exc).__name__}: {exc})",
                        "give Keras' reuters.npz") from None
    sequences = [np.asarray(x, dtype=np.int64).reshape(-1) for x in xs]
    labels = np.asarray(ys).astype(np.int64).reshape(-1)
    if len(sequences) != len(labels):
        raise DataError(path, f"x has {len(sequences)} sequences but y has {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise DataError(path, f"topic ids must be in 0…{N_CLASSES - 1}, found {labels.min()}…{labels.max()}")
    return sequences, labels


def read_word_index(path: str | Path) -> dict[str, int]:
    path = Path(path)
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"not a readable JSON word index ({type(exc).__name__}: {exc})",
                        "give Keras' reuters_word_index.json") from None
    if not isinstance(index, dict) or not all(isinstance(v, int) and v >= 1 for v in index.values()):
        raise DataError(path, "expected a JSON object {word: rank ≥ 1}", "give Keras' reuters_word_index.json")
    return index


# ---------------------------------------------------------------- the book's preprocessing


def load_data(sequences: list[np.ndarray], labels: np.ndarray, *, num_words: int = 20000, index_from: int = 2,
              start_char: int = 1, oov_char: int = 2, seed: int = 113, test_split: float = 0.2
              ) -> tuple[tuple[list[np.ndarray], np.ndarray], tuple[list[np.ndarray], np.ndarray]]:
    """`keras.datasets.reuters.load_data` on arrays already read (same order, ids and split)."""
    indices = np.arange(len(sequences))
    np.random.RandomState(seed).shuffle(indices)
    labels = labels[indices]
    xs = []
    for i in indices:
        ids = np.concatenate([[start_char], sequences[i] + index_from])
        xs.append(np.where(ids < num_words, ids, oov_char))
    cut = int(len(xs) * (1 - test_split))
    return (xs[:cut], labels[:cut]), (xs[cut:], labels[cut:])


def pad(sequences: list[np.ndarray], maxlen: int) -> np.ndarray:
    """`pad_sequences(sequences, maxlen)` with Keras' defaults: keep the last maxlen ids, zeros in front."""
    out = np.zeros((len(sequences), maxlen), dtype=np.int32)
    for row, ids in enumerate(sequences):
        kept = ids[-maxlen:]
        if len(kept):
            out[row, maxlen - len(kept):] = kept
    return out


def vocabulary(word_index: Mapping[str, int], train: list[np.ndarray], *, num_words: int = 20000,
               index_from: int = 2) -> pd.DataFrame:
    """Vocabulary table (id, token, count in the train split) of the model's ids: 0 "", 1 "[START]",
    2 "[UNK]", rank r -> id r + index_from, up to num_words − 1."""
    tokens = list(RESERVED) + [""] * max(0, num_words - len(RESERVED))
    for word, rank in word_index.items():
        if len(RESERVED) <= rank + index_from < num_words:
            tokens[rank + index_from] = word
    counts = np.bincount(np.concatenate(train) if train else np.zeros(0, np.int64), minlength=num_words)
    return pd.DataFrame({"id": np.arange(num_words, dtype=np.int32), "token": pd.array(tokens, dtype="string"),
                         "count": counts[:num_words].astype(np.int64)})


def table(ids: np.ndarray, labels: np.ndarray, splits: np.ndarray, attrs: Mapping[str, Any]) -> pa.Table:
    """features/reuters: `ids` (fixed-shape int32 tensor [maxlen]), `label` int64, `split`; attrs in the schema
    metadata."""
    ids = np.ascontiguousarray(ids, dtype=np.int32)
    columns = {"ids": pa.FixedShapeTensorArray.from_numpy_ndarray(ids),
               "label": pa.array(np.asarray(labels, dtype=np.int64)), "split": pa.array(list(splits))}
    result = pa.table(columns)
    counts = pd.Series(splits).value_counts()
    meta = {**attrs, "maxlen": int(ids.shape[1]), "splits": {s: int(counts.get(s, 0)) for s in ("train", "test")}}
    return result.replace_schema_metadata({ATTRS_KEY: json.dumps(meta).encode()})


def split_arrays(features: pa.Table, split: str) -> tuple[np.ndarray, np.ndarray]:
    mask = np.asarray(features.column("split").to_pylist()) == split
    column = features.column("ids")
    column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    ids = column.to_numpy_ndarray()
    return np.ascontiguousarray(ids[mask]), features.column("label").to_numpy()[mask]


def frozen_weights(matrix: np.ndarray, found: np.ndarray, missing: str, seed: int) -> np.ndarray:
    """The pretrained Embedding's weights: found rows as they are; the others zeros, or — the book's choice
    for words its embedding lacks — np.random.random(size=dim) (uniform [0, 1), seeded here)."""
    weights = np.array(matrix, dtype=np.float32, copy=True)
    if missing == "random":
        rng = np.random.RandomState(seed)
        lacking = np.flatnonzero(~np.asarray(found, dtype=bool))
        weights[lacking] = rng.random_sample((len(lacking), weights.shape[1])).astype(np.float32)
        weights[0] = 0.0  # padding: masked (mask_zero=True), kept at zero
    elif missing != "zeros":
        raise ValueError(f"missing must be 'random' or 'zeros', got {missing!r}")
    return weights


# ---------------------------------------------------------------- model, training, evaluation


def build_model(vocab_size: int, dim: int, maxlen: int, weights: np.ndarray | None = None,
                trainable: bool = True, units: int = 64, dropout: float = 0.2, n_classes: int = N_CLASSES):
    """The book's Sequential([Embedding(mask_zero=True), LSTM(64, dropout=.2, recurrent_dropout=.2),
    Dense(46, softmax)]) taking {"ids": int32 [maxlen]}; `weights` (frozen unless `trainable`) set after the
    model is built, so they live in the weight file, not in the config."""
    import keras

    ids = keras.Input((maxlen,), dtype="int32", name="ids")
    embedding = keras.layers.Embedding(vocab_size, dim, mask_zero=True, trainable=trainable, name="embedding")
    hidden = keras.layers.LSTM(units, dropout=dropout, recurrent_dropout=dropout, name="lstm")(embedding(ids))
    output = keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name="topic")(hidden)
    model = keras.Model(ids, output, name="reuters_lstm_" + ("random" if weights is None else "frozen"))
    if weights is not None:
        if weights.shape != (vocab_size, dim):
            raise ValueError(f"embedding weights have shape {weights.shape}, expected {(vocab_size, dim)}")
        embedding.set_weights([weights])
    return model


def builder(reference: str) -> Callable:
    """The builder a card names, by reference ("ztdl_pipeline.core.reuters:build_model").
    It takes (vocab_size, dim, maxlen, weights=None, trainable=True)."""
    from ztdl_pipeline.core import refs

    return refs.resolve(reference)


def train(example, features: pa.Table, hyper, *, weights: np.ndarray | None = None, embedding_dim: int = 300,
          embedding_name: str = "random", strategy=None, jit_compile="auto",
          seed_fn: Callable[[int], None] | None = None, on_epoch_end=None, backup_dir=None):
    import contextlib

    from ztdl_pipeline.core.models import make_optimizer, trainable_params
    from ztdl_pipeline.core.training import TrainedModel, compile_model, fit

    attrs = table_attrs(features)
    x, y = split_arrays(features, "train")
    if seed_fn:
        seed_fn(hyper.seed)
    dim = weights.shape[1] if weights is not None else embedding_dim
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = builder(example.builder)(attrs["num_words"], dim, attrs["maxlen"], weights=weights,
                                         trainable=weights is None)
        compile_model(model, make_optimizer(hyper.optimizer, hyper.learning_rate), "sparse_categorical_crossentropy",
                      ["accuracy"], jit_compile=jit_compile)
    result = fit(model, x, y, epochs=hyper.epochs, batch_size=hyper.batch_size,
                 validation_split=hyper.validation_split, on_epoch_end=on_epoch_end, backup_dir=backup_dir)
    validation = int(len(x) * hyper.validation_split)
    info = {"example": example.name, "title": example.title, "source": example.source, "hyper": asdict(hyper),
            "embedding": embedding_name, "embedding_dim": int(dim), "frozen": weights is not None,
            "train_rows": len(x) - validation, "validation_rows": validation,
            "trainable_params": trainable_params(model), "total_params": int(model.count_params()),
            "seconds": result["seconds"], "samples_per_second": result["samples_per_second"]}
    if result["resumed_from_epoch"]:
        info["resumed"] = [{"seed": hyper.seed, "from_epoch": result["resumed_from_epoch"]}]
    return TrainedModel(model=model, history=result["history"], info=info)


def predict(model, x: np.ndarray) -> np.ndarray:
    return model.predict(x, batch_size=256, verbose=0)


def evaluate(example, trained, features: pa.Table) -> dict[str, Any]:
    from sklearn.metrics import precision_recall_fscore_support

    from ztdl_pipeline.core import metrics as M
    from ztdl_pipeline.core.gate import BASELINE_RULE, BASELINES
    from ztdl_pipeline.core.metrics import crossentropy

    out: dict[str, Any] = {"task": "multiclass", "profile": trained.info["hyper"]["profile"],
                           "embedding": trained.info["embedding"], "frozen": trained.info["frozen"]}
    out[BASELINES], train_y = {}, split_arrays(features, "train")[1]
    for split in ("train", "test"):
        x, y = split_arrays(features, split)
        out[BASELINES][split] = {"accuracy": M.majority_accuracy(train_y, y)}
        output = predict(trained.model, x)
        predicted = M.predicted_labels(output)
        # macro averages over the topics present in the split (several of the 46 have a handful of wires)
        precision, recall, f1, _ = precision_recall_fscore_support(y, predicted, labels=np.unique(y),
                                                                   average="macro", zero_division=0)
        out[split] = {"accuracy": float(np.mean(predicted == y)), "precision": float(precision),
                      "recall": float(recall), "f1": float(f1), "n": int(len(y)),
                      "loss": crossentropy(y, output), "topics": int(len(np.unique(y)))}
    out["overfitting"] = {"train_minus_test_accuracy": out["train"]["accuracy"] - out["test"]["accuracy"]}
    out["baseline"] = {"accuracy": M.majority_baseline(train_y)}
    out[BASELINE_RULE] = M.majority_rule(train_y, what="topic")
    out["history"] = {k: v[-1] for k, v in trained.history.items()}
    out["curves"] = trained.history
    return out


def report_images(example, trained, features, metrics) -> dict[str, bytes]:
    from ztdl_pipeline.core import plots

    return {"learning_curves": plots.learning_curves(trained.history, f"{example.title}: training")}


def report_markdown(example, trained, metrics, images, threshold: float, embed: bool) -> str:
    from ztdl_pipeline.core.profile import gate_basis
    from ztdl_pipeline.core.report import comparison_rows, comparison_table, markdown_table, render

    info, hyper = trained.info, trained.info["hyper"]
    keys = ("loss", "accuracy", "precision", "recall", "f1")
    per_split = [[s, metrics[s]["n"], *[metrics[s][k] for k in keys]] for s in ("train", "test")]
    gate = gate_basis(hyper["profile"], example.tolerance, example.threshold)
    settings = [[k, v] for k, v in hyper.items()] + [
        ["embedding", f"{info['embedding']} ({info['embedding_dim']}-d, "
                      f"{'frozen' if info['frozen'] else 'trainable'}, mask_zero=True)"],
        ["trainable / total parameters", f"{info['trainable_params']:,} / {info['total_params']:,}"],
        ["train / validation sequences", f"{info['train_rows']} / {info['validation_rows']}"],
        ["seconds", info["seconds"]]]
    sections = [
        ("Ours vs the book", comparison_table(comparison_rows(metrics, example.book))),
        ("Metrics (train = all training sequences, validation part included; precision / recall / F1: macro "
         "over the topics present in the split)",
         markdown_table(["split", "sequences", *keys], per_split)),
        ("Overfitting", f"train − test accuracy: {metrics['overfitting']['train_minus_test_accuracy']:+.4f} "
                        "(book: random 0.8184 − 0.6380 = +0.180, frozen FastText 0.5872 − 0.5708 = +0.016)."),
        ("Export gate", (f"`{example.primary[0]}/{example.primary[1]}` ≥ **{threshold:.4f}** ({gate}); always "
                         f"predicting the most frequent topic scores {metrics['baseline']['accuracy']:.4f}.")),
        ("Training", markdown_table(["setting", "value"], settings)),
    ]
    if example.notes:
        sections.append(("Notes", example.notes))
    sections.append(("Source", example.source))
    return render(example.title, sections, images, embed)


def signature(features: pa.Table) -> dict[str, dict[str, Any]]:
    maxlen = table_attrs(features)["maxlen"]
    return {"ids": {"column": "ids", "dtype": "int32", "shape": [None, maxlen]}}


def verify_export(path, trained, features: pa.Table, rows: int = 128) -> float:
    """Reload the SavedModel with plain TensorFlow, feed it real test id sequences, compare with Keras."""
    from ztdl_pipeline.core.export import agreement, load_and_predict

    x, _ = split_arrays(features, "test")
    x = x[:rows]
    served = load_and_predict(path, {"ids": x})
    expected = predict(trained.model, x)
    return agreement(path, served, expected, f"{len(x)} test sequences")


def describe_outputs(features: pa.Table) -> dict[str, Any]:
    return {"output_0": f"probabilities of the {N_CLASSES} Reuters topics (keras.datasets.reuters."
                        "get_label_names() order)", "input": "ids: int32 [batch, maxlen], the padded id "
                        "sequence of features/reuters (0 pad, 1 start, 2 unknown, word rank + 2)"}
