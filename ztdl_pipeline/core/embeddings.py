"""Word embeddings (book ch12 and its ch26 solutions): GloVe read with gensim, Word2Vec trained with gensim,
embedding matrices aligned to a vocabulary table, the analogy / neighbour report and TensorBoard projector
files.

GloVe's text format is the word2vec text format without its "<count> <dim>" header: one word per line,
then its floats, separated by single spaces. gensim reads it with
`KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)` (the book converted it first with
`glove2word2vec`, which gensim 4 deprecates). A malformed line is reported with the file and line number.

EMBEDDING MATRIX (the contract with the text group): a pyarrow Table, one row per vocabulary id, sorted by id,
columns `id` int32, `token` string, `vector` fixed_size_list<float32>[dim], `found` bool. Row i is the
vector of the token with id i. Rows the embedding cannot fill hold zeros and `found` = False: id 0 (padding,
masked by `mask_zero=True` anyway), id 1 ([UNK]) and every token the embedding does not know.

Word2Vec is reproducible: one worker thread (`workers=1`: several threads interleave their updates in a
timing-dependent order), a fixed `seed`, and `hashfxn=stable_hash` instead of Python's `hash`, which gensim
uses to seed each word's initial vector and which is salted per process unless PYTHONHASHSEED is set. With
these, two trainings on the same token lists give bit-identical vectors, in one process or in two.

Only numpy / pandas / pyarrow at import; gensim, scikit-learn and matplotlib are imported where used.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.core import atomic
from ztdl_pipeline.core.errors import DataError

GLOVE_MEMBER = "glove.6B.50d.txt"  # the 50-d file inside Stanford's glove.6B.zip

# ---------------------------------------------------------------- the book's numbers (ch12, ch26)

PROBE_WORDS = ("good", "bad", "fast", "teacher", "student")
# sol.ch12.ex1 (L24201–24238): top-5 most_similar of each probe word, per pre-trained embedding
BOOK_NEIGHBOURS: dict[str, dict[str, list[str]]] = {
    "good": {"glove": ["better", "really", "always", "sure", "something"],
             "word2vec_googlenews": ["great", "bad", "terrific", "decent", "nice"],
             "fasttext": ["bad", "excellent", "decent", "nice", "great"]},
    "bad": {"glove": ["worse", "unfortunately", "too", "really", "little"],
            "word2vec_googlenews": ["good", "terrible", "horrible", "Bad", "lousy"],
            "fasttext": ["good", "terrible", "horrible", "lousy", "awful"]},
    "fast": {"glove": ["slow", "faster", "pace", "turning", "better"],
             "word2vec_googlenews": ["quick", "rapidly", "Fast", "quickly", "slow"],
             "fasttext": ["slow", "rapid", "quick", "Fast", "faster"]},
    "teacher": {"glove": ["student", "graduate", "teaching", "taught", "teaches"],
                "word2vec_googlenews": ["teachers", "Teacher", "guidance_counselor", "elementary", "PE_teacher"],
                "fasttext": ["teachers", "educator", "Teacher", "student", "pupil"]},
    "student": {"glove": ["teacher", "students", "teachers", "graduate", "school"],
                "word2vec_googlenews": ["students", "Student", "teacher", "stu_dent", "faculty"],
                "fasttext": ["students", "teacher", "Student", "university", "graduate"]},
}
# (a, b, c): a is to b as c is to ?  ->  most_similar(positive=[b, c], negative=[a], topn=3)
ANALOGIES: tuple[tuple[str, str, str], ...] = (
    ("man", "king", "woman"), ("france", "paris", "germany"), ("teacher", "teach", "student"),
    ("cat", "kitten", "dog"))
BOOK_ANALOGIES: dict[tuple[str, str, str], dict[str, list[str]]] = {
    ("man", "king", "woman"): {"glove": ["queen", "throne", "prince"],
                               "word2vec_googlenews": ["queen", "monarch", "princess"],
                               "fasttext": ["queen", "monarch", "princess"]},
    ("france", "paris", "germany"): {"glove": ["berlin", "frankfurt", "vienna"],
                                     "word2vec_googlenews": ["berlin", "german", "lindsay_lohan"],
                                     "fasttext": ["berlin", "munich", "dresden"]},
    ("teacher", "teach", "student"): {"glove": ["students", "teachers", "teaching"],
                                      "word2vec_googlenews": ["educate", "learn", "teaches"],
                                      "fasttext": ["learn", "educate", "attend"]},
    ("cat", "kitten", "dog"): {"glove": ["puppy", "rottweiler", "retriever"],
                               "word2vec_googlenews": ["puppy", "pup", "pit_bull"],
                               "fasttext": ["puppy", "puppies", "pup"]},
}
BOOK_KING_QUEEN = 0.8523603677749634  # ch12 L17160: GloVe 6B 50d, king − man + woman -> queen


# ---------------------------------------------------------------- GloVe files


def glove_text(path: str | Path, target: str | Path, member: str = GLOVE_MEMBER) -> Path:
    """The GloVe text file: `path` itself if it is the .txt, else `member` unpacked from the .zip into `target`
    (atomically; reused when it is already there and as large as the member)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "no such file", "give the path of glove.6B.zip or of glove.6B.50d.txt")
    if not zipfile.is_zipfile(path):
        return path
    target = Path(target)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            name = next((n for n in names if n == member or n.endswith("/" + member)), None)
            if name is None:
                raise DataError(path, f"the archive holds no {member} (it has: {', '.join(names[:8])})",
                                "use Stanford's glove.6B.zip, or give the path of the .txt file itself")
            size = archive.getinfo(name).file_size
            if target.is_file() and target.stat().st_size == size:
                return target
            with atomic.atomic_path(target) as tmp, archive.open(name) as source, open(tmp, "wb") as out:
                while chunk := source.read(1 << 22):
                    out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(path, f"cannot be unpacked ({type(exc).__name__}: {exc})") from None
    return target


