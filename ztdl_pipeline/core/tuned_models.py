"""The models a search tries: one dense network per trial, trained on the training split minus a validation
share and scored on that share; then the chosen settings retrained on the whole training split.

Nothing here reads the test split: `training_rows` drops it before anything else happens, so the search and
the final fit cannot see it (core/tuned_report.py judges the chosen model on it, once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
import pandas as pd

from ztdl_pipeline.core.features import SPLIT_COLUMN, scaling_vectors, xy
from ztdl_pipeline.core.models import make_optimizer, trainable_params
from ztdl_pipeline.core.search_space import DEFAULTS, TRAINING, Tuning
from ztdl_pipeline.core.training import TrainedModel, fit
from ztdl_pipeline.core.tuning import TrialResult

STEPS_PER_EXECUTION = 32


def dense_net(n_features: int, scaling: tuple[np.ndarray, np.ndarray] | None, *, outputs: int,
              output_activation: str | None, hidden_layers: int = 0, units: int = 16, activation: str = "relu",
              dropout: float = 0.0, standardize: tuple[np.ndarray, np.ndarray] | None = None) -> keras.Model:
    """Inputs -> the features' own scaling -> (optional) standardisation fitted on training rows -> `hidden_layers`
    Dense(units, activation) with dropout -> Dense(outputs, output_activation). hidden_layers 0 is the book's
    logistic, softmax or linear regression."""
    stack: list[Any] = [keras.Input((n_features,), name="features")]
    for name, stats in (("scaling", scaling), ("standardize", standardize)):
        if stats is not None:
            stack.append(keras.layers.Normalization(mean=stats[0], variance=stats[1], name=name))
    for index in range(hidden_layers):
        stack.append(keras.layers.Dense(units, activation=activation, name=f"hidden_{index + 1}"))
        if dropout > 0:
            stack.append(keras.layers.Dropout(dropout, name=f"dropout_{index + 1}"))
    stack.append(keras.layers.Dense(outputs, activation=output_activation, name="output"))
    return keras.Sequential(stack, name="tuned_dense_net")


def settings_of(params: Mapping[str, Any], tuning: Tuning, book: Mapping[str, Any]) -> dict[str, Any]:
    """A trial's full settings: DEFAULTS, then the book's training values, then the search's fixed values, then
    what the trial suggested."""
    values = {**DEFAULTS, "optimizer": "adam", "learning_rate": 0.001, "standardize": True}
    values.update({k: v for k, v in book.items() if k in TRAINING})
    return {**values, **tuning.fixed, **params}


def training_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The training split only, with the features' attrs: what a search and the final fit may see."""
    rows = frame[frame[SPLIT_COLUMN] == "train"].copy()
    rows.attrs = frame.attrs
    return rows


def carve_validation(train: pd.DataFrame, share: float, seed: int, stratify: bool) -> np.ndarray:
    """A boolean mask over the training rows: True for the validation rows (seeded, stratified by class)."""
    from sklearn.model_selection import train_test_split

    target = train.attrs["target"]
    labels = train[target].to_numpy() if stratify else None
    _, picked = train_test_split(np.arange(len(train)), test_size=share, random_state=seed, stratify=labels)
    mask = np.zeros(len(train), bool)
    mask[picked] = True
    return mask


def _head(card, attrs: Mapping[str, Any]) -> tuple[int, str | None]:
    if card.one_hot_target:
        return len(attrs["target_columns"]), "softmax"
    if card.loss == "sparse_categorical_crossentropy":  # integer labels of several classes (wifi_fc's rooms)
        return len(attrs["classes"]), "softmax"
    return (1, None) if attrs["task"] == "regression" else (1, "sigmoid")


