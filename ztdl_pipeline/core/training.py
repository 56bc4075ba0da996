"""Training: a thin, logged wrapper around model.fit plus k-fold cross-validation.

A fit given a `backup_dir` survives being killed: Keras' BackupAndRestore saves the weights and the epoch
after every epoch, our history backup saves the per-epoch metrics, and the next fit with the same folder
continues from the last completed epoch with the whole history (`resumed_from_epoch` says where).

A checkpoint a kill left unreadable (a SIGKILL in the middle of a write) is moved aside, kept for inspection
under a name that says why, and the fit starts from epoch 0 with a WARNING naming the folder and the error;
our checkpoint writes go to a temporary file renamed into place, so a kill leaves the previous epoch's."""

from __future__ import annotations

import json
import logging
import os
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
log = logging.getLogger("ztdl_pipeline.training")
WEIGHTS, METADATA, HISTORY = "latest.weights.h5", "training_metadata.json", "history.json"
SET_ASIDE = ".unreadable-"  # the marker in a set-aside checkpoint folder's name


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
    """Writes the metrics of every completed epoch beside BackupAndRestore's checkpoint (atomically). It runs
    before the checkpoint's own write, so a kill between the two leaves a history at least as long as the
    checkpoint's epochs (Resume keeps the first `done`)."""

    def __init__(self, path: Path, earlier: dict[str, list[float]]):
        super().__init__()
        self._path, self._history = path, {k: list(v) for k, v in earlier.items()}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from ztdl_pipeline.core.atomic import write_json

        for name, value in (logs or {}).items():
            self._history.setdefault(name, []).append(float(value))
        write_json(self._path, {"epochs": epoch + 1, "history": self._history})

    def forget(self) -> None:
        self._history = {}


