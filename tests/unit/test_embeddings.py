"""Embeddings and Reuters core: the GloVe-format reader on files written in GloVe's format, matrices aligned to
a vocabulary table, Word2Vec reproducibility, the analogy report, projector files, and Reuters' npz reader
checked against Keras' own load_data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from ztdl_pipeline.core import embedding_report as ER
from ztdl_pipeline.core import embeddings as E
from ztdl_pipeline.core import reuters as R
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.text import build_vocabulary

WORDS = ["the", "king", "queen", "man", "woman", "good", "bad", "fast", "teacher", "student", "paris", "france",
         "germany", "berlin", "cat", "kitten", "dog", "puppy", "teach", "learn"]


def analogy_vectors(words=WORDS, dim=8, seed=0) -> np.ndarray:
    """Random unit vectors except queen = king − man + woman (so the analogy has one right answer)."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(words), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # most_similar combines unit vectors
    at = {w: i for i, w in enumerate(words)}
    vectors[at["queen"]] = vectors[at["king"]] - vectors[at["man"]] + vectors[at["woman"]]
    return vectors


@pytest.fixture
def glove_file(tmp_path):
    vectors = analogy_vectors()
    return E.write_glove_text(tmp_path / "glove.6B.50d.txt", WORDS, vectors), vectors


@pytest.mark.parametrize("reader", E.READERS)
def test_glove_reader_reads_every_word_in_file_order(glove_file, reader):
    path, vectors = glove_file
    kv = E.load_glove(path, reader=reader)
    assert kv.index_to_key == WORDS
    np.testing.assert_allclose(kv.vectors, vectors, atol=1e-6)


def test_pandas_reader_gives_exactly_what_gensim_gives(tmp_path):
    rng = np.random.default_rng(3)
    words = ["null", "nan", "1.5", '"quoted', "#hash", "naïve", "true"] + [f"w{i}" for i in range(300)]
    path = E.write_glove_text(tmp_path / "g.txt", words, rng.normal(size=(len(words), 7)), decimals=5)
    by_gensim, by_pandas = E.load_glove(path, "gensim"), E.load_glove(path, "pandas")
    assert by_pandas.index_to_key == by_gensim.index_to_key == words
    np.testing.assert_array_equal(by_pandas.vectors, by_gensim.vectors)


def test_glove_zip_member_is_unpacked(glove_file, tmp_path):
    path, vectors = glove_file
    archive = tmp_path / "glove.6B.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("glove.6B.100d.txt", "other 1.0 2.0\n")
        z.write(path, "glove.6B.50d.txt")
    text = E.glove_text(archive, tmp_path / "cache" / "glove.6B.50d.txt")
    assert text == tmp_path / "cache" / "glove.6B.50d.txt"
    assert text.read_bytes() == path.read_bytes()
    assert E.glove_text(path, tmp_path / "unused.txt") == path  # a .txt is used as it is
    with pytest.raises(DataError, match="no glove.6B.300d.txt"):
        E.glove_text(archive, tmp_path / "x.txt", member="glove.6B.300d.txt")


@pytest.mark.parametrize("reader", E.READERS)
@pytest.mark.parametrize("line, problem", [("man 0.1 0.2 abc 0.4 0.5 0.6 0.7 0.8", "'abc' is not a number"),
                                           ("man 0.1 0.2 0.3", "has 3 components, line 1 has 8"),
                                           ("man" + " 0.1" * 9, "has 9 components, line 1 has 8")])
def test_malformed_glove_line_names_file_and_line(glove_file, tmp_path, line, problem, reader):
    path, _ = glove_file
    lines = path.read_text().splitlines()
    lines[3] = line
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        E.load_glove(bad, reader=reader)
    message = str(info.value)
    assert str(bad) in message and "line 4" in message and problem in message


def test_empty_glove_file_is_refused(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DataError, match="empty"):
        E.load_glove(tmp_path / "empty.txt")


def test_keyed_vectors_file_round_trip(glove_file, tmp_path):
    kv = E.load_glove(glove_file[0])
    path = E.save_keyed_vectors(kv, tmp_path / "emb" / "vectors.kv")
    assert sorted(p.name for p in path.parent.iterdir()) == ["vectors.kv"]  # one file, no temp left over
    again = E.load_keyed_vectors(path)
    assert again.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(again.vectors, kv.vectors)


