"""core.timeseries: readers (CANSIM notes, bz2 / gz / json.gz), chronological split, train-only scaling,
vectorised windows against a naive loop, no window across the split, Arrow window columns."""

from __future__ import annotations

import bz2
import gzip
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core import timeseries as ts
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.features import Scaling
from ztdl_pipeline.resources.io import read_parquet, write_table

# ------------------------------------------------------------------ windows


def naive_windows(values, window: int, start_lag: int):
    """The definition, one target at a time: the `window` values ending `start_lag` steps before it."""
    xs, ys = [], []
    for target in range(len(values)):
        first = target - start_lag - window + 1
        if first >= 0:
            xs.append([values[first + k] for k in range(window)])
            ys.append(target)
    return np.array(xs), np.array(ys)


@pytest.mark.parametrize("n,window,start_lag", [(50, 1, 1), (50, 24, 1), (120, 12, 36), (30, 5, 3), (10, 4, 6),
                                                (5, 5, 1)])
def test_windows_equal_a_naive_loop(n, window, start_lag):
    values = np.random.default_rng(n + window).normal(size=n).astype("float32")
    windows, positions = ts.lagged_windows(values, window, start_lag)
    expected_x, expected_positions = naive_windows(values, window, start_lag)
    assert windows.shape == (max(0, n - start_lag - window + 1), window)
    np.testing.assert_array_equal(positions, expected_positions)
    if len(expected_x):
        np.testing.assert_array_equal(windows, expected_x)
        # the most recent value of each window is exactly `start_lag` steps before its target
        np.testing.assert_array_equal(windows[:, -1], values[positions - start_lag])


def test_multivariate_windows_keep_time_then_features():
    values = np.arange(40, dtype="float32").reshape(20, 2)  # 20 steps, 2 features
    windows, positions = ts.lagged_windows(values, 4, 1)
    expected, _ = naive_windows(list(values), 4, 1)
    assert windows.shape == (16, 4, 2)
    np.testing.assert_array_equal(windows, expected)
    assert positions[0] == 4


def test_windows_match_the_books_pandas_shift_loop():
    """The book's create_lagged_Xy_win: T_{lag} columns from data.shift(lag), oldest first, then dropna."""
    series = pd.DataFrame({"v": np.random.default_rng(1).normal(size=60)})
    start_lag, window = 2, 5
    columns = {f"T_{start_lag + s - 1}": series["v"].shift(start_lag + s - 1) for s in range(window, 0, -1)}
    book_x = pd.DataFrame(columns).dropna()
    book_y = series.loc[book_x.index, "v"]
    windows, positions = ts.lagged_windows(series["v"].to_numpy(), window, start_lag)
    np.testing.assert_allclose(windows, book_x.to_numpy())
    np.testing.assert_allclose(series["v"].to_numpy()[positions], book_y.to_numpy())


def test_windows_reject_nonsense():
    with pytest.raises(ValueError):
        ts.lagged_windows(np.arange(10.0), 0, 1)
    assert ts.lagged_windows(np.arange(3.0), 4, 1)[0].shape == (0, 4)


# ------------------------------------------------------------------ split, scaling, leakage


