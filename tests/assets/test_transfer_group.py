"""The transfer group materialized once in-process (fast profile: random Xception weights at 71×71, 24 + 12 of the
mirror's male/female photos), on its own (the vision group's raw/male_female_raw is not materialized); the sports
assets, which need network, are left out here (tests/unit/test_downloads.py runs raw/sports_images_raw against a local server)."""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import assert_only_baseline_refusals, write_keras_weights_file
from ztdl_pipeline.catalog.transfer import CARDS
from ztdl_pipeline.core.names import op_name, user_key
from ztdl_pipeline.resources.pretrained import WEIGHT_FILES, PretrainedModels

NAMES = [card.name for card in CARDS if card.raw_dataset == "male_female"]


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory, mirror):
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    root = tmp_path_factory.mktemp("transfer") / "data"
    # raw/male_female_raw (vision group) is not selected: the group reads the folder through the data source
    selection = dg.AssetSelection.groups("transfer") - dg.AssetSelection.key_substring("sports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", "fast")
        patch.setenv("KERAS_HOME", str(root / "no-keras-home"))  # no stray weight files: random weights
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                selection=selection, raise_on_error=False)
        yield result, root / "fast"


def _metadata(result, key: str) -> dict:
    return result.asset_materializations_for_node(key.replace("/", "__"))[0].metadata


def _savedmodel(root, name: str, workdir):
    """The published version 1, or, where the gate refused the model (random Xception weights on a few dozen
    pictures rarely beat the majority class), the SavedModel the export asset would have written."""
    published = root / "exports" / name / "1"
    if published.is_dir():
        return published
    import keras

    from ztdl_pipeline.core import transfer as T

    model = keras.models.load_model(root / "models" / name / "model.keras")
    info = json.loads((root / "models" / name / "training.json").read_text())
    T.write_export(model, workdir / name / "1", info["image_size"], info["resize"])
    return workdir / name / "1"


def test_every_check_passes_but_the_gates_of_models_no_better_than_chance(transfer_run):
    result, root = transfer_run
    refused = assert_only_baseline_refusals(result, NAMES)
    failures = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failures == {f"{op_name('reports', name)}_export_gate" for name in refused}, failures
    for name in NAMES:
        assert (root / "exports" / name / "1").is_dir() == (name not in refused), name
    evaluations = result.get_asset_check_evaluations()
    expected = [("features/male_female_bottlenecks_features", check) for check in ("label_balance", "row_counts",
                                                                         "schema_and_nulls")]
    for name in NAMES:  # head, end-to-end and fine-tuned: each gated, and exported where the gate passed
        if name not in refused:
            expected += [(user_key("exports", name), "savedmodel_matches_keras"), (user_key("reports", name), "export_gate")]
    assert sorted((e.asset_key.to_user_string(), e.check_name) for e in evaluations if e.passed) == sorted(expected)


def test_bottleneck_parquet(transfer_run):
    from ztdl_pipeline.core import transfer as T

    result, root = transfer_run
    path = root / "features" / "male_female_bottlenecks.parquet"
    field = pq.read_schema(path).field("bottleneck")
    assert pa.types.is_fixed_size_list(field.type) and field.type.list_size == 2048
    table = pq.read_table(path)
    attrs = T.table_attrs(table)
    assert attrs["splits"] == {"train": 24, "test": 12} and attrs["classes"] == ["0_female", "1_male"]
    assert attrs["image_size"] == 71 and attrs["weights"]["weights"] == "random"
    assert table.column("split").to_pylist() == ["train"] * 24 + ["test"] * 12
    assert np.bincount(table.column("label").to_numpy()).tolist() == [18, 18]
    assert all("/raw/male_female/" in f for f in table.column("file").to_pylist())
    meta = _metadata(result, "features/male_female_bottlenecks_features")
    assert meta["images_per_second"].value > 0 and "RANDOM" in meta["weights"].value