def test_matrix_row_i_is_the_vector_of_token_i(glove_file):
    kv = E.load_glove(glove_file[0])
    docs = [["the", "king", "zzz", "the"], ["queen", "unknownword", "the", "king"]]
    vocabulary = build_vocabulary(docs, None)
    table = E.embedding_matrix(vocabulary, kv)
    matrix, found = E.matrix_numpy(table), table.column("found").to_numpy(zero_copy_only=False)
    assert table.column("id").to_pylist() == list(range(len(vocabulary)))
    assert table.column("vector").type.list_size == kv.vector_size
    assert not found[0] and not found[1] and not matrix[:2].any()  # padding and [UNK]: zeros
    for i, token in enumerate(vocabulary.token):
        if i < 2:
            continue
        if token in kv.key_to_index:
            assert found[i]
            np.testing.assert_array_equal(matrix[i], kv[token])
        else:
            assert not found[i] and not matrix[i].any()
    share = E.coverage(vocabulary, found)
    known = [t for t in vocabulary.token[2:] if t in kv.key_to_index]
    assert share["tokens"] == len(vocabulary) - 2 and share["tokens_found"] == len(known) == 3
    counts = dict(zip(vocabulary.token, vocabulary["count"]))
    assert share["share_occurrences"] == pytest.approx(sum(counts[t] for t in known) / sum(list(counts.values())[2:]))


def test_analogy_and_neighbours_report(glove_file):
    kv = E.load_glove(glove_file[0])
    result = E.analogy_report(kv)
    king = result["king_man_woman"]
    assert king["top"] == "queen" and king["similarity"] == pytest.approx(1.0, abs=1e-5)
    assert king["queen_similarity"] == pytest.approx(king["similarity"], abs=1e-5)
    assert [r["a"] for r in result["analogies"]] == ["man", "france", "teacher", "cat"]
    assert result["analogies"][1]["ours"] == [(w, pytest.approx(s)) for w, s in
                                              kv.most_similar(positive=["paris", "germany"], negative=["france"],
                                                              topn=3)]
    assert result["neighbours"]["good"]["ours"] == [(w, pytest.approx(s)) for w, s in
                                                    kv.most_similar("good", topn=5)]
    assert result["neighbours"]["good"]["book"]["glove"] == ["better", "really", "always", "sure", "something"]
    small = E.load_glove(E.write_glove_text(glove_file[0].parent / "small.txt", ["a", "b"], np.eye(2)))
    assert E.analogy(small, "man", "king", "woman") is None
    assert E.neighbours(small, ["good"]) == {"good": None}
    sections = dict(ER.report_markdown_sections({**result, "coverage": {"imdb": E.coverage(
        build_vocabulary([["good"]], None), np.array([False, False, True]))}}, "glove", "glove"))
    assert "queen" in sections["king − man + woman"] and "0.8524" in sections["king − man + woman"]
    assert "| imdb | 1 | 1 | 1.0000 | 1.0000 |" in sections["Coverage of the vocabularies"]


def test_projector_files_format(glove_file, tmp_path):
    kv = E.load_glove(glove_file[0])
    files = ER.projector_files(kv, n_viz=12, tensor_name="glove")
    folder = ER.write_projector(tmp_path / "projector", files)
    rows = (folder / "vectors.tsv").read_text().splitlines()
    assert len(rows) == 12
    np.testing.assert_allclose(np.array([[float(v) for v in r.split("\t")] for r in rows]), kv.vectors[:12],
                               rtol=1e-5, atol=1e-6)
    assert (folder / "metadata.tsv").read_text().splitlines() == WORDS[:12]  # one column: no header line
    config = (folder / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config
    assert "tensor_shape: 12" in config and "tensor_shape: 8" in config
    assert len(ER.projector_files(kv, n_viz=4000, tensor_name="g")["metadata.tsv"].splitlines()) == len(WORDS)
    png = ER.projection_plot(kv, 15, ["king", "queen", "nope"], "test")
    assert png.startswith(b"\x89PNG")


def _corpus(seed=0, n=300):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)]
    return [list(rng.choice(words, size=12)) for _ in range(n)]


W2V = {"vector_size": 16, "min_count": 2, "epochs": 2, "seed": 7}


def test_word2vec_is_reproducible_in_one_process():
    a = E.train_word2vec(_corpus(), **W2V)
    b = E.train_word2vec(_corpus(), **W2V)
    assert a.index_to_key == b.index_to_key
    np.testing.assert_array_equal(a.vectors, b.vectors)
    c = E.train_word2vec(_corpus(), **{**W2V, "seed": 8})
    assert not np.array_equal(a.vectors, c.vectors)  # the seed matters, so equality above is not vacuous


