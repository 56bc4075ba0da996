"""Chapter 11 core: the pretrained resource's weight resolution, Xception bottlenecks (random weights, 71×71) on a
few real pictures, the head network, cosine image search and the raw-bytes SavedModel."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.conftest import write_keras_weights_file
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.image_search import CosineIndex, precision_at_k
from ztdl_pipeline.resources.pretrained import WEIGHT_FILES, PretrainedModels

SIZE = 71


# ---------------------------------------------------------------- weights


def test_missing_weights_fail_with_a_clear_message(data_env, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(data_env / "no-keras-home"))
    with pytest.raises(DataError) as error:
        PretrainedModels(allow_download=False).resolve(include_top=False, profile="book")
    message = str(error.value)
    assert WEIGHT_FILES[False][0] in message and "not available" in message
    assert "notop_weights_path" in message and "weights='random'" in message and "ZTDL_PROFILE=fast" in message
    with pytest.raises(DataError, match="does not exist"):
        PretrainedModels(notop_weights_path=str(data_env / "nope.h5")).resolve(include_top=False, profile="book")


def test_a_wrong_weights_file_is_refused(data_env, monkeypatch):
    bogus = data_env / "xception.h5"
    bogus.parent.mkdir(parents=True, exist_ok=True)
    bogus.write_bytes(b"not the weights")
    with pytest.raises(DataError, match="md5"):
        PretrainedModels(weights_path=str(bogus)).resolve(include_top=True, profile="fast")


def test_random_weights_only_when_chosen(data_env, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(data_env / "no-keras-home"))
    fast = PretrainedModels(allow_download=False).resolve(include_top=False, profile="fast")
    assert fast["weights"] == "random" and "fast profile" in fast["origin"]
    explicit = PretrainedModels(weights="random").resolve(include_top=True, profile="book")
    assert explicit["weights"] == "random" and explicit["path"] is None
    with pytest.raises(DataError):  # weights="imagenet" never falls back, not even in the fast profile
        PretrainedModels(weights="imagenet", allow_download=False).resolve(include_top=False, profile="fast")


def test_a_local_weights_file_is_found_and_loaded(data_env, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(data_env / "no-keras-home"))
    name = WEIGHT_FILES[False][0]
    # in the storage root's cache, found without any config
    cached = data_env.parent / "cache" / "keras_models" / name  # the download cache both profiles share
    source = write_keras_weights_file(cached, seed=11)
    model, info = PretrainedModels(verify_md5=False, allow_download=False).xception(
        include_top=False, input_size=SIZE, profile="book")
    assert info["weights"] == "imagenet" and info["path"] == str(cached) and info["origin"] == "local file"
    for ours, theirs in zip(model.weights, source.weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    # an explicit path wins over the cache
    explicit = data_env / "elsewhere" / name
    other = write_keras_weights_file(explicit, seed=12)
    model, info = PretrainedModels(verify_md5=False, notop_weights_path=str(explicit)).xception(
        include_top=False, input_size=SIZE, profile="book")
    assert info["path"] == str(explicit)
    np.testing.assert_array_equal(model.weights[0].numpy(), other.weights[0].numpy())
    assert not np.array_equal(model.weights[0].numpy(), source.weights[0].numpy())


# ---------------------------------------------------------------- bottlenecks and head


@pytest.fixture(scope="module")
def pictures(mirror) -> pd.DataFrame:
    files = []
    for split, count in (("train", 4), ("test", 2)):
        for label, name in enumerate(("0_female", "1_male")):
            for path in sorted((mirror / "male_female" / split / name).iterdir())[:count]:
                files.append({"file": str(path), "split": split, "class_name": name, "label": label})
    return pd.DataFrame(files)


@pytest.fixture(scope="module")
def extracted(pictures):
    from ztdl_pipeline.core import transfer as T

    resource = PretrainedModels(weights="random", seed=3)
    runs = []
    for _ in range(2):  # two independent builds of the random network from the same seed
        base, info = resource.xception(include_top=False, input_size=SIZE, pooling="avg")
        vectors, timing = T.extract(T.pixel_features(base, SIZE), pictures.file.tolist(), SIZE, batch_size=4)
        runs.append(vectors)
    return runs, info, timing, base


def test_bottlenecks_shapes_and_determinism(extracted, pictures):
    (first, second), info, timing, _ = extracted
    assert first.shape == (len(pictures), 2048) and first.dtype == np.float32
    assert np.all(np.isfinite(first)) and first.std() > 0
    assert np.array_equal(first, second)  # same seed, same pictures -> the same vectors
    assert info["weights"] == "random" and info["params"] == 20_861_480  # the book's xception (Model) row
    assert timing["images_per_second"] > 0


def test_batching_does_not_change_vectors(extracted, pictures):
    from ztdl_pipeline.core import transfer as T

    (first, _), _, _, base = extracted
    one_by_one, _ = T.extract(T.pixel_features(base, SIZE), pictures.file.tolist()[:3], SIZE, batch_size=1)
    np.testing.assert_allclose(one_by_one, first[:3], atol=1e-4, rtol=1e-4)


def test_bottleneck_table_parquet_round_trip(extracted, pictures, tmp_path):
    import pyarrow as pa

    from ztdl_pipeline.core import transfer as T
    from ztdl_pipeline.resources.io import read_parquet, write_table

    (vectors, _), info, _, _ = extracted
    table = T.bottleneck_table(vectors, pictures, ["0_female", "1_male"],
                               {"image_size": SIZE, "resize": "bilinear", "weights": info, "profile": "fast"})
    write_table(table, tmp_path / "b.parquet")
    back = read_parquet(tmp_path / "b.parquet")
    kind = back.schema.field("bottleneck").type
    assert pa.types.is_fixed_size_list(kind) and kind.list_size == 2048 and kind.value_type == pa.float32()
    assert np.array_equal(T.vectors_of(back), vectors)
    assert back.column("file").to_pylist() == pictures.file.tolist()
    assert T.table_attrs(back)["splits"] == {"train": 8, "test": 4} and T.table_problems(back) == []
    x, y = T.split_xy(back, "test")
    assert x.shape == (4, 2048) and y.tolist() == [0, 0, 1, 1]
    broken = back.set_column(1, "label", pa.array([5] * back.num_rows, pa.int64()))
    assert T.table_problems(broken) == ["labels outside 0..1"]


def test_head_matches_the_book_and_learns(extracted, pictures):
    import pyarrow as pa

    from ztdl_pipeline.core import transfer as T
    from ztdl_pipeline.core.specs import Hyper

    assert T.head_model(2048, 3).count_params() == 32_835  # "Total params: 32,835" (L16336)
    (vectors, _), info, _, _ = extracted
    table = T.bottleneck_table(vectors, pictures, ["0_female", "1_male"],
                               {"image_size": SIZE, "resize": "bilinear", "weights": info, "profile": "fast"})
    hyper = Hyper(epochs=3, batch_size=4, optimizer="rmsprop", learning_rate=0.001, profile="fast")
    head, result = T.train_head(table, hyper)
    assert len(result["history"]["loss"]) == 3 and "val_accuracy" in result["history"]
    probabilities = head.predict(T.split_xy(table, "test")[0], verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    # on vectors that carry the class (8-d here: the head takes any width), the same network learns it
    import keras

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    separable = rng.normal(size=(200, 8)).astype(np.float32) + labels[:, None] * 3.0
    frame = pd.DataFrame({"file": [f"f{i}" for i in range(200)], "split": ["train"] * 150 + ["test"] * 50,
                          "class_name": np.where(labels == 0, "a", "b")})
    learnable = T.bottleneck_table(separable, frame, ["a", "b"], {"image_size": SIZE})
    keras.utils.set_random_seed(0)
    head, result = T.train_head(learnable, Hyper(epochs=20, batch_size=32, optimizer="rmsprop",
                                                 learning_rate=0.01))
    x, y = T.split_xy(learnable, "test")
    assert isinstance(learnable, pa.Table) and (head.predict(x, verbose=0).argmax(1) == y).mean() >= 0.9


# ---------------------------------------------------------------- image search


def test_cosine_search_and_precision_at_k_on_known_vectors():
    vectors = np.array([[1, 0, 0], [2, 0.2, 0], [0.9, -0.1, 0],   # class 0, along x
                        [0, 1, 0], [0, 3, 0.3], [0.55, 0.45, 0]],  # class 1 along y; the last leans to x
                       dtype=np.float32)
    labels = np.array([0, 0, 0, 1, 1, 1])
    index = CosineIndex.build(vectors, pd.DataFrame({"label": labels}))
    neighbours, similarity = index.neighbours_of_rows([0, 3], k=2)
    assert neighbours[0].tolist() == [1, 2] and neighbours[1].tolist() == [4, 5]
    assert similarity[0][0] == pytest.approx(2 / np.hypot(2, 0.2)) and np.all(np.diff(similarity, axis=1) <= 0)
    found, _ = index.query(np.array([[0, -5, 0]], dtype=np.float32), k=1)  # no self-exclusion for outside queries
    assert found.tolist() == [[2]]
    result = precision_at_k(index, labels, k=2)
    # row 5's 2 nearest are rows 1 (cos .83) and 0 (.77), both class 0 -> 0; every other row finds its own
    # class: row 0 -> 1, 2; row 1 -> 0, 2; row 2 -> 0, 1; row 3 -> 4, 5; row 4 -> 3, 5
    expected = np.array([1, 1, 1, 1, 1, 0.0])
    assert result["k"] == 2 and result["overall"] == pytest.approx(expected.mean())
    assert result["per_class"] == {0: pytest.approx(1.0), 1: pytest.approx(2 / 3)}
    np.testing.assert_allclose(result["per_image"], expected)


def test_index_save_and_load(tmp_path):
    vectors = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)
    rows = pd.DataFrame({"label": np.arange(10) % 2, "file": [f"{i}.jpg" for i in range(10)]})
    index = CosineIndex.build(vectors, rows)
    index.save(tmp_path / "idx")
    back = CosineIndex.load(tmp_path / "idx")
    np.testing.assert_allclose(np.linalg.norm(back.unit, axis=1), 1.0, atol=1e-6)
    assert back.rows.equals(index.rows) and np.array_equal(back.unit, index.unit)


# ---------------------------------------------------------------- export on raw bytes


def _encoded(seed: int, size: tuple[int, int], fmt: str) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def test_export_takes_raw_bytes_and_pixels(tmp_path):
    import keras
    import tensorflow as tf

    from ztdl_pipeline.core import transfer as T

    keras.utils.set_random_seed(0)
    small = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.GlobalAveragePooling2D()], name="xception_stand_in")
    model = T.classifier(T.pixel_features(small, 32), T.head_model(4, 3), "stand_in")
    signature = T.write_export(model, tmp_path / "sm", 32)
    assert signature["image_bytes"]["dtype"] == "string"
    blobs = [_encoded(1, (50, 40), "JPEG"), _encoded(2, (32, 32), "PNG"), _encoded(3, (90, 20), "PNG")]
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    served = loaded.signatures["serving_default"](image_bytes=tf.constant(blobs))["output_0"].numpy()
    pixels = np.stack([T.decode_resize(tf.constant(b), 32).numpy() for b in blobs])
    np.testing.assert_allclose(served, model.predict(pixels, verbose=0), atol=1e-5)
    np.testing.assert_allclose(loaded.serve_pixels(tf.constant(pixels)).numpy(), served, atol=1e-5)
    np.testing.assert_allclose(served.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.signatures["serving_default"](image_bytes=tf.constant([b"not an image"]))


# ---------------------------------------------------------------- ImageNet class index


def test_imagenet_class_index_and_top_k(mirror, tmp_path):
    from ztdl_pipeline.core.imagenet import read_class_index, top_k

    index = read_class_index(mirror / "keras_models" / "imagenet_class_index.json")
    assert len(index) == 1000 and index.iloc[0].tolist() == [0, "n01440764", "tench"]
    probabilities = np.zeros((1, 1000), dtype=np.float32)
    probabilities[0, [5, 999, 1]] = [0.5, 0.3, 0.2]
    ranked = top_k(probabilities, index, 3)[0]
    assert [r["name"] for r in ranked] == ["electric_ray", "toilet_tissue", "goldfish"]
    assert [r["probability"] for r in ranked] == pytest.approx([0.5, 0.3, 0.2])
    (tmp_path / "bad.json").write_text('{"0": ["n01440764", "tench"]}')
    with pytest.raises(DataError, match="expected the 1000 ImageNet classes"):
        read_class_index(tmp_path / "bad.json")
