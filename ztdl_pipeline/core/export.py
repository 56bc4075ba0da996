"""Export: a serving model that takes raw values, written as a versioned SavedModel (TF Serving layout).

Layout: <exports>/<model>/<integer version>/{saved_model.pb, variables/, assets/} — the highest
version is what TF Serving serves by default; a version folder is never overwritten. On an object store a
version number is taken by creating `<version>.claim` conditionally (core/stores.publish), since no rename can.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ztdl_pipeline.core import stores
from ztdl_pipeline.core.features import is_integer_vocabulary, safe_name


def serving_model(trained: keras.Model, attrs: Mapping[str, Any],
                  unknown_ok: frozenset[str] = frozenset()) -> tuple[keras.Model, dict[str, Any]]:
    """Wrap a trained model (encoded-feature input) with the raw-value preprocessing of its features.

    Reproduces the feature recipe inside the graph: median imputation + missing flags, one-hot of
    categoricals with the fixed vocabularies, in the feature-column order the model was trained on;
    a regression target scaled for training is scaled back to original units.
    Returns the model and its input signature description {name: {column, dtype, and what it accepts}}:
    numbers must be finite (NaN stands for "missing" where the recipe imputes); a category must be one of
    `vocabulary` unless its raw column may be missing (`unknown_ok`), where anything else encodes as all
    zeros, as the book's preprocessing does. ztdl-serve enforces these with a 400 naming the input.
    """
    inputs: dict[str, keras.KerasTensor] = {}
    signature: dict[str, dict[str, str]] = {}
    encoded: dict[str, keras.KerasTensor] = {}
    for column in attrs["numeric"]:
        name = safe_name(column)
        value = keras.Input(shape=(), name=name, dtype="float32")
        inputs[name], signature[name] = value, {"column": column, "dtype": "float32", "finite": True}
        if column in attrs["imputation"]:
            signature[name]["missing"] = "NaN, filled with the train median"
        value_2d = keras.layers.Reshape((1,))(value)
        if column in attrs["imputation"]:
            fill = ImputeMissing(attrs["imputation"][column], name=f"impute_{name}")
            encoded[column], encoded[f"{column}_was_missing"] = fill(value_2d)
        else:
            encoded[column] = value_2d
    for column, categories in attrs["categorical"].items():
        name = safe_name(column)
        if is_integer_vocabulary(categories):
            value = keras.Input(shape=(), name=name, dtype="int64")
            lookup = keras.layers.IntegerLookup(vocabulary=list(categories), output_mode="one_hot",
                                                num_oov_indices=1, name=f"onehot_{name}")
            dtype = "int64"
        else:
            value = keras.Input(shape=(), name=name, dtype="string")
            lookup = keras.layers.StringLookup(vocabulary=[str(c) for c in categories], output_mode="one_hot",
                                               num_oov_indices=1, name=f"onehot_{name}")
            dtype = "string"
        inputs[name], signature[name] = value, {
            "column": column, "dtype": dtype, "vocabulary": [c if dtype == "int64" else str(c) for c in categories],
            "unknown": "all_zeros" if column in unknown_ok else "reject"}
        one_hot = DropFirstColumn(name=f"drop_oov_{name}")(lookup(value))  # unknown/missing -> all zeros
        for index, category in enumerate(categories):
            encoded[f"{column}_{category}"] = SliceColumn(index, name=f"{name}_{safe_name(str(category))}")(one_hot)
    ordered = [encoded[c] for c in attrs["feature_columns"]]
    features = ordered[0] if len(ordered) == 1 else keras.layers.Concatenate(name="features")(ordered)
    output = trained(features)
    if attrs.get("task") == "regression" and attrs.get("target_scale"):
        output = keras.layers.Rescaling(float(attrs["target_scale"]), name="to_original_units")(output)
    return keras.Model(inputs, output, name=f"serving_{trained.name}"), signature


@keras.saving.register_keras_serializable(package="ztdl")
class ImputeMissing(keras.layers.Layer):
    """NaN -> a fixed fill value; also returns the 0/1 'was missing' flag (DataCamp's age_was_missing)."""

    def __init__(self, fill_value: float, **kwargs):
        super().__init__(**kwargs)
        self.fill_value = float(fill_value)

    def call(self, x):
        missing = keras.ops.isnan(x)
        return keras.ops.where(missing, self.fill_value, x), keras.ops.cast(missing, "float32")

    def get_config(self):
        return {**super().get_config(), "fill_value": self.fill_value}


@keras.saving.register_keras_serializable(package="ztdl")
class DropFirstColumn(keras.layers.Layer):
    def call(self, x):
        return x[:, 1:]


@keras.saving.register_keras_serializable(package="ztdl")
class SliceColumn(keras.layers.Layer):
    def __init__(self, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, x):
        return x[:, self.index:self.index + 1]

    def get_config(self):
        return {**super().get_config(), "index": self.index}


def _tensor_specs(model: keras.Model, signature: Mapping[str, Mapping[str, str]]):
    import tensorflow as tf  # export is TensorFlow-only by nature

    def shape(spec: Mapping) -> tuple:  # one value per row unless the spec gives a shape, e.g. [None, 28, 28]
        return tuple(None if d in (None, -1) else d for d in spec.get("shape") or (None,))

    return {name: tf.TensorSpec(shape=shape(spec), dtype=getattr(tf, spec["dtype"]), name=name)
            for name, spec in signature.items()}


def write_savedmodel(model: keras.Model, signature: Mapping[str, Mapping[str, str]], path: Path) -> Path:
    """Write `model` as a SavedModel whose `serve` / `serving_default` endpoint takes named raw inputs."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", lambda inputs: model(inputs, training=False),
                         input_signature=[_tensor_specs(model, signature)])
    archive.write_out(str(path), verbose=False)
    return path


def load_and_predict(path: str | Path, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """Reload a SavedModel with plain TensorFlow (as a consumer would) and run its serving endpoint."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    tensors = {name: tf.constant(value) for name, value in inputs.items()}
    return np.asarray(loaded.serve(tensors))


AGREEMENT_TOLERANCE = 1e-4  # largest difference allowed between a reloaded SavedModel and the Keras model


def agreement(path, served: np.ndarray, expected: np.ndarray, what: str, *, relative: bool = False,
              inputs=None) -> float:
    """The largest difference (relative to max(1, |expected|) when `relative`) between what a reloaded
    SavedModel served and what the trained model predicts. Raises ValueError naming the folder, `what` was
    sent and, with `inputs`, the input of the worst row, when it is not finite or above the tolerance."""
    served = np.asarray(served).reshape(np.shape(expected))
    gaps = np.abs(served - expected)
    if relative:
        gaps = gaps / np.maximum(1.0, np.abs(expected))
    difference = float(np.max(gaps)) if gaps.size else 0.0
    if not np.isfinite(difference) or difference > AGREEMENT_TOLERANCE:
        worst = ""
        if inputs is not None and gaps.size:
            row = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(gaps), gaps, np.inf))), gaps.shape)[0]
            worst = f", e.g. {inputs[row]!r}"
        raise ValueError(f"{path}: the reloaded SavedModel disagrees with the trained model on {what} (max "
                         f"{'relative ' if relative else ''}difference {difference:.2e}{worst})")
    return difference


