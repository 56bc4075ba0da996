"""Every family's evaluate records what a trivial predictor scores (gate.BASELINES), so the export gate can fail.

Each test builds a family's real features, takes a real Keras model rigged to be worse than its baseline (the
output layer's kernel zeroed and its bias pointing at a minority class, or a constant far from the targets),
runs the family's core `evaluate` and checks that `gate.decide` on an example's primary (split, metric) fails
because the model is no better than the baseline, which is also checked against a number computed here from
the labels.
"""

from __future__ import annotations

from dataclasses import asdict

import keras
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn import metrics as skm

from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core import gate
from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core.features import SPLIT_COLUMN, Scaling, TabularRecipe, build_features, xy
from ztdl_pipeline.core.specs import Card, Hyper
from ztdl_pipeline.core.training import TrainedModel

FLOOR = -1e6  # a threshold every model clears: the baseline alone must fail these models


def _dense_layers(model: keras.Model) -> list[keras.layers.Dense]:
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found += _dense_layers(layer)
        elif isinstance(layer, keras.layers.Dense):
            found.append(layer)
    return found


def rig(model: keras.Model, bias, kernel: float = 0.0) -> keras.Model:
    """Set the output layer's kernel to `kernel` everywhere and its bias to `bias`: a model that ignores its
    input (kernel 0) and predicts the class the bias favours, or a constant."""
    dense = _dense_layers(model)[-1]
    weights, old_bias = dense.get_weights()
    dense.set_weights([np.full_like(weights, kernel), np.asarray(bias, old_bias.dtype).reshape(old_bias.shape)])
    return model


def trained(model: keras.Model, **info) -> TrainedModel:
    info.setdefault("hyper", {"profile": "fast"})
    return TrainedModel(model=model, history={"loss": [1.0]}, info=info)


def assert_gate_fails_on_baseline(metrics: dict, primary: tuple[str, str]) -> gate.GateDecision:
    split, metric = primary
    baseline = gate.baseline_of(metrics, split, metric)
    assert baseline is not None, f"no baseline recorded for {split}/{metric}"
    assert isinstance(metrics[gate.BASELINE_RULE], str) and metrics[gate.BASELINE_RULE]
    decision = gate.decide(f"{split}/{metric}", metrics[split][metric], FLOOR, baseline=baseline)
    assert not decision.passed
    assert decision.reasons == [f"{split}/{metric} {metrics[split][metric]:.4f} is no better than the baseline "
                                f"{baseline:.4f}"]
    return decision


def train_majority(labels: pd.Series) -> int:
    counts = labels.value_counts()
    return int(counts[counts == counts.max()].index.min())


# ---------------------------------------------------------------- tabular


HR_RECIPE = TabularRecipe(
    numeric=("satisfaction_level", "last_evaluation", "number_project", "average_montly_hours",
             "time_spend_company", "Work_accident", "promotion_last_5years"),
    categorical={"sales": ("IT", "RandD", "accounting", "hr", "management", "marketing", "product_mng", "sales",
                           "support", "technical"), "salary": ("low", "medium", "high")},
    scaling={"average_montly_hours": Scaling("fixed", 100.0)},
    target="left", task="binary", classes=(0, 1), test_size=0.2, random_state=42)


def _tabular_model(example: Card, frame: pd.DataFrame, learning_rate: float = 0.01) -> keras.Model:
    from ztdl_pipeline.core.tabular import _build, view

    hyper = Hyper(epochs=1, batch_size=16, optimizer="sgd", learning_rate=learning_rate, profile="fast")
    return _build(example, view(frame, example).attrs, hyper, False)


