"""Tabular feature engineering as small pure functions, plus the recipe that strings them together.

The fitted state (categories, imputation medians, scaling) is explicit and JSON-serialisable: it is
stored in the features parquet's schema metadata and rebuilt as Keras layers at export time, so the
exported model takes the same raw values the CSV holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ztdl_pipeline.core.errors import DataError

SPLIT_COLUMN = "split"


@dataclass(frozen=True)
class Scaling:
    """How one input column is scaled: (x - offset) / scale, with offset/scale fitted on train rows."""

    kind: Literal["standard", "minmax", "fixed"]
    factor: float = 1.0  # only for kind="fixed": x / factor

    def fit(self, values: np.ndarray) -> tuple[float, float]:
        values = np.asarray(values, dtype="float64")
        if self.kind == "standard":  # population std, as sklearn's StandardScaler
            offset, scale = float(values.mean()), float(values.std())
        elif self.kind == "minmax":
            offset, scale = float(values.min()), float(values.max() - values.min())
        elif self.kind == "fixed":
            offset, scale = 0.0, float(self.factor)
        else:
            raise ValueError(f"unknown scaling kind {self.kind!r}")
        return offset, (scale if scale > 0 else 1.0)


@dataclass(frozen=True)
class TabularRecipe:
    """What turns one raw table into model-ready features (the book's preprocessing for a dataset)."""

    numeric: tuple[str, ...]
    target: str
    task: Literal["regression", "binary", "multiclass"]
    categorical: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # column -> fixed categories
    impute_median: tuple[str, ...] = ()  # NaN -> train median, plus a "<col>_was_missing" flag
    classes: tuple[Any, ...] | None = None  # raw target values in label order (classification)
    target_one_hot: bool = False  # also store one-hot target columns (softmax models)
    scaling: Mapping[str, Scaling] = field(default_factory=dict)
    target_scale: float | None = None  # regression target divided by this for training (book: price/1e5)
    test_size: float | None = 0.2
    random_state: int | None = 42
    stratify: bool = False
    note: str = ""

    @property
    def raw_inputs(self) -> list[str]:
        """The raw columns a consumer sends to the exported model, in signature order."""
        return [*self.numeric, *self.categorical]


def one_hot(values: pd.Series, categories: Sequence[Any], prefix: str, source: str = "") -> pd.DataFrame:
    """One-hot encode with a fixed category list: stable columns whatever the data holds.

    Missing values encode as all zeros; a value outside `categories` is an error (schema drift).
    """
    present = values.dropna()
    unknown = sorted(set(present.tolist()) - set(categories), key=str)
    if unknown:
        raise DataError(source or prefix, f"column {values.name!r} has value(s) {unknown[:5]!r} outside the "
                                          f"known categories {list(categories)!r}",
                        "add the category to the dataset's recipe (FEATURES in ztdl_pipeline/catalog/<domain>.py)")
    columns = {f"{prefix}_{category}": (values == category).fillna(False).astype("float32").to_numpy()
               for category in categories}
    return pd.DataFrame(columns, index=values.index)


def assign_split(n_rows: int, test_size: float | None, random_state: int | None,
                 stratify: np.ndarray | None = None) -> np.ndarray:
    """'train'/'test' per row, the same partition as sklearn's train_test_split(X, y, ...) gives."""
    from sklearn.model_selection import train_test_split  # lazy: keeps the code location quick to load

    split = np.full(n_rows, "train", dtype=object)
    if test_size:
        _, test_idx = train_test_split(np.arange(n_rows), test_size=test_size, random_state=random_state,
                                       stratify=stratify)
        split[test_idx] = "test"
    return split


def safe_name(column: str) -> str:
    """A column name usable as a SavedModel input name: 'Time (min)' -> 'time_min'."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", column).strip("_").lower()
    return name if name and not name[0].isdigit() else f"x_{name}"


def build_features(raw: pd.DataFrame, recipe: TabularRecipe, source: str = "") -> pd.DataFrame:
    """Apply a recipe: encode, split, impute and fit scaling on train rows only.

    Returns the feature frame: input columns (unscaled, float32), target column(s) and `split`.
    `frame.attrs` carries the fitted state and the column roles (see `feature_spec`).
    """
    missing = [c for c in [*recipe.raw_inputs, recipe.target] if c not in raw.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing!r} needed by the feature recipe")
    raw = raw.reset_index(drop=True)
    labels = None
    if recipe.task != "regression":
        classes = list(recipe.classes) if recipe.classes is not None else sorted(raw[recipe.target].unique())
        lookup = {value: index for index, value in enumerate(classes)}
        unknown = sorted(set(raw[recipe.target].dropna()) - set(lookup), key=str)
        if unknown or raw[recipe.target].isna().any():
            raise DataError(source, f"target {recipe.target!r} has values outside {classes!r}: {unknown[:5]!r}")
        labels = raw[recipe.target].map(lookup).astype("int64").to_numpy()
    split = assign_split(len(raw), recipe.test_size, recipe.random_state,
                         stratify=labels if recipe.stratify else None)
    train = split == "train"

    columns: dict[str, np.ndarray] = {}
    imputation: dict[str, float] = {}
    for name in recipe.numeric:
        values = raw[name].astype("float64").to_numpy()
        if name in recipe.impute_median:
            median = float(np.nanmedian(values[train]))
            imputation[name] = median
            columns[f"{name}_was_missing"] = np.isnan(values).astype("float32")
            values = np.where(np.isnan(values), median, values)
        elif np.isnan(values).any():
            row = int(np.flatnonzero(np.isnan(values))[0])
            raise DataError(source, f"column {name!r}, data row {row + 1}: missing value and no imputation "
                                    "is configured for it")
        columns[name] = values.astype("float32")
    # keep the flags after their column's value so the layout reads naturally
    ordered = {}
    for name in recipe.numeric:
        ordered[name] = columns[name]
        if f"{name}_was_missing" in columns:
            ordered[f"{name}_was_missing"] = columns[f"{name}_was_missing"]
    frame = pd.DataFrame(ordered)
    for name, categories in recipe.categorical.items():
        encoded = one_hot(raw[name], categories, prefix=name, source=source)
        frame = pd.concat([frame, encoded], axis=1)
    feature_columns = list(frame.columns)

    scaling = {}
    for name, spec in recipe.scaling.items():
        if name not in frame.columns:
            raise ValueError(f"scaling configured for unknown feature column {name!r}")
        scaling[name] = spec.fit(frame.loc[train, name].to_numpy())

    target_columns: list[str] = [recipe.target]
    if recipe.task == "regression":
        frame[recipe.target] = raw[recipe.target].astype("float32").to_numpy()
    else:
        frame[recipe.target] = labels
        if recipe.target_one_hot:
            for index, value in enumerate(classes):
                frame[f"{recipe.target}_{value}"] = (labels == index).astype("float32")
            target_columns = [f"{recipe.target}_{value}" for value in classes]
    frame[SPLIT_COLUMN] = pd.Categorical(split, categories=["train", "test"])

    frame.attrs.update({
        "feature_columns": feature_columns,
        "target": recipe.target,
        "target_columns": target_columns,
        "task": recipe.task,
        "classes": [_plain(c) for c in classes] if labels is not None else None,
        "raw_inputs": recipe.raw_inputs,
        "numeric": list(recipe.numeric),
        "categorical": {k: [_plain(c) for c in v] for k, v in recipe.categorical.items()},
        "imputation": imputation,
        "scaling": scaling,
        "target_scale": recipe.target_scale,
        "split": {"test_size": recipe.test_size, "random_state": recipe.random_state,
                  "stratify": recipe.stratify},
    })
    return frame


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def scaling_vectors(attrs: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(mean, variance) per feature column for a Keras Normalization layer; identity where unscaled."""
    features = attrs["feature_columns"]
    mean = np.zeros(len(features), dtype="float32")
    variance = np.ones(len(features), dtype="float32")
    for index, name in enumerate(features):
        if name in attrs["scaling"]:
            offset, scale = attrs["scaling"][name]
            mean[index], variance[index] = offset, scale**2
    return mean, variance


def apply_scaling(frame: pd.DataFrame, attrs: Mapping[str, Any]) -> pd.DataFrame:
    """The scaled feature matrix as the book would compute it in pandas (used to cross-check the model)."""
    mean, variance = scaling_vectors(attrs)
    values = frame[attrs["feature_columns"]].to_numpy("float64")
    return pd.DataFrame((values - mean) / np.sqrt(variance), columns=attrs["feature_columns"], index=frame.index)


def xy(frame: pd.DataFrame, split: str | None = None, one_hot_target: bool = False,
       scale_target: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix and target for one split ('train', 'test' or None for all rows)."""
    attrs = frame.attrs
    rows = frame if split is None else frame[frame[SPLIT_COLUMN] == split]
    x = rows[attrs["feature_columns"]].to_numpy("float32")
    if one_hot_target:
        y = rows[attrs["target_columns"]].to_numpy("float32")
    else:
        y = rows[attrs["target"]].to_numpy()
        if attrs["task"] == "regression":
            y = y.astype("float32")
            if scale_target and attrs.get("target_scale"):
                y = y / attrs["target_scale"]
    return x, y


def raw_rows(raw: pd.DataFrame, features: pd.DataFrame, split: str | None = None) -> dict[str, np.ndarray]:
    """The raw input values (as a consumer would send them) for the rows of one split."""
    mask = np.ones(len(features), bool) if split is None else (features[SPLIT_COLUMN] == split).to_numpy()
    rows = raw.reset_index(drop=True)[mask]
    out = {}
    for name in features.attrs["raw_inputs"]:
        categories = features.attrs["categorical"].get(name)
        if categories is not None and is_integer_vocabulary(categories):
            out[name] = rows[name].astype("int64").to_numpy()
        elif categories is not None:
            out[name] = rows[name].astype("string").fillna("").astype(str).to_numpy()
        else:
            out[name] = rows[name].astype("float64").to_numpy("float32", na_value=np.nan)
    return out


def is_integer_vocabulary(categories: Sequence[Any]) -> bool:
    return all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in categories)


def column_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-column statistics for metadata: count, nulls, mean, std, min, max."""
    numeric = frame.select_dtypes("number")
    return pd.DataFrame({
        "nulls": numeric.isna().sum(),
        "mean": numeric.mean(),
        "std": numeric.std(),
        "min": numeric.min(),
        "max": numeric.max(),
    }).round(4)
