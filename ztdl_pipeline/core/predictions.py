"""Scoring a source's rows with a published export, as a downstream consumer does (predictions/<name>).

A consumer knows only the export folder: it loads `<exports>/<name>/<version>` with `tf.saved_model.load`,
looks up the serving signature's input names and dtypes, and sends raw values by those names. The table it
gets back holds one row per source row: its index (and id column), the predicted class with a probability per
class (or the predicted value of a regression), the true label where the source has one, and the export
version that answered. No Dagster here; TensorFlow is imported only when a model is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ztdl_pipeline.core.features import safe_name

SIGNATURE = "serving_default"
BATCH_ROWS = 4096


def signature_dtypes(function) -> dict[str, str]:
    """{input name: dtype name} of a loaded signature (a ConcreteFunction of `loaded.signatures`)."""
    _, kwargs = function.structured_input_signature
    return {name: spec.dtype.name for name, spec in sorted(kwargs.items())}


def input_columns(dtypes: Mapping[str, str], columns: Sequence[str], recorded: Mapping[str, Mapping] | None = None,
                  overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """{signature input: source column}: an explicit override, else the column the registry records for the
    input, else the column whose safe name is the input's name ('Pclass' -> pclass). ValueError naming the
    inputs no column of the source answers."""
    recorded, overrides = recorded or {}, overrides or {}
    by_safe_name = {safe_name(str(c)): str(c) for c in columns}
    out, missing = {}, []
    for name in dtypes:
        column = overrides.get(name) or (recorded.get(name) or {}).get("column")
        column = column if column in columns else by_safe_name.get(name)
        if column is None:
            missing.append(name)
        else:
            out[name] = column
    if missing:
        raise ValueError(f"the serving signature takes {missing!r}, which no column of the source provides "
                         f"(columns: {list(map(str, columns))!r}); name the column for each in the scoring entry")
    return out


def consumer_inputs(frame: pd.DataFrame, dtypes: Mapping[str, str], columns: Mapping[str, str]
                    ) -> dict[str, np.ndarray]:
    """The raw values of each input as a consumer sends them: strings (missing -> ''), integers (a missing
    integer is an error) or floats (missing -> NaN, which the export imputes where its recipe does)."""
    out = {}
    for name, dtype in dtypes.items():
        values = frame[columns[name]]
        if dtype == "string":
            out[name] = values.astype("string").fillna("").astype(str).to_numpy(object)
        elif dtype.startswith(("int", "uint")):
            if values.isna().any():
                raise ValueError(f"column {columns[name]!r} (input {name!r}, {dtype}) has {int(values.isna().sum())} "
                                 "missing values; an integer input cannot take them")
            out[name] = values.astype(dtype).to_numpy()
        else:
            out[name] = values.astype("float64").to_numpy(dtype, na_value=np.nan)
    return out


def _labels(values: np.ndarray, classes: Sequence[Any]) -> list:
    """True labels as class names: values that are classes stay, integer indices into `classes` map."""
    known = set(map(str, classes))
    if all(str(v) in known for v in values):
        return [classes[[str(c) for c in classes].index(str(v))] for v in values]
    if all(isinstance(v, (int, np.integer)) and 0 <= v < len(classes) for v in values):
        return [classes[int(v)] for v in values]
    raise ValueError(f"target values {sorted(set(map(str, values)))[:5]!r} are neither classes {list(classes)!r} "
                     "nor indices into them")


def probability_column(name: Any) -> str:
    """`probability_<class>`: 0 -> probability_0, 'Not spam' -> probability_not_spam."""
    return "probability_" + (re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_").lower() or "_")


def prediction_table(outputs: np.ndarray, *, version: int, classes: Sequence[Any] | None = None,
                     ids: pd.Series | None = None, actual: pd.Series | None = None) -> pd.DataFrame:
    """One row per scored row: `row` (the source's row index), the id column, `predicted_class` and
    `probability_<class>` (one output: P(second class) of a binary model; k outputs: one per class), or
    `predicted_value` for a regression (no classes), `actual` where given, and `export_version`."""
    outputs = np.asarray(outputs, dtype="float64")
    n = outputs.shape[0]
    table = pd.DataFrame({"row": np.arange(n, dtype="int64")})
    if ids is not None:
        table[str(ids.name)] = ids.to_numpy()
    width = 1 if outputs.ndim == 1 else outputs.shape[1]
    if classes is None:
        if width != 1:
            raise ValueError(f"the export returns {width} values per row but no classes are recorded for them")
        table["predicted_value"] = outputs.reshape(n)
    else:
        classes = list(classes)
        if width == 1 and len(classes) == 2:
            positive = outputs.reshape(n)
            probabilities = np.stack([1.0 - positive, positive], axis=1)
        elif width == len(classes):
            probabilities = outputs.reshape(n, width)
        else:
            raise ValueError(f"the export returns {width} values per row for {len(classes)} classes {classes!r}")
        table["predicted_class"] = pd.Series([classes[i] for i in probabilities.argmax(axis=1)], dtype=object
                                             ).astype("int64" if all(isinstance(c, int) for c in classes) else "string")
        for index, name in enumerate(classes):
            table[probability_column(name)] = probabilities[:, index]
    if actual is not None:
        values = actual.to_numpy()
        table["actual"] = (pd.Series(_labels(values, classes), dtype=table["predicted_class"].dtype)
                           if classes is not None else values.astype("float64"))
    table["export_version"] = np.full(n, int(version), dtype="int64")
    return table


def score(path: str | Path, frame: pd.DataFrame, *, version: int, classes: Sequence[Any] | None = None,
          recorded: Mapping[str, Mapping] | None = None, overrides: Mapping[str, str] | None = None,
          id_column: str | None = None, target: str | None = None, signature: str = SIGNATURE,
          batch_rows: int = BATCH_ROWS) -> pd.DataFrame:
    """Load the SavedModel at `path` as a consumer does and score every row of `frame` through `signature`
    with raw values (see `input_columns`, `consumer_inputs`); returns `prediction_table`."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    if signature not in loaded.signatures:
        raise ValueError(f"{path}: no signature {signature!r} (has {sorted(loaded.signatures)!r})")
    function = loaded.signatures[signature]
    dtypes = signature_dtypes(function)
    frame = frame.reset_index(drop=True)
    inputs = consumer_inputs(frame, dtypes, input_columns(dtypes, list(frame.columns), recorded, overrides))
    parts = []
    for start in range(0, len(frame), batch_rows):
        answer = function(**{name: tf.constant(values[start:start + batch_rows]) for name, values in inputs.items()})
        if len(answer) != 1:
            raise ValueError(f"{path}: signature {signature!r} returns {sorted(answer)!r}; one output expected")
        parts.append(np.asarray(next(iter(answer.values()))))
    width = () if classes is None or len(classes) == 2 else (len(classes),)
    outputs = np.concatenate(parts) if parts else np.empty((0, *width))
    return prediction_table(outputs, version=version, classes=classes,
                            ids=frame[id_column] if id_column else None, actual=frame[target] if target else None)


def summary(table: pd.DataFrame, sample_rows: int = 5) -> dict[str, Any]:
    """What the metadata shows: rows scored, rows per predicted class (or the predicted values' range), the
    share that agrees with the true label where there is one, and the first rows."""
    out: dict[str, Any] = {"rows_scored": len(table), "sample": table.head(sample_rows)}
    if "predicted_class" in table:
        out["class_counts"] = {str(k): int(v) for k, v in table["predicted_class"].value_counts().sort_index().items()}
        if "actual" in table and len(table):
            out["agreement_with_actual"] = round(float((table["predicted_class"] == table["actual"]).mean()), 4)
    elif len(table):
        values = table["predicted_value"]
        out["predicted_value"] = {"min": float(values.min()), "mean": float(values.mean()), "max": float(values.max())}
    return out
