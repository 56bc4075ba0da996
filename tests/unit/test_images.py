"""core.images: the book's image sources (mirror MNIST, a generated CIFAR-10 archive, sklearn digits, picture
folders), image tensors in parquet and back, samples and the tf.data pipeline."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core import images as I
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.schema import sha256_file
from ztdl_pipeline.resources.io import read_parquet, write_table

# ---------------------------------------------------------------- a CIFAR-10 archive in the real format


def cifar_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable 32×32×3 images: each class has its own colour, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    palette = rng.integers(0, 256, size=(10, 3))
    noise = rng.integers(-60, 61, size=(n, 32, 32, 3))
    return np.clip(palette[labels][:, None, None, :] + noise, 0, 255).astype(np.uint8), labels


def write_cifar_archive(path: Path, per_batch: int = 40, test: int = 100, seed: int = 0) -> dict:
    """cifar-10-python.tar.gz as Toronto publishes it: cifar-10-batches-py/data_batch_1..5, test_batch and
    batches.meta, each a pickled dict (b'data': (n, 3072) uint8 channel-first rows, b'labels': list)."""
    x, y = cifar_images(5 * per_batch + test, seed)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]

    def member(tar: tarfile.TarFile, name: str, content: dict) -> None:
        data = pickle.dumps(content, protocol=2)
        info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(path, "w:gz") as tar:
        for i in range(5):
            rows = slice(i * per_batch, (i + 1) * per_batch)
            member(tar, f"data_batch_{i + 1}", {b"batch_label": f"training batch {i + 1} of 5".encode(),
                                                 b"data": x[rows].transpose(0, 3, 1, 2).reshape(per_batch, -1),
                                                 b"labels": y[rows].tolist()})
        member(tar, "test_batch", {b"data": x[5 * per_batch:].transpose(0, 3, 1, 2).reshape(test, -1),
                                   b"labels": y[5 * per_batch:].tolist()})
        member(tar, "batches.meta", {b"label_names": names, b"num_vis": 3072})
    return {"x_train": x[:5 * per_batch], "y_train": y[:5 * per_batch], "x_test": x[5 * per_batch:],
            "y_test": y[5 * per_batch:], "sha256": sha256_file(path)}


def test_cifar_archive_reads_back_channel_last(tmp_path):
    written = write_cifar_archive(tmp_path / "cifar.tar.gz")
    arrays = I.load_cifar10(tmp_path / "cifar.tar.gz")
    assert arrays["x_train"].shape == (200, 32, 32, 3) and arrays["x_test"].shape == (100, 32, 32, 3)
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(arrays[key], written[key])
    assert arrays["classes"][:2] == ["airplane", "automobile"]


def test_cifar_pickle_with_code_is_refused(tmp_path):
    class Boom:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        data = pickle.dumps({b"data": Boom(), b"labels": [0]}, protocol=2)
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(DataError, match=r"data_batch_1: not a CIFAR batch .*refusing to load (__builtin__|builtins).print"):
        I.load_cifar10(path)


def test_cifar_errors_name_the_file(tmp_path):
    bad = tmp_path / "cifar-10-python.tar.gz"
    bad.write_bytes(b"not an archive")
    with pytest.raises(DataError, match="cannot be read as a .tar.gz archive") as info:
        I.load_cifar10(bad)
    assert str(bad) in str(info.value)
    incomplete = tmp_path / "incomplete.tar.gz"
    with tarfile.open(incomplete, "w:gz"):
        pass
    with pytest.raises(DataError, match="has no cifar-10-batches-py/data_batch_1"):
        I.load_cifar10(incomplete)


# ---------------------------------------------------------------- MNIST, digits, folders


def test_mirror_mnist_has_keras_layout(mirror):
    arrays = I.load_mnist(mirror / datasets.get("mnist").filename)
    assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
    assert arrays["y_train"][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # MANIFEST / the book: first is a 5
    assert arrays["x_train"].mean() == pytest.approx(33.318421, abs=1e-5)


def test_mnist_errors_name_the_file_and_the_problem(tmp_path):
    partial = tmp_path / "mnist.npz"
    np.savez(partial, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="missing array.*x_test, y_test") as info:
        I.load_mnist(partial)
    assert str(partial) in str(info.value)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, x_train=np.zeros((2, 28, 28), np.float32), y_train=np.zeros(2, np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    with pytest.raises(DataError, match=r"train images are float32 \(2, 28, 28\), expected uint8"):
        I.load_mnist(wrong)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="cannot be read as an .npz archive"):
        I.load_mnist(garbage)


def test_digits_split_is_the_books(tmp_path):
    from sklearn.datasets import load_digits

    entry = datasets.get("digits")
    index = I.file_index(Path(entry.url.removeprefix("file://")).parent, {"digits.csv.gz": entry.sha256})
    images, labels, splits, attrs = I.read_digits(index, {})
    reference = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(-1, 64), reference.data)
    assert (splits == "train").sum() == 1257 and (splits == "test").sum() == 540  # L14464
    test_counts = np.bincount(labels[splits == "test"])
    assert {5: 55, 3: 55, 1: 55, 2: 53, 8: 52}.items() <= {i: int(n) for i, n in enumerate(test_counts)}.items()


def test_folder_index_and_pictures(mirror):
    entry = datasets.get("male_female")
    files = entry.files()
    index = I.file_index(mirror / entry.folder, files, labelled=True)
    assert len(index) == 900
    assert index.groupby(["split", "class_name"]).size().to_dict() == {
        ("test", "0_female"): 100, ("test", "1_male"): 100, ("train", "0_female"): 350, ("train", "1_male"): 350}
    images, labels, splits, attrs = I.read_folder(index, {"train": 20, "test": 10}, size=64)
    assert images.shape == (30, 64, 64, 3) and images.dtype == np.uint8
    assert attrs["classes"] == ["0_female", "1_male"]
    assert (splits == "train").sum() == 20 and np.bincount(labels[splits == "train"]).tolist() == [10, 10]
    grey = index[index.file.map(lambda f: I.decode_image(f).shape[-1] == 3)].iloc[0]
    picture = I.decode_image(grey.file)
    assert picture.shape == (300, 300, 3)  # MANIFEST: all 300×300
    assert I.decode_image(grey.file, (64, 64)).shape == (64, 64, 3)


def test_broken_picture_names_the_file(tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataError, match="cannot be decoded as an image") as info:
        I.decode_image(bad)
    assert str(bad) in str(info.value)


def test_changed_file_after_raw_is_caught(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"original")
    index = I.file_index(tmp_path, {"a.bin": sha256_file(path)})
    I.verify_files(index, "raw/a")
    path.write_bytes(b"changed!")
    with pytest.raises(DataError, match="changed since raw/a verified it") as info:
        I.verify_files(index, "raw/a")
    assert "rematerialize raw/a" in str(info.value) and str(path) in str(info.value)


def test_sample_rows_keeps_splits_classes_and_order():
    labels = np.arange(1000) % 10
    splits = np.array(["train"] * 800 + ["test"] * 200, dtype=object)
    rows = I.sample_rows(splits, labels, {"train": 100, "test": 30}, seed=0)
    assert (splits[rows] == "train").sum() == 100 and (splits[rows] == "test").sum() == 30
    assert np.all(np.diff(rows) > 0)
    assert np.bincount(labels[rows][splits[rows] == "train"]).tolist() == [10] * 10
    np.testing.assert_array_equal(rows, I.sample_rows(splits, labels, {"train": 100, "test": 30}, seed=0))
    assert len(I.sample_rows(splits, labels, {})) == 1000


# ---------------------------------------------------------------- parquet round trip


@pytest.fixture(scope="module")
def mnist_table(mirror):
    arrays = I.load_mnist(mirror / datasets.get("mnist").filename)
    arrays["x_train"], arrays["y_train"] = arrays["x_train"][:20000], arrays["y_train"][:20000]  # keep it quick
    splits = np.array(["test"] * 10000 + ["train"] * 20000, dtype=object)  # deliberately test first
    images = np.concatenate([arrays["x_test"], arrays["x_train"]])
    labels = np.concatenate([arrays["y_test"], arrays["y_train"]])
    return I.image_table(images, labels, splits, {"dataset": "mnist", "classes": list(range(10))}), arrays


def test_image_table_parquet_round_trip_is_exact_and_zero_copy(mnist_table, tmp_path):
    table, arrays = mnist_table
    path = tmp_path / "mnist.parquet"
    write_table(table, path)
    assert not list(tmp_path.glob(".*tmp"))  # written atomically, nothing left beside it
    schema = pq.read_schema(path)
    assert isinstance(schema.field("image").type, pa.FixedShapeTensorType)
    assert list(schema.field("image").type.shape) == [28, 28] and schema.field("image").type.value_type == pa.uint8()
    back = read_parquet(path)
    assert isinstance(back, pa.Table)  # written from a Table: read back as one
    attrs = I.table_attrs(back)
    assert attrs["image_shape"] == [28, 28] and attrs["splits"] == {"train": 20000, "test": 10000}
    assert back.column("image").num_chunks == 1
    x_train, y_train = I.split_arrays(back, "train")
    x_test, y_test = I.split_arrays(back, "test")
    np.testing.assert_array_equal(x_train, arrays["x_train"])  # train rows come first although given last
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    # views of Arrow's buffer, not copies
    assert not x_train.flags.owndata and not x_test.flags.owndata
    buffer = back.column("image").chunk(0).storage.values.buffers()[1]
    assert x_test.ctypes.data == buffer.address + 20000 * 784
    assert I.table_problems(back) == []


def test_table_problems_are_named():
    table = I.image_table(np.zeros((4, 2, 2), np.uint8), np.array([0, 1, 2, 5]), ["train"] * 4,
                          {"classes": [0, 1, 2]})
    assert I.table_problems(table) == ["labels outside 0..2"]
    frame_like = pa.table({"image": pa.array([b"x"]), "label": pa.array([0.5]), "split": pa.array(["train"])})
    problems = I.table_problems(frame_like.replace_schema_metadata(table.schema.metadata))
    assert any("expected a fixed-shape uint8 tensor" in p for p in problems)
    assert any("label is double" in p for p in problems)


def test_dataframe_parquet_is_unchanged(tmp_path):
    import pandas as pd

    from ztdl_pipeline.resources.io import write_parquet

    frame = pd.DataFrame({"a": [1.0, 2.0]})
    frame.attrs = {"k": 1}
    write_parquet(frame, tmp_path / "f.parquet")
    back = read_parquet(tmp_path / "f.parquet")
    assert isinstance(back, pd.DataFrame) and back.attrs == {"k": 1}


# ---------------------------------------------------------------- tf.data


def test_dataset_batches_one_hot_and_reshuffles():
    x = np.arange(10 * 4, dtype=np.uint8).reshape(10, 2, 2)
    y = np.arange(10) % 3
    pipeline = I.dataset(x, y, batch_size=4, n_classes=3, shuffle=True, seed=1)
    epochs = [[(b[0]["image"].numpy(), b[1].numpy()) for b in pipeline] for _ in range(2)]
    assert [len(images) for images, _ in epochs[0]] == [4, 4, 2]
    seen = np.concatenate([images for images, _ in epochs[0]])
    assert sorted(seen[:, 0, 0].tolist()) == sorted(x[:, 0, 0].tolist())  # every image once per epoch
    for images, targets in epochs[0]:
        assert images.dtype == np.uint8  # raw pixels: rescaling is the model's job
        rows = images[:, 0, 0] // 4
        np.testing.assert_array_equal(targets, np.eye(3)[y[rows]])
    order = [np.concatenate([i for i, _ in epoch])[:, 0, 0].tolist() for epoch in epochs]
    assert order[0] != order[1]  # reshuffled each epoch
    binary = next(iter(I.dataset(x, y % 2, batch_size=10)))
    assert binary[1].dtype.name == "float32" and binary[1].numpy().tolist() == (y % 2).tolist()


def test_image_grid_is_a_png():
    png = I.image_grid([np.zeros((8, 8), np.uint8), np.full((8, 8), 16, np.uint8)], ["a", "b"], "grid")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


# ---------------------------------------------------------------- core/image_features: the asset's one call, checks


def test_features_build_reads_by_reference_and_limits_only_what_is_set(mirror):
    from ztdl_pipeline.core import image_features as F

    entry = datasets.get("male_female")
    index = I.file_index(mirror / entry.folder, entry.files(), labelled=True)
    table, summary = F.build(index, "male_female", "ztdl_pipeline.core.images:read_folder", train_images=20,
                             test_images=0, seed=0, profile="fast", image_size=32, resample="nearest")
    attrs = I.table_attrs(table)
    assert summary["splits"] == attrs["splits"] == {"train": 20, "test": 200}  # 0: the whole split
    assert attrs["split"]["limits"] == {"train": 20} and attrs["profile"] == "fast"
    assert summary["image_shape"] == [32, 32, 3] and summary["train_class_counts"] == {"0_female": 10, "1_male": 10}
    assert F.index_counts(index) == {"test/0_female": 100, "test/1_male": 100, "train/0_female": 350,
                                     "train/1_male": 350}
    with pytest.raises(LookupError, match="read_nothing"):
        F.build(index, "male_female", "ztdl_pipeline.core.images:read_nothing", train_images=0, test_images=0,
                seed=0, profile="book")


def test_feature_check_problems_name_rows_splits_and_rare_classes():
    from ztdl_pipeline.core import image_features as F

    images = np.zeros((120, 4, 4), np.uint8)
    labels = np.array([0] * 60 + [1] * 59 + [2])
    splits = np.array(["train"] * 110 + ["test"] * 10)
    table = I.image_table(images, labels, splits, {"classes": ["a", "b", "c"]})
    assert F.row_problems(table, 100) == []
    assert F.row_problems(table, 200) == ["120 rows, expected at least 200"]
    only_train = I.image_table(images, labels, np.array(["train"] * 120), {"classes": ["a", "b", "c"]})
    assert F.row_problems(only_train, 100) == ["no test rows"]
    assert F.class_shares(table)["b"] == pytest.approx(50 / 110)
    assert F.balance_problems(table, 0.01) == ["class c is 0.00% of the train images, below 1%"]
    assert F.balance_problems(table, 0.0) == []


def test_with_source_needs_the_copys_hash():
    from ztdl_pipeline.core.image_features import with_source

    entry = datasets.get("mnist")
    assert with_source(entry, None, None) is entry
    with pytest.raises(ValueError, match="no sha256"):
        with_source(entry, "file:///x.npz", None)
    copy = with_source(entry, "file:///x.npz", "ab" * 32)
    assert (copy.url, copy.sha256, copy.alt_sha256) == ("file:///x.npz", "ab" * 32, ())
    folder = with_source(datasets.get("male_female"), "file:///f.tgz", "cd" * 32)
    assert (folder.archive_url, folder.archive_sha256) == ("file:///f.tgz", "cd" * 32)
