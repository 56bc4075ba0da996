"""Book settings (ZTDL_PROFILE=book) for the text group: our numbers against the book's, within stated
tolerances, on the whole data (IMDB: all 50,000 reviews). Slow: run with `make test-book`."""

from __future__ import annotations

import pytest

from tests.conftest import assert_every_gate_passed_and_exported, group_run, report_metrics
from ztdl_pipeline.catalog.text import CARDS

pytestmark = pytest.mark.book

# (report, split, metric, book value, tolerance)
HEADLINES = [
    ("sms_two_features", "test", "accuracy", 0.971, 0.03),
    ("sms_bow", "test", "accuracy", 0.973, 0.02),
    ("rt_tfidf", "test", "accuracy", 0.751, 0.04),
    ("rt_lstm", "test", "accuracy", 0.7387, 0.04),
    ("imdb_lstm", "test", "accuracy", 0.81556, 0.04),
    ("names_char_lstm", "history", "accuracy", 0.3348, 0.04),
]


@pytest.fixture(scope="module")
def text_book_run(tmp_path_factory, mirror):
    root = tmp_path_factory.mktemp("text_book") / "data"
    with group_run(root, mirror, "book", "text") as result:
        yield result, root


def test_every_classifier_passes_its_gate_and_is_exported(text_book_run):
    result, root = text_book_run
    assert_every_gate_passed_and_exported(result, root, [card.name for card in CARDS])


@pytest.mark.parametrize("name,split,metric,book,tolerance", HEADLINES, ids=[h[0] for h in HEADLINES])
def test_headline_number_within_tolerance(text_book_run, name, split, metric, book, tolerance):
    _, root = text_book_run
    ours = report_metrics(root, name)[split][metric]
    assert abs(ours - book) <= tolerance, f"{name} {split}/{metric}: ours {ours:.4f}, book {book}"


def test_book_sizes(text_book_run):
    _, root = text_book_run
    assert report_metrics(root, "sms_bow")["all"]["rows"] == 5572
    assert report_metrics(root, "rt_lstm")["all"]["rows"] == 14049
    assert report_metrics(root, "imdb_lstm")["all"]["rows"] == 50000
    assert report_metrics(root, "names_char_lstm")["all"]["rows"] == 32016
    sweep = report_metrics(root, "sms_vocab_sweep")
    assert sweep["points"][-1]["test_accuracy"] > sweep["baseline"]
