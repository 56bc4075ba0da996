"""The types the image catalogues (catalog/vision.py, catalog/transfer.py) are written in: plain data, no Keras,
so the code location loads them without TensorFlow. Core functions take them; the wiring turns them into assets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ztdl_pipeline.core.specs import Card, Hyper


@dataclass(frozen=True)
class VisionHyper(Hyper):
    """Resolved hyper-parameters of an image model's training run (core/vision_models.train)."""

    steps_per_epoch: int = 0  # 0: one pass over the training images per epoch
    train_limit: int = 0  # 0: every training image (DataCamp trains on the first 2500)
    validation: str = "split"  # split: Keras' last `validation_split` of the train rows; test: the test split


@dataclass(frozen=True)
class ImageFeatures:
    """features/<dataset>: raw/<dataset>'s files read by `reader` (a reference) into a uint8 image table
    (core/image_features.build); `settings` are its book values (run-config defaults), `fast` the fast
    profile's changes of them."""

    dataset: str
    reader: str  # "ztdl_pipeline.core.images:read_mnist"
    description: str
    settings: Mapping[str, Any]
    fast: Mapping[str, Any] = field(default_factory=dict)
    min_rows: int = 100


@dataclass(frozen=True)
class Experiment:
    """reports/<name>: a chapter experiment over many runs, `function` (a reference to a core function
    returning a core.chapter.Chapter) run on one upstream asset with the settings' book values (`fast`: the
    fast profile's changes); `card` names a card whose builder it trains, passed as `card=`; `tensorboard`: its
    trainings write per-epoch TensorBoard scalars through the Run's epoch hook (assets/chapters.experiment_asset)."""

    name: str
    upstream: tuple  # (layer, name), or several ((layer, name), ...) passed as {name: value}
    function: str
    settings: Mapping[str, Any]
    description: str
    fast: Mapping[str, Any] = field(default_factory=dict)
    card: str = ""
    pool: str | None = "gpu"
    tensorboard: bool = False
    book: tuple = ()  # core.report.BookNumber: what the book prints for it, passed as `book=` when given


@dataclass(frozen=True)
class TransferCard(Card):
    """A ch11 model of raw pixels on Xception: `kind` says how it trains (head: on the bottleneck vectors;
    end_to_end: frozen Xception + head on the pictures; fine_tuned: the top blocks unfrozen, continuing from
    the model `start` names)."""

    raw_dataset: str = ""  # the raw asset listing the pictures behind the bottleneck features
    kind: str = "head"
    start: str = ""  # models/<start> a fine-tuned card continues from


@dataclass(frozen=True)
class Bottlenecks:
    """features/<name>_bottlenecks: Xception vectors of the pictures raw/<raw> lists."""

    name: str
    raw: str

    @property
    def dataset(self) -> str:
        return f"{self.name}_bottlenecks"