def first_bad_line(path: str | Path) -> tuple[int, str] | None:
    """(1-based line number, problem) of the first line that is not `word f1 … fdim` with the first line's
    dim, or None when every line is well formed (used to explain a parse error)."""
    dim = None
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, f"not UTF-8 ({exc.reason} at byte {exc.start})"
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if len(parts) < 2 or not parts[0]:
                return number, "expected a word followed by its vector components"
            try:
                np.asarray(parts[1:], dtype=np.float32)
            except ValueError:
                bad = next(p for p in parts[1:] if not _is_float(p))
                return number, f"word {parts[0]!r}: {bad!r} is not a number"
            if dim is None:
                dim = len(parts) - 1
            elif len(parts) - 1 != dim:
                return number, f"word {parts[0]!r} has {len(parts) - 1} components, line 1 has {dim}"
    if dim is None:
        return 0, "the file is empty"
    return None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


READERS = ("gensim", "pandas")


def _read_pandas(path: Path):
    """The same file through pandas' C parser (one pass, no Python per value) into KeyedVectors.add_vectors;
    `float_precision="round_trip"` parses each number exactly as Python's float() does."""
    import csv

    import pandas as pd
    from gensim.models import KeyedVectors

    frame = pd.read_csv(path, sep=" ", header=None, quoting=csv.QUOTE_NONE, na_filter=False, encoding="utf-8",
                        engine="c", float_precision="round_trip", dtype={0: str})
    vectors = frame.iloc[:, 1:].to_numpy(dtype=np.float32)  # a non-number raises ValueError
    if vectors.shape[1] == 0 or not np.isfinite(vectors).all():  # short lines come back padded with NaN
        raise ValueError("missing or non-finite vector components")
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(frame.iloc[:, 0].tolist(), vectors)
    return kv


def load_glove(path: str | Path, reader: str = "pandas"):
    """GloVe text file -> gensim KeyedVectors: pandas' C parser + `add_vectors` (reader "pandas"), or
    `load_word2vec_format(..., no_header=True)` (reader "gensim": same words and float32 values, about 11×
    slower, see bench/glove_loading.py); a malformed file raises a DataError naming the file and the first
    bad line."""
    from gensim.models import KeyedVectors

    if reader not in READERS:
        raise ValueError(f"reader must be one of {READERS}, got {reader!r}")
    path = Path(path)
    problem = None
    try:
        if path.stat().st_size == 0:
            problem = (0, "the file is empty")
        elif reader == "pandas":
            kv = _read_pandas(path)
        else:
            kv = KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=True)
    except (ValueError, UnicodeDecodeError, EOFError, IndexError, TypeError) as exc:
        problem = first_bad_line(path) or (0, f"gensim cannot read it ({exc})")
    if problem is not None:
        number, what = problem
        where = f"line {number}: " if number else ""
        raise DataError(path, f"{where}{what} — not the GloVe text format (word, then space-separated floats)",
                        "give the original glove.6B.50d.txt or glove.6B.zip")
    bad = first_bad_line_after_load(kv)
    if bad:
        raise DataError(path, bad, "give the original glove.6B.50d.txt or glove.6B.zip")
    return kv


