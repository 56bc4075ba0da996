"""Word embeddings as assets (group `embeddings`): book ch12 (GloVe, analogies, TensorBoard projector, exercise 2
on Reuters) and its ch26 solutions.

Runs on the data mirror (after group `text`):
  features/movie_reviews_text + features/imdb_text -> models/word2vec_reviews (gensim Word2Vec, .kv file)
  -> features/{movie_reviews,imdb}_word2vec (matrices aligned to the text group's vocabularies)
  -> reports/embeddings_word2vec (analogies, neighbours, coverage, PCA plot, projector files).
Needs configuration (not in the mirror; canonical URLs otherwise):
  raw/glove_6b_50d (run config `path`: a local glove.6B.zip or glove.6B.50d.txt) -> models/glove_6b_50d
  -> features/*_glove -> reports/embeddings_glove;
  raw/reuters (Keras' reuters.npz + reuters_word_index.json; run config url + sha256) -> features/reuters,
  features/reuters_vocabulary -> models/reports/exports reuters_lstm_{random,word2vec,glove}
  -> reports/reuters_embeddings_{word2vec,glove} (random vs frozen, side by side).
Every asset whose key holds "glove" or "reuters" needs one of those, so
`group:embeddings and not key:"*glove*" and not key:"*reuters*"` is what the mirror alone can feed.
gensim, Keras and TensorFlow are imported inside asset bodies only.
"""

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline import datasets, settings
from ztdl_pipeline.assets import factory
from ztdl_pipeline.assets.factory import TrainingConfig
from ztdl_pipeline.assets.text import settings as text_settings
from ztdl_pipeline.core import refs, versioning
from ztdl_pipeline.core.embedding_cards import PRETRAINED, REUTERS_EXAMPLES
from ztdl_pipeline.core.specs import Hyper
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource

GROUP = "embeddings"
TEXT_CORPORA = ("movie_reviews", "imdb")  # the text group's features/<x>_text and features/<x>_vocabulary

FAST: dict[str, dict] = {  # the fast profile's overrides by config class (core/profile.py; run config wins)
    "Word2VecConfig": {"min_count": 2},  # the sub-sampled corpora are small
    "ReutersFeaturesConfig": {"train_rows": 1000, "test_rows": 300},  # the first sequences of each split
}


def _resolved(context, config, storage):
    return text_settings(context, config, storage, FAST)


# ------------------------------------------------------------------ raw data (canonical-only)


class GloveSourceConfig(dg.Config):
    """Where raw/glove_6b_50d reads GloVe from: a local glove.6B.zip or glove.6B.50d.txt (`path`), or another
    copy of glove.6B.zip by `url` (https://, file://) with its `sha256`; unset: cache, mirror
    (embeddings/glove.6B.zip), then Stanford's URL."""

    path: str | None = None
    url: str | None = None
    sha256: str | None = None
    member: str = "glove.6B.50d.txt"  # the file read inside the zip


_GLOVE_FIX = ("download http://nlp.stanford.edu/data/glove.6B.zip (822 MB) once and give its path (or that "
              "of glove.6B.50d.txt) in the run config: ops: {raw__glove_6b_50d: {config: {path: "
              "/path/to/glove.6B.zip}}}; or put it in the mirror as embeddings/glove.6B.zip; or leave GloVe "
              "out with --select 'group:embeddings and not key:\"*glove*\" and not key:\"*reuters*\"'")
_REUTERS_FIX = ("download https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz and "
                "reuters_word_index.json once and give them in the run config: ops: {raw__reuters: {config: "
                "{url: file:///path/reuters.npz, sha256: <its sha256>, word_index_url: "
                "file:///path/reuters_word_index.json}}}; or put them in the mirror's keras_datasets/; or "
                "leave Reuters out with --select 'group:embeddings and not key:\"*reuters*\"'")


def _fetch(data_source: DatasetSource, entry, log, fix: str):
    from ztdl_pipeline.core.errors import DataError

    try:
        return data_source.fetch(entry, log=log)
    except DataError as exc:
        raise DataError(exc.source, exc.problem + " (this file is not in the data mirror)", fix) from None


