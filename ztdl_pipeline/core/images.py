"""Image data: reading the book's image sources, image tensors in parquet, and the tf.data input pipeline.

Sources (each verified by DatasetSource before it gets here): Keras' mnist.npz, CIFAR-10's python batches
in their .tar.gz, scikit-learn's digits.csv.gz and folders of pictures laid out as flow_from_directory
reads them (<split>/<class>/<file>). Features are pyarrow Tables: `image` is a fixed-shape uint8 tensor
column (Arrow's canonical extension type, so the shape is part of the column type), `label` an integer,
`split` train|test; the rows of a split are contiguous, so a split reads back as numpy views of the
parquet buffers, without a copy. Images stay raw uint8 pixels: rescaling and one-hot encoding happen in
the model and the input pipeline, so an exported model takes raw pixels.

Only numpy, pandas and pyarrow at import; PIL, TensorFlow and matplotlib are imported where used.
"""

from __future__ import annotations

import io
import json
import pickle
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.tables import ATTRS_KEY, table_attrs  # noqa: F401 (table_attrs: part of this API)

SPLITS = ("train", "test")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

# ---------------------------------------------------------------- sources


def load_mnist(path: str | Path) -> dict[str, np.ndarray]:
    """Keras' mnist.npz layout: x_train (n, 28, 28) uint8, y_train (n,), x_test, y_test. No pickle allowed."""
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as npz:
            found = list(npz.files)
            arrays = {key: npz[key] for key in keys if key in found}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(path, f"cannot be read as an .npz archive ({type(exc).__name__}: {exc})") from None
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise DataError(path, f"missing array(s) {', '.join(missing)}; found {', '.join(found) or 'none'}",
                        "use Keras' mnist.npz (or the mirror's keras_datasets/mnist.npz)")
    for split in SPLITS:
        _check_arrays(path, arrays[f"x_{split}"], arrays[f"y_{split}"], (28, 28), 10, split)
    return arrays


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """CIFAR's batches are pickles: allow exactly what rebuilds numpy arrays, nothing that could run code."""

    ALLOWED: ClassVar = frozenset({
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("_codecs", "encode"),  # how Python 3 writes bytes at pickle protocol 2
    })

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")


def load_cifar10(path: str | Path) -> dict[str, Any]:
    """cifar-10-python.tar.gz as Keras reads it: data_batch_1..5 (train) and test_batch, each a pickled dict
    with b'data' (n, 3072) uint8 in channel-first order and b'labels'; read straight from the archive."""
    arrays: dict[str, Any] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            def batch(name: str) -> tuple[np.ndarray, np.ndarray]:
                member = f"cifar-10-batches-py/{name}"
                try:
                    handle = tar.extractfile(member)
                except KeyError:
                    raise DataError(path, f"the archive has no {member}",
                                    "use cifar-10-python.tar.gz as published (the python version)") from None
                try:
                    content = _NumpyOnlyUnpickler(io.BytesIO(handle.read()), encoding="bytes").load()
                    data = np.asarray(content[b"data"], dtype=np.uint8)
                    labels = np.asarray(content[b"labels"], dtype=np.int64)
                    images = data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)
                except (pickle.UnpicklingError, KeyError, ValueError, TypeError, EOFError) as exc:
                    problem = f"not a CIFAR batch ({type(exc).__name__}: {exc})"
                    raise DataError(f"{path}:{member}", problem) from None
                return images, labels

            parts = [batch(f"data_batch_{i}") for i in range(1, 6)]
            arrays["x_train"] = np.ascontiguousarray(np.concatenate([p[0] for p in parts]))
            arrays["y_train"] = np.concatenate([p[1] for p in parts])
            x_test, arrays["y_test"] = batch("test_batch")
            arrays["x_test"] = np.ascontiguousarray(x_test)
            try:
                meta = _NumpyOnlyUnpickler(tar.extractfile("cifar-10-batches-py/batches.meta"),
                                           encoding="bytes").load()
                arrays["classes"] = [n.decode() if isinstance(n, bytes) else str(n)
                                     for n in meta[b"label_names"]]
            except (KeyError, pickle.UnpicklingError, AttributeError):
                arrays["classes"] = list(CIFAR10_CLASSES)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(path, f"cannot be read as a .tar.gz archive ({type(exc).__name__}: {exc})") from None
    for split in SPLITS:
        _check_arrays(path, arrays[f"x_{split}"], arrays[f"y_{split}"], (32, 32, 3), 10, split)
    return arrays


