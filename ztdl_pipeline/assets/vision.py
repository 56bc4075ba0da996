"""The book's image chapters as assets (group `vision`): ch6 CNNs on MNIST and CIFAR-10, the DataCamp MNIST
network, ch9 (CPU / GPU / several devices) and ch10 (improving the digits network, augmentation, male/female).

raw/<data> (verified file or folder, one row per file) -> features/<data> (uint8 tensors in parquet,
core/image_features.py) -> the factory's models / reports / exports (core/vision_models.py, cards in
core/vision_cards.py) -> chapter reports over many runs (core/vision_experiments.py). Asset bodies read inputs,
make one call into core/ and attach metadata; core/profile.py applies each config's FAST overrides (explicit
run config wins). Keras and TensorFlow are imported inside asset bodies only.
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
from ztdl_pipeline.core import profile as P
from ztdl_pipeline.core import refs, versioning
from ztdl_pipeline.core.specs import Card
from ztdl_pipeline.core.vision_cards import CARDS
from ztdl_pipeline.datasets import DatasetFile, DatasetFolder
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource

GROUP = "vision"


# ------------------------------------------------------------------ raw data


class SourceConfig(dg.Config):
    """Read this raw asset from another copy of its file (or of a folder's archive) in the same format: its
    URL (https://, file://) and that copy's sha256, which then is the data version."""

    url: str | None = None
    sha256: str | None = None

    def apply(self, entry: DatasetFile | DatasetFolder) -> DatasetFile | DatasetFolder:
        from ztdl_pipeline.core.image_features import with_source

        return with_source(entry, self.url, self.sha256)


def raw_source_asset(entry: DatasetFile | DatasetFolder) -> dg.AssetsDefinition:
    """raw/<name>: the verified file (or folder) as an index, one row per file; its sha256 (a folder: the
    manifest's or the archive's) is the data version."""
    folder = isinstance(entry, DatasetFolder)

    @factory.versioned_asset(key=["raw", entry.name], group_name=GROUP, io_manager_key="parquet_io",
                             kinds={"pandas", "parquet"},
                             description=f"{entry.folder + '/' if folder else entry.filename}: {entry.description}")
    def _raw(context: dg.AssetExecutionContext, config: SourceConfig,
             data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
        from ztdl_pipeline.core.image_features import index_counts
        from ztdl_pipeline.core.images import file_index

        source = config.apply(entry)
        if folder:
            path, digest, origin, files = data_source.fetch_folder(source, log=context.log)
            index = file_index(path, files, labelled=True)
        else:
            path, digest, origin = data_source.fetch(source, log=context.log)
            index = file_index(path.parent, {path.name: digest})
        metadata: dict[str, Any] = {
            "files": len(index), "bytes": int(index.bytes.sum()), "sha256": digest, "fetched_from": origin,
            "source": dg.MetadataValue.path(str(path)), "canonical_url": dg.MetadataValue.url(source.url),
            "dagster/row_count": len(index)}
        if folder:
            metadata["files per split/class"] = json.dumps(index_counts(index))
        return dg.Output(index, data_version=dg.DataVersion(digest), metadata=metadata)

    return _raw


raw_assets = [raw_source_asset(datasets.get(name))
              for name in ("mnist", "cifar10", "digits", "male_female", "generator")]

# ------------------------------------------------------------------ features


class ImageFeaturesConfig(dg.Config):
    train_images: int = 0  # images kept per split (class-stratified); 0: all (the book)
    test_images: int = 0
    seed: int = 0
    FAST: ClassVar[dict[str, Any]] = {"train_images": 2000, "test_images": 500}


class DigitsFeaturesConfig(ImageFeaturesConfig):
    FAST: ClassVar[dict[str, Any]] = {}  # 1,797 digits: the fast profile keeps the book's whole split


class FolderFeaturesConfig(ImageFeaturesConfig):
    image_size: int = 64  # the book's flow_from_directory target_size (64, 64)
    resample: str = "nearest"  # Keras load_img's default interpolation
    FAST: ClassVar[dict[str, Any]] = {"train_images": 240, "test_images": 100}


def image_features_asset(name: str, reader: str, description: str,
                         config_cls: type[ImageFeaturesConfig]) -> dg.AssetsDefinition:
    """features/<name>: the images as a pyarrow Table (uint8 tensor column, label, split) in parquet."""

    @factory.versioned_asset(versioning.Ref(*refs.split(reader)), key=["features", name],
                             ins={"raw": dg.AssetIn(["raw", name])}, group_name=GROUP, io_manager_key="parquet_io",
                             kinds={"pyarrow", "parquet"}, description=description)
    def _features(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                  storage: factory.Storage, raw: pd.DataFrame) -> dg.Output[pa.Table]:
        from ztdl_pipeline.core import image_features

        settings = run_settings(context, config, storage)
        table, s = image_features.build(raw, name, reader, profile=settings.profile, **settings.values)
        return dg.Output(table, metadata={
            "rows": s["rows"], **{f"rows_{split}": n for split, n in s["splits"].items()},
            "image": f"uint8 {'×'.join(map(str, s['image_shape']))}", "classes": json.dumps(s["classes"]),
            "split": json.dumps(s["split"]), "profile": settings.profile, "dagster/row_count": s["rows"],
            "pixel mean (uint8)": s["pixel_mean"], "class counts (train)": json.dumps(s["train_class_counts"]),
            "profile adjustments": json.dumps(settings.adjustments)})

    return _features


# name: (reader, description, config)
FEATURES: dict[str, tuple[str, str, type[ImageFeaturesConfig]]] = {
    "mnist": ("ztdl_pipeline.core.images:read_mnist", (
        "MNIST 28×28 uint8, official 60,000/10,000 split (fast profile: a stratified 2,000/500 sample)"),
        ImageFeaturesConfig),
    "cifar10": ("ztdl_pipeline.core.images:read_cifar10", (
        "CIFAR-10 32×32×3 uint8, official 50,000/10,000 split (fast profile: at most 2,000/500)"),
        ImageFeaturesConfig),
    "digits": ("ztdl_pipeline.core.images:read_digits", (
        "sklearn digits 8×8 uint8 (0–16), 70/30 split stratified, random_state 0 (ch10): 1,257/540"),
        DigitsFeaturesConfig),
    "male_female": ("ztdl_pipeline.core.images:read_folder", (
        "faces resized to 64×64×3 uint8 (nearest, as flow_from_directory), train/test folders; classes "
        "0_female, 1_male (fast profile: 240/100)"), FolderFeaturesConfig),
}
features_assets = [image_features_asset(name, *spec) for name, spec in FEATURES.items()]


def image_features_checks(name: str, min_rows: int) -> list[dg.AssetChecksDefinition]:
    key = dg.AssetKey(["features", name])

    @dg.asset_check(asset=key, name="schema_and_nulls", blocking=True,
                    description="image is a fixed-shape uint8 tensor of the recorded shape; labels are "
                                "integers in range; no nulls")
    def _schema(features: pa.Table) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.images import table_problems

        problems = table_problems(features)
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems)})

    @dg.asset_check(asset=key, name="row_counts", blocking=True,
                    description=f"at least {min_rows} images, and both a train and a test split")
    def _rows(features: pa.Table) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.image_features import row_problems
        from ztdl_pipeline.core.images import table_attrs

        problems = row_problems(features, min_rows)
        return dg.AssetCheckResult(passed=not problems, metadata={
            "rows": features.num_rows, **table_attrs(features).get("splits", {}), "problems": json.dumps(problems)})

    @dg.asset_check(asset=key, name="label_balance", blocking=True,
                    description="every class is present in the train split, none below 1 % of it")
    def _balance(features: pa.Table) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.image_features import balance_problems, class_shares

        problems = balance_problems(features, 0.01)
        return dg.AssetCheckResult(passed=not problems, metadata={
            "train class shares": json.dumps({c: round(v, 4) for c, v in class_shares(features).items()}),
            "problems": json.dumps(problems)})

    return [_schema, _rows, _balance]


