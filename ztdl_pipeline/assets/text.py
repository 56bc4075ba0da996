"""The book's text chapter as assets (group `text`): ch8 (SMS spam, Rotten Tomatoes, baby names) and its
solutions (ch22: the vocabulary-size sweep, IMDB sentiment).

raw/<file> (verified bytes, sha256 = data version) -> features/<...>_text (cleaned text, tokens, label, split;
the contract with the `embeddings` group) -> vocabulary tables, padded id sequences, sparse bag-of-words /
TF-IDF matrices, engineered features, character windows -> the factory's models / reports / exports with the
text steps (core/text_models.py): exports take raw strings. Vectorizers and vocabularies are fitted on the
train split only (the book fits them on every row before splitting). Keras, TensorFlow and scikit-learn
are imported inside asset bodies only.
"""

import json
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline import datasets
from ztdl_pipeline.assets import factory
from ztdl_pipeline.assets.factory import TrainingConfig
from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.specs import TabularExample
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource

GROUP = "text"


@dataclass(frozen=True)
class TextExample(TabularExample):
    """A ch8 example: `dataset` is its feature table, `raw_dataset` the raw file its texts come from."""

    raw_dataset: str = ""


# ------------------------------------------------------------------ raw files


class RawTextConfig(dg.Config):
    fast_per_folder: int = 200  # IMDB under the fast profile: first n reviews of each train/test × pos/neg


def _read(name: str, path, config: RawTextConfig, fast: bool) -> pd.DataFrame:
    from ztdl_pipeline.core import text as T

    if name == "imdb":
        return T.read_imdb_archive(path, per_folder=config.fast_per_folder if fast else None)
    return {"sms_spam": T.read_sms_spam, "movie_reviews": T.read_movie_reviews, "names": T.read_names,
            "imdb_word_index": T.read_word_index}[name](path)


