"""Training: a thin, logged wrapper around model.fit plus k-fold cross-validation.

A fit given a `backup_dir` survives being killed: Keras' BackupAndRestore saves the weights and the epoch
after every epoch, our history backup saves the per-epoch metrics, and the next fit with the same folder
continues from the last completed epoch with the whole history (`resumed_from_epoch` says where)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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


class PredictProgress(keras.callbacks.Callback):
    """A long model.predict's progress in items (pictures, rows) through core/progress.Progress: a line at most
    every 15 s with the time left, and the last one once earlier lines were logged."""

    def __init__(self, what: str, items: int, batch_size: int, log: Callable[[str], None]):
        from ztdl_pipeline.core.progress import Progress

        super().__init__()
        self.progress, self.batch_size = Progress(what, items, log, unit="items", final=None), batch_size

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.progress.update(min((batch + 1) * self.batch_size, self.progress.total))


class _HistoryBackup(keras.callbacks.Callback):
    """Writes the metrics of every completed epoch beside BackupAndRestore's checkpoint (atomically)."""

    def __init__(self, path: Path, earlier: dict[str, list[float]]):
        super().__init__()
        self._path, self._history = path, {k: list(v) for k, v in earlier.items()}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from ztdl_pipeline.core.atomic import write_json

        for name, value in (logs or {}).items():
            self._history.setdefault(name, []).append(float(value))
        write_json(self._path, {"epochs": epoch + 1, "history": self._history})


def completed_epochs(backup_dir: str | Path) -> int:
    """How many epochs a killed fit completed before it stopped (0: nothing to resume)."""
    metadata = Path(backup_dir) / "training_metadata.json"
    return int(json.loads(metadata.read_text())["epoch"]) if metadata.is_file() else 0


class Resume:
    """What makes any model.fit resumable: pass `callbacks` to the fit, then `history(fit_history)` gives the
    whole history (the epochs before a kill included) and `close()` empties the folder. Without a folder it
    does nothing, so every fit can use it."""

    def __init__(self, backup_dir: str | Path | None):
        self.folder = Path(backup_dir) if backup_dir else None
        self.done, self._earlier, self.callbacks = 0, {}, []
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.done = completed_epochs(self.folder)
        saved = self.folder / "history.json"
        if self.done and saved.is_file():
            record = json.loads(saved.read_text())
            self._earlier = {k: v[:self.done] for k, v in record["history"].items()}
        self.callbacks = [keras.callbacks.BackupAndRestore(str(self.folder), delete_checkpoint=True),
                          _HistoryBackup(saved, self._earlier)]

    def history(self, latest: dict[str, list]) -> dict[str, list[float]]:
        return {k: [*self._earlier.get(k, []), *map(float, values)] for k, values in latest.items()}

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def compile_model(model: keras.Model, optimizer: keras.optimizers.Optimizer, loss: str,
                  metrics: list[str] | None = None, jit_compile: bool | str = "auto") -> keras.Model:
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics or [], jit_compile=jit_compile)
    return model


def fit(model: keras.Model, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
        validation_split: float = 0.0, on_epoch_end: EpochHook | None = None,
        shuffle: bool = True, callbacks: Sequence[keras.callbacks.Callback] = (),
        backup_dir: str | Path | None = None) -> dict[str, Any]:
    """Fit and return {'history': per-epoch metrics, 'seconds', 'samples_per_second', 'resumed_from_epoch'}.

    With `backup_dir`, a fit killed after epoch k continues from epoch k+1 the next time, and the history
    returned covers every epoch; the folder is emptied when the fit completes."""
    resume = Resume(backup_dir)
    callbacks = [*resume.callbacks, *callbacks, *([_EpochCallback(on_epoch_end, epochs)] if on_epoch_end else [])]
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                        shuffle=shuffle, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    trained_rows = len(x) * (1 - validation_split)
    ran = len(history.epoch)  # fewer than asked when resumed, or when a callback (early stopping) ends training
    merged = resume.history(history.history)
    resume.close()
    return {
        "history": merged, "seconds": round(seconds, 3), "resumed_from_epoch": resume.done,
        "samples_per_second": round(trained_rows * ran / seconds, 1) if seconds > 0 and ran else None,
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
