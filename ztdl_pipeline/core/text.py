"""Text data: the book's tokenization, vocabulary tables, padded sequences and sparse bag-of-words matrices.

Tokenization follows the book's Keras `Tokenizer` defaults (`text_to_word_sequence`): lowercase, every
character of `FILTERS` replaced by a space, split on whitespace. One documented difference: we split on any
ASCII whitespace (" \\t\\n\\r\\f\\v"); the book's Tokenizer splits on " " only after turning \\t and \\n into
spaces, so a "\\r" inside a message would stay inside a token there. The same rules are written as
TensorFlow string ops in `keras_standardize` so that an exported model's `TextVectorization` layer tokenizes
exactly like the training features.

VOCABULARY TABLE (the contract with the embeddings group): one row per id, sorted by id, columns `id` int32,
`token` string, `count` int64 (count in the training split); id 0 = "" (padding, count 0), id 1 = "[UNK]"
(count = number of out-of-vocabulary tokens seen), ids 2.. = tokens by descending count, ties by first
appearance. That is `TextVectorization.get_vocabulary()` order.

Only numpy, pandas and pyarrow at import; TensorFlow / Keras are imported inside the functions that need them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.tables import table_attrs, with_attrs  # noqa: F401 (table_attrs: part of this API)

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
PAD_TOKEN = ""
OOV_TOKEN = "[UNK]"
WHITESPACE = " \t\n\r\f\v"
_TRANSLATION = str.maketrans(dict.fromkeys(FILTERS, " "))
# one translation for tokenize: the filters and the other ASCII whitespace all become " ", then split(" ")
_TOKEN_TRANSLATION = str.maketrans(dict.fromkeys(FILTERS + WHITESPACE, " "))
VOCABULARY_COLUMNS = ("id", "token", "count")


def standardize(text: str) -> str:
    """Lowercase and replace each of the Tokenizer's filter characters by a space (the book's defaults)."""
    return str(text).lower().translate(_TRANSLATION)


def tokenize(text: str) -> list[str]:
    """`standardize`, then split on whitespace and drop empty pieces (Keras' `text_to_word_sequence`)."""
    return [token for token in str(text).lower().translate(_TOKEN_TRANSLATION).split(" ") if token]


def build_vocabulary(token_lists: Iterable[Sequence[str]], max_tokens: int | None = None) -> pd.DataFrame:
    """A VOCABULARY TABLE from tokenized training documents.

    `max_tokens` counts every id including the two reserved ones (padding and [UNK]), like
    `TextVectorization(max_tokens=...)`; None keeps every token. The count of [UNK] is the number of
    token occurrences that fall outside the kept vocabulary.
    """
    if max_tokens is not None and max_tokens < 2:
        raise ValueError(f"max_tokens must be at least 2 (padding and [UNK]), got {max_tokens}")
    counts: Counter[str] = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    # Counter keeps first-insertion order and sorted() is stable: descending count, ties by first appearance
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    ranked = [(token, count) for token, count in ranked if token not in (PAD_TOKEN, OOV_TOKEN)]
    keep = ranked if max_tokens is None else ranked[: max_tokens - 2]
    oov = sum(count for _, count in ranked[len(keep):])
    tokens = [PAD_TOKEN, OOV_TOKEN] + [token for token, _ in keep]
    token_counts = [0, oov] + [count for _, count in keep]
    return pd.DataFrame({
        "id": np.arange(len(tokens), dtype=np.int32),
        "token": pd.array(tokens, dtype="string"),
        "count": np.asarray(token_counts, dtype=np.int64),
    })


def encode(token_lists: Iterable[Sequence[str]], vocabulary: pd.DataFrame | Sequence[str]) -> list[np.ndarray]:
    """Token lists -> id arrays with a VOCABULARY TABLE (or its token list in id order); unknown tokens -> 1."""
    tokens = vocabulary["token"].tolist() if isinstance(vocabulary, pd.DataFrame) else list(vocabulary)
    index = {token: i for i, token in enumerate(tokens) if i >= 2}
    return [np.fromiter((index.get(t, 1) for t in doc), dtype=np.int32) for doc in token_lists]


def pad(sequences: Sequence[np.ndarray], maxlen: int, padding: str = "pre", truncating: str = "pre") -> np.ndarray:
    """Keras `pad_sequences` for int ids: (n, maxlen) int32, 0 = padding; 'pre' pads/cuts at the start."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"padding and truncating must be 'pre' or 'post', got {padding!r}, {truncating!r}")
    out = np.zeros((len(sequences), maxlen), dtype=np.int32)
    for row, seq in enumerate(sequences):
        seq = np.asarray(seq, dtype=np.int32)
        seq = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        if len(seq):
            if padding == "pre":
                out[row, maxlen - len(seq):] = seq
            else:
                out[row, :len(seq)] = seq
    return out


# ---------------------------------------------------------------- readers (raw files -> DataFrames)


def _read_csv(path, columns: Sequence[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(path, f"cannot be read as a UTF-8 CSV ({type(exc).__name__}: {exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}",
                        "use the book's file (data/ folder or the mirror)")
    return frame


def read_sms_spam(path) -> pd.DataFrame:
    """sms_spam.csv: columns message (str), spam (0/1)."""
    frame = _read_csv(path, ("message", "spam"))
    labels = pd.to_numeric(frame["spam"], errors="coerce")
    if labels.isna().any() or not labels.isin([0, 1]).all():
        raise DataError(path, "column spam must hold 0 or 1 on every row")
    return pd.DataFrame({"message": frame["message"].fillna("").astype("string"),
                         "spam": labels.astype(np.int64)})


def sms_zip_counts(path) -> dict[str, int]:
    """The book's sms.zip (folders ham/ and spam/ of .txt messages): message files per class."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".txt")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(path, f"cannot be read as a zip archive ({exc})") from None
    counts = Counter(n.rstrip("/").split("/")[-2] for n in names if "/" in n)
    return {label: counts.get(label, 0) for label in ("ham", "spam")}


def read_movie_reviews(path) -> pd.DataFrame:
    """movie_reviews.csv: title, review, vote (fresh | rotten | none)."""
    frame = _read_csv(path, ("title", "review", "vote"))
    return pd.DataFrame({c: frame[c].astype("string") for c in ("title", "review", "vote")})


def read_names(path) -> pd.DataFrame:
    """names.txt: one name per line; blank lines skipped."""
    try:
        lines = open(path, encoding="utf-8").read().splitlines()  # noqa: SIM115
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot be read as UTF-8 text ({exc})") from None
    names = [line.strip() for line in lines if line.strip()]
    if not names:
        raise DataError(path, "holds no names (one per line expected)")
    return pd.DataFrame({"name": pd.array(names, dtype="string")})


def read_word_index(path) -> pd.DataFrame:
    """Keras' imdb_word_index.json ({word: rank}) as a table sorted by index."""
    import json

    try:
        data = json.loads(open(path, encoding="utf-8").read())  # noqa: SIM115
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(path, f"cannot be read as a JSON word index ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, int) for v in data.values()):
        raise DataError(path, "must be a JSON object {word: integer index}")
    frame = pd.DataFrame({"word": pd.array(list(data), dtype="string"),
                          "index": np.asarray(list(data.values()), dtype=np.int64)})
    return frame.sort_values("index", kind="stable").reset_index(drop=True)


_IMDB_MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def read_imdb_archive(path, per_folder: int | None = None) -> pd.DataFrame:
    """IMDB reviews straight from Stanford's aclImdb_v1.tar.gz (or the mirror's repack): one pass over the
    gzip stream, no unpacking to disk. Columns text, label (1 = pos), split, id, rating; unsup/ is skipped.
    `per_folder` keeps the first n reviews (by file id) of each of train/test × pos/neg."""
    import tarfile

    rows = []
    try:
        with tarfile.open(path, mode="r|gz") as archive:
            for member in archive:
                match = _IMDB_MEMBER.search(member.name) if member.isfile() else None
                if not match:
                    continue
                split, polarity, review_id, rating = match.groups()
                text = archive.extractfile(member).read().decode("utf-8")
                rows.append((text, int(polarity == "pos"), split, int(review_id), int(rating)))
    except (OSError, tarfile.TarError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot be read as the aclImdb tar.gz archive ({type(exc).__name__}: {exc})",
                        "use aclImdb_v1.tar.gz from ai.stanford.edu or the mirror's extra/aclImdb_labeled.tar.gz"
                        ) from None
    if not rows:
        raise DataError(path, "holds no review files <train|test>/<pos|neg>/<id>_<rating>.txt")
    frame = pd.DataFrame(rows, columns=["text", "label", "split", "id", "rating"])
    frame = frame.sort_values(["split", "label", "id"], ascending=[False, True, True], kind="stable")
    if per_folder:
        frame = frame.groupby(["split", "label"], sort=False).head(per_folder)
    frame["text"] = frame["text"].astype("string")
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------- feature tables (pyarrow, attrs in metadata)



def fixed_list_column(matrix: np.ndarray):
    """An (n, k) array as a fixed_size_list<k> column (int32 ids, float32 features)."""
    import pyarrow as pa

    matrix = np.ascontiguousarray(matrix)
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])


