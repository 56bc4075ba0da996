"""The chapter experiments that train many models (sweeps, learning curves, repeated runs, device timings) log
their progress the way a training does (issue 18 item 7): through core/progress, at most one line every
EVERY_SECONDS, each with the share of trainings done and the time left, and a last line when they end."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.core import progress

LINE = re.compile(r"^(?P<what>[\w ]+): (?P<done>\d+)/(?P<total>\d+) trainings \((?P<share>\d+)%\)(?P<detail>: .+)? — "
                  r"(?P<timing>.+)$")


@pytest.fixture
def every_training(monkeypatch):
    """Every training's line logged (no 15 s wait between lines): the lines as parsed."""
    monkeypatch.setattr(progress, "EVERY_SECONDS", 0.0)
    lines: list[str] = []
    return lines


def _parsed(lines: list[str], what: str, total: int) -> list[re.Match]:
    matches = [LINE.match(line) for line in lines]
    assert all(matches), f"lines not in the progress format: {lines}"
    assert [m["what"] for m in matches] == [what] * total, lines
    assert [int(m["done"]) for m in matches] == list(range(1, total + 1)), lines
    assert {int(m["total"]) for m in matches} == {total}, lines
    assert "about" in matches[0]["timing"] and "left" in matches[0]["timing"], lines[0]  # time left estimated
    assert matches[-1]["timing"].startswith("done in") and matches[-1]["share"] == "100", lines[-1]
    return matches


def test_the_vocabulary_sweep_reports_each_size(every_training):
    from ztdl_pipeline.core.text_sweep import vocab_sweep

    words = ["free prize call now", "see you at lunch", "win cash today", "meeting moved to noon"] * 6
    text = pd.DataFrame({"text": words, "label": [1, 0, 1, 0] * 6, "split": ["train"] * 16 + ["test"] * 8})
    points = vocab_sweep(text, [3, 6], epochs=1, batch_size=8, seed=0, log=every_training.append)
    matches = _parsed(every_training, "vocabulary sweep", 2)
    assert [m["detail"] for m in matches] == [": max_features=3", ": max_features=6"]
    assert len(points) == 2


def _tiny_images(n: int = 60):
    rng = np.random.default_rng(0)
    return rng.integers(0, 16, (n, 8, 8), dtype=np.uint8), np.arange(n) % 10


def _tiny_model():
    """ch10's digits network, as digits_improvements_chapter builds it."""
    from ztdl_pipeline.core.models import make_optimizer
    from ztdl_pipeline.core.training import compile_model
    from ztdl_pipeline.core.vision_experiments import DIGITS_VARIANTS
    from ztdl_pipeline.core.vision_models import digits_deep

    return compile_model(digits_deep((8, 8), **DIGITS_VARIANTS["base"], name="digits_base"),
                         make_optimizer("adam", 0.001), "categorical_crossentropy", ["accuracy"])


def test_repeated_runs_and_learning_curves_count_their_trainings(every_training):
    from ztdl_pipeline.core.vision_experiments import learning_curve, repeat_train

    data = _tiny_images()
    shared = progress.trainings("digits improvements", 3, every_training.append)
    repeat_train(_tiny_model, data, data, repeats=2, epochs=1, batch_size=8, n_classes=10, seed=0, progress=shared,
                 label="base")
    repeat_train(_tiny_model, data, data, repeats=1, epochs=1, batch_size=8, n_classes=10, seed=0, progress=shared,
                 label="dropout")
    matches = _parsed(every_training, "digits improvements", 3)
    assert [m["detail"] for m in matches] == [": base run 1/2", ": base run 2/2", ": dropout run 1/1"]

    every_training.clear()
    learning_curve(_tiny_model(), data, data, fractions=(0.5, 0.75), epochs=1, batch_size=8, n_classes=10, seed=0,
                   progress=progress.trainings("learning curve", 2, every_training.append))
    _parsed(every_training, "learning curve", 2)


def test_a_quick_chapter_logs_one_line_and_a_long_one_at_most_one_per_interval():
    """With the real interval: trainings that end within it log only the last line; a fake clock shows the
    rate limit between them."""
    lines: list[str] = []
    quick = progress.trainings("banknotes sweeps", 3, lines.append)
    for _ in range(3):
        quick.tick()
    assert len(lines) == 1 and lines[0].startswith("banknotes sweeps: 3/3 trainings (100%) — done in")

    now = [0.0]
    lines.clear()
    slow = progress.Progress("sweep", 10, lines.append, unit="trainings", clock=lambda: now[0])
    for _ in range(10):
        now[0] += 4.0  # a training every 4 s: a line at most every 15 s, then the last
        slow.tick()
    assert [line.split(" —")[0] for line in lines] == ["sweep: 4/10 trainings (40%)", "sweep: 8/10 trainings (80%)",
                                                       "sweep: 10/10 trainings (100%)"]
    assert "32s elapsed, about 8s left" in lines[1]  # 2 trainings left at 4 s each
