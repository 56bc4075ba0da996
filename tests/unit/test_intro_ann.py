"""Seed 003's MLP from scratch (core/intro_ann.py) and its raw file, which has no public copy: the tests write a
500 × 2 file with the catalogue's columns (scikit-learn's two moons, seeded) and point ZTDL_SOURCE_INTRO_TO_ANN
at it; without the setting the raw file's fetch fails naming it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core import intro_ann
from ztdl_pipeline.core.errors import DataError


def write_intro_to_ann(path, seed: int = 0):
    """A stand-in for intro_to_ann.csv: 500 rows, Feature1, Feature2, Target (0/1)."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=500, noise=0.2, random_state=seed)
    pd.DataFrame({"Feature1": x[:, 0], "Feature2": x[:, 1], "Target": y}).to_csv(path, index=False)
    return path


def test_backprop_matches_a_finite_difference_estimate():
    wi, wo = intro_ann.initial_weights(2, 4, seed=7)
    x, target = np.array([0.3, -1.2]), 1.0
    grad_i, grad_o, _ = intro_ann.gradients(wi, wo, x, target)

    def error(a, b):
        return 0.5 * (target - intro_ann.forward(a, b, x)[2][0, 0]) ** 2

    step = 1e-6
    for weights, grad, other_first in ((wi, grad_i, True), (wo, grad_o, False)):
        for index in np.ndindex(weights.shape):
            up, down = weights.copy(), weights.copy()
            up[index] += step
            down[index] -= step
            estimate = ((error(up, wo) - error(down, wo)) if other_first
                        else (error(wi, up) - error(wi, down))) / (2 * step)
            assert grad[index] == pytest.approx(estimate, rel=1e-5, abs=1e-10), index
    assert np.abs(grad_i).max() > 1e-4  # a gradient of zeros would match nothing above by accident


def test_the_weights_are_drawn_as_the_tutorial_draws_them():
    wi, wo = intro_ann.initial_weights(2, 10, seed=123)
    assert wi.shape == (3, 10) and wo.shape == (10, 1)
    assert np.abs(wi).max() <= 0.2 and np.abs(wo).max() <= 2.0 and np.abs(wo).max() > 0.2
    import random

    random.seed(123)
    assert wi[0, 0] == pytest.approx(0.4 * random.random() - 0.2)  # rand(-0.2, 0.2), row by row


def test_the_numpy_network_learns_the_file(tmp_path):
    """(The Keras network learns it too: tests/assets/test_fundamentals_group.py runs the whole report.)"""
    frame = pd.read_csv(write_intro_to_ann(tmp_path / "intro_to_ann.csv"))
    x, y = frame[["Feature1", "Feature2"]].to_numpy(), frame["Target"].to_numpy()
    trained = intro_ann.train_numpy(x, y, n_hidden=10, epochs=3, learning_rate=0.5, momentum=0.1)
    assert intro_ann.accuracy(intro_ann.forward(trained["wi"], trained["wo"], x)[2], y) > 0.8
    assert trained["errors"][-1] < trained["errors"][0] < 0.5 * 0.25 * len(x)  # below the 0.5 output's error


def test_without_the_setting_the_fetch_names_it(tmp_path, monkeypatch):
    from ztdl_pipeline.resources.data_source import DatasetSource

    monkeypatch.delenv("ZTDL_SOURCE_INTRO_TO_ANN", raising=False)
    source = DatasetSource(cache_dir=str(tmp_path / "cache"), mirror_dir=str(tmp_path / "empty_mirror"))
    with pytest.raises(DataError, match="ZTDL_SOURCE_INTRO_TO_ANN"):
        source.fetch(datasets.get("intro_to_ann"))
    # the source sensor and `make run` see it as unreadable here (and so leave its report out), not as a URL
    observation = source.observe(datasets.get("intro_to_ann"))
    assert observation.origin == "unavailable" and "no URL" in observation.detail


def test_the_setting_is_read_and_checked(tmp_path, monkeypatch):
    from ztdl_pipeline.assets.raw import read_raw
    from ztdl_pipeline.resources.data_source import DatasetSource

    entry = datasets.get("intro_to_ann")
    mine = write_intro_to_ann(tmp_path / "mine.csv")
    monkeypatch.setenv("ZTDL_SOURCE_INTRO_TO_ANN", str(mine))
    source = DatasetSource(cache_dir=str(tmp_path / "cache"), mirror_dir=str(tmp_path / "empty_mirror"))
    path, _, origin = source.fetch(entry, validate=lambda p: read_raw(p, entry))
    assert origin == "configured" and read_raw(path, entry).shape == (500, 3)
    pd.DataFrame({"a": [1.0], "b": [2.0], "c": [0]}).to_csv(mine, index=False)
    with pytest.raises(DataError, match="missing column"):
        source.fetch(entry, validate=lambda p: read_raw(p, entry))
