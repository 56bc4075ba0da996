"""Text examples (ch8: SMS spam, Rotten Tomatoes, baby names; its ch22 solutions: the vocabulary-size sweep, IMDB
sentiment): data only.

The raw files with their readers, the settings of every features asset with what the fast profile changes
(`<ASSET>` book values, `<ASSET>_FAST` overrides, resolved by core/profile.py: run config wins), one card per
example (`hyper`: the book's training settings, `fast`: the fast profile's) and the vocabulary sweep's settings.
Vectorizers and vocabularies are fitted on the train split only (the book fits them on every row before
splitting).
"""

from __future__ import annotations

from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.search_space import Choice, FloatRange, IntRange, Tuning
from ztdl_pipeline.core.specs import Scoring
from ztdl_pipeline.core.text_features import TextExample

_T = "ztdl_pipeline.core.text:"

# ------------------------------------------------------------------ raw files (raw/<name>, read by reference)

RAW_READERS = {"sms_spam": _T + "read_sms_spam", "movie_reviews": _T + "read_movie_reviews",
               "names": _T + "read_names", "imdb": _T + "read_imdb_archive", "imdb_word_index": _T + "read_word_index"}
RAW_COPIES = {"sms_spam": "sms_zip"}  # a second copy of the same data whose counts must agree
RAW = {"per_folder": 0}  # IMDB: the first n reviews of each train/test × pos/neg; 0: all
RAW_FAST = {"per_folder": 200}

# ------------------------------------------------------------------ features settings (features/<name>)

SMS_SPAM_TEXT = {"rows": 0, "seed": 0}  # rows kept, stratified on the label; 0: all
SMS_SPAM_TEXT_FAST = {"rows": 1200}
MOVIE_REVIEWS_TEXT = {"rows": 0, "seed": 0}
MOVIE_REVIEWS_TEXT_FAST = {"rows": 1500}
# CountVectorizer / TfidfVectorizer; fit_on train: no leakage; all: the book's fit_transform on every message
SMS_SPAM_BOW = {"max_features": 3000, "stop_words": "english", "fit_on": "train"}  # the book's vocab_size
MOVIE_REVIEWS_TFIDF = {"max_features": 10000, "stop_words": "english", "fit_on": "train"}
# ids incl. padding (0) and [UNK] (1): the book's Tokenizer(num_words=...)
MOVIE_REVIEWS_VOCABULARY = {"max_tokens": 10000}
IMDB_VOCABULARY = {"max_tokens": 20000}
MOVIE_REVIEWS_SEQUENCES = {"maxlen": 49, "padding": "pre", "truncating": "pre"}  # the longest review
IMDB_SEQUENCES = {"maxlen": 80, "padding": "pre", "truncating": "pre"}
NAMES_WINDOWS = {"maxlen": 3, "names": 0}  # names used, spread over the list (every k-th); 0: all
NAMES_WINDOWS_FAST = {"names": 1000}  # every 8th name, so all letters stay

# ------------------------------------------------------------------ examples

_KERAS = {"optimizer": "adam", "learning_rate": 0.001}  # Keras' defaults, which the book uses
_TM = "ztdl_pipeline.core.text_models"


def _logreg_search(trials: int, timeout_s: float) -> Tuning:
    """A search of a ch8 logistic regression on fixed features (models/<card>_tuned): the same model on the same
    columns, its training searched (rate, batch, epochs, optimizer); the fast profile's is a smoke test."""
    return Tuning(
        model="card", space={"learning_rate": FloatRange(1e-4, 3e-2, log=True), "batch_size": Choice((16, 32, 64, 128)),
                             "epochs": IntRange(3, 40), "optimizer": Choice(("adam", "rmsprop"))},
        trials=trials, timeout_s=timeout_s, seed=0, validation=0.2, startup_trials=4,
        fast={"trials": 3, "timeout_s": 60.0, "startup_trials": 2,
              "space": {"learning_rate": FloatRange(1e-3, 3e-2, log=True), "epochs": IntRange(1, 3)}})


_FIT_NOTE = ("Vectorizer / vocabulary fitted on the train split only (the book fits it on every row before "
             "splitting); the split itself is the book's train_test_split(random_state=0).")

