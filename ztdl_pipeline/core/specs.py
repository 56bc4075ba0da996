"""Declarative specs of the examples (plain data, no heavy imports: the code location loads them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ztdl_pipeline.core.report import BookNumber


@dataclass(frozen=True)
class TabularExample:
    """One worked example of the book: which features, which model, which numbers the book prints."""

    name: str
    dataset: str
    title: str
    source: str
    builder: str
    loss: str
    inputs: tuple[str, ...] | None = None  # raw input columns used (None: all of the dataset's)
    builder_kwargs: Mapping[str, Any] = field(default_factory=dict)
    primary: tuple[str, str] = ("test", "accuracy")  # (split, metric) the export gate judges
    tolerance: float = 0.05  # gate threshold = book value of `primary` - tolerance (book profile)
    threshold: float | None = None  # explicit threshold when the book prints no value for `primary`
    fast_floor: float = 0.5  # gate threshold under the fast profile: "clearly learned something"
    book: tuple[BookNumber, ...] = ()
    plots: tuple[str, ...] = ()  # extra plots: boundary | regression_line | prediction_vs_truth
    notes: str = ""

    @property
    def one_hot_target(self) -> bool:
        return self.loss == "categorical_crossentropy"

    def book_value(self, split: str, metric: str) -> float | None:
        return next((b.value for b in self.book if (b.split, b.metric) == (split, metric)), None)

    def gate_threshold(self, profile: str) -> float:
        if profile == "fast":
            return self.fast_floor
        if self.threshold is not None:
            return self.threshold
        value = self.book_value(*self.primary)
        if value is None:
            raise ValueError(f"{self.name}: no book value for {self.primary} and no explicit threshold")
        return value - self.tolerance


@dataclass(frozen=True)
class Hyper:
    """Resolved hyper-parameters of one training run (after the profile is applied)."""

    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    validation_split: float = 0.0
    momentum: float = 0.0
    cv_folds: int = 0
    cv_epochs: int = 0
    seed: int = 42
    restarts: int = 1  # train from this many seeds (seed, seed+1, ...); keep the lowest final train loss
    profile: str = "book"


OPTIMIZER_NAMES = ("sgd", "adam", "rmsprop", "adagrad")  # core/models.py OPTIMIZERS builds them


def setting_problems(settings: Mapping[str, Any]) -> list[str]:
    """What is wrong with a run's training settings, one line per field, before anything trains.

    Looks only at the fields present, so every config class (with its own extra fields) can use it."""
    rules = {
        "epochs": (lambda v: v >= 1, "must be at least 1"),
        "fast_epochs": (lambda v: v >= 1, "must be at least 1"),
        "batch_size": (lambda v: v >= 1, "must be at least 1"),
        "learning_rate": (lambda v: v > 0 and v == v and v != float("inf"), "must be a finite number above 0"),
        "momentum": (lambda v: 0 <= v < 1, "must be in [0, 1)"),
        "validation_split": (lambda v: 0 <= v < 1, "must be in [0, 1): a share of the training rows"),
        "cv_folds": (lambda v: v == 0 or v >= 2, "must be 0 (no cross-validation) or at least 2"),
        "cv_epochs": (lambda v: v >= 0, "must be 0 (same as epochs) or more"),
        "restarts": (lambda v: v >= 1, "must be at least 1"),
        "optimizer": (lambda v: str(v).lower() in OPTIMIZER_NAMES, f"must be one of {', '.join(OPTIMIZER_NAMES)}"),
    }
    return [f"{name}={settings[name]!r} {message}" for name, (ok, message) in rules.items()
            if name in settings and not ok(settings[name])]
