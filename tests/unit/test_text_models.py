"""core/text_models.py: the book's builders, the raw-string serving model (tokenization parity with the
training features on real messages and reviews), and the name sampler."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ztdl_pipeline.core import text as T
from ztdl_pipeline.core import text_models as TM
from ztdl_pipeline.core.specs import Hyper
from ztdl_pipeline.core.text_models import TrainedModel


@pytest.mark.parametrize("build,params", [
    (lambda: TM.rt_lstm(49), 166305),  # book L11778: 160000 + 6272 + 33
    (lambda: TM.imdb_lstm(80), 2042305),  # book L23015: 2000000 + 42240 + 65
    (lambda: TM.char_lstm(3, 28), 140 + 448 + 252),  # Embedding(28, 5), LSTM(8), Dense(28)
    (lambda: TM.logreg(3000), 3001),
])
def test_builders_have_the_books_parameter_counts(build, params):
    assert build().count_params() == params


@pytest.fixture(scope="module")
def real_texts(mirror):
    sms = T.read_sms_spam(mirror / "sms_spam.csv")
    reviews, _ = T.movie_reviews_frame(T.read_movie_reviews(mirror / "movie_reviews.csv"))
    return sms["message"].tolist(), reviews["review"].tolist()


def test_graph_tokenization_matches_the_training_tokenization(real_texts):
    import tensorflow as tf
    from sklearn.feature_extraction.text import CountVectorizer

    texts = real_texts[0] + real_texts[1]
    ours = tf.strings.split(TM.keras_standardize(tf.constant(texts))).to_list()
    assert [[t.decode() for t in row] for row in ours] == [T.tokenize(t) for t in texts]
    analyzer = CountVectorizer(stop_words=None).build_analyzer()
    graph = tf.strings.split(TM.sklearn_standardize(tf.constant(texts))).to_list()
    assert [[t.decode() for t in row if len(t.decode()) > 1] for row in graph] == [analyzer(t) for t in texts]


def _table(kind: str, texts, labels, maxlen=12):
    splits = T.book_split(len(texts))
    if kind == "sequence":
        tokens = [T.tokenize(t) for t in texts]
        vocabulary = T.build_vocabulary([t for t, s in zip(tokens, splits) if s == "train"], 300)
        x = T.pad(T.encode(tokens, vocabulary), maxlen)
        return T.dense_table(texts, labels, splits, x, {"classes": [0, 1], "serving": "sequence",
                                                        "vocabulary": vocabulary["token"].tolist(),
                                                        "vocab_size": 300})
    if kind == "features":
        return T.dense_table(texts, labels, splits, T.two_features(texts), {"classes": [0, 1], "serving": "features"})
    matrix, vocabulary, idf, _ = T.vectorize(texts, splits, "tfidf" if kind == "tf_idf" else "count", 500)
    return T.sparse_table(texts, labels, splits, matrix, {"classes": [0, 1], "serving": kind,
                                                         "vocabulary": vocabulary, "idf": idf})


@pytest.mark.parametrize("kind,builder", [("sequence", "rt_lstm"), ("tf_idf", "logreg"), ("count", "logreg"),
                                          ("features", "logreg")])
def test_export_takes_raw_strings_and_agrees_with_keras(tmp_path, real_texts, kind, builder):
    from ztdl_pipeline.core.export import load_and_predict, write_savedmodel
    from ztdl_pipeline.core.text_features import TextExample

    texts = real_texts[1][:400] if kind != "features" else real_texts[0][:400]
    labels = np.arange(len(texts)) % 2
    table = _table(kind, texts, labels)
    example = TextExample(name=f"t_{builder}", dataset="d", title="t", source="s", builder=TM.__name__ + ":" + builder,
                          loss="binary_crossentropy")
    hyper = Hyper(epochs=1, batch_size=64, optimizer="adam", learning_rate=0.01)
    trained = TM.train(example, table, hyper)
    assert isinstance(trained, TrainedModel)
    model, signature = TM.serving(example, trained, table)
    assert signature == {"text": {"column": "text", "dtype": "string"}}
    write_savedmodel(model, signature, tmp_path / "1")
    assert TM.verify_export(tmp_path / "1", trained, table) <= 1e-4  # every raw test text, same probability
    unseen = load_and_predict(tmp_path / "1", {"text": np.asarray(["zzzz qqqq never seen", ""], dtype=object)})
    assert unseen.shape == (2, 1) and np.isfinite(unseen).all()  # unknown words and empty strings are fine


def test_verify_export_notices_a_different_model(tmp_path, real_texts):
    from ztdl_pipeline.core.export import write_savedmodel
    from ztdl_pipeline.core.text_features import TextExample

    table = _table("count", real_texts[0][:300], np.arange(300) % 2)
    example = TextExample(name="t", dataset="d", title="t", source="s", builder=TM.__name__ + ":logreg",
                          loss="binary_crossentropy")
    hyper = Hyper(epochs=1, batch_size=64, optimizer="adam", learning_rate=0.05)
    first = TM.train(example, table, hyper)
    second = TM.train(example, table, dataclasses.replace(hyper, epochs=3, batch_size=16, seed=7))
    model, signature = TM.serving(example, first, table)
    write_savedmodel(model, signature, tmp_path / "1")
    with pytest.raises(ValueError, match="disagrees"):
        TM.verify_export(tmp_path / "1", second, table)


def test_sampling_follows_diversity():
    rng = np.random.default_rng(0)
    p = np.array([0.25, 0.65, 0.1])
    draws = np.bincount([TM.sample(p, 1.0, rng) for _ in range(3000)], minlength=3) / 3000
    assert np.allclose(draws, p, atol=0.04)
    assert {TM.sample(p, 0.01, rng) for _ in range(50)} == {1}  # near zero: always the most likely
    flat = np.bincount([TM.sample(p, 100.0, rng) for _ in range(3000)], minlength=3) / 3000
    assert flat.min() > 0.25  # large diversity: close to uniform


def test_complete_name_extends_the_seed():
    model = TM.char_lstm(3, 28)
    chars = ["\n", "-", *"abcdefghijklmnopqrstuvwxyz"]
    names = [TM.complete_name(model, chars, "jen", 3, rng=np.random.default_rng(i), max_len=6) for i in range(2)]
    assert all(n.startswith("jen") and len(n) <= 6 and "\n" not in n for n in names)


def test_builders_are_found_by_reference_and_given_what_the_table_offers():
    from ztdl_pipeline.core.text_features import TextExample

    assert TM.builder("ztdl_pipeline.core.text_models:rt_lstm") is TM.rt_lstm
    with pytest.raises(ValueError, match="not a reference"):
        TM.builder("rt_lstm")  # builders are named by dotted path only
    assert TM.table_inputs({"n_features": 3000, "layout": "sparse"}) == {"width": 3000}
    assert TM.table_inputs({"width": 49, "vocab_size": 10000}) == {"width": 49, "vocab_size": 10000}
    assert TM.table_inputs({"width": 3, "chars": list("abcd")}) == {"width": 3, "vocab_size": 4}
    hyper = Hyper(epochs=1, batch_size=8, optimizer="adam", learning_rate=0.001)
    for builder, attrs, params in (("logreg", {"n_features": 5}, 6),
                                   ("char_lstm", {"width": 3, "chars": list("abcd")}, 4 * 5 + 4 * 8 * (5 + 8 + 1) + 9 * 4)):
        example = TextExample(name="t", dataset="d", title="t", source="s", loss="binary_crossentropy",
                              builder=f"ztdl_pipeline.core.text_models:{builder}")
        assert TM.build(example, attrs, hyper).count_params() == params, builder
