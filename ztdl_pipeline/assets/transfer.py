"""Chapter 11 (pretrained models for images) as assets (group `transfer`): raw pictures -> Xception bottlenecks
-> head / end-to-end / fine-tuned models -> reports and gated exports (raw image bytes or uint8 pixels); image
search and zero-shot reports. Asset bodies read inputs, make one call into core/ (transfer_experiments.py,
downloads.py; cards in transfer_cards.py) and attach metadata; core/profile.py applies each config's FAST
overrides (explicit run config wins). Xception's weights: the `pretrained` resource, handed to core as its
`xception` method. Keras and TensorFlow are imported inside asset bodies only.
"""

import json
from typing import Any, ClassVar

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline import datasets
from ztdl_pipeline.assets import factory
from ztdl_pipeline.assets.chapters import chapter_output, run_settings
from ztdl_pipeline.assets.factory import TrainingConfig
from ztdl_pipeline.core.transfer_cards import IMAGE_SETS, TransferExample, cards
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.pretrained import PretrainedModels

GROUP = "transfer"


def _run(context, compute: TensorFlowCompute, profile: str):
    """The core/chapter.Run of this step: the device (set up now), seeding, JIT and the log."""
    from ztdl_pipeline.core.chapter import Run

    return Run(profile=profile, device=compute.setup(), jit_compile=compute.jit_compile,
               seed_fn=compute.seed_everything, log=context.log.info)

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
    """split: 'stratified' = the book's code, train_test_split(sports.csv, test_size=0.3, random_state=2,
    stratify=class); 'csv' = the book repository's sports/sports_{train,test}.csv."""

    split: str = "stratified"
    test_size: float = 0.3
    random_state: int = 2
    workers: int = 16  # the book: ThreadPoolExecutor(max_workers=20)
    timeout_seconds: float = 15.0  # per request
    retries: int = 2  # transient errors (timeouts, 5xx, 429) are retried with exponential backoff
    backoff_seconds: float = 0.5
    max_failed_share: float = 0.2  # the asset fails when more of the downloads than this fail
    per_class: int = 0  # 0: every URL; >0: at most this many per class and split (first ones)
    url_prefix: str | None = None  # replace the canonical host (core/downloads.SPORTS_HOST), e.g. a local copy
    FAST: ClassVar[dict[str, Any]] = {"per_class": 10}


@factory.versioned_asset(key=["raw", "sports_images"], group_name=GROUP, io_manager_key="parquet_io",
          kinds={"pandas", "parquet"},
          description="ch11 sports pictures (Beach volleyball, Cross-country skiing, Formula racing) downloaded "
                      "from sports.csv's URLs into data/raw/sports_images/<split>/<class>/ (bounded concurrency, "
                      "retries, per-image tolerance, each image decoded to validate it); needs network")
