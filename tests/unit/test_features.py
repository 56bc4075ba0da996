"""core.features: one-hot, split, scaling and the feature recipe, checked against sklearn."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.features import (
    SPLIT_COLUMN,
    Scaling,
    TabularRecipe,
    apply_scaling,
    assign_split,
    build_features,
    one_hot,
    raw_rows,
    safe_name,
    scaling_vectors,
    xy,
)

# ---------------------------------------------------------------- one_hot


def test_one_hot_uses_the_fixed_category_list():
    values = pd.Series(["b", "a", "b"], name="letter", index=[10, 11, 12])
    encoded = one_hot(values, ["a", "b", "c"], prefix="letter")

    assert list(encoded.columns) == ["letter_a", "letter_b", "letter_c"]  # 'c' absent from data, still a column
    assert list(encoded.index) == [10, 11, 12]
    assert all(encoded.dtypes == np.float32)
    np.testing.assert_array_equal(encoded.to_numpy(), [[0, 1, 0], [1, 0, 0], [0, 1, 0]])


def test_one_hot_integer_categories():
    values = pd.Series([3, 1, 2, 3], name="Pclass", dtype="Int64")
    encoded = one_hot(values, (1, 2, 3), prefix="Pclass")
    assert list(encoded.columns) == ["Pclass_1", "Pclass_2", "Pclass_3"]
    np.testing.assert_array_equal(encoded.to_numpy().argmax(axis=1), [2, 0, 1, 2])


def test_one_hot_unknown_category_is_a_data_error():
    values = pd.Series(["a", "zebra", "b"], name="letter")
    with pytest.raises(DataError) as info:
        one_hot(values, ["a", "b"], prefix="letter", source="raw/letters")
    message = str(info.value)
    assert message.startswith("raw/letters: ")
    assert "'letter'" in message and "'zebra'" in message
    assert "['a', 'b']" in message


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA])
def test_one_hot_missing_value_encodes_as_zeros(missing):
    values = pd.Series(["C", missing, "S"], name="Embarked", dtype="string")
    encoded = one_hot(values, ("C", "Q", "S"), prefix="Embarked")
    np.testing.assert_array_equal(encoded.to_numpy(), [[1, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_one_hot_missing_value_object_dtype():
    values = pd.Series(["C", np.nan, "Q"], name="Embarked", dtype=object)
    encoded = one_hot(values, ("C", "Q", "S"), prefix="Embarked")
    np.testing.assert_array_equal(encoded.sum(axis=1).to_numpy(), [1, 0, 1])


# ---------------------------------------------------------------- assign_split


@pytest.mark.parametrize("n_rows,test_size,random_state", [(10, 0.2, 42), (47, 0.2, 42), (1000, 0.3, 0),
                                                            (150, 0.25, 7), (33, 5, 3)])
def test_assign_split_matches_train_test_split(n_rows, test_size, random_state):
    split = assign_split(n_rows, test_size, random_state)
    train_idx, test_idx = train_test_split(np.arange(n_rows), test_size=test_size, random_state=random_state)
    assert set(np.flatnonzero(split == "test")) == set(test_idx)
    assert set(np.flatnonzero(split == "train")) == set(train_idx)


def test_assign_split_stratified_matches_train_test_split():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    rng = np.random.default_rng(1)
    labels = rng.permutation(labels)
    split = assign_split(len(labels), 0.2, 0, stratify=labels)
    _, test_idx = train_test_split(np.arange(len(labels)), test_size=0.2, random_state=0, stratify=labels)
    assert set(np.flatnonzero(split == "test")) == set(test_idx)
    # and it is stratified: class shares in the test split follow the whole
    assert np.bincount(labels[split == "test"]).tolist() == [10, 6, 4]
    # it differs from the unstratified partition (so the stratify argument is really used)
    assert not np.array_equal(split, assign_split(len(labels), 0.2, 0))


def test_assign_split_without_test_size_is_all_train():
    assert set(assign_split(12, None, 42)) == {"train"}
    assert set(assign_split(12, 0, 42)) == {"train"}


# ---------------------------------------------------------------- Scaling


def test_scaling_standard_is_population_std_as_sklearn():
    values = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    offset, scale = Scaling("standard").fit(values)
    sk = StandardScaler().fit(values.reshape(-1, 1))
    assert offset == pytest.approx(sk.mean_[0])
    assert scale == pytest.approx(sk.scale_[0])
    assert scale != pytest.approx(values.std(ddof=1))


def test_scaling_minmax_as_sklearn():
    values = np.array([3.0, -1.0, 7.0, 2.0])
    offset, scale = Scaling("minmax").fit(values)
    sk = MinMaxScaler().fit(values.reshape(-1, 1))
    assert offset == pytest.approx(sk.data_min_[0]) == -1.0
    assert scale == pytest.approx(sk.data_range_[0]) == 8.0


def test_scaling_fixed_ignores_the_data():
    assert Scaling("fixed", 1000.0).fit(np.array([1.0, 5.0, 9.0])) == (0.0, 1000.0)
    assert Scaling("fixed", 10.0).fit(np.array([-3.0])) == (0.0, 10.0)


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_scaling_of_a_constant_column_does_not_divide_by_zero(kind):
    offset, scale = Scaling(kind).fit(np.full(5, 3.0))
    assert offset == 3.0 and scale == 1.0


def test_scaling_unknown_kind():
    with pytest.raises(ValueError, match="unknown scaling kind"):
        Scaling("robust").fit(np.arange(3.0))  # type: ignore[arg-type]


# ---------------------------------------------------------------- build_features


def _raw(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = rng.normal(50, 10, n)
    c[[1, 6, 13, 27]] = np.nan
    return pd.DataFrame({
        "a": rng.normal(10, 3, n),
        "b": rng.uniform(-5, 5, n),
        "c": c,
        "colour": pd.Series(rng.choice(["red", "green", "blue"], n), dtype="string"),
        "grade": pd.Series(rng.choice([1, 2, 3], n), dtype="Int64"),
        "label": rng.choice(["no", "yes"], n),
        "ignored": np.arange(n),
    })


RECIPE = TabularRecipe(numeric=("a", "b", "c"), categorical={"colour": ("red", "green", "blue"), "grade": (1, 2, 3)},
                       impute_median=("c",), target="label", task="binary", classes=("no", "yes"),
                       scaling={"a": Scaling("standard"), "b": Scaling("minmax"), "c": Scaling("standard")},
                       test_size=0.25, random_state=3)


def test_build_features_layout_and_dtypes():
    raw = _raw()
    frame = build_features(raw, RECIPE, source="raw/test")
    features = ["a", "b", "c", "c_was_missing", "colour_red", "colour_green", "colour_blue",
                "grade_1", "grade_2", "grade_3"]
    assert frame.attrs["feature_columns"] == features
    assert list(frame.columns) == [*features, "label", SPLIT_COLUMN]
    assert all(frame[c].dtype == np.float32 for c in features)
    assert "ignored" not in frame.columns
    np.testing.assert_array_equal(frame["label"].to_numpy(), (raw["label"] == "yes").astype(int).to_numpy())
    np.testing.assert_allclose(frame["a"], raw["a"].astype("float32"))  # stored unscaled
    # the split is the sklearn partition for the recipe's test_size / random_state
    _, test_idx = train_test_split(np.arange(len(raw)), test_size=0.25, random_state=3)
    assert set(np.flatnonzero(frame[SPLIT_COLUMN] == "test")) == set(test_idx)


def test_build_features_attrs():
    frame = build_features(_raw(), RECIPE)
    attrs = frame.attrs
    assert attrs["target"] == "label"
    assert attrs["target_columns"] == ["label"]
    assert attrs["task"] == "binary"
    assert attrs["classes"] == ["no", "yes"]
    assert attrs["raw_inputs"] == ["a", "b", "c", "colour", "grade"]
    assert attrs["numeric"] == ["a", "b", "c"]
    assert attrs["categorical"] == {"colour": ["red", "green", "blue"], "grade": [1, 2, 3]}
    assert set(attrs["imputation"]) == {"c"}
    assert set(attrs["scaling"]) == {"a", "b", "c"}
    assert attrs["target_scale"] is None
    assert attrs["split"] == {"test_size": 0.25, "random_state": 3, "stratify": False}
    import json

    json.dumps(attrs)  # the fitted state must be JSON-serialisable (it goes into the parquet metadata)


def test_build_features_fits_scaling_and_imputation_on_train_rows_only():
    raw = _raw()
    frame = build_features(raw, RECIPE)
    train = (frame[SPLIT_COLUMN] == "train").to_numpy()
    attrs = frame.attrs

    a_train = raw["a"].to_numpy()[train].astype("float32").astype("float64")
    assert attrs["scaling"]["a"] == pytest.approx((a_train.mean(), a_train.std()))
    b_train = raw["b"].to_numpy()[train].astype("float32").astype("float64")
    assert attrs["scaling"]["b"] == pytest.approx((b_train.min(), b_train.max() - b_train.min()))
    median = np.nanmedian(raw["c"].to_numpy()[train])
    assert attrs["imputation"]["c"] == pytest.approx(median)
    # and those differ from statistics over all rows: the check above can tell the two apart
    assert attrs["imputation"]["c"] != pytest.approx(np.nanmedian(raw["c"]))
    assert attrs["scaling"]["a"][0] != pytest.approx(raw["a"].mean())


def test_changing_a_test_row_does_not_change_fitted_parameters():
    raw = _raw()
    before = build_features(raw, RECIPE)
    test_rows = np.flatnonzero(before[SPLIT_COLUMN] == "test")
    train_rows = np.flatnonzero(before[SPLIT_COLUMN] == "train")
    row = int(test_rows[0])

    changed = raw.copy()
    changed.loc[row, ["a", "b", "c"]] = [1e6, -1e6, 1e6]
    after = build_features(changed, RECIPE)

    assert after["a"].iloc[row] == 1e6  # the change did reach the features
    np.testing.assert_array_equal(after[SPLIT_COLUMN], before[SPLIT_COLUMN])
    assert after.attrs["scaling"] == before.attrs["scaling"]
    assert after.attrs["imputation"] == before.attrs["imputation"]

    # the same change on a train row does move them (so the comparison above is meaningful)
    changed = raw.copy()
    changed.loc[int(train_rows[0]), ["a", "b"]] = [1e6, -1e6]
    lowest_train_c = int(train_rows[np.nanargmin(raw["c"].to_numpy()[train_rows])])
    changed.loc[lowest_train_c, "c"] = 1e6  # the smallest train value becomes the largest: the median moves
    moved = build_features(changed, RECIPE)
    assert moved.attrs["scaling"]["a"] != before.attrs["scaling"]["a"]
    assert moved.attrs["scaling"]["b"] != before.attrs["scaling"]["b"]
    assert moved.attrs["imputation"]["c"] != before.attrs["imputation"]["c"]


def test_median_imputation_fills_with_train_median_and_flags():
    raw = _raw()
    frame = build_features(raw, RECIPE)
    missing = raw["c"].isna().to_numpy()
    assert missing.sum() == 4
    np.testing.assert_array_equal(frame["c_was_missing"].to_numpy(), missing.astype("float32"))
    np.testing.assert_allclose(frame.loc[missing, "c"], np.float32(frame.attrs["imputation"]["c"]))
    np.testing.assert_allclose(frame.loc[~missing, "c"], raw.loc[~missing, "c"].astype("float32"))
    assert not frame[frame.attrs["feature_columns"]].isna().any().any()


def test_one_hot_target_columns_for_softmax_models():
    raw = pd.DataFrame({"x": np.arange(12.0), "species": ["b", "a", "c"] * 4})
    recipe = TabularRecipe(numeric=("x",), target="species", task="multiclass", classes=("c", "a", "b"),
                           target_one_hot=True, test_size=None)
    frame = build_features(raw, recipe)
    assert frame.attrs["target_columns"] == ["species_c", "species_a", "species_b"]
    assert frame.attrs["classes"] == ["c", "a", "b"]
    # labels follow the recipe's class order, one-hot columns agree with them
    np.testing.assert_array_equal(frame["species"].to_numpy()[:3], [2, 1, 0])
    one_hot_target = frame[frame.attrs["target_columns"]].to_numpy()
    np.testing.assert_array_equal(one_hot_target.argmax(axis=1), frame["species"].to_numpy())
    np.testing.assert_array_equal(one_hot_target.sum(axis=1), 1)
    assert set(frame[SPLIT_COLUMN]) == {"train"}


def test_classes_default_to_sorted_target_values():
    raw = pd.DataFrame({"x": np.arange(10.0), "y": [3, 1, 2, 1, 3, 2, 1, 1, 2, 3]})
    frame = build_features(raw, TabularRecipe(numeric=("x",), target="y", task="multiclass", test_size=None))
    assert frame.attrs["classes"] == [1, 2, 3]
    np.testing.assert_array_equal(frame["y"], raw["y"] - 1)


def test_regression_target_and_target_scale():
    raw = pd.DataFrame({"sqft": [1000.0, 2000.0, 1500.0, 3000.0, 2500.0],
                        "price": [100_000.0, 200_000.0, 150_000.0, 300_000.0, 250_000.0]})
    recipe = TabularRecipe(numeric=("sqft",), target="price", task="regression", target_scale=1e5,
                           scaling={"sqft": Scaling("fixed", 1000.0)}, test_size=None)
    frame = build_features(raw, recipe)
    assert frame.attrs["classes"] is None
    assert frame.attrs["scaling"] == {"sqft": (0.0, 1000.0)}
    _, y = xy(frame)
    np.testing.assert_allclose(y, [1.0, 2.0, 1.5, 3.0, 2.5])  # price / 1e5 for training
    _, y_raw = xy(frame, scale_target=False)
    np.testing.assert_allclose(y_raw, raw["price"])
    np.testing.assert_allclose(apply_scaling(frame, frame.attrs)["sqft"], raw["sqft"] / 1000.0)


def test_build_features_errors():
    raw = _raw()
    with pytest.raises(DataError, match=r"raw/t: missing column\(s\) \['grade'\]"):
        build_features(raw.drop(columns=["grade"]), RECIPE, source="raw/t")

    bad_target = raw.copy()
    bad_target.loc[5, "label"] = "maybe"
    with pytest.raises(DataError, match=r"target 'label' has values outside .*'maybe'"):
        build_features(bad_target, RECIPE, source="raw/t")

    missing_b = raw.copy()
    missing_b.loc[8, "b"] = np.nan  # 'b' has no imputation configured
    with pytest.raises(DataError, match=r"column 'b', data row 9: missing value and no imputation"):
        build_features(missing_b, RECIPE, source="raw/t")

    unknown_colour = raw.copy()
    unknown_colour["colour"] = unknown_colour["colour"].replace("red", "purple")
    with pytest.raises(DataError, match="purple"):
        build_features(unknown_colour, RECIPE, source="raw/t")

    with pytest.raises(ValueError, match="unknown feature column 'zzz'"):
        build_features(raw, TabularRecipe(numeric=("a",), target="label", task="binary",
                                          scaling={"zzz": Scaling("standard")}))


# ---------------------------------------------------------------- apply_scaling / scaling_vectors


def test_apply_scaling_equals_sklearn_scalers_fitted_on_train_rows():
    raw = _raw(60, seed=5)
    frame = build_features(raw, RECIPE)
    train = (frame[SPLIT_COLUMN] == "train").to_numpy()
    scaled = apply_scaling(frame, frame.attrs)

    standard = StandardScaler().fit(frame.loc[train, ["a", "c"]].to_numpy("float64"))
    np.testing.assert_allclose(scaled[["a", "c"]].to_numpy(),
                               standard.transform(frame[["a", "c"]].to_numpy("float64")), rtol=1e-5, atol=1e-5)
    minmax = MinMaxScaler().fit(frame.loc[train, ["b"]].to_numpy("float64"))
    np.testing.assert_allclose(scaled[["b"]].to_numpy(), minmax.transform(frame[["b"]].to_numpy("float64")),
                               rtol=1e-5, atol=1e-5)
    # unscaled columns (flags, one-hot) pass through unchanged
    for column in ["c_was_missing", "colour_red", "grade_3"]:
        np.testing.assert_array_equal(scaled[column].to_numpy(), frame[column].to_numpy("float64"))
    # train rows of a standardised column have mean 0 and std 1, the test rows do not exactly
    assert scaled.loc[train, "a"].mean() == pytest.approx(0, abs=1e-5)
    assert scaled.loc[train, "a"].std(ddof=0) == pytest.approx(1, abs=1e-5)


def test_scaling_vectors_identity_where_unscaled():
    frame = build_features(_raw(), RECIPE)
    mean, variance = scaling_vectors(frame.attrs)
    assert mean.shape == variance.shape == (len(frame.attrs["feature_columns"]),)
    index = frame.attrs["feature_columns"].index("colour_red")
    assert mean[index] == 0 and variance[index] == 1
    offset, scale = frame.attrs["scaling"]["b"]
    assert mean[1] == pytest.approx(offset) and variance[1] == pytest.approx(scale**2, rel=1e-6)


# ---------------------------------------------------------------- xy / raw_rows


def test_xy_selects_split_and_target_form():
    raw = pd.DataFrame({"x1": np.arange(20.0), "x2": -np.arange(20.0), "k": ["p", "q"] * 10})
    recipe = TabularRecipe(numeric=("x1", "x2"), target="k", task="multiclass", classes=("p", "q"),
                           target_one_hot=True, test_size=0.25, random_state=1)
    frame = build_features(raw, recipe)
    test = (frame[SPLIT_COLUMN] == "test").to_numpy()

    x_test, y_test = xy(frame, "test")
    assert x_test.dtype == np.float32 and x_test.shape == (5, 2)
    np.testing.assert_array_equal(x_test[:, 0], raw["x1"].to_numpy()[test])
    np.testing.assert_array_equal(y_test, (raw["k"] == "q").astype(int).to_numpy()[test])
    x_train, y_train = xy(frame, "train", one_hot_target=True)
    assert x_train.shape == (15, 2) and y_train.shape == (15, 2)
    np.testing.assert_array_equal(y_train.argmax(axis=1), (raw["k"] == "q").astype(int).to_numpy()[~test])
    x_all, _ = xy(frame)
    assert x_all.shape == (20, 2)


def test_raw_rows_gives_the_values_a_consumer_sends():
    raw = _raw()
    raw.loc[2, "colour"] = pd.NA
    frame = build_features(raw, RECIPE)
    test = (frame[SPLIT_COLUMN] == "test").to_numpy()

    rows = raw_rows(raw, frame, "test")
    assert list(rows) == ["a", "b", "c", "colour", "grade"]
    assert rows["a"].dtype == np.float32
    np.testing.assert_allclose(rows["a"], raw["a"].to_numpy()[test].astype("float32"))
    np.testing.assert_array_equal(np.isnan(rows["c"]), raw["c"].isna().to_numpy()[test])  # NaN stays NaN
    assert rows["grade"].dtype == np.int64
    np.testing.assert_array_equal(rows["grade"], raw["grade"].to_numpy()[test])
    assert all(isinstance(v, str) for v in rows["colour"])
    np.testing.assert_array_equal(rows["colour"], raw["colour"].fillna("").to_numpy()[test])
    all_rows = raw_rows(raw, frame)
    assert len(all_rows["a"]) == len(raw)
    assert all_rows["colour"][2] == ""  # a missing category is sent as an empty string


# ---------------------------------------------------------------- safe_name


@pytest.mark.parametrize("column,expected", [
    ("Time (min)", "time_min"), ("sqft", "sqft"), ("OD280-OD315_of_diluted_wines", "od280_od315_of_diluted_wines"),
    ("2nd", "x_2nd"), ("  Age  ", "age"), ("Work_accident", "work_accident"), ("***", "x_"),
])
def test_safe_name(column, expected):
    assert safe_name(column) == expected


def test_safe_names_of_every_catalog_column_are_valid_and_distinct():
    for entry in datasets.CATALOG.values():
        names = [safe_name(c) for c in entry.column_names]
        assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", n) for n in names), (entry.name, names)
        assert len(set(names)) == len(names), entry.name
