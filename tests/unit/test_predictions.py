"""core/predictions.py: a source's rows scored by a real SavedModel (written here with the export's own writer),
loaded with tf.saved_model.load and fed raw values by the serving signature's input names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.core import predictions


def _multiclass_export(path):
    """A served model taking a float 'sepal_length' and a string 'colour' (one-hot red/blue), 3 classes."""
    import keras

    from ztdl_pipeline.core.export import write_savedmodel

    keras.utils.set_random_seed(0)
    length = keras.Input(shape=(), name="sepal_length", dtype="float32")
    colour = keras.Input(shape=(), name="colour", dtype="string")
    one_hot = keras.layers.StringLookup(vocabulary=["red", "blue"], output_mode="one_hot")(colour)
    joined = keras.layers.Concatenate()([keras.layers.Reshape((1,))(length), one_hot])
    model = keras.Model({"sepal_length": length, "colour": colour}, keras.layers.Dense(3, activation="softmax")(joined))
    signature = {"sepal_length": {"column": "Sepal Length", "dtype": "float32"},
                 "colour": {"column": "Colour", "dtype": "string"}}
    write_savedmodel(model, signature, path)
    return model


def _binary_export(path):
    """A served model taking one string 'text': P(spam) grows with the message length."""
    import keras
    import tensorflow as tf

    from ztdl_pipeline.core.export import write_savedmodel

    text = keras.Input(shape=(), name="text", dtype="string")
    length = keras.layers.Lambda(lambda t: tf.cast(tf.strings.length(t), tf.float32)[:, None] / 10.0 - 2.0,
                                 output_shape=(1,))(text)
    model = keras.Model({"text": text}, keras.layers.Activation("sigmoid")(length))
    write_savedmodel(model, {"text": {"column": "text", "dtype": "string"}}, path)
    return model


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "iris" / "3"
    return path, _multiclass_export(path)


def test_scores_every_row_with_raw_values_by_the_signatures_names(multiclass):
    path, model = multiclass
    frame = pd.DataFrame({"id": [10, 11, 12, 13, 14], "Sepal Length": [4.9, 6.1, np.nan, 5.0, 7.2],
                          "Colour": ["red", "blue", "green", None, "red"], "label": ["a", "b", "c", "a", "c"]})
    frame.index = [100, 101, 102, 103, 104]  # the source's own index is not the row number
    table = predictions.score(path, frame, version=3, classes=["a", "b", "c"], id_column="id", target="label",
                              batch_rows=2)
    assert list(table.columns) == ["row", "id", "predicted_class", "probability_a", "probability_b", "probability_c",
                                   "actual", "export_version"]
    assert table["row"].tolist() == [0, 1, 2, 3, 4] and table["id"].tolist() == [10, 11, 12, 13, 14]
    assert (table["export_version"] == 3).all() and table["actual"].tolist() == ["a", "b", "c", "a", "c"]
    expected = np.asarray(model({"sepal_length": np.asarray([4.9, 6.1, np.nan, 5.0, 7.2], "float32"),
                                 "colour": np.asarray(["red", "blue", "green", "", "red"], object)}))
    got = table[["probability_a", "probability_b", "probability_c"]].to_numpy()
    np.testing.assert_allclose(got[[0, 1, 3, 4]], expected[[0, 1, 3, 4]], atol=1e-6)
    assert np.isnan(got[2]).all()  # NaN in, NaN out: this model does not impute
    assert table["predicted_class"].tolist()[0] == ["a", "b", "c"][int(expected[0].argmax())]

    facts = predictions.summary(table, sample_rows=2)
    assert facts["rows_scored"] == 5 and sum(facts["class_counts"].values()) == 5 and len(facts["sample"]) == 2
    assert 0.0 <= facts["agreement_with_actual"] <= 1.0


def test_a_missing_column_or_a_bad_value_fails_naming_it(multiclass):
    path, _ = multiclass
    with pytest.raises(ValueError, match=r"\['colour'\].*no column"):
        predictions.score(path, pd.DataFrame({"Sepal Length": [1.0]}), version=1, classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="3 values per row but no classes"):
        predictions.score(path, pd.DataFrame({"sepal_length": [1.0], "colour": ["red"]}), version=1)
    with pytest.raises(ValueError, match="missing values"):
        predictions.consumer_inputs(pd.DataFrame({"k": [1, None]}), {"k": "int64"}, {"k": "k"})


def test_one_output_is_the_second_classs_probability_and_inputs_can_be_renamed(tmp_path):
    path = tmp_path / "spam" / "1"
    _binary_export(path)
    frame = pd.DataFrame({"message": ["hi", "WINNER!! claim your free prize now by texting"], "spam": [0, 1]})
    table = predictions.score(path, frame, version=1, classes=["ham", "spam"], overrides={"text": "message"},
                              target="spam")
    assert table["predicted_class"].tolist() == ["ham", "spam"] and table["actual"].tolist() == ["ham", "spam"]
    p = 1 / (1 + np.exp(-(frame["message"].str.len().to_numpy() / 10 - 2)))
    np.testing.assert_allclose(table["probability_spam"], p, atol=1e-6)
    np.testing.assert_allclose(table["probability_ham"] + table["probability_spam"], 1.0, atol=1e-6)
    assert predictions.summary(table)["agreement_with_actual"] == 1.0


def test_input_columns_prefer_the_override_then_the_registry_then_the_safe_name():
    dtypes = {"text": "string", "pclass": "int64", "fare": "float32"}
    columns = ["message", "Pclass", "Fare", "fare_recorded"]
    found = predictions.input_columns(dtypes, columns, {"fare": {"column": "fare_recorded"}}, {"text": "message"})
    assert found == {"text": "message", "pclass": "Pclass", "fare": "fare_recorded"}


def test_a_regression_gives_values_and_empty_sources_give_empty_tables():
    table = predictions.prediction_table(np.array([[1.5], [2.5]]), version=2)
    assert table["predicted_value"].tolist() == [1.5, 2.5] and "predicted_class" not in table
    assert predictions.summary(table)["predicted_value"] == {"min": 1.5, "mean": 2.0, "max": 2.5}
    empty = predictions.prediction_table(np.empty((0, 4)), version=1, classes=[0, 1, 2, 3])
    assert len(empty) == 0 and str(empty["predicted_class"].dtype) == "int64"
    assert predictions.summary(empty)["class_counts"] == {}
