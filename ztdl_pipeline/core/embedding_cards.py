"""The ch12 Reuters examples as data (no Dagster, no Keras): one card per embedding (trainable random, frozen
Word2Vec, frozen GloVe) with its builder reference, the book's numbers and its gate. assets/embeddings.py wires
them; this module is what moves into the catalogue."""

from __future__ import annotations

from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.specs import TabularExample as ReutersExample

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
_INPUT_NOTE = ("The model (and its export) takes the padded id sequence of features/reuters (`ids`, int32 [100]: 0 "
               "padding, 1 start, 2 unknown, word rank + 2), as keras.datasets.reuters gives it; the newswires' "
               "text is not part of the dataset.")

REUTERS_EXAMPLES = {
    "random": ReutersExample(
        name="reuters_lstm_random", dataset="reuters", title="ch12 ex2: Reuters LSTM, trainable random Embedding",
        source=_SOURCE, builder=_BUILDER, loss="sparse_categorical_crossentropy", primary=("test", "accuracy"),
        tolerance=0.05, fast_floor=0.3, book=_BOOK_RANDOM, notes=_INPUT_NOTE),
    "word2vec": ReutersExample(
        name="reuters_lstm_word2vec", dataset="reuters",
        title="ch12 ex2: Reuters LSTM, frozen Word2Vec (reviews) Embedding", source=_SOURCE, builder=_BUILDER,
        loss="sparse_categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.1, fast_floor=0.3,
        book=_BOOK_FROZEN,
        notes="The book froze FastText wiki-news 300d vectors (not available here); this model freezes the "
              "Word2Vec vectors trained on the review corpora (models/word2vec_reviews), which know fewer "
              "newswire words. " + _INPUT_NOTE),
    "glove": ReutersExample(
        name="reuters_lstm_glove", dataset="reuters", title="ch12 ex2: Reuters LSTM, frozen GloVe 6B 50d Embedding",
        source=_SOURCE, builder=_BUILDER, loss="sparse_categorical_crossentropy", primary=("test", "accuracy"),
        tolerance=0.1, fast_floor=0.3, book=_BOOK_FROZEN,
        notes="The book froze FastText wiki-news 300d vectors (not available here); this model freezes GloVe 6B "
              "50d, the pretrained vectors of ch12. " + _INPUT_NOTE),
}
