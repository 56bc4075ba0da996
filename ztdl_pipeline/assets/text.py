"""The book's text chapter as assets (group `text`): ch8 (SMS spam, Rotten Tomatoes, baby names) and its
solutions (ch22: the vocabulary-size sweep, IMDB sentiment).

raw/<file> (verified bytes, sha256 = data version) -> features/<...>_text (cleaned text, tokens, label, split;
the contract with the `embeddings` group) -> vocabulary tables, padded id sequences, sparse bag-of-words /
TF-IDF matrices, engineered features, character windows -> the factory's models / reports / exports with the
text steps (core/text_models.py): exports take raw strings. Vectorizers and vocabularies are fitted on the
train split only (the book fits them on every row before splitting). Every body is one call into
core/text_features.py; the cards live in core/text_cards.py; the profile changes settings only through FAST.
"""

import json
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline import datasets
from ztdl_pipeline.assets import factory
from ztdl_pipeline.assets.factory import TrainingConfig
from ztdl_pipeline.core import profile as P
from ztdl_pipeline.core import refs, versioning
from ztdl_pipeline.core import text_features as F  # pandas and pyarrow only: no Keras at load time
from ztdl_pipeline.core.text_cards import EXAMPLES as CARDS
from ztdl_pipeline.core.text_cards import NAMES_EXAMPLE, TextExample  # noqa: F401 (TextExample: re-exported)
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource

GROUP = "text"
_T = "ztdl_pipeline.core.text"

# ------------------------------------------------------------------ data: readers, the profile's overrides

RAW = {name: f"{_T}:{reader}" for name, reader in (("sms_spam", "read_sms_spam"), ("movie_reviews", "read_movie_reviews"), ("names", "read_names"), ("imdb", "read_imdb_archive"), ("imdb_word_index", "read_word_index"))}
COPIES = {"sms_spam": "sms_zip"}  # a second copy of the same data whose counts must agree

FAST: dict[str, dict[str, Any]] = {  # by config class (a subclass inherits and may override)
    "RawTextConfig": {"per_folder": 200},  # IMDB: the first 200 reviews of each train/test × pos/neg
    "TextFeaturesConfig": {"rows": 1200},  # rows kept, stratified on the label
    "MovieReviewsConfig": {"rows": 1500},
    "NamesConfig": {"names": 1000},  # every 8th name, so all letters stay
    "VocabSweepConfig": {"sizes": [3, 30, 300, 3000], "epochs": 2},
}


def settings(context, config: dg.Config, storage: factory.Storage,
             overrides: dict[str, dict[str, Any]] = FAST) -> tuple[dict[str, Any], dict[str, Any]]:
    """The config's values under the run's profile (core/profile.py: a run-config value always wins), each
    change logged; and the metadata that records the changes. `overrides`: the fast profile's, by config class."""
    fast = {k: v for cls in reversed(type(config).__mro__) for k, v in overrides.get(cls.__name__, {}).items()}
    resolved = P.resolve_config(config, storage.run_profile(), fast)
    for line in resolved.notes():
        context.log.info(line)
    return resolved.values, {"profile": resolved.profile, "profile adjustments": json.dumps(resolved.adjustments)}


# ------------------------------------------------------------------ raw files


class RawTextConfig(dg.Config):
    per_folder: int = 0  # IMDB: the first n reviews of each train/test × pos/neg; 0: all


