"""The vision family: features are pyarrow Tables of uint8 image tensors, the run config resolves into
core.image_specs.VisionHyper, and the exported model takes raw pixels. Each step is one call into
core/vision_models.py (imported when the step runs: it pulls in Keras)."""


import pyarrow as pa

from ztdl_pipeline.assets.family import Family
from ztdl_pipeline.core.image_specs import VisionHyper


def _core():
    from ztdl_pipeline.core import vision_models

    return vision_models


class VisionFamily(Family):
    resumable = True  # its core train takes backup_dir: a killed training resumes
    features_type = pa.Table
    hyper_type = VisionHyper

    def train(self, card, features, hyper, **kwargs):
        return _core().train(card, features, hyper, **kwargs)

    def evaluate(self, card, trained, features) -> dict:
        return _core().evaluate(card, trained, features)

    def report_images(self, card, trained, features, metrics: dict) -> dict[str, bytes]:
        return _core().report_images(card, trained, features, metrics)

    def report_markdown(self, card, trained, metrics: dict, images: dict, threshold: float, embed: bool) -> str:
        return _core().report_markdown(card, trained, metrics, images, threshold, embed)

    def view(self, card, features):
        return features

    def serving(self, card, trained, data) -> tuple:
        return trained.model, _core().signature(data)

    def verify(self, path, card, trained, data, raw, signature: dict) -> float:
        return _core().verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        return _core().describe_outputs(data)


VISION = VisionFamily()
