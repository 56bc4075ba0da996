"""Chapter 11: pretrained Xception as a feature extractor, classifiers on top of it, fine-tuning, and the
SavedModel that takes raw image bytes.

Every model here takes raw uint8 pixels ("image", size×size×3): Xception's `preprocess_input` (x / 127.5 − 1)
is a Rescaling layer inside the model, so the same graph serves training, bottleneck extraction and export.
Pictures reach the models through tf.data (read file -> decode -> resize -> batch -> prefetch), never one
by one in Python. Bottleneck vectors are stored as a parquet table with a fixed-size list<float32>[2048]
column. Image search lives in core/image_search.py. Keras/TensorFlow are imported at module level: import
this module lazily (inside asset bodies).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import keras
import numpy as np
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.core.export import agreement
from ztdl_pipeline.core.imagenet import weights_banner
from ztdl_pipeline.core.models import make_optimizer, trainable_params
from ztdl_pipeline.core.tables import ATTRS_KEY, table_attrs
from ztdl_pipeline.core.training import PredictProgress, Resume, TrainedModel, _EpochCallback

VECTOR = "bottleneck"
# ch11's ImageDataGenerator (rotation 15°, shifts 0.2, zoom 0.2, flip, fill 'nearest'); its shear_range=5 has no layer
BOOK_AUGMENTATION = {"shift": 0.2, "rotation_degrees": 15, "zoom": 0.2, "horizontal_flip": True,
                     "fill_mode": "nearest"}
FINE_TUNE_SPLIT_LAYER = 126  # sol.ch11.ex3: model.layers[:126] stay frozen

# ---------------------------------------------------------------- tf.data: files or bytes -> pixels


def decode_resize(data, size: int, method: str = "bilinear"):
    """One encoded picture (JPEG/PNG/GIF/BMP bytes, a scalar string tensor) -> (size, size, 3) uint8."""
    import tensorflow as tf

    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image = tf.image.resize(image, (size, size), method=method, antialias=False)
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


def image_dataset(files: Sequence[str], size: int, *, batch_size: int, labels: np.ndarray | None = None,
                  n_classes: int | None = None, method: str = "bilinear", shuffle: bool = False,
                  repeat: bool = False, seed: int = 0):
    """tf.data over picture files: read, decode and resize in parallel, batch, prefetch. With `labels`,
    yields (uint8 pixels, one-hot labels), else uint8 pixel batches, in file order."""
    import tensorflow as tf

    paths = tf.data.Dataset.from_tensor_slices(np.asarray([str(f) for f in files]))
    if labels is not None:
        targets = tf.one_hot(np.asarray(labels, dtype=np.int64), n_classes)
        data = tf.data.Dataset.zip(paths, tf.data.Dataset.from_tensor_slices(targets))
    else:
        data = paths
    if shuffle:
        data = data.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        data = data.repeat()

    def load(path, *target):
        image = decode_resize(tf.io.read_file(path), size, method)
        return (image, *target) if target else image

    options = tf.data.Options()
    options.deterministic = True  # parallel map, but the order of the files
    data = data.map(load, num_parallel_calls=tf.data.AUTOTUNE).with_options(options)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------- models


def pixel_features(base: keras.Model, size: int) -> keras.Model:
    """uint8 pixels -> Xception's preprocess_input (x / 127.5 − 1) -> the base network."""
    image = keras.Input((size, size, 3), dtype="uint8", name="image")
    scaled = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="xception_preprocess")(image)
    return keras.Model(image, base(scaled), name="xception_features")


def head_model(dim: int, n_classes: int) -> keras.Model:
    """ch11.sports_fc_on_bottlenecks: Dropout .5, Dense 16 relu, Dropout .5, Dense n softmax (32,835
    parameters for 3 classes)."""
    vector = keras.Input((dim,), name="bottleneck")
    x = keras.layers.Dropout(0.5)(vector)
    x = keras.layers.Dense(16, activation="relu")(x)
    x = keras.layers.Dropout(0.5)(x)
    out = keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(vector, out, name="head")


