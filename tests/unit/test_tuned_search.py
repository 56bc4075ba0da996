"""core.tuned_search: a card search's validation rows come from the training split only, and a trial's settings
reach the card's Hyper or its builder."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from ztdl_pipeline.core.search_space import Choice, FloatRange, IntRange, Tuning
from ztdl_pipeline.core.sequence_specs import SequenceHyper
from ztdl_pipeline.core.specs import Card, Hyper
from ztdl_pipeline.core.tables import table_attrs, with_attrs
from ztdl_pipeline.core.tuned_search import card_settings, card_space_problems, search_table


def _table(split_type=pa.string()) -> pa.Table:
    splits = ["train"] * 80 + ["test"] * 20
    labels = [i % 4 for i in range(100)]
    table = pa.table({"row": pa.array(range(100)), "label": pa.array(labels),
                      "split": pa.array(splits).cast(split_type) if split_type == pa.string()
                      else pa.array(splits).dictionary_encode()})
    return with_attrs(table, {"classes": [0, 1, 2, 3]})


@pytest.mark.parametrize("split_type", [pa.string(), "dictionary"])
def test_the_search_table_holds_no_test_row_and_a_stratified_validation_share(split_type):
    table, relabelled = search_table(_table(split_type), 0.25, seed=0)
    rows = np.asarray(table.column("row"))
    splits = np.asarray(table.column("split").to_numpy(zero_copy_only=False)).astype(str)
    assert set(rows) == set(range(80))  # the real test rows (80..99) are gone
    assert relabelled == 20 and (splits == "test").sum() == 20
    labels = np.asarray(table.column("label"))[splits == "test"]
    assert np.bincount(labels).tolist() == [5, 5, 5, 5]  # stratified by class
    assert table_attrs(table) == {"classes": [0, 1, 2, 3]}  # the features' attrs travel with it
    again, _ = search_table(_table(split_type), 0.25, seed=0)
    assert again.equals(table)  # seeded
    other, _ = search_table(_table(split_type), 0.25, seed=1)
    assert not other.equals(table)


def test_a_time_series_validates_on_the_end_of_its_training_period():
    table, relabelled = search_table(_table(), 0.2, seed=0, chronological=True, stratify=None)
    splits = np.asarray(table.column("split").to_numpy(zero_copy_only=False)).astype(str)
    rows = np.asarray(table.column("row"))
    assert relabelled == 16 and rows[splits == "test"].tolist() == list(range(64, 80))
    assert rows[splits == "train"].max() < rows[splits == "test"].min()  # no trial validates on its past


def _card(**changes) -> Card:
    values = {"name": "stack", "dataset": "d", "title": "t", "source": "s", "loss": "mean_squared_error",
              "builder": "ztdl_pipeline.core.sequence_models:dense_stack", "builder_kwargs": {"units": (24, 12, 6)},
              "hyper": {"epochs": 5, "batch_size": 512}}
    return Card(**{**values, **changes})


def test_a_trial_sets_training_settings_and_builder_arguments():
    tuning = Tuning(model="card", space={"units": Choice(("24-12-6", "32-16")), "learning_rate": FloatRange(1e-4, 1e-2),
                                         "patience": IntRange(1, 5)}, fixed={"batch_size": 256})
    hyper = SequenceHyper(epochs=5, batch_size=512, optimizer="adam", learning_rate=0.001)
    card, trial_hyper, shown = card_settings(_card(), hyper, {"units": "32-16", "learning_rate": 0.005,
                                                              "patience": 3}, tuning)
    assert card.builder_kwargs == {"units": (32, 16)}  # a tuple argument searched as a string
    assert (trial_hyper.learning_rate, trial_hyper.patience, trial_hyper.batch_size) == (0.005, 3, 256)
    assert trial_hyper.epochs == 5 and shown == {"batch_size": 256, "units": "32-16", "learning_rate": 0.005,
                                                 "patience": 3}
    assert card_space_problems(tuning, _card(), SequenceHyper) == []


def test_a_card_search_naming_what_the_card_cannot_set_is_refused():
    tuning = Tuning(model="card", space={"width_multiplier": IntRange(1, 4), "learning_rate": FloatRange(1e-4, 1e-2)})
    assert tuning.problems() == []  # a card search's names are checked against the card, not the dense net's
    [problem] = card_space_problems(tuning, _card(), Hyper)
    assert "'width_multiplier' is neither a training setting of stack nor an argument of its builder" in problem
    assert "units" in problem and "learning_rate" in problem  # it lists what may be searched
    assert Tuning(model="wide", space={}).problems() == ["model 'wide': one of dense, card"]


def test_a_dense_search_of_integer_labels_ends_in_a_softmax_over_the_classes():
    """wifi_fc's rooms are integer labels with sparse categorical cross-entropy: its tuned network has one
    output per room, not the single sigmoid of a binary card."""
    from ztdl_pipeline.core.search_space import DEFAULTS
    from ztdl_pipeline.core.tuned_models import build

    card = Card(name="rooms", dataset="d", title="t", source="s", builder="b",
                loss="sparse_categorical_crossentropy")
    attrs = {"classes": [1, 2, 3, 4], "task": "multiclass", "feature_columns": ["a", "b"], "scaling": {}}
    x = np.array([[0.0, 1.0], [1.0, 0.0]], dtype="float32")
    model = build(card, attrs, {**DEFAULTS, "optimizer": "adam", "learning_rate": 0.01}, x)
    assert model.output_shape == (None, 4)
    assert model.layers[-1].activation.__name__ == "softmax"