features_checks = [check for name in FEATURES for check in image_features_checks(name, min_rows=100)]

# ------------------------------------------------------------------ models (book settings as defaults)


def _vision_core():
    from ztdl_pipeline.core import vision_models

    return vision_models


class VisionFamily(factory.Family):
    """Image examples: features are pyarrow Tables of uint8 tensors; the exported model takes raw pixels. Each
    step is one call into core/vision_models.py."""

    features_type = pa.Table

    def builder_ref(self, example) -> versioning.Ref:
        """The builder the card names by reference ("ztdl_pipeline.core.vision_models:mnist_cnn")."""
        return versioning.Ref(*refs.split(example.builder))

    def train(self, example, features, hyper, **kwargs):
        return _vision_core().train(example, features, hyper, **kwargs)

    def evaluate(self, example, trained, features) -> dict:
        return _vision_core().evaluate(example, trained, features)

    def report_images(self, example, trained, features, metrics: dict) -> dict[str, bytes]:
        return _vision_core().report_images(example, trained, features, metrics)

    def report_markdown(self, example, trained, metrics: dict, images: dict, threshold: float, embed: bool) -> str:
        return _vision_core().report_markdown(example, trained, metrics, images, threshold, embed)

    def view(self, example, features):
        return features

    def serving(self, example, trained, data) -> tuple:
        return trained.model, _vision_core().signature(data)

    def verify(self, path, example, trained, data, raw, signature: dict) -> float:
        return _vision_core().verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        return _vision_core().describe_outputs(data)


