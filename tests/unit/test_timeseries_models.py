"""core.sequence_models: the book's architectures, stateful training (batch size, state resets), the
stateless copy that evaluates and serves a stateful model, and SavedModels that take raw windows."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.core import export
from ztdl_pipeline.core import sequence_models as S
from ztdl_pipeline.core import timeseries as ts
from ztdl_pipeline.core.features import Scaling

tf = pytest.importorskip("tensorflow")
DENSE = f"{S.__name__}:dense_stack"  # builders by reference, as the cards name them


def _series(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    times = pd.date_range("2013-12-20 01:00", periods=n, freq="h")
    load = 15000 + 2500 * np.sin(2 * np.pi * np.arange(n) / 24) + rng.normal(0, 150, n)
    return pd.DataFrame({ts.TIME: times, "load": load})


def _table(window: int, scaling=(10000.0, 5000.0)) -> pd.DataFrame:
    return ts.build_windows(_series(), ts.SeriesRecipe(values=("load",), target="load", split_date="2013-12-30",
                                                       window=window, scaling=scaling))


def _example(**kwargs) -> ts.SequenceExample:
    base = {"name": "probe", "dataset": "probe", "title": "probe", "source": "test", "builder": f"{S.__name__}:recurrent",
            "loss": "mean_squared_error", "raw_dataset": "probe"}
    return ts.SequenceExample(**{**base, **kwargs})


def _hyper(**kwargs) -> ts.SequenceHyper:
    base = {"epochs": 1, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01, "profile": "fast"}
    return ts.SequenceHyper(**{**base, **kwargs})


def test_parameter_counts_match_the_books_summaries():
    assert S.dense_stack((1,), (10000.0, 5000.0), units=(24, 12, 6)).count_params() == 433  # ch7 L9596
    assert S.recurrent((36, 4), None, cell="gru", units=(24, 18, 12), kernel_initializer="normal",
                       output="sigmoid").count_params() == 5539  # ch21 ex4 L22679
    assert S.recurrent((24,), None, cell="lstm", units=(6,)).count_params() == 4 * 6 * (1 + 6 + 1) + 7


def test_scaling_is_the_models_first_layer_and_the_loss_sees_the_books_units():
    data = S.view(_table(1), _example(builder=DENSE, builder_kwargs={"units": (4,)}))
    model = S.build(data, S._scaling(data.attrs))
    scaled = keras.Model(model.input, model.get_layer("scaling").output)
    np.testing.assert_allclose(np.asarray(scaled(np.array([[15000.0]], "float32"))), [[1.0]], rtol=1e-6)
    rows = ts.split_rows(data, "train")
    rows.attrs = data.attrs
    np.testing.assert_allclose(S.targets(rows, scaled=True), (rows[ts.TARGET] - 10000) / 5000, rtol=1e-6)


def test_stateful_model_step_by_step_equals_the_stateless_copy_over_the_sequence():
    keras.utils.set_random_seed(1)
    data = S.view(_table(1), _example(stateful=True, builder_kwargs={"cell": "lstm", "units": (6,)}))
    stateful = S.build(data, S._scaling(data.attrs), stateful=True, batch_size=1)
    series = ts.column_windows(data[ts.WINDOW])[:60]
    stepped = np.array([float(np.asarray(stateful(step[None, :]))[0, 0]) for step in series])  # one step per call
    copy = S.stateless_copy(stateful, data, None, return_sequences=True)
    whole = np.asarray(copy.predict(series.reshape(1, -1), verbose=0)).reshape(-1)
    np.testing.assert_allclose(whole, stepped, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(S.predict_sequence(stateful, data, series), whole * 5000 + 10000, rtol=1e-5)
    # a window copy sees only its window, from a zero state: the stateful model after a reset, fed the same steps
    S.reset_states(stateful)
    for step in series[:24]:
        last = float(np.asarray(stateful(step[None, :]))[0, 0])
    window_copy = S.stateless_copy(stateful, data, 24)
    assert float(np.asarray(window_copy(series[:24].reshape(1, 24)))[0, 0]) == pytest.approx(last, rel=1e-5)


def test_stateful_training_uses_a_fixed_batch_no_shuffling_and_resets_states():
    example = _example(stateful=True, builder_kwargs={"cell": "simple", "units": (6,), "kernel_initializer": "ones"})
    frame = _table(1)
    trained = S.train(example, frame, _hyper(batch_size=4, epochs=2, train_windows=50, steps_per_execution=8))
    assert trained.info["train_rows"] == 48  # 50 windows, trimmed to whole batches of 4 (the oldest dropped)
    rnn = next(layer for layer in trained.model.layers if getattr(layer, "stateful", False))
    assert trained.model.input_shape == (4, 1)
    assert np.abs(np.asarray(rnn.states[0])).sum() > 0  # training carried the state along
    probe = S._ResetStates()  # the callback train() passes to fit: every epoch starts from a zero state
    probe.set_model(trained.model)
    probe.on_epoch_begin(1)
    assert np.abs(np.asarray(rnn.states[0])).sum() == 0


def test_early_stopping_ends_training_as_the_books_fc_model():
    """EarlyStopping(monitor='loss', patience=1): with nothing to learn (lr 0) the loss never improves after
    epoch 1, so training stops after epoch 2 of 200."""
    example = _example(builder=DENSE, builder_kwargs={"units": (24, 12, 6)})
    trained = S.train(example, _table(1), _hyper(epochs=200, batch_size=512, patience=1, optimizer="sgd",
                                                 learning_rate=0.0))
    assert trained.info["epochs_run"] == 2 and len(trained.history["loss"]) == 2
    assert trained.info["hyper"]["epochs"] == 200


def test_restarts_keep_the_seed_with_the_lowest_training_loss():
    example = _example(builder=DENSE, builder_kwargs={"units": (4,)})
    trained = S.train(example, _table(1), _hyper(restarts=3, epochs=1), strategy=tf.distribute.get_strategy(),
                      seed_fn=keras.utils.set_random_seed)
    losses = [r["final_train_loss"] for r in trained.info["restarts"]]
    assert [r["seed"] for r in trained.info["restarts"]] == [42, 43, 44] and len(set(losses)) == 3
    assert trained.history["loss"][-1] == min(losses)


def test_evaluation_puts_the_naive_forecast_beside_the_model():
    example = _example(builder=DENSE, builder_kwargs={"units": (8,)})
    frame = _table(24)
    trained = S.train(example, frame, _hyper(epochs=3))
    metrics = S.evaluate(example, trained, frame)
    test = frame[frame["split"] == "test"]
    naive = ts.column_windows(test[ts.WINDOW])[:, -1]
    residual = test[ts.TARGET].to_numpy() - naive
    assert metrics["naive_test"]["mse"] == pytest.approx(float(np.mean(residual ** 2)), rel=1e-5)
    assert metrics["test"]["mse_scaled"] == pytest.approx(metrics["test"]["mse"] / 5000 ** 2)
    assert metrics["test"]["skill_vs_naive"] == pytest.approx(1 - metrics["test"]["mse"] / metrics["naive_test"]["mse"])
    assert metrics["test"]["n"] == len(test)


def _round_trip(trained, data, tmp_path, windows):
    serving, signature = S.serving_model(trained, data)
    path = export.write_savedmodel(serving, signature, tmp_path / "export")
    loaded = tf.saved_model.load(str(path))  # keep a reference: its variables live on it
    return signature, np.asarray(loaded.serve({"window": tf.constant(windows)})).reshape(-1)


def test_savedmodel_takes_raw_windows_and_answers_in_original_units(tmp_path):
    example = _example(builder_kwargs={"cell": "lstm", "units": (4,)})
    frame = _table(24, scaling=Scaling("minmax"))
    trained = S.train(example, frame, _hyper(epochs=2))
    data = S.view(frame, example)
    raw = ts.column_windows(frame[ts.WINDOW])[-20:]
    signature, served = _round_trip(trained, data, tmp_path, raw)
    assert signature["window"]["shape"] == [None, 24]
    offset, scale = frame.attrs["scaling"]
    by_hand = np.asarray(trained.model(raw)).reshape(-1) * scale + offset  # the model's output, unscaled
    np.testing.assert_allclose(served, by_hand, rtol=1e-5)
    assert 10000 < np.median(served) < 20000  # megawatts, not scaled units
    assert S.verify_savedmodel(tmp_path / "export", trained, data, None, signature) < 1e-4


def test_stateful_export_is_a_stateless_copy_over_the_serving_window(tmp_path):
    example = _example(stateful=True, serving_window=12, builder_kwargs={"cell": "lstm", "units": (6,)})
    frame = _table(1)
    trained = S.train(example, frame, _hyper(batch_size=1, train_windows=64, steps_per_execution=16))
    data = S.view(frame, example)
    series = ts.column_windows(frame[ts.WINDOW]).reshape(-1)
    windows = np.lib.stride_tricks.sliding_window_view(series, 12)[:5].astype("float32")
    signature, served = _round_trip(trained, data, tmp_path, windows)
    assert signature["window"]["shape"] == [None, 12]
    expected = []
    for window in windows:  # the trained stateful model, reset, fed the window one hour at a time
        S.reset_states(trained.model)
        for value in window:
            out = float(np.asarray(trained.model(np.array([[value]], "float32")))[0, 0])
        expected.append(out * 5000 + 10000)
    np.testing.assert_allclose(served, expected, rtol=1e-5)


def test_engineered_feature_export_computes_the_books_features_in_graph(tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 200))
    x[1::2] *= 3
    raw = pd.DataFrame(x, columns=[f"t_{i}" for i in range(200)])
    raw.insert(0, "anomaly", [False, True] * 20)
    frame = ts.build_sequences(raw, "anomaly", test_size=0.25, random_state=0)
    example = _example(builder=DENSE, loss="binary_crossentropy", inputs=("std", "std_diff"),
                       builder_kwargs={"units": (30, 10), "output": "sigmoid"})
    trained = S.train(example, frame, _hyper(epochs=5, batch_size=8))
    data = S.view(frame, example)
    curves = keras.Input((200,))
    stats = keras.Model(curves, S.SequenceStats()(curves))
    np.testing.assert_allclose(np.asarray(stats(x.astype("float32"))), ts.sequence_stats(x), rtol=1e-4)
    signature, served = _round_trip(trained, data, tmp_path, x.astype("float32"))
    assert signature["window"]["shape"] == [None, 200]
    expected = np.asarray(trained.model(frame[["std", "std_diff"]].to_numpy("float32"))).reshape(-1)
    np.testing.assert_allclose(served, expected, rtol=1e-4, atol=1e-6)


def test_builders_by_reference_and_the_report_says_how_the_gate_and_sub_sample_were_set():
    from ztdl_pipeline.core import sequence_report
    from ztdl_pipeline.core.report import comparison_rows

    example = _example(builder=DENSE, builder_kwargs={"units": (4,)},
                       primary=("test", "r2"), threshold=0.0)
    assert S.builder(example.builder) is S.dense_stack
    with pytest.raises(ValueError, match="not a reference"):  # bare names are gone: every card names a path
        S.builder("dense_stack")
    frame = _table(6)
    trained = S.train(example, frame, _hyper(epochs=1, train_windows=50))
    metrics = S.evaluate(example, trained, frame)
    metrics["book"] = comparison_rows(metrics, example.book)
    text = sequence_report.report_markdown(example, trained, metrics, {}, -10.0, embed=False)
    assert "(fast-profile floor)" in text and "Trained on the last 50 train windows" in text
    book = S.train(example, frame, _hyper(epochs=1, profile="book"))
    text = sequence_report.report_markdown(example, book, metrics, {}, 0.0, embed=False)
    assert "(see Notes)" in text and "Sub-sample" not in text


def test_every_card_names_a_builder_its_window_table_and_the_series_it_is_cut_from():
    from ztdl_pipeline.catalog import timeseries as catalog

    tables = {name: raw for name, (raw, _) in catalog.WINDOWS.items()}
    tables[catalog.SEQUENCE_TABLE] = catalog.SEQUENCE_TABLE
    assert set(tables.values()) == set(catalog.RAW_FILES)
    for card in catalog.CARDS:
        assert callable(S.builder(card.builder)), card.name
        assert tables[card.dataset] == card.raw_dataset, card.name
        assert set(card.fast) <= set(card.hyper), card.name  # the fast profile only changes the card's settings
