"""The book's image chapters as assets (group `vision`): ch6 CNNs on MNIST and CIFAR-10, the DataCamp MNIST
network, ch9 (training on CPU / GPU / several devices) and ch10 (performance improvement on digits, the
augmentation demo and the male/female exercise).

raw/<data> records a verified file or folder (one row per file, sha256 = data version) ->
features/<data> holds images as fixed-shape uint8 tensors in parquet -> the factory's models / reports /
exports with the vision steps (core/vision_models.py) -> chapter reports that compare many runs.
Keras and TensorFlow are imported inside asset bodies only.
"""

import dataclasses
import json
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline import datasets
from ztdl_pipeline.assets import factory
from ztdl_pipeline.assets.factory import TrainingConfig
from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.specs import TabularExample as Example
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
        if not (self.url or self.sha256):
            return entry
        if not self.sha256:
            raise ValueError(f"raw/{entry.name}: config gives url {self.url} but no sha256; a copy is read "
                             "only with the hash that proves its bytes")
        if isinstance(entry, DatasetFolder):
            return dataclasses.replace(entry, archive_url=self.url or entry.archive_url,
                                       archive_sha256=self.sha256)
        return dataclasses.replace(entry, url=self.url or entry.url, sha256=self.sha256, alt_sha256=())


def raw_source_asset(entry: DatasetFile | DatasetFolder) -> dg.AssetsDefinition:
    """raw/<name>: the verified file (or folder) as an index, one row per file; its sha256 (a folder: the
    manifest's or the archive's) is the data version."""
    folder = isinstance(entry, DatasetFolder)

    @factory.versioned_asset(key=["raw", entry.name], group_name=GROUP, io_manager_key="parquet_io",
              kinds={"pandas", "parquet"},
              description=f"{entry.folder + '/' if folder else entry.filename}: {entry.description}")
    def _raw(context: dg.AssetExecutionContext, config: SourceConfig,
             data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
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
            counts = index.groupby(["split", "class_name"]).size()
            metadata["files per split/class"] = json.dumps({"/".join(filter(None, k)): int(v)
                                                            for k, v in counts.items()})
        return dg.Output(index, data_version=dg.DataVersion(digest), metadata=metadata)

    return _raw


raw_assets = [raw_source_asset(datasets.get(name))
              for name in ("mnist", "cifar10", "digits", "male_female", "generator")]

# ------------------------------------------------------------------ features


class ImageFeaturesConfig(dg.Config):
    fast_train: int = 2000  # images kept per split under the fast profile (class-stratified); 0: all
    fast_test: int = 500
    seed: int = 0


class DigitsFeaturesConfig(ImageFeaturesConfig):
    fast_train: int = 0  # 1,797 digits: the fast profile keeps the book's whole split
    fast_test: int = 0


class FolderFeaturesConfig(ImageFeaturesConfig):
    image_size: int = 64  # the book's flow_from_directory target_size (64, 64)
    resample: str = "nearest"  # Keras load_img's default interpolation
    fast_train: int = 240
    fast_test: int = 100


def image_features_asset(name: str, reader: str, description: str,
                         config_cls: type[ImageFeaturesConfig]) -> dg.AssetsDefinition:
    """features/<name>: the images as a pyarrow Table (uint8 tensor column, label, split) in parquet."""

    @factory.versioned_asset(key=["features", name], ins={"raw": dg.AssetIn(["raw", name])}, group_name=GROUP,
              io_manager_key="parquet_io", kinds={"pyarrow", "parquet"},
              description=description)
    def _features(config: config_cls, storage: factory.Storage,  # type: ignore[valid-type]
                  raw: pd.DataFrame) -> dg.Output[pa.Table]:
        from ztdl_pipeline.core import images

        images.verify_files(raw, f"raw/{name}")
        profile = storage.run_profile()
        limits = {"train": config.fast_train, "test": config.fast_test} if profile == "fast" else {}
        options = {"size": config.image_size, "resample": config.resample} if reader == "folder" else {}
        pixels, labels, splits, attrs = getattr(images, f"read_{reader}")(raw, limits, config.seed, **options)
        table = images.image_table(pixels, labels, splits,
                                   {**attrs, "dataset": name, "source": f"raw/{name}", "profile": profile})
        meta = images.table_attrs(table)
        return dg.Output(table, metadata={
            "rows": table.num_rows, **{f"rows_{s}": n for s, n in meta["splits"].items()},
            "image": f"uint8 {'×'.join(map(str, meta['image_shape']))}",
            "classes": json.dumps(meta["classes"]),
            "split": json.dumps(meta["split"]), "profile": profile, "dagster/row_count": table.num_rows,
            "pixel mean (uint8)": float(pixels.mean()) if len(pixels) else 0.0,
            "class counts (train)": json.dumps(_counts(labels[splits == "train"], meta["classes"]))})

    return _features


def _counts(labels, classes) -> dict[str, int]:
    import numpy as np

    return {str(c): int(n) for c, n in zip(classes, np.bincount(labels, minlength=len(classes)))}


# name: (reader in core/images.py, description, config)
FEATURES: dict[str, tuple[str, str, type[ImageFeaturesConfig]]] = {
    "mnist": ("mnist", ("MNIST 28×28 uint8, official 60,000/10,000 split (fast profile: a stratified "
                       "2,000/500 sample)"), ImageFeaturesConfig),
    "cifar10": ("cifar10", ("CIFAR-10 32×32×3 uint8, official 50,000/10,000 split (fast profile: at most "
                           "2,000/500)"), ImageFeaturesConfig),
    "digits": ("digits", ("sklearn digits 8×8 uint8 (0–16), 70/30 split stratified, random_state 0 (ch10): "
                         "1,257/540"), DigitsFeaturesConfig),
    "male_female": ("folder", ("faces resized to 64×64×3 uint8 (nearest, as flow_from_directory), train/test "
                              "folders; classes 0_female, 1_male (fast profile: 240/100)"),
                    FolderFeaturesConfig),
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
        from ztdl_pipeline.core.images import table_attrs

        splits = table_attrs(features).get("splits", {})
        passed = features.num_rows >= min_rows and splits.get("train", 0) > 0 and splits.get("test", 0) > 0
        return dg.AssetCheckResult(passed=bool(passed), metadata={"rows": features.num_rows, **splits})

    @dg.asset_check(asset=key, name="label_balance", blocking=True,
                    description="every class is present in the train split, none below 1 % of it")
    def _balance(features: pa.Table) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.images import split_arrays, table_attrs

        classes = table_attrs(features)["classes"]
        labels = split_arrays(features, "train")[1]
        shares = {c: n / max(1, len(labels)) for c, n in _counts(labels, classes).items()}
        return dg.AssetCheckResult(passed=min(shares.values()) >= 0.01, metadata={
            "train class shares": json.dumps({c: round(v, 4) for c, v in shares.items()})})

    return [_schema, _rows, _balance]


features_checks = [check for name in FEATURES for check in image_features_checks(name, min_rows=100)]

# ------------------------------------------------------------------ models (book settings as defaults)


def _vision_core():
    from ztdl_pipeline.core import vision_models

    return vision_models


class VisionFamily(factory.Family):
    """Image examples: features are pyarrow Tables of uint8 tensors; the exported model takes raw pixels."""

    builder_module = "ztdl_pipeline.core.vision_models"

    features_type = pa.Table

    def train(self, example, features, hyper, **kwargs):
        return _vision_core().train(example, features, hyper, **kwargs)

    def evaluate(self, example, trained, features) -> dict:
        return _vision_core().evaluate(example, trained, features)

    def report_images(self, example, trained, features, metrics: dict) -> dict[str, bytes]:
        return _vision_core().report_images(example, trained, features, metrics)

    def report_markdown(self, example, trained, metrics: dict, images: dict, threshold: float,
                        embed: bool) -> str:
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
    steps_per_epoch: int = 0  # 0: one pass over the training images per epoch; the book's generators: fixed
    train_limit: int = 0  # 0: all training images
    validation: str = "split"  # split: Keras' last validation_split of the train rows; test: the test split
    fast_steps_per_epoch: int = 4  # cap on steps_per_epoch under the fast profile

    def resolve(self, profile: str):
        from ztdl_pipeline.core.vision_models import VisionHyper

        hyper = super().resolve(profile)
        steps = self.steps_per_epoch
        if hyper.profile == "fast" and steps:
            steps = min(steps, self.fast_steps_per_epoch)
        return VisionHyper(**dataclasses.asdict(hyper), steps_per_epoch=steps, train_limit=self.train_limit,
                           validation=self.validation)


class MnistFcConfig(VisionConfig):
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "rmsprop"
    validation_split: float = 0.1
    fast_epochs: int = 2


class MnistCnnConfig(VisionConfig):
    epochs: int = 5
    batch_size: int = 128
    optimizer: str = "rmsprop"
    validation_split: float = 0.3
    fast_epochs: int = 2


class Cifar10CnnConfig(VisionConfig):
    epochs: int = 2
    batch_size: int = 256
    optimizer: str = "rmsprop"
    validation: str = "test"  # the book validates on the test set: validation_data=(X_test, y_test_cat)
    fast_epochs: int = 2


class Mnist2500Config(VisionConfig):
    epochs: int = 10  # Keras' default; DataCamp's fit(X, y, validation_split=0.3)
    validation_split: float = 0.3
    train_limit: int = 2500
    fast_epochs: int = 3


class DigitsSmallFcConfig(VisionConfig):
    epochs: int = 100
    fast_epochs: int = 15


class MaleFemaleConfig(VisionConfig):
    epochs: int = 3
    batch_size: int = 32  # the book: 16 per GPU × 2 GPUs
    steps_per_epoch: int = 600
    fast_epochs: int = 2


_MNIST_NOTE = ("MNIST here is the mirror's repack of Keras' mnist.npz (same arrays, different bytes); pixels "
               "reach the model as raw uint8 and are rescaled by its first layer.")

EXAMPLES: list[tuple[Example, type[VisionConfig]]] = [
    (Example(
        name="mnist_fc", dataset="mnist", title="ch6 MNIST: fully connected network",
        source="book ch6.mnist_fully_connected (L7834–8211)", builder="mnist_fc",
        loss="categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.01, fast_floor=0.6,
        book=(B("test", "accuracy", 0.9813, "L8187"), B("train", "accuracy", 0.9954666666666667, "L8201"),
              B("history", "accuracy", 0.9949, "L8152 (epoch 10)"),
              B("history", "val_accuracy", 0.9823, "L8153"), B("history", "val_loss", 0.0987, "L8153")),
        notes=_MNIST_NOTE), MnistFcConfig),
    (Example(
        name="mnist_cnn", dataset="mnist", title="ch6 MNIST: convolutional network",
        source="book ch6.mnist_cnn (L8763–8894)", builder="mnist_cnn", loss="categorical_crossentropy",
        primary=("test", "accuracy"), tolerance=0.01, fast_floor=0.75,
        book=(B("test", "accuracy", 0.9835, "L8891"), B("train", "accuracy", 0.9889, "L8890"),
              B("history", "val_accuracy", 0.9812, "L8862 (epoch 5)"),
              B("history", "val_loss", 0.0616, "L8862")),
        notes=_MNIST_NOTE), MnistCnnConfig),
    (Example(
        name="mnist_two_conv", dataset="mnist", title="ch6 exercise 1: MNIST with two convolution blocks",
        source="book sol.ch6.ex1_mnist_two_conv (L21976–22105)", builder="mnist_two_conv",
        loss="categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.02, fast_floor=0.5,
        book=(B("test", "accuracy", 0.9752, "L22105"), B("test", "loss", 0.0788327644346282, "L22105"),
              B("history", "val_accuracy", 0.9737, "L22096 (epoch 5)")),
        notes=_MNIST_NOTE), MnistCnnConfig),
    (Example(
        name="cifar10_cnn", dataset="cifar10", title="ch6 exercise 2: CIFAR-10 convolutional network",
        source="book sol.ch6.ex2_cifar10_cnn (L22107–22256)", builder="cifar10_cnn",
        loss="categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.05, fast_floor=0.2,
        book=(B("test", "accuracy", 0.5152, "L22255 val_acc: the book validates on the test set"),
              B("test", "loss", 1.3521, "L22255 val_loss"),
              B("history", "accuracy", 0.4993, "L22255 (epoch 2)")),
        notes="CIFAR-10 is not in the data mirror: offline, raw/cifar10 fails with a DataError unless its "
              "run config points at a copy (url + sha256). The book runs 2 epochs only, so its 0.52 is far "
              "from what the network can reach."), Cifar10CnnConfig),
    (Example(
        name="mnist_2500_mlp", dataset="mnist", title="DataCamp: MNIST on 2,500 images",
        source="DataCamp memo dc.mnist_2500 (001:L1245–1330)", builder="mnist_2500_mlp",
        loss="categorical_crossentropy", primary=("test", "accuracy"), threshold=0.85, fast_floor=0.5,
        book=(B("history", "val_accuracy", 0.9053, "001:L1327 (epoch 10, 750 held-out images)"),
              B("history", "accuracy", 0.9823, "001:L1327")),
        notes="DataCamp trains on 2,500 MNIST images (1,750 + 750 validation) and prints only the "
              "validation accuracy; we use the first 2,500 training images and also judge the model on the "
              "official 10,000 test images. The memo says its pixels are not rescaled, but its first-epoch "
              "loss (1.6672) is what this network shows on pixels / 255 (1.60–1.65 over three seeds here); "
              "on raw 0–255 values it starts at 17–20 and ends at 0.76–0.84 validation accuracy, so the model "
              "rescales by 1/255 (builder option scale=1.0 for the raw variant). Gate: test accuracy ≥ 0.85 "
              "(DataCamp's 0.9053 on 750 images minus a margin for a 13× larger test set)."),
        Mnist2500Config),
    (Example(
        name="digits_small_fc", dataset="digits", title="ch10 digits: small fully connected network",
        source="book ch10.digits_small_fc (L13438–13726)", builder="digits_small_fc",
        loss="categorical_crossentropy", primary=("test", "accuracy"), tolerance=0.03, fast_floor=0.5,
        book=(B("train", "accuracy", 0.9952, "L13722"), B("test", "accuracy", 0.9741, "L13723"))),
        DigitsSmallFcConfig),
    (Example(
        name="male_female_cnn", dataset="male_female", title="ch10 exercise: male/female faces CNN",
        source="book sol.ch10.ex1_male_female_cnn (L23408–23747)", builder="male_female_cnn",
        loss="binary_crossentropy", primary=("test", "accuracy"), tolerance=0.05, fast_floor=0.5,
        builder_kwargs={"augmentation": {"shift": 0.1, "rotation_degrees": 10, "zoom": 0.2,
                                         "horizontal_flip": True}},
        book=(B("test", "accuracy", 0.809931506849315, "L23627"),
              B("test", "loss", 0.39503416067933383, "L23627"),
              B("history", "accuracy", 0.7938, "L23619 (epoch 3)")),
        notes="The exercise asks for at least 85 % test accuracy; the book's solution reaches 0.81. The "
              "mirror holds 900 of the book's 14,583 pictures (700 train, 200 test): on a 17× smaller "
              "training set the network overfits (600 steps × 3 epochs are 82 passes over 700 pictures) and "
              "stays well below the book, so the gate (the book's 0.81 − 0.05) blocks its export; point "
              "raw/male_female at the book's archive (run config url + sha256) for the full set. Augmentation (shift 0.1, rotation 10°, zoom 0.2, horizontal "
              "flip) is inside the model as Keras preprocessing layers, active only in training; "
              "ImageDataGenerator's shear_range 0.2 is in degrees and changes nothing visible at 64×64, so "
              "it is left out."),
        MaleFemaleConfig),
]

_built = [factory.example_assets(example, GROUP, config, VISION) for example, config in EXAMPLES]
example_assets = [a for built_assets, _ in _built for a in built_assets]
example_checks = [c for _, built_checks in _built for c in built_checks]

# ------------------------------------------------------------------ chapter reports (many runs, one report)


def _chapter_asset(name: str, upstream: str, description: str, pool: str | None = "gpu"):
    """reports/<name>: one report over many training runs, reading one upstream asset (its layer names
    the argument: features or raw)."""
    layer = upstream.split("/")[0]
    return factory.versioned_asset(key=["reports", name], ins={layer: dg.AssetIn(upstream.split("/"))},
                                   group_name=GROUP, io_manager_key="report_io", kinds={"keras", "markdown"},
                                   pool=pool, description=description)


def _chapter_report(folder, title: str, sections: list, images: dict, result: dict,
                    metadata: dict) -> dg.Output[dict]:
    """Write <folder> = reports/<name>/ (report.md, PNGs; metrics.json by the IO manager); show it in the UI."""
    from ztdl_pipeline.core.report import render, write_report_folder

    write_report_folder(folder, render(title, sections, images, embed=False), images)
    return dg.Output(result, metadata={
        **metadata, "report": dg.MetadataValue.md(render(title, sections, images, embed=True)),
        "report_folder": dg.MetadataValue.path(str(folder))})


def _profile_epochs(config, epochs: int, profile: str) -> tuple[str, bool, int]:
    fast = profile == "fast"
    return profile, fast, min(epochs, config.fast_epochs) if fast else epochs


class LearningCurveConfig(dg.Config):
    fractions: list[float] = [0.1, 0.3, 0.5, 0.7, 0.9]  # np.linspace(0.1, 0.90, 5): 125 … 1,131 digits
    epochs: int = 100
    batch_size: int = 32
    seed: int = 42
    fast_epochs: int = 5


@_chapter_asset("digits_learning_curve", "features/digits",
                "ch10: the small digits network trained on 10 % … 90 % of the train split, scored on the "
                "test set")
def digits_learning_curve(context: dg.AssetExecutionContext, config: LearningCurveConfig,
                          compute: TensorFlowCompute, storage: factory.Storage, features: pa.Table) -> dg.Output[dict]:
    compute.setup()
    from ztdl_pipeline.core import images as I
    from ztdl_pipeline.core import vision_models as V
    from ztdl_pipeline.core.report import markdown_table
    from ztdl_pipeline.core.specs import Hyper

    profile, _, epochs = _profile_epochs(config, config.epochs, storage.run_profile())
    example = next(e for e, _ in EXAMPLES if e.name == "digits_small_fc")
    hyper = Hyper(epochs=epochs, batch_size=config.batch_size, optimizer="adam", learning_rate=0.001)
    train_xy, test_xy = I.split_arrays(features, "train"), I.split_arrays(features, "test")
    context.log.info(f"learning curve over {config.fractions} of {len(train_xy[0])} digits, {epochs} epochs")
    compute.seed_everything(config.seed)
    model = V.build(example, I.table_attrs(features), hyper, compute.jit_compile)
    points = V.learning_curve(model, train_xy, test_xy, fractions=config.fractions, epochs=epochs,
                              batch_size=config.batch_size, n_classes=10, seed=config.seed)
    table = markdown_table(["train images", "train accuracy (subset)", "test accuracy"],
                           [[p["train_size"], p["train_accuracy"], p["test_accuracy"]] for p in points])
    sections = [
        ("Learning curve", table),
        ("The book", ("Plot only: train sizes [125, 377, 628, 879, 1131] (L13781); \"the test score would "
                      "keep improving if we added more data\" (L13891).")),
        ("Settings", (f"Profile {profile}: {epochs} epochs per size (book 100), batch {config.batch_size}, "
                      "adam. Before each size the model goes back to its initial weights (the optimizer "
                      "keeps its state, as in the book); subsets are stratified "
                      "train_test_split(train_size=n, random_state=0), as the book's.")),
        ("Source", "book ch10.digits_learning_curve (L13742–13891)")]
    images = {"learning_curve": V.learning_curve_plot(points, "digits: accuracy vs training images")}
    return _chapter_report(storage.folder("reports", "digits_learning_curve"), "ch10 digits learning curve", sections, images,
                           {"profile": profile, "epochs": epochs, "points": points},
                           {f"test_accuracy_{p['train_size']}": p["test_accuracy"] for p in points})


class DigitsImprovementsConfig(dg.Config):
    variants: list[str] = ["base", "l2", "dropout", "dropout_max_norm", "batch_norm", "augmentation"]
    base_repeats: int = 5  # the book repeats the base model 5 times, every variant 3 times
    repeats: int = 3
    epochs: int = 40
    batch_size: int = 256
    batch_norm_epochs: int = 15  # batch norm: batch 32 for 15 epochs ("40 updates per epoch", L14464)
    batch_norm_batch_size: int = 32
    augmentation_steps_per_epoch: int = 5  # fit_generator(steps_per_epoch=5) with batches of 256
    seed: int = 42
    fast_epochs: int = 2
    fast_repeats: int = 1
    fast_images: int = 400  # training digits used under the fast profile (the test split stays whole)


_IMPROVEMENTS_BOOK = (
    "Chapter 10 prints no number for these runs, only mean ± std curves: the base model overfits (L14085); "
    "L2 \"does not seem to improve\" (L14201); dropout gets the test score \"above the base model for the "
    "first time (although not by much)\" with train below test (L14298); max-norm is \"not qualitatively "
    "different\" (L14375); batch norm overfits \"a lot less\" (L14506); augmentation \"improved the "
    "performance … on our test set\" (L14820).")


@_chapter_asset("digits_improvements", "features/digits",
                "ch10: the 3×1024 base model and its L2 / dropout / max-norm / batch-norm / augmentation "
                "variants, repeated runs, mean ± std of train and test accuracy")
def digits_improvements(context: dg.AssetExecutionContext, config: DigitsImprovementsConfig,
                        compute: TensorFlowCompute, storage: factory.Storage, features: pa.Table) -> dg.Output[dict]:
    compute.setup()
    import numpy as np

    from ztdl_pipeline.core import images as I
    from ztdl_pipeline.core import vision_models as V
    from ztdl_pipeline.core.report import markdown_table
    from ztdl_pipeline.core.training import compile_model

    profile, fast, _ = _profile_epochs(config, config.epochs, storage.run_profile())
    train_xy, test_xy = I.split_arrays(features, "train"), I.split_arrays(features, "test")
    if fast:
        train_xy = (train_xy[0][:config.fast_images], train_xy[1][:config.fast_images])
    results: dict[str, dict] = {}
    for variant in config.variants:
        batch_norm, augmented = variant == "batch_norm", variant == "augmentation"
        epochs = config.batch_norm_epochs if batch_norm else config.epochs
        repeats = config.base_repeats if variant == "base" else config.repeats
        if fast:
            epochs, repeats = min(epochs, config.fast_epochs), min(repeats, config.fast_repeats)
        options = V.DIGITS_VARIANTS[variant]

        def build(options=options, name=f"digits_{variant}"):
            return compile_model(V.digits_deep((8, 8), **options, name=name), V.make_optimizer("adam", 0.001),
                                 "categorical_crossentropy", ["accuracy"], jit_compile=compute.jit_compile)

        context.log.info(f"{variant}: {repeats} runs × {epochs} epochs")
        results[variant] = V.repeat_train(
            build, train_xy, test_xy, repeats=repeats, epochs=epochs, n_classes=10, seed=config.seed,
            batch_size=config.batch_norm_batch_size if batch_norm else config.batch_size,
            steps_per_epoch=config.augmentation_steps_per_epoch if augmented else 0,
            seed_fn=compute.seed_everything)
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
        ("The book", _IMPROVEMENTS_BOOK),
        ("Settings", (f"Profile {profile}, {len(train_xy[0])} training digits. Adam, categorical "
                      "cross-entropy, validated on the 540 test digits every epoch (the book's "
                      "validation_data). L2 0.005; dropout 0.1 on the input, 0.5 after each hidden layer; "
                      "max-norm 2.0; batch norm before each relu and on the logits; augmentation: shift 0.1, "
                      "rotation 10°, zoom 0.1, constant fill (Keras preprocessing layers; "
                      "ImageDataGenerator's shear of 0.1° left out), 5 steps of 256 per epoch.")),
        ("Source", "book ch10.digits_base_model … digits_augmentation (L13893–14820)")]
    images = {"accuracy_curves": V.mean_std_curves(results, "digits: train (dashed) and test accuracy, "
                                                            "mean ± std")}
    metadata: dict[str, Any] = {}
    for name, r in results.items():
        metadata[f"{name}_test_mean"] = float(np.mean(r["final_test"]))
        metadata[f"{name}_train_mean"] = float(np.mean(r["final_train"]))
    return _chapter_report(storage.folder("reports", "digits_improvements"), "ch10 digits: regularization, batch norm, augmentation",
                           sections, images, {"profile": profile, "variants": results}, metadata)


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


@_chapter_asset("squirrel_augmentation", "raw/generator",
                "ch10: 16 random augmentations of the generator/ squirrel picture at 128×128", pool=None)
def squirrel_augmentation(config: SquirrelConfig, compute: TensorFlowCompute, storage: factory.Storage,
                          raw: pd.DataFrame) -> dg.Output[dict]:
    compute.setup()
    from ztdl_pipeline.core import images as I
    from ztdl_pipeline.core import vision_models as V

    I.verify_files(raw, "raw/generator")
    classes = sorted(raw.class_name.unique())
    picture = I.decode_image(raw.file.iloc[0], (config.size, config.size))
    augmentation = {k: getattr(config, k) for k in ("shift", "rotation_degrees", "zoom", "horizontal_flip")}
    samples = V.augment_samples(picture, augmentation, config.count, config.seed)
    images = {"augmented": I.image_grid(list(samples), [f"#{i + 1}" for i in range(len(samples))],
                                        "random augmentations (training=True)"),
              "original": I.image_grid([picture], ["original"], f"{config.size}×{config.size}", columns=1)}
    changed = float((samples != picture[None]).mean())
    sections = [
        ("Found", (f"Found {len(raw)} images belonging to {len(classes)} classes (book L14575: \"Found 1 "
                   "images belonging to 1 classes.\").")),
        ("Augmentation", f"{json.dumps(augmentation)}; {changed:.1%} of the pixels differ from the original"),
        ("Source", "book ch10.squirrel_augmentation_demo (L14508–14590)")]
    return _chapter_report(storage.folder("reports", "squirrel_augmentation"), "ch10 augmentation demo", sections, images,
                           {"images": len(raw), "classes": classes, "augmentation": augmentation,
                            "count": len(samples), "changed_pixel_share": changed},
                           {"changed_pixel_share": changed, "augmented_images": len(samples)})


# The book's table (L13195–13348): device, seconds of epochs 1 and 2, total seconds (2 epochs, batch 1024)
BOOK_DEVICES = [("CPU", (31, 29), 60.376), ("1 GPU", (6, 4), 9.329),
                ("2 GPUs, multi_gpu_model, batch 2048", (4, 2), 6.800)]


class GpuChapterConfig(dg.Config):
    epochs: int = 2
    batch_size: int = 1024
    optimizer: str = "rmsprop"
    devices: list[str] = []  # empty: cpu:0, and gpu:0 when TensorFlow sees a GPU
    seed: int = 42
    fast_epochs: int = 1
    fast_images: int = 512
    fast_batch_size: int = 128


_DEVICES_NOTES = (
    "The first epoch includes tracing (and on a GPU the transfer of the model), as the book notes "
    "(L13258). Mixed precision (float16 compute, float32 softmax) is used on GPUs when the compute resource "
    "enables it; the CPU runs float32. Data parallelism uses tf.distribute.MirroredStrategy with the global "
    "batch scaled by the number of replicas (the book's multi_gpu_model is gone from Keras).")


@_chapter_asset("cifar10_cpu_vs_gpu", "features/cifar10",
                "ch9: the CIFAR-10 CNN trained on the CPU, on a GPU if there is one, and data-parallel "
                "(MirroredStrategy) over several devices: seconds per epoch and images per second")
def cifar10_cpu_vs_gpu(context: dg.AssetExecutionContext, config: GpuChapterConfig,
                       compute: TensorFlowCompute, storage: factory.Storage, features: pa.Table) -> dg.Output[dict]:
    device = compute.setup()
    from ztdl_pipeline.core import vision_models as V
    from ztdl_pipeline.core.images import split_arrays
    from ztdl_pipeline.core.report import markdown_table
    from ztdl_pipeline.core.training import compile_model

    profile, fast, epochs = _profile_epochs(config, config.epochs, storage.run_profile())
    x, y = split_arrays(features, "train")  # the book times the 50,000 training images
    batch = min(config.batch_size, config.fast_batch_size) if fast else config.batch_size
    if fast:
        x, y = x[:config.fast_images], y[:config.fast_images]
    devices = config.devices or ["cpu:0", *(["gpu:0"] if device["gpus"] else [])]

    def build():
        return compile_model(V.cifar10_gpu_cnn((32, 32, 3)), V.make_optimizer(config.optimizer, 0.001),
                             "categorical_crossentropy", ["accuracy"], jit_compile=compute.jit_compile)

    context.log.info(f"timing {len(x)} images × {epochs} epochs, batch {batch}, on {devices} "
                     f"(+ MirroredStrategy if {device['replicas']} replicas > 1)")
    rows = V.device_comparison(build, x, y, devices=devices, epochs=epochs, batch_size=batch, n_classes=10,
                               seed=config.seed, mixed_precision=device["mixed_precision"],
                               strategy=compute.strategy(), seed_fn=compute.seed_everything)
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
    measured = f"Profile {profile}: {len(x)} images, {epochs} epoch(s), batch {batch}. "
    if not device["gpus"]:
        measured += ("No GPU is visible to TensorFlow here, so only the CPU (and, with several logical "
                     "devices, the MirroredStrategy) rows were measured. ")
    sections = [("Ours", ours), ("The book (50,000 images, batch 1024, 2 epochs)", book),
                ("Notes", measured + _DEVICES_NOTES),
                ("Source", "book ch9.cifar10_cpu_vs_gpu, cifar10_multi_gpu_data_parallel (L13084–13371)")]
    book_rows = [{"device": n, "epoch_seconds": list(e), "total_seconds": t} for n, e, t in BOOK_DEVICES]
    return _chapter_report(storage.folder("reports", "cifar10_cpu_vs_gpu"), "ch9 CIFAR-10: CPU vs GPU vs several devices", sections, {},
                           {"profile": profile, "images": len(x), "epochs": epochs, "rows": rows,
                            "book": book_rows, "compute": device},
                           {f"{r['device']} images/s": r["images_per_second_last_epoch"] for r in rows})


chapter_reports = [digits_learning_curve, digits_improvements, squirrel_augmentation, cifar10_cpu_vs_gpu]

assets = [*raw_assets, *features_assets, *example_assets, *chapter_reports]
checks = [*features_checks, *example_checks]