VISION = VisionFamily()


class VisionConfig(TrainingConfig):
    """The book's settings of one vision example (subclasses: its values) and the fast profile's overrides
    (FAST), resolved by core/profile.py: explicit run-config values are never overridden."""

    steps_per_epoch: int = 0  # 0: one pass over the training images per epoch; the book's generators: fixed
    train_limit: int = 0  # 0: all training images
    validation: str = "split"  # split: Keras' last validation_split of the train rows; test: the test split
    FAST: ClassVar[dict[str, Any]] = {}

    def settings(self, profile: str) -> P.Settings:
        return P.resolve_config(self, profile, self.FAST)

    def resolve(self, profile: str):
        from ztdl_pipeline.core.vision_models import hyper_of

        return hyper_of(self.settings(profile))


# ------------------------------------------------------------------ data: book settings and fast overrides per example
# (the cards themselves, with the book's numbers and gates: core/vision_cards.py)


class MnistFcConfig(VisionConfig):
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "rmsprop"
    validation_split: float = 0.1
    FAST: ClassVar[dict[str, Any]] = {"epochs": 2}


class MnistCnnConfig(VisionConfig):
    epochs: int = 5
    batch_size: int = 128
    optimizer: str = "rmsprop"
    validation_split: float = 0.3
    FAST: ClassVar[dict[str, Any]] = {"epochs": 2}


class Cifar10CnnConfig(VisionConfig):
    epochs: int = 2
    batch_size: int = 256
    optimizer: str = "rmsprop"
    validation: str = "test"  # the book validates on the test set: validation_data=(X_test, y_test_cat)
    FAST: ClassVar[dict[str, Any]] = {"epochs": 2}


class Mnist2500Config(VisionConfig):
    epochs: int = 10  # Keras' default; DataCamp's fit(X, y, validation_split=0.3)
    validation_split: float = 0.3
    train_limit: int = 2500
    FAST: ClassVar[dict[str, Any]] = {"epochs": 3}


class DigitsSmallFcConfig(VisionConfig):
    epochs: int = 100
    FAST: ClassVar[dict[str, Any]] = {"epochs": 15}


class MaleFemaleConfig(VisionConfig):
    epochs: int = 3
    batch_size: int = 32  # the book: 16 per GPU × 2 GPUs
    steps_per_epoch: int = 600
    FAST: ClassVar[dict[str, Any]] = {"epochs": 2, "steps_per_epoch": 4}


CONFIGS: dict[str, type[VisionConfig]] = {  # example -> its run config (book values, FAST overrides)
    "mnist_fc": MnistFcConfig, "mnist_cnn": MnistCnnConfig, "mnist_two_conv": MnistCnnConfig,
    "cifar10_cnn": Cifar10CnnConfig, "mnist_2500_mlp": Mnist2500Config, "digits_small_fc": DigitsSmallFcConfig,
    "male_female_cnn": MaleFemaleConfig}
EXAMPLES: list[tuple[Card, type[VisionConfig]]] = [(card, CONFIGS[card.name]) for card in CARDS]
_built = [factory.example_assets(example, GROUP, config, VISION) for example, config in EXAMPLES]
example_assets = [a for built_assets, _ in _built for a in built_assets]
example_checks = [c for _, built_checks in _built for c in built_checks]

# ------------------------------------------------------------------ chapter reports (many runs, one report)


