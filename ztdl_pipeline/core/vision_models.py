"""The book's image models (ch6, ch9, ch10, DataCamp MNIST) and how they are trained, judged and exported.

Builders are Keras 3 and backend-neutral (layers only, no tf.* inside a model). Every model takes
{"image": raw uint8 pixels of the training shape}: its first layers rescale them (and, where the book
augments, apply Keras' random preprocessing layers, active only while training), so the exported
SavedModel takes raw pixels. The output layer is float32, so under mixed precision on a GPU the
probabilities stay in full precision. Parameter counts match the book's model summaries.

Training streams (shuffled, batched, prefetched) tf.data batches over the parquet features
(core/images.py) through model.fit.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import keras
import numpy as np

from ztdl_pipeline.core import images as I
from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core import refs
from ztdl_pipeline.core.gate import BASELINE_RULE, BASELINES
from ztdl_pipeline.core.image_specs import VisionHyper
from ztdl_pipeline.core.models import make_optimizer, trainable_params
from ztdl_pipeline.core.report import comparison_rows, comparison_table, markdown_table, render
from ztdl_pipeline.core.specs import Card, Hyper
from ztdl_pipeline.core.training import TrainedModel, _EpochCallback, compile_model

# ---------------------------------------------------------------- builders

# ch10's digit augmentation (ImageDataGenerator settings as Keras preprocessing layers). ImageDataGenerator's
# shear_range is an angle in degrees (0.1 here), too small to change a pixel of an 8×8 digit: left out.
DIGITS_AUGMENTATION = {"shift": 0.1, "rotation_degrees": 10, "zoom": 0.1, "fill_mode": "constant"}


def augmenter(shift: float = 0.0, rotation_degrees: float = 0.0, zoom: float = 0.0,
              horizontal_flip: bool = False, fill_mode: str = "nearest") -> list[keras.layers.Layer]:
    """ImageDataGenerator(width/height_shift_range, rotation_range, zoom_range, horizontal_flip, fill_mode)
    as random layers; they change images only when called with training=True."""
    layers: list[keras.layers.Layer] = []
    if shift:
        layers.append(keras.layers.RandomTranslation(shift, shift, fill_mode=fill_mode, name="random_shift"))
    if rotation_degrees:
        layers.append(keras.layers.RandomRotation(rotation_degrees / 360.0, fill_mode=fill_mode,
                                                  name="random_rotation"))
    if zoom:
        layers.append(keras.layers.RandomZoom((-zoom, zoom), (-zoom, zoom), fill_mode=fill_mode,
                                              name="random_zoom"))
    if horizontal_flip:
        layers.append(keras.layers.RandomFlip("horizontal", name="random_flip"))
    return layers


def _model(name: str, shape: Sequence[int], scale: float,
           layers: Sequence[keras.layers.Layer]) -> keras.Model:
    """uint8 image input -> Rescaling(scale) (also the cast to float) -> layers."""
    image = keras.Input(tuple(shape), dtype="uint8", name="image")
    x = keras.layers.Rescaling(scale, name="rescale")(image)
    for layer in layers:
        x = layer(x)
    return keras.Model({"image": image}, x, name=name)


def _channels(shape: Sequence[int]) -> list[keras.layers.Layer]:
    """Grey images (h, w) get their channel axis, as the book's reshape(-1, h, w, 1)."""
    return [keras.layers.Reshape((*shape, 1), name="add_channel")] if len(shape) == 2 else []


def _classes(n: int) -> keras.layers.Layer:
    if n == 1:
        return keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="probability")
    return keras.layers.Dense(n, activation="softmax", dtype="float32", name="probabilities")


def _conv(filters: int, **kwargs) -> keras.layers.Layer:
    return keras.layers.Conv2D(filters, (3, 3), kernel_initializer="normal", **kwargs)


def mnist_fc(shape: Sequence[int] = (28, 28)) -> keras.Model:
    """ch6: Flatten -> Dense 512-256-128-32 (relu) -> Dense(10, softmax); 570,602 parameters."""
    return _model("mnist_fc", shape, 1 / 255, [
        keras.layers.Flatten(), *[keras.layers.Dense(n, activation="relu") for n in (512, 256, 128, 32)],
        _classes(10)])


