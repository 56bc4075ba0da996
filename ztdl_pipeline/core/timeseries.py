"""Time series as small pure functions: readers, chronological splits, train-only scaling, lagged windows.

numpy and pandas only (no Keras): the code location imports this module to build its asset specs.
A window table has one row per target: the window of past values (a fixed-size-list column, or a
fixed-shape tensor for several features), the target, the target's time, the time of the window's
oldest value and the split. Windows are built within each split, so none crosses the split date,
and the scaling parameters are fitted on the train part only; both live in the table's attrs.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.features import SPLIT_COLUMN, Scaling, assign_split
from ztdl_pipeline.core.schema import Column, coerce_columns, read_csv_checked
from ztdl_pipeline.core.sequence_specs import SequenceExample, SequenceHyper, book  # noqa: F401 (re-exported)
from ztdl_pipeline.core.tables import ATTRS_KEY

TIME = "time"  # the parsed timestamp column of every raw time-series table
WINDOW = "window"
WINDOW_START = "window_start"
TARGET = "target"

# ------------------------------------------------------------------ readers


def _times(values: pd.Series, formats: Sequence[str], source: str | Path, column: str) -> pd.Series:
    """Parse timestamps that may come in several explicit formats; a value matching none is an error."""
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in formats:
        missing = parsed.isna()
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(values[missing], format=fmt, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(source, f"column {column!r}, data row {row + 1}: {values.iloc[row]!r} is not a date "
                                f"in the format(s) {', '.join(formats)}")
    return parsed.astype("datetime64[us]")


def _ordered(frame: pd.DataFrame, source: str | Path) -> pd.DataFrame:
    """A time-indexed table must be strictly increasing in time: a duplicate or a step back is an error."""
    step = frame[TIME].diff().iloc[1:]
    if (step <= pd.Timedelta(0)).any():
        row = int(np.flatnonzero((step <= pd.Timedelta(0)).to_numpy())[0]) + 1
        raise DataError(source, f"data row {row + 1}: time {frame[TIME].iloc[row]} does not come after "
                                f"{frame[TIME].iloc[row - 1]} (duplicate or unsorted timestamps)")
    return frame.reset_index(drop=True)


def read_ontario_demand(path: str | Path, columns: Sequence[Column]) -> pd.DataFrame:
    """The book's ZonalDemands_2003-2016.csv.bz2: Date (two formats in one file), Hour 1..24, MW per zone.

    time = Date + Hour hours, as the book's combine_date_hour; 'diff' has thousands separators.
    """
    frame = read_csv_checked(path, columns)
    text = [c.name for c in columns if c.kind == "str" and c.name != "Date"]  # numbers written as "1,032"
    cleaned = frame[text].apply(lambda values: values.str.replace(",", "", regex=False))
    frame[text] = coerce_columns(cleaned, [Column(name, "float") for name in text], source=path)[text]
    days = _times(frame["Date"], ("%d-%b-%y", "%Y/%m/%d"), path, "Date")
    frame.insert(0, TIME, days + pd.to_timedelta(frame["Hour"], unit="h"))
    return _ordered(frame.drop(columns=["Date", "Hour"]), path)


def read_ontario_energy(path: str | Path, columns: Sequence[Column]) -> pd.DataFrame:
    """The masterclass copy Ontario_energy_demand_2003-2016.csv.gz: Datetime, Total Ontario (same series)."""
    frame = read_csv_checked(path, columns)
    frame.insert(0, TIME, _times(frame["Datetime"], ("%Y-%m-%d %H:%M",), path, "Datetime"))
    return _ordered(frame.drop(columns=["Datetime"]), path)


def read_cansim(path: str | Path, columns: Sequence[Column]) -> pd.DataFrame:
    """A Statistics Canada CANSIM download: title/notes lines, a header, monthly rows, footnotes.

    The header is the line just above the first 'Mon-YYYY' row; the data block ends at the first line
    that is not one. time = the month's last day (the book adds MonthEnd(1)).
    """
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot be read as text ({type(exc).__name__}: {exc})") from None

    def is_month(row: list[str]) -> bool:
        return bool(row) and not pd.isna(pd.to_datetime(row[0].strip(), format="%b-%Y", errors="coerce"))

    first = next((i for i, row in enumerate(rows) if is_month(row)), None)
    if not first:
        raise DataError(path, "no monthly data rows ('Mon-YYYY,...') below a header line",
                        "use the CANSIM table's CSV download (ztdl_pipeline/catalog/datasets.py names it)")
    last = first
    while last + 1 < len(rows) and is_month(rows[last + 1]):
        last += 1
    if any(is_month(row) for row in rows[last + 1:]):
        raise DataError(path, f"line {last + 2}: the monthly rows are interrupted by {rows[last + 1]!r}")
    header = [h.strip() for h in rows[first - 1]]
    frame = pd.DataFrame([row[:len(header)] for row in rows[first:last + 1]], columns=header, dtype="string")
    frame = coerce_columns(frame, columns, source=path)
    months = _times(frame[header[0]].str.strip(), ("%b-%Y",), path, header[0]) + pd.offsets.MonthEnd(1)
    frame.insert(0, TIME, months.astype("datetime64[us]"))
    return _ordered(frame.drop(columns=[header[0]]), path)


def read_monthly_csv(path: str | Path, columns: Sequence[Column]) -> pd.DataFrame:
    """A 'YYYY-MM,value' table (international-airline-passengers.csv); a trailing notes line, as in some
    copies of the file, is dropped."""
    month = columns[0].name
    frame = read_csv_checked(path, [Column(c.name, "str", nullable=True) for c in columns])
    is_month = pd.to_datetime(frame[month], format="%Y-%m", errors="coerce").notna().to_numpy()
    if is_month.any():  # drop a notes footer after the last month; anything else bad is reported below
        frame = frame.iloc[:int(np.flatnonzero(is_month)[-1]) + 1]
    frame = coerce_columns(frame, columns, source=path)
    frame.insert(0, TIME, _times(frame[month], ("%Y-%m",), path, month))
    return _ordered(frame.drop(columns=[month]), path)


def read_poloniex(path: str | Path, columns: Sequence[Column]) -> pd.DataFrame:
    """Poloniex chart data (JSON list of candles, gzip): 'date' in epoch seconds -> time."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    try:
        frame = pd.read_json(path, convert_dates=False, dtype=False)
    except (ValueError, EOFError, OSError) as exc:
        raise DataError(path, f"cannot be parsed as JSON ({type(exc).__name__}: {exc})") from None
    if frame.empty:
        raise DataError(path, "the file holds no candles")
    frame = coerce_columns(frame, columns, source=path)
    frame.insert(0, TIME, pd.to_datetime(frame.pop("date"), unit="s").astype("datetime64[us]"))
    return _ordered(frame, path)


