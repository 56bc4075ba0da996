"""The embeddings group materialized once in-process (fast profile, small sub-samples). Its upstream text-group
features (reviews with tokens and their vocabulary tables, in the contract's format) are written by the test,
so this test does not pay for the text group's run; GloVe and Reuters, which the mirror lacks, come from
generated files in their real formats that the raw assets' run config points at."""

from __future__ import annotations

import hashlib
import json
import zipfile

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from tests.unit.test_embeddings import WORDS, analogy_vectors
from ztdl_pipeline.core import embeddings as E
from ztdl_pipeline.core.names import user_key
from ztdl_pipeline.core.text import build_vocabulary
from ztdl_pipeline.resources.io import read_parquet, write_parquet

FILLER = [f"word{i}" for i in range(40)]


def _reviews(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = WORDS + FILLER
    tokens = [list(rng.choice(pool, size=int(rng.integers(5, 30)))) for _ in range(n)]
    return pd.DataFrame({"text": [" ".join(t) for t in tokens], "tokens": tokens,
                         "label": rng.integers(0, 2, size=n).astype("int64"),
                         "split": ["train" if i < int(n * 0.75) else "test" for i in range(n)]})


def write_text_features(root) -> dict[str, pd.DataFrame]:
    """features/<corpus>_text and features/<corpus>_vocabulary as the text group stores them (contract)."""
    written = {}
    for seed, corpus in enumerate(("movie_reviews", "imdb")):
        text = _reviews(seed, 160)
        vocabulary = build_vocabulary(text.loc[text.split == "train", "tokens"], None)
        write_parquet(text, root / "features" / f"{corpus}_text.parquet")
        write_parquet(vocabulary, root / "features" / f"{corpus}_vocabulary.parquet")
        written[corpus] = vocabulary
    return written


def write_reuters_files(folder, n=400, n_words=50, seed=0):
    """Keras' reuters.npz (object arrays x, y) and reuters_word_index.json; topic words make it learnable and
    topic 3 is the majority."""
    rng = np.random.default_rng(seed)
    x = np.empty(n, dtype=object)
    y = rng.choice(4, size=n, p=[0.15, 0.15, 0.15, 0.55])
    for i in range(n):
        ranks = rng.integers(1, n_words + 1, size=int(rng.integers(5, 120)))
        ranks[-1] = 40 + y[i]
        x[i] = [int(r) for r in ranks]
    np.savez(folder / "reuters.npz", x=x, y=y)
    (folder / "reuters_word_index.json").write_text(json.dumps({f"word{r}": r for r in range(1, n_words + 1)}))
    return folder / "reuters.npz", folder / "reuters_word_index.json"


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def embeddings_run(tmp_path_factory, mirror):
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    base = tmp_path_factory.mktemp("embeddings")
    root = base / "data"
    vocabularies = write_text_features(root / "fast")  # the fast profile's storage root
    glove_words = WORDS + FILLER[:20] + ["word40", "word41", "word42", "word43"]  # the topic words
    # scaled ×4 so the frozen topic-word rows stand out from the random rows of missing words (uniform
    # scaling keeps the analogy): a frozen embedding of unit vectors only learns the majority topic here
    E.write_glove_text(base / "glove.6B.50d.txt", glove_words, 4 * analogy_vectors(glove_words, dim=12))
    with zipfile.ZipFile(base / "glove.6B.zip", "w") as archive:
        archive.write(base / "glove.6B.50d.txt", "glove.6B.50d.txt")
    npz, index = write_reuters_files(base)
    reuters = {"num_words": 60, "maxlen": 40, "train_rows": 240, "test_rows": 80}  # book: 20000, 100
    config = {"ops": {
        "raw__glove_6b_50d_raw": {"config": {"path": str(base / "glove.6B.zip")}},
        "raw__reuters_raw": {"config": {"url": npz.as_uri(), "sha256": _sha256(npz), "word_index_url": index.as_uri()}},
        "features__reuters_features": {"config": reuters}, "features__reuters_vocabulary_features": {"config": reuters},
        "reports__embeddings_glove_report": {"config": {"n_viz": 30, "n_plot": 50}},
        # the book's 300-d embedding is slower, same code; 2 fast epochs only learn the majority topic, which
        # the gate rightly refuses to export, so the tests train long enough to learn the topic words
        "models__reuters_lstm_random_model": {"config": {"embedding_dim": 16, "epochs": 12, "batch_size": 16}},
        "models__reuters_lstm_glove_model": {"config": {"epochs": 12, "batch_size": 16}},
        "models__reuters_lstm_word2vec_model": {"config": {"epochs": 12, "batch_size": 16}},
    }}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", "fast")
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                selection=dg.AssetSelection.groups("embeddings"), run_config=config,
                                raise_on_error=False)
        yield result, root / "fast", instance, {"base": base, "vocabularies": vocabularies, "glove_words": glove_words}


