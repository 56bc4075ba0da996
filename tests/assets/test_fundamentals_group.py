"""The fundamentals group materialized in-process: reports/fundamentals_report (no data file) records every
number the DataCamp memo prints next to ours, its blocking check passes, and the results table lists them;
reports/intro_ann_mlp_report trains seed 003's NumPy MLP and its Keras twin on a stand-in intro_to_ann.csv (no
public copy exists: the test writes one and points ZTDL_SOURCE_INTRO_TO_ANN at it)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import group_run
from tests.unit.test_intro_ann import write_intro_to_ann
from ztdl_pipeline.assets.base import key
from ztdl_pipeline.catalog import fundamentals as catalog

ISSUE_NUMBERS = {  # issue 16's list of the memo's numbers
    "forward_prop_2x2/node_0_input": 26, "forward_prop_2x2/prediction": -39, "relu_forward/prediction": 52,
    "relu_many_rows/row_0": 52, "relu_many_rows/row_1": 63, "relu_many_rows/row_2": 0, "relu_many_rows/row_3": 148,
    "deeper_network_2_hidden/prediction": 182, "model_error/error": 11, "model_error/error_before": 9,
    "model_error/error_after": 9.08, "perfect_weights/error_0": 6, "perfect_weights/error_1": 0,
    "mse_two_weight_sets/mse_0": 37.5, "mse_two_weight_sets/mse_1": 49.890625,
    "gradient_descent_slopes/slope_0": -14, "gradient_descent_slopes/slope_1": -28,
    "gradient_descent_slopes/slope_2": -42, "gradient_descent_slopes/weights_updated_0": -0.14,
    "gradient_descent_slopes/weights_updated_1": 1.72, "gradient_descent_slopes/weights_updated_2": 0.58,
    "gradient_descent_slopes/error_before": 7, "gradient_descent_slopes/error_after": 5.04,
    "backprop_quiz/gradient_0": 0, "backprop_quiz/gradient_3": 18, "backprop_quiz/gradient_last": 6,
}


@pytest.fixture(scope="module")
def fundamentals_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("fundamentals") / "data"
    empty = tmp_path_factory.mktemp("no_mirror")  # the group reads no file of the mirror
    mine = write_intro_to_ann(tmp_path_factory.mktemp("mine") / "intro_to_ann.csv")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_SOURCE_INTRO_TO_ANN", str(mine))
        with group_run(root, empty, "fast", "fundamentals") as result:
            yield result, root / "fast"


def test_the_report_records_every_printed_number(fundamentals_run):
    result, root = fundamentals_run
    assert result.success
    (materialization,) = [m for m in result.get_asset_materialization_events()
                          if m.asset_key == key("reports", catalog.REPORT)]
    metadata = {name: value.value for name, value in materialization.materialization.metadata.items()}
    printed = catalog.REPORT_NUMBERS[catalog.REPORT]
    assert metadata["numbers_printed"] == metadata["numbers_matching"] == len(printed) >= len(ISSUE_NUMBERS)
    for name, book in ISSUE_NUMBERS.items():
        assert metadata[name] == pytest.approx(book, abs=1e-9), name
    assert metadata["max_abs_difference"] < 1e-9
    # a chapter report leads with a summary short enough for the UI to show inline (under 1000 characters)
    assert len(metadata["summary"]) < 1000 and f"| numbers_matching | {len(printed)} |" in metadata["summary"]
    report = (root / "reports" / catalog.REPORT / "report.md").read_text()
    assert f"{len(printed)} of {len(printed)} printed numbers match" in report and "| NO |" not in report
    metrics = json.loads((root / "reports" / catalog.REPORT / "metrics.json").read_text())
    assert metrics["comparison"]["problems"] == [] and metrics["mse_two_weight_sets"]["mse_1"] == 49.890625


def test_the_blocking_check_passes(fundamentals_run):
    result, _ = fundamentals_run
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "matches_the_book" and evaluation.passed
    assert evaluation.metadata["matching"].value == evaluation.metadata["numbers"].value > 0


def test_the_results_table_lists_them(fundamentals_run):
    from ztdl_pipeline import results
    from ztdl_pipeline.core.results import render

    _, root = fundamentals_run
    rows = [row for row in results.report_rows(root) if row[0] == f"reports/{catalog.REPORT}"]
    assert len(rows) == len(catalog.REPORT_NUMBERS[catalog.REPORT])
    assert {row[4] for row in rows} == {"matches"}
    text = render([], [], root=str(root), machine="m", generated="now", reports=rows)
    assert "## Numbers of reports without an exported model" in text and "mse_two_weight_sets/mse_1" in text


def test_the_group_has_its_job_and_only_the_intro_ann_report_reads_a_file():
    from ztdl_pipeline.definitions import defs
    from ztdl_pipeline.jobs import GROUPS

    assert "fundamentals" in GROUPS
    assert defs.resolve_job_def("fundamentals_job").name == "fundamentals_job"
    graph = defs.resolve_asset_graph()
    keys = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "fundamentals"}
    assert keys == {key("reports", catalog.REPORT), key("raw", "intro_to_ann"), key("reports", "intro_ann_mlp"),
                    key("sources", "intro_to_ann")}  # the raw file's observed source
    assert not graph.get(key("reports", catalog.REPORT)).parent_keys
    assert graph.get(key("reports", "intro_ann_mlp")).parent_keys == {key("raw", "intro_to_ann")}


def test_the_check_fails_on_a_number_off_the_book():
    from ztdl_pipeline.core.refs import resolve
    from ztdl_pipeline.defs.fundamentals.report import matches_the_book

    report = {lesson.name: resolve(lesson.compute)(**lesson.inputs) for lesson in catalog.LESSONS}
    assert matches_the_book(report).passed
    report["model_error"] = {**report["model_error"], "error_after": 9.1}  # the book prints 9.08
    result = matches_the_book(report)
    assert not result.passed
    assert json.loads(result.metadata["problems"].value) == [
        "model_error/error_after: ours 9.1 vs the book's 9.08 (001:L287)"]


def test_the_intro_ann_report_compares_both_networks(fundamentals_run):
    result, root = fundamentals_run
    (materialization,) = [m for m in result.get_asset_materialization_events()
                          if m.asset_key == key("reports", "intro_ann_mlp")]
    metadata = {name: value.value for name, value in materialization.materialization.metadata.items()}
    for network in ("numpy", "keras"):
        assert metadata[f"{network}/accuracy"] > 0.8, network
    folder = root / "reports" / "intro_ann_mlp"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert len(metrics["numpy"]["errors"]) == len(metrics["keras"]["errors"]) == 3  # the fast profile's epochs
    assert {p.name for p in folder.glob("*.png")} >= {"error_curves.png", "numpy_boundary.png", "keras_boundary.png"}
