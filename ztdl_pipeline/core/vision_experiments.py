"""The book's image-chapter experiments (ch9, ch10): many training runs, one report each.

Each `*_chapter` function takes the features and the run's resolved settings (core/profile.py: the book's
values, the fast profile's overrides, explicit run config) as keywords and returns a core/chapter.Chapter
(sections, images, metrics, UI numbers), given the run (core/chapter.Run); the assets in defs/vision/chapters.py only wrap them. The building blocks
(repeat_train, learning_curve, device_comparison, augment_samples and their plots) are below them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from ztdl_pipeline.core import images as I
from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core.chapter import Chapter, Run
from ztdl_pipeline.core.models import make_optimizer
from ztdl_pipeline.core.names import user_key
from ztdl_pipeline.core.progress import trainings
from ztdl_pipeline.core.report import markdown_table
from ztdl_pipeline.core.specs import Hyper
from ztdl_pipeline.core.training import compile_model
from ztdl_pipeline.core.vision_models import (
    DIGITS_AUGMENTATION,
    augmenter,
    build,
    cifar10_gpu_cnn,
    digits_deep,
    fit_dataset,
    predict,
)

# ---------------------------------------------------------------- book data

# ch10's variants of the base model: builder options, and the book's protocol (repeats, epochs, batch size)
DIGITS_VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "l2": {"l2": 0.005},
    "dropout": {"input_dropout": 0.1, "dropout": 0.5},
    "dropout_max_norm": {"input_dropout": 0.1, "dropout": 0.5, "max_norm": 2.0},
    "batch_norm": {"batch_norm": True},
    "augmentation": {"augmentation": DIGITS_AUGMENTATION},
}

IMPROVEMENTS_BOOK = (
    "Chapter 10 prints no number for these runs, only mean ± std curves: the base model overfits (L14085); "
    "L2 \"does not seem to improve\" (L14201); dropout gets the test score \"above the base model for the "
    "first time (although not by much)\" with train below test (L14298); max-norm is \"not qualitatively "
    "different\" (L14375); batch norm overfits \"a lot less\" (L14506); augmentation \"improved the "
    "performance … on our test set\" (L14820).")

# The book's table (L13195–13348): device, seconds of epochs 1 and 2, total seconds (2 epochs, batch 1024)
BOOK_DEVICES = [("CPU", (31, 29), 60.376), ("1 GPU", (6, 4), 9.329),
                ("2 GPUs, multi_gpu_model, batch 2048", (4, 2), 6.800)]

DEVICES_NOTES = (
    "The first epoch includes tracing (and on a GPU the transfer of the model), as the book notes "
    "(L13258). Mixed precision (float16 compute, float32 softmax) is used on GPUs when the compute resource "
    "enables it; the CPU runs float32. Data parallelism uses tf.distribute.MirroredStrategy with the global "
    "batch scaled by the number of replicas (the book's multi_gpu_model is gone from Keras).")


# ---------------------------------------------------------------- chapter experiments


def digits_learning_curve_chapter(features, *, fractions: Sequence[float], epochs: int, batch_size: int, seed: int,
                                  card, run: Run) -> Chapter:
    """ch10: the small digits network (`card`: digits_small_fc's) trained on growing shares of the train split."""
    example = card
    profile, log = run.profile, run.log
    hyper = Hyper(epochs=epochs, batch_size=batch_size, optimizer="adam", learning_rate=0.001)
    train_xy, test_xy = I.split_arrays(features, "train"), I.split_arrays(features, "test")
    log(f"learning curve over {list(fractions)} of {len(train_xy[0])} digits, {epochs} epochs")
    if run.seed_fn:
        run.seed_fn(seed)
    model = build(example, I.table_attrs(features), hyper, run.jit_compile)
    points = learning_curve(model, train_xy, test_xy, fractions=fractions, epochs=epochs, batch_size=batch_size,
                            n_classes=10, seed=seed, progress=trainings("learning curve", len(fractions), log))
    table = markdown_table(["train images", "train accuracy (subset)", "test accuracy"],
                           [[p["train_size"], p["train_accuracy"], p["test_accuracy"]] for p in points])
    sections = [
        ("Learning curve", table),
        ("The book", ("Plot only: train sizes [125, 377, 628, 879, 1131] (L13781); \"the test score would "
                      "keep improving if we added more data\" (L13891).")),
        ("Settings", (f"Profile {profile}: {epochs} epochs per size (book 100), batch {batch_size}, "
                      "adam. Before each size the model goes back to its initial weights (the optimizer "
                      "keeps its state, as in the book); subsets are stratified "
                      "train_test_split(train_size=n, random_state=0), as the book's.")),
        ("Source", "book ch10.digits_learning_curve (L13742–13891)")]
    images = {"learning_curve": learning_curve_plot(points, "digits: accuracy vs training images")}
    return Chapter("ch10 digits learning curve", sections, images,
                   {"profile": profile, "epochs": epochs, "points": points},
                   {f"test_accuracy_{p['train_size']}": p["test_accuracy"] for p in points})


def digits_improvements_chapter(features, *, variants: Sequence[str], base_repeats: int, repeats: int, epochs: int,
                                batch_size: int, batch_norm_epochs: int, batch_norm_batch_size: int,
                                augmentation_steps_per_epoch: int, images: int, seed: int, run: Run) -> Chapter:
    """ch10: the 3×1024 base model and its regularized variants, each trained `repeats` times (the base
    `base_repeats` times) on the first `images` training digits (0: all), validated on the test split."""
    profile, log, jit_compile, seed_fn = run.profile, run.log, run.jit_compile, run.seed_fn
    train_xy, test_xy = I.split_arrays(features, "train"), I.split_arrays(features, "test")
    if images:
        train_xy = (train_xy[0][:images], train_xy[1][:images])
    results: dict[str, dict] = {}
    progress = trainings("digits improvements", sum(base_repeats if v == "base" else repeats for v in variants), log)
    for variant in variants:
        batch_norm, augmented = variant == "batch_norm", variant == "augmentation"
        runs = base_repeats if variant == "base" else repeats
        variant_epochs = batch_norm_epochs if batch_norm else epochs
        options = DIGITS_VARIANTS[variant]

        def build_variant(options=options, name=f"digits_{variant}"):
            return compile_model(digits_deep((8, 8), **options, name=name), make_optimizer("adam", 0.001),
                                 "categorical_crossentropy", ["accuracy"], jit_compile=jit_compile)

        log(f"{variant}: {runs} runs × {variant_epochs} epochs")
        results[variant] = repeat_train(
            build_variant, train_xy, test_xy, repeats=runs, epochs=variant_epochs, n_classes=10, seed=seed,
            batch_size=batch_norm_batch_size if batch_norm else batch_size,
            steps_per_epoch=augmentation_steps_per_epoch if augmented else 0, seed_fn=seed_fn, progress=progress,
            label=variant)
        results[variant]["options"] = dict(options)

    def mean_std(values) -> str:
        return f"{np.mean(values):.4f} ± {np.std(values):.4f}"

    rows = [[name, r["repeats"], r["epochs"], r["batch_size"], mean_std(r["final_train"]),
             mean_std(r["final_test"]), f"{np.mean(r['final_test']) - np.mean(r['final_train']):+.4f}",
             f"{r['seconds']:.1f}"] for name, r in results.items()]
    header = ["variant", "runs", "epochs", "batch", "train accuracy", "test accuracy", "test − train",
              "seconds"]
    sections = [
        ("Variants (final epoch, mean ± std over runs)", markdown_table(header, rows)),
        ("The book", IMPROVEMENTS_BOOK),
        ("Settings", (f"Profile {profile}, {len(train_xy[0])} training digits. Adam, categorical "
                      "cross-entropy, validated on the 540 test digits every epoch (the book's "
                      "validation_data). L2 0.005; dropout 0.1 on the input, 0.5 after each hidden layer; "
                      "max-norm 2.0; batch norm before each relu and on the logits; augmentation: shift 0.1, "
                      "rotation 10°, zoom 0.1, constant fill (Keras preprocessing layers; "
                      "ImageDataGenerator's shear of 0.1° left out), 5 steps of 256 per epoch.")),
        ("Source", "book ch10.digits_base_model … digits_augmentation (L13893–14820)")]
    plots = {"accuracy_curves": mean_std_curves(results, "digits: train (dashed) and test accuracy, mean ± std")}
    metadata: dict[str, Any] = {}
    for name, r in results.items():
        metadata[f"{name}_test_mean"] = float(np.mean(r["final_test"]))
        metadata[f"{name}_train_mean"] = float(np.mean(r["final_train"]))
    return Chapter("ch10 digits: regularization, batch norm, augmentation", sections, plots,
                   {"profile": profile, "variants": results}, metadata)


def squirrel_chapter(raw, *, shift: float, rotation_degrees: float, zoom: float, horizontal_flip: bool, size: int,
                     count: int, seed: int, run: Run | None = None) -> Chapter:
    """ch10's augmentation demo: `count` random augmentations of the generator/ folder's picture."""
    I.verify_files(raw, user_key("raw", "generator"))
    classes = sorted(raw.class_name.unique())
    picture = I.decode_image(raw.file.iloc[0], (size, size))
    augmentation = {"shift": shift, "rotation_degrees": rotation_degrees, "zoom": zoom,
                    "horizontal_flip": horizontal_flip}
    samples = augment_samples(picture, augmentation, count, seed)
    images = {"augmented": I.image_grid(list(samples), [f"#{i + 1}" for i in range(len(samples))],
                                        "random augmentations (training=True)"),
              "original": I.image_grid([picture], ["original"], f"{size}×{size}", columns=1)}
    changed = float((samples != picture[None]).mean())
    sections = [
        ("Found", (f"Found {len(raw)} images belonging to {len(classes)} classes (book L14575: \"Found 1 "
                   "images belonging to 1 classes.\").")),
        ("Augmentation", f"{json.dumps(augmentation)}; {changed:.1%} of the pixels differ from the original"),
        ("Source", "book ch10.squirrel_augmentation_demo (L14508–14590)")]
    return Chapter("ch10 augmentation demo", sections, images,
                   {"images": len(raw), "classes": classes, "augmentation": augmentation,
                    "count": len(samples), "changed_pixel_share": changed},
                   {"changed_pixel_share": changed, "augmented_images": len(samples)})


def cifar10_devices_chapter(features, *, epochs: int, batch_size: int, optimizer: str, devices: Sequence[str],
                            images: int, seed: int, run: Run) -> Chapter:
    """ch9: the CIFAR-10 CNN timed on each device (`devices`; empty: the CPU and, when the run's device lists
    one, the first GPU), then data-parallel when the run's strategy holds several replicas; the first `images`
    training images (0: all)."""
    profile, log, device = run.profile, run.log, run.device
    x, y = I.split_arrays(features, "train")  # the book times the 50,000 training images
    if images:
        x, y = x[:images], y[:images]
    devices = list(devices) or ["cpu:0", *(["gpu:0"] if device["gpus"] else [])]

    def build_model():
        return compile_model(cifar10_gpu_cnn((32, 32, 3)), make_optimizer(optimizer, 0.001),
                             "categorical_crossentropy", ["accuracy"], jit_compile=run.jit_compile)

    log(f"timing {len(x)} images × {epochs} epochs, batch {batch_size}, on {devices} "
        f"(+ MirroredStrategy if {device['replicas']} replicas > 1)")
    rows = device_comparison(build_model, x, y, devices=devices, epochs=epochs, batch_size=batch_size,
                             n_classes=10, seed=seed, mixed_precision=device["mixed_precision"],
                             strategy=run.strategy, seed_fn=run.seed_fn, log=log)
    cpu = next((r for r in rows if r["device"].startswith("cpu")), rows[0])
    ours = markdown_table(
        ["device", "replicas", "batch", "precision", "seconds per epoch", "total s", "images/s (last epoch)",
         "speed-up vs CPU", "final loss", "final accuracy"],
        [[r["device"], r["replicas"], r["batch_size"], r["precision"],
          ", ".join(f"{s:.2f}" for s in r["epoch_seconds"]), r["seconds"], r["images_per_second_last_epoch"],
          f"{r['images_per_second_last_epoch'] / cpu['images_per_second_last_epoch']:.2f}×", r["final_loss"],
          r["final_accuracy"]] for r in rows])
    book = markdown_table(
        ["device (book)", "epoch 1 s", "epoch 2 s", "total s", "images/s (epoch 2)", "speed-up"],
        [[name, e[0], e[1], total, round(50000 / e[1]), f"{BOOK_DEVICES[0][1][1] / e[1]:.1f}×"]
         for name, e, total in BOOK_DEVICES])
    measured = f"Profile {profile}: {len(x)} images, {epochs} epoch(s), batch {batch_size}. "
    if not device["gpus"]:
        measured += ("No GPU is visible to TensorFlow here, so only the CPU (and, with several logical "
                     "devices, the MirroredStrategy) rows were measured. ")
    sections = [("Ours", ours), ("The book (50,000 images, batch 1024, 2 epochs)", book),
                ("Notes", measured + DEVICES_NOTES),
                ("Source", "book ch9.cifar10_cpu_vs_gpu, cifar10_multi_gpu_data_parallel (L13084–13371)")]
    book_rows = [{"device": n, "epoch_seconds": list(e), "total_seconds": t} for n, e, t in BOOK_DEVICES]
    return Chapter("ch9 CIFAR-10: CPU vs GPU vs several devices", sections, {},
                   {"profile": profile, "images": len(x), "epochs": epochs, "rows": rows, "book": book_rows,
                    "compute": dict(device)},
                   {f"{r['device']} images/s": r["images_per_second_last_epoch"] for r in rows})


# ---------------------------------------------------------------- building blocks


def repeat_train(build_model: Callable[[], keras.Model], train_xy, test_xy, *, repeats: int, epochs: int,
                 batch_size: int, n_classes: int, seed: int, seed_fn: Callable[[int], None] | None = None,
                 steps_per_epoch: int = 0, progress=None, label: str = "") -> dict[str, Any]:
    """The book's repeat_train: `repeats` fresh models, validated on the test set every epoch; mean and std
    over repeats of the train and test accuracy per epoch. `progress` (core/progress.trainings) counts each
    model as it ends."""
    runs = []
    for repeat in range(repeats):
        if seed_fn:
            seed_fn(seed + repeat)
        model = build_model()
        batches = I.dataset(*train_xy, batch_size=batch_size, n_classes=n_classes, shuffle=True,
                            seed=seed + repeat, repeat=bool(steps_per_epoch))
        result = fit_dataset(model, batches, epochs=epochs, steps_per_epoch=steps_per_epoch,
                             images_per_epoch=steps_per_epoch * batch_size or len(train_xy[0]),
                             validation=I.dataset(*test_xy, batch_size=1024, n_classes=n_classes))
        runs.append(result)
        if progress is not None:
            progress.tick(f"{label} run {repeat + 1}/{repeats}".strip())
    train_acc = np.array([r["history"]["accuracy"] for r in runs])
    test_acc = np.array([r["history"]["val_accuracy"] for r in runs])
    return {"repeats": repeats, "epochs": epochs, "batch_size": batch_size,
            "steps_per_epoch": steps_per_epoch,
            "train_mean": train_acc.mean(0).tolist(), "train_std": train_acc.std(0).tolist(),
            "test_mean": test_acc.mean(0).tolist(), "test_std": test_acc.std(0).tolist(),
            "final_train": train_acc[:, -1].tolist(), "final_test": test_acc[:, -1].tolist(),
            "seconds": round(sum(r["seconds"] for r in runs), 2)}


def learning_curve(model: keras.Model, train_xy, test_xy, *, fractions: Sequence[float], epochs: int,
                   batch_size: int, n_classes: int, seed: int, progress=None) -> list[dict[str, Any]]:
    """ch10: train on growing stratified subsets of the train split, each time reset to the same initial
    weights (the book's model.set_weights(initial_weights)); accuracy on the subset and on the test split.
    `progress` (core/progress.trainings) counts each subset's training as it ends."""
    from sklearn.model_selection import train_test_split

    x, y = train_xy
    initial = model.get_weights()
    points = []
    for size in (len(x) * np.asarray(fractions)).astype(int):
        rows, _ = train_test_split(np.arange(len(x)), train_size=int(size), random_state=0, stratify=y)
        model.set_weights(initial)
        batches = I.dataset(x[rows], y[rows], batch_size=batch_size, n_classes=n_classes, shuffle=True,
                            seed=seed)
        fit_dataset(model, batches, epochs=epochs, images_per_epoch=len(rows))
        points.append({"train_size": int(size),
                       "train_accuracy": M.accuracy(y[rows], predict(model, x[rows])),
                       "test_accuracy": M.accuracy(test_xy[1], predict(model, test_xy[0]))})
        if progress is not None:
            progress.tick(f"{int(size)} images")
    return points


def mean_std_curves(results: Mapping[str, Mapping[str, Any]], title: str) -> bytes:
    """The book's plot_mean_std: per variant, train (dashed) and test accuracy per epoch with ±1 std bands."""
    import matplotlib.pyplot as plt

    from ztdl_pipeline.core.plots import _png

    columns = min(3, len(results))
    rows = -(-len(results) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False, sharey=True)
    for ax in axes.ravel()[len(results):]:
        ax.axis("off")
    for ax, (name, result) in zip(axes.ravel(), results.items()):
        epochs = np.arange(1, len(result["train_mean"]) + 1)
        for key, style in (("train", "--"), ("test", "-")):
            mean, std = np.asarray(result[f"{key}_mean"]), np.asarray(result[f"{key}_std"])
            ax.plot(epochs, mean, style, label=key)
            ax.fill_between(epochs, mean - std, mean + std, alpha=0.2)
        ax.set_title(f"{name} ({result['repeats']} runs)")
        ax.set_xlabel("epoch")
        ax.legend(loc="lower right")
    fig.suptitle(title)
    return _png(fig)


def learning_curve_plot(points: Sequence[Mapping[str, Any]], title: str) -> bytes:
    import matplotlib.pyplot as plt

    from ztdl_pipeline.core.plots import _png

    fig, ax = plt.subplots(figsize=(5.5, 4))
    sizes = [p["train_size"] for p in points]
    ax.plot(sizes, [p["train_accuracy"] for p in points], "o--", label="train (subset)")
    ax.plot(sizes, [p["test_accuracy"] for p in points], "o-", label="test")
    ax.set_xlabel("training images")
    ax.set_ylabel("accuracy")
    ax.legend()
    ax.set_title(title)
    return _png(fig)


# ---------------------------------------------------------------- ch9: devices


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build models under a dtype policy (e.g. float32 for a CPU run while the GPU runs mixed_float16)."""
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def device_comparison(build_model: Callable[[], keras.Model], x: np.ndarray, y: np.ndarray, *,
                      devices: Sequence[str], epochs: int, batch_size: int, n_classes: int, seed: int,
                      mixed_precision: bool = False, strategy=None,
                      seed_fn: Callable[[int], None] | None = None, log=None) -> list[dict[str, Any]]:
    """ch9: the same model trained on each device in turn (one replica, batch `batch_size`), then, when
    `strategy` holds several replicas, data-parallel with the global batch `batch_size × replicas` (the
    book's batch_size=1024*NGPU). GPUs run mixed_float16 when asked; the CPU always float32. Progress over
    the trainings goes to `log` (core/progress.trainings)."""
    runs: list[tuple[str, int, Any, str]] = [
        (device, 1, None, "mixed_float16" if mixed_precision and device.startswith("gpu") else "float32")
        for device in devices]
    replicas = getattr(strategy, "num_replicas_in_sync", 1)
    if replicas > 1:
        runs.append((f"MirroredStrategy × {replicas}", replicas, strategy, keras.config.dtype_policy().name))
    rows, progress = [], trainings("device timing", len(runs), log) if log else None
    for label, copies, scope, policy in runs:
        if seed_fn:
            seed_fn(seed)
        placement = scope.scope() if scope is not None else keras.device(label)
        with dtype_policy(policy), placement:
            model = build_model()
            batches = I.dataset(x, y, batch_size=batch_size * copies, n_classes=n_classes, shuffle=True,
                                seed=seed)
            result = fit_dataset(model, batches, epochs=epochs, images_per_epoch=len(x))
        history = result["history"]
        rows.append({"device": label, "replicas": copies, "batch_size": batch_size * copies,
                     "precision": policy, "epoch_seconds": result["epoch_seconds"], "seconds": result["seconds"],
                     "images_per_second_last_epoch": round(len(x) / result["epoch_seconds"][-1], 1),
                     "final_loss": history["loss"][-1], "final_accuracy": history["accuracy"][-1]})
        if progress is not None:
            progress.tick(label)
    return rows


def augment_samples(image: np.ndarray, augmentation: Mapping[str, Any], count: int, seed: int) -> np.ndarray:
    """`count` random augmentations of one uint8 image (the book's squirrel demo), as uint8."""
    layers = keras.Sequential(augmenter(**augmentation), name="augmentation")
    batch = np.repeat(image[None].astype("float32"), count, axis=0)
    keras.utils.set_random_seed(seed)
    out = keras.ops.convert_to_numpy(layers(batch, training=True))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