def raw_text_asset(name: str) -> dg.AssetsDefinition:
    entry = datasets.get(name)

    @factory.versioned_asset(versioning.Ref(*refs.split(RAW[name])), key=["raw", name], group_name=GROUP,
                             io_manager_key="parquet_io", kinds={"pandas", "parquet"},
                             description=f"{entry.filename}: {entry.description}")
    def _raw(context: dg.AssetExecutionContext, config: RawTextConfig, storage: factory.Storage,
             data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
        values, adjusted = settings(context, config, storage)
        path, digest, origin = data_source.fetch(entry, log=context.log)
        frame = F.read_raw(RAW[name], path, values["per_folder"])
        metadata: dict[str, Any] = {**F.raw_summary(frame), **adjusted, "sha256": digest, "fetched_from": origin,
                                    "source_file": dg.MetadataValue.path(str(path)),
                                    "canonical_url": dg.MetadataValue.url(entry.url)}
        if name in COPIES:
            zipped, _, _ = data_source.fetch(datasets.get(COPIES[name]), log=context.log)
            in_zip = F.T.sms_zip_counts(zipped)
            metadata["sms.zip files (ham, spam)"] = json.dumps(in_zip)
            problem = F.sms_copies_problem(metadata, in_zip)
            if problem:
                raise dg.Failure(f"raw/{name}: {path} {problem} ({zipped}): the two copies of the messages disagree")
        return dg.Output(frame, data_version=dg.DataVersion(digest), metadata=metadata)

    return _raw


raw_assets = [raw_text_asset(name) for name in RAW]

# ------------------------------------------------------------------ features


class TextFeaturesConfig(dg.Config):
    rows: int = 0  # rows kept (stratified on the label); 0: all
    seed: int = 0


class MovieReviewsConfig(TextFeaturesConfig):
    pass


class BowConfig(dg.Config):
    max_features: int = 3000  # the book's vocab_size
    stop_words: str | None = "english"
    fit_on: str = "train"  # train: no leakage; all: the book's CountVectorizer.fit_transform on every message


class TfidfConfig(BowConfig):
    max_features: int = 10000


class VocabularyConfig(dg.Config):
    max_tokens: int = 10000  # ids incl. padding (0) and [UNK] (1): the book's Tokenizer(num_words=...)


class ImdbVocabularyConfig(VocabularyConfig):
    max_tokens: int = 20000


class SequenceConfig(dg.Config):
    maxlen: int = 49  # the book: the longest Rotten Tomatoes review
    padding: str = "pre"
    truncating: str = "pre"


class ImdbSequenceConfig(SequenceConfig):
    maxlen: int = 80


class NamesConfig(dg.Config):
    maxlen: int = 3
    names: int = 0  # names used, spread over the list (every k-th); 0: all


def _asset(key: str, ins: dict[str, str], description: str, kinds=("pyarrow", "parquet")):
    return factory.versioned_asset(key=key.split("/"), ins={k: dg.AssetIn(v.split("/")) for k, v in ins.items()},
                                   group_name=GROUP, io_manager_key="parquet_io", kinds=set(kinds),
                                   description=description)


def _output(result: tuple[Any, dict[str, Any]], **extra: Any) -> dg.Output:
    value, metadata = result
    return dg.Output(value, metadata={**metadata, **extra})


@_asset("features/sms_spam_text", {"raw": "raw/sms_spam"},
        "SMS messages: text, tokens (the book's Keras Tokenizer rules), label spam, the book's split "
        "(train_test_split random_state 0, 25 % test; fast profile: 1,200 messages)", kinds=("pandas", "parquet"))
def sms_spam_text(context: dg.AssetExecutionContext, config: TextFeaturesConfig, storage: factory.Storage,
                  raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    values, adjusted = settings(context, config, storage)
    out = F.sms_text(raw, values["rows"], values["seed"])
    return dg.Output(out, metadata={**F.frame_summary(out), **adjusted})


@_asset("features/sms_spam_two_features", {"text": "features/sms_spam_text"},
        "ch8: the two engineered SMS features, count of the word 'free' and count of digits (float32 [2])")
def sms_spam_two_features(text: pd.DataFrame) -> dg.Output[pa.Table]:
    return _output(F.two_features_table(text))


@_asset("features/sms_spam_bow", {"text": "features/sms_spam_text"},
        "ch8: CountVectorizer(max_features=3000, stop_words='english') counts, fitted on the train split, "
        "stored sparse (indices list<int32>, values list<float32>) with the vocabulary in the table metadata")
def sms_spam_bow(config: BowConfig, text: pd.DataFrame) -> dg.Output[pa.Table]:
    return _output(F.vectorized_table(text, "count", config.max_features, config.stop_words, config.fit_on,
                                      classes=["ham", "spam"]))


@_asset("features/movie_reviews_text", {"raw": "raw/movie_reviews"},
        "Rotten Tomatoes reviews without vote 'none' (14,049): text, tokens, label (LabelEncoder: fresh 0, "
        "rotten 1), the book's split (random_state 0, 25 % test; fast profile: 1,500 reviews)",
        kinds=("pandas", "parquet"))
def movie_reviews_text(context: dg.AssetExecutionContext, config: MovieReviewsConfig, storage: factory.Storage,
                       raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    values, adjusted = settings(context, config, storage)
    out = F.movie_reviews_text(raw, values["rows"], values["seed"])
    return dg.Output(out, metadata={**F.frame_summary(out), **adjusted, "classes": json.dumps(out.attrs["classes"])})


@_asset("features/imdb_text", {"raw": "raw/imdb"},
        "IMDB reviews: text, tokens, label (1 = positive), the official train/test split, each split shuffled "
        "with seed 113 as Keras' imdb.load_data (fast profile: the raw asset keeps 200 reviews per split and "
        "label)", kinds=("pandas", "parquet"))
def imdb_text(raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    out = F.imdb_text(raw)
    return dg.Output(out, metadata=F.frame_summary(out))


@_asset("features/movie_reviews_vocabulary", {"text": "features/movie_reviews_text"},
        "Vocabulary table of the Rotten Tomatoes train split: id, token, count; 0 padding, 1 [UNK], then "
        "by count (TextVectorization order); 10,000 ids as the book's Tokenizer(num_words=10000)",
        kinds=("pandas", "parquet"))
def movie_reviews_vocabulary(config: VocabularyConfig, text: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    return _output(F.train_vocabulary(text, config.max_tokens))


@_asset("features/imdb_vocabulary", {"text": "features/imdb_text", "word_index": "raw/imdb_word_index"},
        "Vocabulary table of the IMDB train split (20,000 ids as the book's num_words=20000), with its "
        "overlap with Keras' imdb_word_index top words", kinds=("pandas", "parquet"))
def imdb_vocabulary(config: ImdbVocabularyConfig, text: pd.DataFrame,
                    word_index: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    vocabulary, metadata = F.train_vocabulary(text, config.max_tokens)
    return dg.Output(vocabulary, metadata={**metadata, "share_in_keras_word_index_top": F.keras_overlap(
        vocabulary, word_index, config.max_tokens)})


@_asset("features/movie_reviews_sequences", {"text": "features/movie_reviews_text",
                                             "vocabulary": "features/movie_reviews_vocabulary"},
        "Rotten Tomatoes reviews as padded id sequences (fixed_size_list<int32>[49], 'pre' padding and "
        "truncation as pad_sequences), [UNK] = 1 for words outside the 10,000-id vocabulary")
def movie_reviews_sequences(config: SequenceConfig, text: pd.DataFrame,
                            vocabulary: pd.DataFrame) -> dg.Output[pa.Table]:
    return _output(F.sequence_table(text, vocabulary, config.maxlen, config.padding, config.truncating))


@_asset("features/imdb_sequences", {"text": "features/imdb_text", "vocabulary": "features/imdb_vocabulary"},
        "IMDB reviews as padded id sequences (fixed_size_list<int32>[80], 'pre' padding and truncation)")
def imdb_sequences(config: ImdbSequenceConfig, text: pd.DataFrame, vocabulary: pd.DataFrame) -> dg.Output[pa.Table]:
    return _output(F.sequence_table(text, vocabulary, config.maxlen, config.padding, config.truncating))


@_asset("features/movie_reviews_tfidf", {"text": "features/movie_reviews_text"},
        "ch8: TfidfVectorizer(max_features=10000, stop_words='english') fitted on the train split, sparse "
        "indices/values columns; vocabulary and idf weights in the table metadata")
def movie_reviews_tfidf(config: TfidfConfig, text: pd.DataFrame) -> dg.Output[pa.Table]:
    return _output(F.vectorized_table(text, "tfidf", config.max_features, config.stop_words, config.fit_on))


@_asset("features/names_windows", {"raw": "raw/names"},
        "ch8: 3-character windows of the lower-cased names (+ '\\n') and the next character as label; "
        "28 characters, ids in sorted order ('\\n' 0, '-' 1, 'a' 2 …): 32,016 windows")
def names_windows(context: dg.AssetExecutionContext, config: NamesConfig, storage: factory.Storage,
                  raw: pd.DataFrame) -> dg.Output[pa.Table]:
    values, adjusted = settings(context, config, storage)
    return _output(F.names_table(raw["name"].tolist(), values["maxlen"], values["names"]), **adjusted)


features_assets = [sms_spam_text, sms_spam_two_features, sms_spam_bow, movie_reviews_text, imdb_text,
                   movie_reviews_vocabulary, imdb_vocabulary, movie_reviews_sequences, imdb_sequences,
                   movie_reviews_tfidf, names_windows]


def vocabulary_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["features", name]), name="vocabulary_table", blocking=True,
                    description="ids 0..n-1 in order, id 0 '' and id 1 [UNK], unique tokens, counts non-increasing")
    def _check(features: pd.DataFrame) -> dg.AssetCheckResult:
        problems = F.T.vocabulary_problems(features)
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems)})

    return _check


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
                                             extra_problems=F.sequence_id_problems)),
    *(c for name in ("sms_spam_bow", "movie_reviews_tfidf")
      for c in factory.table_features_checks(name, SPARSE_COLUMNS, min_rows=100,
                                             extra_problems=F.sparse_id_problems)),
    *factory.table_features_checks("sms_spam_two_features", {"text": "string", "x": "vector<float>", **_LABELLED},
                                   min_rows=100),
    # next-character targets: no test split, and a rare character is no imbalance to guard against
    *factory.table_features_checks("names_windows", SEQUENCE_COLUMNS, min_rows=1000, splits=("train",),
                                   min_class_share=None, extra_problems=F.char_id_problems),
    *(c for name in ("movie_reviews_vocabulary", "imdb_vocabulary")
      for c in factory.table_features_checks(name, VOCABULARY_COLUMNS, min_rows=3, splits=())),
    *(vocabulary_check(name) for name in ("movie_reviews_vocabulary", "imdb_vocabulary"))]