def test_tabular_classifier_that_always_says_left_fails_the_gate(mirror):
    from ztdl_pipeline.core.tabular import evaluate

    frame = build_features(pd.read_csv(mirror / "HR_comma_sep.csv"), HR_RECIPE)
    example = Card(name="hr_churn", dataset="hr", title="t", source="s", builder="ztdl_pipeline.core.models:logistic_regression",
                             loss="binary_crossentropy", primary=("test", "accuracy"))
    model = rig(_tabular_model(example, frame), [10.0])  # always 'left' (class 1, 24 % of the rows)
    metrics = evaluate(example, trained(model), frame)
    test = frame.loc[frame[SPLIT_COLUMN] == "test", "left"]
    majority = train_majority(frame.loc[frame[SPLIT_COLUMN] == "train", "left"])
    assert majority == 0
    assert metrics[gate.BASELINES]["test"]["accuracy"] == pytest.approx(float((test == majority).mean()))
    assert metrics["test"]["accuracy"] == pytest.approx(float((test == 1).mean()))
    assert set(metrics[gate.BASELINES]) == {"train", "test", "all"}
    assert metrics[gate.BASELINE_RULE] == "always the train split's most frequent class (0)"
    assert metrics["baseline"]["accuracy"] == pytest.approx(metrics[gate.BASELINES]["train"]["accuracy"])
    assert_gate_fails_on_baseline(metrics, example.primary)


def test_tabular_cross_validated_model_worse_than_the_majority_fails_the_gate(mirror):
    from ztdl_pipeline.core.tabular import evaluate, view
    from ztdl_pipeline.core.training import cross_validate

    recipe = TabularRecipe(numeric=("Time (min)",), target="Buy", task="binary", classes=(0, 1), test_size=0.2,
                           random_state=42)
    frame = build_features(pd.read_csv(mirror / "user_visit_duration.csv"), recipe)
    example = Card(name="visit_duration_logreg", dataset="user_visit_duration", title="t", source="s",
                             builder="ztdl_pipeline.core.models:logistic_regression", loss="binary_crossentropy", primary=("cv", "mean"))
    x_all, y_all = xy(view(frame, example), None)
    median = float(np.median(x_all))

    def backwards() -> keras.Model:  # 'buys' when the visit is SHORT; learning rate 0 keeps it so in every fold
        return rig(_tabular_model(example, frame, learning_rate=0.0), [3.0 * median], kernel=-3.0)

    cv = cross_validate(backwards, x_all, y_all, folds=3, epochs=1, batch_size=16, seed=42, metric=M.accuracy)
    metrics = evaluate(example, trained(backwards(), cv=cv), frame)
    majority = train_majority(frame.loc[frame[SPLIT_COLUMN] == "train", "Buy"])
    assert metrics[gate.BASELINES]["cv"]["mean"] == pytest.approx(float((frame["Buy"] == majority).mean()))
    assert metrics["cv"]["mean"] < 0.5
    assert_gate_fails_on_baseline(metrics, example.primary)


def test_tabular_regression_constant_far_from_the_mean_fails_the_gate(mirror):
    from ztdl_pipeline.core.tabular import evaluate

    recipe = TabularRecipe(numeric=("sqft", "bdrms", "age"), target="price", task="regression",
                           scaling={"sqft": Scaling("fixed", 1000.0), "age": Scaling("fixed", 10.0)},
                           target_scale=1e5, test_size=0.2, random_state=42)
    frame = build_features(pd.read_csv(mirror / "housing-data.csv"), recipe)
    example = Card(name="housing_linreg", dataset="housing", title="t", source="s",
                             builder="ztdl_pipeline.core.models:linear_regression", loss="mean_squared_error", primary=("train", "r2"))
    model = rig(_tabular_model(example, frame), [1.0])  # $100,000 for every house (scaled target: price / 1e5)
    metrics = evaluate(example, trained(model), frame)
    price = frame["price"].astype("float64")
    train_mean = price[frame[SPLIT_COLUMN] == "train"].mean()
    test = price[frame[SPLIT_COLUMN] == "test"].to_numpy()
    baselines = metrics[gate.BASELINES]
    assert baselines["train"]["r2"] == pytest.approx(0.0, abs=1e-12)
    assert baselines["test"]["mse"] == pytest.approx(np.mean((test - train_mean) ** 2), rel=1e-6)  # dollars²
    assert baselines["test"]["mae"] == pytest.approx(np.mean(np.abs(test - train_mean)), rel=1e-6)
    assert baselines["test"]["r2"] == pytest.approx(skm.r2_score(test, np.full(len(test), train_mean)), rel=1e-6)
    assert baselines["all"]["mse"] == pytest.approx(np.mean((price - train_mean) ** 2), rel=1e-6)
    assert metrics["test"]["mse"] == pytest.approx(np.mean((test - 1e5) ** 2), rel=1e-5)  # same units as ours
    assert metrics[gate.BASELINE_RULE].startswith("the train mean of price")
    for primary in (("train", "r2"), ("test", "r2")):
        assert_gate_fails_on_baseline(metrics, primary)
    decision = gate.decide("test/mse", metrics["test"]["mse"], 1e12, higher_is_better=False,
                           baseline=gate.baseline_of(metrics, "test", "mse"))
    assert not decision.passed and "no better than the baseline" in decision.reasons[0]