class _SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore with writes a kill cannot tear (each file is written beside its target and
    renamed into place) and a restore that, when the checkpoint does not fit the model, hands the folder to
    `unreadable` and trains from epoch 0 instead of failing the fit."""

    def __init__(self, folder: Path, unreadable: Callable[[str], None]):
        super().__init__(str(folder), delete_checkpoint=True)
        self._unreadable = unreadable

    def on_train_begin(self, logs=None):
        model, optimizer = self.model, self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        fresh = [v.numpy() for v in model.weights], [v.numpy() for v in getattr(optimizer, "variables", [])]
        try:
            super().on_train_begin(logs)
        except Exception as error:  # a load that fails part-way may have changed some weights: put them back
            for variable, value in zip(model.weights, fresh[0]):
                variable.assign(value)
            for variable, value in zip(getattr(optimizer, "variables", []), fresh[1]):
                variable.assign(value)
            model._initial_epoch = 0  # Keras' own field for where the restored fit starts
            self._unreadable(f"the weights do not load into this model: {type(error).__name__}: {error}")

    def _save_model(self):
        from ztdl_pipeline.core.atomic import write_json

        folder = Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".partial.{WEIGHTS}"  # Keras wants the .weights.h5 ending
        self.model.save_weights(filepath=str(partial), overwrite=True)
        os.replace(partial, self._weights_path)
        write_json(self._training_metadata_path, {"epoch": self._current_epoch, "batch": self._last_batch_seen})


def completed_epochs(backup_dir: str | Path) -> int:
    """How many epochs a killed fit completed before it stopped (0: nothing to resume)."""
    metadata = Path(backup_dir) / METADATA
    return int(json.loads(metadata.read_text())["epoch"]) if metadata.is_file() else 0


def checkpoint_problem(folder: str | Path) -> str | None:
    """Why a killed fit's checkpoint folder cannot be resumed from (None: it can, or there is nothing to
    resume): its metadata is not JSON with an epoch, its weights are not a readable HDF5 file, or its history
    does not cover the epochs the metadata says were completed."""
    import h5py

    folder = Path(folder)
    weights, metadata, history = folder / WEIGHTS, folder / METADATA, folder / HISTORY
    if not weights.exists() and not metadata.exists():
        return None
    try:
        epoch = int(json.loads(metadata.read_text())["epoch"])
        if epoch < 0:
            raise ValueError(f"epoch {epoch} is negative")
    except FileNotFoundError:
        return f"{METADATA} is missing beside {WEIGHTS}"
    except (ValueError, KeyError, TypeError) as error:
        return f"{METADATA} is unreadable: {type(error).__name__}: {error}"
    try:
        with h5py.File(weights, "r") as saved:
            saved.visititems(lambda _, item: item[()] if isinstance(item, h5py.Dataset) else None)
    except Exception as error:  # h5py raises OSError, KeyError or RuntimeError for a damaged file
        return f"{WEIGHTS} is unreadable: {type(error).__name__}: {error}"
    if epoch:
        try:
            kept = json.loads(history.read_text())["history"]
            short = [k for k, values in kept.items() if len(values) < epoch]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            return f"{HISTORY} is unreadable: {type(error).__name__}: {error}"
        if short or not kept:
            return f"{HISTORY} covers fewer than the {epoch} completed epochs ({', '.join(short) or 'empty'})"
    return None


def set_aside(folder: str | Path, reason: str, warn: Callable[[str], None] = log.warning) -> Path:
    """Move an unreadable checkpoint folder out of the way, keeping it for inspection: renamed to
    `<folder>.unreadable-<UTC time>` with the reason in `why.txt`; warn, naming both and the reason."""
    folder = Path(folder)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = folder.with_name(f"{folder.name}{SET_ASIDE}{stamp}")
    suffix = 1
    while target.exists():
        target, suffix = folder.with_name(f"{folder.name}{SET_ASIDE}{stamp}-{suffix}"), suffix + 1
    folder.rename(target)
    (target / "why.txt").write_text(reason + "\n")
    warn(f"the resume checkpoint in {folder} cannot be read ({reason}): moved aside to {target.name} for "
         "inspection; training starts from epoch 0")
    return target


def set_aside_unreadable(folder: str | Path, warn: Callable[[str], None] = log.warning) -> list[Path]:
    """Check every checkpoint folder under `folder` (itself included, set-aside ones skipped); move each one
    that cannot be resumed from aside and warn, naming it and the error. Returns where they went."""
    folder = Path(folder)
    candidates = {p.parent for name in (WEIGHTS, METADATA) for p in folder.rglob(name)} if folder.is_dir() else set()
    moved = []
    for candidate in sorted(c for c in candidates if SET_ASIDE not in str(c.relative_to(folder.parent))):
        problem = checkpoint_problem(candidate)
        if problem:
            moved.append(set_aside(candidate, problem, warn))
    return moved


class Resume:
    """What makes any model.fit resumable: pass `callbacks` to the fit, then `history(fit_history)` gives the
    whole history (the epochs before a kill included) and `close()` empties the folder. Without a folder it
    does nothing, so every fit can use it. A checkpoint that cannot be read is moved aside with a warning and
    the fit starts from epoch 0."""

    def __init__(self, backup_dir: str | Path | None):
        self.folder = Path(backup_dir) if backup_dir else None
        self.done, self._earlier, self.callbacks = 0, {}, []
        if self.folder is None:
            return
        set_aside_unreadable(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.done = completed_epochs(self.folder)
        saved = self.folder / HISTORY
        if self.done:
            record = json.loads(saved.read_text())
            self._earlier = {k: v[:self.done] for k, v in record["history"].items()}
        self._history_backup = _HistoryBackup(saved, self._earlier)
        self.callbacks = [self._history_backup, _SafeBackupAndRestore(self.folder, self._start_afresh)]

    def _start_afresh(self, problem: str) -> None:
        """The checkpoint passed the file checks but does not load: set it aside and forget its epochs."""
        set_aside(self.folder, problem)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.done, self._earlier = 0, {}
        self._history_backup.forget()

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
