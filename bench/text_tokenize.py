"""Tokenization + padding throughput (documents per second): our paths vs the book's Keras Tokenizer.

Same documents (IMDB reviews read from the mirror's archive), same vocabulary size (20,000) and length
(80, 'pre' padding and truncation), one process, alternating rounds; the median docs/s of the rounds:

- book: `Tokenizer(num_words=20000).texts_to_sequences(docs)` + `pad_sequences(seqs, maxlen=80)`. Keras 3 no
  longer ships `keras.preprocessing.text.Tokenizer`, so `BookTokenizer` below re-implements keras-preprocessing
  1.0's code faithfully (text_to_word_sequence builds its translation table on every call, as the original
  does; words at or beyond num_words are dropped). `pad_sequences` is Keras' own (`keras.utils`).
- ours (features): `core.text.tokenize` + `encode` (unknown words -> [UNK] = 1) + `pad`, as the features
  assets build their sequence tables.
- ours (graph): the export's vectorization — TextVectorization with `keras_standardize`, 'pre' padding — run
  by TensorFlow on batches of 1,024 strings, what a served model does with raw text.

The two "ours" paths must give identical ids (checked); the book's differs by design (it drops unknown words
where we keep [UNK]), so only its shape is checked.

    python bench/text_tokenize.py [--docs 25000] [--rounds 3]
      -> bench/results/text_tokenize.json and .md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections import OrderedDict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text, filters=FILTERS, lower=True, split=" "):
    """keras_preprocessing.text.text_to_word_sequence (1.0.x), as the book's Keras 2.2.2 ran it."""
    if lower:
        text = text.lower()
    translate_map = str.maketrans({c: split for c in filters})
    text = text.translate(translate_map)
    seq = text.split(split)
    return [i for i in seq if i]