# ---------------------------------------------------------------- vision


def _digit_table():
    from sklearn.datasets import load_digits

    from ztdl_pipeline.core import images as I

    digits = load_digits()
    splits = I.stratified_split(digits.target, 0.3, 0)
    return I.image_table(digits.data.reshape(-1, 8, 8).astype("uint8"), digits.target, splits,
                         {"classes": list(range(10))})


def test_vision_model_that_always_says_the_rarest_digit_fails_the_gate():
    from ztdl_pipeline.core import images as I
    from ztdl_pipeline.core import vision_models as V

    table = _digit_table()
    train_y, test_y = I.split_arrays(table, "train")[1], I.split_arrays(table, "test")[1]
    majority = int(np.argmax(np.bincount(train_y)))
    rare = int(np.argmin(np.bincount(test_y, minlength=10)))
    assert rare != majority and np.mean(test_y == rare) < np.mean(test_y == majority)
    bias = np.zeros(10)
    bias[rare] = 10.0
    model = rig(V.digits_small_fc((8, 8)), bias)
    example = Card(name="digits_small_fc", dataset="digits", title="t", source="s",
                             builder="ztdl_pipeline.core.vision_models:digits_small_fc",
                             loss="categorical_crossentropy")
    metrics = V.evaluate(example, trained(model, hyper={"profile": "fast", "train_limit": 0}), table)
    assert metrics[gate.BASELINES]["test"]["accuracy"] == pytest.approx(np.mean(test_y == majority))
    assert metrics[gate.BASELINES]["train"]["accuracy"] == pytest.approx(np.bincount(train_y).max() / len(train_y))
    assert metrics["test"]["accuracy"] == pytest.approx(np.mean(test_y == rare))
    assert metrics[gate.BASELINE_RULE] == f"always the train split's most frequent class ({majority})"
    assert_gate_fails_on_baseline(metrics, example.primary)
    # a train_limit: the trivial model is fitted on the rows the model learned from (and reported on)
    limited = V.evaluate(example, trained(model, hyper={"profile": "fast", "train_limit": 50}), table)
    first = train_y[:50]
    assert limited[gate.BASELINES]["train"]["accuracy"] == pytest.approx(np.bincount(first).max() / 50)
    assert limited[gate.BASELINES]["test"]["accuracy"] == pytest.approx(
        np.mean(test_y == np.argmax(np.bincount(first))))


# ---------------------------------------------------------------- time series


def _sequence_hyper(**kwargs):
    from ztdl_pipeline.core import timeseries as ts

    return asdict(ts.SequenceHyper(**{"epochs": 1, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01,
                                      "profile": "fast", **kwargs}))