def first_bad_line_after_load(kv) -> str | None:
    """gensim fills vectors it could not parse with NaN in some versions: refuse those."""
    finite = np.isfinite(kv.vectors).all(axis=1)
    if finite.all():
        return None
    row = int(np.flatnonzero(~finite)[0])
    return f"line {row + 1}: word {kv.index_to_key[row]!r} has a non-finite component"


def write_glove_text(path: str | Path, words: Sequence[str], vectors: np.ndarray, decimals: int = 6) -> Path:
    """Write words and vectors in GloVe's text format (no header), atomically: tests and the benchmark."""
    fmt = f"%.{decimals}f"
    buffer = io.StringIO()
    for word, vector in zip(words, np.asarray(vectors, dtype=np.float32)):
        buffer.write(word + " " + " ".join(fmt % v for v in vector) + "\n")
    return atomic.write_text(path, buffer.getvalue())


# ---------------------------------------------------------------- KeyedVectors files


def save_keyed_vectors(kv, path: str | Path) -> Path:
    """One self-contained .kv file (no side .npy files), written atomically."""
    with atomic.atomic_path(path, suffix=".kv") as tmp:
        kv.save(str(tmp), separately=[])
    return Path(path)


def load_keyed_vectors(path: str | Path):
    from gensim.models import KeyedVectors

    return KeyedVectors.load(str(path))


# ---------------------------------------------------------------- Word2Vec


def stable_hash(text: str) -> int:
    """A process-independent replacement for Python's salted `hash` (gensim's `hashfxn`)."""
    return zlib.crc32(text.encode("utf-8"))


def train_word2vec(sentences: Sequence[Sequence[str]], *, vector_size: int = 100, window: int = 5,
                   min_count: int = 5, sg: int = 1, negative: int = 5, epochs: int = 5, seed: int = 0,
                   max_vocab_size: int | None = None):
    """gensim Word2Vec on token lists, reproducibly (see the module docstring); returns its KeyedVectors."""
    from gensim.models import Word2Vec

    sentences = [list(s) for s in sentences if len(s)]
    if not sentences:
        raise ValueError("Word2Vec needs at least one non-empty token list")
    model = Word2Vec(sentences=sentences, vector_size=vector_size, window=window, min_count=min_count, sg=sg,
                     negative=negative, epochs=epochs, seed=seed, workers=1, hashfxn=stable_hash,
                     max_vocab_size=max_vocab_size)
    return model.wv


# ---------------------------------------------------------------- matrices aligned to a vocabulary


def check_vocabulary(vocabulary: pd.DataFrame, source: str = "vocabulary") -> None:
    missing = [c for c in ("id", "token", "count") if c not in vocabulary.columns]
    if missing:
        raise DataError(source, f"not a vocabulary table: missing column(s) {', '.join(missing)}")
    ids = vocabulary["id"].to_numpy()
    if not np.array_equal(ids, np.arange(len(ids))):
        raise DataError(source, "vocabulary ids must be 0, 1, 2, … in row order")


def embedding_matrix(vocabulary: pd.DataFrame, kv, reserved: int = 2) -> pa.Table:
    """EMBEDDING MATRIX (module docstring) for a vocabulary table: row i = the vector of the token with id i;
    the first `reserved` ids (padding, [UNK]) and unknown tokens get zeros and found = False."""
    check_vocabulary(vocabulary)
    dim = int(kv.vector_size)
    tokens = vocabulary["token"].astype(str).tolist()
    matrix = np.zeros((len(tokens), dim), dtype=np.float32)
    found = np.zeros(len(tokens), dtype=bool)
    index = kv.key_to_index
    for i, token in enumerate(tokens):
        if i >= reserved and token in index:
            matrix[i] = kv.vectors[index[token]]
            found[i] = True
    vector = pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1), type=pa.float32()), dim)
    return pa.table({"id": pa.array(vocabulary["id"].to_numpy(dtype=np.int32)),
                     "token": pa.array(tokens, type=pa.string()), "vector": vector,
                     "found": pa.array(found)})