def existing_versions(model_dir: Path) -> list[int]:
    """Every numeric entry counts (a stray file named '3' must not be chosen as the next version), and on an
    object store every claimed number too (a publish killed after its claim never gives its number away)."""
    if stores.is_remote(model_dir):
        return stores.taken_versions(model_dir)
    if not model_dir.exists():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.name.isdigit())


def publish_version(staged: Path, model_dir: Path) -> tuple[int, Path]:
    """Move a complete staged SavedModel folder to the next free integer version; never overwrite."""
    if stores.is_remote(model_dir):
        return stores.publish(staged, model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    while True:
        version = (existing_versions(model_dir) or [0])[-1] + 1
        target = model_dir / str(version)
        try:
            os.rename(staged, target)  # fails if the target exists (e.g. a concurrent export took it)
            return version, target
        except OSError:
            if not target.exists():
                raise


def staging_dir(model_dir: Path) -> Path:
    """A fresh folder to write and verify a SavedModel in: inside the model folder (so publishing is a rename),
    or a local temporary folder when the model folder is on an object store."""
    if stores.is_remote(model_dir):
        return Path(tempfile.mkdtemp(prefix=f"ztdl-staging-{model_dir.name}-"))
    model_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))


def discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def verify_tabular_savedmodel(path, model: keras.Model, data, raw) -> float:
    """Reload the SavedModel with plain TensorFlow, feed it raw rows of the test split (the train split where
    there is none) and return its largest relative difference from the Keras model (ValueError when too far)."""
    from ztdl_pipeline.core.features import SPLIT_COLUMN, raw_rows, xy
    from ztdl_pipeline.core.tabular import predict_original_units

    split = "test" if (data[SPLIT_COLUMN] == "test").any() else "train"
    rows = raw_rows(raw, data, split)
    served = load_and_predict(path, {safe_name(k): v for k, v in rows.items()})
    x, _ = xy(data, split)
    expected = predict_original_units(model, x, data.attrs)
    return agreement(path, served, expected, f"raw {split} rows", relative=True)


def describe_outputs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """What a tabular export's output means, for the registry and its consumers."""
    if attrs["task"] == "regression":
        return {"output_0": f"predicted {attrs['target']} in original units"}
    if attrs["task"] == "binary" and len(attrs["target_columns"]) == 1:
        return {"output_0": f"P({attrs['target']} = {attrs['classes'][1]})", "classes": attrs["classes"]}
    return {"output_0": "class probabilities", "classes": attrs["classes"]}
