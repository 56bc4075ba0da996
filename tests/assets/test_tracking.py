"""Experiment tracking and what the UI shows, on banknotes_logreg (it trains in seconds): its chain materialized
twice in-process on a persistent instance with a real MLflow store (ZTDL_MLFLOW_URI=local: the local store under
the profile's root), the second time with another learning rate, so that a second model version is trained and
exported.

- MLflow holds two runs with the hyper-parameters and every epoch's metrics, each linked both ways with its
  export registry version (registry.json records the run id; the run is tagged with the version and path and
  holds the SavedModel as artifacts);
- TensorBoard event files hold each training's per-epoch scalars, one folder per model version and run, and
  they agree with MLflow's;
- the report's materialization shows a short inline "ours vs the book", its metrics as a table, rounded floats;
  the model's hyper-parameters are JSON; the runs carry the profile and commit tags.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from ztdl_pipeline.assets.base import key
from ztdl_pipeline.core import experiments
from ztdl_pipeline.core.provenance import COMMIT_TAG, PROFILE_TAG, git_commit
from ztdl_pipeline.core.report import significant
from ztdl_pipeline.core.results import INLINE_MARKDOWN_LIMIT
from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

NAME = "banknotes_logreg"
MODEL, REPORT, EXPORT = (key(layer, NAME) for layer in ("models", "reports", "exports"))
EPOCHS = 5  # the card's fast-profile epochs
RATES = (0.01, 0.05)  # the book's learning rate, then another: two model versions, two export versions


@pytest.fixture(scope="module")
def two_trainings(tmp_path_factory, mirror):
    """(instance, [run results], the fast profile's root) after the chain ran with each learning rate."""
    root = tmp_path_factory.mktemp("tracking")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root / "data"))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", "fast")
        patch.setenv("ZTDL_MLFLOW_URI", "local")  # the local store under the profile's root
        (root / "home").mkdir()
        with dg.instance_for_test(temp_dir=str(root / "home")) as instance:
            runs = []
            for rate in RATES:
                config = {"ops": {"models__banknotes_logreg_model": {"config": {"learning_rate": rate}}}}
                result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                        selection=dg.AssetSelection.assets(EXPORT).upstream(), run_config=config,
                                        raise_on_error=False)
                assert result.success, [str(e.event_specific_data.error) for e in result.all_events
                                        if e.is_step_failure]
                runs.append(result)
            yield instance, runs, root / "data" / "fast"


def _materializations(instance, asset_key) -> list[dg.AssetMaterialization]:
    records = instance.fetch_materializations(asset_key, limit=10, ascending=True).records
    return [record.asset_materialization for record in records]


def _mlflow(root: Path):
    return experiments.client(experiments.local_store(root / "mlflow" / "store"))


def _registry(root: Path) -> dict:
    return json.loads((root / "exports" / NAME / "registry.json").read_text())


def test_two_trainings_are_two_mlflow_runs_with_parameters_and_every_epochs_metrics(two_trainings):
    instance, runs, root = two_trainings
    client = _mlflow(root)
    experiment = client.get_experiment_by_name(NAME)
    assert experiment is not None
    found = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    models = _materializations(instance, MODEL)
    assert [r.info.run_id for r in found] == [m.metadata["mlflow_run_id"].value for m in models]
    for run, rate, model, result in zip(found, RATES, models, runs):
        assert run.info.status == "FINISHED"
        assert float(run.data.params["learning_rate"]) == rate and run.data.params["epochs"] == str(EPOCHS)
        losses = client.get_metric_history(run.info.run_id, "loss")
        assert sorted(m.step for m in losses) == list(range(1, EPOCHS + 1))
        assert run.data.tags[experiments.MODEL_VERSION_TAG] == model.tags["dagster/data_version"]
        assert run.data.tags["dagster.run_id"] == result.run_id and run.data.tags[PROFILE_TAG] == "fast"


