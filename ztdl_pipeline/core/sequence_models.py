"""The ch7 models (Keras 3, backend-neutral: keras.ops only) and their train / evaluate / report / serve steps.

The window tables hold raw (unscaled) values. A forecaster's first layer applies the train-fitted
scaling (a fixed Rescaling), so the model trains on the book's scaled values; the export adds the
inverse on the output, so a consumer sends a raw window and reads the forecast in original units. Stateful recurrent models train as the book does: a fixed batch size, no shuffling, states reset at
the start of every epoch. A stateful model fed one step at a time from a zero state computes exactly
what the same weights compute, stateless, over the whole sequence at once; evaluation uses that
(one call instead of one per step), and the export serves a stateless copy over a window of recent steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict
from typing import Any

import keras
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.metrics import log_loss

from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core import refs
from ztdl_pipeline.core.export import agreement, load_and_predict
from ztdl_pipeline.core.gate import BASELINE_RULE, BASELINES
from ztdl_pipeline.core.models import make_optimizer, trainable_params
from ztdl_pipeline.core.sequence_specs import SequenceExample, SequenceHyper
from ztdl_pipeline.core.timeseries import TARGET, TIME, WINDOW, column_windows, naive_forecast, split_rows
from ztdl_pipeline.core.training import TrainedModel, fit

Scaling = tuple[float, float] | None  # (offset, scale): the model sees (x - offset) / scale

# ------------------------------------------------------------------ builders (one per model family)


def _input(shape: Sequence[int | None], scaling: Scaling, batch_size: int | None = None):
    inputs = keras.Input(shape=tuple(shape), batch_size=batch_size, name="window")
    x = inputs
    if scaling is not None:
        offset, scale = scaling
        x = keras.layers.Rescaling(1.0 / scale, offset=-offset / scale, name="scaling")(x)
    return inputs, x


def dense_stack(input_shape: Sequence[int], scaling: Scaling = None, units: Sequence[int] = (24, 12, 6),
                output: str | None = None, name: str = "dense_stack") -> keras.Model:
    """Dense(u, relu) for u in units -> Dense(1[, output]): ch7's FC forecaster (24-12-6-1, 433 parameters on
    lag 1), its window variant (ex3) and the sequence classifiers (100-50-20-1 raw, 30-10-1 engineered)."""
    inputs, x = _input(input_shape, scaling)
    for size in units:
        x = keras.layers.Dense(size, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation=output)(x), name=name)


_CELLS = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def recurrent(input_shape: Sequence[int | None], scaling: Scaling = None, cell: str = "lstm",
              units: Sequence[int] = (6,), kernel_initializer: str = "glorot_uniform", output: str | None = None,
              stateful: bool = False, batch_size: int | None = None, return_sequences: bool = False,
              name: str = "recurrent") -> keras.Model:
    """Stacked SimpleRNN/LSTM/GRU layers -> Dense(1[, output]) over a window of one or more series.

    A 1-D window (steps,) is read as one feature per step. GRUs use reset_after=False, Keras 2.2's
    default, so parameter counts match the book's summaries (e.g. 5,539 for the ch7 ex4 model).
    `return_sequences=True` gives a forecast after every step (the stateless view of a stateful model).
    """
    inputs, x = _input(input_shape, scaling, batch_size if stateful else None)
    if len(input_shape) == 1:
        x = keras.layers.Reshape((-1, 1))(x)
    layer = _CELLS[cell]
    extra = {"reset_after": False} if cell == "gru" else {}
    for index, size in enumerate(units):
        last = index == len(units) - 1
        x = layer(size, kernel_initializer=kernel_initializer, stateful=stateful,
                  return_sequences=return_sequences or not last, **extra)(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation=output)(x), name=name)


def conv1d_classifier(input_shape: Sequence[int], scaling: Scaling = None, filters: int = 16,
                      name: str = "conv1d_classifier") -> keras.Model:
    """ch7: Conv1D(16, 3) -> Conv1D(16, 3) -> MaxPool1D -> relu -> Conv1D(16, 3) -> MaxPool1D -> relu -> Flatten
    -> Dense(10, relu) -> Dense(1, sigmoid) on a (200, 1) sequence."""
    inputs, x = _input(input_shape, scaling)
    x = keras.layers.Reshape((-1, 1))(x)
    x = keras.layers.Conv1D(filters, 3)(x)
    x = keras.layers.Conv1D(filters, 3)(x)
    x = keras.layers.Activation("relu")(keras.layers.MaxPool1D()(x))
    x = keras.layers.Conv1D(filters, 3)(x)
    x = keras.layers.Activation("relu")(keras.layers.MaxPool1D()(x))
    x = keras.layers.Dense(10, activation="relu")(keras.layers.Flatten()(x))
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x), name=name)


def builder(reference: str) -> Callable[..., keras.Model]:
    """The builder a card names, by reference: "ztdl_pipeline.core.sequence_models:recurrent". Every builder
    takes (input_shape, scaling, name=..., **the card's builder_kwargs)."""
    return refs.resolve(reference)


@keras.saving.register_keras_serializable(package="ztdl")
class SequenceStats(keras.layers.Layer):
    """Raw sequences -> the book's engineered pair (std with ddof=1, std of the first differences), in-graph."""

    def call(self, x):
        x = keras.ops.cast(x, "float32")
        steps = x.shape[1]
        centred = x - keras.ops.mean(x, axis=1, keepdims=True)
        std = keras.ops.sqrt(keras.ops.sum(keras.ops.square(centred), axis=1) / (steps - 1))
        return keras.ops.stack([std, keras.ops.std(x[:, 1:] - x[:, :-1], axis=1)], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2)


# ------------------------------------------------------------------ data views


def view(frame: pd.DataFrame, example: SequenceExample) -> pd.DataFrame:
    """The window table as one example sees it: its attrs also say which inputs the model reads, and
    how the model is served (stateless copy, window length), so the export steps need only the table."""
    out = frame.copy(deep=False)
    out.attrs = {**frame.attrs, "example": {
        "name": example.name, "inputs": list(example.inputs or ()), "builder": example.builder,
        "builder_kwargs": dict(example.builder_kwargs), "stateful": example.stateful,
        "serving_window": example.serving_window}}
    return out


def model_inputs(rows: pd.DataFrame) -> np.ndarray:
    inputs = rows.attrs["example"]["inputs"]
    return rows[inputs].to_numpy("float32") if inputs else column_windows(rows[WINDOW])


def _scaling(attrs: Mapping[str, Any]) -> Scaling:
    return tuple(attrs["scaling"]) if attrs.get("scaling") else None


def targets(rows: pd.DataFrame, scaled: bool) -> np.ndarray:
    """Targets as the model is trained on them (scaled) or in original units."""
    attrs = rows.attrs
    if attrs["task"] != "regression":
        return rows[TARGET].to_numpy("int64")
    y = rows[TARGET].to_numpy("float32")
    scaling = _scaling(attrs)
    return (y - scaling[0]) / scaling[1] if scaled and scaling else y


def to_original_units(output: np.ndarray, attrs: Mapping[str, Any]) -> np.ndarray:
    output = np.asarray(output, dtype="float64").reshape(-1)
    scaling = _scaling(attrs)
    return output * scaling[1] + scaling[0] if attrs["task"] == "regression" and scaling else output


def _rows(data: pd.DataFrame, split: str, hyper: Mapping[str, Any]) -> pd.DataFrame:
    """A split's rows, sub-sampled as the profile says (fast: the last train / first test windows)."""
    rows = split_rows(data, split, hyper["train_windows"] if split == "train" else hyper["test_windows"],
                      tail=split == "train")
    rows.attrs = data.attrs
    return rows


def input_shape(data: pd.DataFrame) -> tuple[int, ...]:
    example = data.attrs["example"]
    if example["inputs"]:
        return (len(example["inputs"]),)
    window = data.attrs["window"]
    return (window,) if data.attrs.get("n_features", 1) == 1 else (window, data.attrs["n_features"])


# ------------------------------------------------------------------ training


class _ResetStates(keras.callbacks.Callback):
    """Stateful RNNs start every epoch from a zero state (the book's runs were single passes)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        reset_states(self.model)


def reset_states(model: keras.Model) -> None:
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()


def build(data: pd.DataFrame, scaling: Scaling, shape: tuple[int | None, ...] | None = None,
          **overrides) -> keras.Model:
    """The example's model for this table (`shape` overrides the input shape, e.g. for a stateless copy)."""
    example = data.attrs["example"]
    kwargs = {**example["builder_kwargs"], **overrides}
    return builder(example["builder"])(shape or input_shape(data), scaling, name=example["name"], **kwargs)


def train(example: SequenceExample, frame: pd.DataFrame, hyper: SequenceHyper, *, strategy=None,
          jit_compile="auto", seed_fn: Callable[[int], None] | None = None,
          on_epoch_end: Callable[[int, dict], None] | None = None, backup_dir=None) -> TrainedModel:
    """Train on the train windows with the book's settings (the fast profile keeps the last N windows); with
    `backup_dir`, a killed training resumes from its last completed epoch (one folder per restart)."""
    data = view(frame, example)
    attrs = data.attrs
    rows = _rows(data, "train", asdict(hyper))
    x, y = model_inputs(rows), targets(rows, scaled=True)
    callbacks: list[keras.callbacks.Callback] = []
    if example.stateful:  # a fixed batch: the first rows that do not fill one are left out
        keep = len(x) - len(x) % hyper.batch_size
        x, y = x[len(x) - keep:], y[len(y) - keep:]
        callbacks.append(_ResetStates())
    if hyper.patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="loss", patience=hyper.patience))
    model, result, restarts, resumed = None, None, [], []
    for restart in range(max(1, hyper.restarts)):  # seed-sensitive nets: keep the lowest final training loss
        if seed_fn:
            seed_fn(hyper.seed + restart)
        with strategy.scope() if strategy is not None and not example.stateful else nullcontext():
            candidate = build(data, _scaling(attrs), **({"stateful": True, "batch_size": hyper.batch_size}
                                                         if example.stateful else {}))
            candidate.compile(optimizer=make_optimizer(hyper.optimizer, hyper.learning_rate, hyper.momentum),
                              loss=example.loss, metrics=[] if attrs["task"] == "regression" else ["accuracy"],
                              jit_compile=jit_compile, steps_per_execution=hyper.steps_per_execution)
        outcome = fit(candidate, x, y, epochs=hyper.epochs, batch_size=hyper.batch_size,
                      validation_split=hyper.validation_split, on_epoch_end=on_epoch_end,
                      shuffle=not example.stateful, callbacks=callbacks,
                      backup_dir=f"{backup_dir}/restart_{restart}" if backup_dir else None)
        if outcome["resumed_from_epoch"]:
            resumed.append({"seed": hyper.seed + restart, "from_epoch": outcome["resumed_from_epoch"]})
        restarts.append({"seed": hyper.seed + restart, "final_train_loss": outcome["history"]["loss"][-1]})
        if result is None or outcome["history"]["loss"][-1] < result["history"]["loss"][-1]:
            model, result = candidate, outcome  # the test split never chooses
    info: dict[str, Any] = {
        "example": example.name, "title": example.title, "source": example.source, "hyper": asdict(hyper),
        "train_rows": len(x), "trainable_params": trainable_params(model), "seconds": result["seconds"],
        "samples_per_second": result["samples_per_second"], "epochs_run": len(result["history"]["loss"]),
        "input_shape": list(input_shape(data)), "stateful": example.stateful,
        "train_period": [str(rows[TIME].iloc[0]), str(rows[TIME].iloc[-1])] if TIME in rows else None,
    }
    info.update({"restarts": restarts} if len(restarts) > 1 else {}, **({"resumed": resumed} if resumed else {}))
    return TrainedModel(model=model, history=result["history"], info=info)


