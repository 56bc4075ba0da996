"""What the blocking checks on a tabular features table compute: each returns problems (empty when fine)
and the numbers worth showing. The Dagster checks only wrap these."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ztdl_pipeline.core.features import SPLIT_COLUMN


def schema_problems(features: pd.DataFrame) -> list[str]:
    """Feature and target columns present, features float32, no NaN in features or target."""
    attrs = features.attrs
    problems = [f"missing column {c}" for c in [*attrs["feature_columns"], *attrs["target_columns"]]
                if c not in features.columns]
    present = [c for c in attrs["feature_columns"] if c in features.columns]
    problems += [f"{c} is {features[c].dtype}, expected float32" for c in present
                 if str(features[c].dtype) != "float32"]
    checked = present + ([attrs["target"]] if attrs["target"] in features.columns else [])
    problems += [f"{c} has {int(n)} NaN" for c, n in features[checked].isna().sum().items() if n]
    return problems


def split_rows(features: pd.DataFrame) -> dict[str, int]:
    counts = features[SPLIT_COLUMN].value_counts()
    return {"rows": len(features), "train": int(counts.get("train", 0)), "test": int(counts.get("test", 0))}


def row_problems(features: pd.DataFrame, min_rows: int) -> list[str]:
    """At least `min_rows` rows, a non-empty train split, and a non-empty test split when one was asked for."""
    counts = split_rows(features)
    problems = [f"{counts['rows']} rows, fewer than {min_rows}"] if counts["rows"] < min_rows else []
    problems += ["the train split is empty"] if not counts["train"] else []
    if features.attrs["split"]["test_size"] and not counts["test"]:
        problems.append("the test split is empty")
    return problems


def train_class_shares(features: pd.DataFrame) -> dict[str, float]:
    """Each class's share of the train split, by class name (a missing class has share 0)."""
    attrs = features.attrs
    train = features[features[SPLIT_COLUMN] == "train"][attrs["target"]]
    shares = train.value_counts(normalize=True).reindex(range(len(attrs["classes"])), fill_value=0.0)
    return {str(attrs["classes"][i]): round(float(v), 4) for i, v in shares.items()}


def balance_problems(features: pd.DataFrame, min_share: float = 0.01) -> list[str]:
    if features.attrs.get("classes") is None:
        return ["the table records no classes"]
    return [f"class {name} is {share:.2%} of the train split, below {min_share:.0%}"
            for name, share in train_class_shares(features).items() if share < min_share]


def class_balance(features: pd.DataFrame) -> dict[str, Any]:
    """Share of each class over all rows, for metadata."""
    attrs = features.attrs
    balance = features[attrs["target"]].value_counts(normalize=True).sort_index()
    return {str(attrs["classes"][i]): round(float(v), 4) for i, v in balance.items()}
