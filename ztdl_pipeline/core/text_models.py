"""The book's text models (ch8 and its solutions): builders, training, evaluation, reports, and exports that
take raw strings (the vectorization runs inside the SavedModel).

Examples and their builders:
- `logreg`: the book's `split_fit_eval` model, Dense(1, sigmoid) on a feature table (two SMS features, the
  3,000-word bag of words, the 10,000-word TF-IDF matrix).
- `rt_lstm`: Embedding(10000, 16) -> LSTM(32) -> Dense(1, sigmoid) on padded id sequences.
- `imdb_lstm`: Embedding(20000, 100) -> LSTM(64, dropout 0.2, recurrent_dropout 0.2) -> Dense(1, sigmoid).
- `char_lstm`: Embedding(28, 5) -> LSTM(8) -> Dense(28, softmax) on 3-character windows of names.

Exports: the serving model wraps the trained network with a Keras `TextVectorization` layer holding the
training vocabulary. For id sequences it uses `core.text`'s tokenization written as TensorFlow string ops
(`keras_standardize`) and pads/truncates at the start like `pad_sequences`; for bag-of-words / TF-IDF it
mirrors scikit-learn's tokenization (`sklearn_standardize`: lowercase, maximal runs of word characters,
single characters and stop words fall outside the vocabulary) with output_mode count / tf_idf and the same
idf weights, then the L2 normalisation TfidfVectorizer applies. Verification sends real raw test
messages/reviews to the reloaded SavedModel and compares with the Keras model on the stored features.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import keras
import numpy as np

from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core import refs
from ztdl_pipeline.core import text as T
from ztdl_pipeline.core.gate import BASELINE_RULE, BASELINES
from ztdl_pipeline.core.models import make_optimizer, trainable_params
from ztdl_pipeline.core.training import TrainedModel, _EpochCallback, compile_model

# ---------------------------------------------------------------- builders


def logreg(width: int, name: str = "logreg") -> keras.Model:
    inputs = keras.Input(shape=(width,), name="x", dtype="float32")
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="output")(inputs), name=name)


def rt_lstm(maxlen: int, vocab_size: int = 10000, embedding: int = 16, units: int = 32,
            name: str = "rt_lstm") -> keras.Model:
    inputs = keras.Input(shape=(maxlen,), name="x", dtype="int32")
    x = keras.layers.Embedding(vocab_size, embedding, name="embedding")(inputs)
    x = keras.layers.LSTM(units, name="lstm")(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="output")(x), name=name)


def imdb_lstm(maxlen: int, vocab_size: int = 20000, embedding: int = 100, units: int = 64,
              dropout: float = 0.2, recurrent_dropout: float = 0.2, name: str = "imdb_lstm") -> keras.Model:
    inputs = keras.Input(shape=(maxlen,), name="x", dtype="int32")
    x = keras.layers.Embedding(vocab_size, embedding, name="embedding")(inputs)
    x = keras.layers.LSTM(units, dropout=dropout, recurrent_dropout=recurrent_dropout, name="lstm")(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="output")(x), name=name)


def char_lstm(maxlen: int = 3, vocab_size: int = 28, embedding: int = 5, units: int = 8,
              name: str = "char_lstm") -> keras.Model:
    inputs = keras.Input(shape=(maxlen,), name="x", dtype="int32")
    x = keras.layers.Embedding(vocab_size, embedding, name="embedding")(inputs)
    x = keras.layers.LSTM(units, name="lstm")(x)
    return keras.Model(inputs, keras.layers.Dense(vocab_size, activation="softmax", name="output")(x), name=name)


def builder(reference: str):
    """The builder a card names, by reference: "ztdl_pipeline.core.text_models:rt_lstm"."""
    return refs.resolve(reference)


def table_inputs(attrs: Mapping[str, Any]) -> dict[str, int]:
    """What a feature table offers a builder: its width (features or ids per row) and, for id tables, the
    number of ids (the vocabulary, or the characters of the names windows)."""
    offered = {"width": int(attrs.get("n_features") or attrs["width"])}
    if attrs.get("vocab_size") or attrs.get("chars"):
        offered["vocab_size"] = int(attrs.get("vocab_size") or len(attrs["chars"]))
    return offered


def build(example, attrs: Mapping[str, Any], hyper, jit_compile="auto") -> keras.Model:
    """The card's builder on the table: its first argument is the table's width; `vocab_size` goes to the
    builders whose signature takes it (the logistic regression reads features, not ids)."""
    make = builder(example.builder)
    offered = table_inputs(attrs)
    extra = {k: v for k, v in offered.items() if k != "width" and k in inspect.signature(make).parameters}
    model = make(offered["width"], name=example.name, **extra, **example.builder_kwargs)
    return compile_model(model, make_optimizer(hyper.optimizer, hyper.learning_rate, hyper.momentum),
                         example.loss, ["accuracy"], jit_compile=jit_compile)


# ---------------------------------------------------------------- training


def batches(x, y, batch_size: int, shuffle: bool, seed: int):
    """A tf.data pipeline; a sparse matrix stays sparse in memory and is densified one batch at a time."""
    import tensorflow as tf

    if hasattr(x, "tocoo"):
        coo = x.tocoo()
        tensor = tf.sparse.reorder(tf.SparseTensor(np.stack([coo.row, coo.col], 1).astype(np.int64),
                                                   coo.data.astype(np.float32), coo.shape))
        data = tf.data.Dataset.from_tensor_slices((tensor, y))
        if shuffle:
            data = data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size).map(lambda a, b: (tf.sparse.to_dense(a), b)).prefetch(2)
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        data = data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(2)


def targets(example, y: np.ndarray, n_classes: int) -> np.ndarray:
    if example.loss == "categorical_crossentropy":
        return keras.utils.to_categorical(y, n_classes).astype(np.float32)
    return y.astype(np.float32).reshape(-1, 1)


def train(example, table, hyper, *, strategy=None, jit_compile="auto", seed_fn=None, on_epoch_end=None,
          backup_dir=None) -> TrainedModel:
    """Fit as the book does: Keras' validation_split holds out the last rows of the train split."""
    import contextlib

    attrs = T.table_attrs(table)
    x, y = T.split_xy(table, "train")
    n_classes = len(attrs["classes"])
    y = targets(example, y, n_classes)
    validation = None
    if hyper.validation_split:
        split_at = int(len(y) * (1 - hyper.validation_split))  # Keras 2's split: the book's 8,428 / 2,108
        validation = batches(x[split_at:], y[split_at:], hyper.batch_size, False, hyper.seed)
        x, y = x[:split_at], y[:split_at]
    if seed_fn:
        seed_fn(hyper.seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build(example, attrs, hyper, jit_compile)
    from ztdl_pipeline.core.training import Resume

    resume = Resume(backup_dir)  # a killed fit resumes from its last completed epoch
    callbacks = [*resume.callbacks, *([_EpochCallback(on_epoch_end, hyper.epochs)] if on_epoch_end else [])]
    start = time.perf_counter()
    history = model.fit(batches(x, y, hyper.batch_size, True, hyper.seed), epochs=hyper.epochs,
                        validation_data=validation, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    ran, merged = len(history.epoch), resume.history(history.history)
    resume.close()
    info = {"example": example.name, "title": example.title, "source": example.source, "hyper": asdict(hyper),
            "train_rows": int(len(y)), "validation_rows": 0 if validation is None else int(
                T.labels(table, "train").shape[0] - len(y)),
            "trainable_params": trainable_params(model), "total_params": int(model.count_params()),
            "seconds": round(seconds, 3),
            "samples_per_second": round(len(y) * ran / seconds, 1) if seconds > 0 and ran else None}
    if resume.done:
        info["resumed"] = [{"seed": hyper.seed, "from_epoch": resume.done}]
    return TrainedModel(model=model, history=merged, info=info)


def predict(model: keras.Model, x) -> np.ndarray:
    import tensorflow as tf

    if hasattr(x, "tocoo"):
        return model.predict(batches(x, np.zeros(x.shape[0], np.float32), 1024, False, 0), verbose=0)
    return np.asarray(model.predict(tf.constant(x), batch_size=1024, verbose=0))


# ---------------------------------------------------------------- evaluation and report


def evaluate(example, trained: TrainedModel, table) -> dict[str, Any]:
    attrs = T.table_attrs(table)
    out: dict[str, Any] = {"task": "binary" if len(attrs["classes"]) == 2 else "multiclass",
                           "profile": trained.info["hyper"]["profile"]}
    train_y = T.labels(table, "train")
    out[BASELINES], out[BASELINE_RULE] = {}, M.majority_rule(train_y, attrs["classes"])
    for split in ("train", "test"):
        x, y = T.split_xy(table, split)
        if len(y) == 0:
            continue
        output = predict(trained.model, x)
        out[split] = {**M.classification_metrics(y, output, attrs["classes"]), "loss": M.crossentropy(y, output)}
        out[BASELINES][split] = {"accuracy": M.majority_accuracy(train_y, y)}
    every = T.labels(table)
    out["all"] = {"baseline_accuracy": M.majority_baseline(every), "rows": float(len(every))}
    out["baseline"] = {"accuracy": M.majority_baseline(train_y)}
    out["history"] = {k: v[-1] for k, v in trained.history.items()}
    out["params"] = {"trainable": float(trained.info["trainable_params"])}
    if attrs.get("layout") == "sparse" and attrs.get("vocabulary"):  # one weight per word: the words that weigh
        out["top_words"] = top_words(trained.model, attrs["vocabulary"])
    if attrs.get("chars"):  # a next-character model: names it generates
        out["samples"] = {
            seed: [complete_name(trained.model, attrs["chars"], seed, attrs["width"], diversity=1.0,
                                 rng=np.random.default_rng([i, *map(ord, seed)])) for i in range(10)]
            for seed in ("jen", "ali")}
        out["samples"]["jen (diversity 0.01)"] = [complete_name(trained.model, attrs["chars"], "jen",
                                                                attrs["width"], diversity=0.01,
                                                                rng=np.random.default_rng(0))]
        out["samples"]["jen (diversity 10, 20 chars)"] = [complete_name(
            trained.model, attrs["chars"], "jen", attrs["width"], diversity=10, max_len=20,
            rng=np.random.default_rng(i)) for i in range(3)]
    return out


def top_words(model: keras.Model, vocabulary: Sequence[str], n: int = 20) -> dict[str, list]:
    weights = model.get_layer("output").get_weights()[0].reshape(-1)
    order = np.argsort(weights)
    return {"positive": [[vocabulary[i], float(weights[i])] for i in order[::-1][:n]],
            "negative": [[vocabulary[i], float(weights[i])] for i in order[:n]]}


def sample(probabilities: np.ndarray, diversity: float, rng: np.random.Generator) -> int:
    """The book's sampling: log(p) / diversity -> softmax -> one multinomial draw."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0)) / diversity
    p = np.exp(logits - logits.max())
    return int(np.argmax(rng.multinomial(1, p / p.sum())))


def complete_name(model: keras.Model, chars: Sequence[str], seed: str, maxlen: int, diversity: float = 1.0,
                  max_len: int = 15, rng: np.random.Generator | None = None) -> str:
    """Extend `seed` one sampled character at a time until '\\n' or max_len characters (book L12330)."""
    rng = rng or np.random.default_rng()
    index = {c: i for i, c in enumerate(chars)}
    name = seed.lower()
    while len(name) < max_len:
        window = T.pad([np.asarray([index[c] for c in name if c in index][-maxlen:], np.int32)], maxlen)
        probabilities = model.predict(window, verbose=0)[0]
        char = chars[sample(probabilities, diversity, rng)]
        if char == "\n":
            break
        name += char
    return name


def report_images(example, trained: TrainedModel, table, metrics: Mapping[str, Any]) -> dict[str, bytes]:
    from ztdl_pipeline.core import plots

    images = {"learning_curves": plots.learning_curves(trained.history, f"{example.title}: training")}
    if "test" in metrics:
        classes = [str(c) for c in T.table_attrs(table)["classes"]]
        images["confusion_matrix"] = plots.confusion_matrix(metrics["test"]["confusion_matrix"], classes,
                                                            "confusion matrix (test)")
    return images


def report_markdown(example, trained: TrainedModel, metrics: Mapping[str, Any], images: Mapping[str, bytes],
                    threshold: float, embed: bool) -> str:
    from ztdl_pipeline.core.report import comparison_table, markdown_table, render

    info = trained.info
    hyper = info["hyper"]
    sections = [("Ours vs the book", comparison_table(metrics["book"])),
                ("Model", (f"{info['trainable_params']:,} trainable parameters; {hyper['epochs']} epochs, batch "
                           f"{hyper['batch_size']}, {hyper['optimizer']}, validation_split "
                           f"{hyper['validation_split']}; trained on {info['train_rows']:,} rows in "
                           f"{info['seconds']:.1f} s ({info['samples_per_second'] or 0:.0f} samples/s); "
                           f"profile {metrics['profile']}."))]
    rows = [[split, metrics[split].get("accuracy"), metrics[split].get("loss"), metrics[split].get("n")]
            for split in ("train", "test") if split in metrics]
    sections.append(("Accuracy", markdown_table(["split", "accuracy", "loss", "rows"], rows)
                     + f"\n\nMajority-class baseline (all rows): {metrics['all']['baseline_accuracy']:.4f}. "
                       f"Export gate: {example.primary[0]} {example.primary[1]} ≥ {threshold:.4f}."))
    if "top_words" in metrics:
        words = metrics["top_words"]
        table = markdown_table(["rank", "positive word", "weight", "negative word", "weight"],
                               [[i + 1, p[0], p[1], n[0], n[1]]
                                for i, (p, n) in enumerate(zip(words["positive"], words["negative"]))])
        sections.append(("Words with the largest and smallest weights", table))
    if "samples" in metrics:
        sections.append(("Sampled names", "\n".join(f"- seed `{seed}`: " + ", ".join(f"`{n}`" for n in names)
                                                    for seed, names in metrics["samples"].items())))
    if example.notes:
        sections.append(("Notes", example.notes))
    sections.append(("Source", example.source))
    return render(example.title, sections, images, embed)


# ---------------------------------------------------------------- export: raw strings in


def keras_standardize(text):
    """`core.text.standardize` as TensorFlow ops: UTF-8 lowercase, the Tokenizer's filters -> spaces."""
    import re

    import tensorflow as tf

    lowered = tf.strings.lower(text, encoding="utf-8")
    return tf.strings.regex_replace(lowered, "[" + re.escape(T.FILTERS) + "]", " ")


def sklearn_standardize(text):
    """scikit-learn's tokenization as TensorFlow ops: lowercase, every run of non-word characters -> one
    space (Python's Unicode \\w is letters, digits and '_'); 1-character tokens and stop words are simply
    not in the vocabulary, so they count as out-of-vocabulary, which the model never sees."""
    import tensorflow as tf

    lowered = tf.strings.lower(text, encoding="utf-8")
    return tf.strings.regex_replace(lowered, r"[^\pL\pN_]+", " ")


@keras.saving.register_keras_serializable(package="ztdl")
class TextServing(keras.Model):
    """Raw strings -> the trained model's input -> its output. kind: sequence | count | tf_idf | features."""

    def __init__(self, classifier: keras.Model, kind: str, vocabulary: Sequence[str], maxlen: int = 0,
                 idf: Sequence[float] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.classifier, self.kind, self.maxlen = classifier, kind, int(maxlen)
        if kind == "sequence":
            self.vectorizer = keras.layers.TextVectorization(
                standardize=keras_standardize, split="whitespace", output_mode="int", ragged=True,
                vocabulary=list(vocabulary), name="vectorize")
        elif kind in ("count", "tf_idf"):
            self.vectorizer = keras.layers.TextVectorization(
                standardize=sklearn_standardize, split="whitespace", output_mode=kind,
                vocabulary=list(vocabulary), idf_weights=None if idf is None else np.asarray(idf, np.float32),
                name="vectorize")
        elif kind != "features":
            raise ValueError(f"unknown serving kind {kind!r}")

    def call(self, text):
        import tensorflow as tf

        if isinstance(text, Mapping):  # the export's signature: {"text": strings}
            text = text["text"]

        if self.kind == "sequence":
            ids = tf.cast(self.vectorizer(text), tf.int32)
            padded = tf.reverse(ids[:, ::-1][:, :self.maxlen].to_tensor(0, shape=[None, self.maxlen]), [1])
            return self.classifier(padded)
        if self.kind == "features":  # the two SMS features: count of the word 'free', count of digits
            tokens = tf.strings.split(keras_standardize(text))
            free = tf.reduce_sum(tf.cast(tf.equal(tokens, "free"), tf.float32), axis=1)
            digits = tf.cast(tf.strings.length(tf.strings.regex_replace(text, "[^0-9]", "")), tf.float32)
            return self.classifier(tf.stack([free, digits], axis=1))
        counts = self.vectorizer(text)[:, 1:]  # column 0 counts out-of-vocabulary tokens: not a feature
        if self.kind == "tf_idf":
            counts = tf.math.l2_normalize(counts, axis=1)  # TfidfVectorizer's norm='l2'
        return self.classifier(counts)


def serving(example, trained: TrainedModel, table) -> tuple[keras.Model, dict]:
    attrs = T.table_attrs(table)
    kind = attrs["serving"]
    vocabulary = attrs.get("vocabulary") or []
    if kind == "sequence":
        vocabulary = vocabulary[2:]  # ids 0 (padding) and 1 ([UNK]) are TextVectorization's own
    model = TextServing(trained.model, kind, vocabulary, maxlen=attrs.get("width", 0), idf=attrs.get("idf"),
                        name=f"serving_{example.name}")
    model(np.asarray(["warm up"], dtype=object))
    return model, {"text": {"column": "text", "dtype": "string"}}


def verify_export(path, trained: TrainedModel, table, limit: int = 512) -> float:
    """Reload the SavedModel with plain TensorFlow, send it raw test texts, compare with the Keras model fed
    the stored features of the same rows; returns the largest absolute difference of the probabilities."""
    from ztdl_pipeline.core.export import agreement, load_and_predict

    part = T.rows(table, "test").slice(0, limit)
    texts = np.asarray(part.column("text").to_pylist(), dtype=object)
    x, _ = T.split_xy(part, "test") if T.table_attrs(table).get("layout") != "sparse" else (
        T.sparse_matrix(part, T.table_attrs(table)["n_features"]), None)
    expected = predict(trained.model, x).reshape(-1)
    served = load_and_predict(path, {"text": texts}).reshape(-1)
    return agreement(path, served, expected, f"{len(texts)} raw test texts", inputs=texts)


def describe_outputs(table) -> dict:
    classes = T.table_attrs(table)["classes"]
    return {"output_0": f"P(class = {classes[1]})", "classes": classes, "input": "raw text (string)"}
