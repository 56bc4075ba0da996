"""core.tabular and core.training: input selection, train + evaluate, k-fold cross-validation."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core.features import SPLIT_COLUMN, Scaling, TabularRecipe, build_features, xy
from ztdl_pipeline.core.specs import Card, Hyper
from ztdl_pipeline.core.tabular import evaluate, select_inputs, train, view
from ztdl_pipeline.core.training import cross_validate


def _frame(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    noisy = rng.normal(50, 10, n)
    noisy[[2, 9]] = np.nan
    raw = pd.DataFrame({"x1": x1, "x2": x2, "noisy": noisy,
                        "colour": pd.Series(rng.choice(["red", "blue"], n), dtype="string"),
                        "y": (x1 + 0.5 * x2 > 0).astype(int)})
    recipe = TabularRecipe(numeric=("x1", "x2", "noisy"), impute_median=("noisy",),
                           categorical={"colour": ("red", "blue")},
                           scaling={"x1": Scaling("standard"), "noisy": Scaling("standard")},
                           target="y", task="binary", classes=(0, 1), test_size=0.25, random_state=0)
    return build_features(raw, recipe)


def test_select_inputs_restricts_every_role():
    attrs = _frame().attrs
    chosen = select_inputs(attrs, ["noisy", "colour"])
    assert chosen["feature_columns"] == ["noisy", "noisy_was_missing", "colour_red", "colour_blue"]
    assert chosen["raw_inputs"] == ["noisy", "colour"]
    assert chosen["numeric"] == ["noisy"]
    assert chosen["categorical"] == {"colour": ["red", "blue"]}
    assert set(chosen["imputation"]) == {"noisy"}
    assert set(chosen["scaling"]) == {"noisy"}  # x1's scaling went with x1
    assert chosen["target"] == attrs["target"] and chosen["classes"] == attrs["classes"]
    # the original attrs are untouched
    assert attrs["feature_columns"] == ["x1", "x2", "noisy", "noisy_was_missing", "colour_red", "colour_blue"]
    assert set(attrs["scaling"]) == {"x1", "noisy"}


def test_select_inputs_keeps_the_feature_order_not_the_request_order():
    attrs = _frame().attrs
    assert select_inputs(attrs, ["x2", "x1"])["feature_columns"] == ["x1", "x2"]


def test_select_inputs_all_and_unknown():
    attrs = _frame().attrs
    assert select_inputs(attrs, None) == dict(attrs)
    with pytest.raises(ValueError, match=r"\['nope'\] are not raw inputs"):
        select_inputs(attrs, ["x1", "nope"])


def test_view_only_changes_attrs():
    frame = _frame()
    example = Card(name="e", dataset="d", title="t", source="s", builder="ztdl_pipeline.core.models:logistic_regression",
                             loss="binary_crossentropy", inputs=("x2",))
    seen = view(frame, example)
    assert seen.attrs["feature_columns"] == ["x2"]
    pd.testing.assert_frame_equal(seen, frame, check_like=False)
    assert frame.attrs["feature_columns"][0] == "x1"


EXAMPLE = Card(name="tiny_logreg", dataset="tiny", title="tiny", source="synthetic",
                         builder="ztdl_pipeline.core.models:logistic_regression", loss="binary_crossentropy", inputs=("x1", "x2", "noisy"))
HYPER = Hyper(epochs=3, batch_size=16, optimizer="adam", learning_rate=0.1, cv_folds=2, profile="fast")


@pytest.fixture(scope="module")
def tiny_run():
    frame = _frame()
    epochs_seen = []
    trained = train(EXAMPLE, frame, HYPER, seed_fn=keras.utils.set_random_seed,
                    on_epoch_end=lambda epoch, logs: epochs_seen.append((epoch, sorted(logs))))
    return frame, trained, evaluate(EXAMPLE, trained, frame), epochs_seen


def test_train_records_what_it_did(tiny_run):
    frame, trained, _, epochs_seen = tiny_run
    info = trained.info
    assert info["example"] == "tiny_logreg"
    assert info["train_rows"] == int((frame[SPLIT_COLUMN] == "train").sum()) == 60
    assert info["feature_columns"] == ["x1", "x2", "noisy", "noisy_was_missing"]
    assert info["trainable_params"] == 4 + 1
    assert info["hyper"]["epochs"] == 3 and info["hyper"]["profile"] == "fast"
    assert len(trained.history["loss"]) == 3 and len(trained.history["accuracy"]) == 3
    assert [e for e, _ in epochs_seen] == [1, 2, 3]
    assert "loss" in epochs_seen[0][1]
    assert trained.model.input_shape == (None, 4)
    assert isinstance(trained.model.get_layer("scaling"), keras.layers.Normalization)
    assert len(info["cv"]["scores"]) == 2


def test_evaluate_has_train_test_all(tiny_run):
    frame, trained, metrics, _ = tiny_run
    assert metrics["task"] == "binary" and metrics["profile"] == "fast"
    assert {"train", "test", "all", "baseline", "history", "cv"} <= set(metrics)
    assert (metrics["train"]["n"], metrics["test"]["n"], metrics["all"]["n"]) == (60, 20, 80)
    data = view(frame, EXAMPLE)
    for split in ("train", "test"):
        x, y = xy(data, split)
        expected = M.accuracy(y, trained.model.predict(x, verbose=0))
        assert metrics[split]["accuracy"] == pytest.approx(expected)
        assert 0.0 <= metrics[split]["f1"] <= 1.0
        assert np.sum(metrics[split]["confusion_matrix"]) == metrics[split]["n"]
    assert metrics["baseline"]["accuracy"] == pytest.approx(M.majority_baseline(xy(data, "train")[1]))
    assert metrics["history"]["loss"] == trained.history["loss"][-1]
    assert metrics["cv"]["folds"] == 2 and len(metrics["cv"]["scores"]) == 2


def test_train_and_evaluate_regression_in_original_units():
    rng = np.random.default_rng(0)
    sqft = rng.uniform(800, 3000, 40)
    raw = pd.DataFrame({"sqft": sqft, "price": sqft * 150 + rng.normal(0, 1e4, 40)})
    recipe = TabularRecipe(numeric=("sqft",), target="price", task="regression", target_scale=1e5,
                           scaling={"sqft": Scaling("fixed", 1000.0)}, test_size=0.25, random_state=1)
    frame = build_features(raw, recipe)
    example = Card(name="tiny_linreg", dataset="tiny", title="t", source="s",
                             builder="ztdl_pipeline.core.models:linear_regression", loss="mean_squared_error", primary=("train", "r2"))
    hyper = Hyper(epochs=2, batch_size=8, optimizer="adam", learning_rate=0.1, profile="fast")
    trained = train(example, frame, hyper, seed_fn=keras.utils.set_random_seed)
    metrics = evaluate(example, trained, frame)
    assert {"train", "test", "all"} <= set(metrics) and "cv" not in metrics
    x, y = xy(frame, "test", scale_target=False)
    prediction = trained.model.predict(x, verbose=0).reshape(-1) * 1e5
    assert metrics["test"]["mse"] == pytest.approx(np.mean((y - prediction) ** 2), rel=1e-4)
    assert metrics["baseline"] == {"r2": 0.0}


def test_cross_validate_returns_k_scores_over_a_partition():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(45, 2)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    built, held_out = [], []

    def build():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        built.append(model)
        return model

    def metric(y_true, output):
        held_out.append(len(y_true))
        return M.accuracy(y_true, output)

    result = cross_validate(build, x, y, folds=3, epochs=1, batch_size=16, seed=0, metric=metric)
    assert result["folds"] == 3
    assert len(result["scores"]) == 3 and all(0.0 <= s <= 1.0 for s in result["scores"])
    assert result["mean"] == pytest.approx(np.mean(result["scores"]))
    assert result["std"] == pytest.approx(np.std(result["scores"]))
    assert len(built) == 3 and len({id(m) for m in built}) == 3  # a fresh model per fold
    assert held_out == [15, 15, 15]  # every row is held out exactly once


def test_cross_validate_stratified_with_one_hot_targets():
    x = np.random.default_rng(2).normal(size=(27, 3)).astype("float32")
    labels = np.array([0] * 18 + [1] * 9)
    y = np.eye(2, dtype="float32")[labels]
    shares = []

    def build():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model

    def metric(y_true, output):
        shares.append(y_true[:, 1].mean())
        return M.accuracy(y_true, output)

    result = cross_validate(build, x, y, folds=3, epochs=1, batch_size=32, seed=0, metric=metric,
                            stratified=True)
    assert len(result["scores"]) == 3
    assert shares == pytest.approx([1 / 3] * 3)  # each fold keeps the class balance


def test_restarts_keep_the_lowest_final_training_loss():
    frame = _frame()
    hyper = Hyper(epochs=2, batch_size=32, optimizer="adam", learning_rate=0.05, restarts=2, profile="fast")
    trained = train(EXAMPLE, frame, hyper, seed_fn=keras.utils.set_random_seed)
    restarts = trained.info["restarts"]
    assert [r["seed"] for r in restarts] == [42, 43]
    losses = [r["final_train_loss"] for r in restarts]
    assert trained.history["loss"][-1] == min(losses)
    assert losses[0] != losses[1]  # different seeds really gave different runs