def mnist_cnn(shape: Sequence[int] = (28, 28)) -> keras.Model:
    """ch6: Conv2D(32, 3×3, normal) -> MaxPool 2×2 -> relu -> Dense(64, relu) -> Dense(10); 347,146."""
    return _model("mnist_cnn", shape, 1 / 255, [
        *_channels(shape), _conv(32), keras.layers.MaxPooling2D((2, 2)), keras.layers.Activation("relu"),
        keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"), _classes(10)])


def mnist_two_conv(shape: Sequence[int] = (28, 28)) -> keras.Model:
    """ch6 ex1: two Conv-MaxPool-relu "pancakes" -> Dense(64) -> Dense(10); 61,482 parameters."""
    pancake = [(_conv(32), keras.layers.MaxPooling2D((2, 2)), keras.layers.Activation("relu"))
               for _ in range(2)]
    return _model("mnist_two_conv", shape, 1 / 255, [
        *_channels(shape), *[layer for block in pancake for layer in block], keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"), _classes(10)])


def cifar10_cnn(shape: Sequence[int] = (32, 32, 3)) -> keras.Model:
    """ch6 ex2: conv(32, same)-conv(32)-pool-conv(64, same)-conv(64)-pool-Dense(512)-Dense(10); 1,250,858."""
    blocks = [[_conv(n, padding="same", activation="relu"), _conv(n, activation="relu"),
               keras.layers.MaxPooling2D((2, 2))] for n in (32, 64)]
    return _model("cifar10_cnn", shape, 1 / 255, [
        *blocks[0], *blocks[1], keras.layers.Flatten(), keras.layers.Dense(512, activation="relu"),
        _classes(10)])


def cifar10_gpu_cnn(shape: Sequence[int] = (32, 32, 3)) -> keras.Model:
    """ch9 convolutional_model(): conv(32, same)-conv(32)-pool-Dense(512)-Dense(10); 3,702,186 parameters."""
    return _model("cifar10_gpu_cnn", shape, 1 / 255, [
        _conv(32, padding="same", activation="relu"), _conv(32, activation="relu"),
        keras.layers.MaxPooling2D((2, 2)), keras.layers.Flatten(), keras.layers.Dense(512, activation="relu"),
        _classes(10)])


def mnist_2500_mlp(shape: Sequence[int] = (28, 28), scale: float = 1 / 255) -> keras.Model:
    """DataCamp: Dense(50, relu) -> Dense(50, relu) -> Dense(10); 42,310 parameters. The memo's pixels behave
    as 0–1 values: its first-epoch loss 1.6672 is what this network shows on x / 255 (1.60–1.65 here, three
    seeds), while on raw 0–255 values it starts at 17–20 and stalls (scale=1.0 to see it)."""
    return _model("mnist_2500_mlp", shape, scale, [
        keras.layers.Flatten(), keras.layers.Dense(50, activation="relu"),
        keras.layers.Dense(50, activation="relu"), _classes(10)])


def digits_small_fc(shape: Sequence[int] = (8, 8), units: int = 16) -> keras.Model:
    """ch10: X / 16 -> Dense(16, relu) -> Dense(10, softmax); 1,210 parameters (`units`: the hidden layer's
    width, which the tuned variant searches)."""
    return _model("digits_small_fc", shape, 1 / 16, [
        keras.layers.Flatten(), keras.layers.Dense(units, activation="relu"), _classes(10)])


def digits_deep(shape: Sequence[int] = (8, 8), *, l2: float = 0.0, input_dropout: float = 0.0,
                dropout: float = 0.0, max_norm: float = 0.0, batch_norm: bool = False,
                augmentation: Mapping[str, Any] | None = None, name: str = "digits_deep") -> keras.Model:
    """ch10's base model, 3×Dense(1024, relu) -> Dense(10, softmax) (2,176,010 parameters), and its
    variants: L2 weight penalty, dropout (input and hidden), max-norm constraint, batch normalization
    before each activation, or Keras augmentation layers in front (the book's tensor_model)."""
    layers: list[keras.layers.Layer] = []
    if augmentation:
        layers += [*_channels(shape), *augmenter(**augmentation)]
    layers.append(keras.layers.Flatten())
    if input_dropout:
        layers.append(keras.layers.Dropout(input_dropout))
    for _ in range(3):
        layers.append(keras.layers.Dense(
            1024, activation=None if batch_norm else "relu",
            kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
            kernel_constraint=keras.constraints.MaxNorm(max_norm) if max_norm else None))
        if batch_norm:
            layers += [keras.layers.BatchNormalization(), keras.layers.Activation("relu")]
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    if batch_norm:  # the book normalizes the output logits too: Dense(10) -> BatchNormalization -> softmax
        layers += [keras.layers.Dense(10), keras.layers.BatchNormalization(),
                   keras.layers.Activation("softmax", dtype="float32", name="probabilities")]
    else:
        layers.append(_classes(10))
    return _model(name, shape, 1 / 16, layers)


def male_female_cnn(shape: Sequence[int] = (64, 64, 3),
                    augmentation: Mapping[str, Any] | None = None) -> keras.Model:
    """ch10 ex (ch24): augmentation, then 3×(Conv 3×3 relu -> MaxPool -> BatchNormalization) -> Dense(128)
    -> Dense(1, sigmoid); 352,129 parameters, 320 of them non-trainable."""
    layers: list[keras.layers.Layer] = [*augmenter(**(augmentation or {}))]
    for filters in (32, 64, 64):
        layers += [keras.layers.Conv2D(filters, (3, 3), activation="relu"), keras.layers.MaxPooling2D((2, 2)),
                   keras.layers.BatchNormalization()]
    return _model("male_female_cnn", shape, 1 / 255, [
        *layers, keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"), _classes(1)])


# ---------------------------------------------------------------- training


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self._start, 3))


def fit_dataset(model: keras.Model, train, *, epochs: int, images_per_epoch: int, steps_per_epoch: int = 0,
                validation=None, on_epoch_end=None, backup_dir=None) -> dict[str, Any]:
    """model.fit on a tf.data pipeline; history, wall time, per-epoch seconds and images per second. With
    `backup_dir`, a killed fit resumes from its last completed epoch (core/training.Resume)."""
    from ztdl_pipeline.core.training import Resume

    timer, resume = _EpochTimer(), Resume(backup_dir)
    callbacks = [*resume.callbacks, timer] + ([_EpochCallback(on_epoch_end, epochs)] if on_epoch_end else [])
    start = time.perf_counter()
    history = model.fit(train, epochs=epochs, steps_per_epoch=steps_per_epoch or None,
                        validation_data=validation, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    ran = len(history.epoch)
    merged = resume.history(history.history)
    resume.close()
    return {"history": merged, "seconds": round(seconds, 3), "epoch_seconds": timer.seconds,
            "resumed_from_epoch": resume.done,
            "samples_per_second": round(images_per_epoch * ran / seconds, 1) if seconds > 0 and ran else None}


def n_outputs(example: Card, attrs: Mapping[str, Any]) -> int | None:
    """Classes for one-hot targets; None for a sigmoid output (binary cross-entropy, float labels)."""
    return None if example.loss == "binary_crossentropy" else len(attrs["classes"])


def build(example: Card, attrs: Mapping[str, Any], hyper: Hyper, jit_compile="auto") -> keras.Model:
    model = refs.resolve(example.builder)(tuple(attrs["image_shape"]), **example.builder_kwargs)
    return compile_model(model, make_optimizer(hyper.optimizer, hyper.learning_rate, hyper.momentum),
                         example.loss, ["accuracy"], jit_compile=jit_compile)


def train_images(table, hyper: VisionHyper) -> tuple[np.ndarray, np.ndarray]:
    x, y = I.split_arrays(table, "train")
    return (x[:hyper.train_limit], y[:hyper.train_limit]) if hyper.train_limit else (x, y)


def train(example: Card, table, hyper: VisionHyper, *, strategy=None, jit_compile="auto",
          seed_fn: Callable[[int], None] | None = None, on_epoch_end=None, backup_dir=None) -> TrainedModel:
    """Train the example's model on its features table (a pyarrow Table of images) as the book does."""
    attrs = I.table_attrs(table)
    x, y = train_images(table, hyper)
    validation = None
    if hyper.validation == "test":
        validation = I.split_arrays(table, "test")
    elif hyper.validation_split:
        split_at = math.ceil(len(x) * (1 - hyper.validation_split))  # Keras: the last rows, before shuffling
        validation, (x, y) = (x[split_at:], y[split_at:]), (x[:split_at], y[:split_at])
    if seed_fn:
        seed_fn(hyper.seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build(example, attrs, hyper, jit_compile)
    classes = n_outputs(example, attrs)
    batches = I.dataset(x, y, batch_size=hyper.batch_size, n_classes=classes, shuffle=True, seed=hyper.seed,
                        repeat=bool(hyper.steps_per_epoch))
    held_out = I.dataset(*validation, batch_size=hyper.batch_size, n_classes=classes) if validation else None
    per_epoch = hyper.steps_per_epoch * hyper.batch_size if hyper.steps_per_epoch else len(x)
    result = fit_dataset(model, batches, epochs=hyper.epochs, images_per_epoch=per_epoch,
                         steps_per_epoch=hyper.steps_per_epoch, validation=held_out,
                         on_epoch_end=on_epoch_end, backup_dir=backup_dir)
    info = {"example": example.name, "title": example.title, "source": example.source, "hyper": asdict(hyper),
            "train_rows": len(x), "validation_rows": len(validation[0]) if validation else 0,
            "trainable_params": trainable_params(model), "total_params": int(model.count_params()),
            "image_shape": attrs["image_shape"], "classes": attrs["classes"],
            "replicas": getattr(strategy, "num_replicas_in_sync", 1),
            **{k: result[k] for k in ("seconds", "samples_per_second", "epoch_seconds")}}
    if result["resumed_from_epoch"]:
        info["resumed"] = [{"seed": hyper.seed, "from_epoch": result["resumed_from_epoch"]}]
    return TrainedModel(model=model, history=result["history"], info=info)


# ---------------------------------------------------------------- evaluation and report


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return model.predict({"image": x}, batch_size=1024, verbose=0)


def evaluate(example: Card, trained: TrainedModel, table, show: int = 16) -> dict[str, Any]:
    """Loss, accuracy, precision/recall/F1 and confusion matrix on the train rows the model learned from and
    on the test split; the first `show` misclassified test images (row, true, predicted)."""
    attrs = I.table_attrs(table)
    hyper = trained.info["hyper"]
    out: dict[str, Any] = {"task": "binary" if len(attrs["classes"]) == 2 else "multiclass",
                           "profile": hyper["profile"], BASELINES: {}}
    for split in ("train", "test"):
        x, y = I.split_arrays(table, split)
        if split == "train" and hyper.get("train_limit"):
            x, y = x[:hyper["train_limit"]], y[:hyper["train_limit"]]
        if split == "train":
            train_y = y  # the majority class of the train rows the model learned from
        out[BASELINES][split] = {"accuracy": M.majority_accuracy(train_y, y)}
        output = predict(trained.model, x)
        out[split] = {**M.classification_metrics(y, output, attrs["classes"]),
                      "loss": M.crossentropy(y, output)}
        if split == "test":  # the first mistakes of each true class in turn, so every class shows
            predicted = M.predicted_labels(output)
            wrong = np.flatnonzero(predicted != y)
            turn = np.zeros(len(wrong), dtype=np.int64)
            for label in np.unique(y[wrong]):
                turn[y[wrong] == label] = np.arange(np.sum(y[wrong] == label))
            shown = wrong[np.lexsort((y[wrong], turn))][:show]
            out[split]["misclassified"] = [{"row": int(i), "true": int(y[i]), "predicted": int(predicted[i])}
                                           for i in shown]
    out["baseline"] = {"accuracy": M.majority_baseline(I.split_arrays(table, "train")[1])}
    out[BASELINE_RULE] = M.majority_rule(train_y, attrs["classes"])
    out["history"] = {k: v[-1] for k, v in trained.history.items()}
    return out


def report_images(example: Card, trained: TrainedModel, table, metrics: Mapping[str, Any]
                  ) -> dict[str, bytes]:
    from ztdl_pipeline.core import plots

    classes = [str(c) for c in I.table_attrs(table)["classes"]]
    x_test, _ = I.split_arrays(table, "test")
    wrong = metrics["test"]["misclassified"]
    return {
        "learning_curves": plots.learning_curves(trained.history, f"{example.title}: training"),
        "confusion_matrix": plots.confusion_matrix(metrics["test"]["confusion_matrix"], classes,
                                                   "confusion matrix (test)"),
        "misclassified": I.image_grid([x_test[w["row"]] for w in wrong],
                                      [f"{classes[w['true']]} → {classes[w['predicted']]}" for w in wrong],
                                      f"misclassified test images (true → predicted), first {len(wrong)}"),
    }


def report_markdown(example: Card, trained: TrainedModel, metrics: Mapping[str, Any],
                    images: Mapping[str, bytes], threshold: float, embed: bool) -> str:
    info, hyper = trained.info, trained.info["hyper"]
    rows = comparison_rows(metrics, example.book)
    keys = ("loss", "accuracy", "precision", "recall", "f1")
    per_split = [[s, metrics[s]["n"], *[metrics[s][k] for k in keys]] for s in ("train", "test")]
    gate = example.gate_basis(hyper["profile"])
    settings = [[k, v] for k, v in hyper.items()] + [
        ["input", f"uint8 {'×'.join(map(str, info['image_shape']))}"],
        ["classes", ", ".join(map(str, info["classes"]))],
        ["trainable / total parameters", f"{info['trainable_params']:,} / {info['total_params']:,}"],
        ["train / validation images", f"{info['train_rows']} / {info['validation_rows']}"],
        ["seconds per epoch", ", ".join(f"{s:.1f}" for s in info["epoch_seconds"])],
        ["images per second", info["samples_per_second"]], ["replicas", info.get("replicas", 1)],
        ["device", (info.get("device") or {}).get("gpus") or "cpu"]]
    sections = [
        ("Ours vs the book", comparison_table(rows) if rows else "The book prints no number for this one."),
        ("Metrics", markdown_table(["split", "images", *keys], per_split)),
        ("Export gate", (f"`{example.primary[0]}/{example.primary[1]}` ≥ **{threshold:.4f}** ({gate}); "
                         "always predicting the most frequent class scores "
                         f"{metrics['baseline']['accuracy']:.4f}.")),
        ("Training", markdown_table(["setting", "value"], settings)),
    ]
    if example.notes:
        sections.append(("Notes", example.notes))
    sections.append(("Source", example.source))
    return render(example.title, sections, images, embed)


# ---------------------------------------------------------------- export


def signature(table) -> dict[str, dict[str, Any]]:
    """The serving input: one uint8 batch of images of the training shape."""
    shape = I.table_attrs(table)["image_shape"]
    return {"image": {"column": "image", "dtype": "uint8", "shape": [None, *shape]}}


def verify_export(path, trained: TrainedModel, table, rows: int = 256) -> float:
    """Reload the SavedModel with plain TensorFlow, feed it real test images (raw uint8), compare it with the
    trained Keras model; the largest absolute difference in probability."""
    from ztdl_pipeline.core.export import agreement, load_and_predict

    x, _ = I.split_arrays(table, "test")
    x = x[:rows]
    served = load_and_predict(path, {"image": x})
    expected = predict(trained.model, x)
    return agreement(path, served, expected, f"{len(x)} test images")


def describe_outputs(table) -> dict[str, Any]:
    classes = I.table_attrs(table)["classes"]
    if len(classes) == 2:
        return {"output_0": f"P({classes[1]})", "classes": classes}
    return {"output_0": "class probabilities", "classes": classes}