def test_forecaster_worse_than_repeating_the_last_value_fails_the_gate(mirror):
    from ztdl_pipeline.core import sequence_models as S
    from ztdl_pipeline.core import timeseries as ts

    entry = datasets.get("airline_passengers")
    raw = ts.read_monthly_csv(mirror / entry.filename, entry.columns)
    recipe = ts.SeriesRecipe(values=("Thousand Passengers",), target="Thousand Passengers",
                             split_date="1956-12-31", window=12, scaling=Scaling("minmax"))
    frame = ts.build_windows(raw, recipe)
    example = ts.SequenceExample(name="airline_lstm_window12", dataset="airline_window12", title="t", source="s",
                                 builder=f"{S.__name__}:recurrent", loss="mean_squared_error", raw_dataset="airline_passengers",
                                 builder_kwargs={"cell": "lstm", "units": (6,)}, primary=("test", "r2"))
    data = S.view(frame, example)
    model = rig(S.build(data, S._scaling(data.attrs)), [0.0])  # the train minimum, every month
    metrics = S.evaluate(example, trained(model, hyper=_sequence_hyper()), frame)
    test = frame[frame[SPLIT_COLUMN] == "test"]
    naive, y = ts.column_windows(test[ts.WINDOW])[:, -1], test[ts.TARGET].to_numpy()
    baselines = metrics[gate.BASELINES]
    assert baselines["test"]["r2"] == pytest.approx(skm.r2_score(y, naive), rel=1e-5)
    assert baselines["test"]["mae"] == pytest.approx(np.mean(np.abs(y - naive)), rel=1e-5)
    assert set(baselines["test"]) == {"r2", "mse", "mae", "mse_scaled"}
    assert baselines["train"] == {k: v for k, v in metrics["naive_train"].items() if k != "n"}
    assert metrics[gate.BASELINE_RULE] == "repeat the last observed value"
    assert_gate_fails_on_baseline(metrics, example.primary)


def test_direction_classifier_worse_than_the_naive_rule_fails_the_gate(mirror):
    from ztdl_pipeline.core import sequence_models as S
    from ztdl_pipeline.core import timeseries as ts

    entry = datasets.get("bitcoin")
    raw = ts.read_poloniex(mirror / entry.filename, entry.columns)
    recipe = ts.SeriesRecipe(values=("close", "high", "low", "open"), target="weightedAverage",
                             split_date="2017-01-01", window=36, transform="percent_change", task="binary",
                             classes=("down", "up"))
    frame = ts.build_windows(raw, recipe)
    example = ts.SequenceExample(name="bitcoin_gru_direction", dataset="bitcoin_window36", title="t", source="s",
                                 builder=f"{S.__name__}:recurrent", loss="binary_crossentropy", raw_dataset="bitcoin",
                                 builder_kwargs={"cell": "gru", "units": (4,), "output": "sigmoid"},
                                 primary=("test", "accuracy"))
    data = S.view(frame, example)
    model = rig(S.build(data, S._scaling(data.attrs)), [10.0])  # always 'up', the more frequent direction
    hyper = _sequence_hyper(train_windows=1500, test_windows=1500)
    metrics = S.evaluate(example, trained(model, hyper=hyper), frame)
    test = ts.split_rows(frame, "test", 1500)
    x, y = ts.column_windows(test[ts.WINDOW]), test[ts.TARGET].to_numpy()
    same_direction = np.mean((x[:, -1, 0] >= 0).astype(int) == y)  # the last step's close change
    assert metrics[gate.BASELINES]["test"]["accuracy"] == pytest.approx(same_direction)
    assert metrics["test"]["accuracy"] == pytest.approx(np.mean(y == 1)) and np.mean(y == 1) > 0.5
    assert metrics[gate.BASELINE_RULE] == "the same direction as the last observed change"
    assert_gate_fails_on_baseline(metrics, example.primary)


