"""The vision group materialized once in-process (fast profile, sub-samples) on the real mirror data; CIFAR-10,
which the mirror lacks, from a generated archive in CIFAR's own format that raw/cifar10_raw's config points at.
A book-settings run of the MNIST CNN is marked `book`."""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import assert_only_baseline_refusals, report_metrics, savedmodel_of
from tests.unit.test_images import write_cifar_archive
from ztdl_pipeline.assets.base import key
from ztdl_pipeline.catalog.vision import CARDS, IMAGE_FEATURES
from ztdl_pipeline.core import images as I
from ztdl_pipeline.core.names import op_name

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIRROR_MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
CHAPTER_REPORTS = ("digits_learning_curve", "digits_improvements", "squirrel_augmentation", "cifar10_cpu_vs_gpu")


@pytest.fixture(scope="module")
def vision_run(tmp_path_factory, mirror):
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    base = tmp_path_factory.mktemp("vision")
    root = base / "data"
    archive = write_cifar_archive(base / "cifar-10-python.tar.gz")
    config = {"ops": {"raw__cifar10_raw": {"config": {"url": (base / "cifar-10-python.tar.gz").as_uri(),
                                                   "sha256": archive["sha256"]}}}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", "fast")
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                selection=dg.AssetSelection.groups("vision"), run_config=config, raise_on_error=False)
        yield result, root / "fast", instance, archive


def test_every_check_passes_but_the_gates_of_models_no_better_than_the_majority_class(vision_run):
    result, root, _, _ = vision_run
    refused = assert_only_baseline_refusals(result, [card.name for card in CARDS])
    failures = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failures == {f"{op_name('reports', name)}_export_gate" for name in refused}, failures
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 3 * len(IMAGE_FEATURES) + 2 * len(CARDS) - len(refused)  # no reload check unexported


def test_raw_data_versions_are_the_verified_bytes(vision_run):
    _, _, instance, archive = vision_run

    def version(name):
        record = instance.get_latest_data_version_record(key("raw", name))
        return record.asset_event.tags["dagster/data_version"]

    assert version("mnist") == MIRROR_MNIST_SHA256
    assert version("cifar10") == archive["sha256"]  # the generated copy, pinned by its own hash
    from ztdl_pipeline.catalog.datasets import FOLDERS

    assert version("male_female") == FOLDERS["male_female"].sha256  # the per-file manifest's hash


@pytest.mark.parametrize("name,train,test,shape", [("mnist", 2000, 500, [28, 28]), ("cifar10", 200, 100, [32, 32, 3]),
                                                   ("digits", 1257, 540, [8, 8]),
                                                   ("male_female", 240, 100, [64, 64, 3])])
def test_features_are_uint8_tensor_parquet(vision_run, name, train, test, shape):
    _, root, _, archive = vision_run
    path = root / "features" / f"{name}.parquet"
    field = pq.read_schema(path).field("image")
    assert isinstance(field.type, pa.FixedShapeTensorType) and list(field.type.shape) == shape
    assert field.type.value_type == pa.uint8()
    table = pq.read_table(path)
    attrs = I.table_attrs(table)
    assert attrs["image_shape"] == shape and attrs["splits"] == {"train": train, "test": test}
    assert pa.types.is_integer(table.schema.field("label").type)
    x, y = I.split_arrays(table, "train")
    assert x.shape == (train, *shape) and x.dtype == np.uint8 and len(y) == train
    assert len(np.unique(y)) == len(attrs["classes"])  # the sample is stratified: every class is there
    if name == "cifar10":  # the generated archive's images, in order
        np.testing.assert_array_equal(x, archive["x_train"])
        np.testing.assert_array_equal(I.split_arrays(table, "test")[1], archive["y_test"])


@pytest.mark.parametrize("example", list(CARDS), ids=lambda e: e.name)
def test_reports_compare_with_the_book_and_show_mistakes(vision_run, example):
    _, root, _, _ = vision_run
    folder = root / "reports" / example.name
    metrics = json.loads((folder / "metrics.json").read_text())
    assert [(r["split"], r["metric"]) for r in metrics["book"]] == [(b.split, b.metric) for b in example.book]
    assert all(r["ours"] is not None for r in metrics["book"])
    test = metrics["test"]
    assert 0.0 <= test["accuracy"] <= 1.0 and test["loss"] > 0
    assert np.asarray(test["confusion_matrix"]).sum() == test["n"]
    assert test["accuracy"] >= example.fast_floor  # learned something even on the fast profile's sample
    markdown = (folder / "report.md").read_text()
    for png in ("learning_curves", "confusion_matrix", "misclassified"):
        assert (folder / f"{png}.png").read_bytes().startswith(PNG_MAGIC)
        assert f"({png}.png)" in markdown
    assert "| split | metric | ours | book |" in markdown