def fixed_list_numpy(column) -> np.ndarray:
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), column.type.list_size)


def sparse_columns(matrix) -> dict:
    """A scipy CSR matrix as per-row `indices` list<int32> and `values` list<float32> columns."""
    import pyarrow as pa

    matrix = matrix.tocsr()
    matrix.sort_indices()
    offsets = pa.array(matrix.indptr.astype(np.int32))
    return {"indices": pa.ListArray.from_arrays(offsets, pa.array(matrix.indices.astype(np.int32))),
            "values": pa.ListArray.from_arrays(offsets, pa.array(matrix.data.astype(np.float32)))}


def sparse_matrix(table, n_features: int):
    """The `indices` / `values` columns of a table back to a scipy CSR matrix (n_rows, n_features) float32."""
    import pyarrow.compute as pc
    import scipy.sparse as sp

    indices, values = table.column("indices").combine_chunks(), table.column("values").combine_chunks()
    lengths = pc.list_value_length(indices).fill_null(0).to_numpy(zero_copy_only=False)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = values.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    return sp.csr_matrix((data, indices.flatten().to_numpy(zero_copy_only=False), indptr),
                         shape=(len(indices), n_features), dtype=np.float32)


def rows(table, split: str):
    """The rows of one split (a filtered Table)."""
    import pyarrow.compute as pc

    return table.filter(pc.equal(table.column("split"), split))


