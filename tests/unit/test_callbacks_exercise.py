"""core/callbacks_exercise (ch5 exercise 4): ModelCheckpoint keeps the best model, EarlyStopping ends training, and
the project's TensorBoard hook writes event files a user opens with `make tensorboard`."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.catalog import card, tabular
from ztdl_pipeline.catalog.tabular_chapters import EXPERIMENTS
from ztdl_pipeline.core import callbacks_exercise as C
from ztdl_pipeline.core.chapter import Run
from ztdl_pipeline.core.features import build_features
from ztdl_pipeline.core.tracking import EpochLog

SPEC = next(spec for spec in EXPERIMENTS if spec.name == "wines_callbacks")


def test_the_best_epoch_is_the_first_lowest_validation_loss():
    summary = C.stopping_summary([0.9, 0.5, 0.5, 0.6], epochs=20, patience=2)
    assert summary["best_epoch"] == 2.0 and summary["best_val_loss"] == 0.5
    assert summary["stopped_early"] == 1.0 and summary["epochs_past_best"] == 2.0
    assert C.stopping_summary([0.9, 0.8], epochs=2, patience=1)["stopped_early"] == 0.0


@pytest.fixture(scope="module")
def wines(mirror) -> pd.DataFrame:
    recipe = next(f.recipe for f in tabular.FEATURES if f.dataset == "wines")
    return build_features(pd.read_csv(mirror / "wines.csv"), recipe)


def test_the_checkpoint_holds_the_best_epoch_and_tensorboard_has_every_epoch(wines, tmp_path):
    logs = tmp_path / "tensorboard" / "wines_callbacks" / "version" / "run"
    hook = EpochLog("wines_callbacks", 10, lambda _: None, logs)
    settings = {**SPEC.settings, **SPEC.fast}
    try:
        chapter = C.callbacks_exercise(wines, card=card("wines_2d_functional"), book=(),
                                       run=Run(profile="fast", seed_fn=keras.utils.set_random_seed,
                                               on_epoch_end=hook, files_dir=str(tmp_path / "checkpoints")),
                                       **settings)
    finally:
        hook.close()
    result = chapter.result
    training, history = result["training"], result["history"]
    assert training["epochs_run"] == len(history["val_loss"]) <= settings["epochs"]
    assert history["val_loss"][int(training["best_epoch"]) - 1] == min(history["val_loss"])
    if training["stopped_early"]:  # EarlyStopping waited exactly `patience` epochs without improvement
        assert training["epochs_past_best"] == settings["patience"]
    # validation is the test split (as the book), so the reloaded checkpoint scores the best val_loss on it
    assert result["checkpoint"]["test_loss"] == pytest.approx(training["best_val_loss"], rel=1e-4)
    assert result["checkpoint"]["test_loss"] <= result["last"]["test_loss"] + 1e-6
    assert (tmp_path / "checkpoints" / C.CHECKPOINT).is_file()
    # TensorBoard: train and validation event files, one scalar per epoch run
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for part, tag in (("train", "loss"), ("validation", "loss")):
        events = EventAccumulator(str(logs / part))
        events.Reload()
        steps = [event.step for event in events.Tensors(tag)]
        assert steps == list(range(1, int(training["epochs_run"]) + 1)), (part, steps)
    assert str(logs) in chapter.markdown(embed=False) and result["tensorboard"] == str(logs)
    np.testing.assert_array_equal(sorted(chapter.images), ["learning_curves"])