def classifier(features: keras.Model, head: keras.Model, name: str) -> keras.Model:
    """Pixels -> bottleneck -> head: the head trained on bottlenecks as one model of raw pixels."""
    image = keras.Input(features.input_shape[1:], dtype="uint8", name="image")
    return keras.Model(image, head(features(image)), name=name)


def transfer_model(base: keras.Model, size: int, n_classes: int,
                   augmentation: Mapping[str, Any] | None = None) -> keras.Model:
    """ch11.sports_transfer_learning_xception: the book's augmentation (random layers, active only in
    training) -> preprocess_input -> frozen Xception (avg pool) -> Dense 256 relu -> Dropout .5 -> softmax."""
    from ztdl_pipeline.core.vision_models import augmenter

    image = keras.Input((size, size, 3), dtype="uint8", name="image")
    x = keras.layers.Rescaling(1.0, name="to_float")(image)
    for layer in augmenter(**(augmentation or {})):
        x = layer(x)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="xception_preprocess")(x)
    base.trainable = False
    x = base(x)
    x = keras.layers.Dense(256, activation="relu")(x)
    x = keras.layers.Dropout(0.5)(x)
    out = keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(image, out, name="xception_transfer")


def base_of(model: keras.Model) -> keras.Model:
    return next(layer for layer in model.layers if isinstance(layer, keras.Model) and "xception" in layer.name)


def unfreeze_top(model: keras.Model, split_layer: int = FINE_TUNE_SPLIT_LAYER) -> dict[str, int]:
    """sol.ch11.ex3 stage 2: the base's layers[:split_layer] stay frozen, the rest (the top two separable
    convolution blocks) train."""
    base = base_of(model)
    base.trainable = True
    for layer in base.layers[:split_layer]:
        layer.trainable = False
    return {"base_layers": len(base.layers), "frozen_base_layers": min(split_layer, len(base.layers)),
            "trainable_params": trainable_params(model)}


# ---------------------------------------------------------------- bottlenecks