def _hourly(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2013-12-27 01:00", periods=n, freq="h")
    return pd.DataFrame({ts.TIME: times, "load": 15000 + 2000 * np.sin(np.arange(n) / 4) + rng.normal(0, 100, n)})


def test_chronological_split_puts_the_split_instant_in_train_only():
    times = pd.to_datetime(["2013-12-31 23:00", "2014-01-01 00:00", "2014-01-01 01:00"])
    assert list(ts.chronological_split(times, "2014-01-01")) == ["train", "train", "test"]


def test_minmax_scaling_is_fitted_on_train_rows_only():
    raw = _hourly()
    raw.loc[raw[ts.TIME] > "2014-01-01", "load"] += 50000  # a test period far outside the train range
    recipe = ts.SeriesRecipe(values=("load",), target="load", split_date="2014-01-01", window=6,
                             scaling=Scaling("minmax"))
    frame = ts.build_windows(raw, recipe)
    train = raw.loc[raw[ts.TIME] <= "2014-01-01", "load"]
    offset, scale = frame.attrs["scaling"]
    assert offset == pytest.approx(train.min()) and offset + scale == pytest.approx(train.max())
    assert offset + scale < raw["load"].max() - 40000  # the test values played no part


def test_no_window_crosses_the_split_and_targets_stay_on_their_side():
    raw = _hourly()
    recipe = ts.SeriesRecipe(values=("load",), target="load", split_date="2014-01-01", window=24, start_lag=3,
                             scaling=(10000.0, 5000.0))
    frame = ts.build_windows(raw, recipe)
    split_at = pd.Timestamp("2014-01-01")
    assert ts.window_leaks(frame) == 0
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    assert (train[ts.TIME] <= split_at).all() and (test[ts.WINDOW_START] > split_at).all()
    # each part loses exactly start_lag + window - 1 leading rows (windows are cut within the part)
    n_train = int((raw[ts.TIME] <= split_at).sum())
    assert len(train) == n_train - 3 - 24 + 1 and len(test) == len(raw) - n_train - 3 - 24 + 1
    # every window holds the raw values that precede its target, in time order
    series = raw.set_index(ts.TIME)["load"]
    row = test.iloc[5]
    expected = series.loc[row[ts.WINDOW_START]:row[ts.TIME] - pd.Timedelta(hours=3)].to_numpy("float32")
    np.testing.assert_array_equal(ts.column_windows(test[ts.WINDOW])[5], expected)
    assert row[ts.TARGET] == pytest.approx(series.loc[row[ts.TIME]])
    assert frame.attrs["scaling"] == [10000.0, 5000.0]  # the book's fixed Ontario scaling


def test_window_leak_counter_sees_a_window_that_crosses():
    frame = ts.build_windows(_hourly(), ts.SeriesRecipe(values=("load",), target="load", split_date="2014-01-01",
                                                        window=4))
    frame.loc[frame.index[-1], ts.WINDOW_START] = pd.Timestamp("2013-12-31 20:00")  # tamper with one test row
    assert ts.window_leaks(frame) == 1


def test_percent_change_and_direction_labels_as_the_book():
    times = pd.date_range("2017-01-01", periods=8, freq="30min")
    raw = pd.DataFrame({ts.TIME: times, "close": [10, 11, 11, 0, 5, 6, 3, 3], "volume": [1, 0, 0, 2, 2, 2, 1, 1],
                        "weightedAverage": [10, 12, 11, 11, 12, 10, 10, 11]}).astype({"close": float})
    change = ts.percent_change(raw.set_index(ts.TIME))
    # volume 0 -> 0 is NaN and dropped (the book's dropna); close 0 -> 5 is +inf -> 0
    assert ts.TIME not in change.columns and len(change) == 6
    assert change["close"].iloc[0] == pytest.approx(10.0) and change.loc[times[4], "close"] == 0.0
    frame = ts.build_windows(raw, ts.SeriesRecipe(values=("close",), target="weightedAverage",
                                                  split_date="2017-01-02", window=2, transform="percent_change",
                                                  task="binary", classes=("down", "up")))
    assert frame[ts.TARGET].tolist() == [int(v >= 0) for v in change["weightedAverage"].iloc[2:]]


# ------------------------------------------------------------------ Arrow window columns


def test_window_columns_round_trip_through_parquet_without_per_row_arrays(tmp_path):
    raw = _hourly()
    frame = ts.build_windows(raw, ts.SeriesRecipe(values=("load",), target="load", split_date="2014-01-01",
                                                  window=24, scaling=Scaling("minmax")))
    write_table(ts.to_table(frame), tmp_path / "w.parquet")
    table = read_parquet(tmp_path / "w.parquet")
    assert pa.types.is_fixed_size_list(table.schema.field(ts.WINDOW).type)
    assert table.schema.field(ts.WINDOW).type.list_size == 24
    back = ts.from_table(table)
    assert back.attrs == json.loads(json.dumps(frame.attrs))
    np.testing.assert_array_equal(ts.column_windows(back[ts.WINDOW]), ts.column_windows(frame[ts.WINDOW]))
    tensors = ts.windows_column(np.arange(24, dtype="float32").reshape(2, 4, 3))
    assert isinstance(tensors.dtype.pyarrow_dtype, pa.FixedShapeTensorType)
    np.testing.assert_array_equal(ts.column_windows(tensors), np.arange(24).reshape(2, 4, 3))


def test_engineered_sequence_features_as_the_book():
    x = np.random.default_rng(3).normal(size=(6, 200))
    raw = pd.DataFrame(x, columns=[f"t_{i}" for i in range(200)])
    raw.insert(0, "anomaly", [True, False] * 3)
    frame = ts.build_sequences(raw, "anomaly", test_size=0.25, random_state=0)
    np.testing.assert_allclose(frame["std"], pd.DataFrame(x).std(axis=1), rtol=1e-5)  # pandas: ddof=1
    np.testing.assert_allclose(frame["std_diff"], np.diff(x, axis=1).std(axis=1), rtol=1e-5)  # numpy: ddof=0
    assert frame[ts.TARGET].tolist() == [1, 0] * 3
    assert (frame["split"] == "test").sum() == 2  # sklearn's train_test_split rounds the test share up


# ------------------------------------------------------------------ readers


def _entry(name):
    return datasets.get(name)


def test_cansim_reader_strips_the_notes_above_and_below(mirror):
    entry = _entry("retail_sales")
    frame = ts.read_cansim(mirror / entry.filename, entry.columns)
    lines = (mirror / entry.filename).read_text().splitlines()
    data_lines = [line for line in lines if line[:3] in {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                                         "Sep", "Oct", "Nov", "Dec"}]
    assert len(frame) == len(data_lines) == 313
    assert frame[ts.TIME].iloc[0] == pd.Timestamp("1991-01-31")  # month end, as the book's + MonthEnd(1)
    assert frame["Unadjusted"].iloc[0] == 12588862 and frame["Seasonally adjusted"].iloc[-1] == 45952103


def test_cansim_reader_on_a_small_table_with_other_notes(tmp_path):
    path = tmp_path / "cansim.csv"
    path.write_text('"Table 1 title"\nSurvey notes:\nsome, more, notes\nAdjustments,Unadjusted,Seasonally adjusted\n'
                    'Jan-2001,10,11\nFeb-2001,12,13\nMar-2001,9,"14"\nFootnotes:\n1,"Quality, Code A"\n\n')
    frame = ts.read_cansim(path, _entry("retail_sales").columns)
    assert frame["Unadjusted"].tolist() == [10, 12, 9]
    assert frame[ts.TIME].tolist() == list(pd.to_datetime(["2001-01-31", "2001-02-28", "2001-03-31"]))
    path.write_text("Adjustments,Unadjusted,Seasonally adjusted\nJan-2001,10,11\nFootnotes:\nFeb-2001,12,13\n")
    with pytest.raises(DataError, match="interrupted"):
        ts.read_cansim(path, _entry("retail_sales").columns)
    path.write_text("Adjustments,Unadjusted,Seasonally adjusted\nJan-2001,10,eleven\n")
    with pytest.raises(DataError, match="'eleven' is not a number"):
        ts.read_cansim(path, _entry("retail_sales").columns)
    path.write_text("just notes\n")
    with pytest.raises(DataError, match="no monthly data rows"):
        ts.read_cansim(path, _entry("retail_sales").columns)


def test_bz2_and_gz_copies_of_the_ontario_series_read_the_same(tmp_path):
    zonal = ("Date,Hour,Total Ontario,Northwest,Northeast,Ottawa,East,Toronto,Essa,Bruce,Southwest,Niagara,West,"
             "Tot Zones,diff\n"
             "31-Dec-15,23,15000,1,1,1,1,1,1,1,1,1,1,15100,100\n"
             "31-Dec-15,24,14000,1,1,1,1,1,1,1,1,1,1,15032,\"1,032\"\n"
             "2016/01/01,1,13000,1,1,1,1,1,1,1,1,1,1,13010,10\n")
    (tmp_path / "z.csv.bz2").write_bytes(bz2.compress(zonal.encode()))
    energy = "Datetime,Total Ontario\n2015-12-31 23:00,15000\n2016-01-01 00:00,14000\n2016-01-01 01:00,13000\n"
    (tmp_path / "e.csv.gz").write_bytes(gzip.compress(energy.encode()))
    a = ts.read_ontario_demand(tmp_path / "z.csv.bz2", _entry("ontario_demand").columns)
    b = ts.read_ontario_energy(tmp_path / "e.csv.gz", _entry("ontario_energy_demand").columns)
    pd.testing.assert_frame_equal(a[[ts.TIME, "Total Ontario"]], b)  # hour 24 is midnight of the next day
    assert a["diff"].tolist() == [100, 1032, 10]


def test_ontario_reader_reports_bad_dates_duplicates_and_corrupt_bz2(tmp_path):
    header = ("Date,Hour,Total Ontario,Northwest,Northeast,Ottawa,East,Toronto,Essa,Bruce,Southwest,Niagara,West,"
              "Tot Zones,diff\n")
    row = ",1,1,1,1,1,1,1,1,1,1,1,1,1\n"
    columns = _entry("ontario_demand").columns
    (tmp_path / "bad.csv.bz2").write_bytes(bz2.compress((header + "01-May-03,1" + row + "May 2 2003,1" + row).encode()))
    with pytest.raises(DataError, match=r"data row 2: 'May 2 2003' is not a date"):
        ts.read_ontario_demand(tmp_path / "bad.csv.bz2", columns)
    (tmp_path / "dup.csv.bz2").write_bytes(bz2.compress((header + "01-May-03,1" + row + "01-May-03,1" + row).encode()))
    with pytest.raises(DataError, match="duplicate or unsorted"):
        ts.read_ontario_demand(tmp_path / "dup.csv.bz2", columns)
    (tmp_path / "cut.csv.bz2").write_bytes(bz2.compress((header + "01-May-03,1" + row * 50).encode())[:40])
    with pytest.raises(DataError, match="cannot be parsed"):
        ts.read_ontario_demand(tmp_path / "cut.csv.bz2", columns)


def test_poloniex_json_gz_reader(tmp_path):
    candles = [{"date": 1483228800 + 1800 * i, "high": 1.0 + i, "low": 1.0, "open": 1.0, "close": 1.5,
                "volume": 2.0, "quoteVolume": 1.0, "weightedAverage": 1.2} for i in range(3)]
    (tmp_path / "p.json.gz").write_bytes(gzip.compress(json.dumps(candles).encode()))
    frame = ts.read_poloniex(tmp_path / "p.json.gz", _entry("bitcoin").columns)
    assert frame[ts.TIME].tolist() == list(pd.date_range("2017-01-01", periods=3, freq="30min"))
    assert frame["high"].tolist() == [1.0, 2.0, 3.0]
    (tmp_path / "bad.json.gz").write_bytes(gzip.compress(b'[{"date": 1, "high": '))
    with pytest.raises(DataError, match="cannot be parsed as JSON"):
        ts.read_poloniex(tmp_path / "bad.json.gz", _entry("bitcoin").columns)
    candles[1]["close"] = "n/a"
    (tmp_path / "text.json.gz").write_bytes(gzip.compress(json.dumps(candles).encode()))
    with pytest.raises(DataError, match="'close', data row 2: 'n/a' is not a number"):
        ts.read_poloniex(tmp_path / "text.json.gz", _entry("bitcoin").columns)


def test_monthly_reader_drops_a_notes_footer(tmp_path, mirror):
    entry = _entry("airline_passengers")
    mirrored = ts.read_monthly_csv(mirror / entry.filename, entry.columns)
    assert len(mirrored) == 144 and mirrored["Thousand Passengers"].iloc[0] == 112
    path = tmp_path / "a.csv"
    path.write_text('"Month","Thousand Passengers"\n"1949-01",112\n"1949-02",118\n\n'
                    '"International airline passengers: monthly totals in thousands. Jan 49 ? Dec 60"\n')
    assert ts.read_monthly_csv(path, entry.columns)["Thousand Passengers"].tolist() == [112, 118]


def test_sequence_reader_reads_the_books_bz2_format(tmp_path):
    entry = _entry("sequence_classification")
    x = np.round(np.random.default_rng(0).normal(size=(4, 200)), 4)
    frame = pd.DataFrame(x, columns=[f"t_{i}" for i in range(200)])
    frame.insert(0, "anomaly", [True, False, False, True])
    frame.to_csv(tmp_path / "s.csv.bz2", index=False, compression="bz2")
    back = ts.read_sequences(tmp_path / "s.csv.bz2", entry.columns)
    assert back["anomaly"].tolist() == [True, False, False, True]
    np.testing.assert_allclose(back[[f"t_{i}" for i in range(200)]].to_numpy(), x)
    frame["anomaly"] = ["yes", "no", "no", "yes"]
    frame.to_csv(tmp_path / "bad.csv.bz2", index=False, compression="bz2")
    with pytest.raises(DataError, match="'yes' is not True/False"):
        ts.read_sequences(tmp_path / "bad.csv.bz2", entry.columns)


def test_catalog_entry_without_sha256_is_used_and_its_hash_recorded(tmp_path):
    from ztdl_pipeline.core.schema import sha256_file
    from ztdl_pipeline.resources.data_source import DatasetSource

    entry = _entry("sequence_classification")
    assert entry.sha256 is None
    (tmp_path / "mirror").mkdir()
    frame = pd.DataFrame({"anomaly": [True], **{f"t_{i}": [0.5] for i in range(200)}})
    frame.to_csv(tmp_path / "mirror" / entry.filename, index=False, compression="bz2")
    source = DatasetSource(cache_dir=str(tmp_path / "cache"), mirror_dir=str(tmp_path / "mirror"),
                           allow_download=False)
    _, digest, origin = source.fetch(entry)
    assert origin == "mirror" and digest == sha256_file(tmp_path / "mirror" / entry.filename)
    assert source.fetch(entry)[1:] == (digest, "cache")
    # a catalogued file is still verified
    known = _entry("airline_passengers")
    (tmp_path / "mirror" / known.filename).write_text("Month,Thousand Passengers\n1949-01,1\n")
    with pytest.raises(DataError, match="sha256 mismatch"):
        source.fetch(known)


# ------------------------------------------------------------------ check arithmetic (core/window_checks.py)


def test_window_checks_pass_a_clean_table_and_name_each_fault():
    from ztdl_pipeline.core import window_checks as C

    raw = _hourly()
    raw.loc[raw[ts.TIME] > "2014-01-01", "load"] += 50000
    recipe = ts.SeriesRecipe(values=("load",), target="load", split_date="2014-01-01", window=6,
                             scaling=Scaling("minmax"))
    frame = ts.build_windows(raw, recipe)
    assert C.leakage_problems(frame, recipe.scaling) == []
    assert C.shape_problems(frame) == ([], (6,))
    assert C.row_problems(frame)[0] == [] and C.table_summary(frame)["windows crossing the split"] == 0
    refitted = frame.copy()
    refitted.attrs = {**frame.attrs, "scaling": list(ts.fit_scaling(raw["load"].to_numpy(), Scaling("minmax")))}
    assert [p for p in C.leakage_problems(refitted, recipe.scaling) if "train-only fit" in p]  # fitted on all rows
    crossing = frame.copy()
    crossing.loc[crossing.index[-1], ts.WINDOW_START] = pd.Timestamp("2013-12-31 20:00")
    problems = C.leakage_problems(crossing, recipe.scaling)
    assert "1 window(s) reach across the split date" in problems
    assert C.row_problems(frame[frame["split"] == "train"])[0] == ["the test split is empty"]


def test_sequence_checks_recompute_the_engineered_features_and_the_balance():
    from ztdl_pipeline.core import window_checks as C

    x = np.random.default_rng(3).normal(size=(20, 50))
    raw = pd.DataFrame(x, columns=[f"t_{i}" for i in range(50)])
    raw.insert(0, "anomaly", [True, False] * 10)
    frame = ts.build_sequences(raw, "anomaly", test_size=0.25, random_state=0)
    assert C.engineered_problems(frame)[0] == []
    assert C.balance_problems(frame)[0] == []
    tampered = frame.copy()
    tampered["std"] = tampered["std"] + 1.0
    problems, difference = C.engineered_problems(tampered)
    assert problems and difference == pytest.approx(1.0, rel=1e-5)
    skewed = frame.copy()
    skewed[ts.TARGET] = 1
    assert C.balance_problems(skewed) == (["class 1 is 100.0% of the train windows, outside [10%, 90%]"], 1.0)


def test_two_copies_of_a_series_agree_or_say_where_not():
    from ztdl_pipeline.core import window_checks as C

    raw = _hourly(24)
    assert C.same_series_problems(raw, raw.copy(), "load")[0] == []
    other = raw.copy()
    other.loc[3, "load"] += 1
    problems, compared = C.same_series_problems(raw, other, "load")
    assert problems == ["1 value(s) of load differ"] and compared["differing_values"] == 1
    assert C.same_series_problems(raw, raw.iloc[1:], "load")[0] == ["the two copies have different timestamps"]
