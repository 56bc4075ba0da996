"""What a training leaves behind epoch by epoch: rate-limited progress lines in the run's log and TensorBoard
event files (one folder per model version and run, so `make tensorboard` overlays two trainings' curves).

`EpochLog` is the hook every family's fit calls after each epoch (core/training's Keras callback calls it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ztdl_pipeline.core.progress import EVERY_SECONDS, Progress

VALIDATION_PREFIX = "val_"  # Keras names validation metrics val_<metric>


def metrics_text(logs: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={value:.4g}" for name, value in logs.items())


class TensorBoardLog:
    """Each epoch's metrics as TensorBoard scalars under `folder`/train and `folder`/validation (Keras'
    layout, so TensorBoard draws a metric's train and validation curves in one chart). A fit that starts
    again at an earlier epoch (a model trained from several seeds) writes under `folder`/fit_<n>."""

    def __init__(self, folder: Path, warn: Callable[[str], None] = print):
        self.folder, self.warn = Path(folder), warn
        self.fits, self._last, self._writers = 0, 0, {}
        self.off = False

    def _writer(self, part: str):
        import tensorflow as tf

        if part not in self._writers:  # made on first use: a fit without validation leaves no empty folder
            where = self.folder if self.fits == 1 else self.folder / f"fit_{self.fits}"
            self._writers[part] = tf.summary.create_file_writer(str(where / part))
        return self._writers[part]

    def __call__(self, epoch: int, logs: Mapping[str, float]) -> None:
        if self.off:
            return
        import tensorflow as tf

        if epoch <= self._last or not self.fits:
            self.close()
            self.fits += 1
        self._last = epoch
        try:
            for name, value in logs.items():
                validation = name.startswith(VALIDATION_PREFIX)
                with self._writer("validation" if validation else "train").as_default(step=epoch):
                    tf.summary.scalar(name.removeprefix(VALIDATION_PREFIX) if validation else name, float(value))
        except ImportError:  # tf.summary.scalar lives in the tensorboard package
            self.off = True
            self.warn("no TensorBoard logs: the tensorboard package is missing (pip install -e '.[cpu]' "
                      "installs it with TensorFlow)")

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class EpochLog:
    """The per-epoch hook of one model's training: a progress line at most every `every` seconds (and the
    last epoch's) with the metrics and the time left, and the metrics as TensorBoard scalars when a folder is
    given. A fit that starts over at epoch 1 (several seeds) starts its own progress."""

    def __init__(self, what: str, epochs: int, log: Callable[[str], None], tensorboard: Path | None = None, *,
                 every: float = EVERY_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.what, self.epochs, self.log, self.every, self.clock = what, epochs, log, every, clock
        self.tensorboard = TensorBoardLog(tensorboard, log) if tensorboard is not None else None
        # the clock starts now; the first epoch reported tells where a resumed fit started (start=None)
        self.progress = self._progress(start=None)
        self._last = 0

    def _progress(self, start: int | None) -> Progress:
        return Progress(self.what, self.epochs, self.log, unit="epochs", every=self.every, start=start,
                        clock=self.clock)

    def __call__(self, epoch: int, logs: Mapping[str, float]) -> None:
        if epoch <= self._last:  # the next fit began (its clock starts after its first epoch)
            self.progress = self._progress(start=epoch)
        self._last = epoch
        self.progress.update(epoch, metrics_text(logs))
        if self.tensorboard is not None:
            self.tensorboard(epoch, logs)

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
