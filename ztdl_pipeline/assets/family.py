"""A family: how its cards train, are judged and are exported. The model, report and export building blocks
call these steps; each step imports its core module when it runs (core modules pull in Keras).

This base class is the tabular family; another domain (vision, text, ...) subclasses it with its own steps and
`features_type` (what its features asset stores). What the blocks read besides a card's features is the family's
too: `model_inputs` and `model_resources` (e.g. the model a fine-tuning continues from, pretrained weights),
`export_inputs` (the rows an export is verified on: raw/<dataset> unless the family says otherwise).
"""


from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from ztdl_pipeline.core import versioning
from ztdl_pipeline.core.specs import Hyper


def raw_name(card) -> str:
    """The raw asset behind a card: its dataset, unless its features are cut from another (`raw_dataset`,
    e.g. several window tables from one time series)."""
    return getattr(card, "raw_dataset", "") or card.dataset


@dataclass
class Fit:
    """What a model asset hands its family's `fit` besides the card, its features and the hyper-parameters."""

    compute: Any  # the TensorFlowCompute resource, set up (`device` describes it)
    device: dict
    settings: Any  # core.profile.Settings: each value and where it came from (None where a domain resolves its own)
    log: Callable[[str], None]
    on_epoch_end: Callable[[int, dict], None]
    backup_dir: str | None = None  # where a resumable training keeps what it needs to resume after a kill
    inputs: dict[str, Any] = field(default_factory=dict)  # the loaded `model_inputs`
    resources: dict[str, Any] = field(default_factory=dict)  # the `model_resources`