def sports_images(context: dg.AssetExecutionContext, config: SportsImagesConfig, storage: factory.Storage,
                  data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core import downloads
    from ztdl_pipeline.core.schema import read_csv_checked

    def read(name: str) -> tuple[pd.DataFrame, str]:
        entry = datasets.get(name)
        path, digest, _ = data_source.fetch(entry, log=context.log)
        return read_csv_checked(path, entry.columns, entry.read_options), digest

    settings = run_settings(context, config, storage)
    root = data_source._cache() / "sports_images"  # beside the raw cache (a public accessor: see the report)
    try:
        index, version, summary = downloads.sports_images(
            read, root, **settings.values, progress=lambda done, n: context.log.info(f"{done}/{n} pictures"),
            log=context.log.info)
    except downloads.DownloadsFailed as failed:
        raise dg.Failure(str(failed), metadata=failed.metadata) from None
    return dg.Output(index, data_version=dg.DataVersion(version), metadata={
        **summary, "profile": settings.profile, "profile adjustments": json.dumps(settings.adjustments),
        "folder": dg.MetadataValue.path(str(root)), "dagster/row_count": len(index)})


# ------------------------------------------------------------------ features: bottleneck vectors


class BottleneckConfig(dg.Config):
    image_size: int = 299  # the book's img_size (fast: Xception's smallest input, ~18× fewer FLOPs on a CPU)
    batch_size: int = 32
    resize: str = "bilinear"  # tf.image.resize method (flow_from_directory used PIL 'nearest')
    train_images: int = 0  # images kept per split (class-stratified); 0: all (the book)
    test_images: int = 0
    seed: int = 0
    FAST: ClassVar[dict[str, Any]] = {"image_size": 71, "train_images": 24, "test_images": 12}


def mirror_folder_index(data_source: DatasetSource, name: str, log) -> pd.DataFrame:
    """What the vision group's raw/<name> asset stores (an index of the verified files of a catalog folder),
    read through the same DatasetSource (cache -> mirror -> download), so this group runs without that asset
    having been materialized first."""
    from ztdl_pipeline.core.images import file_index

    path, _, _, files = data_source.fetch_folder(datasets.get(name), log=log)
    return file_index(path, files, labelled=True)


def _bottlenecks(context, config: BottleneckConfig, compute: TensorFlowCompute, pretrained: PretrainedModels,
                 storage: factory.Storage, raw: pd.DataFrame, name: str) -> dg.Output[pa.Table]:
    settings = run_settings(context, config, storage)
    run = _run(context, compute, settings.profile)
    from ztdl_pipeline.core.transfer_experiments import bottlenecks

    table, summary = bottlenecks(raw, name, IMAGE_SETS[name], pretrained.xception, **settings.values, run=run)
    return dg.Output(table, metadata={**summary, "profile": settings.profile,
                                      "profile adjustments": json.dumps(settings.adjustments),
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
            return _bottlenecks(context, config, compute, pretrained, storage, raw, name)

        return _from_folder

    @factory.versioned_asset(ins={"raw": dg.AssetIn(["raw", raw_name])}, **spec)
    def _from_raw(context: dg.AssetExecutionContext, config: BottleneckConfig, compute: TensorFlowCompute,
                  pretrained: PretrainedModels, storage: factory.Storage, raw: pd.DataFrame) -> dg.Output[pa.Table]:
        return _bottlenecks(context, config, compute, pretrained, storage, raw, name)

    return _from_raw


BOTTLENECK_COLUMNS = {"bottleneck": "vector<float>", "label": "integer", "class_name": "string", "split": "string",
                      "file": "string"}


def _bottleneck_problems(features: pa.Table) -> list[str]:
    from ztdl_pipeline.core.transfer import table_problems

    return table_problems(features)


def bottleneck_checks(name: str) -> list[dg.AssetChecksDefinition]:
    """schema_and_nulls (+ core/transfer.table_problems: float32 vectors), row_counts, label_balance."""
    return factory.table_features_checks(f"{name}_bottlenecks", BOTTLENECK_COLUMNS, min_rows=4,
                                         extra_problems=_bottleneck_problems)


# ------------------------------------------------------------------ models


def _transfer_core():
    from ztdl_pipeline.core import transfer

    return transfer


class TransferFamily(factory.Family):
    """Models of raw uint8 pixels built on Xception; features are bottleneck tables (with file paths). Each
    step is one call into core/transfer.py."""

    features_type = pa.Table

    def evaluate(self, example, trained, features) -> dict:
        return _transfer_core().evaluate(example, trained, features)

    def report_images(self, example, trained, features, metrics: dict) -> dict[str, bytes]:
        return _transfer_core().report_images(example, trained, features, metrics)

    def report_markdown(self, example, trained, metrics: dict, images: dict, threshold: float, embed: bool) -> str:
        return _transfer_core().report_markdown(example, trained, metrics, images, threshold, embed)

    def view(self, example, features):
        return features

    def verify(self, path, example, trained, data, raw, signature: dict) -> float:
        return _transfer_core().verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        return {"output_0": "class probabilities", "classes": _transfer_core().table_attrs(data)["classes"]}


TRANSFER = TransferFamily()


class HeadConfig(TrainingConfig):
    epochs: int = 20
    batch_size: int = 32
    optimizer: str = "rmsprop"
    FAST: ClassVar[dict[str, Any]] = {"epochs": 5}


class EndToEndConfig(TrainingConfig):
    epochs: int = 1
    batch_size: int = 32
    optimizer: str = "rmsprop"
    steps_per_epoch: int = 65  # fit_generator(train_generator, steps_per_epoch=65, epochs=1)
    augmentation: bool = True  # the book's ImageDataGenerator settings as random layers
    FAST: ClassVar[dict[str, Any]] = {"steps_per_epoch": 2, "batch_size": 8}


class FineTuneConfig(EndToEndConfig):
    optimizer: str = "sgd"
    learning_rate: float = 0.0001
    momentum: float = 0.9
    split_layer: int = 126  # sol.ch11.ex3: Xception's layers[:126] stay frozen


def _train(context, config, compute: TensorFlowCompute, pretrained: PretrainedModels, storage: factory.Storage,
           features: pa.Table, start, example: TransferExample, kind: str) -> dg.Output:
    """models/<x>: the run's settings, one call into core/transfer_experiments.py, the model's data version."""
    settings = run_settings(context, config, storage)
    run = _run(context, compute, settings.profile)
    from ztdl_pipeline.core import transfer_experiments as X
    from ztdl_pipeline.core.specs import Hyper
    from ztdl_pipeline.core.vision_models import hyper_of

    hyper = hyper_of(settings, Hyper)
    if kind == "head":
        trained, summary = X.train_head(features, example, hyper, pretrained.xception, run,
                                        example.dataset.removesuffix("_bottlenecks"))
    else:
        options = {k: v for k, v in settings.values.items() if k in ("steps_per_epoch", "augmentation", "split_layer")}
        trained, summary = X.train_image_model(features, start, example, hyper, pretrained.xception, run, kind=kind,
                                               **options)
    inputs = [["features", example.dataset]] + ([] if start is None else [
        ["models", f"{example.dataset.removesuffix('_bottlenecks')}_transfer_end_to_end"]])
    version = factory.model_data_version(context, inputs, hyper, run.device)
    return dg.Output(trained, data_version=dg.DataVersion(version), metadata={
        **summary, "profile adjustments": json.dumps(settings.adjustments)})


def model_asset(name: str, example: TransferExample, kind: str, config_cls: type[TrainingConfig],
                description: str) -> dg.AssetsDefinition:
    spec = dict(key=["models", example.name], group_name=GROUP, io_manager_key="keras_io",
                kinds={"keras", "tensorflow"}, pool="gpu", description=description)
    features = dg.AssetIn(["features", example.dataset])
    if kind == "fine_tuned":  # continues from the end-to-end model
        @factory.versioned_asset(ins={"features": features,
                                      "start": dg.AssetIn(["models", f"{name}_transfer_end_to_end"])}, **spec)
        def _fine_tuned(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                        compute: TensorFlowCompute, pretrained: PretrainedModels, storage: factory.Storage,
                        features: pa.Table, start) -> dg.Output:
            return _train(context, config, compute, pretrained, storage, features, start, example, kind)

        return _fine_tuned

    @factory.versioned_asset(ins={"features": features}, **spec)
    def _model(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
               compute: TensorFlowCompute, pretrained: PretrainedModels, storage: factory.Storage,
               features: pa.Table) -> dg.Output:
        return _train(context, config, compute, pretrained, storage, features, None, example, kind)

    return _model


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


class ZeroShotConfig(dg.Config):
    photos: list[str] = ["elephant_photo", "iss_photo"]  # catalog entries (pictures in the data mirror)
    dataset_images: int = 2  # plus the first test pictures of raw/male_female
    top: int = 5
    resize: str = "bilinear"
    FAST: ClassVar[dict[str, Any]] = {}


@factory.versioned_asset(key=["reports", "xception_zero_shot"],
          ins={"class_index": dg.AssetIn(["raw", "imagenet_class_index"])}, deps=[dg.AssetKey(["raw", "male_female"])],
          group_name=GROUP, io_manager_key="report_io", kinds={"keras", "markdown"}, pool="gpu",
          description="ch11.xception_imagenet_predict: Xception with its ImageNet top (299×299), top-5 classes of a "
                      "few photos (decode_predictions with imagenet_class_index.json)")
def xception_zero_shot(context: dg.AssetExecutionContext, config: ZeroShotConfig, compute: TensorFlowCompute,
                       pretrained: PretrainedModels, data_source: DatasetSource, storage: factory.Storage,
                       class_index: pd.DataFrame) -> dg.Output[dict]:
    settings = run_settings(context, config, storage)
    run = _run(context, compute, settings.profile)
    from ztdl_pipeline.core.transfer_experiments import zero_shot_chapter

    values = dict(settings.values)
    photos = [str(data_source.fetch(datasets.get(p), log=context.log)[0]) for p in values.pop("photos")]
    pictures = mirror_folder_index(data_source, "male_female", context.log)
    chapter = zero_shot_chapter(photos, pictures, class_index, pretrained.xception, **values, run=run)
    return chapter_output(storage, "xception_zero_shot", chapter)


class ImageSearchConfig(dg.Config):
    k: int = 8  # neighbours per query (the book shows the 9 nearest, the query itself first)
    queries_per_class: int = 2
    thumbnail: int = 64


def image_search_asset(name: str) -> dg.AssetsDefinition:
    @factory.versioned_asset(key=["reports", f"{name}_image_search"], ins={"features": dg.AssetIn(["features", f"{name}_bottlenecks"])},
              group_name=GROUP, io_manager_key="report_io", kinds={"numpy", "markdown"},
              description=f"ch11.sports_image_search on {name}: a cosine nearest-neighbour index over the bottleneck "
                          "vectors (data/indexes/), query pictures with their k nearest neighbours, precision@k by class")
    def _search(config: ImageSearchConfig, storage: factory.Storage, features: pa.Table) -> dg.Output[dict]:
        from ztdl_pipeline.core.transfer_experiments import image_search_chapter

        chapter = image_search_chapter(features, name, storage.folder("indexes", f"{name}_image_search"),
                                       **config.model_dump())
        return chapter_output(storage, f"{name}_image_search", chapter)

    return _search


# ------------------------------------------------------------------ assembly

_CONFIGS = {"head": HeadConfig, "end_to_end": EndToEndConfig, "fine_tuned": FineTuneConfig}
_assets: list = [imagenet_class_index, sports_images, xception_zero_shot]
_checks: list = []
EXAMPLES: dict[str, dict[str, TransferExample]] = {}
for _name in IMAGE_SETS:
    _ex = EXAMPLES[_name] = cards(_name)
    _assets += [bottleneck_asset(_name), image_search_asset(_name)]
    _assets += [model_asset(_name, _e, _kind, _CONFIGS[_kind], f"{_e.title} — {_e.source}") for _kind, _e in _ex.items()]
    _checks += bottleneck_checks(_name)
    for _example in _ex.values():  # all three are pixels -> classes models: each is reported, gated, exported
        _assets += [factory.report_asset(_example, GROUP, TRANSFER), export_asset(_example)]
        _checks += [factory.export_gate_check(_example), export_reload_check(_example)]

assets = _assets
checks = _checks
