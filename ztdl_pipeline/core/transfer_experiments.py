"""Chapter 11's steps as the transfer assets' one call each: Xception bottlenecks of a picture index, the
models trained on them or on the pictures (head, end-to-end, fine-tuned), the zero-shot ImageNet report and
the image-search report. Xception comes in as a callable (`xception(include_top=, input_size=, pooling=,
profile=) -> (model, weights info)`, the pretrained resource's method), so nothing here knows resources.

Keras/TensorFlow are imported at module level (through core/transfer.py): import this module lazily.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.core import images as I
from ztdl_pipeline.core import transfer as T
from ztdl_pipeline.core.chapter import Chapter, Run
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.models import make_optimizer
from ztdl_pipeline.core.names import user_key
from ztdl_pipeline.core.report import markdown_table

Xception = Callable[..., tuple[Any, dict[str, Any]]]


def bottlenecks(raw: pd.DataFrame, name: str, raw_name: str, xception: Xception, *, image_size: int, batch_size: int,
                resize: str, train_images: int, test_images: int, seed: int, run: Run
                ) -> tuple[pa.Table, dict[str, Any]]:
    """features/<name>_bottlenecks: the pictures raw/<raw_name> lists (at most `train_images` / `test_images`
    per split, class-stratified; 0: all), train first, through Xception at `image_size`; the table and the
    numbers its asset shows."""
    I.verify_files(raw, user_key("raw", raw_name))
    index = raw[raw.split.isin(I.SPLITS)].reset_index(drop=True)
    if index.empty:
        raise DataError(user_key("raw", raw_name), "lists no pictures in train/ or test/",
                        f"rematerialize {user_key('raw', raw_name)}")
    classes = sorted(index.class_name.unique())
    labels = index.class_name.map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
    limits = {split: n for split, n in (("train", train_images), ("test", test_images)) if n}
    rows = I.sample_rows(index.split.to_numpy(object), labels, limits, seed)
    index = index.iloc[rows].reset_index(drop=True)
    index = pd.concat([index[index.split == "train"], index[index.split == "test"]], ignore_index=True)
    base, weights = xception(include_top=False, input_size=image_size, pooling="avg", profile=run.profile)
    if weights["weights"] == "random":
        run.log(f"{user_key('features', name + '_bottlenecks')}: RANDOM Xception weights ({weights['origin']})")
    vectors, timing = T.extract(T.pixel_features(base, image_size), index.file.tolist(), image_size,
                                batch_size=batch_size, method=resize, log=run.log)
    table = T.bottleneck_table(vectors, index, classes, {
        "dataset": name, "source": f"raw/{raw_name}", "profile": run.profile, "image_size": image_size,
        "resize": resize, "weights": weights, "timing": timing, "device": run.device})
    return table, {
        "rows": table.num_rows, "rows_train": float((index.split == "train").sum()),
        "rows_test": float((index.split == "test").sum()), "dim": float(vectors.shape[1]),
        "images_per_second": float(timing["images_per_second"]), "seconds": float(timing["seconds"]),
        "image_size": float(image_size), "batch_size": float(batch_size), "classes": json.dumps(classes),
        "weights": ("RANDOM (weights=None) — " if weights["weights"] == "random" else "imagenet — ")
        + str(weights["origin"]), "device": json.dumps(run.device), "vector mean": float(vectors.mean())}


def base_for(xception: Xception, features: pa.Table, run: Run):
    """An Xception base with the weights the bottlenecks were computed with (refuses a mismatch)."""
    attrs = T.table_attrs(features)
    base, weights = xception(include_top=False, input_size=attrs["image_size"], pooling="avg",
                             profile=attrs["profile"])
    if weights["weights"] != attrs["weights"]["weights"]:
        raise DataError("features", f"the bottlenecks were computed with {attrs['weights']['weights']} weights "
                                    f"but the pretrained resource now gives {weights['weights']}",
                        "rematerialize the features")
    if weights["weights"] == "random":
        run.log(f"RANDOM Xception weights ({weights['origin']})")
    return base, attrs


def _epoch_log(run: Run, total: int):
    """The model asset's per-epoch hook (progress lines, TensorBoard), else progress lines to the run's log."""
    from ztdl_pipeline.core.tracking import EpochLog

    return run.on_epoch_end or EpochLog("training", total, run.log)


def train_head(features: pa.Table, example, hyper, xception: Xception, run: Run, name: str):
    """models/<set>_bottleneck_head: the small network trained on the bottleneck vectors, saved joined to
    Xception as one model of raw pixels; (trained model, the numbers its asset shows)."""
    if run.seed_fn:
        run.seed_fn(hyper.seed)
    head, result = T.train_head(features, hyper, jit_compile=run.jit_compile,
                                on_epoch_end=_epoch_log(run, hyper.epochs), backup_dir=run.backup_dir)
    base, attrs = base_for(xception, features, run)
    model = T.classifier(T.pixel_features(base, attrs["image_size"]), head, f"{name}_xception_classifier")
    info = T.trained_info("head", example, hyper, head, features, result,
                          {"device": run.device, "details": {"head parameters": int(head.count_params())}})
    return T.make_trained(model, result["history"], info), {
        **{f"final_{k}": float(v[-1]) for k, v in result["history"].items()}, "epochs": hyper.epochs,
        "profile": hyper.profile, "head_params": float(head.count_params()),
        "training_seconds": result["seconds"], "samples_per_second": result["samples_per_second"] or 0.0,
        "weights": attrs["weights"]["weights"]}


def train_image_model(features: pa.Table, start, example, hyper, xception: Xception, run: Run, *, kind: str,
                      steps_per_epoch: int, augmentation: bool, split_layer: int | None = None):
    """models/<set>_transfer_end_to_end (frozen Xception + dense head on augmented pictures) or, from its
    trained `start`, models/<set>_fine_tuned (the top blocks unfrozen); (trained model, UI numbers)."""
    if run.seed_fn:
        run.seed_fn(hyper.seed)
    attrs = T.table_attrs(features)
    details: dict[str, Any] = {"steps per epoch": steps_per_epoch, "augmentation": json.dumps(
        T.BOOK_AUGMENTATION if augmentation else {})}
    if start is not None:  # fine-tuning continues from the end-to-end model, as sol.ch11.ex3's stage 2
        model = start.model
        details.update(T.unfreeze_top(model, split_layer))
    else:
        base, attrs = base_for(xception, features, run)
        model = T.transfer_model(base, attrs["image_size"], len(attrs["classes"]),
                                 T.BOOK_AUGMENTATION if augmentation else None)
    optimizer = make_optimizer(hyper.optimizer, hyper.learning_rate, hyper.momentum)
    result = T.train_on_images(model, features, hyper, size=attrs["image_size"], steps_per_epoch=steps_per_epoch,
                               optimizer=optimizer, method=attrs["resize"], jit_compile=run.jit_compile,
                               on_epoch_end=_epoch_log(run, hyper.epochs), backup_dir=run.backup_dir)
    info = T.trained_info(kind, example, hyper, model, features, result, {"device": run.device, "details": details})
    return T.make_trained(model, result["history"], info), {
        **{f"final_{k}": float(v[-1]) for k, v in result["history"].items()}, "epochs": hyper.epochs,
        "steps_per_epoch": float(steps_per_epoch), "batch_size": float(hyper.batch_size), "profile": hyper.profile,
        "trainable_params": float(info["trainable_params"]), "training_seconds": result["seconds"],
        "images_per_second": result["samples_per_second"] or 0.0, "weights": attrs["weights"]["weights"]}


IMAGE_OPTIONS = ("steps_per_epoch", "augmentation", "split_layer")  # a pixels model's settings beyond Hyper


def train(card, features: pa.Table, start, hyper, values: dict[str, Any], xception: Xception, run: Run):
    """models/<card>: the card's `kind` trained (head on the bottlenecks; end_to_end or fine_tuned, from the
    trained `start`, on the pictures, with the run's IMAGE_OPTIONS from `values`); (trained, UI numbers)."""
    if card.kind == "head":
        return train_head(features, card, hyper, xception, run, card.dataset.removesuffix("_bottlenecks"))
    options = {k: v for k, v in values.items() if k in IMAGE_OPTIONS}
    return train_image_model(features, start, card, hyper, xception, run, kind=card.kind, **options)