def test_sequence_classifier_that_always_says_anomaly_fails_the_gate():
    from ztdl_pipeline.core import sequence_models as S
    from ztdl_pipeline.core import timeseries as ts

    rng = np.random.default_rng(0)
    anomaly = np.arange(60) % 10 < 3  # 30 % anomalies
    curves = rng.normal(size=(60, 20)) * np.where(anomaly, 3.0, 1.0)[:, None]
    raw = pd.DataFrame({"anomaly": anomaly, **{f"t_{i}": curves[:, i] for i in range(20)}})
    frame = ts.build_sequences(raw, "anomaly", test_size=0.25, random_state=0)
    example = ts.SequenceExample(name="sequences_fc_raw", dataset="sequence_classification", title="t", source="s",
                                 builder=f"{S.__name__}:dense_stack", loss="binary_crossentropy",
                                 raw_dataset="sequence_classification",
                                 builder_kwargs={"units": (4,), "output": "sigmoid"}, primary=("test", "accuracy"))
    data = S.view(frame, example)
    model = rig(S.build(data, S._scaling(data.attrs)), [10.0])  # always 'anomaly', the minority
    metrics = S.evaluate(example, trained(model, hyper=_sequence_hyper()), frame)
    labels = frame[ts.TARGET]
    majority = train_majority(labels[frame[SPLIT_COLUMN] == "train"])
    test = labels[frame[SPLIT_COLUMN] == "test"]
    assert majority == 0
    assert metrics[gate.BASELINES]["test"]["accuracy"] == pytest.approx(float((test == 0).mean()))
    assert metrics["test"]["accuracy"] == pytest.approx(float((test == 1).mean()))
    assert metrics[gate.BASELINE_RULE] == "always the train split's most frequent class ('normal')"
    assert_gate_fails_on_baseline(metrics, example.primary)


# ---------------------------------------------------------------- text


def test_text_classifier_that_always_says_spam_fails_the_gate(mirror):
    from ztdl_pipeline.core import text as T
    from ztdl_pipeline.core import text_models as TM

    sms = T.read_sms_spam(mirror / "sms_spam.csv")
    texts, labels = sms["message"].tolist(), sms["spam"].to_numpy()
    splits = T.book_split(len(texts))
    table = T.dense_table(texts, labels, splits, T.two_features(texts), {"classes": [0, 1], "serving": "features"})
    example = Card(name="sms_two_features", dataset="sms", title="t", source="s",
                             builder="ztdl_pipeline.core.text_models:logreg", loss="binary_crossentropy")
    model = rig(TM.logreg(2), [10.0])
    metrics = TM.evaluate(example, trained(model, trainable_params=3), table)
    test = labels[splits == "test"]
    assert metrics[gate.BASELINES]["test"]["accuracy"] == pytest.approx(np.mean(test == 0))  # ham: the majority
    assert metrics["test"]["accuracy"] == pytest.approx(np.mean(test == 1))
    assert_gate_fails_on_baseline(metrics, example.primary)


def test_char_lstm_that_always_says_the_rarest_letter_fails_the_gate(mirror):
    from ztdl_pipeline.core import text as T
    from ztdl_pipeline.core import text_models as TM

    names = T.read_names(mirror / "names.txt")["name"].tolist()[::40]
    x, y, chars = T.name_windows(names, 3)
    table = T.dense_table(["".join(chars[i] for i in row) for row in x], y, ["train"] * len(y), x,
                          {"classes": chars, "chars": chars, "serving": "none"})
    counts = np.bincount(y, minlength=len(chars))
    rare = int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))
    assert chars[rare] != "\n" and rare != counts.argmax()
    bias = np.zeros(len(chars))
    bias[[rare, chars.index("\n")]] = [10.0, 9.0]  # mostly the rarest next character; sampled names still end
    model = rig(TM.char_lstm(3, len(chars)), bias)
    example = Card(name="names_char_lstm", dataset="names", title="t", source="s",
                             builder="ztdl_pipeline.core.text_models:char_lstm", loss="categorical_crossentropy",
                             primary=("train", "accuracy"))
    metrics = TM.evaluate(example, trained(model, trainable_params=840), table)
    assert "test" not in metrics[gate.BASELINES]  # the names table has one split
    assert metrics[gate.BASELINES]["train"]["accuracy"] == pytest.approx(counts.max() / counts.sum())
    assert metrics["train"]["accuracy"] == pytest.approx(counts[rare] / counts.sum())
    assert metrics[gate.BASELINE_RULE] == f"always the train split's most frequent class ({chars[counts.argmax()]!r})"
    assert_gate_fails_on_baseline(metrics, example.primary)