@factory.versioned_asset(key=["raw", "glove_6b_50d"], group_name=GROUP, io_manager_key="parquet_io", kinds={"pandas", "parquet"},
          description="GloVe 6B 50d (glove.6B.zip from Stanford, or a local .zip / .txt given in the run config): "
                      "the verified file, one row; its sha256 is the data version. Not in the data mirror.")
def raw_glove_6b_50d(context: dg.AssetExecutionContext, config: GloveSourceConfig,
                     data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core.embeddings import glove_text
    from ztdl_pipeline.core.errors import DataError
    from ztdl_pipeline.core.schema import sha256_file

    entry = datasets.get("glove_6b_50d")
    if config.path:
        path = Path(config.path).expanduser().resolve()
        if not path.is_file():
            raise DataError(path, "raw/glove_6b_50d: the configured path is not a file", _GLOVE_FIX)
        digest, origin = sha256_file(path), "config path"
        if config.sha256 and digest != config.sha256:
            raise DataError(path, f"sha256 {digest} differs from the configured {config.sha256}")
    else:
        if config.url or config.sha256:
            entry = dataclasses.replace(entry, url=config.url or entry.url, sha256=config.sha256, alt_sha256=())
        path, digest, origin = _fetch(data_source, entry, context.log, _GLOVE_FIX)
    text = glove_text(path, settings.data_dir() / "raw" / "embeddings" / config.member, member=config.member)
    frame = pd.DataFrame({"file": [str(path)], "text_file": [str(text)], "bytes": [path.stat().st_size],
                          "text_bytes": [text.stat().st_size], "sha256": [digest]})
    return dg.Output(frame, data_version=dg.DataVersion(digest), metadata={
        "sha256": digest, "fetched_from": origin, "source": dg.MetadataValue.path(str(path)),
        "text_file": dg.MetadataValue.path(str(text)), "bytes": float(path.stat().st_size),
        "canonical_url": dg.MetadataValue.url(entry.url), "dagster/row_count": 1})


class ReutersSourceConfig(dg.Config):
    """Other copies of Keras' reuters.npz (url + sha256, required: the catalog pins Keras' hash) and of
    reuters_word_index.json (word_index_url, optional word_index_sha256)."""

    url: str | None = None
    sha256: str | None = None
    word_index_url: str | None = None
    word_index_sha256: str | None = None


@factory.versioned_asset(key=["raw", "reuters"], group_name=GROUP, io_manager_key="parquet_io", kinds={"pandas", "parquet"},
          description="Keras' reuters.npz + reuters_word_index.json (canonical URLs, or copies given in the run "
                      "config), verified: one row per file; the two hashes make the data version. Not in the "
                      "data mirror.")
def raw_reuters(context: dg.AssetExecutionContext, config: ReutersSourceConfig,
                data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    npz, index = datasets.get("reuters"), datasets.get("reuters_word_index")
    if config.url or config.sha256:
        if not config.sha256:
            raise ValueError(f"raw/reuters: config gives url {config.url} but no sha256; a copy is read only "
                             "with the hash that proves its bytes")
        npz = dataclasses.replace(npz, url=config.url or npz.url, sha256=config.sha256, alt_sha256=())
    if config.word_index_url or config.word_index_sha256:
        index = dataclasses.replace(index, url=config.word_index_url or index.url,
                                    sha256=config.word_index_sha256, alt_sha256=())
    rows = []
    for entry in (npz, index):
        path, digest, origin = _fetch(data_source, entry, context.log, _REUTERS_FIX)
        rows.append({"name": entry.name, "file": str(path), "bytes": path.stat().st_size, "sha256": digest,
                     "fetched_from": origin, "url": entry.url})
    frame = pd.DataFrame(rows)
    version = hashlib.sha256("".join(frame.sha256).encode()).hexdigest()
    return dg.Output(frame, data_version=dg.DataVersion(version), metadata={
        "npz_sha256": rows[0]["sha256"], "word_index_sha256": rows[1]["sha256"],
        "fetched_from": json.dumps([r["fetched_from"] for r in rows]),
        "canonical_url": dg.MetadataValue.url(datasets.get("reuters").url), "dagster/row_count": len(frame)})


raw_assets = [raw_glove_6b_50d, raw_reuters]

# ------------------------------------------------------------------ embeddings (KeyedVectors files)


def _kv_record(storage: factory.Storage, name: str, kv, extra: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Save the vectors as <profile root>/models/<name>/vectors.kv; the record and its content hash."""
    from ztdl_pipeline.core.embeddings import save_keyed_vectors, vectors_digest

    path = save_keyed_vectors(kv, storage.folder("models", name) / "vectors.kv")
    digest = vectors_digest(kv)
    record = {"name": name, "path": str(path), "vocabulary_size": len(kv.index_to_key),
              "dim": int(kv.vector_size), "vectors_sha256": digest, "first_words": kv.index_to_key[:20], **extra}
    return record, digest


class GloveLoadConfig(dg.Config):
    """reader "pandas" (default): pandas' C parser into gensim's KeyedVectors.add_vectors; "gensim":
    KeyedVectors.load_word2vec_format(no_header=True). Both give the same words and float32 values (tested);
    on the 400,000 lines pandas takes 1.4 s, gensim's reader 15.5 s and the book's dict loop 3.0 s, at the
    price of ~0.6 GB peak memory instead of ~0.14 GB (bench/glove_loading.py)."""

    reader: str = "pandas"


@factory.versioned_asset(key=["models", "glove_6b_50d"], ins={"raw": dg.AssetIn(["raw", "glove_6b_50d"])}, group_name=GROUP,
          io_manager_key="report_io", kinds={"gensim", "json"},
          description="GloVe 6B 50d read with gensim KeyedVectors.load_word2vec_format(no_header=True) and kept "
                      "as a KeyedVectors file (models/glove_6b_50d/vectors.kv); the record is metrics.json")
def glove_6b_50d(context: dg.AssetExecutionContext, config: GloveLoadConfig, storage: factory.Storage,
                 raw: pd.DataFrame) -> dg.Output[dict]:
    import time

    from ztdl_pipeline.core.embeddings import load_glove

    start = time.perf_counter()
    kv = load_glove(raw.text_file.iloc[0], reader=config.reader)
    seconds = time.perf_counter() - start
    record, digest = _kv_record(storage, "glove_6b_50d", kv, {"source": raw.file.iloc[0], "source_sha256": raw.sha256.iloc[0],
                                                     "load_seconds": round(seconds, 3), "reader": config.reader})
    context.log.info(f"GloVe: {record['vocabulary_size']} words × {record['dim']} in {seconds:.1f} s")
    return dg.Output(record, data_version=dg.DataVersion(digest), metadata={
        "vocabulary_size": float(record["vocabulary_size"]), "dim": float(record["dim"]),
        "load_seconds": seconds, "kv_file": dg.MetadataValue.path(record["path"])})


class Word2VecConfig(dg.Config):
    """gensim Word2Vec on the train splits of the review corpora. Skip-gram (the variant the book describes in
    ch12), 100-d, window 5, 5 negative samples, words seen ≥ 5 times, 5 epochs; workers=1 + seed + a stable
    hash function make it reproducible (core/embeddings.py)."""

    vector_size: int = 100
    window: int = 5
    min_count: int = 5
    sg: int = 1
    negative: int = 5
    epochs: int = 5
    seed: int = 0
    corpora: list[str] = list(TEXT_CORPORA)


@factory.versioned_asset(key=["models", "word2vec_reviews"],
          ins={f"{c}_text": dg.AssetIn(["features", f"{c}_text"]) for c in TEXT_CORPORA},
          group_name=GROUP, io_manager_key="report_io", kinds={"gensim", "json"},
          description="Word2Vec (gensim, skip-gram, seeded, one worker) trained on the tokens of the train "
                      "splits of the Rotten Tomatoes and IMDB reviews; kept as a KeyedVectors file "
                      "(models/word2vec_reviews/vectors.kv)")
def word2vec_reviews(context: dg.AssetExecutionContext, config: Word2VecConfig, storage: factory.Storage,
                     movie_reviews_text: pd.DataFrame, imdb_text: pd.DataFrame) -> dg.Output[dict]:
    import time

    from ztdl_pipeline.core.embeddings import review_sentences, train_word2vec

    values, adjusted = _resolved(context, config, storage)
    sentences, documents = review_sentences({"movie_reviews": movie_reviews_text, "imdb": imdb_text},
                                            values["corpora"])
    start = time.perf_counter()
    kv = train_word2vec(sentences, **{k: values[k] for k in ("vector_size", "window", "min_count", "sg",
                                                              "negative", "epochs", "seed")})
    seconds = time.perf_counter() - start
    tokens = sum(len(s) for s in sentences)
    settings_used = {**values, "workers": 1, "hashfxn": "crc32", "profile": adjusted["profile"]}
    record, digest = _kv_record(storage, "word2vec_reviews", kv, {"documents": documents, "tokens": tokens,
                                                                 "train_seconds": round(seconds, 3),
                                                                 "settings": settings_used})
    context.log.info(f"Word2Vec: {tokens} tokens of {sum(documents.values())} reviews -> "
                     f"{record['vocabulary_size']} words in {seconds:.1f} s")
    return dg.Output(record, data_version=dg.DataVersion(digest), metadata={
        "vocabulary_size": float(record["vocabulary_size"]), "dim": float(record["dim"]), **adjusted,
        "corpus_tokens": float(tokens), "train_seconds": seconds, "vectors_sha256": digest,
        "settings": json.dumps(settings_used), "kv_file": dg.MetadataValue.path(record["path"])})


EMBEDDINGS = {"word2vec": "word2vec_reviews", "glove": "glove_6b_50d"}  # short name -> models/<key>

# ------------------------------------------------------------------ matrices aligned to vocabularies


def matrix_asset(vocab: str, short: str, reserved: int = 2) -> dg.AssetsDefinition:
    """features/<vocab>_<short>: the EMBEDDING MATRIX (core/embeddings.py) of features/<vocab>_vocabulary."""

    @factory.versioned_asset(key=["features", f"{vocab}_{short}"],
              ins={"vocabulary": dg.AssetIn(["features", f"{vocab}_vocabulary"]),
                   "embedding": dg.AssetIn(["models", EMBEDDINGS[short]])},
              group_name=GROUP, io_manager_key="parquet_io", kinds={"pyarrow", "parquet"},
              description=f"{short} vectors aligned to features/{vocab}_vocabulary: row i = the vector of token id "
                          f"i; the {reserved} reserved ids and unknown tokens hold zeros (found = False)")
    def _matrix(vocabulary: pd.DataFrame, embedding: dict) -> dg.Output[pa.Table]:
        from ztdl_pipeline.core.embeddings import coverage, embedding_matrix, load_keyed_vectors

        kv = load_keyed_vectors(embedding["path"])
        table = embedding_matrix(vocabulary, kv, reserved=reserved)
        share = coverage(vocabulary, table.column("found").to_numpy(), reserved=reserved)
        return dg.Output(table, metadata={
            **share, "rows": float(table.num_rows), "dim": float(kv.vector_size),
            "missing rows": "zeros, found = False (reserved ids and tokens the embedding lacks)",
            "dagster/row_count": table.num_rows})

    return _matrix


text_matrices = [matrix_asset(vocab, short) for vocab in TEXT_CORPORA for short in EMBEDDINGS]

# ------------------------------------------------------------------ the embeddings reports


class EmbeddingReportConfig(dg.Config):
    n_viz: int = 4000  # the book's projector: the first 4,000 words
    n_plot: int = 2000  # points in the PCA plot


def embedding_report_asset(short: str) -> dg.AssetsDefinition:
    name = f"embeddings_{short}"
    ins = {"embedding": dg.AssetIn(["models", EMBEDDINGS[short]])}
    for vocab in TEXT_CORPORA:
        ins[f"{vocab}_vocabulary"] = dg.AssetIn(["features", f"{vocab}_vocabulary"])
        ins[f"{vocab}_matrix"] = dg.AssetIn(["features", f"{vocab}_{short}"])

    @factory.versioned_asset(key=["reports", name], ins=ins, group_name=GROUP, io_manager_key="report_io",
              kinds={"gensim", "markdown"},
              description=f"{short}: king − man + woman, the ch26 analogies and neighbours next to the book's, "
                          "coverage of the review vocabularies, a PCA plot and TensorBoard projector files")
    def _report(config: EmbeddingReportConfig, storage: factory.Storage, embedding: dict,
                **tables) -> dg.Output[dict]:
        from ztdl_pipeline.core.embedding_report import embedding_report
        from ztdl_pipeline.core.embeddings import load_keyed_vectors

        folder = storage.folder("reports", name)
        title, sections, images, result, numbers = embedding_report(
            load_keyed_vectors(embedding["path"]), embedding, tables, TEXT_CORPORA, short, EMBEDDINGS[short],
            config.n_viz, config.n_plot, folder)
        return _written(folder, title, sections, images, result, numbers)

    return _report


def _written(folder, title: str, sections, images: dict, result: dict, numbers: dict) -> dg.Output[dict]:
    """Write a chapter report's folder (markdown, images, metrics.json) and show it in the UI."""
    from ztdl_pipeline.core.report import render, write_report_folder

    write_report_folder(folder, render(title, sections, images, embed=False), images)
    return dg.Output(result, metadata={**numbers, "report": dg.MetadataValue.md(render(title, sections, images, True)),
                                       "report_folder": dg.MetadataValue.path(str(folder))})


embedding_reports = [embedding_report_asset(short) for short in EMBEDDINGS]

# ------------------------------------------------------------------ Reuters features


class ReutersFeaturesConfig(dg.Config):
    """keras.datasets.reuters.load_data(num_words=20000, index_from=2) + pad_sequences(maxlen=100)."""

    num_words: int = 20000
    index_from: int = 2
    maxlen: int = 100
    seed: int = 113
    test_split: float = 0.2
    train_rows: int = 0  # the first sequences of the train split kept; 0: all
    test_rows: int = 0  # the same for the test split


@factory.versioned_asset(key=["features", "reuters"], ins={"raw": dg.AssetIn(["raw", "reuters"])}, group_name=GROUP,
          io_manager_key="parquet_io", kinds={"pyarrow", "parquet"},
          description="Reuters as the book prepares it: load_data(num_words=20000, index_from=2) (8,982 train / "
                      "2,246 test), padded at the front to 100 ids; ids as a fixed-shape int32 tensor column "
                      "(fast profile: the first 1,000 / 300)")
def reuters_features(context: dg.AssetExecutionContext, config: ReutersFeaturesConfig, storage: factory.Storage,
                     raw: pd.DataFrame) -> dg.Output[pa.Table]:
    from ztdl_pipeline.core.reuters_steps import features_table

    values, adjusted = _resolved(context, config, storage)
    table, numbers = features_table(raw, profile=adjusted["profile"], **values)
    return dg.Output(table, metadata={**numbers, **adjusted})


@factory.versioned_asset(key=["features", "reuters_vocabulary"], ins={"raw": dg.AssetIn(["raw", "reuters"])}, group_name=GROUP,
          io_manager_key="parquet_io", kinds={"pandas", "parquet"},
          description="The Reuters model's ids as a vocabulary table (id, token, count in the whole train split): "
                      "0 \"\", 1 \"[START]\", 2 \"[UNK]\", word rank r -> id r + 2, up to 19,999")
def reuters_vocabulary(config: ReutersFeaturesConfig, raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core.reuters_steps import vocabulary_table

    table, numbers = vocabulary_table(raw, num_words=config.num_words, index_from=config.index_from,
                                      seed=config.seed, test_split=config.test_split)
    return dg.Output(table, metadata=numbers)


reuters_matrices = [matrix_asset("reuters", short, reserved=3) for short in EMBEDDINGS]

# ------------------------------------------------------------------ Reuters models


def _reuters_core():
    from ztdl_pipeline.core import reuters

    return reuters


class ReutersFamily(factory.Family):
    """Reuters topic models: features are a pyarrow Table of padded id sequences; the export takes them."""

    features_type = pa.Table
    metadata_splits = ("train", "test")

    def builder_ref(self, example) -> versioning.Ref:
        return versioning.Ref(*refs.split(example.builder))

    def train(self, example, features, hyper, **kwargs):
        return _reuters_core().train(example, features, hyper, embedding_dim=hyper.embedding_dim, **kwargs)

    def evaluate(self, example, trained, features) -> dict:
        return _reuters_core().evaluate(example, trained, features)

    def report_images(self, example, trained, features, metrics: dict) -> dict[str, bytes]:
        return _reuters_core().report_images(example, trained, features, metrics)

    def report_markdown(self, example, trained, metrics: dict, images: dict, threshold: float,
                        embed: bool) -> str:
        return _reuters_core().report_markdown(example, trained, metrics, images, threshold, embed)

    def view(self, example, features):
        return features

    def serving(self, example, trained, data) -> tuple:
        return trained.model, _reuters_core().signature(data)

    def verify(self, path, example, trained, data, raw, signature: dict) -> float:
        return _reuters_core().verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        return _reuters_core().describe_outputs(data)


REUTERS = ReutersFamily()


@dataclasses.dataclass(frozen=True)
class ReutersHyper(Hyper):
    embedding_dim: int = 300
    missing: str = "random"


class ReutersConfig(TrainingConfig):
    """sol.ch12.ex2: adam, batch 32, 5 epochs, validation_split 0.1; the random Embedding is 300-d like the
    book's (the FastText size); words a pretrained embedding lacks get np.random.random rows (the book's
    choice; `missing: zeros` for zeros)."""

    epochs: int = 5
    batch_size: int = 32
    validation_split: float = 0.1
    embedding_dim: int = 300
    missing: str = "random"
    fast_epochs: int = 2

    def resolve(self, profile: str):
        return ReutersHyper(**dataclasses.asdict(super().resolve(profile)), embedding_dim=self.embedding_dim,
                            missing=self.missing)


def frozen_model_asset(short: str) -> dg.AssetsDefinition:
    """models/reuters_lstm_<short>: factory.model_asset's steps with the pretrained matrix as a second input."""
    example = REUTERS_EXAMPLES[short]

    @factory.versioned_asset(key=["models", example.name],
              ins={"features": dg.AssetIn(["features", "reuters"]),
                   "matrix": dg.AssetIn(["features", f"reuters_{short}"])},
              group_name=GROUP, io_manager_key="keras_io", kinds={"keras", "tensorflow"}, pool="gpu", description=f"{example.title} — {example.source}")
    def _model(context: dg.AssetExecutionContext, config: ReutersConfig, compute: TensorFlowCompute,
               storage: factory.Storage, features: pa.Table, matrix: pa.Table) -> dg.Output:
        from ztdl_pipeline.core import reuters as R
        from ztdl_pipeline.core.embeddings import matrix_numpy

        device = compute.setup()
        hyper = config.resolve(storage.run_profile())
        weights = R.frozen_weights(matrix_numpy(matrix), matrix.column("found").to_numpy(zero_copy_only=False),
                                   hyper.missing, hyper.seed)
        context.log.info(f"training {example.name}: {hyper} on {device}")

        def log_epoch(epoch: int, logs: dict) -> None:
            context.log.info(f"epoch {epoch}/{hyper.epochs}: " + ", ".join(f"{k}={v:.4f}" for k, v in logs.items()))

        trained = R.train(example, features, hyper, weights=weights, embedding_name=short,
                          strategy=compute.strategy(), jit_compile=compute.jit_compile,
                          seed_fn=compute.seed_everything, on_epoch_end=log_epoch)
        found = matrix.column("found").to_numpy(zero_copy_only=False)
        trained.info.update(device=device, rows_found=int(found.sum()), rows=int(len(found)), missing=hyper.missing)
        last = {f"final_{k}": float(v[-1]) for k, v in trained.history.items()}
        version = factory.model_data_version(context, [["features", "reuters"], ["features", f"reuters_{short}"]],
                                             hyper, device)
        return dg.Output(trained, data_version=dg.DataVersion(version), metadata={
            **last, "epochs": hyper.epochs, "profile": hyper.profile, "training_seconds": trained.info["seconds"],
            "trainable_params": trained.info["trainable_params"], "embedding": short,
            "embedding rows found": float(found.sum()), "hyper_parameters": json.dumps(trained.info["hyper"])})

    return _model


def _reuters_example_assets():
    random = REUTERS_EXAMPLES["random"]
    built, checks = factory.example_assets(random, GROUP, ReutersConfig, REUTERS)
    for short in EMBEDDINGS:
        example = REUTERS_EXAMPLES[short]
        built += [frozen_model_asset(short), factory.report_asset(example, GROUP, REUTERS),
                  factory.export_asset(example, GROUP, REUTERS)]
        checks += [factory.export_gate_check(example), factory.export_reload_check(example, REUTERS)]
    return built, checks


reuters_model_assets, reuters_checks = _reuters_example_assets()


def reuters_comparison_asset(short: str) -> dg.AssetsDefinition:
    frozen = REUTERS_EXAMPLES[short]

    @factory.versioned_asset(key=["reports", f"reuters_embeddings_{short}"],
              ins={"random": dg.AssetIn(["reports", "reuters_lstm_random"]),
                   "frozen": dg.AssetIn(["reports", frozen.name])},
              group_name=GROUP, io_manager_key="report_io", kinds={"markdown"},
              description=f"ch12 ex2: trainable random vs frozen {short} Embedding on Reuters, side by side with "
                          "the book's random vs frozen FastText (train/test accuracy, overfitting, curves)")
    def _compare(storage: factory.Storage, random: dict, frozen: dict) -> dg.Output[dict]:
        from ztdl_pipeline.core.reuters_steps import comparison_report

        title, sections, images, result, numbers = comparison_report(
            short, PRETRAINED[short], random, frozen, REUTERS_EXAMPLES["random"], REUTERS_EXAMPLES[short])
        return _written(storage.folder("reports", f"reuters_embeddings_{short}"), title, sections, images, result,
                        numbers)

    return _compare


reuters_comparisons = [reuters_comparison_asset(short) for short in EMBEDDINGS]

# ------------------------------------------------------------------ feature checks

MATRIX_COLUMNS = {"id": "integer", "token": "string", "vector": "vector<float>", "found": "bool"}
VOCABULARY_COLUMNS = {"id": "integer", "token": "string", "count": "integer"}
REUTERS_TOPICS = 46


def matrix_checks(vocab: str, short: str) -> list[dg.AssetChecksDefinition]:
    name = f"{vocab}_{short}"

    @dg.asset_check(asset=dg.AssetKey(["features", name]), name="aligned_to_vocabulary", blocking=True,
                    additional_ins={"vocabulary": dg.AssetIn(["features", f"{vocab}_vocabulary"])},
                    description=f"one row per id of features/{vocab}_vocabulary, in order, with its token (row i "
                                "is the vector of token i); rows not found are zeros")
    def _aligned(features: pa.Table, vocabulary: pd.DataFrame) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.tables import alignment_problems

        problems = alignment_problems(features, vocabulary)
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems)})

    return [*factory.table_features_checks(name, MATRIX_COLUMNS, min_rows=3, splits=()), _aligned]


def _reuters_ids_in_vocabulary(features) -> list[str]:
    from ztdl_pipeline.core.tables import id_range_problems, table_attrs

    return id_range_problems(features, "ids", int(table_attrs(features)["num_words"]))


features_checks = [
    *(c for vocab in (*TEXT_CORPORA, "reuters") for short in EMBEDDINGS for c in matrix_checks(vocab, short)),
    # 46 topics, several under 1 % of the wires: labels must be topics, no balance floor
    *factory.table_features_checks("reuters", {"ids": "vector<integer>", "label": "integer", "split": "string"},
                                   min_rows=100, n_classes=REUTERS_TOPICS, min_class_share=None,
                                   extra_problems=_reuters_ids_in_vocabulary),
    *factory.table_features_checks("reuters_vocabulary", VOCABULARY_COLUMNS, min_rows=4, splits=())]

assets = [*raw_assets, glove_6b_50d, word2vec_reviews, *text_matrices, *embedding_reports, reuters_features,
          reuters_vocabulary, *reuters_matrices, *reuters_model_assets, *reuters_comparisons]
checks = [*features_checks, *reuters_checks]