def outputs(table: pa.Table) -> dict[str, Any]:
    """What an exported ch11 model returns (the registry records it)."""
    return {"output_0": "class probabilities", "classes": T.table_attrs(table)["classes"]}


def export_savedmodel(staged: Path, trained, features: pa.Table) -> tuple[dict, float, dict]:
    """Write the two-endpoint SavedModel (serving_default: raw image bytes; serve_pixels: uint8 pixels) into
    `staged` and verify it against the Keras model: (input signature, max difference, registry extras)."""
    from ztdl_pipeline.core import registry

    signature = T.write_export(trained.model, staged, trained.info["image_size"], trained.info["resize"])
    difference = T.verify_export(staged, trained, features)
    pixels = registry.savedmodel_signature(staged, "serve_pixels")
    return signature, difference, {
        "other_signatures": {"serve_pixels": pixels["inputs"]}, "outputs": outputs(features),
        "weights": trained.info["weights"]["weights"], "image_size": trained.info["image_size"]}


def zero_shot_chapter(photos: list[str], pictures: pd.DataFrame, class_index: pd.DataFrame, xception: Xception, *,
                      dataset_images: int, top: int, resize: str, run: Run) -> Chapter:
    """ch11.xception_imagenet_predict: Xception with its ImageNet top, top-`top` classes of the `photos` and
    the first `dataset_images` test pictures of the `pictures` index (alternating classes)."""
    import tensorflow as tf

    from ztdl_pipeline.core.imagenet import top_k

    test = pictures[pictures.split == "test"].sort_values("relative")
    files = list(photos) + test.groupby("class_name").head(max(1, dataset_images // 2)).file.tolist()[:dataset_images]
    base, weights = xception(include_top=True, input_size=299, profile=run.profile)
    model = T.pixel_features(base, 299)
    pixels = np.stack([T.decode_resize(tf.io.read_file(f), 299, resize).numpy() for f in files])
    ranked = top_k(model.predict(pixels, verbose=0), class_index, top)
    rows = [[Path(f).name, i + 1, r["wnid"], r["name"], r["probability"]]
            for f, result in zip(files, ranked) for i, r in enumerate(result)]
    grid = I.image_grid([I.decode_image(f, (160, 160), "bilinear") for f in files],
                        [f"{Path(f).name[:18]}: {r[0]['name']} {r[0]['probability']:.2f}" for f, r in zip(files, ranked)],
                        "top-1 ImageNet class" + (" (RANDOM WEIGHTS)" if weights["weights"] == "random" else ""),
                        columns=4)
    sections = [
        ("Weights", T.weights_banner(weights)),
        (f"Top-{top} ImageNet classes", markdown_table(["picture", "rank", "wnid", "class", "probability"], rows)),
        ("The book", "A beach-volleyball picture of the sports set (not in the mirror): ('n04540053', 'volleyball', "
                     "0.9431), ('n09421951', 'sandbar', 0.0213), ('n04371430', 'swimming_trunks', 0.0068) (L15753–15755). "
                     "Xception: 22,910,480 parameters (L15701)."),
        ("Settings", f"299×299 ({resize} resize), preprocess_input inside the model; parameters "
                     f"{weights['params']:,}; profile {run.profile}."),
        ("Source", "book ch11.xception_imagenet_predict (L15145–15758), sol.ch11.ex1")]
    result = {"profile": run.profile, "weights": weights,
              "predictions": {Path(f).name: r for f, r in zip(files, ranked)}}
    return Chapter("ch11 Xception zero-shot predictions", sections, {"predictions": grid}, result, {
        "pictures": float(len(files)), "params": float(weights["params"]), "weights": weights["weights"],
        **{f"top1 {Path(f).name}": r[0]["name"] for f, r in zip(files, ranked)}})


def image_search_chapter(features: pa.Table, name: str, folder: Path, *, k: int, queries_per_class: int,
                         thumbnail: int, run: Run | None = None) -> Chapter:
    """ch11.sports_image_search: a cosine index over the bottleneck vectors saved in `folder`, precision@k by
    class, and the first `queries_per_class` pictures of each class with their k nearest neighbours."""
    from ztdl_pipeline.core.image_search import CosineIndex, precision_at_k

    attrs = T.table_attrs(features)
    classes = attrs["classes"]
    rows = features.select(["label", "class_name", "split", "file"]).to_pandas()
    index = CosineIndex.build(T.vectors_of(features), rows)
    saved = index.save(folder)
    labels = rows.label.to_numpy()
    precision = precision_at_k(index, labels, k)
    queries = np.concatenate([np.flatnonzero(labels == c)[:queries_per_class] for c in range(len(classes))])
    neighbours, similarity = index.neighbours_of_rows(queries, k)
    size = (thumbnail, thumbnail)
    tiles, titles = [], []
    for q, found, sims in zip(queries, neighbours, similarity):
        tiles.append(I.decode_image(rows.file[q], size, "bilinear"))
        titles.append(f"query: {rows.class_name[q]}")
        for n, s in zip(found, sims):
            tiles.append(I.decode_image(rows.file[n], size, "bilinear"))
            titles.append(f"{rows.class_name[n][:10]} {s:.2f}")
    grid = I.image_grid(tiles, titles, f"{name}: queries (first column) and their {precision['k']} nearest "
                                       "neighbours by cosine similarity", columns=neighbours.shape[1] + 1)
    per_class = {classes[c]: v for c, v in precision["per_class"].items()}
    chance = {classes[c]: float((labels == c).sum() - 1) / max(1, len(labels) - 1) for c in range(len(classes))}
    table = markdown_table(["class", f"precision@{precision['k']}", "chance (class share)", "images"],
                           [[c, per_class[c], chance[c], int((labels == i).sum())] for i, c in enumerate(classes)]
                           + [["all", precision["overall"], None, len(labels)]])
    sections = [
        ("Weights", T.weights_banner(attrs["weights"])),
        ("Precision@k by class", table + "\n\nEvery indexed picture queries all the others (itself left out)."),
        ("Index", f"{len(labels)} unit vectors of {attrs['dim']} floats (cosine = dot product), "
                  f"{saved['vectors']} + {saved['rows']}; bottlenecks at {attrs['image_size']}×{attrs['image_size']}."),
        ("The book", "Euclidean distances between sports bottlenecks: 9 nearest to image 0 at 0, 5.35, 5.40, "
                     "5.79, ... (L16525–16533); query pictures shown as plots only."),
        ("Source", "book ch11.sports_image_search (L16366–16641)")]
    result = {"k": precision["k"], "precision_overall": precision["overall"], "precision_per_class": per_class,
              "queries": [{"row": int(q), "neighbours": [int(n) for n in found], "similarity": [float(s) for s in sims]}
                          for q, found, sims in zip(queries, neighbours, similarity)],
              "index": saved, "weights": attrs["weights"]["weights"], "profile": attrs["profile"]}
    return Chapter(f"ch11 image search: {name}", sections, {"neighbours": grid}, result, {
        f"precision_at_{precision['k']}": precision["overall"],
        **{f"precision_at_{precision['k']} {c}": v for c, v in per_class.items()},
        "indexed_images": float(len(labels)), "index_folder": str(Path(saved["vectors"]).parent),
        "weights": attrs["weights"]["weights"]})
