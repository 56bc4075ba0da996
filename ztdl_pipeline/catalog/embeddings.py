"""Word embeddings (ch12: GloVe, analogies, TensorBoard projector, exercise 2 on Reuters; its ch26 solutions):
data only.

Reads the text group's features/<corpus>_text and features/<corpus>_vocabulary (TEXT_CORPORA). The settings
of every non-training asset with what the fast profile changes (`<ASSET>` book values, `<ASSET>_FAST`
overrides, resolved by core/profile.py: run config wins), and one card per Reuters model: trainable random,
frozen Word2Vec, frozen GloVe (`hyper`: the book's training settings, `fast`: the fast profile's).
"""

from __future__ import annotations

from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.specs import Card

TEXT_CORPORA = ("movie_reviews", "imdb")  # the text group's features/<x>_text and features/<x>_vocabulary
EMBEDDINGS = {"word2vec": "word2vec_reviews", "glove": "glove_6b_50d"}  # short name -> models/<name>
PRETRAINED = {"word2vec": "Word2Vec trained on the review corpora", "glove": "GloVe 6B 50d"}  # short -> described
MATRIX_RESERVED = {"movie_reviews": 2, "imdb": 2, "reuters": 3}  # ids before the words: zeros, found = False

# ------------------------------------------------------------------ settings (asset -> book values, fast)

GLOVE_LOAD = {"reader": "pandas"}  # see core/embeddings.load_glove; bench/glove_loading.py compares readers
# gensim Word2Vec on the train splits of the review corpora: skip-gram (the variant the book describes in ch12),
# 100-d, window 5, 5 negative samples, words seen >= 5 times, 5 epochs, seeded (core/embeddings.py)
WORD2VEC = {"vector_size": 100, "window": 5, "min_count": 5, "sg": 1, "negative": 5, "epochs": 5, "seed": 0,
            "corpora": list(TEXT_CORPORA)}
WORD2VEC_FAST = {"min_count": 2}  # the sub-sampled corpora are small
EMBEDDING_REPORT = {"n_viz": 4000, "n_plot": 2000}  # the book's projector: the first 4,000 words; PCA points
# keras.datasets.reuters.load_data(num_words=20000, index_from=2) + pad_sequences(maxlen=100); train_rows /
# test_rows: the first sequences of each split kept (0: all)
REUTERS_FEATURES = {"num_words": 20000, "index_from": 2, "maxlen": 100, "seed": 113, "test_split": 0.2,
                    "train_rows": 0, "test_rows": 0}
REUTERS_FEATURES_FAST = {"train_rows": 1000, "test_rows": 300}
REUTERS_TOPICS = 46

# ------------------------------------------------------------------ Reuters cards (sol.ch12.ex2)

# adam, batch 32, 5 epochs, validation_split 0.1; the random Embedding is 300-d like the book's (the FastText
# size); words a pretrained embedding lacks get np.random.random rows (the book's choice; `missing: zeros`)
_HYPER = {"epochs": 5, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.001, "validation_split": 0.1,
          "embedding_dim": 300, "missing": "random"}
_FAST = {"epochs": 2}
_BUILDER = "ztdl_pipeline.core.reuters:build_model"
PRETRAINED = {"word2vec": "Word2Vec trained on the review corpora", "glove": "GloVe 6B 50d"}  # short -> described

_BOOK_RANDOM = (B("test", "accuracy", 0.6380231522707035, "L24472"), B("test", "loss", 1.51039785576631, "L24471"),
                B("train", "accuracy", 0.8184146069386732, "L24470"),
                B("history", "val_accuracy", 0.6574, "L24468 (epoch 5)"))
_BOOK_FROZEN = (B("test", "accuracy", 0.570792520062157, "L24501 (frozen FastText 300d)"),
                B("test", "loss", 1.695558883627928, "L24500"),
                B("train", "accuracy", 0.5871743487106668, "L24499"),
                B("history", "val_accuracy", 0.5840, "L24497 (epoch 5)"))
_SOURCE = "book sol.ch12.ex2_reuters_random_vs_fasttext_embeddings (L24304–24508)"
_INPUT_NOTE = ("The model (and its export) takes the padded id sequence of features/reuters_features (`ids`, int32 [100]: 0 "
               "padding, 1 start, 2 unknown, word rank + 2), as keras.datasets.reuters gives it; the newswires' "
               "text is not part of the dataset.")

CARDS = (
    Card(
        name="reuters_lstm_random", dataset="reuters", title="ch12 ex2: Reuters LSTM, trainable random Embedding",
        source=_SOURCE, builder=_BUILDER, loss="sparse_categorical_crossentropy", primary=("test", "accuracy"),
        tolerance=0.05, fast_floor=0.3, hyper=_HYPER, fast=_FAST, book=_BOOK_RANDOM, notes=_INPUT_NOTE),
    Card(
        name="reuters_lstm_word2vec", dataset="reuters",
        title="ch12 ex2: Reuters LSTM, frozen Word2Vec (reviews) Embedding", source=_SOURCE, builder=_BUILDER,
        loss="sparse_categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.1, fast_floor=0.3,
        hyper=_HYPER, fast=_FAST, book=_BOOK_FROZEN,
        notes="The book froze FastText wiki-news 300d vectors (not available here); this model freezes the "
              "Word2Vec vectors trained on the review corpora (models/word2vec_reviews_model), which know fewer "
              "newswire words. " + _INPUT_NOTE),
    Card(
        name="reuters_lstm_glove", dataset="reuters", title="ch12 ex2: Reuters LSTM, frozen GloVe 6B 50d Embedding",
        source=_SOURCE, builder=_BUILDER, loss="sparse_categorical_crossentropy", primary=("test", "accuracy"),
        tolerance=0.1, fast_floor=0.3, hyper=_HYPER, fast=_FAST, book=_BOOK_FROZEN,
        notes="The book froze FastText wiki-news 300d vectors (not available here); this model freezes GloVe 6B "
              "50d, the pretrained vectors of ch12. " + _INPUT_NOTE),
)

RANDOM = CARDS[0]  # the trainable random Embedding every frozen one is compared with
FROZEN = {short: next(c for c in CARDS if c.name == f"reuters_lstm_{short}") for short in EMBEDDINGS}
