"""core.export: the serving model takes raw values and reproduces the trained model on encoded features;
the SavedModel reloads with plain TensorFlow; published versions are never overwritten."""

from __future__ import annotations

import shutil

import keras
import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.core import export
from ztdl_pipeline.core.features import (
    Scaling,
    TabularRecipe,
    build_features,
    raw_rows,
    safe_name,
    scaling_vectors,
    xy,
)
from ztdl_pipeline.core.models import linear_regression, titanic_fc

tf = pytest.importorskip("tensorflow")

RECIPE = TabularRecipe(numeric=("Age", "Fare (GBP)"), impute_median=("Age",),
                       categorical={"Pclass": (1, 2, 3), "Embarked": ("C", "Q", "S")},
                       scaling={"Age": Scaling("standard"), "Fare (GBP)": Scaling("minmax")},
                       target="Survived", task="multiclass", classes=(0, 1), target_one_hot=True,
                       test_size=0.25, random_state=0)


def _raw(n: int = 64) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    age = rng.uniform(1, 80, n).round(1)
    age[[0, 5, 17, 40]] = np.nan
    embarked = pd.Series(rng.choice(["C", "Q", "S"], n), dtype="string")
    embarked[[3, 21]] = pd.NA
    return pd.DataFrame({
        "Age": age, "Fare (GBP)": rng.uniform(5, 500, n).round(2),
        "Pclass": pd.Series(rng.choice([1, 2, 3], n), dtype="Int64"), "Embarked": embarked,
        "Survived": rng.integers(0, 2, n),
    })


@pytest.fixture(scope="module")
def trained():
    """A small titanic-style model trained for a few epochs, its features and the raw rows."""
    keras.utils.set_random_seed(0)
    raw = _raw()
    frame = build_features(raw, RECIPE)
    model = titanic_fc(len(frame.attrs["feature_columns"]), scaling_vectors(frame.attrs))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y = xy(frame, "train", one_hot_target=True)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    return model, frame, raw


@pytest.fixture(scope="module")
def saved(trained, tmp_path_factory):
    model, frame, _ = trained
    serving, signature = export.serving_model(model, frame.attrs)
    path = export.write_savedmodel(serving, signature, tmp_path_factory.mktemp("export") / "staged")
    return path, signature


def _inputs(raw: pd.DataFrame, frame: pd.DataFrame, split: str | None = None) -> dict[str, np.ndarray]:
    return {safe_name(k): v for k, v in raw_rows(raw, frame, split).items()}


def test_signature_describes_the_raw_inputs(trained):
    model, frame, _ = trained
    _, signature = export.serving_model(model, frame.attrs, unknown_ok=frozenset({"Embarked"}))
    assert signature == {  # what each input accepts: ztdl-serve refuses the rest with a 400
        "age": {"column": "Age", "dtype": "float32", "finite": True, "missing": "NaN, filled with the train median"},
        "fare_gbp": {"column": "Fare (GBP)", "dtype": "float32", "finite": True},
        "pclass": {"column": "Pclass", "dtype": "int64", "vocabulary": [1, 2, 3], "unknown": "reject"},
        "embarked": {"column": "Embarked", "dtype": "string", "vocabulary": ["C", "Q", "S"], "unknown": "all_zeros"},
    }


def test_serving_model_on_raw_values_equals_trained_model_on_features(trained):
    model, frame, raw = trained
    serving, _ = export.serving_model(model, frame.attrs)
    inputs = _inputs(raw, frame)
    # the rows that exercise each path are there: imputed NaN and missing category
    assert np.isnan(inputs["age"]).sum() == 4 and (inputs["embarked"] == "").sum() == 2

    served = np.asarray(serving({k: tf.constant(v) for k, v in inputs.items()}))
    expected = model.predict(xy(frame)[0], verbose=0)
    assert served.shape == expected.shape == (len(raw), 2)
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-6)
    # and the model is not trivially constant, so the comparison says something
    assert np.ptp(expected[:, 1]) > 1e-3


def test_serving_model_reproduces_each_encoded_feature(trained):
    """Swap in an identity 'model' to compare the in-graph encoding with the feature table column by column."""
    _, frame, raw = trained
    width = len(frame.attrs["feature_columns"])
    identity = keras.Sequential([keras.Input((width,)), keras.layers.Identity()], name="identity")
    serving, _ = export.serving_model(identity, frame.attrs)
    encoded = np.asarray(serving({k: tf.constant(v) for k, v in _inputs(raw, frame).items()}))
    np.testing.assert_allclose(encoded, xy(frame)[0], rtol=1e-6)

    # a category outside the vocabulary encodes as all zeros, like a missing one
    unseen = np.asarray(serving({"age": tf.constant([np.nan]), "fare_gbp": tf.constant([10.0]),
                                 "pclass": tf.constant([7], tf.int64), "embarked": tf.constant(["Z"])}))
    columns = frame.attrs["feature_columns"]
    row = dict(zip(columns, unseen[0]))
    assert all(row[c] == 0 for c in columns if c.startswith(("Pclass_", "Embarked_")))
    assert row["Age_was_missing"] == 1 and row["Age"] == pytest.approx(frame.attrs["imputation"]["Age"])


