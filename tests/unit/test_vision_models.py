"""core.vision_models: the book's image models (shapes and parameter counts against its summaries), training
from an image table through tf.data, evaluation, the raw-pixel SavedModel, and the chapter 9/10 helpers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from ztdl_pipeline.core import images as I
from ztdl_pipeline.core import refs
from ztdl_pipeline.core import vision_experiments as X
from ztdl_pipeline.core import vision_models as V
from ztdl_pipeline.core.models import trainable_params
from ztdl_pipeline.core.specs import Card

# (builder, kwargs, input shape, output units, total params, trainable params, where the number comes from)
BOOK_SUMMARIES = [
    ("mnist_fc", {}, (28, 28), 10, 570_602, 570_602, "book L8100"),
    ("mnist_cnn", {}, (28, 28), 10, 347_146, 347_146, "book L8834"),
    ("mnist_two_conv", {}, (28, 28), 10, 61_482, 61_482, "book L22069"),
    ("cifar10_cnn", {}, (32, 32, 3), 10, 1_250_858, 1_250_858, "book L22234"),
    ("male_female_cnn", {"augmentation": {"shift": 0.1, "rotation_degrees": 10, "zoom": 0.2,
                                          "horizontal_flip": True}},
     (64, 64, 3), 1, 352_129, 351_809, "book L23546–23548"),
    # counted from the book's layer lists (its summaries for these are not printed)
    ("cifar10_gpu_cnn", {}, (32, 32, 3), 10, 896 + 9_248 + 15 * 15 * 32 * 512 + 512 + 5_130, None, "ch9 layers"),
    ("mnist_2500_mlp", {}, (28, 28), 10, 784 * 50 + 50 + 50 * 50 + 50 + 50 * 10 + 10, None, "DataCamp layers"),
    ("digits_small_fc", {}, (8, 8), 10, 64 * 16 + 16 + 16 * 10 + 10, None, "ch10 layers"),
    ("digits_deep", {}, (8, 8), 10, 64 * 1024 + 1024 + 2 * (1024 * 1024 + 1024) + 10_250, None, "ch10 base"),
    ("digits_deep", {"batch_norm": True}, (8, 8), 10, 2_176_010 + 4 * (3 * 1024 + 10), 2_176_010 + 2 * (3 * 1024 + 10),
     "ch10 batch norm: 4 numbers per unit, 2 trainable"),
]


@pytest.mark.parametrize("name,kwargs,shape,units,total,trainable,where", BOOK_SUMMARIES,
                         ids=[f"{b[0]}{'_bn' if b[1].get('batch_norm') else ''}" for b in BOOK_SUMMARIES])
def test_builder_shapes_and_parameter_counts(name, kwargs, shape, units, total, trainable, where):
    model = refs.resolve(f"ztdl_pipeline.core.vision_models:{name}")(shape, **kwargs)
    (image,) = model.inputs
    assert image.dtype == "uint8" and tuple(image.shape) == (None, *shape)
    assert tuple(model.outputs[0].shape) == (None, units)
    assert model.count_params() == total, where
    assert trainable_params(model) == (trainable if trainable is not None else total), where


def test_layer_shapes_follow_the_books_summaries():
    cnn = V.mnist_cnn()
    conv = next(layer for layer in cnn.layers if isinstance(layer, keras.layers.Conv2D))
    flatten = next(layer for layer in cnn.layers if isinstance(layer, keras.layers.Flatten))
    assert tuple(conv.output.shape) == (None, 26, 26, 32) and tuple(flatten.output.shape) == (None, 5408)  # L8819
    two = V.mnist_two_conv()
    assert [c.count_params() for c in two.layers if isinstance(c, (keras.layers.Conv2D, keras.layers.Dense))] == [
        320, 9248, 51264, 650]  # L22060–22069
    cifar = V.cifar10_cnn()
    assert [c.count_params() for c in cifar.layers if isinstance(c, (keras.layers.Conv2D, keras.layers.Dense))] == [
        896, 9248, 18496, 36928, 1180160, 5130]  # L22216–22234


def test_output_stays_float32_under_mixed_precision():
    with X.dtype_policy("mixed_float16"):
        model = V.mnist_cnn()
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert dense[0].compute_dtype == "float16"  # the body computes in float16 ...
    assert dense[-1].compute_dtype == "float32" and model.outputs[0].dtype == "float32"  # ... the softmax does not
    assert keras.config.dtype_policy().name == "float32"  # restored


def test_augmentation_is_active_only_in_training():
    model = V.male_female_cnn(augmentation={"shift": 0.1, "rotation_degrees": 10, "zoom": 0.2, "horizontal_flip": True})
    names = [layer.name for layer in model.layers]
    assert names[:6] == ["image", "rescale", "random_shift", "random_rotation", "random_zoom", "random_flip"]
    x = {"image": np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3)).astype("uint8")}
    rescaled = keras.Model(model.inputs, model.get_layer("random_flip").output)
    inference = [keras.ops.convert_to_numpy(rescaled(x, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    np.testing.assert_allclose(inference[0], x["image"] / 255.0, atol=1e-6)  # raw uint8 in, rescaled, unchanged
    training = keras.ops.convert_to_numpy(rescaled(x, training=True))
    assert np.abs(training - inference[0]).mean() > 0.01


# ---------------------------------------------------------------- train, evaluate, export on a small table


def _digit_table(limit_train: int = 600):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.data.reshape(-1, 8, 8).astype("uint8")
    splits = I.stratified_split(digits.target, 0.3, 0)
    rows = np.flatnonzero(splits == "train")[:limit_train].tolist() + np.flatnonzero(splits == "test").tolist()
    return I.image_table(images[rows], digits.target[rows], splits[rows], {"classes": list(range(10))})


EXAMPLE = Card(name="digits_small_fc", dataset="digits", title="t", source="s", builder="ztdl_pipeline.core.vision_models:digits_small_fc",
                         loss="categorical_crossentropy", fast_floor=0.5)


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    table = _digit_table()
    hyper = V.VisionHyper(epochs=8, batch_size=32, optimizer="adam", learning_rate=0.01, validation_split=0.2,
                          profile="fast")
    epochs_seen = []
    model = V.train(EXAMPLE, table, hyper, on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch))
    return model, table, epochs_seen


def test_training_streams_the_table_and_records_what_it_did(trained):
    model, _, epochs_seen = trained
    assert epochs_seen == list(range(1, 9))
    info = model.info
    assert info["train_rows"] == 480 and info["validation_rows"] == 120  # Keras' rule: the last 20 % held out
    assert len(info["epoch_seconds"]) == 8 and info["samples_per_second"] > 0
    assert set(model.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert model.history["loss"][-1] < model.history["loss"][0]


def test_evaluate_reports_loss_accuracy_and_misclassified(trained):
    model, table, _ = trained
    metrics = V.evaluate(EXAMPLE, model, table)
    test = metrics["test"]
    assert test["n"] == 540 and np.asarray(test["confusion_matrix"]).sum() == 540
    assert test["accuracy"] > 0.8  # 8 epochs on 480 digits: clearly learned
    assert test["loss"] == pytest.approx(float(model.model.evaluate(
        I.dataset(*I.split_arrays(table, "test"), batch_size=540, n_classes=10), verbose=0)[0]), rel=1e-3)
    wrong = test["misclassified"]
    assert len(wrong) == min(16, round((1 - test["accuracy"]) * 540))
    _, labels = I.split_arrays(table, "test")
    assert all(labels[w["row"]] == w["true"] != w["predicted"] for w in wrong)
    classes = sorted({w["true"] for w in wrong})
    assert sorted(w["true"] for w in wrong[:len(classes)]) == classes  # each class's first mistake comes first
    images = V.report_images(EXAMPLE, model, table, metrics)
    assert set(images) == {"learning_curves", "confusion_matrix", "misclassified"}
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    markdown = V.report_markdown(EXAMPLE, model, metrics, images, threshold=0.5, embed=False)
    assert "| test | 540 |" in markdown and "(misclassified.png)" in markdown and "uint8 8×8" in markdown


def test_savedmodel_takes_raw_uint8_images(trained, tmp_path):
    import tensorflow as tf

    from ztdl_pipeline.core.export import write_savedmodel

    model, table, _ = trained
    signature = V.signature(table)
    assert signature == {"image": {"column": "image", "dtype": "uint8", "shape": [None, 8, 8]}}
    write_savedmodel(model.model, signature, tmp_path / "1")
    served = tf.saved_model.load(str(tmp_path / "1")).signatures["serving_default"]
    spec = served.structured_input_signature[1]["image"]
    assert spec.dtype == tf.uint8 and spec.shape.as_list() == [None, 8, 8]
    assert V.verify_export(tmp_path / "1", model, table) < 1e-5
    other = V.digits_small_fc()  # an untrained model: the check must notice
    with pytest.raises(ValueError, match="disagrees with the trained model on 256 test images"):
        V.verify_export(tmp_path / "1", type(model)(model=other, history={}, info={}), table)
    assert V.describe_outputs(table) == {"output_0": "class probabilities", "classes": list(range(10))}


def test_repeat_train_and_learning_curve():
    table = _digit_table(300)
    train_xy, test_xy = I.split_arrays(table, "train"), I.split_arrays(table, "test")

    def build():
        model = V.digits_small_fc()
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        return model

    result = X.repeat_train(build, train_xy, test_xy, repeats=2, epochs=2, batch_size=64, n_classes=10, seed=3,
                            seed_fn=keras.utils.set_random_seed)
    assert result["repeats"] == 2 and len(result["train_mean"]) == len(result["test_std"]) == 2
    assert len(result["final_test"]) == 2 and result["final_test"][0] != result["final_test"][1]  # two seeds
    assert result["test_mean"][-1] == pytest.approx(np.mean(result["final_test"]))
    keras.utils.set_random_seed(0)
    small = V.digits_small_fc()
    small.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    points = X.learning_curve(small, train_xy, test_xy, fractions=[0.2, 0.9], epochs=2, batch_size=32,
                              n_classes=10, seed=0)
    assert [p["train_size"] for p in points] == [60, 270]
    assert all(0 <= p["test_accuracy"] <= 1 for p in points)
    png = X.mean_std_curves({"small": result}, "t")
    assert png.startswith(b"\x89PNG")


def test_squirrel_augmentations_differ(mirror):
    picture = I.decode_image(mirror / "generator" / "class_0" / "squirrel.jpeg", (32, 32))
    samples = X.augment_samples(picture, {"shift": 0.1, "rotation_degrees": 20, "zoom": 0.3,
                                          "horizontal_flip": True}, 4, seed=0)
    assert samples.shape == (4, 32, 32, 3) and samples.dtype == np.uint8
    assert len({s.tobytes() for s in samples}) == 4 and not any(np.array_equal(s, picture) for s in samples)


# ---------------------------------------------------------------- several devices, in a fresh process


def test_two_logical_cpus_train_a_vision_model_and_time_devices():
    """The MirroredStrategy path of TensorFlowCompute, exercised on two logical CPUs as tests/unit/test_compute
    does: the model asset's training and the ch9 device comparison."""
    script = textwrap.dedent("""
        import json
        from ztdl_pipeline.resources.compute import TensorFlowCompute
        compute = TensorFlowCompute(device="cpu", logical_cpus=2)
        description = compute.setup()
        from ztdl_pipeline.core import vision_models as V
        from ztdl_pipeline.core.images import split_arrays
        from ztdl_pipeline.core.training import compile_model
        from tests.unit.test_vision_models import EXAMPLE, _digit_table
        table = _digit_table(400)
        hyper = V.VisionHyper(epochs=3, batch_size=32, optimizer="adam", learning_rate=0.01, profile="fast",
                              validation="test")
        strategy = compute.strategy()  # one strategy per process (see the README's Vision section)
        trained = V.train(EXAMPLE, table, hyper, strategy=strategy, seed_fn=compute.seed_everything)
        def build():
            return compile_model(V.digits_small_fc(), V.make_optimizer("adam", 0.01), "categorical_crossentropy",
                                 ["accuracy"])
        x, y = split_arrays(table, "train")
        from ztdl_pipeline.core.vision_experiments import device_comparison
        rows = device_comparison(build, x, y, devices=["cpu:0"], epochs=2, batch_size=32, n_classes=10, seed=0,
                                   strategy=strategy, seed_fn=compute.seed_everything)
        print(json.dumps({"replicas": description["replicas"], "model_replicas": trained.info["replicas"],
                          "losses": trained.history["loss"], "val": trained.history["val_accuracy"],
                          "rows": rows}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
                          cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2 and out["model_replicas"] == 2
    assert all(np.isfinite(out["losses"])) and out["losses"][-1] < out["losses"][0]
    assert out["val"][-1] > 0.5  # two replicas learn what one does
    cpu, mirrored = out["rows"]
    assert (cpu["device"], cpu["replicas"], cpu["batch_size"]) == ("cpu:0", 1, 32)
    assert (mirrored["device"], mirrored["replicas"], mirrored["batch_size"]) == ("MirroredStrategy × 2", 2, 64)
    assert all(r["images_per_second_last_epoch"] > 0 and r["precision"] == "float32" for r in out["rows"])


def test_definitions_import_no_tensorflow_or_keras():
    code = ("import sys, json, ztdl_pipeline.definitions as d; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