class Family:
    features_type: type = pd.DataFrame
    hyper_type: type = Hyper  # what the run config resolves into
    metadata_splits: tuple[str, ...] = ("train", "test", "all")  # metrics sections shown as report metadata
    model_resources: tuple[str, ...] = ()  # resources a model asset needs besides `compute` and `storage`
    export_description = "as a versioned SavedModel taking raw values (TF Serving layout)"
    reload_description = ("tf.saved_model.load of the published version, fed raw test rows, predicts what the "
                          "trained Keras model predicts")
    difference_name = "max_relative_difference"  # what the reload check's metadata calls verify's number
    # a card search's validation rows (core/tuned_search.search_table): a class-stratified random share of the
    # training rows, or the end of the training period for a time series
    search_chronological: bool = False
    search_stratify: str | None = "label"

    def model_inputs(self, card) -> dict[str, tuple[str, str]]:
        """What a card's model reads besides its features: {parameter: (layer, name)}."""
        return {}

    def export_inputs(self, card) -> dict[str, tuple[str, str]]:
        """What a card's export and its reload check read besides the model and its features, handed to
        `verify` by parameter name: {parameter: (layer, name)}; here the raw rows the export is fed."""
        return {"raw": ("raw", raw_name(card))}

    @property
    def resumable(self) -> bool:
        """Whether train() takes `backup_dir`, so a killed training resumes: the tabular steps do; a subclass
        with its own train says so with `resumable = True` once its fits take one."""
        return type(self).train is Family.train

    def builder_ref(self, card) -> versioning.Ref | None:
        """The builder a card names, for code versions (None where the family's model assets call their
        builders directly, so their own source already reaches them)."""
        from ztdl_pipeline.core.refs import split

        ref = versioning.Ref(*split(card.builder))
        return ref if versioning.has_definition(ref) else None

    def fit(self, card, features, hyper, fit: Fit) -> tuple[Any, dict | None]:
        """(the trained model, its metadata; None: the model asset's standard numbers), through `train`."""
        backup = {"backup_dir": fit.backup_dir} if self.resumable else {}
        return self.train(card, features, hyper, strategy=fit.compute.strategy(), jit_compile=fit.compute.jit_compile,
                          seed_fn=fit.compute.seed_everything, on_epoch_end=fit.on_epoch_end, **backup), None

    def train(self, card, features, hyper, **kwargs):
        from ztdl_pipeline.core.tabular import train

        return train(card, features, hyper, **kwargs)

    def evaluate(self, card, trained, features) -> dict:
        from ztdl_pipeline.core.tabular import evaluate

        return evaluate(card, trained, features)

    def report_images(self, card, trained, features, metrics: dict) -> dict[str, bytes]:
        from ztdl_pipeline.core.tabular import report_images

        return report_images(card, trained, features, metrics)

    def report_markdown(self, card, trained, metrics: dict, images: dict, threshold: float, embed: bool) -> str:
        from ztdl_pipeline.core.tabular import report_markdown

        return report_markdown(card, trained, metrics, images, threshold, embed)

    def view(self, card, features):
        """The features as one card sees them (what `serving`, `verify` and `outputs` read)."""
        from ztdl_pipeline.core.tabular import view

        return view(features, card)

    def serving(self, card, trained, data) -> tuple:
        """(the model to export, its input signature {name: {dtype, ...}})."""
        from ztdl_pipeline.catalog import datasets
        from ztdl_pipeline.core import export

        name = raw_name(card)
        nullable = frozenset(c.name for c in datasets.get(name).columns if c.nullable) \
            if name in datasets.CATALOG else frozenset()
        return export.serving_model(trained.model, data.attrs, unknown_ok=nullable)

    def write_export(self, staged, card, trained, data, **inputs) -> tuple[dict, float, dict]:
        """Write the SavedModel into `staged` and verify it: (input signature, max difference vs Keras, registry
        extras); `inputs`: the loaded `export_inputs`."""
        from ztdl_pipeline.core import export

        serving, signature = self.serving(card, trained, data)
        export.write_savedmodel(serving, signature, staged)
        difference = self.verify(staged, card, trained, data, signature, **inputs)
        return signature, difference, {"outputs": self.outputs(data)}

    def verify(self, path, card, trained, data, signature: dict, **inputs) -> float:
        """Reload the SavedModel with plain TensorFlow, feed it raw rows, compare with the Keras model."""
        from ztdl_pipeline.core.export import verify_tabular_savedmodel

        return verify_tabular_savedmodel(path, trained.model, data, inputs["raw"])

    def test_outputs(self, card, trained, features) -> tuple:
        """(the test split's targets, the model's output for them): what a tuned model's report compares with
        the book-settings model's, row by row (core/tuned_gate.compare)."""
        from ztdl_pipeline.core.tuned_report import outputs

        return outputs(trained.model, self.view(card, features), "test")

    def outputs(self, data) -> dict:
        from ztdl_pipeline.core.export import describe_outputs

        return describe_outputs(data.attrs)


TABULAR = Family()


class CoreFamily(Family):
    """A family whose features are pyarrow Tables and whose steps are the same-named functions of one core
    module (`core_module`, imported when a step runs: it pulls in Keras): train, evaluate, report_images,
    report_markdown, signature, verify_export, describe_outputs. Its fits take a backup folder (resumable)."""

    core_module: str = ""
    features_type: type = pa.Table
    resumable = True

    def core(self):
        import importlib

        return importlib.import_module(self.core_module)

    def train(self, card, features, hyper, **kwargs):
        return self.core().train(card, features, hyper, **kwargs)

    def evaluate(self, card, trained, features) -> dict:
        return self.core().evaluate(card, trained, features)

    def report_images(self, card, trained, features, metrics: dict) -> dict[str, bytes]:
        return self.core().report_images(card, trained, features, metrics)

    def report_markdown(self, card, trained, metrics: dict, images: dict, threshold: float, embed: bool) -> str:
        return self.core().report_markdown(card, trained, metrics, images, threshold, embed)

    def view(self, card, features):
        return features

    def serving(self, card, trained, data) -> tuple:
        return trained.model, self.core().signature(data)

    def verify(self, path, card, trained, data, signature: dict, **inputs) -> float:
        return self.core().verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        return self.core().describe_outputs(data)
