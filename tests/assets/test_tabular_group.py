"""The whole tabular group, materialized once in-process on the real mirror data (fast profile)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import report_metrics
from ztdl_pipeline.catalog import tabular
from ztdl_pipeline.catalog.datasets import CATALOG
from ztdl_pipeline.core.names import op_name, user_key
from ztdl_pipeline.core.results import INLINE_MARKDOWN_LIMIT

EXAMPLES = tabular.CARDS
RECIPES = {spec.dataset: spec.recipe for spec in tabular.FEATURES}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_run_succeeds_and_every_check_passes(tabular_run):
    result, _ = tabular_run
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed]
    assert not failed
    # 2 feature checks per dataset plus label_balance where it holds classes, a gate per report and a reload
    # check per export, and the gate of each scikit-learn comparison
    classified = sum(recipe.classes is not None for recipe in RECIPES.values())
    assert len(evaluations) == 2 * len(RECIPES) + classified + 2 * len(EXAMPLES) + len(tabular.CLASSIC)
    assert 0 < classified < len(RECIPES)  # regression tables have no balance check that could not fail


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_features_parquet_schema_and_rows(tabular_run, mirror, name):
    _, root = tabular_run
    path = root / "features" / f"{name}.parquet"
    table = pq.read_table(path)
    attrs = json.loads(table.schema.metadata[b"ztdl.attrs"])
    for column in attrs["feature_columns"]:
        assert str(table.schema.field(column).type) == "float", column
    assert "split" in table.column_names
    frame = table.to_pandas()
    assert not frame[attrs["feature_columns"]].isna().any().any()
    if name in CATALOG:  # file datasets: one feature row per raw row
        raw = pd.read_csv(mirror / CATALOG[name].filename)
        assert len(frame) == len(raw)
    recipe = RECIPES[name]
    if recipe.test_size:
        # sklearn's train_test_split rounds the test share up
        assert (frame["split"] == "test").sum() == math.ceil(len(frame) * recipe.test_size)
    else:
        assert (frame["split"] == "train").all()
    # scaling is fitted on the train rows only
    for column, (offset, scale) in attrs["scaling"].items():
        train = frame.loc[frame["split"] == "train", column].astype("float64")
        kind = recipe.scaling[column].kind
        if kind == "standard":
            assert offset == pytest.approx(train.mean(), rel=1e-5)
            assert scale == pytest.approx(train.std(ddof=0), rel=1e-5)
        elif kind == "fixed":
            assert (offset, scale) == (0.0, recipe.scaling[column].factor)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_report_files_and_book_comparison(tabular_run, example):
    _, root = tabular_run
    folder = root / "reports" / example.name
    metrics = json.loads((folder / "metrics.json").read_text())
    assert [(r["split"], r["metric"]) for r in metrics["book"]] == [(b.split, b.metric) for b in example.book]
    for row in metrics["book"]:
        assert row["ours"] is not None, f"{example.name}: no measured value for {row['split']}/{row['metric']}"
        assert row["difference"] == pytest.approx(row["ours"] - row["book"])
    markdown = (folder / "report.md").read_text()
    assert "| split | metric | ours | book |" in markdown or not example.book
    pngs = sorted(folder.glob("*.png"))
    assert "learning_curves.png" in {p.name for p in pngs}
    for png in pngs:
        assert png.read_bytes().startswith(PNG_MAGIC)
        assert f"({png.name})" in markdown
    if metrics["task"] != "regression":
        matrix = np.array(metrics["test" if "test" in metrics else "train"]["confusion_matrix"])
        assert matrix.sum() == metrics["test" if "test" in metrics else "train"]["n"]


def test_report_metadata_embeds_plots_for_the_ui(tabular_run):
    result, _ = tabular_run
    for example in EXAMPLES:
        materialization = result.asset_materializations_for_node(op_name("reports", example.name))[0]
        report = materialization.metadata["report"].value
        assert "data:image/png;base64," in report
        assert "Ours vs the book" in report
        # the loss curve the UI shows inline, right after the story, from this model's own history
        keys = list(materialization.metadata)
        curve = materialization.metadata["learning_curve"].value
        assert keys.index("learning_curve") == keys.index("ours_vs_book") + 1
        assert len(curve) < INLINE_MARKDOWN_LIMIT and curve.startswith("![loss per epoch](data:image/png;base64,")
        history = json.loads((tabular_run[1] / "models" / example.name / "history.json").read_text())
        epochs = len(history["loss"])
        assert f"Loss over {epochs} epoch" in curve


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_export_reloads_and_predicts_from_raw_values(tabular_run, mirror, example):
    """tf.saved_model.load + raw CSV rows (as a consumer sends them) == the trained Keras model."""
    import keras
    import tensorflow as tf

    import ztdl_pipeline.core.export  # noqa: F401  (custom layers)
    from ztdl_pipeline.core.features import raw_rows, safe_name, xy
    from ztdl_pipeline.core.tabular import predict_original_units, view
    from ztdl_pipeline.resources.io import read_parquet

    _, root = tabular_run
    model_dir = root / "exports" / example.name
    registry = json.loads((model_dir / "registry.json").read_text())
    assert registry["current"] == 1 and (model_dir / "1" / "saved_model.pb").exists()
    features = view(read_parquet(root / "features" / f"{example.dataset}.parquet"), example)
    raw = read_parquet(root / "raw" / f"{example.dataset}.parquet")
    rows = {safe_name(k): v[:25] for k, v in raw_rows(raw, features).items()}
    assert set(rows) == set(registry["versions"]["1"]["signature"])
    loaded = tf.saved_model.load(str(model_dir / "1"))  # keep a reference: its variables live on it
    served = np.asarray(loaded.serve({k: tf.constant(v) for k, v in rows.items()}))
    model = keras.models.load_model(root / "models" / example.name / "model.keras")
    x, _ = xy(features)
    expected = predict_original_units(model, x[:25], features.attrs)
    np.testing.assert_allclose(served.reshape(expected.shape), expected, rtol=1e-4, atol=1e-5)


def test_housing_export_answers_in_dollars(tabular_run, mirror):
    import tensorflow as tf

    _, root = tabular_run
    loaded = tf.saved_model.load(str(root / "exports" / "housing_linreg" / "1"))
    houses = pd.read_csv(mirror / "housing-data.csv")
    prices = np.asarray(loaded.serve({c: tf.constant(houses[c].to_numpy("float32"))
                                      for c in ("sqft", "bdrms", "age")})).reshape(-1)
    # the model learns price / 1e5; the export must scale back to the CSV's units
    assert np.median(np.abs(prices - houses["price"].to_numpy())) < 0.5 * houses["price"].median()


def test_titanic_export_imputes_missing_age_and_unknown_port(tabular_run):
    """NaN age and an empty port go through the same imputation as the features asset."""
    import tensorflow as tf

    from ztdl_pipeline.resources.io import read_parquet

    _, root = tabular_run
    loaded = tf.saved_model.load(str(root / "exports" / "titanic_fc" / "1"))
    attrs = read_parquet(root / "features" / "titanic.parquet").attrs

    def serve(age: float, embarked: str) -> np.ndarray:
        row = {"age": [age], "sibsp": [0.0], "parch": [0.0], "fare": [8.05], "pclass": np.array([3], "int64"), "sex": ["male"],
               "embarked": [embarked]}
        return np.asarray(loaded.serve({k: tf.constant(v) for k, v in row.items()}))

    median = attrs["imputation"]["Age"]
    with_nan, with_median = serve(float("nan"), "S"), serve(median, "S")
    np.testing.assert_allclose(with_nan.sum(), 1.0, rtol=1e-5)
    assert not np.allclose(with_nan, with_median)  # the was-missing flag is a feature of its own
    assert np.isfinite(serve(30.0, "").sum())


def test_results_table_agrees_with_the_reports(tabular_run, tmp_path):
    """`python -m ztdl_pipeline.results` over the fast run: each tabular row carries its report's numbers."""
    from ztdl_pipeline import results

    _, root = tabular_run
    out = results.write(root, tmp_path / "results.md")
    heads, _ = results.rows(root)
    text = out.read_text()
    tabular = [r for r in heads if r.group == "tabular"]
    assert tabular and all(r.ours is not None and r.profile == "fast" and r.run_id for r in tabular)
    for row in tabular:
        metrics = report_metrics(root, row.example)
        split, metric = row.metric.split("/")
        assert row.ours == metrics[split][metric]
        assert row.baseline == metrics["baselines"][split][metric] == metrics["gate"]["baseline"]
        assert row.threshold == metrics["gate"]["threshold"]
        line = next(line for line in text.splitlines() if line.startswith(f"| `{row.example}` |"))
        assert f"| {row.ours:.4f} |" in line and row.run_id[:8] in line
    assert all(r.verdict == "not run here" for r in heads if r.group != "tabular")


