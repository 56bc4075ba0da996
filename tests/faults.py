"""Faults the tests inject: a training killed after a given epoch (an exception from a Keras callback, which is
what a killed process looks like to the next run: BackupAndRestore's checkpoint of the last completed epoch)."""

from __future__ import annotations

import keras


class Killed(Exception):
    pass


class KillAfter(keras.callbacks.Callback):
    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise Killed(f"killed after epoch {self.epoch}")