# ------------------------------------------------------------------ models (the book's settings as defaults)


def _core():
    from ztdl_pipeline.core import text_models

    return text_models


class TextFamily(factory.Family):
    """Text examples: pyarrow feature tables (sparse or fixed-size lists); exports take raw strings."""

    features_type = pa.Table

    def builder_ref(self, example) -> versioning.Ref:
        return versioning.Ref(*refs.split(example.builder))

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


CONFIGS: dict[str, type[TrainingConfig]] = {"sms_two_features": SmsLogregConfig, "sms_bow": SmsLogregConfig,
                                            "rt_tfidf": RtTfidfConfig, "rt_lstm": RtLstmConfig,
                                            "imdb_lstm": ImdbLstmConfig, "names_char_lstm": NamesLstmConfig}
EXAMPLES = [(card, CONFIGS[card.name]) for card in CARDS]

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


@factory.versioned_asset(key=["reports", "sms_vocab_sweep"], ins={"text": dg.AssetIn(["features", "sms_spam_text"])},
          group_name=GROUP, io_manager_key="report_io", kinds={"keras", "markdown"}, pool="gpu",
          description="ch8 exercise 1: CountVectorizer vocabulary size vs train/test accuracy of the logistic "
                      "regression on SMS spam (log-x plot with the 0.866 baseline)")
def sms_vocab_sweep(context: dg.AssetExecutionContext, config: VocabSweepConfig, compute: TensorFlowCompute,
                    storage: factory.Storage, text: pd.DataFrame) -> dg.Output[dict]:
    compute.setup()
    from ztdl_pipeline.core import text_sweep
    from ztdl_pipeline.core.report import render, write_report_folder

    values, adjusted = settings(context, config, storage)
    sections, images, result = text_sweep.sweep_report(text, values["sizes"], values["epochs"], values["batch_size"],
                                                       values["seed"], adjusted["profile"], compute.seed_everything)
    folder = storage.folder("reports", "sms_vocab_sweep")
    write_report_folder(folder, render(text_sweep.TITLE, sections, images, False), images)
    return dg.Output(result, metadata={
        **{f"test_accuracy_{p['max_features']}": p["test_accuracy"] for p in result["points"]}, **adjusted,
        "report": dg.MetadataValue.md(render(text_sweep.TITLE, sections, images, True)),
        "report_folder": dg.MetadataValue.path(str(folder))})


assets = [*raw_assets, *features_assets, *example_assets, sms_vocab_sweep]
checks = [*features_checks, *example_checks]
