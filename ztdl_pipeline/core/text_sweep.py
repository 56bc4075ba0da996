"""ch8 exercise 1 (sol.ch8.ex1): the CountVectorizer vocabulary size against train/test accuracy of the logistic
regression on SMS spam; returns the report's sections, images and numbers (the asset only writes them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core import text as T
from ztdl_pipeline.core.chapter import Chapter
from ztdl_pipeline.core.models import make_optimizer
from ztdl_pipeline.core.report import markdown_table
from ztdl_pipeline.core.text_models import batches, logreg, predict
from ztdl_pipeline.core.training import compile_model

TITLE = "ch8 exercise 1: vocabulary size sweep"
SOURCE = "book sol.ch8.ex1_sms_vocab_size_sweep (L22788–22927)"
BOOK = ("Plot only (L22878–22926): accuracy rises with the vocabulary and flattens; the last size is the whole "
        "training vocabulary (7,150 words); baseline 0.866.")


def vocab_sweep(text, sizes: Sequence[int], epochs: int, batch_size: int, seed: int, seed_fn=None,
                log=print) -> list[dict]:
    """For each max_features: CountVectorizer(stop_words='english') on the train split, Dense(1, sigmoid),
    adam, `epochs` epochs; train and test accuracy (the solution's train_for_vocab_size). Progress over the
    sizes goes to `log` (core/progress.trainings)."""
    from ztdl_pipeline.core.progress import trainings

    progress = trainings("vocabulary sweep", len(sizes), log)
    splits = text["split"].to_numpy()
    y = text["label"].to_numpy().astype(np.int64)
    points = []
    for size in sizes:
        matrix, vocabulary, _, _ = T.vectorize(text["text"], splits, "count", int(size))
        x_train, x_test = matrix[splits == "train"], matrix[splits == "test"]
        if seed_fn:
            seed_fn(seed)
        model = compile_model(logreg(len(vocabulary)), make_optimizer("adam", 0.001), "binary_crossentropy",
                              ["accuracy"])
        y_train = y[splits == "train"].astype(np.float32).reshape(-1, 1)
        model.fit(batches(x_train, y_train, batch_size, True, seed), epochs=epochs, verbose=0)
        points.append({"max_features": int(size), "words": len(vocabulary),
                       "train_accuracy": M.accuracy(y[splits == "train"], predict(model, x_train)),
                       "test_accuracy": M.accuracy(y[splits == "test"], predict(model, x_test))})
        progress.tick(f"max_features={size}")
    return points


def sweep_plot(points: Sequence[Mapping[str, Any]], baseline: float) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ztdl_pipeline.core.plots import _png

    fig, ax = plt.subplots(figsize=(7, 4))
    words = [p["words"] for p in points]
    ax.plot(words, [p["train_accuracy"] for p in points], "o-", label="train")
    ax.plot(words, [p["test_accuracy"] for p in points], "o-", label="test")
    ax.axhline(baseline, color="grey", linestyle="--", label=f"baseline {baseline:.3f}")
    ax.set_xscale("log")
    ax.set_ylim(0.85, 1.0)
    ax.set_xlabel("vocabulary size (words)")
    ax.set_ylabel("accuracy")
    ax.set_title("SMS spam: accuracy vs vocabulary size")
    ax.legend()
    return _png(fig)


def sweep_report(text, sizes: Sequence[int], epochs: int, batch_size: int, seed: int, profile: str,
                 seed_fn=None, log=print) -> Chapter:
    """The sweep, its plot against the majority-class baseline, and the report's sections; the result holds
    the points, the baseline and the settings used; the UI shows each size's test accuracy."""
    points = vocab_sweep(text, sizes, epochs, batch_size, seed, seed_fn, log)
    share = float(text["label"].mean())
    baseline = max(share, 1 - share)
    images = {"vocab_sweep": sweep_plot(points, baseline)}
    sections = [("Accuracy by vocabulary size", markdown_table(
        ["max_features", "effective words", "train accuracy", "test accuracy"],
        [[p["max_features"], p["words"], p["train_accuracy"], p["test_accuracy"]] for p in points])),
        ("The book", BOOK),
        ("Settings", f"Profile {profile}: {epochs} epochs per size, batch {batch_size}; "
                     "CountVectorizer(stop_words='english') fitted on the train split (as the solution does)."),
        ("Source", SOURCE)]
    result = {"profile": profile, "epochs": epochs, "points": points, "baseline": baseline}
    numbers = {f"test_accuracy_{p['max_features']}": p["test_accuracy"] for p in points}
    return Chapter(TITLE, sections, images, result, numbers)
