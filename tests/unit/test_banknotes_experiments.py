"""core/banknotes_experiments: ch5's optimizer and initializer comparisons and the inner layer's representation,
run at the fast profile's settings on the real banknotes split, and the results table's rows for them."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.catalog import card, tabular
from ztdl_pipeline.catalog.tabular_chapters import EXPERIMENT_CLAIMS, EXPERIMENTS
from ztdl_pipeline.core import banknotes_experiments as E
from ztdl_pipeline.core.chapter import Run
from ztdl_pipeline.core.features import build_features
from ztdl_pipeline.core.results import claim_rows

SPECS = {spec.name: spec for spec in EXPERIMENTS}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def banknotes(mirror) -> pd.DataFrame:
    recipe = next(f.recipe for f in tabular.FEATURES if f.dataset == "banknotes")
    return build_features(pd.read_csv(mirror / "banknotes.csv"), recipe)


def fast(name: str, **changes) -> dict:
    spec = SPECS[name]
    return {**spec.settings, **spec.fast, **changes}


def run() -> Run:
    return Run(profile="fast", seed_fn=keras.utils.set_random_seed)


def test_first_epoch_reaching_a_threshold():
    assert E.first_epoch([0.5, 0.94, 0.95, 0.97], 0.95) == 3
    assert E.first_epoch([0.5, 0.6], 0.95) is None
    assert E.first_epoch([0.9, 0.4, 0.1], 0.3, above=False) == 3


def test_the_books_six_optimizers_and_an_unknown_name():
    nesterov = E.book_optimizer("nesterov", 0.01, 0.3).get_config()
    assert nesterov["nesterov"] and nesterov["momentum"] == pytest.approx(0.3)
    assert E.book_optimizer("sgd", 0.01, 0.3).get_config()["momentum"] == 0.0
    assert [type(E.book_optimizer(n, 0.01, 0.3)).__name__ for n in ("adam", "adagrad", "rmsprop")] == [
        "Adam", "Adagrad", "RMSprop"]
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        E.book_optimizer("adamw", 0.01, 0.3)


def test_every_optimizer_starts_from_the_same_weights(banknotes):
    spec = SPECS["banknotes_optimizers"]
    chapter = E.optimizer_comparison(banknotes, card=card("banknotes_logreg"), run=run(), book=spec.book,
                                     **fast("banknotes_optimizers"))
    result = chapter.result
    assert list(result["histories"]) == list(E.OPTIMIZER_LABELS)
    assert all(len(h["loss"]) == 2 for h in result["histories"].values())
    # the same weights and shuffles: SGD+momentum's first step is plain SGD's, then momentum carries it further;
    # Nesterov's look-ahead differs from momentum's by little this early
    assert result["sgd_momentum"]["final_loss"] < result["sgd"]["final_loss"]
    assert result["nesterov"]["final_loss"] == pytest.approx(result["sgd_momentum"]["final_loss"], rel=0.05)
    # from kernel 'ones' the first gradients are large: Adagrad's accumulated squares shrink its steps the most
    assert result["adagrad"]["final_loss"] == max(result[name]["final_loss"] for name in E.OPTIMIZER_LABELS)
    # plain SGD is the learning-rate sweep's lr 0.01 run, whose first epoch the book prints (2.649101 / 0.251042)
    for number in spec.book:
        assert abs(result["sgd"][number.metric] - number.value) <= number.tolerance, number
    markdown = chapter.markdown(embed=False)
    assert "2.6491" in markdown
    # the plot keeps the book's loss scale (0 to 1): the report names the curves that end off it
    assert "adagrad" in markdown.split("off it at the end:")[1].split(".")[0]
    assert chapter.images["optimizers"].startswith(PNG)
    rows = claim_rows("banknotes_optimizers", EXPERIMENT_CLAIMS["banknotes_optimizers"], result)
    assert len(rows) == 18 and rows[0][2:4] == ["sgd/final_loss", result["sgd"]["final_loss"]]


def test_zero_initial_weights_never_converge(banknotes):
    """With every kernel zero, tanh units output 0 and get no gradient: only the output bias learns, so the
    model predicts one class (the book's "some initializations don't even converge")."""
    chapter = E.initializer_comparison(banknotes, card=card("banknotes_logreg"), run=run(),
                                       **fast("banknotes_initializers", initializers=["zeros", "he_normal"],
                                              epochs=3))
    result = chapter.result
    assert result["zeros"]["converged"] == 0.0 and "zeros" in result["not_converged"]
    assert result["zeros"]["final_accuracy"] == pytest.approx(0.5552, abs=0.01)  # the larger class's share
    assert result["he_normal"]["final_accuracy"] > result["zeros"]["final_accuracy"] + 0.2
    assert result["convergence"]["converged"] + result["convergence"]["not_converged"] == 2
    assert "the book's claim holds here: zeros" in chapter.markdown(embed=False)


def test_the_results_table_lists_every_claim_and_printed_number_of_the_chapter_experiments(tmp_path):
    """Before any run (an empty storage root) each measured number of each claim is a row saying "not run here",
    and the rendered table has the section; each printed number is a row of the reports without an export."""
    from ztdl_pipeline import results
    from ztdl_pipeline.core.results import render

    rows = results.claim_rows(tmp_path)
    expected = [(f"reports/{name}", measured) for name, claims in EXPERIMENT_CLAIMS.items() for claim in claims
                for measured in claim.measured]
    assert [(row[0], row[2]) for row in rows if row[0] in {r for r, _ in expected}] == expected
    assert all(row[3] == "not run here" for row in rows)
    text = render([], [], root=str(tmp_path), machine="m", generated="now", claims=rows)
    assert "## What the book shows without a number" in text
    assert "| reports/banknotes_initializers | \"some initializations don't even converge\"" in text
    printed = [row for row in results.report_rows(tmp_path) if row[0] == "reports/banknotes_inner_layer"]
    assert [(row[1], row[2], row[4]) for row in printed] == [
        ("params/trainable", 13, "not run here"), ("features/rows", 412, "not run here"),
        ("features/columns", 2, "not run here")]


def test_the_inner_layer_network_starts_from_the_books_weights_whatever_the_seed(banknotes):
    x = np.asarray([[1.0, 2.0, -1.0, 0.5]], dtype="float32")
    keras.utils.set_random_seed(1)
    first = E.inner_layer_network(4, 0.01)
    keras.utils.set_random_seed(2)
    second = E.inner_layer_network(4, 0.01)
    np.testing.assert_allclose(first.predict(x, verbose=0), second.predict(x, verbose=0))
    # relu(x @ W1 + b1) by hand with the book's printed kernel: the hidden features are the book's
    kernel = np.asarray(E.BOOK_INNER_WEIGHTS[0], dtype="float32")
    np.testing.assert_allclose(E.hidden_features(first, x), np.maximum(x @ kernel, 0.0), rtol=1e-5)


def test_the_inner_layer_has_the_books_13_parameters_and_412_two_dimensional_test_features(banknotes):
    spec = SPECS["banknotes_inner_layer"]
    chapter = E.inner_layer_representation(banknotes, card=card("banknotes_logreg"), run=run(), book=spec.book,
                                           **fast("banknotes_inner_layer"))
    result = chapter.result
    assert result["params"] == {"trainable": 13.0, "layer_1": 10.0, "layer_2": 3.0}
    assert result["features"] == {"rows": 412.0, "columns": 2.0}
    for number in spec.book:  # printed counts: ours must equal them
        assert result[number.split][number.metric] == number.value, number
    loop = result["loop"]["test_accuracy"]
    assert len(loop) == spec.fast["loop_epochs"] and result["loop"]["final_test_accuracy"] == loop[-1]
    assert result["fit"]["test_accuracy"] > 0.56  # above always guessing the larger class (0.555)
    assert set(chapter.images) == {"hidden_features", "hidden_features_by_epoch"}