CARDS = (
    TextExample(
        name="sms_two_features", dataset="sms_spam_two_features", raw_dataset="sms_spam",
        title="ch8 SMS spam: two engineered features", source="book ch8.sms_spam_two_features (L10814–10980)",
        builder=f"{_TM}:logreg", loss="binary_crossentropy", tolerance=0.03, fast_floor=0.5,
        hyper={**_KERAS, "epochs": 10, "batch_size": 32}, fast={"epochs": 3},
        book=(B("test", "accuracy", 0.971, "L10977"), B("all", "baseline_accuracy", 0.866, "L10652")),
        notes="Features: occurrences of the token 'free' (the Keras Tokenizer's rules) and of digits, as "
              "raw counts. The export computes both from a raw message inside the graph."),
    TextExample(
        name="sms_bow", dataset="sms_spam_bow", raw_dataset="sms_spam",
        title="ch8 SMS spam: bag of words (3,000 words) + logistic regression",
        source="book ch8.sms_spam_bow_countvectorizer (L10982–11166)", builder=f"{_TM}:logreg",
        loss="binary_crossentropy", tolerance=0.03, fast_floor=0.5,
        hyper={**_KERAS, "epochs": 10, "batch_size": 32}, fast={"epochs": 3},
        book=(B("test", "accuracy", 0.973, "L11095"), B("all", "baseline_accuracy", 0.866, "L10652")),
        tuning=_logreg_search(trials=12, timeout_s=300.0),
        notes=_FIT_NOTE + " The book's top words: txt, claim, free, 18, uk, mobile … / ok, ll, da, come. The "
                          "export holds a TextVectorization(output_mode='count') with the same 3,000 words."),
    TextExample(
        name="rt_tfidf", dataset="movie_reviews_tfidf", raw_dataset="movie_reviews",
        title="ch8 Rotten Tomatoes: TF-IDF (10,000 words) + logistic regression",
        source="book ch8.rotten_tomatoes_tfidf (L11198–11353)", builder=f"{_TM}:logreg", loss="binary_crossentropy",
        tolerance=0.04, fast_floor=0.5, hyper={**_KERAS, "epochs": 30, "batch_size": 32}, fast={"epochs": 3},
        book=(B("test", "accuracy", 0.751, "L11350"),),
        tuning=_logreg_search(trials=10, timeout_s=420.0),  # 10,000 columns: a costlier trial
        notes=_FIT_NOTE + " Labels as LabelEncoder: fresh 0, rotten 1 (the model outputs P(rotten)). The export "
                          "holds TextVectorization(output_mode='tf_idf') with the same idf weights, then the "
                          "L2 normalisation TfidfVectorizer applies."),
    TextExample(
        name="rt_lstm", dataset="movie_reviews_sequences", raw_dataset="movie_reviews",
        title="ch8 Rotten Tomatoes: Embedding(10000, 16) + LSTM(32)",
        source="book ch8.rotten_tomatoes_embedding_lstm (L11355–11786)", builder=f"{_TM}:rt_lstm",
        loss="binary_crossentropy", tolerance=0.04, fast_floor=0.45,
        hyper={**_KERAS, "epochs": 8, "batch_size": 128, "validation_split": 0.2}, fast={"epochs": 2},
        book=(B("test", "accuracy", 0.7386848847648204, "L11742"), B("params", "trainable", 166305, "L11778"),
              B("history", "val_accuracy", 0.7225, "L11726 (epoch 8)"),
              B("history", "accuracy", 0.9765, "L11726")),
        notes="Vocabulary of the train split (10,000 ids: padding, [UNK], 9,998 words; the book's Tokenizer "
              "keeps 9,999 words and drops the others, we map them to [UNK] = 1 as TextVectorization does). "
              "Sequences padded and truncated at the start to 49 ids (pad_sequences' defaults)."),
    TextExample(
        name="imdb_lstm", dataset="imdb_sequences", raw_dataset="imdb",
        title="ch8 exercise 2: IMDB Embedding(20000, 100) + LSTM(64, dropout 0.2, recurrent_dropout 0.2)",
        source="book sol.ch8.ex2_imdb_lstm (L22931–23135)", builder=f"{_TM}:imdb_lstm", loss="binary_crossentropy",
        tolerance=0.04, fast_floor=0.4,
        hyper={**_KERAS, "epochs": 2, "batch_size": 32, "validation_split": 0.3}, fast={"epochs": 1},
        book=(B("test", "accuracy", 0.81556, "L23066"), B("train", "accuracy", 0.89424, "L23050"),
              B("params", "trainable", 2042305, "L23015"), B("history", "val_accuracy", 0.8187, "L23037")),
        notes="The book loads Keras' pre-tokenized imdb.npz (not available here); we tokenize the raw review "
              "files of the same 50,000 reviews with the Keras Tokenizer rules (the <br /> tags stay as tokens "
              "'br'), a 20,000-id vocabulary of the train split, 80 ids padded/truncated at the start. "
              "recurrent_dropout keeps Keras off the fused (cuDNN) LSTM kernel, so it trains slowly."),
)

# predictions/<card>: the current export of the served spam model (bag of words; its input is the raw text)
# scoring every message as a consumer would (one line per example)
PREDICTIONS = (Scoring("sms_bow", dataset="sms_spam", inputs={"text": "message"}, target="spam"),)

# models/ and reports/ only: the model generates names, it does not classify (no export)
NAMES_CARD = TextExample(
    name="names_char_lstm", dataset="names_windows", raw_dataset="names",
    title="ch8 baby names: character-level LSTM", source="book ch8.baby_names_char_lstm (L11788–12447)",
    builder=f"{_TM}:char_lstm", loss="categorical_crossentropy", primary=("train", "accuracy"), threshold=0.28,
    fast_floor=0.05,
    hyper={**_KERAS, "epochs": 20, "batch_size": 32}, fast={"epochs": 2},
        book=(B("history", "accuracy", 0.3348, "L12175 (epoch 20)"), B("history", "loss", 2.1420, "L12175")),
    notes="Generated names: the book's temperature ('diversity') sampling, log(p)/diversity -> softmax -> one "
          "multinomial draw; book: complete_name('jen') -> jenaann, jene, jenie, jenne, jenn, jen, jenta, jenanl, "
          "jena, jenen; diversity 0.01 -> 'jen'. No export: the model generates, it does not classify.")

# ------------------------------------------------------------------ ch8 exercise 1 (reports/sms_vocab_sweep_report)

VOCAB_SWEEP = {"sizes": [2, 3, 5, 10, 30, 50, 100, 300, 500, 1000, 3000, 5000, 10000], "epochs": 20,
               "batch_size": 32, "seed": 42}
VOCAB_SWEEP_FAST = {"sizes": [3, 30, 300, 3000], "epochs": 2}
