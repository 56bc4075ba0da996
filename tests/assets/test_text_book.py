"""Book settings (ZTDL_PROFILE=book) for the text group: our numbers against the book's, within stated
tolerances, on the whole data (IMDB: all 50,000 reviews). Slow: run with `make test-book`."""

from __future__ import annotations

import json

import pytest

from tests.conftest import group_run
from ztdl_pipeline.assets.text import EXAMPLES

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


def _metrics(root, name):
    return json.loads((root / "reports" / name / "metrics.json").read_text())


def test_every_classifier_passes_its_gate_and_is_exported(text_book_run):
    result, root = text_book_run
    failed = [(e.asset_key.to_user_string(), e.check_name, e.metadata.get("reasons"))
              for e in result.get_asset_check_evaluations() if not e.passed]
    assert not failed
    assert result.success
    for example, _ in EXAMPLES:
        assert (root / "exports" / example.name / "1" / "saved_model.pb").exists(), example.name


@pytest.mark.parametrize("name,split,metric,book,tolerance", HEADLINES, ids=[h[0] for h in HEADLINES])
def test_headline_number_within_tolerance(text_book_run, name, split, metric, book, tolerance):
    _, root = text_book_run
    ours = _metrics(root, name)[split][metric]
    assert abs(ours - book) <= tolerance, f"{name} {split}/{metric}: ours {ours:.4f}, book {book}"


def test_book_sizes(text_book_run):
    _, root = text_book_run
    assert _metrics(root, "sms_bow")["all"]["rows"] == 5572
    assert _metrics(root, "rt_lstm")["all"]["rows"] == 14049
    assert _metrics(root, "imdb_lstm")["all"]["rows"] == 50000
    assert _metrics(root, "names_char_lstm")["all"]["rows"] == 32016
    sweep = _metrics(root, "sms_vocab_sweep")
    assert sweep["points"][-1]["test_accuracy"] > sweep["baseline"]