def read_sequences(path: str | Path, columns: Sequence[Column]) -> pd.DataFrame:
    """The book's sequence_classification.csv.bz2: 'anomaly' (True/False) and t_0 ... t_199."""
    frame = read_csv_checked(path, columns)
    label = columns[0].name
    values = frame[label].str.strip().str.lower().map({"true": True, "false": False, "1": True, "0": False})
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataError(path, f"column {label!r}, data row {row + 1}: {frame[label].iloc[row]!r} is not True/False")
    frame[label] = values.astype(bool)
    return frame


# ------------------------------------------------------------------ splits, scaling, windows


def chronological_split(times: pd.Series | np.ndarray, split_date: str) -> np.ndarray:
    """'train' for rows at or before `split_date` (the book's df.loc[:split_date]), 'test' after it.

    The book's df.loc[split_date:] would also put a row stamped exactly at the split date in the test
    part; here every row belongs to exactly one side.
    """
    times = pd.to_datetime(pd.Series(times)).to_numpy()
    return np.where(times <= np.datetime64(pd.Timestamp(split_date)), "train", "test").astype(object)


def fit_scaling(train_values: np.ndarray, scaling: Scaling | tuple[float, float] | None) -> tuple[float, float] | None:
    """(offset, scale) for (x - offset) / scale: a fixed pair (the book's Ontario 10000/5000) or fitted on
    train values only (min-max: sklearn's MinMaxScaler)."""
    if scaling is None:
        return None
    if isinstance(scaling, tuple):
        return float(scaling[0]), float(scaling[1])
    return scaling.fit(np.asarray(train_values).reshape(-1))


