"""Book settings (ZTDL_PROFILE=book): our numbers against the book's, within stated tolerances.

Slow (about 4 minutes on 2 cores): run with `make test-book` before claiming a book number.
"""

from __future__ import annotations

import pytest

from tests.conftest import assert_every_gate_passed_and_exported, group_run, report_metrics
from ztdl_pipeline.catalog import card
from ztdl_pipeline.catalog.tabular import BATCH_BOOK, CARDS, CLASSIC, LR_BOOK, REPORT_CLAIMS
from ztdl_pipeline.catalog.tabular_chapters import EXPERIMENT_NUMBERS
from ztdl_pipeline.core.results import agrees, number_verdict

pytestmark = pytest.mark.book

# (card, split, metric, tolerance): the book's headline numbers (the value comes from the card)
HEADLINES = [
    ("circles_shallow", "train", "accuracy", 0.02),
    ("moons_logreg", "test", "accuracy", 0.03),
    ("moons_deep", "test", "accuracy", 0.03),
    ("moons_deep_tanh", "train", "accuracy", 0.02),
    ("moons_deep_tanh", "test", "accuracy", 0.03),
    ("banknotes_logreg", "test", "accuracy", 0.02),
    ("iris_softmax", "test", "accuracy", 0.10),  # 30 test flowers: one miss is 0.033
    ("diabetes_fc", "test", "accuracy", 0.05),
    ("weight_height_linreg", "test", "r2", 0.05),
    ("visit_duration_logreg", "all", "accuracy", 0.05),
    ("hr_churn", "test", "accuracy", 0.05),
]


@pytest.fixture(scope="module")
def book_run(tmp_path_factory, mirror):
    root = tmp_path_factory.mktemp("book") / "data"
    with group_run(root, mirror, "book", "tabular") as result:
        yield result, root


def test_every_model_passes_its_gate_and_is_exported(book_run):
    result, root = book_run
    assert_every_gate_passed_and_exported(result, root, [example.name for example in CARDS])


@pytest.mark.parametrize("name,split,metric,tolerance", HEADLINES, ids=[f"{h[0]}-{h[1]}" for h in HEADLINES])
def test_headline_number_within_tolerance(book_run, name, split, metric, tolerance):
    _, root = book_run
    book = card(name).book_value(split, metric)
    assert book is not None, f"{name}: the card records no book value for {split}/{metric}"
    ours = report_metrics(root, name)[split][metric]
    assert abs(ours - book) <= tolerance, f"{name} {split}/{metric}: ours {ours:.4f}, book {book}"


def test_banknotes_sweeps_follow_the_book(book_run):
    _, root = book_run
    sweeps = report_metrics(root, "banknotes_sweeps")
    for setting, (_, book_accuracy) in LR_BOOK.items():
        ours = sweeps["learning_rate"][setting]["accuracy"][-1]
        assert abs(ours - book_accuracy) <= 0.02, f"lr {setting}: ours {ours:.4f}, book {book_accuracy}"
    for setting, (_, book_accuracy) in BATCH_BOOK.items():
        ours = sweeps["batch_size"][setting]["accuracy"][-1]
        assert abs(ours - book_accuracy) <= 0.02, f"batch {setting}: ours {ours:.4f}, book {book_accuracy}"


@pytest.mark.parametrize("name", ["wines_2d", "wines_2d_functional"])
def test_the_wines_2d_networks_have_the_books_parameter_counts(book_run, name):
    _, root = book_run
    rows = report_metrics(root, name)["book"]
    assert rows and all(row["ours"] == row["book"] for row in rows), rows  # 178 = 112 + 45 + 12 + 9


@pytest.mark.parametrize("spec", CLASSIC, ids=lambda spec: spec.name)
def test_scikit_learn_comparisons_agree_with_every_printed_number(book_run, spec):
    """SVC and naive Bayes to the book's printed digits; the unseeded forest's numbers (medians over the book
    settings' seeds) within their stated tolerances."""
    _, root = book_run
    metrics = report_metrics(root, spec.name)
    assert metrics["profile"] == "book" and metrics["random_forest"]["seed_spread"]["seeds"] == spec.settings["seeds"]
    assert metrics["comparison"] == {"numbers": len(spec.book), "agreeing": len(spec.book), "problems": []}


@pytest.mark.parametrize("name", sorted(EXPERIMENT_NUMBERS))
def test_chapter_experiments_agree_with_every_printed_number(book_run, name):
    """ch5's experiments the book shows as plots, where it prints a number for them (the optimizer comparison's
    plain SGD run is the learning-rate sweep's lr 0.01 run)."""
    _, root = book_run
    metrics = report_metrics(root, name)
    assert metrics["profile"] == "book"
    verdicts = {f"{n.split}/{n.metric}": number_verdict(metrics[n.split][n.metric], n) for n in EXPERIMENT_NUMBERS[name]}
    assert all(agrees(v) for v in verdicts.values()), verdicts


def test_some_initializations_do_not_even_converge(book_run):
    """The book's words for its initializer comparison, at its settings (10 epochs of SGD): all-zero kernels never
    can (no gradient reaches a hidden unit), and the criterion is stated in the claim."""
    _, root = book_run
    metrics = report_metrics(root, "banknotes_initializers")
    assert "0.9" in REPORT_CLAIMS["banknotes_initializers"][0].claim
    assert "zeros" in metrics["not_converged"] and metrics["convergence"]["not_converged"] >= 1
    assert metrics["convergence"]["converged"] >= 3  # lecun, he and glorot scaling exist to make deep tanh nets train
