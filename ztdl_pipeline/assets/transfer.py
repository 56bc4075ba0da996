"""Chapter 11 (pretrained models for images) as assets (group `transfer`).

raw/<images> (an index of verified picture files: the vision group's raw/male_female, or raw/sports_images
downloaded from sports.csv's URLs) -> features/<set>_bottlenecks (Xception 2048-d vectors in parquet) ->
models/<set>_bottleneck_head (the small network on the vectors, saved as one pixels -> classes model) ->
reports + the gated export (one SavedModel on raw image bytes or uint8 pixels);
models/<set>_transfer_end_to_end (frozen Xception + Dense 256, trained on augmented pictures) ->
models/<set>_fine_tuned (top Xception blocks unfrozen); reports/<set>_image_search (cosine neighbours,
precision@k); reports/xception_zero_shot (top-5 ImageNet classes of a few photos).

Xception's weights come from the `pretrained` resource (resources/pretrained.py). Keras and TensorFlow are
imported inside asset bodies only.
"""

import dataclasses
import json
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline import datasets, settings
from ztdl_pipeline.assets import factory
from ztdl_pipeline.assets.factory import TrainingConfig
from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.specs import TabularExample
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.pretrained import PretrainedModels

GROUP = "transfer"
SPORTS_HOST = "https://multimedia-commons.s3-us-west-2.amazonaws.com/"

# image set -> the raw asset that lists its pictures (a DataFrame: file, sha256, split, class_name)
IMAGE_SETS = {"male_female": "male_female", "sports": "sports_images"}


@dataclasses.dataclass(frozen=True)
class TransferExample(TabularExample):
    raw_dataset: str = ""  # the raw asset behind the bottleneck features (factory._raw_name reads it)


# ------------------------------------------------------------------ raw


@factory.versioned_asset(key=["raw", "imagenet_class_index"], group_name=GROUP, io_manager_key="parquet_io",
          kinds={"pandas", "parquet"},
          description="keras_models/imagenet_class_index.json (byte-identical to Keras'): index, wnid, name of "
                      "the 1000 ImageNet classes")
