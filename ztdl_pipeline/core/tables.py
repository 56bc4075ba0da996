"""Feature tables: their attrs (fitted state, classes, splits) in the parquet schema metadata, and what can be
wrong with one, as lists of problems (empty: nothing). Framework-free.

The text, embeddings and transfer groups store pyarrow tables (or DataFrames written as parquet) whose
columns are described by a *kind* rather than an exact arrow type, because the same data may arrive as
`string` or `large_string`, as a fixed-size list or a fixed-shape tensor:

    string · integer · float · bool · list<string> · list<integer> · list<float> · vector<integer> · vector<float>

`vector<…>` is a fixed-size list or a fixed-shape tensor (one value per row of a fixed length or shape).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SPLIT = "split"
ATTRS_KEY = b"ztdl.attrs"  # the schema-metadata key under which every feature table keeps its attrs (JSON)


def table_attrs(table: pa.Table) -> dict[str, Any]:
    raw = (table.schema.metadata or {}).get(ATTRS_KEY)
    return json.loads(raw) if raw else {}


def with_attrs(table: pa.Table, attrs: Mapping[str, Any]) -> pa.Table:
    return table.replace_schema_metadata({**(table.schema.metadata or {}), ATTRS_KEY: json.dumps(attrs).encode()})


def as_table(data: pa.Table | pd.DataFrame) -> pa.Table:
    return data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)


def _scalar_kind(type_: pa.DataType) -> str | None:
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "string"
    if pa.types.is_integer(type_):
        return "integer"
    if pa.types.is_floating(type_):
        return "float"
    if pa.types.is_boolean(type_):
        return "bool"
    return None


def kind_of(type_: pa.DataType) -> str:
    """The kind (module docstring) of an arrow type; the type's own name when it has none."""
    if isinstance(type_, pa.FixedShapeTensorType):
        return f"vector<{_scalar_kind(type_.value_type)}>"
    if pa.types.is_fixed_size_list(type_):
        return f"vector<{_scalar_kind(type_.value_type)}>"
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return f"list<{_scalar_kind(type_.value_type)}>"
    return _scalar_kind(type_) or str(type_)