def load_digits(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits.csv.gz (1797 rows: 64 pixels 0..16 then the digit) -> (n, 8, 8) uint8, labels."""
    try:
        data = np.loadtxt(path, delimiter=",", ndmin=2)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(path, f"cannot be read as digits CSV ({type(exc).__name__}: {exc})") from None
    if data.shape[1] != 65:
        raise DataError(path, f"expected 65 columns (64 pixels + the digit), found {data.shape[1]}")
    pixels, labels = data[:, :64], data[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or np.any(np.mod(pixels, 1)):
        raise DataError(path, "pixel values must be whole numbers from 0 to 16")
    images = pixels.astype(np.uint8).reshape(-1, 8, 8)
    _check_arrays(path, images, labels, (8, 8), 10, "all")
    return images, labels.astype(np.int64)


def _check_arrays(path, x: np.ndarray, y: np.ndarray, shape: tuple, n_classes: int, split: str) -> None:
    if x.dtype != np.uint8 or x.shape[1:] != shape:
        expected = ", ".join(map(str, shape))
        raise DataError(path, f"{split} images are {x.dtype} {x.shape}, expected uint8 (n, {expected})")
    if y.shape != (len(x),):
        raise DataError(path, f"{split}: {len(x)} images but labels of shape {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise DataError(path, f"{split} labels must lie in 0..{n_classes - 1}, found {y.min()}..{y.max()}")


def file_index(root: str | Path, files: Mapping[str, str], labelled: bool = False) -> pd.DataFrame:
    """One row per verified file: absolute path, path relative to `root`, sha256, size; with `labelled`, also
    the split and class read from a flow_from_directory layout: <split>/<class>/<file> or <class>/<file>."""
    root = Path(root)
    rows = []
    for relative, sha256 in sorted(files.items()):
        path = root / relative
        row = {"file": str(path), "relative": relative, "sha256": sha256, "bytes": path.stat().st_size}
        if labelled:
            parts = Path(relative).parts[:-1]
            split = parts[0] if parts and parts[0] in SPLITS else ""
            classes = parts[1:] if split else parts
            row.update(split=split, class_name=classes[0] if classes else "")
        rows.append(row)
    return pd.DataFrame(rows)


def decode_image(path: str | Path, size: tuple[int, int] | None = None,
                 resample: str = "nearest") -> np.ndarray:
    """A picture as (height, width, 3) uint8 RGB, resized like Keras' load_img (PIL, nearest by default)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if size is not None and image.size != (size[1], size[0]):
                image = image.resize((size[1], size[0]), getattr(Image.Resampling, resample.upper()))
            return np.asarray(image, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(path, f"cannot be decoded as an image ({type(exc).__name__}: {exc})") from None


# ---------------------------------------------------------------- splits and samples


def stratified_split(labels: np.ndarray, test_size: float, random_state: int) -> np.ndarray:
    """'train'/'test' per row, as sklearn's train_test_split(test_size, random_state, stratify=labels)."""
    from sklearn.model_selection import train_test_split

    _, test_rows = train_test_split(np.arange(len(labels)), test_size=test_size, random_state=random_state,
                                    stratify=labels)
    split = np.full(len(labels), "train", dtype=object)
    split[test_rows] = "test"
    return split


def sample_rows(splits: np.ndarray, labels: np.ndarray, limits: Mapping[str, int],
                seed: int = 0) -> np.ndarray:
    """Row indices keeping at most limits[split] rows of each split (0 or absent: all), class-stratified,
    in their original order."""
    from sklearn.model_selection import train_test_split

    keep = []
    for split in np.unique(splits):
        rows = np.flatnonzero(splits == split)
        limit = limits.get(str(split))
        if limit and limit < len(rows):
            classes, counts = np.unique(labels[rows], return_counts=True)
            stratifiable = counts.min() >= 2 and len(classes) <= limit <= len(rows) - len(classes)
            rows, _ = train_test_split(rows, train_size=limit, random_state=seed,
                                       stratify=labels[rows] if stratifiable else None)
        keep.append(np.sort(rows))
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=np.int64)


# ---------------------------------------------------------------- features from a raw file index

Features = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]  # images, labels, splits, attrs


def verify_files(index: pd.DataFrame, asset: str) -> None:
    """The files a raw index lists still hold the bytes the raw asset verified."""
    from ztdl_pipeline.core.schema import sha256_file

    for row in index.itertuples(index=False):
        if not Path(row.file).is_file():
            raise DataError(row.file, f"listed by {asset} but missing", f"rematerialize {asset}")
        if sha256_file(row.file) != row.sha256:
            raise DataError(row.file, f"changed since {asset} verified it (sha256 {row.sha256})",
                            f"rematerialize {asset} so the change is recorded as a new data version")


