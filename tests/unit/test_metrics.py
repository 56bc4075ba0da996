"""core.metrics against sklearn on small arrays."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from ztdl_pipeline.core import metrics as M


def test_predicted_labels_sigmoid_column():
    output = np.array([[0.1], [0.7], [0.5], [0.51], [0.0]])
    np.testing.assert_array_equal(M.predicted_labels(output), [0, 1, 0, 1, 0])  # 0.5 is not > 0.5
    np.testing.assert_array_equal(M.predicted_labels(output.reshape(-1)), [0, 1, 0, 1, 0])  # 1-d too
    assert M.predicted_labels(output).dtype == np.int64


def test_predicted_labels_softmax_argmax():
    output = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    np.testing.assert_array_equal(M.predicted_labels(output), [1, 0, 2, 2])
    two = np.array([[0.9, 0.1], [0.2, 0.8]])  # a 2-column softmax is argmax, not a threshold on column 0
    np.testing.assert_array_equal(M.predicted_labels(two), [0, 1])


def test_accuracy_with_labels_and_one_hot_truth():
    y = np.array([0, 1, 1, 0, 1])
    output = np.array([[0.2], [0.9], [0.4], [0.6], [0.8]])
    expected = skm.accuracy_score(y, (output[:, 0] > 0.5).astype(int))
    assert M.accuracy(y, output) == pytest.approx(expected) == 0.6
    one_hot = np.eye(3)[[0, 2, 1, 1]]
    softmax = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]])
    assert M.accuracy(one_hot, softmax) == pytest.approx(0.75)


def test_binary_classification_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    output = np.clip(y * 0.4 + rng.uniform(0, 0.6, 60), 0, 1).reshape(-1, 1)
    y_pred = (output[:, 0] > 0.5).astype(int)
    result = M.classification_metrics(y, output, classes=["stay", "left"])

    assert result["n"] == 60
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, y_pred))
    assert result["precision"] == pytest.approx(skm.precision_score(y, y_pred))
    assert result["recall"] == pytest.approx(skm.recall_score(y, y_pred))
    assert result["f1"] == pytest.approx(skm.f1_score(y, y_pred))
    assert result["confusion_matrix"] == skm.confusion_matrix(y, y_pred).tolist()
    assert set(result["per_class"]) == {"stay", "left"}
    assert result["per_class"]["left"]["support"] == int(y.sum())
    assert result["per_class"]["stay"]["recall"] == pytest.approx(skm.recall_score(y, y_pred, pos_label=0))


def test_multiclass_classification_metrics_match_sklearn_macro():
    y = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0, 2])
    output = np.eye(3)[[0, 2, 2, 1, 1, 0, 2, 1, 1, 2]] * 0.8 + 0.05
    y_pred = output.argmax(axis=1)
    result = M.classification_metrics(y, output, classes=[1, 2, 3])

    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, y_pred))
    assert result["precision"] == pytest.approx(skm.precision_score(y, y_pred, average="macro"))
    assert result["recall"] == pytest.approx(skm.recall_score(y, y_pred, average="macro"))
    assert result["f1"] == pytest.approx(skm.f1_score(y, y_pred, average="macro"))
    assert result["confusion_matrix"] == skm.confusion_matrix(y, y_pred).tolist()
    per_class_f1 = skm.f1_score(y, y_pred, average=None)
    assert [result["per_class"][c]["f1"] for c in ("1", "2", "3")] == pytest.approx(per_class_f1)


def test_confusion_matrix_keeps_absent_classes():
    y = np.array([0, 0, 1])
    output = np.eye(3)[[0, 1, 1]]  # class 2 never occurs
    result = M.classification_metrics(y, output, classes=["a", "b", "c"])
    assert np.asarray(result["confusion_matrix"]).shape == (3, 3)
    assert result["per_class"]["c"]["support"] == 0


def test_regression_metrics_match_sklearn():
    y = np.array([3.0, -0.5, 2.0, 7.0, 4.2])
    pred = np.array([[2.5], [0.0], [2.1], [7.8], [3.9]])
    result = M.regression_metrics(y, pred)
    assert result["r2"] == pytest.approx(skm.r2_score(y, pred[:, 0]))
    assert result["mse"] == pytest.approx(skm.mean_squared_error(y, pred[:, 0]))
    assert result["mae"] == pytest.approx(skm.mean_absolute_error(y, pred[:, 0]))
    assert result["n"] == 5
    assert M.r2(y, pred) == pytest.approx(result["r2"])


def test_majority_baseline():
    assert M.majority_baseline(np.array([0, 1, 1, 1, 0, 1, 1, 1])) == pytest.approx(0.75)
    assert M.majority_baseline(np.array([2, 2, 0])) == pytest.approx(2 / 3)


def test_crossentropy_matches_keras():
    import keras

    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(10), size=50).astype("float32")
    labels = rng.integers(0, 10, 50)
    ours = M.crossentropy(labels, probabilities)
    theirs = float(keras.losses.CategoricalCrossentropy()(np.eye(10)[labels], probabilities))
    assert ours == pytest.approx(theirs, rel=1e-5)
    p = rng.uniform(0.01, 0.99, (50, 1)).astype("float32")
    y = rng.integers(0, 2, 50)
    assert M.crossentropy(y, p) == pytest.approx(float(keras.losses.BinaryCrossentropy()(y[:, None], p)), rel=1e-5)


def test_majority_accuracy_uses_the_train_splits_class():
    assert M.majority_class(np.array([0, 0, 1])) == 0
    assert M.majority_accuracy(np.array([0, 0, 1]), np.array([1, 1, 0])) == pytest.approx(1 / 3)
    # below the test split's own majority share (2/3): the trivial model was fitted on train
    assert M.majority_accuracy(np.array([0, 0, 1]), np.array([1, 1, 0])) < M.majority_baseline(np.array([1, 1, 0]))
    assert M.majority_accuracy(np.array([2, 1, 2, 1, 2]), np.array([2, 2, 1, 0])) == pytest.approx(0.5)
    assert M.majority_class(np.array([1, 0, 1, 0])) == 0  # a tie goes to the smaller label
    one_hot = np.eye(3)[[2, 2, 0]]
    assert M.majority_class(one_hot) == 2 and M.majority_accuracy(one_hot, np.eye(3)[[0, 2]]) == 0.5
    assert M.majority_class(np.array(["stay", "left", "stay"])) == "stay"
    assert isinstance(M.majority_class(np.array([3, 3], dtype=np.int64)), int)  # JSON-able
    with pytest.raises(ValueError, match="no train labels"):
        M.majority_class(np.array([], dtype=np.int64))


def test_majority_rule_names_the_class():
    assert M.majority_rule([0, 0, 1], ["stay", "left"]) == "always the train split's most frequent class ('stay')"
    assert M.majority_rule([1, 1, 0]) == "always the train split's most frequent class (1)"
    assert M.majority_rule([4, 4], what="topic").endswith("most frequent topic (4)")


def test_mean_predictor_metrics_by_hand():
    # train mean 2; split [2, 4]: errors 0 and 2 -> MSE 2, MAE 1; R² = 1 - 4 / 2 = -1
    assert M.mean_predictor_metrics(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0])) == pytest.approx(
        {"r2": -1.0, "mse": 2.0, "mae": 1.0})
    y = np.array([3.0, -0.5, 2.0, 7.0, 4.2])
    on_itself = M.mean_predictor_metrics(y, y)  # the train mean on the train split: R² exactly 0
    assert on_itself["r2"] == 0.0 and on_itself["mse"] == pytest.approx(np.var(y))
    assert set(on_itself) == {"r2", "mse", "mae"}


def test_baseline_scores_keeps_float_metrics_only():
    scores = {"r2": 0.5, "mse": 2.0, "n": 10, "per_class": {"a": 1.0}, "mse_scaled": 0.1}
    assert M.baseline_scores(scores) == {"r2": 0.5, "mse": 2.0, "mse_scaled": 0.1}
    assert M.baseline_scores(scores, ("r2",)) == {"r2": 0.5}