def labels(table, split: str | None = None) -> np.ndarray:
    part = rows(table, split) if split else table
    return part.column("label").to_numpy().astype(np.int64)


# ---------------------------------------------------------------- features (pure: DataFrames in, tables out)

SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # CountVectorizer / TfidfVectorizer's default token_pattern


def book_split(n: int, test_size: float = 0.25, random_state: int = 0) -> np.ndarray:
    """'train'/'test' per row exactly as the book's `train_test_split(X, y, random_state=0)` (25 % test):
    the permutation depends only on the row count and the seed, so the same rows land in each split."""
    from sklearn.model_selection import train_test_split

    _, test = train_test_split(np.arange(n), test_size=test_size, random_state=random_state)
    split = np.full(n, "train", dtype=object)
    split[test] = "test"
    return split


def subsample(frame: pd.DataFrame, n: int | None, seed: int = 0, by: str | None = None) -> pd.DataFrame:
    """At most n rows (stratified on `by` when given), in their original order; None/0 keeps all."""
    if not n or len(frame) <= n:
        return frame.reset_index(drop=True)
    if by is None:
        keep = frame.sample(n=n, random_state=seed).index
    else:
        share = n / len(frame)
        keep = frame.groupby(by, group_keys=False).sample(frac=share, random_state=seed).index
    return frame.loc[sorted(keep)].reset_index(drop=True)


def text_frame(texts: Sequence[str], labels: Sequence[int], splits: Sequence[str]) -> pd.DataFrame:
    """The contract's cleaned-text table: text, tokens (list<string>), label int64, split."""
    return pd.DataFrame({"text": pd.array(list(texts), dtype="string"),
                         "tokens": [tokenize(t) for t in texts],
                         "label": np.asarray(labels, dtype=np.int64),
                         "split": pd.array(list(splits), dtype="string")})