def test_models_reports_and_random_weights_banner(transfer_run):
    result, root = transfer_run
    for name in NAMES:
        metrics = json.loads((root / "reports" / name / "metrics.json").read_text())
        assert metrics["weights"]["weights"] == "random" and metrics["profile"] == "fast"
        assert metrics["test"]["n"] == 12 and 0.0 <= metrics["test"]["accuracy"] <= 1.0
        assert "RANDOM WEIGHTS" in (root / "reports" / name / "report.md").read_text()
        assert (root / "models" / name / "model.keras").stat().st_size > 1_000_000  # Xception inside
    training = json.loads((root / "models" / "male_female_fine_tuned" / "training.json").read_text())
    assert training["details"]["frozen_base_layers"] == 126 and training["hyper"]["optimizer"] == "sgd"
    end_to_end = json.loads((root / "models" / "male_female_transfer_end_to_end" / "training.json").read_text())
    assert training["trainable_params"] > end_to_end["trainable_params"] > 256 * 2048  # top blocks unfrozen
    assert _metadata(result, "models/male_female_bottleneck_head_model")["head_params"].value == 2048 * 16 + 16 + 34


def test_image_search_report_matches_the_stored_index(transfer_run):
    from ztdl_pipeline.core.image_search import CosineIndex, precision_at_k

    _, root = transfer_run
    metrics = json.loads((root / "reports" / "male_female_image_search" / "metrics.json").read_text())
    index = CosineIndex.load(root / "indexes" / "male_female_image_search")
    assert index.unit.shape == (36, 2048)
    again = precision_at_k(index, index.rows.label.to_numpy(), metrics["k"])
    assert metrics["precision_overall"] == pytest.approx(again["overall"])
    assert set(metrics["precision_per_class"]) == {"0_female", "1_male"} and len(metrics["queries"]) == 4
    assert (root / "reports" / "male_female_image_search" / "neighbours.png").read_bytes()[:4] == b"\x89PNG"


def test_zero_shot_report(transfer_run):
    _, root = transfer_run
    metrics = json.loads((root / "reports" / "xception_zero_shot" / "metrics.json").read_text())
    assert set(metrics["predictions"]) >= {"creative_commons_elephant.jpg", "iss.jpg"}
    assert len(metrics["predictions"]) == 4 and metrics["weights"]["params"] == 22_910_480  # the book's total
    for ranked in metrics["predictions"].values():
        probabilities = [r["probability"] for r in ranked]
        assert len(ranked) == 5 and probabilities == sorted(probabilities, reverse=True)
        assert all(r["wnid"].startswith("n") for r in ranked)


@pytest.mark.parametrize("name", NAMES)
def test_export_serves_raw_bytes(transfer_run, mirror, name, tmp_path):
    import tensorflow as tf

    from ztdl_pipeline.core.registry import savedmodel_signature
    from ztdl_pipeline.serving import registry

    _, root = transfer_run
    path = _savedmodel(root, name, tmp_path)
    if (root / "exports" / name / "1").is_dir():  # published: the registry describes it
        assert registry.list_versions(name, root=root / "exports") == [1]
        entry = registry.entry(name, root=root / "exports")
        assert entry["signature"]["image_bytes"]["dtype"] == "string" and entry["weights"] == "random"
    assert savedmodel_signature(path)["inputs"]["image_bytes"]["dtype"] == "string"
    model = tf.saved_model.load(str(path))
    blobs = [p.read_bytes() for p in sorted((mirror / "male_female" / "test" / "1_male").iterdir())[:3]]
    probabilities = model.signatures["serving_default"](image_bytes=tf.constant(blobs))["output_0"].numpy()
    assert probabilities.shape == (3, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


HEAD_CHAIN = ["features/male_female_bottlenecks_features", "models/male_female_bottleneck_head_model",
              "reports/male_female_bottleneck_head_report", "exports/male_female_bottleneck_head_export",
              "reports/male_female_image_search_report"]


def _materialize_chain(root, mirror, profile: str, pretrained: PretrainedModels):
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    selection = dg.AssetSelection.assets(*[dg.AssetKey(k.split("/")) for k in HEAD_CHAIN])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", profile)
        patch.setenv("KERAS_HOME", str(root / "no-keras-home"))
        return dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources={**resources(), "pretrained": pretrained},
                              instance=dg.DagsterInstance.ephemeral(), selection=selection, raise_on_error=False)