def test_titanic_predictions_score_every_passenger_with_raw_values(tabular_run):
    """predictions/titanic_fc_predictions: the current export scores every raw row, missing ages and ports included."""
    from ztdl_pipeline.resources.io import read_parquet

    _, root = tabular_run
    table = read_parquet(root / "predictions" / "titanic_fc.parquet")
    assert len(table) == 891 and table["PassengerId"].is_unique and set(table["export_version"]) == {1}
    assert set(table["predicted_class"]) <= {0, 1} and set(table["actual"]) == {0, 1}
    probabilities = table[["probability_0", "probability_1"]].to_numpy()
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", ["wines_2d", "wines_2d_functional"])
def test_wines_2d_reports_count_the_books_parameters_and_scatter_the_inner_layer(tabular_run, name):
    """ch5 ex2 (Sequential) and ex3 (functional API): 178 trainable parameters, 112 + 45 + 12 + 9 as the book's
    summary prints them, and the 2-D layer's output for all 178 wines as a plot."""
    _, root = tabular_run
    metrics = report_metrics(root, name)
    assert metrics["params"] == {"trainable": 178.0, "layer_1": 112.0, "layer_2": 45.0, "layer_3": 12.0,
                                 "layer_4": 9.0}
    assert [row["difference"] for row in metrics["book"]] == [0.0] * 5
    folder = root / "reports" / name
    assert "(inner_features.png)" in (folder / "report.md").read_text()
    assert (folder / "inner_features.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("spec", tabular.CLASSIC, ids=lambda spec: spec.name)
def test_scikit_learn_comparisons_report_every_printed_number_and_export_nothing(tabular_run, spec):
    """reports/<name>_report (ch4 ex3, ch5's banknotes forest): every number the book prints has ours beside it and
    agrees with it (the fast profile fits the forest with 5 seeds), a confusion matrix per model, the gate passed,
    no export; the results table lists each number."""
    from ztdl_pipeline import results

    result, root = tabular_run
    metrics = report_metrics(root, spec.name)
    assert metrics["comparison"] == {"numbers": len(spec.book), "agreeing": len(spec.book), "problems": []}
    assert metrics["profile"] == "fast" and metrics["random_forest"]["seed_spread"]["seeds"] == spec.fast["seeds"]
    folder = root / "reports" / spec.name
    markdown = (folder / "report.md").read_text()
    for estimator in spec.estimators:
        assert (folder / f"confusion_matrix_{estimator.name}.png").read_bytes().startswith(PNG_MAGIC)
        assert f"(confusion_matrix_{estimator.name}.png)" in markdown
    report_key = user_key("reports", spec.name)
    gate = [e for e in result.get_asset_check_evaluations() if e.asset_key.to_user_string() == report_key]
    assert [(e.check_name, e.passed) for e in gate] == [("matches_the_book", True)]
    assert not (root / "exports" / spec.name).exists()
    rows = [row for row in results.report_rows(root) if row[0] == f"reports/{spec.name}"]
    assert [row[1] for row in rows] == [f"{n.split}/{n.metric}" for n in spec.book]
    assert all(row[3] is not None and results.agrees(row[4]) for row in rows), rows


@pytest.mark.parametrize("spec", tabular.EXPERIMENTS, ids=lambda spec: spec.name)
def test_chapter_experiments_write_their_report_plots_and_results_rows(tabular_run, spec):
    """reports/<name>_report (ch5's experiments the book shows as plots): the report and its plots on disk, the
    fast profile's epochs in every history, nothing exported, and the results table's rows carrying its numbers
    (each claim's measured numbers, each printed number with its verdict)."""
    from ztdl_pipeline import results

    _, root = tabular_run
    metrics = report_metrics(root, spec.name)
    folder = root / "reports" / spec.name
    pictures = sorted(folder.glob("*.png"))
    assert pictures and all(p.read_bytes().startswith(PNG_MAGIC) for p in pictures)
    assert all(f"({p.name})" in (folder / "report.md").read_text() for p in pictures)
    epochs = {**spec.settings, **spec.fast}.get("epochs")
    assert all(len(h["loss"]) == epochs for h in metrics.get("histories", {}).values())
    assert not (root / "exports" / spec.name).exists()
    claims = [row for row in results.claim_rows(root) if row[0] == f"reports/{spec.name}"]
    measured = [m for claim in tabular.REPORT_CLAIMS.get(spec.name, ()) for m in claim.measured]
    assert [row[2] for row in claims] == measured
    for row in claims:
        split, metric = row[2].split("/")
        assert row[3] == (metrics[split][metric] if metrics[split][metric] is not None else "—")
    printed = [row for row in results.report_rows(root) if row[0] == f"reports/{spec.name}"]
    assert len(printed) == len(spec.book) and all(results.agrees(row[4]) for row in printed), printed
    if spec.tensorboard:  # ch5 ex4: event files where `make tensorboard` looks, the checkpoint beside the data
        logs = Path(metrics["tensorboard"])
        assert logs.is_relative_to(root / "tensorboard" / spec.name) and list(logs.glob("*/events.out.tfevents.*"))
        assert Path(metrics["checkpoint"]["path"]) == root / "checkpoints" / spec.name / "best.keras"
        assert Path(metrics["checkpoint"]["path"]).is_file()