def test_each_export_version_and_its_mlflow_run_point_at_each_other(two_trainings):
    _, _, root = two_trainings
    client = _mlflow(root)
    versions = _registry(root)["versions"]
    assert sorted(versions) == ["1", "2"]
    run_ids = set()
    for version, entry in versions.items():
        run = client.get_run(entry["mlflow_run_id"])  # registry -> MLflow
        assert run.data.tags[experiments.EXPORT_VERSION_TAG] == version  # MLflow -> registry
        assert run.data.tags[experiments.EXPORT_PATH_TAG] == entry["path"] == str(root / "exports" / NAME / version)
        logged = {a.path for a in client.list_artifacts(run.info.run_id, experiments.ARTIFACT_FOLDER)}
        assert f"{experiments.ARTIFACT_FOLDER}/saved_model.pb" in logged
        run_ids.add(run.info.run_id)
    assert len(run_ids) == 2


def _scalars(folder: Path) -> dict[str, dict[int, float]]:
    """Every scalar in the event files of one TensorBoard run folder: {tag: {step: value}}."""
    import tensorflow as tf

    found: dict[str, dict[int, float]] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    return found


def test_tensorboard_event_files_hold_each_trainings_per_epoch_scalars(two_trainings):
    instance, runs, root = two_trainings
    client = _mlflow(root)
    models = _materializations(instance, MODEL)
    folders = [Path(m.metadata["tensorboard"].value) for m in models]
    # one folder per model version and run: tensorboard/<name>/<model version>/<run>
    assert [f.relative_to(root / "tensorboard" / NAME).parts for f in folders] == [
        (m.tags["dagster/data_version"][:12], r.run_id[:8]) for m, r in zip(models, runs)]
    for folder, model in zip(folders, models):
        scalars = _scalars(folder / "train")
        assert sorted(scalars["loss"]) == list(range(1, EPOCHS + 1))
        tracked = {m.step: m.value for m in client.get_metric_history(model.metadata["mlflow_run_id"].value, "loss")}
        assert scalars["loss"] == pytest.approx(tracked, rel=1e-6)  # the same training, seen by both
    assert _scalars(folders[0] / "train")["loss"] != _scalars(folders[1] / "train")["loss"]


def test_the_report_tells_its_story_inline_with_a_metrics_table_and_rounded_numbers(two_trainings):
    instance, _, _ = two_trainings
    report = _materializations(instance, REPORT)[-1].metadata
    story = report["ours_vs_book"].value
    assert len(story) < INLINE_MARKDOWN_LIMIT  # shown inline, not behind "[Show Markdown]"
    assert story.startswith("**test/accuracy** (the gate): ours **") and "the book's 0.9782, tolerance 0.03" in story
    assert "data:image/png" in report["report"].value  # the full report, plots included, stays beside it
    table = report["metrics"].value
    assert [c.name for c in table.schema.columns] == ["split", "metric", "ours", "book"]
    rows = {(r.data["split"], r.data["metric"]): r.data for r in table.records}
    assert rows[("test", "accuracy")]["book"] == 0.9782 and rows[("test", "accuracy")]["ours"] == report[
        "test_accuracy"].value
    for label, entry in report.items():  # every float entry is a float (plottable), shown to 4 digits
        if isinstance(entry, dg.FloatMetadataValue):
            assert entry.value == significant(entry.value), label


def test_hyper_parameters_are_json_and_runs_carry_profile_and_commit(two_trainings):
    instance, runs, _ = two_trainings
    model = _materializations(instance, MODEL)[-1].metadata
    assert isinstance(model["hyper_parameters"], dg.JsonMetadataValue)
    assert model["hyper_parameters"].value["learning_rate"] == RATES[-1]
    for result in runs:
        tags = instance.get_run_by_id(result.run_id).tags
        assert tags[PROFILE_TAG] == "fast" and tags[COMMIT_TAG] == git_commit()
