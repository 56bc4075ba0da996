"""Training: a thin, logged wrapper around model.fit plus k-fold cross-validation."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

EpochHook = Callable[[int, dict[str, float]], None]


@dataclass
class TrainedModel:
    """A fitted model with everything needed to judge and reproduce it."""

    model: keras.Model
    history: dict[str, list[float]]
    info: dict[str, Any] = field(default_factory=dict)  # config, profile, timings, device, CV, ...


class _EpochCallback(keras.callbacks.Callback):
    def __init__(self, hook: EpochHook, total: int):
        super().__init__()
        self._hook, self._total = hook, total

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._hook(epoch + 1, {k: float(v) for k, v in (logs or {}).items()})


def compile_model(model: keras.Model, optimizer: keras.optimizers.Optimizer, loss: str,
                  metrics: list[str] | None = None, jit_compile: bool | str = "auto") -> keras.Model:
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics or [], jit_compile=jit_compile)
    return model


def fit(model: keras.Model, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
        validation_split: float = 0.0, on_epoch_end: EpochHook | None = None,
        shuffle: bool = True, callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict[str, Any]:
    """Fit and return {'history': per-epoch metrics, 'seconds', 'samples_per_second'}."""
    callbacks = [*callbacks, *([_EpochCallback(on_epoch_end, epochs)] if on_epoch_end else [])]
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                        shuffle=shuffle, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    trained_rows = len(x) * (1 - validation_split)
    epochs = len(history.epoch)  # fewer than asked when a callback (early stopping) ends training
    return {
        "history": {k: [float(v) for v in values] for k, values in history.history.items()},
        "seconds": round(seconds, 3),
        "samples_per_second": round(trained_rows * epochs / seconds, 1) if seconds > 0 else None,
    }


def cross_validate(build: Callable[[], keras.Model], x: np.ndarray, y: np.ndarray, *, folds: int,
                   epochs: int, batch_size: int, seed: int, metric: Callable[[np.ndarray, np.ndarray], float],
                   stratified: bool = False) -> dict[str, Any]:
    """k-fold CV as the book does with KerasClassifier + KFold(shuffle=True): a fresh model per fold.

    `metric(y_true, y_pred_model_output)` scores each held-out fold. Returns scores, mean and std.
    """
    splitter = (StratifiedKFold if stratified else KFold)(n_splits=folds, shuffle=True, random_state=seed)
    labels = y.argmax(axis=1) if y.ndim > 1 else y
    scores = []
    for train_idx, test_idx in splitter.split(x, labels):
        model = build()
        model.fit(x[train_idx], y[train_idx], epochs=epochs, batch_size=batch_size, verbose=0)
        scores.append(float(metric(y[test_idx], model.predict(x[test_idx], verbose=0))))
    return {"folds": folds, "scores": scores, "mean": float(np.mean(scores)), "std": float(np.std(scores))}