@pytest.mark.parametrize("example", list(CARDS), ids=lambda e: e.name)
def test_exports_take_raw_uint8_images(vision_run, example, tmp_path):
    import keras
    import tensorflow as tf

    from ztdl_pipeline.core.registry import savedmodel_signature

    _, root, _, _ = vision_run
    path = savedmodel_of(root, example.name, tmp_path)  # published, or built as the gated export would be
    signature = savedmodel_signature(path)["inputs"]
    table = pq.read_table(root / "features" / f"{example.dataset}.parquet")
    shape = I.table_attrs(table)["image_shape"]
    assert signature["image"]["dtype"] == "uint8" and signature["image"]["shape"] == [-1, *shape]
    x, _ = I.split_arrays(table, "test")
    loaded = tf.saved_model.load(str(path))
    served = loaded.serve({"image": tf.constant(x[:64])}).numpy()
    keras_model = keras.models.load_model(root / "models" / example.name / "model.keras")
    np.testing.assert_allclose(served, keras_model.predict({"image": x[:64]}, verbose=0), atol=1e-5)
    if served.shape[1] > 1:
        np.testing.assert_allclose(served.sum(axis=1), 1.0, atol=1e-5)


def test_chapter_reports(vision_run):
    _, root, _, _ = vision_run
    for name in CHAPTER_REPORTS:
        assert "## " in (root / "reports" / name / "report.md").read_text()
    curve = report_metrics(root, "digits_learning_curve")
    assert [p["train_size"] for p in curve["points"]] == [125, 377, 628, 879, 1131]  # the book's L13781
    variants = report_metrics(root, "digits_improvements")["variants"]
    assert list(variants) == ["base", "l2", "dropout", "dropout_max_norm", "batch_norm", "augmentation"]
    for result in variants.values():
        assert len(result["train_mean"]) == result["epochs"] and len(result["final_test"]) == result["repeats"]
        assert 0 < np.mean(result["final_test"]) <= 1
    assert variants["batch_norm"]["batch_size"] == 32 and variants["augmentation"]["steps_per_epoch"] == 5
    devices = report_metrics(root, "cifar10_cpu_vs_gpu")
    assert devices["rows"][0]["device"] == "cpu:0" and devices["rows"][0]["images_per_second_last_epoch"] > 0
    assert [b["total_seconds"] for b in devices["book"]] == [60.376, 9.329, 6.8]
    squirrel = report_metrics(root, "squirrel_augmentation")
    assert (squirrel["images"], squirrel["classes"], squirrel["count"]) == (1, ["class_0"], 16)
    assert squirrel["changed_pixel_share"] > 0.3


def test_offline_cifar_fails_clearly_and_the_rest_runs(data_env, tmp_path):
    """Without its run config and without network, raw/cifar10_raw fails with a DataError; the selection that
    leaves CIFAR out (as `make run SELECT=...` can) needs nothing it lacks."""
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources
    from ztdl_pipeline.resources import DatasetSource

    offline = {**resources(), "data_source": DatasetSource(allow_download=False)}
    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=offline, instance=dg.DagsterInstance.ephemeral(),
                            selection='key:"raw/cifar10_raw" or key:"raw/generator_raw" or key:"raw/digits_raw"',
                            raise_on_error=False)
    def messages(error):  # the step error and the errors that caused it
        return error.message + (messages(error.cause) if error.cause else "")

    failures = {e.step_key: messages(e.event_specific_data.error) for e in result.all_events if e.is_step_failure}
    assert list(failures) == ["raw__cifar10_raw"]
    assert "keras_datasets/cifar-10-python.tar.gz: not in the cache" in failures["raw__cifar10_raw"]
    assert "ZTDL_DATA_MIRROR" in failures["raw__cifar10_raw"]


@pytest.mark.book
def test_book_settings_mnist_cnn_reaches_098(tmp_path, mirror, monkeypatch):
    """ch6 CNN at the book's settings (60,000 images, 5 epochs, batch 128, rmsprop, validation_split 0.3):
    the book's test accuracy is 0.9835; the gate asks for ≥ 0.9735 and this test for ≥ 0.98."""
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    monkeypatch.setenv("ZTDL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ZTDL_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ZTDL_PROFILE", "book")
    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(),
                            instance=dg.DagsterInstance.ephemeral(), selection='+key:"exports/mnist_cnn_export"',
                            raise_on_error=False)
    assert result.success
    metrics = report_metrics(tmp_path / "data", "mnist_cnn")
    print(f"book-settings mnist_cnn: test accuracy {metrics['test']['accuracy']:.4f}, "
          f"train accuracy {metrics['train']['accuracy']:.4f}, test loss {metrics['test']['loss']:.4f}")
    assert metrics["profile"] == "book" and metrics["test"]["n"] == 10000
    assert metrics["test"]["accuracy"] >= 0.98
    assert (tmp_path / "data" / "exports" / "mnist_cnn" / "1" / "saved_model.pb").exists()