def _metrics(root, *key) -> dict:
    return json.loads((root.joinpath(*key) / "metrics.json").read_text())


def test_run_succeeds_and_every_check_passes(embeddings_run):
    result, _, _, _ = embeddings_run
    assert result.success, [e.step_key for e in result.all_events if e.is_step_failure]
    evaluations = result.get_asset_check_evaluations()
    assert all(e.passed for e in evaluations)
    ran = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations}
    matrices = [user_key("features", f"{v}_{e}") for v in ("movie_reviews", "imdb", "reuters") for e in ("word2vec", "glove")]
    expected = {(m, c) for m in matrices for c in ("schema_and_nulls", "row_counts", "aligned_to_vocabulary")}
    expected |= {(user_key("features", t), c) for t in ("reuters", "reuters_vocabulary") for c in ("schema_and_nulls", "row_counts")}
    expected |= {(user_key(layer, f"reuters_lstm_{kind}"), check) for kind in ("random", "word2vec", "glove")
                 for layer, check in (("reports", "export_gate"), ("exports", "savedmodel_matches_keras"))}
    assert ran == expected


def test_glove_is_read_and_kept_as_keyed_vectors(embeddings_run):
    _, root, instance, extra = embeddings_run
    record = _metrics(root, "models", "glove_6b_50d")
    assert record["vocabulary_size"] == len(extra["glove_words"]) and record["dim"] == 12
    assert record["reader"] == "pandas"  # the default; gensim's own reader is compared with it in the unit tests
    kv = E.load_keyed_vectors(record["path"])
    assert kv.index_to_key == extra["glove_words"]
    version = instance.get_latest_data_version_record(dg.AssetKey(["raw", "glove_6b_50d_raw"]))
    assert version.asset_event.tags["dagster/data_version"] == _sha256(extra["base"] / "glove.6B.zip")


def test_matrices_are_aligned_to_the_text_vocabularies(embeddings_run):
    _, root, _, extra = embeddings_run
    for short, key in (("glove", "glove_6b_50d"), ("word2vec", "word2vec_reviews")):
        kv = E.load_keyed_vectors(_metrics(root, "models", key)["path"])
        for corpus, vocabulary in extra["vocabularies"].items():
            table = read_parquet(root / "features" / f"{corpus}_{short}.parquet")
            matrix = E.matrix_numpy(table)
            assert table.column("token").to_pylist() == vocabulary.token.tolist()
            for i, token in enumerate(vocabulary.token):
                expected = kv[token] if i >= 2 and token in kv.key_to_index else np.zeros(kv.vector_size)
                np.testing.assert_array_equal(matrix[i], expected)


def test_embedding_reports(embeddings_run):
    _, root, _, extra = embeddings_run
    glove = _metrics(root, "reports", "embeddings_glove")
    assert glove["king_man_woman"]["top"] == "queen"
    assert glove["king_man_woman"]["similarity"] == pytest.approx(1.0, abs=1e-5)
    assert glove["coverage"]["imdb"]["share_tokens"] == pytest.approx(
        np.mean([t in extra["glove_words"] for t in extra["vocabularies"]["imdb"].token[2:]]))
    folder = root / "reports" / "embeddings_glove"
    assert (folder / "projection.png").read_bytes().startswith(b"\x89PNG")
    assert len((folder / "projector" / "metadata.tsv").read_text().splitlines()) == 30
    assert "queen" in (folder / "report.md").read_text()
    word2vec = _metrics(root, "reports", "embeddings_word2vec")
    record = word2vec["record"]
    assert record["settings"]["workers"] == 1 and record["tokens"] > 0
    assert set(word2vec["coverage"]) == {"movie_reviews", "imdb"}
    assert len((root / "reports" / "embeddings_word2vec" / "projector" / "vectors.tsv").read_text().splitlines()) \
        == min(4000, record["vocabulary_size"])


