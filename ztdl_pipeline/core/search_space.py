"""A card's hyper-parameter search, as data (`Card.tuning`): the space, the budgets and the seed.

Plain dataclasses, no Optuna: the catalogue declares a search with these and core/tuning.py turns it into
Optuna's suggestions. Two kinds of tuned model (`Tuning.model`):
- "dense" (the tabular cards): a plain dense network (core/tuned_models.dense_net): `hidden_layers` 0 is the
  book's logistic / softmax / linear regression, more layers widen the search beyond the book;
- "card" (vision, text, time series): the card's own builder trained by its family's own steps; the space
  names the card's training settings (its Hyper's fields) and its builder's keyword arguments
  (core/tuned_search.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class Choice:
    options: tuple[Any, ...]


Dimension = FloatRange | IntRange | Choice

# what a trial may set: the network's shape and how it is trained; anything not searched takes `fixed`, else
# the card's book value (optimizer, learning rate, batch size), else DEFAULTS
ARCHITECTURE = ("hidden_layers", "units", "activation", "dropout")
TRAINING = ("optimizer", "learning_rate", "momentum", "batch_size")
DEFAULTS = {"hidden_layers": 0, "units": 16, "activation": "relu", "dropout": 0.0, "momentum": 0.0,
            "batch_size": 32}


@dataclass(frozen=True)
class Tuning:
    """How one example is searched beyond the book's settings.

    Trials train on the training split minus a validation share carved from it (`validation`, seeded) and are
    scored there; the test split is used once, for the chosen configuration. Each trial stops early on its
    validation loss (`patience`) within `max_epochs`. The search ends after `trials` finished trials or when
    the trials' compute time reaches `timeout_s` (counted across resumed runs), whichever comes first.
    """

    space: Mapping[str, Dimension]
    model: str = "dense"  # dense: core/tuned_models.dense_net; card: the card's builder and its family's fit
    metric: str = "accuracy"  # scored on validation rows during the search, on the test split once at the end
    trials: int = 20
    timeout_s: float = 300.0
    seed: int = 0  # TPESampler's seed (per trial: seed + finished trials) and the validation split's
    validation: float = 0.2
    max_epochs: int = 100
    patience: int = 10
    startup_trials: int = 5  # random trials before TPE models the space
    fixed: Mapping[str, Any] = field(default_factory=dict)  # settings not searched (e.g. hidden_layers: 2)
    fast: Mapping[str, Any] = field(default_factory=dict)  # what the fast profile changes (trials, epochs, ...)
    resamples: int = 1000  # paired bootstrap of the test split: the noise the gate must clear
    note: str = ""  # why the tuned model may not beat the book's printed number (the report shows it)

    def problems(self) -> list[str]:
        """What is wrong with this search, one line per problem (empty: fine)."""
        known = set(ARCHITECTURE) | set(TRAINING)
        # a "card" search names its card's own settings: core/tuned_search.card_space_problems checks them
        out = [f"space: unknown setting {name!r} (one of {', '.join(sorted(known))})"
               for name in [*self.space, *self.fixed] if name not in known and self.model == "dense"]
        if self.model not in ("dense", "card"):
            out.append(f"model {self.model!r}: one of dense, card")
        for name, dim in self.space.items():
            if isinstance(dim, (FloatRange, IntRange)) and not dim.low < dim.high:
                out.append(f"space: {name} needs low < high, got {dim.low}..{dim.high}")
            if isinstance(dim, (FloatRange, IntRange)) and dim.log and dim.low <= 0:
                out.append(f"space: {name} is log-scaled, so low must be above 0")
            if isinstance(dim, Choice) and not dim.options:
                out.append(f"space: {name} offers no option")
        out += [f"{name} is both searched and fixed" for name in self.space if name in self.fixed]
        if self.metric not in ("accuracy", "r2"):
            out.append(f"metric {self.metric!r}: one of accuracy, r2")
        rules = {"trials": lambda v: v >= 1, "timeout_s": lambda v: v > 0, "validation": lambda v: 0 < v < 1,
                 "max_epochs": lambda v: v >= 1, "patience": lambda v: v >= 1, "startup_trials": lambda v: v >= 1,
                 "resamples": lambda v: v >= 100}
        names = {f.name for f in fields(self)}
        out += [f"fast: unknown field {name!r}" for name in self.fast if name not in names]
        for values in (self, replace(self, fast={}, **{k: v for k, v in self.fast.items() if k in names})):
            out += [f"{name}={getattr(values, name)!r} is out of range" for name, ok in rules.items()
                    if not ok(getattr(values, name))]
        return sorted(set(out))

    def for_profile(self, fast: bool) -> Tuning:
        """The search a profile runs: the fast profile's changes applied (small budgets for tests)."""
        return replace(self, **self.fast, fast={}) if fast else self