def lagged_windows(values: np.ndarray, window: int, start_lag: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Every window of `window` consecutive values ending `start_lag` steps before its target.

    Returns (windows, target_positions): windows[i] = values[p - start_lag - window + 1 : p - start_lag + 1]
    (oldest first) for target position p = target_positions[i]; for a 2-D (time, feature) array the
    windows are (n, window, features). The book's create_lagged_Xy_win (pandas shift + dropna) in one
    strided view: nothing is copied until the caller asks for a contiguous array.
    """
    if window < 1 or start_lag < 1:
        raise ValueError(f"window ({window}) and start_lag ({start_lag}) must be at least 1")
    values = np.asarray(values)
    count = len(values) - start_lag - window + 1
    if count <= 0:
        empty = np.empty((0, window, *values.shape[1:]), dtype=values.dtype)
        return empty, np.empty(0, dtype="int64")
    view = sliding_window_view(values, window, axis=0)
    if values.ndim > 1:
        view = np.moveaxis(view, -1, 1)
    return view[:count], np.arange(start_lag + window - 1, len(values))


def percent_change(frame: pd.DataFrame) -> pd.DataFrame:
    """The book's ((df - df.shift()) / df.shift()) * 100, then dropna() and ±inf -> 0 (ch7 exercise 4)."""
    previous = frame.shift()
    change = ((frame - previous) / previous) * 100.0
    return change.dropna().replace([np.inf, -np.inf], 0.0)


def naive_forecast(windows: np.ndarray) -> np.ndarray:
    """The "repeat the last value" baseline: each window's most recent value (its first feature)."""
    windows = np.asarray(windows)
    return windows[:, -1] if windows.ndim == 2 else windows[:, -1, 0]


# ------------------------------------------------------------------ window tables (features)


@dataclass(frozen=True)
class SeriesRecipe:
    """How a raw time series becomes model windows, with the book's choices for one example."""

    values: tuple[str, ...]  # input columns, in the window's feature order
    target: str  # the column whose later value is the target
    split_date: str  # train: time <= split_date; test: after
    window: int
    start_lag: int = 1  # target = value `start_lag` steps after the window's last value
    scaling: Scaling | tuple[float, float] | None = None  # of the target series, fitted on train rows only
    transform: Literal["none", "percent_change"] = "none"
    task: Literal["regression", "binary"] = "regression"  # binary: target value >= 0 (a rise)
    classes: tuple[str, str] | None = None
    note: str = ""


def windows_column(windows: np.ndarray) -> pd.Series:
    """(n, w) -> a fixed_size_list<float32>[w] column; (n, w, f) -> an Arrow fixed_shape_tensor column."""
    import pyarrow as pa

    windows = np.ascontiguousarray(windows, dtype="float32")
    if windows.ndim == 2:
        array = pa.FixedSizeListArray.from_arrays(pa.array(windows.reshape(-1)), windows.shape[1])
    else:
        array = pa.FixedShapeTensorArray.from_numpy_ndarray(windows)
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def column_windows(column: pd.Series) -> np.ndarray:
    """A window column back as one float32 array (zero-copy from Arrow where the data is contiguous)."""
    import pyarrow as pa

    values = column.array
    if hasattr(values, "__arrow_array__"):
        array = values.__arrow_array__()
        array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
        if isinstance(array, pa.FixedShapeTensorArray):
            return array.to_numpy_ndarray()
        width = array.type.list_size
        return array.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
    return np.stack(column.to_numpy()).astype("float32")  # read without the Arrow type mapping




def to_table(frame: pd.DataFrame):
    """A window table as a pyarrow Table (window columns stay fixed-size lists / tensors), attrs in its schema."""
    import json

    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.replace_schema_metadata({**(table.schema.metadata or {}), ATTRS_KEY: json.dumps(frame.attrs).encode()})


def from_table(table) -> pd.DataFrame:
    """The Table back as a DataFrame whose window columns keep their Arrow type (no per-row arrays)."""
    import json

    import pyarrow as pa

    def keep_arrow(dtype: pa.DataType):
        tensor = isinstance(dtype, pa.FixedShapeTensorType)
        return pd.ArrowDtype(dtype) if tensor or pa.types.is_fixed_size_list(dtype) else None

    if isinstance(table, pd.DataFrame):
        return table
    frame = table.to_pandas(types_mapper=keep_arrow)
    frame.attrs = json.loads((table.schema.metadata or {}).get(ATTRS_KEY, b"{}"))
    return frame


def build_windows(raw: pd.DataFrame, recipe: SeriesRecipe, source: str = "") -> pd.DataFrame:
    """Raw time-indexed table -> one row per target: window, target, times, split; fitted state in attrs."""
    missing = [c for c in {*recipe.values, recipe.target, TIME} if c not in raw.columns]
    if missing:
        raise DataError(source, f"missing column(s) {sorted(missing)!r} needed by the window recipe")
    numeric = raw.set_index(TIME).select_dtypes("number").astype("float64")
    if recipe.transform == "percent_change":  # over every numeric column, as the book (its dropna follows)
        numeric = percent_change(numeric)
    series = numeric[list(dict.fromkeys([*recipe.values, recipe.target]))]
    nulls = series.isna().any(axis=1)
    if nulls.any():
        raise DataError(source, f"time {series.index[int(np.flatnonzero(nulls.to_numpy())[0])]}: missing value in "
                                f"{list(series.columns)}")
    split = chronological_split(series.index, recipe.split_date)
    train_target = series.loc[split == "train", recipe.target].to_numpy()
    if not len(train_target):
        raise DataError(source, f"no rows at or before the split date {recipe.split_date}")
    scaling = fit_scaling(train_target, recipe.scaling)
    inputs = series[list(recipe.values)].to_numpy("float32")
    parts = []
    for name in ("train", "test"):
        rows = np.flatnonzero(split == name)  # a contiguous block: windows never reach across the split
        block = inputs[rows] if len(recipe.values) > 1 else inputs[rows, 0]
        windows, positions = lagged_windows(block, recipe.window, recipe.start_lag)
        targets = series[recipe.target].to_numpy()[rows][positions]
        parts.append(pd.DataFrame({
            TIME: series.index[rows][positions],
            WINDOW_START: series.index[rows][positions - recipe.start_lag - recipe.window + 1],
            WINDOW: windows_column(windows),
            TARGET: (targets >= 0).astype("int64") if recipe.task == "binary" else targets.astype("float32"),
            SPLIT_COLUMN: name,
        }))
    frame = pd.concat(parts, ignore_index=True)
    frame[SPLIT_COLUMN] = pd.Categorical(frame[SPLIT_COLUMN], categories=["train", "test"])
    frame.attrs.update({
        "kind": "windows", "source": source, "task": recipe.task,
        "classes": list(recipe.classes) if recipe.classes else None,
        "values": list(recipe.values), "target": recipe.target, "window": recipe.window,
        "start_lag": recipe.start_lag, "n_features": len(recipe.values), "transform": recipe.transform,
        "split_date": str(pd.Timestamp(recipe.split_date)),
        "split_rule": "train: time <= split_date (the book's df.loc[:split_date]); test: time > split_date; "
                      "windows are built within each part",
        "scaling": list(scaling) if scaling else None,
        "scaling_kind": (("fixed" if isinstance(recipe.scaling, tuple) else recipe.scaling.kind)
                         if recipe.scaling is not None else None),
        "series_rows": {"train": int((split == "train").sum()), "test": int((split == "test").sum())},
        "time_range": {name: [str(series.index[split == name].min()), str(series.index[split == name].max())]
                       for name in ("train", "test") if (split == name).any()},
        "note": recipe.note,
    })
    return frame


def build_sequences(raw: pd.DataFrame, label: str, test_size: float, random_state: int,
                    source: str = "") -> pd.DataFrame:
    """The sequence-classification table: raw sequence, the book's engineered features, label, split.

    std = X.std(axis=1) and std_diff = np.diff(X, axis=1).std(axis=1) (pandas/numpy defaults as the
    book computes them: sample std for the first, population std for the second).
    """
    value_columns = [c for c in raw.columns if c != label]
    x = raw[value_columns].to_numpy("float64")
    labels = raw[label].astype("int64").to_numpy()
    frame = pd.DataFrame({
        WINDOW: windows_column(x),
        "std": x.std(axis=1, ddof=1).astype("float32"),
        "std_diff": np.diff(x, axis=1).std(axis=1).astype("float32"),
        TARGET: labels,
        SPLIT_COLUMN: pd.Categorical(assign_split(len(x), test_size, random_state), categories=["train", "test"]),
    })
    frame.attrs.update({
        "kind": "sequences", "source": source, "task": "binary", "classes": ["normal", "anomaly"],
        "target": label, "window": len(value_columns), "n_features": 1, "scaling": None,
        "engineered": {"std": "X.std(axis=1) (ddof=1)", "std_diff": "np.diff(X, axis=1).std(axis=1) (ddof=0)"},
        "split": {"test_size": test_size, "random_state": random_state},
    })
    return frame


def sequence_stats(x: np.ndarray) -> np.ndarray:
    """The engineered (std, std_diff) pair for raw sequences, as build_sequences computes it."""
    x = np.asarray(x, dtype="float64")
    return np.stack([x.std(axis=1, ddof=1), np.diff(x, axis=1).std(axis=1)], axis=1).astype("float32")


def split_rows(frame: pd.DataFrame, split: str | None, limit: int = 0, tail: bool = False) -> pd.DataFrame:
    """The rows of one split (None: all), in time order; `limit` keeps the first (or last) N of them."""
    rows = frame if split is None else frame[frame[SPLIT_COLUMN] == split]
    if limit and len(rows) > limit:
        rows = rows.iloc[-limit:] if tail else rows.iloc[:limit]
    return rows


def window_leaks(frame: pd.DataFrame) -> int:
    """How many windows have their oldest value and their target on different sides of the split date."""
    if WINDOW_START not in frame.columns:
        return 0
    split_at = pd.Timestamp(frame.attrs["split_date"])
    return int(((frame[WINDOW_START] <= split_at) != (frame[TIME] <= split_at)).sum())


def attrs_summary(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The attrs a person wants to see as metadata (everything JSON-friendly and short)."""
    keys = ("task", "values", "target", "window", "start_lag", "split_date", "scaling", "scaling_kind",
            "transform", "series_rows", "time_range", "split")
    return {k: attrs[k] for k in keys if k in attrs}