def build(card, attrs: Mapping[str, Any], settings: Mapping[str, Any], x_fit: np.ndarray,
          jit_compile: bool | str = "auto") -> keras.Model:
    """The compiled network of one trial; its standardisation (if any) is fitted on `x_fit` after the features'
    own scaling, so it sees only the rows the model trains on."""
    mean, variance = scaling_vectors(attrs)
    scaling = (mean, variance) if attrs["scaling"] else None
    standardize = None
    if settings.get("standardize", True):
        scaled = (x_fit - mean) / np.sqrt(variance)
        std = scaled.std(axis=0)
        standardize = (scaled.mean(axis=0), np.where(std > 0, std, 1.0) ** 2)
    outputs, activation = _head(card, attrs)
    model = dense_net(len(attrs["feature_columns"]), scaling, outputs=outputs, output_activation=activation,
                      hidden_layers=int(settings["hidden_layers"]), units=int(settings["units"]),
                      activation=settings["activation"], dropout=float(settings["dropout"]), standardize=standardize)
    metric_names = [] if attrs["task"] == "regression" else ["accuracy"]
    optimizer = make_optimizer(settings["optimizer"], float(settings["learning_rate"]), float(settings["momentum"]))
    # many steps per call: these networks are tiny, so Python's per-step overhead is most of a trial's time
    model.compile(optimizer=optimizer, loss=card.loss, metrics=metric_names, jit_compile=jit_compile,
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model


def run_trial(card, train: pd.DataFrame, validation: np.ndarray, settings: Mapping[str, Any], tuning: Tuning,
              *, seed: int, seed_fn: Callable[[int], None] | None = None, jit_compile: bool | str = "auto"
              ) -> TrialResult:
    """Train one setting on the training rows outside `validation`, stop early on the validation loss, and
    score the restored best weights on the validation rows."""
    x, y = xy(train, None, one_hot_target=card.one_hot_target)
    x_fit, y_fit, x_val, y_val = x[~validation], y[~validation], x[validation], y[validation]
    if seed_fn:
        seed_fn(seed)
    model = build(card, train.attrs, settings, x_fit, jit_compile)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=tuning.patience, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=tuning.max_epochs,
                        batch_size=int(settings["batch_size"]), shuffle=True, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN(), stop]).history
    seconds = time.perf_counter() - start
    losses = np.asarray(history["val_loss"], dtype=float)
    if not np.isfinite(np.asarray(history["loss"], dtype=float)).all() or not np.isfinite(losses).any():
        return TrialResult(float("nan"), 0, len(losses), round(seconds, 3))
    best = int(np.nanargmin(losses))
    return TrialResult(validation_score(tuning.metric, history, best, y_val), best + 1, len(losses),
                       round(seconds, 3), float(losses[best]))


def validation_score(metric: str, history: Mapping[str, list], best: int, y_val: np.ndarray) -> float:
    """The metric of the restored (lowest validation loss) weights on the validation rows, read from the epoch's
    logs instead of predicting again: accuracy as Keras measured it; R² as 1 − MSE / variance of the targets
    (both in the same units, so the target's scale cancels)."""
    if metric == "accuracy":
        return float(history["val_accuracy"][best])
    variance = float(np.var(np.asarray(y_val, dtype=np.float64)))
    return 1.0 - float(history["val_loss"][best]) / variance if variance > 0 else float("nan")


def train_chosen(card, frame: pd.DataFrame, settings: Mapping[str, Any], epochs: int, *, seed: int, profile: str,
                 seed_fn: Callable[[int], None] | None = None, jit_compile: bool | str = "auto",
                 on_epoch_end: Callable[[int, dict], None] | None = None, backup_dir: str | None = None
                 ) -> TrainedModel:
    """The chosen settings retrained on the whole training split for the epochs early stopping picked in their
    trial (resumable with `backup_dir`, like every fit)."""
    train = training_rows(frame)
    x, y = xy(train, None, one_hot_target=card.one_hot_target)
    if seed_fn:
        seed_fn(seed)
    model = build(card, train.attrs, settings, x, jit_compile)
    result = fit(model, x, y, epochs=epochs, batch_size=int(settings["batch_size"]), on_epoch_end=on_epoch_end,
                 backup_dir=backup_dir)
    hyper = {**{k: (v if isinstance(v, (bool, int, float, str)) else str(v)) for k, v in settings.items()},
             "epochs": epochs, "seed": seed, "profile": profile}
    info: dict[str, Any] = {"example": card.name, "title": card.title, "source": card.source, "hyper": hyper,
                            "train_rows": int(len(x)), "trainable_params": trainable_params(model),
                            "seconds": result["seconds"], "samples_per_second": result["samples_per_second"],
                            "feature_columns": train.attrs["feature_columns"]}
    if result["resumed_from_epoch"]:
        info["resumed"] = [{"seed": seed, "from_epoch": result["resumed_from_epoch"]}]
    return TrainedModel(model=model, history=result["history"], info=info)
