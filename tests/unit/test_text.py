"""core/text.py: the book's tokenization, vocabulary tables (the contract), padding, sparse tables, readers."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from ztdl_pipeline.core import text as T
from ztdl_pipeline.core.errors import DataError


def test_tokenize_follows_the_keras_tokenizer_defaults():
    assert T.tokenize("Hello, World! Don't\tstop-me\nnow...") == ["hello", "world", "don't", "stop", "me", "now"]
    assert T.tokenize("U$100 @home #1 (ok) [x] {y} ~z|") == ["u", "100", "home", "1", "ok", "x", "y", "z"]
    assert T.tokenize("  \r\n ") == []
    assert T.standardize("A-B") == "a b"


def test_vocabulary_table_order_counts_and_oov():
    docs = [["b", "a", "b"], ["c", "a", "b"], ["d", "c", "e"]]
    vocabulary = T.build_vocabulary(docs, max_tokens=5)
    assert vocabulary["token"].tolist() == ["", "[UNK]", "b", "a", "c"]  # ties (a, c: 2) by first appearance
    assert vocabulary["count"].tolist() == [0, 2, 3, 2, 2]  # [UNK]: d and e fell outside
    assert str(vocabulary["id"].dtype) == "int32" and str(vocabulary["count"].dtype) == "int64"
    assert T.vocabulary_problems(vocabulary) == []
    full = T.build_vocabulary(docs)
    assert len(full) == 2 + 5 and full["count"].iloc[1] == 0
    broken = vocabulary.iloc[::-1].reset_index(drop=True)
    assert T.vocabulary_problems(broken)
    with pytest.raises(ValueError):
        T.build_vocabulary(docs, max_tokens=1)


def test_vocabulary_matches_text_vectorization_order():
    keras = pytest.importorskip("keras")
    texts = ["the cat sat on the mat", "the dog ate the cat", "a dog a cat"]
    vocabulary = T.build_vocabulary([T.tokenize(t) for t in texts], max_tokens=6)
    layer = keras.layers.TextVectorization(max_tokens=6, standardize=None)
    layer.adapt([" ".join(T.tokenize(t)) for t in texts])
    assert layer.get_vocabulary() == vocabulary["token"].tolist()


def test_encode_maps_unknown_tokens_to_one():
    vocabulary = T.build_vocabulary([["a", "b", "a"]])
    ids = T.encode([["a", "zzz", "b"], []], vocabulary)
    assert ids[0].tolist() == [2, 1, 3] and ids[1].tolist() == []
    assert T.encode([["b"]], vocabulary["token"].tolist())[0].tolist() == [3]


def test_pad_and_truncate_like_pad_sequences():
    seqs = [np.array([1, 2, 3, 4, 5]), np.array([7]), np.array([], dtype=np.int32)]
    assert T.pad(seqs, 3).tolist() == [[3, 4, 5], [0, 0, 7], [0, 0, 0]]
    assert T.pad(seqs, 3, "post", "post").tolist() == [[1, 2, 3], [7, 0, 0], [0, 0, 0]]
    assert T.pad(seqs, 3, "pre", "post").tolist() == [[1, 2, 3], [0, 0, 7], [0, 0, 0]]
    assert T.pad(seqs, 3).dtype == np.int32
    with pytest.raises(ValueError):
        T.pad(seqs, 3, padding="middle")


def test_sparse_table_round_trips_through_parquet(tmp_path):
    matrix = sp.random(50, 40, density=0.1, format="csr", random_state=0, dtype=np.float32)
    matrix = sp.csr_matrix(matrix.multiply(np.asarray([[0.0 if i == 3 else 1.0] for i in range(50)])))  # empty row
    table = T.sparse_table([f"doc {i}" for i in range(50)], np.arange(50) % 2, ["train"] * 40 + ["test"] * 10,
                           matrix, {"vocabulary": [f"w{i}" for i in range(40)], "classes": ["a", "b"]})
    pq.write_table(table, tmp_path / "t.parquet")
    back = pq.read_table(tmp_path / "t.parquet")
    assert T.table_attrs(back)["n_features"] == 40
    x_train, y_train = T.split_xy(back, "train")
    x_test, _ = T.split_xy(back, "test")
    assert (abs(x_train - matrix[:40]).max() == 0) and (abs(x_test - matrix[40:]).max() == 0)
    assert y_train.tolist() == (np.arange(40) % 2).tolist()
    assert back.schema.field("indices").type == pa.list_(pa.int32())


def test_dense_table_keeps_fixed_size_lists(tmp_path):
    x = np.arange(12, dtype=np.int32).reshape(4, 3)
    table = T.dense_table(list("abcd"), [0, 1, 0, 1], ["train", "train", "test", "test"], x, {"classes": [0, 1]})
    pq.write_table(table, tmp_path / "d.parquet")
    back = pq.read_table(tmp_path / "d.parquet")
    assert back.schema.field("x").type == pa.list_(pa.int32(), 3)
    assert T.split_xy(back, "test")[0].tolist() == x[2:].tolist()


def test_book_split_is_the_books_train_test_split():
    from sklearn.model_selection import train_test_split

    split = T.book_split(5572)
    _, test = train_test_split(np.arange(5572), np.zeros(5572), random_state=0)[:2]
    assert (split == "test").sum() == 1393  # the book's test size (L10967)
    assert set(np.flatnonzero(split == "test")) == set(test.tolist())


def test_two_features_and_name_windows():
    assert T.two_features(["FREE entry! Call 0800 free", "hello"]).tolist() == [[2, 4], [0, 0]]
    x, y, chars = T.name_windows(["Ann", "Bo"], maxlen=3)
    assert chars == ["\n", "a", "b", "n", "o"]
    assert x.tolist() == [[1, 3, 3]] and y.tolist() == [0]  # 'bo\n' is too short for a window + label


def test_readers_give_clear_errors(tmp_path):
    bad = tmp_path / "sms_spam.csv"
    bad.write_text("text,label\nhello,0\n")
    with pytest.raises(DataError, match=r"sms_spam\.csv: missing column\(s\) message, spam"):
        T.read_sms_spam(bad)
    labels = tmp_path / "labels.csv"
    labels.write_text("message,spam\nhello,2\n")
    with pytest.raises(DataError, match="0 or 1"):
        T.read_sms_spam(labels)
    empty = tmp_path / "names.txt"
    empty.write_text("\n\n")
    with pytest.raises(DataError, match="no names"):
        T.read_names(empty)
    with pytest.raises(DataError, match="JSON object"):
        (tmp_path / "wi.json").write_text("[1, 2]")
        T.read_word_index(tmp_path / "wi.json")
    with pytest.raises(DataError, match="aclImdb"):
        (tmp_path / "x.tar.gz").write_bytes(b"not a tar")
        T.read_imdb_archive(tmp_path / "x.tar.gz")


def _write_imdb(path):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in [("aclImdb/train/pos/3_9.txt", "Great film<br />!"), ("aclImdb/train/neg/1_2.txt", "Bad."),
                           ("aclImdb/test/pos/0_10.txt", "Loved it"), ("aclImdb/test/neg/5_1.txt", "Awful"),
                           ("aclImdb/train/unsup/7_0.txt", "ignored"), ("aclImdb/train/pos/1_8.txt", "Fine")]:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_imdb_archive_reader(tmp_path):
    _write_imdb(tmp_path / "aclImdb_v1.tar.gz")
    frame = T.read_imdb_archive(tmp_path / "aclImdb_v1.tar.gz")
    assert len(frame) == 5 and "ignored" not in frame["text"].tolist()
    assert frame.groupby(["split", "label"]).size().to_dict() == {("test", 0): 1, ("test", 1): 1, ("train", 0): 1,
                                                                  ("train", 1): 2}
    assert frame.loc[frame["id"] == 3, "rating"].item() == 9
    assert len(T.read_imdb_archive(tmp_path / "aclImdb_v1.tar.gz", per_folder=1)) == 4


def test_mirror_files_hold_the_books_counts(mirror):
    sms = T.read_sms_spam(mirror / "sms_spam.csv")
    counts = sms["spam"].value_counts().to_dict()
    assert counts == {0: 4825, 1: 747}  # the book's ham/spam (L10632, L10641)
    assert T.sms_zip_counts(mirror / "sms.zip") == {"ham": 4825, "spam": 747}
    reviews, classes = T.movie_reviews_frame(T.read_movie_reviews(mirror / "movie_reviews.csv"))
    assert len(reviews) == 14049 and classes == ["fresh", "rotten"] and (reviews["split"] == "test").sum() == 3513
    assert max(len(T.tokenize(r)) for r in reviews["review"]) == 49  # the book's maxlen (L11494)
    x, _, chars = T.name_windows(T.read_names(mirror / "names.txt")["name"])
    assert x.shape == (32016, 3) and len(chars) == 28  # L11993, L11868
    index = T.read_word_index(mirror / "keras_datasets" / "imdb_word_index.json")
    assert len(index) == 88584 and index["word"].iloc[0] == "the"


def test_subsample_keeps_order_and_strata():
    frame = pd.DataFrame({"v": range(100), "y": [0] * 80 + [1] * 20})
    part = T.subsample(frame, 50, by="y")
    assert part["v"].is_monotonic_increasing and part["y"].sum() == 10
    assert len(T.subsample(frame, None)) == 100


def test_shuffle_splits_mixes_labels_and_keeps_rows():
    frame = pd.DataFrame({"v": range(40), "label": [0] * 10 + [1] * 10 + [0] * 10 + [1] * 10,
                          "split": ["train"] * 20 + ["test"] * 20})
    from ztdl_pipeline.core.text_features import shuffle_splits

    mixed = shuffle_splits(frame)
    assert mixed["split"].tolist() == ["train"] * 20 + ["test"] * 20
    assert sorted(mixed["v"]) == list(range(40))
    assert mixed["label"].iloc[14:20].nunique() == 2  # a validation_split tail holds both labels
    assert mixed.equals(shuffle_splits(frame))  # seeded


# ------------------------------------------------------------------ core/text_features.py


def test_feature_tables_and_their_check_arithmetic():
    from ztdl_pipeline.core import text_features as F
    from ztdl_pipeline.core.tables import table_attrs, with_attrs

    texts = ["free prize now", "see you at home", "call 0800 free", "ok at home now"] * 5
    frame = T.text_frame(texts, [1, 0, 1, 0] * 5, ["train"] * 16 + ["test"] * 4)
    frame.attrs = {"classes": ["ham", "spam"]}
    vocabulary, summary = F.train_vocabulary(frame, max_tokens=6)
    assert T.vocabulary_problems(vocabulary) == [] and summary["tokens"] == 6
    assert vocabulary.attrs == {"max_tokens": 6}
    table, numbers = F.sequence_table(frame, vocabulary, maxlen=3)
    assert table_attrs(table)["vocab_size"] == 6 and numbers["maxlen"] == 3
    assert numbers["truncated_share"] == pytest.approx(0.5)  # "see you at home", "ok at home now": 4 tokens
    assert F.sequence_id_problems(table) == []
    shrunk = with_attrs(table, {**table_attrs(table), "vocab_size": 2})
    assert F.sequence_id_problems(shrunk)  # ids 2.. no longer index the vocabulary
    bow, numbers = F.vectorized_table(frame, "count", 10, None, "train")
    assert numbers["vocabulary_size"] == table_attrs(bow)["n_features"] and F.sparse_id_problems(bow) == []
    assert "idf" not in table_attrs(bow) and "idf" in table_attrs(F.vectorized_table(frame, "tfidf", 10, None,
                                                                                      "train")[0])


def test_sub_samples_raw_summaries_and_the_sms_copies():
    from ztdl_pipeline.core import text_features as F

    assert F.every_nth(list("abcdefgh"), 0) == list("abcdefgh")
    assert F.every_nth(list("abcdefgh"), 3) == ["a", "c", "e"]
    table, numbers = F.names_table(["Ann", "Bob", "Eve"], 3)
    assert numbers["names"] == 3 and F.char_id_problems(table) == []
    raw = pd.DataFrame({"message": ["a", "b", "c"], "spam": [0, 1, 0]})
    summary = F.raw_summary(raw)
    assert (summary["ham"], summary["spam"]) == (2, 1)
    assert F.sms_copies_problem(summary, {"ham": 2, "spam": 1}) is None
    assert "sms.zip holds" in F.sms_copies_problem(summary, {"ham": 3, "spam": 1})
    sample = F.sms_text(pd.DataFrame({"message": [f"m{i}" for i in range(40)], "spam": [0, 1] * 20}), rows=10)
    assert len(sample) == 10 and sample.attrs["classes"] == ["ham", "spam"]
    assert len(F.sms_text(pd.DataFrame({"message": ["x", "y"], "spam": [0, 1]}), rows=0)) == 2