def test_a_configured_weights_file_is_used_and_reports_carry_no_banner(tmp_path, mirror):
    """With weights available (a stand-in file in Keras' format at the configured path) the chain runs on them:
    no random-weights fallback, no banner, the weights recorded in the features, report and export."""
    root = tmp_path / "data"
    weights = tmp_path / "models" / WEIGHT_FILES[False][0]
    write_keras_weights_file(weights, seed=5)
    pretrained = PretrainedModels(notop_weights_path=str(weights), verify_md5=False, allow_download=False)
    result = _materialize_chain(root, mirror, "fast", pretrained)
    refused = assert_only_baseline_refusals(result, ["male_female_bottleneck_head"])
    root = root / "fast"  # the fast profile's storage root
    from ztdl_pipeline.core import transfer as T
    from ztdl_pipeline.serving import registry

    attrs = T.table_attrs(pq.read_table(root / "features" / "male_female_bottlenecks.parquet"))
    assert attrs["weights"]["weights"] == "imagenet" and attrs["weights"]["path"] == str(weights)
    for report in ("male_female_bottleneck_head", "male_female_image_search"):
        assert "RANDOM WEIGHTS" not in (root / "reports" / report / "report.md").read_text()
    report = json.loads((root / "reports" / "male_female_bottleneck_head" / "metrics.json").read_text())
    assert report["weights"]["weights"] == "imagenet"
    if not refused:
        assert registry.entry("male_female_bottleneck_head", root=root / "exports")["weights"] == "imagenet"


def test_book_profile_without_weights_fails_clearly_and_writes_nothing(tmp_path, mirror):
    root = tmp_path / "data"
    result = _materialize_chain(root, mirror, "book", PretrainedModels(allow_download=False))
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "features__male_female_bottlenecks_features"
    message = str(failure.event_specific_data.error)
    assert "Xception ImageNet weights" in message and "notop_weights_path" in message and "ZTDL_PROFILE=fast" in message
    assert not (root / "features" / "male_female_bottlenecks.parquet").exists()


def test_sports_branch_from_downloaded_pictures(tmp_path, mirror):
    """The book's own set, end to end: raw/sports_images_raw downloads sports.csv's pictures (from a local server
    standing in for the canonical host), then its bottlenecks, the head classifier, its export and the image
    search run on the 3 classes (fast profile: random weights at 71×71)."""
    from tests.unit.test_downloads import Server
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    root = tmp_path / "data"
    chain = ["raw/sports_images_raw", "features/sports_bottlenecks_features", "models/sports_bottleneck_head_model",
             "reports/sports_bottleneck_head_report", "exports/sports_bottleneck_head_export", "reports/sports_image_search_report"]
    with Server() as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", "fast")
        patch.setenv("KERAS_HOME", str(root / "no-keras-home"))
        result = dg.materialize(
            [*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=dg.DagsterInstance.ephemeral(),
            selection=dg.AssetSelection.assets(*[dg.AssetKey(k.split("/")) for k in chain]),
            run_config={"ops": {"raw__sports_images_raw": {"config": {"url_prefix": server.url, "per_class": 4}}}},
            raise_on_error=False)
    refused = assert_only_baseline_refusals(result, ["sports_bottleneck_head"])
    root = root / "fast"  # the fast profile's storage root
    from ztdl_pipeline.core import transfer as T

    attrs = T.table_attrs(pq.read_table(root / "features" / "sports_bottlenecks.parquet"))
    assert attrs["classes"] == ["Beach volleyball", "Cross-country skiing", "Formula racing"]
    assert attrs["splits"] == {"train": 12, "test": 12}  # 4 per class and split
    report = json.loads((root / "reports" / "sports_bottleneck_head" / "metrics.json").read_text())
    assert report["test"]["n"] == 12 and len(report["test"]["confusion_matrix"]) == 3
    search = json.loads((root / "reports" / "sports_image_search" / "metrics.json").read_text())
    assert set(search["precision_per_class"]) == set(attrs["classes"])
    assert (root / "exports" / "sports_bottleneck_head" / "1" / "saved_model.pb").is_file() == (not refused)
