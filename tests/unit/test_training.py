"""core.training: a fit killed after some epochs continues from the last completed one with its whole history."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.faults import KillAfter, Killed
from ztdl_pipeline.core.training import completed_epochs, fit


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    return model


def test_a_killed_fit_resumes_from_its_last_completed_epoch(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    backup = tmp_path / "backup"
    killed = _model()
    with pytest.raises(Killed):
        fit(killed, x, y, epochs=6, batch_size=16, shuffle=False, callbacks=[KillAfter(4)], backup_dir=backup)
    assert completed_epochs(backup) == 4

    seen = []
    resumed = _model()  # a fresh process would build the model anew
    result = fit(resumed, x, y, epochs=6, batch_size=16, shuffle=False, backup_dir=backup,
                 on_epoch_end=lambda epoch, logs: seen.append(epoch))
    assert result["resumed_from_epoch"] == 4
    assert seen == [5, 6]  # only the remaining epochs ran
    assert len(result["history"]["loss"]) == 6  # the history covers the epochs before the kill too
    assert not backup.exists()  # a completed fit leaves nothing to resume
    # plain SGD keeps no state, so killed-and-resumed ends where an uninterrupted fit ends
    whole = _model()
    expected = fit(whole, x, y, epochs=6, batch_size=16, shuffle=False)
    for ours, theirs in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result["history"]["loss"], expected["history"]["loss"], rtol=1e-5)


def test_a_fit_without_a_backup_starts_from_epoch_one(tmp_path):
    x, y = np.ones((8, 3), "float32"), np.ones(8, "float32")
    result = fit(_model(), x, y, epochs=2, batch_size=4)
    assert result["resumed_from_epoch"] == 0 and len(result["history"]["loss"]) == 2


def _dataset_fit(kind: str):
    """The fits over tf.data pipelines (vision, transfer), called the way their train steps call them."""
    import tensorflow as tf

    from ztdl_pipeline.core import transfer, vision_models

    def run(model, x, y, backup, callbacks=(), on_epoch_end=None):
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
        if callbacks:  # the injected kill rides on Keras' callbacks, as a killed process would stop a fit
            model.fit = _with_callbacks(model.fit, callbacks)
        if kind == "vision":
            return vision_models.fit_dataset(model, data, epochs=6, images_per_epoch=len(x), backup_dir=backup,
                                             on_epoch_end=on_epoch_end)
        return transfer._fit(model, data, epochs=6, steps=None, images=len(x), backup_dir=backup,
                             on_epoch_end=on_epoch_end)

    return run


def _with_callbacks(fit_method, extra):
    def fit(*args, callbacks=(), **kwargs):
        return fit_method(*args, callbacks=[*callbacks, *extra], **kwargs)

    return fit


@pytest.mark.parametrize("kind", ["vision", "transfer"])
def test_dataset_fits_resume_too(tmp_path, kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    backup, fit_with = tmp_path / "backup", _dataset_fit(kind)
    with pytest.raises(Killed):
        fit_with(_model(), x, y, backup, callbacks=[KillAfter(3)])
    seen = []
    result = fit_with(_model(), x, y, backup, on_epoch_end=lambda epoch, logs: seen.append(epoch))
    assert result["resumed_from_epoch"] == 3 and seen == [4, 5, 6]
    assert len(result["history"]["loss"]) == 6 and not backup.exists()


def test_a_long_predict_reports_its_items_at_the_rate_limit_and_its_end():
    from ztdl_pipeline.core.training import PredictProgress

    lines: list[str] = []
    reporter = PredictProgress("scoring", 100, 16, lines.append)
    clock = iter(range(0, 10_000, 10))  # every batch takes 10 s on this clock
    reporter.progress.clock = lambda: float(next(clock))
    reporter.progress.began = reporter.progress.last = reporter.progress.clock()
    _model().predict(np.zeros((100, 3), "float32"), batch_size=16, verbose=0, callbacks=[reporter])
    # 7 batches: a line every 15 s (every second batch), then the last one with all 100 items
    assert [line.split(" — ")[0] for line in lines] == [
        "scoring: 32/100 items (32%)", "scoring: 64/100 items (64%)", "scoring: 96/100 items (96%)",
        "scoring: 100/100 items (100%)"]
    assert lines[0].endswith("20s elapsed, about 42s left") and lines[-1].endswith("done in 1m10s")
