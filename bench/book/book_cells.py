"""What every bench/book/chNN_*.py script shares: its arguments and the one JSON line it prints per example.

The scripts are the book's cells for the examples bench/whole_graph.py compares (pandas read_csv from the data
mirror, the book's preprocessing, a Sequential model, fit with the book's epochs and batch size, evaluate), with
only Keras 3's renames (learning_rate=, keras.Input) and verbose=0 so that printing does not dominate. At the fast
profile every fit runs one epoch: that only checks that the benchmark works, it measures nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


MISSING_DATA = 3  # the exit status of a script whose data files are not on this machine


def arguments(description: str, *files: str) -> argparse.Namespace:
    """The script's arguments; exits with MISSING_DATA, naming them, when any of its data `files` is missing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, required=True, help="the data mirror (the book's ../data/)")
    parser.add_argument("--profile", choices=("book", "fast"), default="book")
    args = parser.parse_args()
    missing = [name for name in files if not (args.data / name).is_file()]
    if missing:
        print(json.dumps({"missing": [str(args.data / name) for name in missing]}), flush=True)
        raise SystemExit(MISSING_DATA)
    return args


class Examples:
    """Times each example from the end of the previous one and prints its line: {"example", "seconds", ...}."""

    def __init__(self, profile: str):
        self.profile = profile
        self.started = time.perf_counter()

    def epochs(self, book: int) -> int:
        return book if self.profile == "book" else 1

    def done(self, name: str, **numbers: float) -> None:
        now = time.perf_counter()
        line = {"example": name, "seconds": round(now - self.started, 3),
                "numbers": {key: round(float(value), 4) for key, value in numbers.items()}}
        print(json.dumps(line), flush=True)
        self.started = time.perf_counter()


def cross_val_score(build_fn, X, y, cv, epochs: int) -> list[float]:
    """What the book's `cross_val_score(KerasClassifier(build_fn=build_fn, epochs=epochs, verbose=0), X, y, cv=cv)`
    did (keras.wrappers.scikit_learn is gone from Keras 3): a fresh model per fold, fit, its accuracy."""
    scores = []
    for train, test in cv.split(X):
        model = build_fn()
        model.fit(X[train], y[train], epochs=epochs, verbose=0)
        scores.append(model.evaluate(X[test], y[test], verbose=0)[1])
    return scores