def test_reuters_models_reports_and_exports(embeddings_run):
    _, root, instance, _ = embeddings_run
    features = read_parquet(root / "features" / "reuters.parquet")
    splits = features.column("split").to_pylist()
    assert splits.count("train") == 240 and splits.count("test") == 80
    assert features.column("ids").type.shape == [40]
    for name in ("reuters_lstm_random", "reuters_lstm_word2vec", "reuters_lstm_glove"):
        metrics = _metrics(root, "reports", name)
        assert metrics["test"]["accuracy"] >= 0.3 and metrics["test"]["n"] == 80
        record = json.loads((root / "exports" / name / "export.json").read_text())
        assert (root / "exports" / name / str(record["version"]) / "saved_model.pb").exists()
        assert record["signature"]["ids"]["dtype"] == "int32"
    training = json.loads((root / "models" / "reuters_lstm_glove" / "training.json").read_text())
    assert training["frozen"] and training["embedding_dim"] == 12 and training["embedding"] == "glove"
    # the frozen model reads its matrix (the family's model_inputs) and says how many of its rows were found
    metadata = instance.get_latest_materialization_event(
        dg.AssetKey.from_user_string(user_key("models", "reuters_lstm_glove"))).asset_materialization.metadata
    assert metadata["embedding"].value == "glove" and metadata["embedding rows found"].value > 0
    assert {"settings_sources", "resumed_from_epoch", "final_accuracy"} <= set(metadata)
    comparison = _metrics(root, "reports", "reuters_embeddings_glove")
    assert comparison["book"]["random"]["test"] == pytest.approx(0.638, abs=1e-3)
    assert comparison["frozen"]["test"]["accuracy"] == _metrics(root, "reports", "reuters_lstm_glove")["test"][
        "accuracy"]
    assert (root / "reports" / "reuters_embeddings_glove" / "accuracy_curves.png").exists()


def test_glove_without_configuration_fails_with_instructions(tmp_path, mirror, monkeypatch):
    from ztdl_pipeline.definitions import resources
    from ztdl_pipeline.defs.embeddings.raw import raw_glove_6b_50d
    from ztdl_pipeline.resources import DatasetSource

    monkeypatch.setenv("ZTDL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ZTDL_DATA_MIRROR", str(mirror))
    offline = {**resources(), "data_source": DatasetSource(allow_download=False)}  # never start an 822 MB download
    result = dg.materialize([raw_glove_6b_50d], resources=offline, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.to_string()
    assert "glove.6B.zip" in message and "not in the data mirror" in message
    assert "raw__glove_6b_50d_raw" in message and "path" in message


@pytest.mark.book
def test_mirror_word2vec_at_book_settings(tmp_path, mirror):
    """What a new user gets from the mirror alone: the text group's review corpora (full, book profile), then
    Word2Vec and its analogy report (the GloVe / Reuters assets left out, as the README's selection does)."""
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    root = tmp_path / "data"
    selection = dg.AssetSelection.assets(dg.AssetKey(["reports", "embeddings_word2vec_report"])).upstream()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", "book")
        result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), selection=selection,
                                instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    report = _metrics(root, "reports", "embeddings_word2vec")
    assert report["record"]["tokens"] > 5_000_000 and report["vocabulary_size"] > 20_000
    assert report["king_man_woman"]["top"] is not None  # king, man, woman are all frequent in reviews
    assert report["coverage"]["imdb"]["share_occurrences"] > 0.9  # min_count 5 keeps the frequent tokens
    assert (root / "reports" / "embeddings_word2vec" / "projector" / "projector_config.pbtxt").exists()


def test_plain_group_selection_on_the_mirror_still_gives_word2vec(tmp_path, mirror, monkeypatch):
    """`--select group:embeddings` without GloVe / Reuters: those raw steps fail with their instructions, the
    Word2Vec branch runs to its report, everything downstream of the failures is skipped."""
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources
    from ztdl_pipeline.resources import DatasetSource

    base = tmp_path / "data"
    root = base / "fast"
    write_text_features(root)
    monkeypatch.setenv("ZTDL_DATA_DIR", str(base))
    monkeypatch.setenv("ZTDL_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("ZTDL_PROFILE", "fast")
    offline = {**resources(), "data_source": DatasetSource(allow_download=False)}
    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=offline, instance=dg.DagsterInstance.ephemeral(),
                            selection=dg.AssetSelection.groups("embeddings"), raise_on_error=False)
    failed = sorted(e.step_key for e in result.all_events if e.is_step_failure)
    assert failed == ["raw__glove_6b_50d_raw", "raw__reuters_raw"]
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert done == {"models/word2vec_reviews_model", "features/movie_reviews_word2vec_features", "features/imdb_word2vec_features",
                    "reports/embeddings_word2vec_report"}
    assert _metrics(root, "reports", "embeddings_word2vec")["king_man_woman"]["top"] is not None
