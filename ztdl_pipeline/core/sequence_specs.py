"""The ch7 card type and its resolved hyper-parameters (plain data, no Keras: the code location loads them).
The cards are in ztdl_pipeline/catalog/timeseries.py; SequenceHyper is what their generated run config
resolves into (assets/families/timeseries.py names it as the family's hyper_type). core/timeseries.py
re-exports both."""

from __future__ import annotations

from dataclasses import dataclass

from ztdl_pipeline.core.report import BookNumber
from ztdl_pipeline.core.specs import Card, Hyper


@dataclass(frozen=True)
class SequenceExample(Card):
    """A ch7 example: `dataset` is its window table (features/<dataset>), `raw_dataset` the series it cuts.

    `inputs` None means the model reads the window column; a tuple names feature columns instead.
    Stateful models train as the book does (fixed batch, no shuffling, states reset each epoch) and
    are served by a stateless copy with the same weights over a window of `serving_window` steps.
    """

    raw_dataset: str = ""
    stateful: bool = False
    serving_window: int = 24


@dataclass(frozen=True)
class SequenceHyper(Hyper):
    patience: int = 0  # EarlyStopping(monitor='loss', patience) as the book's ch7 FC model; 0: off
    train_windows: int = 0  # 0: every train window; N: the last N (a sub-sample, e.g. the fast profile's)
    test_windows: int = 0  # 0: every test window; N: the first N
    steps_per_execution: int = 1  # speed only: batches run per compiled call (same updates)


def book(*numbers: tuple[str, str, float, str]) -> tuple[BookNumber, ...]:
    return tuple(BookNumber(*n) for n in numbers)
