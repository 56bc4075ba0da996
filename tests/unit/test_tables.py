"""core/tables.py: attrs in the schema metadata, and the problems the feature checks report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ztdl_pipeline.core import tables

COLUMNS = {"text": "string", "x": "vector<integer>", "values": "list<float>", "label": "integer", "split": "string"}


def _table(**overrides) -> pa.Table:
    columns = {
        "text": pa.array(["a", "b", "c", "d"]),
        "x": pa.FixedSizeListArray.from_arrays(pa.array(np.arange(8, dtype=np.int32)), 2),
        "values": pa.array([[0.5], [1.0, 2.0], [], [3.0]], type=pa.list_(pa.float32())),
        "label": pa.array([0, 1, 0, 1]),
        "split": pa.array(["train", "train", "train", "test"]),
    }
    columns.update(overrides)
    return pa.table(columns)


def test_attrs_round_trip_and_kinds():
    table = tables.with_attrs(_table(), {"classes": ["no", "yes"]})
    assert tables.table_attrs(table) == {"classes": ["no", "yes"]} and tables.table_attrs(_table()) == {}
    assert {n: tables.kind_of(t) for n, t in zip(table.column_names, table.schema.types)} == COLUMNS
    tensor = pa.FixedShapeTensorArray.from_numpy_ndarray(np.zeros((2, 3, 3), np.uint8))
    assert tables.kind_of(tensor.type) == "vector<integer>"
    assert tables.kind_of(pa.large_string()) == "string" and tables.kind_of(pa.list_(pa.string())) == "list<string>"


def test_a_good_table_has_no_problems():
    assert tables.column_problems(_table(), COLUMNS) == []
    assert tables.row_count_problems(_table(), 4) == []
    assert tables.label_problems(_table(), 2, 0.01) == []


def test_missing_and_wrong_columns_are_named():
    problems = tables.column_problems(_table().drop(["text"]), {**COLUMNS, "label": "float"})
    assert problems == ["missing column 'text'", "column 'label' is int64, expected float"]


def test_nulls_and_non_finite_values_are_found_in_scalars_lists_and_vectors():
    broken = _table(values=pa.array([[np.nan], [1.0, np.inf], [], None], type=pa.list_(pa.float32())),
                    text=pa.array(["a", None, "c", "d"]))
    problems = tables.column_problems(broken, COLUMNS)
    assert "column 'text' has 1 null rows" in problems and "column 'values' has 1 null rows" in problems
    assert "column 'values' holds 2 NaN or infinite values" in problems
    vectors = pa.FixedSizeListArray.from_arrays(pa.array([1.0, np.nan, 2.0, 3.0], type=pa.float32()), 2)
    frame_like = pa.table({"v": vectors})
    assert tables.column_problems(frame_like, {"v": "vector<float>"}) == ["column 'v' holds 1 NaN or infinite values"]


def test_dataframes_are_checked_like_tables():
    frame = pd.DataFrame({"text": ["a", "b"], "tokens": [["a"], ["b", "c"]], "label": [0, 1],
                          "split": ["train", "test"]})
    kinds = {"text": "string", "tokens": "list<string>", "label": "integer", "split": "string"}
    assert tables.column_problems(frame, kinds) == []
    assert tables.split_counts(frame) == {"train": 1, "test": 1}


def test_row_counts_and_empty_splits():
    only_train = _table(split=pa.array(["train"] * 4))
    assert tables.row_count_problems(only_train, 10) == ["4 rows, expected at least 10", "no test rows"]
    assert tables.row_count_problems(only_train, 1, splits=("train",)) == []


def test_labels_out_of_range_and_rare_classes():
    assert tables.label_problems(_table(label=pa.array([0, 0, 0, 5])), 2, 0.0) == [
        "labels outside 0..1 (found 0..5)"]
    shares = tables.train_class_shares(_table(label=pa.array([0, 0, 1, 1])), 3)
    assert shares == pytest.approx({0: 2 / 3, 1: 1 / 3, 2: 0.0})  # the test row does not count
    assert tables.label_problems(_table(label=pa.array([0, 0, 0, 1])), 2, 0.2) == [
        "class 1 is 0.00% of the train rows, below 20%"]


def test_id_ranges():
    assert tables.id_range_problems(_table(), "x", 8) == []
    assert tables.id_range_problems(_table(), "x", 7) == ["column 'x' holds ids 0..7, outside 0..6"]
    indices = pa.table({"i": pa.array([[0, 3], [9]], type=pa.list_(pa.int32()))})
    assert tables.id_range_problems(indices, "i", 5) == ["column 'i' holds ids 0..9, outside 0..4"]
    ids = pa.table({"ids": pa.FixedShapeTensorArray.from_numpy_ndarray(np.array([[1, 2], [3, -1]], np.int32))})
    assert tables.id_range_problems(ids, "ids", 10) == ["column 'ids' holds ids -1..3, outside 0..9"]


def _matrix(tokens, vectors, found):
    vectors = np.asarray(vectors, dtype=np.float32)
    return pa.table({"id": pa.array(np.arange(len(tokens), dtype=np.int32)), "token": pa.array(tokens),
                     "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1]),
                     "found": pa.array(found)})


def test_embedding_matrix_alignment():
    vocabulary = pd.DataFrame({"id": [0, 1, 2, 3], "token": ["", "[UNK]", "good", "bad"], "count": [0, 5, 3, 2]})
    good = _matrix(["", "[UNK]", "good", "bad"], [[0, 0], [0, 0], [1, 2], [0, 0]], [False, False, True, False])
    assert tables.alignment_problems(good, vocabulary) == []
    swapped = _matrix(["", "[UNK]", "bad", "good"], [[0, 0], [0, 0], [1, 2], [0, 0]], [False, False, True, False])
    assert tables.alignment_problems(swapped, vocabulary) == [
        "2 rows hold another token than the vocabulary's (first: id 2, 'bad' vs 'good')"]
    short = _matrix(["", "[UNK]", "good"], [[0, 0], [0, 0], [1, 2]], [False, False, True])
    assert tables.alignment_problems(short, vocabulary) == ["3 rows for a vocabulary of 4 ids"]
    leaky = _matrix(["", "[UNK]", "good", "bad"], [[0, 0], [0, 0], [1, 2], [4, 4]], [False, False, True, False])
    assert tables.alignment_problems(leaky, vocabulary) == ["1 rows marked found = False hold a non-zero vector"]
