"""The text group materialized once in-process (fast profile: sub-samples) on the real mirror data: every
asset and check, the contract tables, the reports next to the book, and exports that classify raw strings
(reloaded with plain TensorFlow and through the serving registry)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import assert_only_baseline_refusals, group_run, savedmodel_of
from ztdl_pipeline.catalog.text import CARDS
from ztdl_pipeline.core import text as T
from ztdl_pipeline.core.names import op_name

EXPORTED = [card.name for card in CARDS]


@pytest.fixture(scope="module")
def text_run(tmp_path_factory, mirror):
    root = tmp_path_factory.mktemp("text") / "data"
    with group_run(root, mirror, "fast", "text") as result:
        yield result, root / "fast"


def test_every_check_passes_but_the_gates_of_models_no_better_than_the_majority_class(text_run):
    """On the fast sub-samples some models only learn the majority class: their gates refuse them."""
    result, root = text_run
    refused = assert_only_baseline_refusals(result, [*EXPORTED, "names_char_lstm"])
    failures = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failures == {f"{op_name('reports', name)}_export_gate" for name in refused}, failures
    for name in EXPORTED:
        assert (root / "exports" / name / "1").is_dir() == (name not in refused), name


def test_contract_tables(text_run):
    _, root = text_run
    for name in ("movie_reviews", "imdb"):
        text = pd.read_parquet(root / "features" / f"{name}_text.parquet")
        assert list(text.columns) == ["text", "tokens", "label", "split"]
        assert set(text["split"]) == {"train", "test"}
        assert list(text["tokens"].iloc[0]) == T.tokenize(text["text"].iloc[0])
        vocabulary = pd.read_parquet(root / "features" / f"{name}_vocabulary.parquet")
        assert T.vocabulary_problems(vocabulary) == []
        train_tokens = text.loc[text["split"] == "train", "tokens"]
        assert vocabulary["count"].sum() == sum(len(t) for t in train_tokens)  # every train token counted once
    schema = pq.read_schema(root / "features" / "movie_reviews_sequences.parquet")
    assert str(schema.field("x").type) == "fixed_size_list<element: int32>[49]"
    schema = pq.read_schema(root / "features" / "sms_spam_bow.parquet")
    assert str(schema.field("indices").type) == "list<element: int32>"


def test_reports_compare_with_the_book(text_run):
    _, root = text_run
    for name in [*EXPORTED, "names_char_lstm"]:
        metrics = json.loads((root / "reports" / name / "metrics.json").read_text())
        assert metrics["book"] and all(row["ours"] is not None for row in metrics["book"]), name
        assert (root / "reports" / name / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    bow = json.loads((root / "reports" / "sms_bow" / "metrics.json").read_text())
    assert bow["test"]["accuracy"] >= 0.85 and len(bow["top_words"]["positive"]) == 20
    params = {name: json.loads((root / "reports" / name / "metrics.json").read_text())["params"]["trainable"]
              for name in ("rt_lstm", "imdb_lstm")}
    assert params == {"rt_lstm": 166305, "imdb_lstm": 2042305}  # the book's summaries
    names = json.loads((root / "reports" / "names_char_lstm" / "metrics.json").read_text())
    assert all(name.startswith("jen") for name in names["samples"]["jen"])
    sweep = json.loads((root / "reports" / "sms_vocab_sweep" / "metrics.json").read_text())
    assert [p["max_features"] for p in sweep["points"]] == [3, 30, 300, 3000]
    assert (root / "reports" / "sms_vocab_sweep" / "vocab_sweep.png").exists()


def test_exports_classify_raw_strings(text_run, tmp_path):
    import tensorflow as tf

    from ztdl_pipeline.core.registry import savedmodel_signature
    from ztdl_pipeline.serving import registry

    _, root = text_run
    messages = ["WINNER!! You have won a FREE prize, call 09061701461 to claim now", "ok see you at home later"]
    for name in EXPORTED:
        path = savedmodel_of(root, name, tmp_path)  # published, or built as the gated export would be
        loaded = tf.saved_model.load(str(path))
        output = loaded.serve({"text": tf.constant(messages)}).numpy()
        assert output.shape == (2, 1) and np.all((output >= 0) & (output <= 1)), name
        signature = savedmodel_signature(path)
        assert signature["inputs"]["text"]["dtype"] == "string", (name, signature)
    bow = registry.load("sms_bow", root=root / "exports")  # keep the loaded object alive while serving
    spam = bow.serve({"text": tf.constant(messages)}).numpy()
    assert spam[0, 0] > spam[1, 0]  # the prize message looks more like spam than the chat


def test_the_spam_predictions_score_every_message_with_the_current_export(text_run):
    """predictions/sms_bow_predictions: the served spam model's current export scores every raw message."""
    from ztdl_pipeline.resources.io import read_parquet

    _, root = text_run
    if not (root / "exports" / "sms_bow" / "1").is_dir():
        pytest.skip("the fast sms_bow model was refused by its gate: nothing to score with")
    table = read_parquet(root / "predictions" / "sms_bow.parquet")
    assert len(table) == 5572 and set(table["export_version"]) == {1}
    assert set(table["predicted_class"]) <= {"ham", "spam"} and (table["actual"] == "spam").sum() == 747
    assert (table["predicted_class"] == table["actual"]).mean() > 0.85
    np.testing.assert_allclose(table["probability_ham"] + table["probability_spam"], 1.0, atol=1e-6)