def movie_reviews_frame(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The book's Rotten Tomatoes rows: vote 'none' dropped (14,072 -> 14,049), LabelEncoder labels
    (fresh 0, rotten 1), its train_test_split(random_state=0). Returns (review, label, split) and classes."""
    frame = raw[raw["vote"] != "none"].reset_index(drop=True)
    classes = sorted(frame["vote"].unique().tolist())  # LabelEncoder: sorted -> ['fresh', 'rotten']
    out = pd.DataFrame({"review": frame["review"].fillna("").astype("string"),
                        "label": frame["vote"].map({c: i for i, c in enumerate(classes)}).astype(np.int64)})
    out["split"] = book_split(len(out))
    return out, classes


def two_features(texts: Sequence[str]) -> np.ndarray:
    """The book's two SMS features: count of the word 'free' and count of digits (float32, (n, 2))."""
    digits = re.compile("[0-9]")
    return np.asarray([[tokenize(t).count("free"), len(digits.findall(str(t)))] for t in texts], dtype=np.float32)


def vectorize(texts: Sequence[str], splits: Sequence[str], kind: str, max_features: int,
              stop_words: str | None = "english", fit_on: str = "train"):
    """scikit-learn's CountVectorizer / TfidfVectorizer with the book's options, fitted on `fit_on` rows
    ('train': no leakage; 'all': the book's way). Returns (CSR for every row, vocabulary in column order,
    idf weights or None, the vectorizer's parameters)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    cls = {"count": CountVectorizer, "tfidf": TfidfVectorizer}[kind]
    vectorizer = cls(decode_error="ignore", stop_words=stop_words, lowercase=True, max_features=max_features)
    texts = [str(t) for t in texts]
    fit_rows = [t for t, s in zip(texts, splits) if fit_on == "all" or s == fit_on]
    vectorizer.fit(fit_rows)
    vocabulary = vectorizer.get_feature_names_out().tolist()
    idf = vectorizer.idf_.astype(np.float32).tolist() if kind == "tfidf" else None
    params = {"kind": kind, "max_features": max_features, "stop_words": stop_words, "lowercase": True,
              "token_pattern": vectorizer.token_pattern, "fit_on": fit_on,
              **({"norm": vectorizer.norm, "smooth_idf": vectorizer.smooth_idf,
                  "sublinear_tf": vectorizer.sublinear_tf} if kind == "tfidf" else {})}
    return vectorizer.transform(texts).astype(np.float32), vocabulary, idf, params


def sparse_table(texts, labels, splits, matrix, attrs: dict):
    """text, indices list<int32>, values list<float32>, label, split; attrs in the schema metadata."""
    import pyarrow as pa

    columns = {"text": pa.array(list(map(str, texts)), pa.string()), **sparse_columns(matrix),
               "label": pa.array(np.asarray(labels, dtype=np.int64)), "split": pa.array(list(splits), pa.string())}
    return with_attrs(pa.table(columns), {**attrs, "n_features": int(matrix.shape[1]), "layout": "sparse"})


def dense_table(texts, labels, splits, matrix: np.ndarray, attrs: dict):
    """text, x fixed_size_list (ids int32 or features float32), label, split; attrs in the metadata."""
    import pyarrow as pa

    columns = {"text": pa.array(list(map(str, texts)), pa.string()), "x": fixed_list_column(matrix),
               "label": pa.array(np.asarray(labels, dtype=np.int64)), "split": pa.array(list(splits), pa.string())}
    return with_attrs(pa.table(columns), {**attrs, "width": int(matrix.shape[1]), "layout": "dense"})


def split_xy(table, split: str):
    """(x, y) of one split: a CSR matrix for sparse tables, an (n, k) array for dense ones."""
    part = rows(table, split)
    attrs = table_attrs(table)
    x = sparse_matrix(part, attrs["n_features"]) if attrs.get("layout") == "sparse" else fixed_list_numpy(
        part.column("x"))
    return x, labels(part)


def name_windows(names: Sequence[str], maxlen: int = 3) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The book's character windows: names lower-cased with '\\n' appended, every run of `maxlen`
    characters -> the next character (7,939 names -> 32,016 windows). Characters get ids in sorted order
    (the book used a Python set's order, which changes from run to run): '\\n' 0, '-' 1, 'a' 2, ..."""
    texts = [str(n).lower() + "\n" for n in names]
    chars = sorted(set("".join(texts)))
    index = {c: i for i, c in enumerate(chars)}
    windows, targets = [], []
    for text in texts:
        ids = [index[c] for c in text]
        for start in range(len(ids) - maxlen):
            windows.append(ids[start:start + maxlen])
            targets.append(ids[start + maxlen])
    return (np.asarray(windows, dtype=np.int32).reshape(-1, maxlen), np.asarray(targets, dtype=np.int64), chars)


def vocabulary_problems(vocabulary: pd.DataFrame) -> list[str]:
    """What makes a table break the VOCABULARY TABLE contract (empty list: it follows it)."""
    problems = [f"missing column {c}" for c in VOCABULARY_COLUMNS if c not in vocabulary.columns]
    if problems:
        return problems
    if str(vocabulary["id"].dtype) != "int32" or str(vocabulary["count"].dtype) != "int64":
        problems.append(f"dtypes id {vocabulary['id'].dtype}, count {vocabulary['count'].dtype}; want int32, int64")
    if not np.array_equal(vocabulary["id"].to_numpy(), np.arange(len(vocabulary))):
        problems.append("ids are not 0..n-1 in row order")
    if len(vocabulary) < 2 or vocabulary["token"].iloc[0] != PAD_TOKEN or vocabulary["token"].iloc[1] != OOV_TOKEN:
        problems.append("id 0 must be '' (padding) and id 1 '[UNK]'")
    elif vocabulary["count"].iloc[0] != 0:
        problems.append("padding count must be 0")
    if vocabulary["token"].duplicated().any():
        problems.append("tokens are not unique")
    counts = vocabulary["count"].to_numpy()[2:]
    if len(counts) > 1 and np.any(np.diff(counts) > 0):
        problems.append("counts of ids 2.. are not in descending order")
    return problems