def _official_splits(arrays: Mapping[str, Any], limits: Mapping[str, int], seed: int) -> Features:
    images = np.concatenate([arrays["x_train"], arrays["x_test"]])
    labels = np.concatenate([arrays["y_train"], arrays["y_test"]]).astype(np.int64)
    splits = np.array(["train"] * len(arrays["x_train"]) + ["test"] * len(arrays["x_test"]), dtype=object)
    rows = sample_rows(splits, labels, limits, seed)
    return images[rows], labels[rows], splits[rows], {"split": {"kind": "official train/test",
                                                                "limits": limits}}


def read_mnist(index: pd.DataFrame, limits: Mapping[str, int], seed: int = 0) -> Features:
    images, labels, splits, attrs = _official_splits(load_mnist(index.file.iloc[0]), limits, seed)
    return images, labels, splits, {**attrs, "classes": list(range(10))}


def read_cifar10(index: pd.DataFrame, limits: Mapping[str, int], seed: int = 0) -> Features:
    arrays = load_cifar10(index.file.iloc[0])
    images, labels, splits, attrs = _official_splits(arrays, limits, seed)
    return images, labels, splits, {**attrs, "classes": arrays["classes"]}


def read_digits(index: pd.DataFrame, limits: Mapping[str, int], seed: int = 0, test_size: float = 0.3,
                random_state: int = 0) -> Features:
    """The book's split: train_test_split(test_size=0.3, random_state=0, stratify=y)."""
    images, labels = load_digits(index.file.iloc[0])
    splits = stratified_split(labels, test_size, random_state)
    rows = sample_rows(splits, labels, limits, seed)
    return images[rows], labels[rows], splits[rows], {
        "classes": list(range(10)),
        "split": {"kind": "stratified", "test_size": test_size, "random_state": random_state,
                  "limits": limits}}


def read_folder(index: pd.DataFrame, limits: Mapping[str, int], seed: int = 0, size: int = 64,
                resample: str = "nearest") -> Features:
    """Pictures in <split>/<class>/ folders, decoded to RGB and resized to size×size; classes numbered in
    sorted folder order, as flow_from_directory does ({'0_female': 0, '1_male': 1})."""
    index = index[index.split.isin(SPLITS)].reset_index(drop=True)
    if index.empty:
        raise DataError("image folder", "no pictures under train/<class>/ or test/<class>/")
    classes = sorted(index.class_name.unique())
    labels = index.class_name.map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
    splits = index.split.to_numpy(object)
    rows = sample_rows(splits, labels, limits, seed)
    images = np.stack([decode_image(index.file[i], (size, size), resample) for i in rows])
    return images, labels[rows], splits[rows], {
        "classes": classes, "resize": {"size": [size, size], "resample": resample},
        "split": {"kind": "train/test folders", "limits": limits}}


# ---------------------------------------------------------------- parquet tensors


def image_table(images: np.ndarray, labels: np.ndarray, splits: Sequence[str],
                attrs: Mapping[str, Any]) -> pa.Table:
    """image (fixed-shape uint8 tensor), label (int64), split; rows grouped train first, then test.

    `attrs` (dataset, classes, source, ...) goes in the schema metadata with the image shape and the
    row count of each split.
    """
    images, labels, splits = np.asarray(images), np.asarray(labels), np.asarray(splits, dtype=object)
    if images.dtype != np.uint8 or images.ndim < 3:
        raise ValueError(f"images must be uint8 of shape (n, height, width[, channels]), got {images.dtype} "
                         f"{images.shape}")
    rank = {s: i for i, s in enumerate(SPLITS)}
    order = np.argsort([rank.get(s, len(SPLITS)) for s in splits], kind="stable")
    images = np.ascontiguousarray(images[order])
    table = pa.table({
        "image": pa.FixedShapeTensorArray.from_numpy_ndarray(images),
        "label": pa.array(labels[order].astype(np.int64)),
        "split": pa.array(splits[order].astype(str)),
    })
    meta = {**attrs, "image_shape": list(images.shape[1:]), "rows": len(images),
            "splits": {s: int(np.sum(splits == s)) for s in dict.fromkeys(splits[order])}}
    return table.replace_schema_metadata({ATTRS_KEY: json.dumps(meta).encode()})


def tensor_numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A fixed-shape tensor column as an (n, *shape) array: a view of Arrow's buffer when it is one chunk."""
    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column.to_numpy_ndarray()