def _float_values(column: pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    """The float values a column holds (flattened for lists and vectors), or None when it holds none."""
    type_ = column.type
    if isinstance(type_, pa.FixedShapeTensorType):
        column = pa.chunked_array([chunk.storage for chunk in column.chunks], type=type_.storage_type)
        type_ = type_.storage_type
    if pa.types.is_fixed_size_list(type_) or pa.types.is_list(type_) or pa.types.is_large_list(type_):
        if not pa.types.is_floating(type_.value_type):
            return None
        return pa.chunked_array([chunk.flatten() for chunk in column.chunks], type=type_.value_type)
    return column if pa.types.is_floating(type_) else None


def column_problems(data: pa.Table | pd.DataFrame, expected: Mapping[str, str]) -> list[str]:
    """Missing columns, columns of another kind, nulls in any column, NaN or infinity in any float value."""
    table = as_table(data)
    problems = [f"missing column {name!r}" for name in expected if name not in table.column_names]
    for name, kind in expected.items():
        if name in table.column_names and kind_of(table.schema.field(name).type) != kind:
            problems.append(f"column {name!r} is {table.schema.field(name).type}, expected {kind}")
    for name in table.column_names:
        column = table.column(name)
        if column.null_count:
            problems.append(f"column {name!r} has {column.null_count} null rows")
        values = _float_values(column)
        if values is not None and len(values):
            bad = len(values) - int(pc.sum(pc.is_finite(values)).as_py() or 0) - values.null_count
            if bad:
                problems.append(f"column {name!r} holds {bad} NaN or infinite values")
    return problems


def split_counts(data: pa.Table | pd.DataFrame) -> dict[str, int]:
    table = as_table(data)
    if SPLIT not in table.column_names:
        return {}
    counts = pc.value_counts(table.column(SPLIT)).to_pylist()
    return {str(c["values"]): int(c["counts"]) for c in counts}


def row_count_problems(data: pa.Table | pd.DataFrame, min_rows: int,
                       splits: Sequence[str] = ("train", "test")) -> list[str]:
    table = as_table(data)
    problems = [f"{table.num_rows} rows, expected at least {min_rows}"] if table.num_rows < min_rows else []
    counts = split_counts(table)
    return problems + [f"no {split} rows" for split in splits if not counts.get(split)]


def train_class_shares(data: pa.Table | pd.DataFrame, n_classes: int, label: str = "label") -> dict[int, float]:
    """Share of each class 0..n_classes-1 among the train rows (all rows when there is no split column)."""
    table = as_table(data)
    labels = table.column(label).to_numpy()
    if SPLIT in table.column_names:
        labels = labels[np.asarray(table.column(SPLIT).to_pylist()) == "train"]
    counts = np.bincount(labels.astype(np.int64), minlength=n_classes)[:n_classes] if len(labels) else \
        np.zeros(n_classes, np.int64)
    return {c: float(counts[c]) / max(1, len(labels)) for c in range(n_classes)}


def label_problems(data: pa.Table | pd.DataFrame, n_classes: int, min_share: float, label: str = "label") -> list[str]:
    """Labels outside 0..n_classes-1, or a class below `min_share` of the train rows."""
    table = as_table(data)
    labels = table.column(label).to_numpy()
    problems = []
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        problems.append(f"labels outside 0..{n_classes - 1} (found {labels.min()}..{labels.max()})")
    shares = train_class_shares(table, n_classes, label)
    problems += [f"class {c} is {share:.2%} of the train rows, below {min_share:.0%}"
                 for c, share in shares.items() if share < min_share]
    return problems


def alignment_problems(matrix: pa.Table, vocabulary: pd.DataFrame | pa.Table) -> list[str]:
    """An embedding matrix table (id, token, vector, found) against the vocabulary it was built for: one row per
    id in the same order with the same token (row i is the vector of token i), and rows not found all zero."""
    matrix, vocabulary = as_table(matrix), as_table(vocabulary)
    problems = []
    if matrix.num_rows != vocabulary.num_rows:
        problems.append(f"{matrix.num_rows} rows for a vocabulary of {vocabulary.num_rows} ids")
    n = min(matrix.num_rows, vocabulary.num_rows)
    ids = matrix.column("id").to_numpy()
    if not np.array_equal(ids, np.arange(len(ids))):
        problems.append("ids are not 0, 1, 2, … in row order")
    tokens = matrix.column("token").to_pylist()[:n]
    expected = vocabulary.column("token").to_pylist()[:n]
    mismatched = [i for i, (a, b) in enumerate(zip(tokens, expected)) if str(a) != str(b)]
    if mismatched:
        i = mismatched[0]
        problems.append(f"{len(mismatched)} rows hold another token than the vocabulary's (first: id {i}, "
                        f"{tokens[i]!r} vs {expected[i]!r})")
    column = matrix.column("vector").combine_chunks()
    vectors = column.flatten().to_numpy(zero_copy_only=False).reshape(matrix.num_rows, -1)
    found = matrix.column("found").to_numpy(zero_copy_only=False).astype(bool)
    nonzero_missing = int(np.any(vectors[~found] != 0, axis=1).sum()) if (~found).any() else 0
    if nonzero_missing:
        problems.append(f"{nonzero_missing} rows marked found = False hold a non-zero vector")
    return problems


def id_range_problems(data: pa.Table | pd.DataFrame, column: str, upper: int) -> list[str]:
    """Integer ids (scalars, lists or vectors) outside 0..upper-1."""
    table = as_table(data)
    if column not in table.column_names:
        return []
    values = table.column(column)
    if isinstance(values.type, pa.FixedShapeTensorType):
        values = pa.chunked_array([chunk.storage for chunk in values.chunks], type=values.type.storage_type)
    if pa.types.is_fixed_size_list(values.type) or pa.types.is_list(values.type):
        values = pa.chunked_array([chunk.flatten() for chunk in values.chunks], type=values.type.value_type)
    if not len(values):
        return []
    low, high = pc.min_max(values).values()
    if low.as_py() < 0 or high.as_py() >= upper:
        return [f"column {column!r} holds ids {low.as_py()}..{high.as_py()}, outside 0..{upper - 1}"]
    return []