def chapter_asset(name: str, upstream: str, experiment: str, config_cls: type[dg.Config], description: str,
                  pool: str | None = "gpu") -> dg.AssetsDefinition:
    """reports/<name>: one report over many training runs: the `experiment` (a reference to a core function
    returning a core/chapter.Chapter) run on one upstream asset with the run's settings of `config_cls`."""

    @factory.versioned_asset(versioning.Ref(*refs.split(experiment)), key=["reports", name],
                             ins={"data": dg.AssetIn(upstream.split("/"))}, group_name=GROUP,
                             io_manager_key="report_io", kinds={"keras", "markdown"}, pool=pool,
                             description=description)
    def _chapter(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                 compute: TensorFlowCompute, storage: factory.Storage, data) -> dg.Output[dict]:
        from ztdl_pipeline.core.chapter import Run

        device = compute.setup()
        settings = run_settings(context, config, storage)
        run = Run(profile=settings.profile, device=device, strategy=compute.strategy(),
                  jit_compile=compute.jit_compile, seed_fn=compute.seed_everything, log=context.log.info)
        chapter = refs.resolve(experiment)(data, **settings.values, run=run)
        return chapter_output(storage, name, chapter, settings.adjustments)

    return _chapter


class LearningCurveConfig(dg.Config):
    fractions: list[float] = [0.1, 0.3, 0.5, 0.7, 0.9]  # np.linspace(0.1, 0.90, 5): 125 … 1,131 digits
    epochs: int = 100
    batch_size: int = 32
    seed: int = 42
    FAST: ClassVar[dict[str, Any]] = {"epochs": 5}


class DigitsImprovementsConfig(dg.Config):
    variants: list[str] = ["base", "l2", "dropout", "dropout_max_norm", "batch_norm", "augmentation"]
    base_repeats: int = 5  # the book repeats the base model 5 times, every variant 3 times
    repeats: int = 3
    epochs: int = 40
    batch_size: int = 256
    batch_norm_epochs: int = 15  # batch norm: batch 32 for 15 epochs ("40 updates per epoch", L14464)
    batch_norm_batch_size: int = 32
    augmentation_steps_per_epoch: int = 5  # fit_generator(steps_per_epoch=5) with batches of 256
    images: int = 0  # training digits used; 0: all (the book)
    seed: int = 42
    FAST: ClassVar[dict[str, Any]] = {"epochs": 2, "batch_norm_epochs": 2, "base_repeats": 1, "repeats": 1,
                                      "images": 400}


class SquirrelConfig(dg.Config):
    """The book's ImageDataGenerator for the demo: shifts 0.1, rotation 20°, zoom 0.3, horizontal flip (its
    shear_range 0.3 is 0.3 degrees: left out), flow_from_directory(target_size=(128, 128))."""

    shift: float = 0.1
    rotation_degrees: float = 20
    zoom: float = 0.3
    horizontal_flip: bool = True
    size: int = 128
    count: int = 16
    seed: int = 42
    FAST: ClassVar[dict[str, Any]] = {}


class GpuChapterConfig(dg.Config):
    epochs: int = 2
    batch_size: int = 1024
    optimizer: str = "rmsprop"
    devices: list[str] = []  # empty: cpu:0, and gpu:0 when TensorFlow sees a GPU
    images: int = 0  # training images timed; 0: all 50,000 (the book)
    seed: int = 42
    FAST: ClassVar[dict[str, Any]] = {"epochs": 1, "batch_size": 128, "images": 512}


_X = "ztdl_pipeline.core.vision_experiments:"
chapter_reports = [
    chapter_asset("digits_learning_curve", "features/digits", _X + "digits_learning_curve_chapter",
                  LearningCurveConfig, "ch10: the small digits network trained on 10 % … 90 % of the train split, "
                  "scored on the test set"),
    chapter_asset("digits_improvements", "features/digits", _X + "digits_improvements_chapter",
                  DigitsImprovementsConfig, "ch10: the 3×1024 base model and its L2 / dropout / max-norm / "
                  "batch-norm / augmentation variants, repeated runs, mean ± std of train and test accuracy"),
    chapter_asset("squirrel_augmentation", "raw/generator", _X + "squirrel_chapter", SquirrelConfig,
                  "ch10: 16 random augmentations of the generator/ squirrel picture at 128×128", pool=None),
    chapter_asset("cifar10_cpu_vs_gpu", "features/cifar10", _X + "cifar10_devices_chapter", GpuChapterConfig,
                  "ch9: the CIFAR-10 CNN trained on the CPU, on a GPU if there is one, and data-parallel "
                  "(MirroredStrategy) over several devices: seconds per epoch and images per second")]

assets = [*raw_assets, *features_assets, *example_assets, *chapter_reports]
checks = [*features_checks, *example_checks]