def split_arrays(table: pa.Table, split: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of one split (None: all rows); a contiguous split is sliced, not copied."""
    if split is not None:
        rows = np.flatnonzero(table.column("split").to_numpy(zero_copy_only=False) == split)
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
            table = table.slice(int(rows[0]), len(rows))
        else:
            table = table.take(pa.array(rows, pa.int64()))
    labels = table.column("label")
    labels = labels.chunk(0) if labels.num_chunks == 1 else labels.combine_chunks()
    return tensor_numpy(table.column("image")), labels.to_numpy(zero_copy_only=False)


def table_problems(table: pa.Table) -> list[str]:
    """What is wrong with an image features table (empty list: nothing)."""
    attrs = table_attrs(table)
    problems = [f"missing column {c}" for c in ("image", "label", "split") if c not in table.column_names]
    if problems:
        return problems
    image_type = table.schema.field("image").type
    if not isinstance(image_type, pa.FixedShapeTensorType) or image_type.value_type != pa.uint8():
        problems.append(f"image is {image_type}, expected a fixed-shape uint8 tensor")
    elif list(image_type.shape) != attrs.get("image_shape"):
        problems.append(f"image shape {list(image_type.shape)} differs from the metadata's "
                        f"{attrs.get('image_shape')}")
    if not pa.types.is_integer(table.schema.field("label").type):
        problems.append(f"label is {table.schema.field('label').type}, expected an integer")
    problems += [f"{c} has {table.column(c).null_count} nulls" for c in table.column_names
                 if table.column(c).null_count]
    n_classes = len(attrs.get("classes") or [])
    labels = table.column("label").to_numpy()
    if n_classes and len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        problems.append(f"labels outside 0..{n_classes - 1}")
    return problems


# ---------------------------------------------------------------- input pipeline


def dataset(images: np.ndarray, labels: np.ndarray, *, batch_size: int, n_classes: int | None = None,
            shuffle: bool = False, seed: int = 0, repeat: bool = False):
    """tf.data: (shuffled) batches of {"image": uint8 batch} and labels (one-hot for `n_classes`, else float32
    for a sigmoid output), prefetched. Shuffling permutes row indices and gathers whole batches, so an epoch
    costs one gather per batch, not one element at a time; `seed` makes the order reproducible."""
    import tensorflow as tf

    x, y = tf.constant(images), tf.constant(labels)  # one copy into TensorFlow; the pipeline indexes into it
    indices = tf.data.Dataset.range(len(images))
    if shuffle:
        indices = indices.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        indices = indices.repeat()

    def gather(rows):
        target = tf.gather(y, rows)
        target = tf.one_hot(target, n_classes) if n_classes else tf.cast(target, tf.float32)
        return {"image": tf.gather(x, rows)}, target

    batches = indices.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    return batches.prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------- pictures for reports


def image_grid(images: Sequence[np.ndarray], titles: Sequence[str], title: str, columns: int = 8) -> bytes:
    """Images of one shape tiled into one picture (one matplotlib axes: fast), a caption under each: PNG."""
    import matplotlib.pyplot as plt

    from ztdl_pipeline.core.plots import _png

    tiles = [np.asarray(i) for i in images] or [np.zeros((8, 8), np.uint8)]
    titles = list(titles) if images else ["none"]
    height, width = tiles[0].shape[:2]
    colour = tiles[0].ndim == 3 and tiles[0].shape[-1] == 3
    top = 255 if max(int(t.max()) for t in tiles) > 16 else 16  # digits are 0..16
    columns = min(columns, len(tiles))
    rows = -(-len(tiles) // columns)
    pad, band = max(1, height // 10), max(4, height // 3)  # gap between tiles, room for a caption under each
    cell_h, cell_w = height + band, width + pad
    blank = top if colour else 0  # white either way (grey tiles are drawn dark on light, as the book does)
    shape = (height, width, 3) if colour else (height, width)
    mosaic = np.full((rows * cell_h, columns * cell_w, *shape[2:]), blank, dtype=np.float32)
    for n, tile in enumerate(tiles):
        r, c = divmod(n, columns)
        mosaic[r * cell_h:r * cell_h + height, c * cell_w:c * cell_w + width] = tile.reshape(shape)
    fig, ax = plt.subplots(figsize=(min(14.0, 1.4 * columns + 0.5), 1.6 * rows + 0.6))
    ax.imshow(mosaic / top if colour else mosaic, cmap=None if colour else "gray_r", vmin=0,
              vmax=1 if colour else top, interpolation="nearest")
    for n, caption in enumerate(titles):
        r, c = divmod(n, columns)
        ax.text(c * cell_w + width / 2, r * cell_h + height + band * 0.15, caption, ha="center", va="top",
                fontsize=8)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return _png(fig)