def test_serving_model_scales_a_regression_target_back():
    raw = pd.DataFrame({"sqft": np.linspace(800, 3000, 12), "price": np.linspace(1e5, 5e5, 12)})
    recipe = TabularRecipe(numeric=("sqft",), target="price", task="regression", target_scale=1e5,
                           scaling={"sqft": Scaling("fixed", 1000.0)}, test_size=None)
    frame = build_features(raw, recipe)
    model = linear_regression(1, scaling_vectors(frame.attrs))
    model.layers[-1].set_weights([np.array([[1.5]], "float32"), np.array([0.25], "float32")])
    serving, signature = export.serving_model(model, frame.attrs)
    assert signature == {"sqft": {"column": "sqft", "dtype": "float32", "finite": True}}
    served = np.asarray(serving({"sqft": tf.constant(raw["sqft"].to_numpy("float32"))})).reshape(-1)
    np.testing.assert_allclose(served, (1.5 * raw["sqft"] / 1000 + 0.25) * 1e5, rtol=1e-5)


def test_savedmodel_reloads_with_plain_tensorflow(trained, saved):
    model, frame, raw = trained
    path, _ = saved
    assert (path / "saved_model.pb").exists() and (path / "variables").is_dir()
    inputs = _inputs(raw, frame, "test")
    served = export.load_and_predict(path, inputs)
    expected = model.predict(xy(frame, "test")[0], verbose=0)
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-6)


def test_savedmodel_serving_default_signature_has_named_inputs(saved):
    path, signature = saved
    loaded = tf.saved_model.load(str(path))
    assert "serving_default" in loaded.signatures
    function = loaded.signatures["serving_default"]
    _, kwargs = function.structured_input_signature
    assert set(kwargs) == set(signature) == {"age", "fare_gbp", "pclass", "embarked"}
    assert {name: spec.dtype.name for name, spec in kwargs.items()} == {
        name: spec["dtype"] for name, spec in signature.items()}
    assert all(spec.shape.as_list() == [None] for spec in kwargs.values())
    # called the way TF Serving calls it: named tensors in, a dict of outputs back
    out = function(age=tf.constant([30.0, np.nan]), fare_gbp=tf.constant([20.0, 80.0]),
                   pclass=tf.constant([1, 3], tf.int64), embarked=tf.constant(["S", ""]))
    (values,) = out.values()
    assert values.shape == (2, 2)
    np.testing.assert_allclose(values.numpy().sum(axis=1), 1.0, rtol=1e-5)


def test_publish_version_never_overwrites(saved, tmp_path):
    path, _ = saved
    model_dir = tmp_path / "exports" / "titanic_fc"
    assert export.existing_versions(model_dir) == []

    first_stage = export.staging_dir(model_dir)
    shutil.rmtree(first_stage)
    shutil.copytree(path, first_stage)
    version, target = export.publish_version(first_stage, model_dir)
    assert (version, target) == (1, model_dir / "1")
    assert not first_stage.exists()
    first_pb = (target / "saved_model.pb").read_bytes()

    second_stage = export.staging_dir(model_dir)
    (second_stage / "marker.txt").write_text("second")
    assert export.existing_versions(model_dir) == [1]  # staging folders are not versions
    version, target = export.publish_version(second_stage, model_dir)
    assert (version, target) == (2, model_dir / "2")
    assert export.existing_versions(model_dir) == [1, 2]
    assert (model_dir / "1" / "saved_model.pb").read_bytes() == first_pb  # version 1 untouched
    assert not (model_dir / "1" / "marker.txt").exists()
    assert (model_dir / "2" / "marker.txt").read_text() == "second"
    assert sorted(p.name for p in model_dir.iterdir()) == ["1", "2"]

    # the published version is a complete SavedModel
    reloaded = tf.saved_model.load(str(model_dir / "1"))
    assert "serving_default" in reloaded.signatures


def test_publish_version_skips_past_the_highest_existing(tmp_path):
    model_dir = tmp_path / "m"
    (model_dir / "3").mkdir(parents=True)
    (model_dir / "3" / "keep").write_text("v3")
    (model_dir / "registry.json").write_text("{}")
    stage = export.staging_dir(model_dir)
    version, target = export.publish_version(stage, model_dir)
    assert version == 4 and target == model_dir / "4"
    assert (model_dir / "3" / "keep").read_text() == "v3"


def test_discard_removes_a_staging_folder(tmp_path):
    stage = export.staging_dir(tmp_path / "m")
    (stage / "x").write_text("1")
    export.discard(stage)
    assert not stage.exists()
    export.discard(stage)  # already gone: no error


def test_agreement_measures_and_names_the_worst_input():
    expected = np.array([[0.2], [0.5], [0.9]], dtype=np.float32)
    served = expected.reshape(-1) + np.array([0.0, 2e-5, 0.0], dtype=np.float32)  # served flat, same values
    assert export.agreement("m/1", served, expected, "3 rows") == pytest.approx(2e-5, rel=1e-2)
    with pytest.raises(ValueError, match=r"m/1: .* on 3 raw texts \(max difference 1\.00e-01, e\.g\. 'b'\)"):
        export.agreement("m/1", expected.reshape(-1) + [0.0, 0.1, 0.0], expected, "3 raw texts",
                         inputs=["a", "b", "c"])
    with pytest.raises(ValueError, match="max difference nan"):
        export.agreement("m/1", [np.nan, 0.5, 0.9], expected, "3 rows")
    big = np.array([1000.0, 2000.0])  # relative: 0.05 on 1000 is 5e-5, inside the tolerance
    assert export.agreement("m/1", big + 0.05, big, "2 rows", relative=True) == pytest.approx(5e-5)
    with pytest.raises(ValueError, match=r"max difference 5\.00e-02"):  # absolute: 0.05 is far too much
        export.agreement("m/1", big + 0.05, big, "2 rows")
    with pytest.raises(ValueError, match="max relative difference"):
        export.agreement("m/1", big * 1.01, big, "2 rows", relative=True)
    assert export.agreement("m/1", np.zeros((0, 1)), np.zeros((0, 1)), "no rows") == 0.0
