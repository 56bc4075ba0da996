"""The serving group in-process: raw/wifi_location_raw -> features -> models/wifi_fc_model -> reports -> exports.

The fast profile checks the wiring (sparse labels, the book's network, report, gated export, registry
entry, raw-value SavedModel); the book-settings test (`-m book`) checks the book's 0.978 test accuracy.
"""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.catalog.datasets import CATALOG
from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, defs, resources

ROUTERS = [f"a_{i}" for i in range(1, 8)]


def _materialize(root, mirror, profile: str):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", profile)
        return dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(),
                              instance=dg.DagsterInstance.ephemeral(),
                              selection=dg.AssetSelection.groups("serving"), raise_on_error=False)


@pytest.fixture(scope="module")
def serving_run(tmp_path_factory, mirror):
    root = tmp_path_factory.mktemp("serving_group") / "data"
    return _materialize(root, mirror, "fast"), root / "fast"


def test_group_holds_the_wifi_chain_and_a_job():
    serving = [a for a in ALL_ASSETS if set(a.group_names_by_key.values()) == {"serving"}]
    keys = {key.to_user_string() for a in serving for key in a.keys}
    assert keys == {"raw/wifi_location_raw", "features/wifi_location_features", "models/wifi_fc_model", "reports/wifi_fc_report",
                    "exports/wifi_fc_export", "predictions/wifi_fc_predictions"}
    assert defs.resolve_job_def("serving_job").name == "serving_job"


def test_run_succeeds_and_every_check_passes(serving_run):
    result, _ = serving_run
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key.to_user_string(), e.check_name) for e in evaluations} == {
        ("features/wifi_location_features", "schema_and_nulls"), ("features/wifi_location_features", "row_counts"),
        ("features/wifi_location_features", "label_balance"), ("reports/wifi_fc_report", "export_gate"),
        ("exports/wifi_fc_export", "savedmodel_matches_keras")}
    assert all(e.passed for e in evaluations)


def test_features_keep_integer_labels_and_the_books_split(serving_run, mirror):
    from ztdl_pipeline.resources.io import read_parquet

    _, root = serving_run
    frame = read_parquet(root / "features" / "wifi_location.parquet")
    raw = pd.read_csv(mirror / "wifi_location.csv")
    assert frame.attrs["feature_columns"] == ROUTERS and frame.attrs["target_columns"] == ["location"]
    assert frame["location"].dtype == np.int64 and sorted(frame["location"].unique()) == [0, 1, 2, 3]
    np.testing.assert_array_equal(frame[ROUTERS].to_numpy(), raw[ROUTERS].to_numpy("float32"))
    from sklearn.model_selection import train_test_split

    _, test_index = train_test_split(np.arange(len(raw)), test_size=0.25, random_state=0)
    assert set(np.flatnonzero(frame["split"] == "test")) == set(test_index)


def test_model_is_the_books_network_trained_on_sparse_labels(serving_run):
    import keras

    _, root = serving_run
    model = keras.models.load_model(root / "models" / "wifi_fc" / "model.keras")
    training = json.loads((root / "models" / "wifi_fc" / "training.json").read_text())
    assert training["trainable_params"] == 2298  # the book's summary: 2,298 trainable + 14 non-trainable
    assert model.count_params() == 2312
    assert [type(layer).__name__ for layer in model.layers] == ["BatchNormalization", "Dense", "Dense", "Dense",
                                                                  "Dense"]
    assert model.loss == "sparse_categorical_crossentropy"
    assert training["hyper"]["batch_size"] == 128 and training["hyper"]["optimizer"] == "adam"
    history = json.loads((root / "models" / "wifi_fc" / "history.json").read_text())
    assert history["loss"][-1] < history["loss"][0]


def test_report_compares_with_the_book(serving_run):
    _, root = serving_run
    metrics = json.loads((root / "reports" / "wifi_fc" / "metrics.json").read_text())
    (row,) = metrics["book"]
    assert (row["split"], row["metric"], row["book"]) == ("test", "accuracy", 0.978)
    assert row["ours"] == metrics["test"]["accuracy"] and metrics["test"]["n"] == 500
    assert np.array(metrics["test"]["confusion_matrix"]).shape == (4, 4)
    assert metrics["test"]["accuracy"] > 0.7  # fast profile: 20 epochs (book: 40)
    assert (root / "reports" / "wifi_fc" / "confusion_matrix.png").is_file()


def test_export_is_registered_and_answers_raw_rows(serving_run, mirror):
    import tensorflow as tf

    result, root = serving_run
    registry = json.loads((root / "exports" / "wifi_fc" / "registry.json").read_text())
    assert registry["current"] == 1
    entry = registry["versions"]["1"]
    assert entry["run_id"] == result.run_id
    assert entry["upstream_data_versions"]["raw/wifi_location_raw"] == CATALOG["wifi_location"].sha256
    assert entry["output_signature"]["output_0"]["shape"] == [-1, 4]
    raw = pd.read_csv(mirror / "wifi_location.csv")
    loaded = tf.saved_model.load(str(root / "exports" / "wifi_fc" / "1"))
    probabilities = np.asarray(loaded.serve({c: tf.constant(raw[c].to_numpy("float32")) for c in ROUTERS}))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == raw["location"].to_numpy()))
    assert accuracy == pytest.approx(json.loads((root / "reports" / "wifi_fc" / "metrics.json").read_text())
                                     ["all"]["accuracy"], abs=1e-9)


@pytest.mark.book
def test_book_settings_reach_the_books_accuracy(tmp_path, mirror):
    """ch13: 40 epochs, batch 128, adam 0.001 -> the book reports 0.978 test accuracy."""
    result = _materialize(tmp_path / "data", mirror, "book")
    assert result.success
    metrics = json.loads((tmp_path / "data" / "reports" / "wifi_fc" / "metrics.json").read_text())
    accuracy = metrics["test"]["accuracy"]
    print(f"wifi_fc test accuracy at book settings: {accuracy:.4f} (book 0.978)")
    assert accuracy >= 0.95, accuracy
    assert (tmp_path / "data" / "exports" / "wifi_fc" / "1" / "saved_model.pb").is_file()

    # the book's client (L18476-18545) sends X_test[:5] to the served model and gets y_test[:5] = [0, 2, 2, 1, 3]
    from tests.serving.helpers import start_server, stop_server
    from ztdl_pipeline.serving.client import predict

    book_rows = [[-62, -58, -59, -59, -67, -80, -77], [-49, -53, -50, -48, -67, -78, -88],
                 [-52, -57, -49, -50, -66, -80, -80], [-40, -55, -52, -43, -60, -76, -72],
                 [-64, -59, -51, -67, -43, -88, -92]]
    server = start_server(tmp_path / "data" / "exports", tmp_path / "serve.log")
    try:
        probabilities = predict(server.url, "wifi_fc", [dict(zip(ROUTERS, row)) for row in book_rows])
    finally:
        stop_server(server)
    assert np.argmax(probabilities, axis=1).tolist() == [0, 2, 2, 1, 3]