# ------------------------------------------------------------------ prediction


def stateless_copy(model: keras.Model, data: pd.DataFrame, steps: int | None,
                   return_sequences: bool = False) -> keras.Model:
    """The same weights in a stateless model over `steps` steps (None: any length), from a zero state."""
    copy = build(data, _scaling(data.attrs), shape=(steps,), stateful=False, return_sequences=return_sequences)
    copy.set_weights(model.get_weights())
    return copy


def predict(model: keras.Model, x: np.ndarray, attrs: Mapping[str, Any]) -> np.ndarray:
    """Model output for a batch of inputs: original units for a forecaster, P(class 1) for a classifier."""
    return to_original_units(model.predict(x, verbose=0, batch_size=4096), attrs)


def predict_sequence(model: keras.Model, data: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """A stateful model's one-step-at-a-time forecasts over consecutive lag-1 inputs, from a zero state:
    the stateless copy run once over the whole sequence (identical numbers, one call)."""
    copy = stateless_copy(model, data, None, return_sequences=True)
    return to_original_units(copy.predict(x.reshape(1, -1), verbose=0, batch_size=1), data.attrs)


def serving_windows(x: np.ndarray, y: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows of the last `steps` consecutive lag-1 inputs and their targets (a stateless model's input)."""
    series = x.reshape(-1)
    if len(series) < steps:
        return np.empty((0, steps), "float32"), np.empty(0, y.dtype)
    return np.ascontiguousarray(sliding_window_view(series, steps)), y[steps - 1:]


# ------------------------------------------------------------------ evaluation


def _forecast_metrics(y: np.ndarray, pred: np.ndarray, attrs: Mapping[str, Any]) -> dict[str, float]:
    out = M.regression_metrics(y, pred)
    scaling = _scaling(attrs)
    if scaling:  # the book prints MSE in its scaled units
        out["mse_scaled"] = out["mse"] / scaling[1] ** 2
    return out


def forecasts(trained: TrainedModel, data: pd.DataFrame, split: str) -> dict[str, Any]:
    """Targets, model forecasts and the naive forecasts of one split, in original units."""
    rows = _rows(data, split, trained.info["hyper"])
    x, y = model_inputs(rows), targets(rows, scaled=False)
    if data.attrs["example"]["stateful"]:
        pred = predict_sequence(trained.model, data, x)
    else:
        pred = predict(trained.model, x, data.attrs)
    out = {"time": rows[TIME].to_numpy() if TIME in rows else np.arange(len(rows)), "y": y, "pred": pred, "x": x}
    if data.attrs["task"] == "regression":
        out["naive"] = naive_forecast(x).astype("float64")
    return out


def _naive_accuracy(x: np.ndarray, y: np.ndarray, attrs: Mapping[str, Any]) -> float:
    """A classifier's naive rule: for windows of changes, 'the same direction as the last step' (its first
    feature); for independent sequences, the majority class of the split."""
    if attrs["kind"] == "windows":
        return float(np.mean((naive_forecast(x) >= 0).astype("int64") == y))
    return M.majority_baseline(y)


def evaluate(example: SequenceExample, trained: TrainedModel, frame: pd.DataFrame) -> dict[str, Any]:
    """Metrics per split next to the naive 'repeat the last value' forecast (forecasters) or the majority
    class and the 'same direction as the last step' rule (classifiers); the last training epoch."""
    data = view(frame, example)
    attrs = data.attrs
    out: dict[str, Any] = {"task": attrs["task"], "profile": trained.info["hyper"]["profile"], BASELINES: {}}
    for split in ("train", "test"):
        result = forecasts(trained, data, split)
        if split == "train":
            train_y = result["y"]  # the train rows the model learned from (their majority class)
        if attrs["task"] == "regression":
            out[split] = _forecast_metrics(result["y"], result["pred"], attrs)
            naive = _forecast_metrics(result["y"], result["naive"], attrs)
            out[f"naive_{split}"] = naive
            out[split]["skill_vs_naive"] = 1.0 - out[split]["mse"] / naive["mse"] if naive["mse"] else 0.0
            out[BASELINES][split] = M.baseline_scores(naive)
        else:
            out[split] = M.classification_metrics(result["y"], result["pred"], attrs["classes"])
            out[split]["loss"] = float(log_loss(result["y"], result["pred"], labels=[0, 1]))
            out[f"naive_{split}"] = {"accuracy": _naive_accuracy(result["x"], result["y"], attrs)}
            out[BASELINES][split] = {"accuracy": out[f"naive_{split}"]["accuracy"] if attrs["kind"] == "windows"
                                     else M.majority_accuracy(train_y, result["y"])}
    out[BASELINE_RULE] = ("repeat the last observed value" if attrs["task"] == "regression" else
                          "the same direction as the last observed change" if attrs["kind"] == "windows" else
                          M.majority_rule(train_y, attrs["classes"]))
    if example.stateful:
        rows = _rows(data, "test", trained.info["hyper"])
        x, y = serving_windows(model_inputs(rows), targets(rows, scaled=False), example.serving_window)
        copy = stateless_copy(trained.model, data, example.serving_window)
        out["test_stateless"] = _forecast_metrics(y, predict(copy, x, attrs), attrs)
    if attrs["task"] != "regression":
        out["baseline"] = {"accuracy": M.majority_baseline(targets(_rows(data, "train", trained.info["hyper"]),
                                                                   scaled=False))}
    out["history"] = {k: v[-1] for k, v in trained.history.items()}
    return out


# ------------------------------------------------------------------ export


def serving_model(trained: TrainedModel, data: pd.DataFrame) -> tuple[keras.Model, dict[str, Any]]:
    """Raw window in, forecast in original units (or P(class 1)) out; one named input 'window'."""
    attrs, example = data.attrs, data.attrs["example"]
    if example["stateful"]:
        shape: tuple[int, ...] = (example["serving_window"],)
        model = stateless_copy(trained.model, data, example["serving_window"])
    elif example["inputs"]:  # engineered features: the raw sequence goes in, the features are computed in-graph
        shape, model = (attrs["window"],), trained.model
    else:
        shape, model = input_shape(data), trained.model
    window = keras.Input(shape=shape, name="window", dtype="float32")
    x = SequenceStats(name="engineered_features")(window) if example["inputs"] else window
    output = model(x)
    scaling = _scaling(attrs)
    if attrs["task"] == "regression" and scaling:
        output = keras.layers.Rescaling(scaling[1], offset=scaling[0], name="to_original_units")(output)
    described = (f"the last {shape[0]} raw values of {attrs.get('target')}, oldest first" if attrs["kind"] == "windows"
                 else f"a raw sequence of {shape[0]} values")
    if len(shape) > 1:
        described = f"the last {shape[0]} steps of {', '.join(attrs['values'])} (as the features table holds them)"
    signature = {"window": {"column": "window", "dtype": "float32", "shape": [None, *shape],
                            "description": described}}
    return keras.Model(window, output, name=f"serving_{example['name']}"), signature


def verification_inputs(trained: TrainedModel, data: pd.DataFrame, limit: int = 256
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Raw test windows (as a consumer sends them) and what the Keras model answers for them."""
    rows = split_rows(data, "test" if (data["split"] == "test").any() else "train", limit)
    rows.attrs = data.attrs
    example = data.attrs["example"]
    if example["stateful"]:
        lag1 = split_rows(data, "test", limit + example["serving_window"])
        lag1.attrs = data.attrs
        windows, _ = serving_windows(model_inputs(lag1), targets(lag1, scaled=False), example["serving_window"])
        copy = stateless_copy(trained.model, data, example["serving_window"])
        return windows, predict(copy, windows, data.attrs)
    raw = column_windows(rows[WINDOW])
    return raw, predict(trained.model, model_inputs(rows), data.attrs)


def verify_savedmodel(path, trained: TrainedModel, data: pd.DataFrame, raw: pd.DataFrame,
                      signature: Mapping[str, Any]) -> float:
    """Reload the SavedModel with plain TensorFlow, feed it raw test windows, compare with the Keras model."""
    windows, expected = verification_inputs(trained, data)
    return agreement(path, load_and_predict(path, {"window": windows}), expected, "raw test windows", relative=True)


def describe_outputs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    if attrs["task"] == "regression":
        return {"output_0": f"forecast of {attrs['target']} {attrs['start_lag']} step(s) after the window's last "
                            "value, in original units"}
    return {"output_0": f"P({attrs['classes'][1]})", "classes": attrs["classes"]}