def raw_text_asset(name: str) -> dg.AssetsDefinition:
    entry = datasets.get(name)

    @factory.versioned_asset(key=["raw", name], group_name=GROUP, io_manager_key="parquet_io", kinds={"pandas", "parquet"}, description=f"{entry.filename}: {entry.description}")
    def _raw(context: dg.AssetExecutionContext, config: RawTextConfig, storage: factory.Storage,
             data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
        path, digest, origin = data_source.fetch(entry, log=context.log)
        frame = _read(name, path, config, _fast(storage))
        metadata: dict[str, Any] = {
            "rows": len(frame), "columns": list(map(str, frame.columns)), "sha256": digest,
            "source_file": dg.MetadataValue.path(str(path)), "fetched_from": origin,
            "canonical_url": dg.MetadataValue.url(entry.url), "dagster/row_count": len(frame)}
        if name == "sms_spam":
            counts = frame["spam"].value_counts()
            metadata.update({"ham": int(counts.get(0, 0)), "spam": int(counts.get(1, 0))})
            zip_entry = datasets.get("sms_zip")
            zipped, _, _ = data_source.fetch(zip_entry, log=context.log)
            from ztdl_pipeline.core.text import sms_zip_counts

            in_zip = sms_zip_counts(zipped)
            metadata["sms.zip files (ham, spam)"] = json.dumps(in_zip)
            if in_zip != {"ham": metadata["ham"], "spam": metadata["spam"]}:
                raise dg.Failure(f"raw/sms_spam: {path} has ham/spam {metadata['ham']}/{metadata['spam']} but "
                                 f"{zipped} holds {in_zip}: the two copies of the messages disagree")
        if name == "imdb":
            metadata["reviews per split/label"] = json.dumps(
                {f"{s}/{'pos' if label else 'neg'}": int(n)
                 for (s, label), n in frame.groupby(["split", "label"]).size().items()})
        return dg.Output(frame, data_version=dg.DataVersion(digest), metadata=metadata)

    return _raw


RAW = ("sms_spam", "movie_reviews", "names", "imdb", "imdb_word_index")
raw_assets = [raw_text_asset(name) for name in RAW]

# ------------------------------------------------------------------ features


class TextFeaturesConfig(dg.Config):
    fast_rows: int = 1200  # rows kept (stratified on the label) under the fast profile; 0: all
    seed: int = 0


def _fast(storage: factory.Storage) -> bool:
    """Whether the run is a fast-profile (sub-sampled) run."""
    return storage.run_profile() == "fast"


def _asset(key: str, ins: dict[str, str], description: str, kinds=("pyarrow", "parquet")):
    return factory.versioned_asset(key=key.split("/"), ins={k: dg.AssetIn(v.split("/")) for k, v in ins.items()},
                                   group_name=GROUP, io_manager_key="parquet_io", kinds=set(kinds),
                                   description=description)


def _table_metadata(table: pa.Table) -> dict[str, Any]:
    from ztdl_pipeline.core import text as T

    split = table.column("split").to_pandas().value_counts()
    attrs = T.table_attrs(table)
    return {"rows": table.num_rows, "rows_train": int(split.get("train", 0)), "rows_test": int(split.get("test", 0)),
            "columns": json.dumps({f.name: str(f.type) for f in table.schema}),
            "classes": json.dumps(attrs.get("classes")), "dagster/row_count": table.num_rows}


def _frame_metadata(frame: pd.DataFrame) -> dict[str, Any]:
    split = frame["split"].value_counts()
    return {"rows": len(frame), "rows_train": int(split.get("train", 0)), "rows_test": int(split.get("test", 0)),
            "tokens_per_text (mean)": float(frame["tokens"].map(len).mean()) if len(frame) else 0.0,
            "dagster/row_count": len(frame)}


@_asset("features/sms_spam_text", {"raw": "raw/sms_spam"},
        "SMS messages: text, tokens (the book's Keras Tokenizer rules), label spam, the book's split "
        "(train_test_split random_state 0, 25 % test; fast profile: 1,200 messages)", kinds=("pandas", "parquet"))
def sms_spam_text(config: TextFeaturesConfig, storage: factory.Storage, raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core import text as T

    frame = T.subsample(raw, config.fast_rows if _fast(storage) else None, config.seed, by="spam")
    out = T.text_frame(frame["message"], frame["spam"], T.book_split(len(frame)))
    out.attrs = {"classes": ["ham", "spam"], "source": "raw/sms_spam"}
    return dg.Output(out, metadata=_frame_metadata(out))


@_asset("features/sms_spam_two_features", {"text": "features/sms_spam_text"},
        "ch8: the two engineered SMS features, count of the word 'free' and count of digits (float32 [2])")
def sms_spam_two_features(text: pd.DataFrame) -> dg.Output[pa.Table]:
    from ztdl_pipeline.core import text as T

    x = T.two_features(text["text"])
    table = T.dense_table(text["text"], text["label"], text["split"], x,
                          {"classes": ["ham", "spam"], "serving": "features", "features": ["free", "digits"]})
    return dg.Output(table, metadata={**_table_metadata(table), "mean free/digits (spam)": json.dumps(
        x[text["label"].to_numpy() == 1].mean(axis=0).round(3).tolist())})


class BowConfig(dg.Config):
    max_features: int = 3000  # the book's vocab_size
    stop_words: str | None = "english"
    fit_on: str = "train"  # train: no leakage; all: the book's CountVectorizer.fit_transform on every message


@_asset("features/sms_spam_bow", {"text": "features/sms_spam_text"},
        "ch8: CountVectorizer(max_features=3000, stop_words='english') counts, fitted on the train split, "
        "stored sparse (indices list<int32>, values list<float32>) with the vocabulary in the table metadata")
def sms_spam_bow(config: BowConfig, text: pd.DataFrame) -> dg.Output[pa.Table]:
    from ztdl_pipeline.core import text as T

    matrix, vocabulary, _, params = T.vectorize(text["text"], text["split"], "count", config.max_features,
                                                config.stop_words, config.fit_on)
    table = T.sparse_table(text["text"], text["label"], text["split"], matrix,
                           {"classes": ["ham", "spam"], "serving": "count", "vocabulary": vocabulary,
                            "vectorizer": params})
    return dg.Output(table, metadata={**_table_metadata(table), "vocabulary_size": len(vocabulary),
                                      "stored_elements": int(matrix.nnz), "vectorizer": json.dumps(params)})


class MovieReviewsConfig(TextFeaturesConfig):
    fast_rows: int = 1500


@_asset("features/movie_reviews_text", {"raw": "raw/movie_reviews"},
        "Rotten Tomatoes reviews without vote 'none' (14,049): text, tokens, label (LabelEncoder: fresh 0, "
        "rotten 1), the book's split (random_state 0, 25 % test; fast profile: 1,500 reviews)",
        kinds=("pandas", "parquet"))
def movie_reviews_text(config: MovieReviewsConfig, storage: factory.Storage, raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core import text as T

    frame, classes = T.movie_reviews_frame(raw)
    if _fast(storage):
        frame = T.subsample(frame, config.fast_rows, config.seed, by="label")
        frame["split"] = T.book_split(len(frame))
    out = T.text_frame(frame["review"], frame["label"], frame["split"])
    out.attrs = {"classes": classes, "source": "raw/movie_reviews"}
    return dg.Output(out, metadata={**_frame_metadata(out), "classes": json.dumps(classes)})


@_asset("features/imdb_text", {"raw": "raw/imdb"},
        "IMDB reviews: text, tokens, label (1 = positive), the official train/test split, each split shuffled "
        "with seed 113 as Keras' imdb.load_data (fast profile: the raw asset keeps 200 reviews per split and "
        "label)", kinds=("pandas", "parquet"))
def imdb_text(raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core import text as T

    frame = T.shuffle_splits(raw, seed=113)  # as keras.datasets.imdb.load_data: the archive is sorted by label
    out = T.text_frame(frame["text"], frame["label"], frame["split"])
    out.attrs = {"classes": ["neg", "pos"], "source": "raw/imdb"}
    return dg.Output(out, metadata=_frame_metadata(out))


class VocabularyConfig(dg.Config):
    max_tokens: int = 10000  # ids incl. padding (0) and [UNK] (1): the book's Tokenizer(num_words=...)


class ImdbVocabularyConfig(VocabularyConfig):
    max_tokens: int = 20000


def _vocabulary(frame: pd.DataFrame, max_tokens: int) -> pd.DataFrame:
    from ztdl_pipeline.core import text as T

    vocabulary = T.build_vocabulary(frame.loc[frame["split"] == "train", "tokens"], max_tokens)
    vocabulary.attrs = {"max_tokens": max_tokens}  # the Embedding's input_dim, even when a sub-sample has fewer
    return vocabulary


def _vocabulary_metadata(vocabulary: pd.DataFrame) -> dict[str, Any]:
    total = int(vocabulary["count"].sum())
    return {"tokens": len(vocabulary), "oov_share_train": float(vocabulary["count"].iloc[1] / max(1, total)),
            "top_tokens": json.dumps(vocabulary["token"].iloc[2:12].tolist()), "dagster/row_count": len(vocabulary)}


@_asset("features/movie_reviews_vocabulary", {"text": "features/movie_reviews_text"},
        "Vocabulary table of the Rotten Tomatoes train split: id, token, count; 0 padding, 1 [UNK], then "
        "by count (TextVectorization order); 10,000 ids as the book's Tokenizer(num_words=10000)",
        kinds=("pandas", "parquet"))
def movie_reviews_vocabulary(config: VocabularyConfig, text: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    vocabulary = _vocabulary(text, config.max_tokens)
    return dg.Output(vocabulary, metadata=_vocabulary_metadata(vocabulary))


@_asset("features/imdb_vocabulary", {"text": "features/imdb_text", "word_index": "raw/imdb_word_index"},
        "Vocabulary table of the IMDB train split (20,000 ids as the book's num_words=20000), with its "
        "overlap with Keras' imdb_word_index top words", kinds=("pandas", "parquet"))
def imdb_vocabulary(config: ImdbVocabularyConfig, text: pd.DataFrame,
                    word_index: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    vocabulary = _vocabulary(text, config.max_tokens)
    ours = set(vocabulary["token"].iloc[2:])
    keras_top = set(word_index.loc[word_index["index"] < config.max_tokens - 3, "word"])
    return dg.Output(vocabulary, metadata={**_vocabulary_metadata(vocabulary),
                                           "share_in_keras_word_index_top": float(
                                               len(ours & keras_top) / max(1, len(ours)))})


class SequenceConfig(dg.Config):
    maxlen: int = 49  # the book: the longest Rotten Tomatoes review
    padding: str = "pre"
    truncating: str = "pre"


class ImdbSequenceConfig(SequenceConfig):
    maxlen: int = 80


def _sequences(config: SequenceConfig, text: pd.DataFrame, vocabulary: pd.DataFrame) -> dg.Output[pa.Table]:
    from ztdl_pipeline.core import text as T

    ids = T.encode(text["tokens"], vocabulary)
    x = T.pad(ids, config.maxlen, config.padding, config.truncating)
    lengths = [len(i) for i in ids]
    table = T.dense_table(text["text"], text["label"], text["split"], x, {
        "classes": text.attrs["classes"], "serving": "sequence", "vocabulary": vocabulary["token"].tolist(),
        "vocab_size": max(len(vocabulary), int(vocabulary.attrs.get("max_tokens", 0))), "padding": config.padding, "truncating": config.truncating})
    return dg.Output(table, metadata={**_table_metadata(table), "maxlen": config.maxlen,
                                      "longest_text_tokens": max(lengths, default=0),
                                      "truncated_share": float(sum(n > config.maxlen for n in lengths)
                                                               / max(1, len(lengths))),
                                      "oov_share": float((x == 1).sum() / max(1, (x > 0).sum()))})


@_asset("features/movie_reviews_sequences", {"text": "features/movie_reviews_text",
                                             "vocabulary": "features/movie_reviews_vocabulary"},
        "Rotten Tomatoes reviews as padded id sequences (fixed_size_list<int32>[49], 'pre' padding and "
        "truncation as pad_sequences), [UNK] = 1 for words outside the 10,000-id vocabulary")
def movie_reviews_sequences(config: SequenceConfig, text: pd.DataFrame,
                            vocabulary: pd.DataFrame) -> dg.Output[pa.Table]:
    return _sequences(config, text, vocabulary)


@_asset("features/imdb_sequences", {"text": "features/imdb_text", "vocabulary": "features/imdb_vocabulary"},
        "IMDB reviews as padded id sequences (fixed_size_list<int32>[80], 'pre' padding and truncation)")
def imdb_sequences(config: ImdbSequenceConfig, text: pd.DataFrame, vocabulary: pd.DataFrame) -> dg.Output[pa.Table]:
    return _sequences(config, text, vocabulary)


class TfidfConfig(BowConfig):
    max_features: int = 10000


@_asset("features/movie_reviews_tfidf", {"text": "features/movie_reviews_text"},
        "ch8: TfidfVectorizer(max_features=10000, stop_words='english') fitted on the train split, sparse "
        "indices/values columns; vocabulary and idf weights in the table metadata")
def movie_reviews_tfidf(config: TfidfConfig, text: pd.DataFrame) -> dg.Output[pa.Table]:
    from ztdl_pipeline.core import text as T

    matrix, vocabulary, idf, params = T.vectorize(text["text"], text["split"], "tfidf", config.max_features,
                                                  config.stop_words, config.fit_on)
    table = T.sparse_table(text["text"], text["label"], text["split"], matrix,
                           {"classes": text.attrs["classes"], "serving": "tf_idf", "vocabulary": vocabulary,
                            "idf": idf, "vectorizer": params})
    return dg.Output(table, metadata={**_table_metadata(table), "vocabulary_size": len(vocabulary),
                                      "stored_elements": int(matrix.nnz), "vectorizer": json.dumps(params)})


class NamesConfig(dg.Config):
    maxlen: int = 3
    fast_names: int = 1000  # names used under the fast profile (every 8th name, so all letters stay)


@_asset("features/names_windows", {"raw": "raw/names"},
        "ch8: 3-character windows of the lower-cased names (+ '\\n') and the next character as label; "
        "28 characters, ids in sorted order ('\\n' 0, '-' 1, 'a' 2 …): 32,016 windows")
def names_windows(config: NamesConfig, storage: factory.Storage, raw: pd.DataFrame) -> dg.Output[pa.Table]:
    from ztdl_pipeline.core import text as T

    names = raw["name"].tolist()
    if _fast(storage) and config.fast_names and len(names) > config.fast_names:
        names = names[::max(1, len(names) // config.fast_names)][:config.fast_names]
    x, y, chars = T.name_windows(names, config.maxlen)
    texts = ["".join(chars[i] for i in row) for row in x]
    table = T.dense_table(texts, y, ["train"] * len(y), x, {"classes": chars, "chars": chars, "serving": "none"})
    return dg.Output(table, metadata={**_table_metadata(table), "names": len(names), "vocab_size": len(chars),
                                      "X shape": json.dumps(list(x.shape))})


features_assets = [sms_spam_text, sms_spam_two_features, sms_spam_bow, movie_reviews_text, imdb_text,
                   movie_reviews_vocabulary, imdb_vocabulary, movie_reviews_sequences, imdb_sequences,
                   movie_reviews_tfidf, names_windows]


@dg.asset_check(asset=dg.AssetKey(["features", "movie_reviews_vocabulary"]), name="vocabulary_table", blocking=True,
                description="ids 0..n-1 in order, id 0 '' and id 1 [UNK], unique tokens, counts non-increasing")
def movie_reviews_vocabulary_check(features: pd.DataFrame) -> dg.AssetCheckResult:
    return _vocabulary_check(features)


@dg.asset_check(asset=dg.AssetKey(["features", "imdb_vocabulary"]), name="vocabulary_table", blocking=True,
                description="ids 0..n-1 in order, id 0 '' and id 1 [UNK], unique tokens, counts non-increasing")
def imdb_vocabulary_check(features: pd.DataFrame) -> dg.AssetCheckResult:
    return _vocabulary_check(features)


def _vocabulary_check(vocabulary: pd.DataFrame) -> dg.AssetCheckResult:
    from ztdl_pipeline.core.text import vocabulary_problems

    problems = vocabulary_problems(vocabulary)
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems)})


def _ids_below(column: str, size_of):
    """Extra schema problems: the ids of `column` must index the table's vocabulary, of size_of(attrs) ids."""
    def problems(features) -> list[str]:
        from ztdl_pipeline.core.tables import id_range_problems, table_attrs

        return id_range_problems(features, column, int(size_of(table_attrs(features))))

    return problems


_LABELLED = {"label": "integer", "split": "string"}
TEXT_COLUMNS = {"text": "string", "tokens": "list<string>", **_LABELLED}
SEQUENCE_COLUMNS = {"text": "string", "x": "vector<integer>", **_LABELLED}
SPARSE_COLUMNS = {"text": "string", "indices": "list<integer>", "values": "list<float>", **_LABELLED}
VOCABULARY_COLUMNS = {"id": "integer", "token": "string", "count": "integer"}

features_checks = [
    *(c for name in ("sms_spam_text", "movie_reviews_text", "imdb_text")
      for c in factory.table_features_checks(name, TEXT_COLUMNS, min_rows=100)),
    *(c for name in ("movie_reviews_sequences", "imdb_sequences")
      for c in factory.table_features_checks(name, SEQUENCE_COLUMNS, min_rows=100,
                                             extra_problems=_ids_below("x", lambda a: a["vocab_size"]))),
    *(c for name in ("sms_spam_bow", "movie_reviews_tfidf")
      for c in factory.table_features_checks(name, SPARSE_COLUMNS, min_rows=100,
                                             extra_problems=_ids_below("indices", lambda a: a["n_features"]))),
    *factory.table_features_checks("sms_spam_two_features", {"text": "string", "x": "vector<float>", **_LABELLED},
                                   min_rows=100),
    # next-character targets: no test split, and a rare character is no imbalance to guard against
    *factory.table_features_checks("names_windows", SEQUENCE_COLUMNS, min_rows=1000, splits=("train",),
                                   min_class_share=None, extra_problems=_ids_below("x", lambda a: len(a["chars"]))),
    *(c for name in ("movie_reviews_vocabulary", "imdb_vocabulary")
      for c in factory.table_features_checks(name, VOCABULARY_COLUMNS, min_rows=3, splits=())),
    movie_reviews_vocabulary_check, imdb_vocabulary_check]

# ------------------------------------------------------------------ models (the book's settings as defaults)


def _core():
    from ztdl_pipeline.core import text_models

    return text_models


class TextFamily(factory.Family):
    """Text examples: pyarrow feature tables (sparse or fixed-size lists); exports take raw strings."""

    builder_module = "ztdl_pipeline.core.text_models"

    features_type = pa.Table

    def train(self, example, features, hyper, **kwargs):
        return _core().train(example, features, hyper, **kwargs)

    def evaluate(self, example, trained, features) -> dict:
        return _core().evaluate(example, trained, features)

    def report_images(self, example, trained, features, metrics: dict) -> dict[str, bytes]:
        return _core().report_images(example, trained, features, metrics)

    def report_markdown(self, example, trained, metrics: dict, images: dict, threshold: float,
                        embed: bool) -> str:
        return _core().report_markdown(example, trained, metrics, images, threshold, embed)

    def view(self, example, features):
        return features

    def serving(self, example, trained, data) -> tuple:
        return _core().serving(example, trained, data)

    def verify(self, path, example, trained, data, raw, signature: dict) -> float:
        return _core().verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        return _core().describe_outputs(data)


TEXT = TextFamily()


class SmsLogregConfig(TrainingConfig):
    epochs: int = 10  # split_fit_eval's default
    batch_size: int = 32  # Keras' default
    fast_epochs: int = 3


class RtTfidfConfig(SmsLogregConfig):
    epochs: int = 30


class RtLstmConfig(TrainingConfig):
    epochs: int = 8
    batch_size: int = 128
    validation_split: float = 0.2
    fast_epochs: int = 2


class ImdbLstmConfig(TrainingConfig):
    epochs: int = 2
    batch_size: int = 32
    validation_split: float = 0.3
    fast_epochs: int = 1


class NamesLstmConfig(TrainingConfig):
    epochs: int = 20
    batch_size: int = 32
    fast_epochs: int = 2


_FIT_NOTE = ("Vectorizer / vocabulary fitted on the train split only (the book fits it on every row before "
             "splitting); the split itself is the book's train_test_split(random_state=0).")

EXAMPLES: list[tuple[TextExample, type[TrainingConfig]]] = [
    (TextExample(
        name="sms_two_features", dataset="sms_spam_two_features", raw_dataset="sms_spam",
        title="ch8 SMS spam: two engineered features", source="book ch8.sms_spam_two_features (L10814–10980)",
        builder="logreg", loss="binary_crossentropy", tolerance=0.03, fast_floor=0.5,
        book=(B("test", "accuracy", 0.971, "L10977"), B("all", "baseline_accuracy", 0.866, "L10652")),
        notes="Features: occurrences of the token 'free' (the Keras Tokenizer's rules) and of digits, as "
              "raw counts. The export computes both from a raw message inside the graph."), SmsLogregConfig),
    (TextExample(
        name="sms_bow", dataset="sms_spam_bow", raw_dataset="sms_spam",
        title="ch8 SMS spam: bag of words (3,000 words) + logistic regression",
        source="book ch8.sms_spam_bow_countvectorizer (L10982–11166)", builder="logreg",
        loss="binary_crossentropy", tolerance=0.03, fast_floor=0.5,
        book=(B("test", "accuracy", 0.973, "L11095"), B("all", "baseline_accuracy", 0.866, "L10652")),
        notes=_FIT_NOTE + " The book's top words: txt, claim, free, 18, uk, mobile … / ok, ll, da, come. The "
                          "export holds a TextVectorization(output_mode='count') with the same 3,000 words."),
     SmsLogregConfig),
    (TextExample(
        name="rt_tfidf", dataset="movie_reviews_tfidf", raw_dataset="movie_reviews",
        title="ch8 Rotten Tomatoes: TF-IDF (10,000 words) + logistic regression",
        source="book ch8.rotten_tomatoes_tfidf (L11198–11353)", builder="logreg", loss="binary_crossentropy",
        tolerance=0.04, fast_floor=0.5, book=(B("test", "accuracy", 0.751, "L11350"),),
        notes=_FIT_NOTE + " Labels as LabelEncoder: fresh 0, rotten 1 (the model outputs P(rotten)). The export "
                          "holds TextVectorization(output_mode='tf_idf') with the same idf weights, then the "
                          "L2 normalisation TfidfVectorizer applies."), RtTfidfConfig),
    (TextExample(
        name="rt_lstm", dataset="movie_reviews_sequences", raw_dataset="movie_reviews",
        title="ch8 Rotten Tomatoes: Embedding(10000, 16) + LSTM(32)",
        source="book ch8.rotten_tomatoes_embedding_lstm (L11355–11786)", builder="rt_lstm",
        loss="binary_crossentropy", tolerance=0.04, fast_floor=0.45,
        book=(B("test", "accuracy", 0.7386848847648204, "L11742"), B("params", "trainable", 166305, "L11778"),
              B("history", "val_accuracy", 0.7225, "L11726 (epoch 8)"),
              B("history", "accuracy", 0.9765, "L11726")),
        notes="Vocabulary of the train split (10,000 ids: padding, [UNK], 9,998 words; the book's Tokenizer "
              "keeps 9,999 words and drops the others, we map them to [UNK] = 1 as TextVectorization does). "
              "Sequences padded and truncated at the start to 49 ids (pad_sequences' defaults)."), RtLstmConfig),
    (TextExample(
        name="imdb_lstm", dataset="imdb_sequences", raw_dataset="imdb",
        title="ch8 exercise 2: IMDB Embedding(20000, 100) + LSTM(64, dropout 0.2, recurrent_dropout 0.2)",
        source="book sol.ch8.ex2_imdb_lstm (L22931–23135)", builder="imdb_lstm", loss="binary_crossentropy",
        tolerance=0.04, fast_floor=0.4,
        book=(B("test", "accuracy", 0.81556, "L23066"), B("train", "accuracy", 0.89424, "L23050"),
              B("params", "trainable", 2042305, "L23015"), B("history", "val_accuracy", 0.8187, "L23037")),
        notes="The book loads Keras' pre-tokenized imdb.npz (not available here); we tokenize the raw review "
              "files of the same 50,000 reviews with the Keras Tokenizer rules (the <br /> tags stay as tokens "
              "'br'), a 20,000-id vocabulary of the train split, 80 ids padded/truncated at the start. "
              "recurrent_dropout keeps Keras off the fused (cuDNN) LSTM kernel, so it trains slowly."),
     ImdbLstmConfig),
]

NAMES_EXAMPLE = TextExample(
    name="names_char_lstm", dataset="names_windows", raw_dataset="names",
    title="ch8 baby names: character-level LSTM", source="book ch8.baby_names_char_lstm (L11788–12447)",
    builder="char_lstm", loss="categorical_crossentropy", primary=("train", "accuracy"), threshold=0.28,
    fast_floor=0.05,
    book=(B("history", "accuracy", 0.3348, "L12175 (epoch 20)"), B("history", "loss", 2.1420, "L12175")),
    notes="Generated names: the book's temperature ('diversity') sampling, log(p)/diversity -> softmax -> one "
          "multinomial draw; book: complete_name('jen') -> jenaann, jene, jenie, jenne, jenn, jen, jenta, jenanl, "
          "jena, jenen; diversity 0.01 -> 'jen'. No export: the model generates, it does not classify.")

_built = [factory.example_assets(example, GROUP, config, TEXT) for example, config in EXAMPLES]
example_assets = [a for built_assets, _ in _built for a in built_assets]
example_assets += [factory.model_asset(NAMES_EXAMPLE, GROUP, NamesLstmConfig, TEXT),
                   factory.report_asset(NAMES_EXAMPLE, GROUP, TEXT)]
example_checks = [c for _, built_checks in _built for c in built_checks]

# ------------------------------------------------------------------ ch8 exercise 1: vocabulary-size sweep


class VocabSweepConfig(dg.Config):
    sizes: list[int] = [2, 3, 5, 10, 30, 50, 100, 300, 500, 1000, 3000, 5000, 10000]
    epochs: int = 20
    batch_size: int = 32
    seed: int = 42
    fast_sizes: list[int] = [3, 30, 300, 3000]
    fast_epochs: int = 2


@factory.versioned_asset(key=["reports", "sms_vocab_sweep"], ins={"text": dg.AssetIn(["features", "sms_spam_text"])},
          group_name=GROUP, io_manager_key="report_io", kinds={"keras", "markdown"}, pool="gpu",
          description="ch8 exercise 1: CountVectorizer vocabulary size vs train/test accuracy of the logistic "
                      "regression on SMS spam (log-x plot with the 0.866 baseline)")
def sms_vocab_sweep(context: dg.AssetExecutionContext, config: VocabSweepConfig, compute: TensorFlowCompute,
                    storage: factory.Storage, text: pd.DataFrame) -> dg.Output[dict]:
    compute.setup()
    from ztdl_pipeline.core import text_models as TM
    from ztdl_pipeline.core.report import markdown_table, render, write_report_folder

    fast = _fast(storage)
    sizes, epochs = (config.fast_sizes, min(config.epochs, config.fast_epochs)) if fast else (config.sizes,
                                                                                             config.epochs)
    points = TM.vocab_sweep(text, sizes, epochs, config.batch_size, config.seed, compute.seed_everything)
    baseline = float(max(text["label"].mean(), 1 - text["label"].mean()))
    images = {"vocab_sweep": TM.sweep_plot(points, baseline)}
    sections = [("Accuracy by vocabulary size", markdown_table(
        ["max_features", "effective words", "train accuracy", "test accuracy"],
        [[p["max_features"], p["words"], p["train_accuracy"], p["test_accuracy"]] for p in points])),
        ("The book", "Plot only (L22878–22926): accuracy rises with the vocabulary and flattens; the last size "
                     "is the whole training vocabulary (7,150 words); baseline 0.866."),
        ("Settings", f"Profile {'fast' if fast else 'book'}: {epochs} epochs per size, batch {config.batch_size}; "
                     "CountVectorizer(stop_words='english') fitted on the train split (as the solution does)."),
        ("Source", "book sol.ch8.ex1_sms_vocab_size_sweep (L22788–22927)")]
    folder = storage.folder("reports", "sms_vocab_sweep")
    write_report_folder(folder, render("ch8 exercise 1: vocabulary size sweep", sections, images, False), images)
    return dg.Output({"profile": "fast" if fast else "book", "epochs": epochs, "points": points,
                      "baseline": baseline}, metadata={
        **{f"test_accuracy_{p['max_features']}": p["test_accuracy"] for p in points},
        "report": dg.MetadataValue.md(render("ch8 exercise 1: vocabulary size sweep", sections, images, True)),
        "report_folder": dg.MetadataValue.path(str(folder))})


assets = [*raw_assets, *features_assets, *example_assets, sms_vocab_sweep]
checks = [*features_checks, *example_checks]
