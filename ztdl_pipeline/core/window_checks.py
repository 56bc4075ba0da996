"""What can be wrong with a time-series feature table (core/timeseries.py window and sequence tables), as lists
of problems (empty: nothing), and the numbers its asset shows. Framework-free; the checks in
ztdl_pipeline/defs/timeseries/ only call these.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from ztdl_pipeline.core import timeseries as ts
from ztdl_pipeline.core.features import SPLIT_COLUMN, Scaling


def table_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Rows per split, the fitted (train-only) parameters, the window column's type, the class-1 share per
    split of a binary table, and how many windows cross the split date (window tables)."""
    counts = frame[SPLIT_COLUMN].value_counts()
    summary: dict[str, Any] = {
        "rows": len(frame), "rows_train": int(counts.get("train", 0)), "rows_test": int(counts.get("test", 0)),
        "fitted (train only)": json.dumps(ts.attrs_summary(frame.attrs)),
        "window column": str(frame[ts.WINDOW].dtype), "dagster/row_count": len(frame),
    }
    if frame.attrs["task"] == "binary":
        balance = frame.groupby(SPLIT_COLUMN, observed=True)[ts.TARGET].mean()
        summary["share of class 1 per split"] = json.dumps({k: round(float(v), 4) for k, v in balance.items()})
    if frame.attrs.get("kind") == "windows":
        summary["windows crossing the split"] = ts.window_leaks(frame)
    return summary


def shape_problems(frame: pd.DataFrame) -> tuple[list[str], tuple[int, ...]]:
    """Windows of the recipe's shape, no NaN in windows, engineered features or targets; and the shape found."""
    windows = ts.column_windows(frame[ts.WINDOW])
    attrs = frame.attrs
    expected = (attrs["window"],) if attrs.get("n_features", 1) == 1 else (attrs["window"], attrs["n_features"])
    problems = [] if windows.shape[1:] == expected else [f"windows are {windows.shape[1:]}, expected {expected}"]
    nan_windows = int(np.isnan(windows).any(axis=tuple(range(1, windows.ndim))).sum())
    problems += [f"{nan_windows} window(s) hold NaN"] if nan_windows else []
    problems += [f"{c} has NaN" for c in ("std", "std_diff", ts.TARGET) if c in frame and frame[c].isna().any()]
    return problems, windows.shape[1:]


def row_problems(frame: pd.DataFrame) -> tuple[list[str], dict[str, int]]:
    """Train and test both non-empty; the rows of each."""
    counts = {split: int(frame[SPLIT_COLUMN].value_counts().get(split, 0)) for split in ("train", "test")}
    return [f"the {split} split is empty" for split, n in counts.items() if not n], counts


def engineered_problems(frame: pd.DataFrame, tolerance: float = 1e-5) -> tuple[list[str], float]:
    """std and std_diff recomputed from the stored curves against the stored columns; the largest difference."""
    recomputed = ts.sequence_stats(ts.column_windows(frame[ts.WINDOW]))
    stored = frame[["std", "std_diff"]].to_numpy("float32")
    difference = float(np.max(np.abs(recomputed - stored))) if len(stored) else 0.0
    problems = [] if difference <= tolerance else [
        f"std/std_diff differ from the stored curves' by up to {difference:g} (> {tolerance:g})"]
    return problems, difference


def leakage_problems(frame: pd.DataFrame, scaling: Scaling | tuple[float, float] | None) -> list[str]:
    """Every window and its target on one side of the split date, train before test, and the stored scaling
    equal to a fit of `scaling` (the recipe's) on the train part alone."""
    attrs = frame.attrs
    split_at = pd.Timestamp(attrs["split_date"])
    train, test = frame[frame[SPLIT_COLUMN] == "train"], frame[frame[SPLIT_COLUMN] == "test"]
    problems = []
    leaks = ts.window_leaks(frame)
    if leaks:
        problems.append(f"{leaks} window(s) reach across the split date")
    if (train[ts.TIME] > split_at).any() or (test[ts.WINDOW_START] <= split_at).any():
        problems.append("a train target after, or a test window before, the split date")
    if scaling is not None:
        values = np.concatenate([ts.column_windows(train[ts.WINDOW]).reshape(-1), train[ts.TARGET].to_numpy()])
        refit = ts.fit_scaling(values, scaling)
        if not np.allclose(refit, attrs["scaling"], rtol=1e-6):
            problems.append(f"stored scaling {attrs['scaling']} is not the train-only fit {list(refit)}")
    return problems


def balance_problems(frame: pd.DataFrame, low: float = 0.1) -> tuple[list[str], float]:
    """Both classes hold at least `low` of the train windows; the train share of class 1."""
    share = float(frame.loc[frame[SPLIT_COLUMN] == "train", ts.TARGET].mean())
    problems = [] if low <= share <= 1 - low else [f"class 1 is {share:.1%} of the train windows, outside "
                                                   f"[{low:.0%}, {1 - low:.0%}]"]
    return problems, share


def same_series_problems(raw: pd.DataFrame, other: pd.DataFrame, column: str) -> tuple[list[str], dict[str, Any]]:
    """Two copies of one series: the same timestamps and the same values of `column`; and what was compared."""
    same_times = len(other) == len(raw) and bool((other[ts.TIME].to_numpy() == raw[ts.TIME].to_numpy()).all())
    differing = int((other[column].to_numpy() != raw[column].to_numpy()).sum()) if same_times else -1
    problems = [] if same_times else ["the two copies have different timestamps"]
    problems += [f"{differing} value(s) of {column} differ"] if differing > 0 else []
    return problems, {"rows": len(raw), "rows_other": len(other), "same_timestamps": same_times,
                      "differing_values": differing}

