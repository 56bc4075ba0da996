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


# ---------------------------------------------------------------- a checkpoint a kill left unreadable


def _killed_checkpoint(tmp_path, x, y, after: int = 3):
    """The files a real fit killed after `after` epochs leaves in its backup folder."""
    backup = tmp_path / "backup"
    with pytest.raises(Killed):
        fit(_model(), x, y, epochs=6, batch_size=16, shuffle=False, callbacks=[KillAfter(after)], backup_dir=backup)
    assert sorted(p.name for p in backup.iterdir()) == ["history.json", "latest.weights.h5", "training_metadata.json"]
    return backup


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


DAMAGE = {  # what a SIGKILL in the middle of each write leaves, and the words the warning names it by
    "weights cut short": (lambda b: _truncate(b / "latest.weights.h5"), "latest.weights.h5 is unreadable"),
    "weights overwritten": (lambda b: (b / "latest.weights.h5").write_bytes(b"\0" * 512), "latest.weights.h5 is unreadable"),
    "metadata cut short": (lambda b: _truncate(b / "training_metadata.json"), "training_metadata.json is unreadable"),
    "metadata missing": (lambda b: (b / "training_metadata.json").unlink(), "training_metadata.json is missing"),
    "history cut short": (lambda b: _truncate(b / "history.json", 0.3), "history.json is unreadable"),
}


@pytest.mark.fault
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_an_unreadable_checkpoint_is_set_aside_and_the_fit_starts_fresh(tmp_path, caplog, damage):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    backup = _killed_checkpoint(tmp_path, x, y)
    harm, words = DAMAGE[damage]
    harm(backup)
    damaged = {p.name: p.read_bytes() for p in backup.iterdir()}

    seen, fresh = [], _model()
    with caplog.at_level("WARNING", logger="ztdl_pipeline.training"):
        result = fit(fresh, x, y, epochs=6, batch_size=16, shuffle=False, backup_dir=backup,
                     on_epoch_end=lambda epoch, logs: seen.append(epoch))
    assert result["resumed_from_epoch"] == 0 and seen == [1, 2, 3, 4, 5, 6]  # every epoch ran, from the start
    assert len(result["history"]["loss"]) == 6 and not backup.exists()
    # the damaged folder is kept, untouched, under a name that says why, with the error beside it
    (kept,) = tmp_path.glob("backup.unreadable-*")
    assert {p.name: p.read_bytes() for p in kept.iterdir() if p.name != "why.txt"} == damaged
    assert words in (kept / "why.txt").read_text()
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert str(backup) in warning.message and words in warning.message and kept.name in warning.message
    # starting fresh means the same weights and history as a fit that was never killed
    whole = _model()
    expected = fit(whole, x, y, epochs=6, batch_size=16, shuffle=False)
    for ours, theirs in zip(fresh.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result["history"]["loss"], expected["history"]["loss"], rtol=1e-5)


@pytest.mark.fault
def test_a_checkpoint_of_another_model_is_set_aside_too(tmp_path, caplog):
    """Readable files whose weights do not load into the model being fitted (a changed layer width)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    backup = _killed_checkpoint(tmp_path, x, y)
    keras.utils.set_random_seed(0)
    wider = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1, activation="sigmoid")])
    wider.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    untouched = [w.copy() for w in wider.get_weights()]
    seen = []
    with caplog.at_level("WARNING", logger="ztdl_pipeline.training"):
        result = fit(wider, x, y, epochs=2, batch_size=64, shuffle=False, backup_dir=backup,
                     on_epoch_end=lambda epoch, logs: seen.append(epoch))
    assert result["resumed_from_epoch"] == 0 and seen == [1, 2] and len(result["history"]["loss"]) == 2
    assert "do not load into this model" in caplog.text and str(backup) in caplog.text
    (kept,) = tmp_path.glob("backup.unreadable-*")
    assert (kept / "latest.weights.h5").is_file()
    assert any(not np.allclose(a, b) for a, b in zip(wider.get_weights(), untouched))  # it trained


@pytest.mark.fault
def test_a_kill_while_the_checkpoint_is_written_leaves_the_previous_epochs(tmp_path, monkeypatch):
    """The weights are written beside the checkpoint and renamed into place: a kill in the middle of the write
    (here: half a file, then the kill) leaves the last completed checkpoint whole, and the next fit resumes."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    backup, model = tmp_path / "backup", _model()
    real_save, saves = model.save_weights, []

    def save_then_die(filepath, overwrite=True):
        saves.append(filepath)
        real_save(filepath, overwrite=overwrite)
        if len(saves) == 3:  # epoch 3's write: the file is half written when the process dies
            _truncate(type(backup)(filepath))
            raise Killed("killed while writing the checkpoint of epoch 3")

    monkeypatch.setattr(model, "save_weights", save_then_die)
    with pytest.raises(Killed):
        fit(model, x, y, epochs=6, batch_size=16, shuffle=False, backup_dir=backup)
    assert completed_epochs(backup) == 2 and not saves[-1].endswith("/latest.weights.h5")
    result = fit(_model(), x, y, epochs=6, batch_size=16, shuffle=False, backup_dir=backup)
    assert result["resumed_from_epoch"] == 2 and len(result["history"]["loss"]) == 6