class BookTokenizer:
    """keras_preprocessing.text.Tokenizer (1.0.x) with the book's arguments: fit_on_texts, texts_to_sequences."""

    def __init__(self, num_words=None, filters=FILTERS, lower=True, split=" ", oov_token=None):
        self.word_counts = OrderedDict()
        self.num_words, self.filters, self.lower, self.split, self.oov_token = num_words, filters, lower, split, oov_token
        self.word_index = {}
        self.document_count = 0

    def fit_on_texts(self, texts):
        for text in texts:
            self.document_count += 1
            for w in text_to_word_sequence(text, self.filters, self.lower, self.split):
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
        wcounts = list(self.word_counts.items())
        wcounts.sort(key=lambda x: x[1], reverse=True)
        sorted_voc = ([self.oov_token] if self.oov_token is not None else []) + [wc[0] for wc in wcounts]
        self.word_index = dict(zip(sorted_voc, range(1, len(sorted_voc) + 1)))

    def texts_to_sequences(self, texts):
        out = []
        for text in texts:
            vect = []
            for w in text_to_word_sequence(text, self.filters, self.lower, self.split):
                i = self.word_index.get(w)
                if i is not None:
                    if self.num_words and i >= self.num_words:
                        if self.oov_token is not None:
                            vect.append(self.word_index.get(self.oov_token))
                    else:
                        vect.append(i)
                elif self.oov_token is not None:
                    vect.append(self.word_index.get(self.oov_token))
            out.append(vect)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=25000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=20000)
    parser.add_argument("--maxlen", type=int, default=80)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from ztdl_pipeline import settings
    from ztdl_pipeline.core import atomic
    from ztdl_pipeline.core import text as T
    from ztdl_pipeline.core import text_models as TM

    mirror = settings.mirror_dir() or (REPO.parent / "shared" / "data")
    frame = T.read_imdb_archive(mirror / "extra" / "aclImdb_labeled.tar.gz")
    docs = frame.loc[frame["split"] == "train", "text"].astype(str).tolist()[:args.docs]
    print(f"{len(docs)} IMDB train reviews, vocabulary {args.vocab}, maxlen {args.maxlen}, {args.rounds} rounds")

    start = time.perf_counter()
    book = BookTokenizer(num_words=args.vocab)
    book.fit_on_texts(docs)
    book_fit = time.perf_counter() - start
    start = time.perf_counter()
    vocabulary = T.build_vocabulary((T.tokenize(d) for d in docs), args.vocab)
    ours_fit = time.perf_counter() - start

    layer = keras.layers.TextVectorization(standardize=TM.keras_standardize, split="whitespace", output_mode="int",
                                           ragged=True, vocabulary=vocabulary["token"].tolist()[2:])
    maxlen = args.maxlen

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def graph(batch):
        ids = tf.cast(layer(batch), tf.int32)
        return tf.reverse(ids[:, ::-1][:, :maxlen].to_tensor(0, shape=[None, maxlen]), [1])

    def run_book():
        return keras.utils.pad_sequences(book.texts_to_sequences(docs), maxlen=maxlen)

    def run_ours():
        return T.pad(T.encode((T.tokenize(d) for d in docs), vocabulary), maxlen)

    def run_graph():
        strings = np.asarray(docs, dtype=object)
        return np.concatenate([graph(tf.constant(strings[i:i + 1024])).numpy() for i in range(0, len(docs), 1024)])

    graph(tf.constant(docs[:8]))  # trace once, outside the timing
    paths = {"book: Tokenizer.texts_to_sequences + pad_sequences": run_book,
             "ours (features): tokenize + encode + pad": run_ours,
             "ours (graph): TextVectorization in the SavedModel": run_graph}
    seconds = {name: [] for name in paths}
    outputs = {}
    for _ in range(args.rounds):
        for name, run in paths.items():
            start = time.perf_counter()
            outputs[name] = run()
            seconds[name].append(time.perf_counter() - start)
    ours_features, ours_graph = outputs[list(paths)[1]], outputs[list(paths)[2]]
    assert ours_features.shape == ours_graph.shape == outputs[list(paths)[0]].shape == (len(docs), maxlen)
    identical = bool(np.array_equal(ours_features, ours_graph))
    assert identical, "the export's tokenization differs from the features' tokenization"

    book_rate = len(docs) / statistics.median(seconds[list(paths)[0]])
    rows = []
    for name, values in seconds.items():
        rate = len(docs) / statistics.median(values)
        rows.append({"path": name, "median_seconds": round(statistics.median(values), 3),
                     "docs_per_second": round(rate, 1), "ratio_vs_book": round(rate / book_rate, 2)})
    result = {"docs": len(docs), "vocab": args.vocab, "maxlen": maxlen, "rounds": args.rounds,
              "fit_seconds": {"book Tokenizer.fit_on_texts": round(book_fit, 3),
                              "ours build_vocabulary(tokenize)": round(ours_fit, 3)},
              "ours_paths_identical": identical, "rows": rows,
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "tensorflow": tf.__version__, "keras": keras.__version__},
              "note": "book Tokenizer re-implemented from keras-preprocessing 1.0 (Keras 3 has none); pad_sequences "
                      "is keras.utils.pad_sequences. Book ids drop unknown words, ours map them to [UNK] = 1."}
    lines = ["| path | median s | docs/s | × book |", "|---|---:|---:|---:|"]
    lines += [f"| {r['path']} | {r['median_seconds']:.3f} | {r['docs_per_second']:,.0f} | {r['ratio_vs_book']:.2f} |"
              for r in rows]
    table = "\n".join(lines)
    print(table)
    print(f"fit: {result['fit_seconds']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic.write_json(RESULTS / "text_tokenize.json", result)
    atomic.write_text(RESULTS / "text_tokenize.md", (
        f"# Tokenization + padding throughput\n\n{len(docs)} IMDB train reviews, vocabulary {args.vocab}, maxlen "
        f"{maxlen} ('pre'), median of {args.rounds} rounds, {os.cpu_count()} CPUs.\n\n{table}\n\n"
        f"Vocabulary fitting: {result['fit_seconds']}. Our two paths give identical ids: {identical}.\n\n"
        f"{result['note']}\n"))


if __name__ == "__main__":
    main()