def test_word2vec_is_reproducible_across_processes_and_hash_seeds(tmp_path):
    script = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]); from tests.unit.test_embeddings import "
              "_corpus, W2V; from ztdl_pipeline.core.embeddings import train_word2vec; "
              "kv = train_word2vec(_corpus(), **W2V); np.save(sys.argv[2], kv.vectors); "
              "open(sys.argv[3], 'w').write(' '.join(kv.index_to_key))")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, root, str(tmp_path / "v.npy"), str(tmp_path / "k.txt")],
                   check=True, env=env, timeout=120)
    here = E.train_word2vec(_corpus(), **W2V)
    assert (tmp_path / "k.txt").read_text().split(" ") == here.index_to_key
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"), here.vectors)


# ---------------------------------------------------------------- Reuters


def write_reuters(folder, n=120, n_words=50, seed=0):
    """Keras' format: reuters.npz with object arrays x (lists of word ranks) and y, and a word index JSON."""
    rng = np.random.default_rng(seed)
    x = np.empty(n, dtype=object)
    y = rng.integers(0, 4, size=n)
    for i in range(n):
        length = int(rng.integers(3, 140))
        ranks = rng.integers(1, n_words + 1, size=length)
        ranks[rng.integers(0, length)] = 40 + y[i]  # a topic word: learnable
        x[i] = [int(r) for r in ranks]
    np.savez(folder / "reuters.npz", x=x, y=y)
    index = {f"word{r}": r for r in range(1, n_words + 1)}
    (folder / "reuters_word_index.json").write_text(json.dumps(index))
    return folder / "reuters.npz", folder / "reuters_word_index.json"


def test_reuters_reader_matches_keras_load_data(tmp_path, monkeypatch):
    from keras.src.datasets import reuters as keras_reuters
    from keras.utils import pad_sequences

    npz, index = write_reuters(tmp_path)
    sequences, labels = R.read_npz(npz)
    assert len(sequences) == 120 and labels.dtype == np.int64
    monkeypatch.setattr(keras_reuters, "get_file", lambda *a, **k: str(npz))
    (kx, ky), (tx, ty) = keras_reuters.load_data(num_words=30, index_from=2)
    (ox, oy), (px, py) = R.load_data(sequences, labels, num_words=30, index_from=2)
    assert len(ox) == len(kx) == 96 and len(px) == 24
    assert all(list(a) == list(b) for a, b in zip(ox, kx)) and all(list(a) == list(b) for a, b in zip(px, tx))
    np.testing.assert_array_equal(oy, ky)
    np.testing.assert_array_equal(py, ty)
    np.testing.assert_array_equal(R.pad(ox, 100), pad_sequences(kx, maxlen=100))
    vocabulary = R.vocabulary(R.read_word_index(index), ox, num_words=30, index_from=2)
    assert vocabulary.token.tolist()[:5] == ["", "[START]", "[UNK]", "word1", "word2"]
    assert vocabulary["count"][1] == len(ox)  # one start id per training sequence
    assert vocabulary["count"].sum() == sum(len(s) for s in ox)


def test_bad_reuters_files_are_refused(tmp_path):
    np.savez(tmp_path / "wrong.npz", a=np.arange(3))
    with pytest.raises(DataError, match="no x.npy or y.npy"):
        R.read_npz(tmp_path / "wrong.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        R.read_npz(tmp_path / "junk.npz")
    (tmp_path / "index.json").write_text('["a", "b"]')
    with pytest.raises(DataError, match="word: rank"):
        R.read_word_index(tmp_path / "index.json")


def test_frozen_weights_fill_missing_rows_as_documented():
    matrix = np.ones((5, 3), dtype=np.float32)
    matrix[[0, 2]] = 0
    found = np.array([False, True, False, True, True])
    zeros = R.frozen_weights(matrix, found, "zeros", seed=0)
    np.testing.assert_array_equal(zeros, matrix)
    random = R.frozen_weights(matrix, found, "random", seed=0)
    assert not random[0].any() and (random[2] > 0).all() and (random[2] < 1).all()
    np.testing.assert_array_equal(random[found], matrix[found])
    np.testing.assert_array_equal(random, R.frozen_weights(matrix, found, "random", seed=0))
