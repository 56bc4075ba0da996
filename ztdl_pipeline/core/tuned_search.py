"""A search over a card's own model and training (`Tuning(model="card")`): the vision, text and time-series
cards, whose builders and fits live in their families' core modules.

A trial is the card's own training step on a search table, scored by the card's own evaluation step:
- the search table is the features table without its test rows, with a seeded share of the training rows
  relabelled "test" (stratified by class; for a time series, the last share of the training period, so no
  trial is scored on rows older than those it trained on). The family's steps then train on the rest and
  "test" on the validation rows, and the real test rows are not there to be seen;
- a trial's settings are the profile's book values with the searched ones replaced: a name that is a field of
  the card's Hyper changes the training, any other is a keyword argument of the card's builder (a
  tuple-valued one, e.g. a time-series model's units, is searched as strings such as "32-16").
Nothing here imports Keras or a family: the asset hands in the family's train and evaluate steps.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from ztdl_pipeline.core import refs
from ztdl_pipeline.core.search_space import Tuning
from ztdl_pipeline.core.tuning import TrialResult

SPLIT = "split"


def search_table(table: pa.Table, share: float, seed: int, *, chronological: bool = False,
                 stratify: str | None = "label") -> tuple[pa.Table, int]:
    """(the training rows only, `share` of them relabelled "test"; how many were relabelled)."""
    splits = np.asarray(table.column(SPLIT).to_numpy(zero_copy_only=False)).astype(str)
    train = np.flatnonzero(splits == "train")
    count = max(1, math.ceil(len(train) * share))
    if chronological:  # the rows are in time order: validate on the end of the training period
        picked = np.arange(len(train) - count, len(train))
    else:
        from sklearn.model_selection import train_test_split

        labels = None
        if stratify and stratify in table.column_names:
            labels = np.asarray(table.column(stratify).to_numpy(zero_copy_only=False))[train]
        _, picked = train_test_split(np.arange(len(train)), test_size=count, random_state=seed, stratify=labels)
    kept = table.take(pa.array(train, pa.int64()))
    relabelled = np.full(len(train), "train", dtype=object)
    relabelled[picked] = "test"
    column_type = table.schema.field(SPLIT).type
    column = pa.array(relabelled.tolist(), pa.string())
    if column_type != pa.string():
        column = column.cast(column_type) if not pa.types.is_dictionary(column_type) else column.dictionary_encode()
    index = kept.column_names.index(SPLIT)
    kept = kept.set_column(index, pa.field(SPLIT, column.type), column)
    return kept.replace_schema_metadata(table.schema.metadata), len(picked)


def builder_parameters(card) -> set[str]:
    """The keyword arguments the card's builder takes (what a card search may set besides its Hyper)."""
    signature = inspect.signature(refs.resolve(card.builder))
    return {name for name, p in signature.parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)} - {"name"}


def card_space_problems(tuning: Tuning, card, hyper_type: type) -> list[str]:
    """Names in a card search that are neither a field of the card's Hyper nor an argument of its builder."""
    settable = ({f.name for f in dataclasses.fields(hyper_type)} - {"profile", "seed"}) | builder_parameters(card)
    return [f"space: {name!r} is neither a training setting of {card.name} nor an argument of its builder "
            f"({', '.join(sorted(settable))})" for name in [*tuning.space, *tuning.fixed] if name not in settable]


def _like(book: Any, value: Any) -> Any:
    """A searched value in the form its book value has: "32-16" for a tuple of ints becomes (32, 16)."""
    if isinstance(book, tuple) and isinstance(value, str):
        return tuple(int(part) for part in value.split("-"))
    return value


def card_settings(card, hyper, params: Mapping[str, Any], tuning: Tuning) -> tuple[Any, Any, dict[str, Any]]:
    """(the card with the trial's builder arguments, the Hyper with its training settings, the settings as
    plain values for the report): the fixed values first, then what the trial suggested."""
    values = {**tuning.fixed, **params}
    fields = {f.name for f in dataclasses.fields(hyper)}
    training = {k: v for k, v in values.items() if k in fields}
    arguments = {k: _like(card.builder_kwargs.get(k), v) for k, v in values.items() if k not in fields}
    trial_card = dataclasses.replace(card, builder_kwargs={**card.builder_kwargs, **arguments})
    return trial_card, dataclasses.replace(hyper, **training), dict(values)


def run_card_trial(train: Callable[..., Any], evaluate: Callable[..., dict], card, hyper, table,
                   metric: str, **train_kwargs) -> TrialResult:
    """Train the trial's card and Hyper on the search table with the family's step and score it on the rows
    labelled "test" there (the validation rows) with the family's evaluation. A training whose loss is not
    finite diverged (score nan)."""
    start = time.perf_counter()
    trained = train(card, table, hyper, **train_kwargs)
    seconds = time.perf_counter() - start
    losses = np.asarray(trained.history.get("loss", []), dtype=float)
    if not len(losses) or not np.isfinite(losses).all():
        return TrialResult(float("nan"), 0, len(losses), round(seconds, 3))
    scored = evaluate(card, trained, table)["test"]
    loss = scored.get("loss", scored.get("mse", float("nan")))
    score = float(scored[metric])
    return TrialResult(score if math.isfinite(score) else float("nan"), len(losses), len(losses),
                       round(seconds, 3), float(loss))