def extract(features: keras.Model, files: Sequence[str], size: int, *, batch_size: int = 32,
            method: str = "bilinear", log: Callable[[str], None] | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """Bottleneck vectors of the files in order, computed in batches through tf.data; (vectors, timing). `log`
    gets a progress line at most every 15 s with the time left (core/training.PredictProgress)."""
    data, start = image_dataset(files, size, batch_size=batch_size, method=method), time.perf_counter()
    shown = [PredictProgress("bottlenecks", len(files), batch_size, log)] if log else []
    vectors = features.predict(data, verbose=0, callbacks=shown) if len(files) else np.zeros((0, features.output_shape[-1]))
    seconds = time.perf_counter() - start
    return np.asarray(vectors, dtype=np.float32), {
        "seconds": round(seconds, 3), "images_per_second": round(len(files) / seconds, 2) if seconds else 0.0}


def bottleneck_table(vectors: np.ndarray, index: pd.DataFrame, classes: Sequence[str],
                     attrs: Mapping[str, Any]) -> pa.Table:
    """bottleneck (fixed-size list<float32>[d]), label, class_name, split, file; attrs in the metadata."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    lookup = {c: i for i, c in enumerate(classes)}
    table = pa.table({
        VECTOR: pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
        "label": pa.array(index.class_name.map(lookup).to_numpy(np.int64)),
        "class_name": pa.array(index.class_name.astype(str).tolist()),
        "split": pa.array(index.split.astype(str).tolist()),
        "file": pa.array(index.file.astype(str).tolist()),
    })
    splits = index.split.value_counts()
    meta = {**attrs, "classes": list(classes), "dim": dim, "rows": n,
            "splits": {s: int(splits.get(s, 0)) for s in ("train", "test")}}
    return table.replace_schema_metadata({ATTRS_KEY: json.dumps(meta).encode()})


def vectors_of(table: pa.Table) -> np.ndarray:
    column = table.column(VECTOR).combine_chunks()
    dim = column.type.list_size
    return column.values.to_numpy(zero_copy_only=False).reshape(-1, dim).astype(np.float32, copy=False)


def split_rows(table: pa.Table, split: str | None) -> pa.Table:
    if split is None:
        return table
    mask = np.asarray(table.column("split").to_pylist()) == split
    return table.filter(pa.array(mask))


def split_xy(table: pa.Table, split: str | None) -> tuple[np.ndarray, np.ndarray]:
    rows = split_rows(table, split)
    return vectors_of(rows), rows.column("label").to_numpy()


def split_files(table: pa.Table, split: str | None) -> tuple[list[str], np.ndarray]:
    rows = split_rows(table, split)
    return rows.column("file").to_pylist(), rows.column("label").to_numpy()


def table_problems(table: pa.Table) -> list[str]:
    attrs = table_attrs(table)
    missing = [c for c in (VECTOR, "label", "class_name", "split", "file") if c not in table.column_names]
    if missing:
        return [f"missing column {c}" for c in missing]
    problems = []
    kind = table.schema.field(VECTOR).type
    if not (pa.types.is_fixed_size_list(kind) and kind.value_type == pa.float32()):
        problems.append(f"{VECTOR} is {kind}, expected a fixed-size list of float32")
    elif kind.list_size != attrs.get("dim"):
        problems.append(f"{VECTOR} has {kind.list_size} values, the metadata says {attrs.get('dim')}")
    else:
        vectors = vectors_of(table)
        if not np.all(np.isfinite(vectors)):
            problems.append(f"{int(np.sum(~np.isfinite(vectors)))} non-finite values in {VECTOR}")
    problems += [f"{c} has {table.column(c).null_count} nulls" for c in table.column_names
                 if table.column(c).null_count]
    labels, n_classes = table.column("label").to_numpy(), len(attrs.get("classes") or [])
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        problems.append(f"labels outside 0..{n_classes - 1}")
    return problems


# ---------------------------------------------------------------- training


def _fit(model: keras.Model, data, *, epochs: int, steps: int | None, images: int, validation=None,
         on_epoch_end: Callable | None = None, backup_dir=None) -> dict[str, Any]:
    resume = Resume(backup_dir)  # a killed fit resumes from its last completed epoch
    callbacks = [*resume.callbacks, *([_EpochCallback(on_epoch_end, epochs)] if on_epoch_end else [])]
    start = time.perf_counter()
    history = model.fit(data, epochs=epochs, steps_per_epoch=steps, validation_data=validation, verbose=0,
                        callbacks=callbacks)
    seconds = time.perf_counter() - start
    ran, merged = len(history.epoch), resume.history(history.history)
    resume.close()
    return {"history": merged, "seconds": round(seconds, 3), "resumed_from_epoch": resume.done,
            "samples_per_second": round(images * ran / seconds, 1) if seconds > 0 and ran else None}


def train_head(table: pa.Table, hyper, *, jit_compile="auto", on_epoch_end=None, backup_dir=None
               ) -> tuple[keras.Model, dict]:
    """The small network on bottleneck vectors, as the book: fit(X_train, y_train_cat, epochs=20,
    batch_size=32, validation_data=(X_test, y_test_cat))."""
    import tensorflow as tf

    attrs = table_attrs(table)
    n_classes = len(attrs["classes"])
    (x, y), (x_test, y_test) = split_xy(table, "train"), split_xy(table, "test")
    head = head_model(x.shape[1], n_classes)
    head.compile(optimizer=make_optimizer(hyper.optimizer, hyper.learning_rate, hyper.momentum),
                 loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)
    train = tf.data.Dataset.from_tensor_slices((x, tf.one_hot(y, n_classes))).shuffle(
        len(x), seed=hyper.seed).batch(hyper.batch_size).prefetch(tf.data.AUTOTUNE)
    validation = (x_test, keras.utils.to_categorical(y_test, n_classes)) if len(x_test) else None
    result = _fit(head, train, epochs=hyper.epochs, steps=None, images=len(x), validation=validation,
                  on_epoch_end=on_epoch_end, backup_dir=backup_dir)
    return head, result


def train_on_images(model: keras.Model, table: pa.Table, hyper, *, size: int, steps_per_epoch: int,
                    optimizer: keras.optimizers.Optimizer, method: str = "bilinear", jit_compile="auto",
                    on_epoch_end=None, backup_dir=None) -> dict[str, Any]:
    """fit_generator(train_generator, steps_per_epoch, epochs) with tf.data over the picture files."""
    files, labels = split_files(table, "train")
    n_classes = len(table_attrs(table)["classes"])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit_compile)
    data = image_dataset(files, size, batch_size=hyper.batch_size, labels=labels, n_classes=n_classes,
                         method=method, shuffle=True, repeat=True, seed=hyper.seed)
    return _fit(model, data, epochs=hyper.epochs, steps=steps_per_epoch,
                images=steps_per_epoch * hyper.batch_size, on_epoch_end=on_epoch_end, backup_dir=backup_dir)


def trained_info(kind: str, example, hyper, model: keras.Model, table: pa.Table, result: Mapping,
                 extra: Mapping[str, Any]) -> dict[str, Any]:
    attrs = table_attrs(table)
    return {"kind": kind, "example": example.name, "title": example.title, "source": example.source,
            "hyper": asdict(hyper), "trainable_params": trainable_params(model),
            "total_params": int(model.count_params()), "classes": attrs["classes"],
            "image_size": attrs["image_size"], "resize": attrs["resize"], "weights": attrs["weights"],
            "train_rows": int(attrs["splits"].get("train", 0)),
            **{k: result[k] for k in ("seconds", "samples_per_second")}, **extra,
            **({"resumed": [{"seed": hyper.seed, "from_epoch": result["resumed_from_epoch"]}]}
               if result.get("resumed_from_epoch") else {})}


def make_trained(model, history, info) -> TrainedModel:
    return TrainedModel(model=model, history=history, info=info)


# ---------------------------------------------------------------- evaluation


def predict(trained: TrainedModel, table: pa.Table, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, labels) of a split: the head on the stored bottlenecks when the model is the head
    classifier (same numbers as the pixel model, without recomputing Xception), else the model on pixels."""
    if trained.info["kind"] == "head":
        x, y = split_xy(table, split)
        head = trained.model.get_layer("head")
        return (head.predict(x, batch_size=1024, verbose=0) if len(x) else np.zeros((0, 1))), y
    files, y = split_files(table, split)
    data = image_dataset(files, trained.info["image_size"], batch_size=32, method=trained.info["resize"])
    return trained.model.predict(data, verbose=0), y


def evaluate(example, trained: TrainedModel, table: pa.Table) -> dict[str, Any]:
    from ztdl_pipeline.core import metrics as M
    from ztdl_pipeline.core.gate import BASELINE_RULE, BASELINES

    classes = table_attrs(table)["classes"]
    out: dict[str, Any] = {"task": "binary" if len(classes) == 2 else "multiclass",
                           "profile": trained.info["hyper"]["profile"], "weights": trained.info["weights"]}
    train_y = split_xy(table, "train")[1]
    out[BASELINES], out[BASELINE_RULE] = {}, M.majority_rule(train_y, classes)
    for split in ("train", "test"):
        output, y = predict(trained, table, split)
        if len(y):
            out[split] = {**M.classification_metrics(y, output, classes), "loss": M.crossentropy(y, output)}
            out[BASELINES][split] = {"accuracy": M.majority_accuracy(train_y, y)}
    out["baseline"] = {"accuracy": M.majority_baseline(train_y)}
    out["history"] = {k: v[-1] for k, v in trained.history.items()}
    return out


def report_markdown(example, trained: TrainedModel, metrics: Mapping[str, Any], images: Mapping[str, bytes],
                    threshold: float, embed: bool) -> str:
    from ztdl_pipeline.core.report import comparison_rows, comparison_table, markdown_table, render

    info = trained.info
    keys = ("loss", "accuracy", "precision", "recall", "f1")
    rows = [[s, metrics[s]["n"], *[metrics[s][k] for k in keys]] for s in ("train", "test") if s in metrics]
    settings = [[k, v] for k, v in info["hyper"].items()] + [
        ["input", f"uint8 {info['image_size']}×{info['image_size']}×3 ({info['resize']} resize)"],
        ["classes", ", ".join(map(str, info["classes"]))],
        ["trainable / total parameters", f"{info['trainable_params']:,} / {info['total_params']:,}"],
        ["training seconds", info["seconds"]], ["images (or vectors) per second", info["samples_per_second"]],
        *[[k, v] for k, v in info.get("details", {}).items()]]
    book = comparison_rows(metrics, example.book)
    sections = [
        ("Weights", weights_banner(info["weights"])),
        ("Ours vs the book", comparison_table(book) if book else "The book prints no number for this one."),
        ("Metrics", markdown_table(["split", "images", *keys], rows)),
        ("Export gate", f"`{example.primary[0]}/{example.primary[1]}` ≥ **{threshold:.4f}**; always predicting "
                        f"the most frequent class scores {metrics['baseline']['accuracy']:.4f}."),
        ("Training", markdown_table(["setting", "value"], settings))]
    if example.notes:
        sections.append(("Notes", example.notes))
    sections.append(("Source", example.source))
    return render(example.title, sections, images, embed)


def report_images(example, trained: TrainedModel, table: pa.Table, metrics: Mapping[str, Any]) -> dict:
    from ztdl_pipeline.core import plots

    images = {"learning_curves": plots.learning_curves(trained.history, f"{example.title}: training")}
    if "test" in metrics:
        images["confusion_matrix"] = plots.confusion_matrix(
            metrics["test"]["confusion_matrix"], [str(c) for c in table_attrs(table)["classes"]],
            "confusion matrix (test)")
    return images


# ---------------------------------------------------------------- export: raw bytes or uint8 pixels


def write_export(model: keras.Model, path, size: int, method: str = "bilinear") -> dict[str, Any]:
    """One SavedModel with two endpoints: `serving_default` (= `serve_bytes`) takes a batch of encoded
    pictures (JPEG/PNG strings), decodes and resizes them in the graph; `serve_pixels` takes uint8 pixels
    of the model's size. Xception's preprocessing is inside the model. Returns the signature description."""
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)

    def from_bytes(image_bytes):
        pixels = tf.map_fn(lambda b: decode_resize(b, size, method), image_bytes,
                           fn_output_signature=tf.TensorSpec((size, size, 3), tf.uint8))
        return model(pixels, training=False)

    archive.add_endpoint("serve_bytes", from_bytes,
                         input_signature=[tf.TensorSpec((None,), tf.string, name="image_bytes")])
    archive.add_endpoint("serve_pixels", lambda pixels: model(pixels, training=False),
                         input_signature=[tf.TensorSpec((None, size, size, 3), tf.uint8, name="image")])
    archive.write_out(str(path), verbose=False)
    return {"image_bytes": {"column": "file", "dtype": "string", "shape": [None],
                            "encoding": "JPEG/PNG/GIF/BMP bytes, any size (resized in the graph)"}}


def verify_export(path, trained: TrainedModel, table: pa.Table, rows: int = 8) -> float:
    """Reload with plain TensorFlow; feed real test picture bytes to serving_default and their decoded pixels
    to serve_pixels; both must match the Keras model on the same pixels. Largest absolute difference."""
    import tensorflow as tf

    files = split_files(table, "test")[0][:rows] or split_files(table, None)[0][:rows]
    size, method = trained.info["image_size"], trained.info["resize"]
    blobs = [open(f, "rb").read() for f in files]
    loaded = tf.saved_model.load(str(path))  # keep a reference while its functions run
    from_bytes = np.asarray(loaded.signatures["serving_default"](image_bytes=tf.constant(blobs))["output_0"])
    pixels = np.stack([decode_resize(tf.constant(b), size, method).numpy() for b in blobs])
    from_pixels = np.asarray(loaded.serve_pixels(tf.constant(pixels)))
    expected = trained.model.predict(pixels, verbose=0)
    return max(agreement(path, from_bytes, expected, f"{len(files)} test picture files (serving_default)",
                         inputs=files),
               agreement(path, from_pixels, expected, f"{len(files)} test pictures' pixels (serve_pixels)",
                         inputs=files))