# ---------------------------------------------------------------- transfer (ch11)


@pytest.mark.parametrize("kind", ["head", "pixels"])
def test_transfer_classifier_that_always_says_male_fails_the_gate(mirror, kind):
    from ztdl_pipeline.core import transfer as T

    # real pictures, more women than men in train and in test: the trivial model says 'female'
    counts = {("train", "0_female"): 6, ("train", "1_male"): 3, ("test", "0_female"): 4, ("test", "1_male"): 2}
    rows = [{"file": str(path), "split": split, "class_name": name}
            for (split, name), n in counts.items()
            for path in sorted((mirror / "male_female" / split / name).iterdir())[:n]]
    index = pd.DataFrame(rows)
    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3),
                             keras.layers.GlobalAveragePooling2D()], name="xception_stand_in")
    features = T.pixel_features(base, 32)
    vectors, _ = T.extract(features, index.file.tolist(), 32, batch_size=8)
    table = T.bottleneck_table(vectors, index, ["0_female", "1_male"],
                               {"image_size": 32, "resize": "bilinear", "weights": {"weights": "random"}})
    model = rig(T.classifier(features, T.head_model(4, 2), "stand_in"), [-10.0, 10.0])
    info = {"kind": kind, "image_size": 32, "resize": "bilinear", "weights": {"weights": "random"}}
    metrics = T.evaluate(None, trained(model, **info), table)
    assert isinstance(table, pa.Table)
    assert metrics[gate.BASELINES] == {"train": {"accuracy": pytest.approx(6 / 9)},
                                       "test": {"accuracy": pytest.approx(4 / 6)}}
    assert metrics["test"]["accuracy"] == pytest.approx(2 / 6)
    assert metrics[gate.BASELINE_RULE] == "always the train split's most frequent class ('0_female')"
    assert_gate_fails_on_baseline(metrics, ("test", "accuracy"))


# ---------------------------------------------------------------- Reuters (ch12)


def test_reuters_model_that_always_says_a_minor_topic_fails_the_gate():
    from ztdl_pipeline.core import reuters as R

    rng = np.random.default_rng(0)
    labels = np.array([3] * 10 + [1] * 5 + [7] * 2 + [3] * 4 + [7] * 3 + [1])
    splits = np.array(["train"] * 17 + ["test"] * 8)
    ids = rng.integers(3, 50, size=(len(labels), 12)).astype(np.int32)
    table = R.table(ids, labels, splits, {"num_words": 50})
    bias = np.zeros(R.N_CLASSES)
    bias[7] = 10.0
    model = rig(R.build_model(50, 8, 12), bias)
    info = {"hyper": {"profile": "fast"}, "embedding": "random", "frozen": False}
    metrics = R.evaluate(None, trained(model, **info), table)
    assert metrics[gate.BASELINES]["test"]["accuracy"] == pytest.approx(4 / 8)  # topic 3, the train majority
    assert metrics[gate.BASELINES]["train"]["accuracy"] == pytest.approx(10 / 17)
    assert metrics["test"]["accuracy"] == pytest.approx(3 / 8)
    assert metrics[gate.BASELINE_RULE] == "always the train split's most frequent topic (3)"
    assert_gate_fails_on_baseline(metrics, ("test", "accuracy"))