def imagenet_class_index(context: dg.AssetExecutionContext, data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core.imagenet import read_class_index

    entry = datasets.get("imagenet_class_index")
    path, digest, origin = data_source.fetch(entry, log=context.log)
    frame = read_class_index(path)
    return dg.Output(frame, data_version=dg.DataVersion(digest), metadata={
        "rows": len(frame), "sha256": digest, "fetched_from": origin, "source_file": dg.MetadataValue.path(str(path)),
        "canonical_url": dg.MetadataValue.url(entry.url), "first": json.dumps([int(frame["index"][0]), str(frame["wnid"][0]), str(frame["name"][0])]),
        "dagster/row_count": len(frame)})


class SportsImagesConfig(dg.Config):
    """Download the sports pictures the URL lists name. split: 'stratified' = the book's code,
    train_test_split(sports.csv, test_size=0.3, random_state=2, stratify=class); 'csv' = the book
    repository's sports/sports_{train,test}.csv."""

    split: str = "stratified"
    test_size: float = 0.3
    random_state: int = 2
    workers: int = 16  # the book: ThreadPoolExecutor(max_workers=20)
    timeout_seconds: float = 15.0  # per request
    retries: int = 2  # transient errors (timeouts, 5xx, 429) are retried with exponential backoff
    backoff_seconds: float = 0.5
    max_failed_share: float = 0.2  # the asset fails when more of the downloads than this fail
    per_class: int = 0  # 0: every URL; >0: at most this many per class and split (first ones)
    fast_per_class: int = 10  # per_class under the fast profile
    url_prefix: str | None = None  # replace the canonical host (SPORTS_HOST) by this one, e.g. a local copy


@factory.versioned_asset(key=["raw", "sports_images"], group_name=GROUP, io_manager_key="parquet_io",
          kinds={"pandas", "parquet"},
          description="ch11 sports pictures (Beach volleyball, Cross-country skiing, Formula racing) downloaded "
                      "from sports.csv's URLs into data/raw/sports_images/<split>/<class>/ (bounded concurrency, "
                      "retries, per-image tolerance, each image decoded to validate it); needs network")
def sports_images(context: dg.AssetExecutionContext, config: SportsImagesConfig, storage: factory.Storage,
                  data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    from pathlib import Path

    from ztdl_pipeline.core import downloads
    from ztdl_pipeline.core.images import stratified_split
    from ztdl_pipeline.core.schema import read_csv_checked

    profile = storage.run_profile()
    if config.split == "stratified":
        entry = datasets.get("sports")
        path, digest, _ = data_source.fetch(entry, log=context.log)
        frame = read_csv_checked(path, entry.columns, entry.read_options)
        frame["split"] = stratified_split(frame["class"].to_numpy(), config.test_size, config.random_state)
        digests = [digest]
    elif config.split == "csv":
        parts, digests = [], []
        for split in ("train", "test"):
            entry = datasets.get(f"sports_{split}")
            path, digest, _ = data_source.fetch(entry, log=context.log)
            parts.append(read_csv_checked(path, entry.columns, entry.read_options).assign(split=split))
            digests.append(digest)
        frame = pd.concat(parts, ignore_index=True)
    else:
        raise ValueError(f"raw/sports_images: split must be 'stratified' or 'csv', not {config.split!r}")
    limit = config.fast_per_class if profile == "fast" else config.per_class
    if limit:
        frame = frame.groupby(["split", "class"], sort=False).head(limit).reset_index(drop=True)
    root = settings.data_dir() / "raw" / "sports_images"
    frame["url"] = frame.image_url.str.replace(SPORTS_HOST, config.url_prefix, regex=False) \
        if config.url_prefix else frame.image_url
    frame["relative"] = [f"{s}/{c.replace(' ', '_')}/{Path(u).name}"
                         for s, c, u in zip(frame.split, frame["class"], frame.image_url)]
    jobs = [downloads.ImageJob(u, root / r) for u, r in zip(frame.url, frame.relative)]
    context.log.info(f"downloading {len(jobs)} pictures with {config.workers} workers into {root}")
    summary = downloads.download_images(
        jobs, workers=config.workers, timeout=config.timeout_seconds, retries=config.retries,
        backoff=config.backoff_seconds, progress=lambda done, n: context.log.info(f"{done}/{n} pictures"))
    counts = summary.counts
    if not jobs or summary.failed_share > config.max_failed_share:
        examples = "; ".join(f"{f['url']}: {f['error']}" for f in summary.failures(3))
        raise dg.Failure(
            f"raw/sports_images: {counts['failed']} of {len(jobs)} downloads failed (more than "
            f"{config.max_failed_share:.0%} allowed), e.g. {examples or 'no URLs'}. The sports pictures are "
            "not in the data mirror: this asset needs network access to multimedia-commons (or config "
            "url_prefix pointing at a copy); raise max_failed_share to accept more missing pictures.",
            metadata={**{k: float(v) for k, v in counts.items()}, "failures": json.dumps(summary.failures())})
    kept = [r.status != "failed" for r in summary.results]
    index = frame[kept].reset_index(drop=True)
    good = [r for r in summary.results if r.status != "failed"]
    index = pd.DataFrame({
        "file": [r.target for r in good], "relative": index.relative, "sha256": [r.sha256 for r in good],
        "bytes": [r.bytes for r in good], "split": index.split, "class_name": index["class"], "url": index.url})
    version = factory_digest(index.sha256.tolist() + digests)
    per = index.groupby(["split", "class_name"]).size()
    return dg.Output(index, data_version=dg.DataVersion(version), metadata={
        "ok": float(counts["ok"]), "skipped (already there)": float(counts["skipped"]),
        "failed": float(counts["failed"]), "requested": float(len(jobs)), "seconds": summary.seconds,
        "max_in_flight": float(summary.max_in_flight), "workers": float(config.workers),
        "failed_share": summary.failed_share, "failures": json.dumps(summary.failures()),
        "split": (f"train_test_split(sports.csv, test_size={config.test_size}, random_state="
                  f"{config.random_state}, stratify=class) — the book's code" if config.split == "stratified"
                  else "the book repository's sports/sports_{train,test}.csv"),
        "files per split/class": json.dumps({"/".join(k): int(v) for k, v in per.items()}),
        "profile": profile, "folder": dg.MetadataValue.path(str(root)), "dagster/row_count": len(index)})


def factory_digest(parts: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# ------------------------------------------------------------------ features: bottleneck vectors


class BottleneckConfig(dg.Config):
    image_size: int = 299  # the book's img_size
    fast_image_size: int = 71  # Xception's smallest input: ~18× fewer FLOPs than 299 on a CPU
    batch_size: int = 32
    resize: str = "bilinear"  # tf.image.resize method (flow_from_directory used PIL 'nearest')
    fast_train: int = 24  # images kept per split under the fast profile (class-stratified); 0: all
    fast_test: int = 12
    seed: int = 0


def mirror_folder_index(data_source: DatasetSource, name: str, log) -> pd.DataFrame:
    """What the vision group's raw/<name> asset stores (an index of the verified files of a catalog folder),
    read through the same DatasetSource (cache -> mirror -> download), so this group runs without that asset
    having been materialized first."""
    from ztdl_pipeline.core.images import file_index

    path, _, _, files = data_source.fetch_folder(datasets.get(name), log=log)
    return file_index(path, files, labelled=True)


def _compute_bottlenecks(context, config: BottleneckConfig, compute: TensorFlowCompute,
                         pretrained: PretrainedModels, raw: pd.DataFrame, name: str, profile: str) -> dg.Output[pa.Table]:
    device = compute.setup()
    import numpy as np

    from ztdl_pipeline.core import images as I
    from ztdl_pipeline.core import transfer as T

    raw_name = IMAGE_SETS[name]
    I.verify_files(raw, f"raw/{raw_name}")
    index = raw[raw.split.isin(I.SPLITS)].reset_index(drop=True)
    if index.empty:
        raise dg.Failure(f"raw/{raw_name} lists no pictures in train/ or test/")
    fast = profile == "fast"
    size = config.fast_image_size if fast else config.image_size
    classes = sorted(index.class_name.unique())
    labels = index.class_name.map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
    limits = {"train": config.fast_train, "test": config.fast_test} if fast else {}
    rows = I.sample_rows(index.split.to_numpy(object), labels, limits, config.seed)
    index = index.iloc[rows].reset_index(drop=True)
    index = pd.concat([index[index.split == "train"], index[index.split == "test"]], ignore_index=True)
    base, weights = pretrained.xception(include_top=False, input_size=size, pooling="avg", profile=profile)
    if weights["weights"] == "random":
        context.log.warning(f"features/{name}_bottlenecks: RANDOM Xception weights ({weights['origin']})")
    features = T.pixel_features(base, size)
    vectors, timing = T.extract(features, index.file.tolist(), size, batch_size=config.batch_size,
                                method=config.resize)
    table = T.bottleneck_table(vectors, index, classes, {
        "dataset": name, "source": f"raw/{raw_name}", "profile": profile, "image_size": size,
        "resize": config.resize, "weights": weights, "timing": timing, "device": device})
    return dg.Output(table, metadata={
        "rows": table.num_rows, "rows_train": float((index.split == "train").sum()),
        "rows_test": float((index.split == "test").sum()), "dim": float(vectors.shape[1]),
        "images_per_second": float(timing["images_per_second"]), "seconds": float(timing["seconds"]),
        "image_size": float(size), "batch_size": float(config.batch_size), "classes": json.dumps(classes),
        "weights": ("RANDOM (weights=None) — " if weights["weights"] == "random" else "imagenet — ")
        + str(weights["origin"]),
        "device": json.dumps(device), "profile": profile, "vector mean": float(vectors.mean()),
        "dagster/row_count": table.num_rows})


def bottleneck_asset(name: str) -> dg.AssetsDefinition:
    raw_name = IMAGE_SETS[name]
    spec = dict(key=["features", f"{name}_bottlenecks"], group_name=GROUP, io_manager_key="parquet_io",
                kinds={"tensorflow", "pyarrow", "parquet"}, pool="gpu",
                description=f"Xception bottlenecks of raw/{raw_name}: preprocess_input + global average pooling, "
                            "one 2048-float vector per picture (fixed-size list) with label, class, split and file; "
                            "computed in batches through tf.data (read, decode, resize, batch, prefetch)")
    if raw_name in datasets.FOLDERS:  # a vision-group folder: a dependency, read through the data source
        @factory.versioned_asset(deps=[dg.AssetKey(["raw", raw_name])], **spec)
        def _from_folder(context: dg.AssetExecutionContext, config: BottleneckConfig, compute: TensorFlowCompute,
                         pretrained: PretrainedModels, data_source: DatasetSource,
                         storage: factory.Storage) -> dg.Output[pa.Table]:
            raw = mirror_folder_index(data_source, raw_name, context.log)
            return _compute_bottlenecks(context, config, compute, pretrained, raw, name, storage.run_profile())

        return _from_folder

    @factory.versioned_asset(ins={"raw": dg.AssetIn(["raw", raw_name])}, **spec)
    def _from_raw(context: dg.AssetExecutionContext, config: BottleneckConfig, compute: TensorFlowCompute,
                  pretrained: PretrainedModels, storage: factory.Storage, raw: pd.DataFrame) -> dg.Output[pa.Table]:
        return _compute_bottlenecks(context, config, compute, pretrained, raw, name, storage.run_profile())

    return _from_raw


BOTTLENECK_COLUMNS = {"bottleneck": "vector<float>", "label": "integer", "class_name": "string", "split": "string",
                      "file": "string"}


def _bottleneck_problems(features: pa.Table) -> list[str]:
    from ztdl_pipeline.core.transfer import table_problems

    return table_problems(features)


def bottleneck_checks(name: str) -> list[dg.AssetChecksDefinition]:
    """schema_and_nulls (plus core/transfer.table_problems: float32 vectors of the recorded size), row_counts,
    label_balance."""
    return factory.table_features_checks(f"{name}_bottlenecks", BOTTLENECK_COLUMNS, min_rows=4,
                                         extra_problems=_bottleneck_problems)


# ------------------------------------------------------------------ models


class TransferFamily(factory.Family):
    """Models of raw uint8 pixels built on Xception; features are bottleneck tables (with file paths)."""

    features_type = pa.Table

    def evaluate(self, example, trained, features) -> dict:
        from ztdl_pipeline.core import transfer

        return transfer.evaluate(example, trained, features)

    def report_images(self, example, trained, features, metrics: dict) -> dict[str, bytes]:
        from ztdl_pipeline.core import transfer

        return transfer.report_images(example, trained, features, metrics)

    def report_markdown(self, example, trained, metrics: dict, images: dict, threshold: float,
                        embed: bool) -> str:
        from ztdl_pipeline.core import transfer

        return transfer.report_markdown(example, trained, metrics, images, threshold, embed)

    def view(self, example, features):
        return features

    def verify(self, path, example, trained, data, raw, signature: dict) -> float:
        from ztdl_pipeline.core import transfer

        return transfer.verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        from ztdl_pipeline.core.transfer import table_attrs

        return {"output_0": "class probabilities", "classes": table_attrs(data)["classes"]}


TRANSFER = TransferFamily()


class HeadConfig(TrainingConfig):
    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "rmsprop"
    fast_epochs: int = 5


class EndToEndConfig(TrainingConfig):
    epochs: int = 1
    batch_size: int = 32
    optimizer: str = "rmsprop"
    steps_per_epoch: int = 65  # fit_generator(train_generator, steps_per_epoch=65, epochs=1)
    augmentation: bool = True  # the book's ImageDataGenerator settings as random layers
    fast_epochs: int = 1
    fast_steps_per_epoch: int = 2
    fast_batch_size: int = 8


class FineTuneConfig(EndToEndConfig):
    optimizer: str = "sgd"
    learning_rate: float = 0.0001
    momentum: float = 0.9
    split_layer: int = 126  # sol.ch11.ex3: Xception's layers[:126] stay frozen


_SPORTS_BOOK_NOTE = ("The book's numbers are on its 2,100 + 902 sports pictures at 299×299 with ImageNet weights. ")
_MF_NOTE = ("The book runs chapter 11 on its sports pictures, which are not in the data mirror; here the same "
            "models run on the mirror's male/female faces (700 train, 200 test). The book's numbers, shown for "
            "reference, are for the 3 sports classes. ")
_FAST_NOTE = ("Under the fast profile Xception usually has random weights at 71×71 on a few dozen pictures, "
              "so the gate's fast floor is 0: the run exercises the export path, it says nothing about quality.")


def _examples(name: str) -> dict[str, TransferExample]:
    sports = name == "sports"
    note = (_SPORTS_BOOK_NOTE if sports else _MF_NOTE) + _FAST_NOTE
    common = dict(dataset=f"{name}_bottlenecks", raw_dataset=IMAGE_SETS[name], builder="xception",
                  loss="categorical_crossentropy", primary=("test", "accuracy"), fast_floor=0.0, notes=note)
    return {
        "head": TransferExample(
            name=f"{name}_bottleneck_head", title=f"ch11 {name}: classifier on Xception bottlenecks",
            source="book ch11.sports_bottleneck_features + sports_fc_on_bottlenecks (L16020–16364)",
            threshold=None if sports else 0.7, tolerance=0.05,
            book=(B("test", "accuracy", 0.9046563192904656,
                    "L15994 (the end-to-end model after 1 epoch; the bottleneck head prints only a plot: "
                    "test above train, L16364)"),), **common),
        "end_to_end": TransferExample(
            name=f"{name}_transfer_end_to_end", title=f"ch11 {name}: frozen Xception + dense head, augmented",
            source="book ch11.sports_transfer_learning_xception (L15760–16018)",
            threshold=None if sports else 0.65, tolerance=0.1,
            book=(B("test", "accuracy", 0.9046563192904656, "L15994"),
                  B("history", "accuracy", 0.7945, "L15978 (65 steps)"),
                  B("history", "loss", 0.5263, "L15978")), **common),
        "fine_tuned": TransferExample(
            name=f"{name}_fine_tuned", title=f"ch11 exercise 3 {name}: fine-tuning the top Xception blocks",
            source="book sol.ch11.ex3_xception_finetune_sports (L23866–24119)",
            threshold=0.65, tolerance=0.1,
            book=(B("history", "accuracy", 0.9110, "L24117 (train, 65 steps)"),
                  B("history", "loss", 0.2432, "L24117")), **common),
    }


def _log_epochs(context, total: int):
    def log(epoch: int, logs: dict) -> None:
        context.log.info(f"epoch {epoch}/{total}: " + ", ".join(f"{k}={v:.4f}" for k, v in logs.items()))

    return log


def _base_for(pretrained: PretrainedModels, features: pa.Table, context):
    """An Xception base with the weights the bottlenecks were computed with (refuses a mismatch)."""
    from ztdl_pipeline.core.transfer import table_attrs

    attrs = table_attrs(features)
    base, weights = pretrained.xception(include_top=False, input_size=attrs["image_size"], pooling="avg",
                                        profile=attrs["profile"])
    if weights["weights"] != attrs["weights"]["weights"]:
        raise dg.Failure(f"the bottlenecks were computed with {attrs['weights']['weights']} weights but the "
                         f"pretrained resource now gives {weights['weights']}: rematerialize the features")
    if weights["weights"] == "random":
        context.log.warning(f"RANDOM Xception weights ({weights['origin']})")
    return base, attrs


def head_model_asset(name: str, example: TransferExample) -> dg.AssetsDefinition:
    @factory.versioned_asset(key=["models", example.name], ins={"features": dg.AssetIn(["features", example.dataset])},
              group_name=GROUP, io_manager_key="keras_io", kinds={"keras", "tensorflow"}, pool="gpu",
              description=f"{example.title}: Dropout .5, Dense 16 relu, Dropout .5, softmax trained on the "
                          "bottleneck vectors, saved joined to Xception as one model of raw pixels")
    def _head(context: dg.AssetExecutionContext, config: HeadConfig, compute: TensorFlowCompute,
              pretrained: PretrainedModels, storage: factory.Storage, features: pa.Table) -> dg.Output:
        device = compute.setup()
        from ztdl_pipeline.core import transfer as T

        hyper = config.resolve(storage.run_profile())
        compute.seed_everything(hyper.seed)
        head, result = T.train_head(features, hyper, jit_compile=compute.jit_compile,
                                    on_epoch_end=_log_epochs(context, hyper.epochs))
        base, attrs = _base_for(pretrained, features, context)
        model = T.classifier(T.pixel_features(base, attrs["image_size"]), head, f"{name}_xception_classifier")
        info = T.trained_info("head", example, hyper, head, features, result,
                              {"device": device, "details": {"head parameters": int(head.count_params())}})
        trained = T.make_trained(model, result["history"], info)
        version = factory.model_data_version(context, [["features", example.dataset]], hyper, device)
        return dg.Output(trained, data_version=dg.DataVersion(version), metadata={
            **{f"final_{k}": float(v[-1]) for k, v in result["history"].items()}, "epochs": hyper.epochs,
            "profile": hyper.profile, "head_params": float(head.count_params()),
            "training_seconds": result["seconds"], "samples_per_second": result["samples_per_second"] or 0.0,
            "weights": attrs["weights"]["weights"]})

    return _head


def _train_image_model(context, config, compute: TensorFlowCompute, pretrained: PretrainedModels,
                       features: pa.Table, start, example: TransferExample, kind: str, profile: str) -> dg.Output:
    device = compute.setup()
    from ztdl_pipeline.core import transfer as T
    from ztdl_pipeline.core.models import make_optimizer

    hyper = config.resolve(profile)
    fast = hyper.profile == "fast"
    steps = min(config.steps_per_epoch, config.fast_steps_per_epoch) if fast else config.steps_per_epoch
    if fast:
        hyper = dataclasses.replace(hyper, batch_size=min(hyper.batch_size, config.fast_batch_size))
    compute.seed_everything(hyper.seed)
    attrs = T.table_attrs(features)
    details: dict[str, Any] = {"steps per epoch": steps, "augmentation": json.dumps(
        T.BOOK_AUGMENTATION if config.augmentation else {})}
    if start is not None:  # fine-tuning continues from the end-to-end model, as sol.ch11.ex3's stage 2
        model = start.model
        details.update(T.unfreeze_top(model, config.split_layer))
    else:
        base, attrs = _base_for(pretrained, features, context)
        model = T.transfer_model(base, attrs["image_size"], len(attrs["classes"]),
                                 T.BOOK_AUGMENTATION if config.augmentation else None)
    optimizer = make_optimizer(hyper.optimizer, hyper.learning_rate, hyper.momentum)
    result = T.train_on_images(model, features, hyper, size=attrs["image_size"], steps_per_epoch=steps,
                               optimizer=optimizer, method=attrs["resize"], jit_compile=compute.jit_compile,
                               on_epoch_end=_log_epochs(context, hyper.epochs))
    info = T.trained_info(kind, example, hyper, model, features, result, {"device": device, "details": details})
    inputs = [["features", example.dataset]] + ([] if start is None else [["models", f"{example.dataset.removesuffix('_bottlenecks')}_transfer_end_to_end"]])
    version = factory.model_data_version(context, inputs, hyper, device)
    return dg.Output(T.make_trained(model, result["history"], info), data_version=dg.DataVersion(version), metadata={
        **{f"final_{k}": float(v[-1]) for k, v in result["history"].items()}, "epochs": hyper.epochs,
        "steps_per_epoch": float(steps), "batch_size": float(hyper.batch_size), "profile": hyper.profile,
        "trainable_params": float(info["trainable_params"]), "training_seconds": result["seconds"],
        "images_per_second": result["samples_per_second"] or 0.0, "weights": attrs["weights"]["weights"]})


def end_to_end_asset(name: str, example: TransferExample) -> dg.AssetsDefinition:
    @factory.versioned_asset(key=["models", example.name], ins={"features": dg.AssetIn(["features", example.dataset])},
              group_name=GROUP, io_manager_key="keras_io", kinds={"keras", "tensorflow"}, pool="gpu", description=f"{example.title} — {example.source}")
    def _end_to_end(context: dg.AssetExecutionContext, config: EndToEndConfig, compute: TensorFlowCompute,
                    pretrained: PretrainedModels, storage: factory.Storage, features: pa.Table) -> dg.Output:
        return _train_image_model(context, config, compute, pretrained, features, None, example, "end_to_end",
                                  storage.run_profile())

    return _end_to_end


def fine_tune_asset(name: str, example: TransferExample) -> dg.AssetsDefinition:
    @factory.versioned_asset(key=["models", example.name], ins={"features": dg.AssetIn(["features", example.dataset]),
                                                 "start": dg.AssetIn(["models", f"{name}_transfer_end_to_end"])},
              group_name=GROUP, io_manager_key="keras_io", kinds={"keras", "tensorflow"}, pool="gpu", description=f"{example.title} — {example.source}")
    def _fine_tuned(context: dg.AssetExecutionContext, config: FineTuneConfig, compute: TensorFlowCompute,
                    pretrained: PretrainedModels, storage: factory.Storage, features: pa.Table, start) -> dg.Output:
        return _train_image_model(context, config, compute, pretrained, features, start, example, "fine_tuned",
                                  storage.run_profile())

    return _fine_tuned


# ------------------------------------------------------------------ export: raw bytes or pixels, gated


def export_asset(example: TransferExample) -> dg.AssetsDefinition:
    """exports/<x>: factory.export_asset's gate, staging, verification and registry, with the two-endpoint
    SavedModel (core/transfer.write_export) instead of the single named-input one."""

    @factory.versioned_asset(key=["exports", example.name],
              ins={"trained": dg.AssetIn(["models", example.name]),
                   "features": dg.AssetIn(["features", example.dataset]),
                   "report": dg.AssetIn(["reports", example.name])},
              group_name=GROUP, io_manager_key="export_record_io", kinds={"tensorflow", "savedmodel"},
              description=f"{example.title} as one versioned SavedModel: serving_default takes raw image bytes "
                          "(JPEG/PNG, decoded and resized in the graph), serve_pixels uint8 pixels")
    def _export(context: dg.AssetExecutionContext, storage: factory.Storage, trained, features: pa.Table,
                report: dict) -> dg.Output[dict]:
        from ztdl_pipeline.core import registry
        from ztdl_pipeline.core import transfer as T

        def write_and_verify(staged):
            signature = T.write_export(trained.model, staged, trained.info["image_size"], trained.info["resize"])
            difference = TRANSFER.verify(staged, example, trained, features, None, signature)
            pixels = registry.savedmodel_signature(staged, "serve_pixels")
            return signature, difference, {
                "other_signatures": {"serve_pixels": pixels["inputs"]}, "outputs": TRANSFER.outputs(features),
                "weights": trained.info["weights"]["weights"], "image_size": trained.info["image_size"]}

        return factory.publish_gated_export(context, storage, example, report, write_and_verify)

    return _export


def export_reload_check(example: TransferExample) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["exports", example.name]), name="savedmodel_matches_keras",
                    additional_ins={"trained": dg.AssetIn(["models", example.name]),
                                    "features": dg.AssetIn(["features", example.dataset])},
                    description="tf.saved_model.load of the published version, fed real test picture bytes "
                                "(serving_default) and their pixels (serve_pixels), predicts what the Keras "
                                "model predicts")
    def _reload(record: dict, trained, features: pa.Table) -> dg.AssetCheckResult:
        try:
            difference = TRANSFER.verify(record["path"], example, trained, features, None, record["signature"])
        except ValueError as exc:
            return dg.AssetCheckResult(passed=False, metadata={"error": str(exc)})
        return dg.AssetCheckResult(passed=True, metadata={"max_abs_difference": difference,
                                                          "version": record["version"]})

    return _reload


# ------------------------------------------------------------------ reports: zero-shot, image search


def _write_report(folder, title: str, sections: list, images: dict, result: dict, metadata: dict) -> dg.Output:
    from ztdl_pipeline.core.report import render, write_report_folder

    write_report_folder(folder, render(title, sections, images, embed=False), images)
    return dg.Output(result, metadata={
        **metadata, "report": dg.MetadataValue.md(render(title, sections, images, embed=True)),
        "report_folder": dg.MetadataValue.path(str(folder))})


class ZeroShotConfig(dg.Config):
    photos: list[str] = ["elephant_photo", "iss_photo"]  # catalog entries (pictures in the data mirror)
    dataset_images: int = 2  # plus the first test pictures of raw/male_female
    top: int = 5
    resize: str = "bilinear"


@factory.versioned_asset(key=["reports", "xception_zero_shot"],
          ins={"class_index": dg.AssetIn(["raw", "imagenet_class_index"])}, deps=[dg.AssetKey(["raw", "male_female"])],
          group_name=GROUP, io_manager_key="report_io", kinds={"keras", "markdown"}, pool="gpu",
          description="ch11.xception_imagenet_predict: Xception with its ImageNet top (299×299), top-5 classes of a "
                      "few photos (decode_predictions with imagenet_class_index.json)")
def xception_zero_shot(context: dg.AssetExecutionContext, config: ZeroShotConfig, compute: TensorFlowCompute,
                       pretrained: PretrainedModels, data_source: DatasetSource, storage: factory.Storage,
                       class_index: pd.DataFrame) -> dg.Output[dict]:
    compute.setup()
    import numpy as np
    import tensorflow as tf

    from ztdl_pipeline.core import images as I
    from ztdl_pipeline.core import transfer as T
    from ztdl_pipeline.core.imagenet import top_k
    from ztdl_pipeline.core.report import markdown_table

    profile = storage.run_profile()
    files = [str(data_source.fetch(datasets.get(p), log=context.log)[0]) for p in config.photos]
    pictures = mirror_folder_index(data_source, "male_female", context.log)
    test = pictures[pictures.split == "test"].sort_values("relative")
    files += test.groupby("class_name").head(max(1, config.dataset_images // 2)).file.tolist()[:config.dataset_images]
    base, weights = pretrained.xception(include_top=True, input_size=299, profile=profile)
    model = T.pixel_features(base, 299)
    pixels = np.stack([T.decode_resize(tf.io.read_file(f), 299, config.resize).numpy() for f in files])
    probabilities = model.predict(pixels, verbose=0)
    ranked = top_k(probabilities, class_index, config.top)
    from pathlib import Path

    rows = [[Path(f).name, i + 1, r["wnid"], r["name"], r["probability"]]
            for f, result in zip(files, ranked) for i, r in enumerate(result)]
    grid = I.image_grid([I.decode_image(f, (160, 160), "bilinear") for f in files],
                        [f"{Path(f).name[:18]}: {r[0]['name']} {r[0]['probability']:.2f}" for f, r in zip(files, ranked)],
                        "top-1 ImageNet class" + (" (RANDOM WEIGHTS)" if weights["weights"] == "random" else ""),
                        columns=4)
    sections = [
        ("Weights", T.weights_banner(weights)),
        (f"Top-{config.top} ImageNet classes", markdown_table(["picture", "rank", "wnid", "class", "probability"], rows)),
        ("The book", "A beach-volleyball picture of the sports set (not in the mirror): ('n04540053', 'volleyball', "
                     "0.9431), ('n09421951', 'sandbar', 0.0213), ('n04371430', 'swimming_trunks', 0.0068) (L15753–15755). "
                     "Xception: 22,910,480 parameters (L15701)."),
        ("Settings", f"299×299 ({config.resize} resize), preprocess_input inside the model; parameters "
                     f"{weights['params']:,}; profile {profile}."),
        ("Source", "book ch11.xception_imagenet_predict (L15145–15758), sol.ch11.ex1")]
    result = {"profile": profile, "weights": weights, "predictions": {Path(f).name: r for f, r in zip(files, ranked)}}
    return _write_report(storage.folder("reports", "xception_zero_shot"), "ch11 Xception zero-shot predictions", sections, {"predictions": grid},
                         result, {"pictures": float(len(files)), "params": float(weights["params"]),
                                  "weights": weights["weights"], "profile": profile,
                                  **{f"top1 {Path(f).name}": r[0]["name"] for f, r in zip(files, ranked)}})


class ImageSearchConfig(dg.Config):
    k: int = 8  # neighbours per query (the book shows the 9 nearest, the query itself first)
    queries_per_class: int = 2
    thumbnail: int = 64


def image_search_asset(name: str) -> dg.AssetsDefinition:
    @factory.versioned_asset(key=["reports", f"{name}_image_search"], ins={"features": dg.AssetIn(["features", f"{name}_bottlenecks"])},
              group_name=GROUP, io_manager_key="report_io", kinds={"numpy", "markdown"},
              description=f"ch11.sports_image_search on {name}: a cosine nearest-neighbour index over the bottleneck "
                          "vectors (data/indexes/), query pictures with their k nearest neighbours, precision@k by class")
    def _search(context: dg.AssetExecutionContext, config: ImageSearchConfig, storage: factory.Storage,
                features: pa.Table) -> dg.Output[dict]:
        from pathlib import Path

        import numpy as np

        from ztdl_pipeline.core import images as I
        from ztdl_pipeline.core import transfer as T
        from ztdl_pipeline.core.image_search import CosineIndex, precision_at_k
        from ztdl_pipeline.core.report import markdown_table

        attrs = T.table_attrs(features)
        classes = attrs["classes"]
        rows = features.select(["label", "class_name", "split", "file"]).to_pandas()
        index = CosineIndex.build(T.vectors_of(features), rows)
        saved = index.save(storage.folder("indexes", f"{name}_image_search"))
        labels = rows.label.to_numpy()
        precision = precision_at_k(index, labels, config.k)
        queries = np.concatenate([np.flatnonzero(labels == c)[:config.queries_per_class] for c in range(len(classes))])
        neighbours, similarity = index.neighbours_of_rows(queries, config.k)
        size = (config.thumbnail, config.thumbnail)
        tiles, titles = [], []
        for q, found, sims in zip(queries, neighbours, similarity):
            tiles.append(I.decode_image(rows.file[q], size, "bilinear"))
            titles.append(f"query: {rows.class_name[q]}")
            for n, s in zip(found, sims):
                tiles.append(I.decode_image(rows.file[n], size, "bilinear"))
                titles.append(f"{rows.class_name[n][:10]} {s:.2f}")
        columns = neighbours.shape[1] + 1
        grid = I.image_grid(tiles, titles, f"{name}: queries (first column) and their {precision['k']} nearest "
                                           "neighbours by cosine similarity", columns=columns)
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
        return _write_report(storage.folder("reports", f"{name}_image_search"), f"ch11 image search: {name}", sections, {"neighbours": grid}, result, {
            f"precision_at_{precision['k']}": precision["overall"],
            **{f"precision_at_{precision['k']} {c}": v for c, v in per_class.items()},
            "indexed_images": float(len(labels)), "index_folder": dg.MetadataValue.path(str(Path(saved["vectors"]).parent)),
            "weights": attrs["weights"]["weights"]})

    return _search


# ------------------------------------------------------------------ assembly

_assets: list = [imagenet_class_index, sports_images, xception_zero_shot]
_checks: list = []
EXAMPLES: dict[str, dict[str, TransferExample]] = {}
for _name in IMAGE_SETS:
    _ex = EXAMPLES[_name] = _examples(_name)
    _assets += [bottleneck_asset(_name), image_search_asset(_name), head_model_asset(_name, _ex["head"]),
                end_to_end_asset(_name, _ex["end_to_end"]), fine_tune_asset(_name, _ex["fine_tuned"])]
    _checks += bottleneck_checks(_name)
    for _example in _ex.values():  # all three are pixels -> classes models: each is reported, gated, exported
        _assets += [factory.report_asset(_example, GROUP, TRANSFER), export_asset(_example)]
        _checks += [factory.export_gate_check(_example), export_reload_check(_example)]

assets = _assets
checks = _checks