def matrix_numpy(table: pa.Table) -> np.ndarray:
    """The (n_ids, dim) float32 matrix of an EMBEDDING MATRIX table."""
    column = table.column("vector").combine_chunks()
    dim = column.type.list_size
    return column.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim).astype(np.float32, copy=False)


def coverage(vocabulary: pd.DataFrame, found: np.ndarray, reserved: int = 2) -> dict[str, float]:
    """How much of a vocabulary an embedding knows: share of its tokens (ids ≥ `reserved`) and share of their
    occurrences in the training split (count-weighted)."""
    found = np.asarray(found, dtype=bool)[reserved:]
    counts = vocabulary["count"].to_numpy(dtype=np.float64)[reserved:]
    tokens = int(len(found))
    return {"tokens": float(tokens), "tokens_found": float(found.sum()),
            "share_tokens": float(found.mean()) if tokens else 0.0,
            "share_occurrences": float(counts[found].sum() / counts.sum()) if counts.sum() else 0.0}


# ---------------------------------------------------------------- neighbours, analogies


def neighbours(kv, words: Iterable[str], topn: int = 5) -> dict[str, list[tuple[str, float]] | None]:
    """most_similar(positive=[word], topn) per word; None for a word the embedding does not know."""
    return {w: [(k, float(s)) for k, s in kv.most_similar(positive=[w], topn=topn)]
            if w in kv.key_to_index else None for w in words}


def analogy(kv, a: str, b: str, c: str, topn: int = 3) -> list[tuple[str, float]] | None:
    """a is to b as c is to ?: most_similar(positive=[b, c], negative=[a]) (the book's call); None if a word
    is unknown."""
    if any(w not in kv.key_to_index for w in (a, b, c)):
        return None
    return [(k, float(s)) for k, s in kv.most_similar(positive=[b, c], negative=[a], topn=topn)]


def analogy_report(kv) -> dict[str, Any]:
    """The numbers of the embeddings report: analogies (with the book's answers), neighbours of the probe
    words (with the book's lists), king − man + woman."""
    analogies = []
    for triple in ANALOGIES:
        result = analogy(kv, *triple)
        analogies.append({"a": triple[0], "b": triple[1], "c": triple[2],
                          "ours": result, "book": BOOK_ANALOGIES[triple]})
    king = analogies[0]["ours"]
    return {
        "vocabulary_size": len(kv.index_to_key), "dim": int(kv.vector_size),
        "analogies": analogies,
        "neighbours": {w: {"ours": n, "book": BOOK_NEIGHBOURS[w]}
                       for w, n in neighbours(kv, PROBE_WORDS).items()},
        "king_man_woman": {"top": king[0][0] if king else None, "similarity": king[0][1] if king else None,
                           "queen_similarity": _similarity(kv, "queen", ["king", "woman"], ["man"]),
                           "book": {"top": "queen", "similarity": BOOK_KING_QUEEN}},
    }


def _similarity(kv, word: str, positive: list[str], negative: list[str]) -> float | None:
    """Cosine similarity of `word` to the normalized analogy target (what most_similar ranks by)."""
    if any(w not in kv.key_to_index for w in (word, *positive, *negative)):
        return None
    target = sum(kv.get_vector(w, norm=True) for w in positive) - sum(kv.get_vector(w, norm=True)
                                                                     for w in negative)
    target = target / np.linalg.norm(target)
    return float(np.dot(kv.get_vector(word, norm=True), target))


def review_sentences(frames: Mapping[str, pd.DataFrame], corpora: Sequence[str]
                     ) -> tuple[list[list[str]], dict[str, int]]:
    """The token lists of the train splits of the text group's tables, in corpus order, and the documents
    taken from each corpus (Word2Vec's training sentences)."""
    sentences, documents = [], {}
    for name in corpora:
        train = frames[name][frames[name]["split"] == "train"]
        documents[name] = len(train)
        sentences += [list(tokens) for tokens in train["tokens"]]
    return sentences, documents


def vectors_digest(kv) -> str:
    """The content hash of KeyedVectors: their float32 values and their words in order (the data version)."""
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(kv.vectors).tobytes()
                          + "\n".join(kv.index_to_key).encode("utf-8")).hexdigest()
