"""The card: one record per book example (plain data, no heavy imports: the code location loads them).

The catalogue (ztdl_pipeline/catalog/) holds the cards; the wiring turns each into
models/<name> -> reports/<name> -> exports/<name> assets; core functions take the card to train, judge and
export its model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ztdl_pipeline.core.report import BookNumber


@dataclass(frozen=True)
class Card:
    """One worked example of the book: its features, its model builder, the book's hyper-parameters and the
    numbers the book prints, and the gate its export must pass."""

    name: str
    dataset: str  # the features asset it trains on: features/<dataset>
    title: str
    source: str  # where in the book (chapter, section, lines)
    builder: str  # the model builder, by reference: "ztdl_pipeline.core.models:banknotes_logistic"
    loss: str
    inputs: tuple[str, ...] | None = None  # raw input columns used (None: all of the dataset's)
    builder_kwargs: Mapping[str, Any] = field(default_factory=dict)
    primary: tuple[str, str] = ("test", "accuracy")  # (split, metric) the export gate judges
    tolerance: float = 0.05  # gate threshold = book value of `primary` - tolerance (book profile)
    threshold: float | None = None  # explicit threshold when the book prints no value for `primary`
    fast_floor: float = 0.5  # gate threshold under the fast profile: "clearly learned something"
    book: tuple[BookNumber, ...] = ()
    plots: tuple[str, ...] = ()  # extra plots: boundary | regression_line | prediction_vs_truth | inner_features
    notes: str = ""
    hyper: Mapping[str, Any] = field(default_factory=dict)  # the book's training settings (run-config defaults)
    fast: Mapping[str, Any] = field(default_factory=dict)  # what the fast profile changes (core/profile.py)
    tuning: Any = None  # core.search_space.Tuning: a search beyond the book's settings (models/<name>_tuned)

    @property
    def one_hot_target(self) -> bool:
        return self.loss == "categorical_crossentropy"

    def book_value(self, split: str, metric: str) -> float | None:
        return next((b.value for b in self.book if (b.split, b.metric) == (split, metric)), None)

    def gate_threshold(self, profile: str) -> float:
        from ztdl_pipeline.core.profile import gate_threshold

        return gate_threshold(profile, book_value=self.book_value(*self.primary), tolerance=self.tolerance,
                              threshold=self.threshold, fast_floor=self.fast_floor, name=self.name)

    def gate_basis(self, profile: str) -> str:
        from ztdl_pipeline.core.profile import gate_basis

        return gate_basis(profile, self.tolerance, self.threshold)



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


@dataclass(frozen=True)
class GeneratedData:
    """A dataset the book generates: the generator (by reference) and its arguments (run-config defaults)."""

    name: str
    generator: str  # "ztdl_pipeline.core.generated:circles"
    params: Mapping[str, Any]
    description: str


@dataclass(frozen=True)
class TableFeatures:
    """features/<dataset>: how a raw table becomes model inputs (core/features.TabularRecipe), in words too."""

    dataset: str
    recipe: Any  # core.features.TabularRecipe
    description: str
    min_rows: int = 40


@dataclass(frozen=True)
class Scoring:
    """predictions/<name>: the current export of card `name` scoring every row of raw/<dataset> as a consumer
    would (core/predictions.py). One line per scored example in a catalogue module's PREDICTIONS."""

    name: str  # the card whose export scores: exports/<name>
    dataset: str  # the raw asset whose rows are scored: raw/<dataset>
    inputs: Mapping[str, str] = field(default_factory=dict)  # serving input -> source column, where they differ
    id_column: str | None = None  # a source column that identifies a row, kept beside the prediction
    target: str | None = None  # the source column with the true label, kept as `actual`
