"""The vision family: features are pyarrow Tables of uint8 image tensors, the run config resolves into
core.image_specs.VisionHyper, and the exported model takes raw pixels. Each step is one call into
core/vision_models.py."""

from ztdl_pipeline.assets.family import CoreFamily
from ztdl_pipeline.core.image_specs import VisionHyper


class VisionFamily(CoreFamily):
    core_module = "ztdl_pipeline.core.vision_models"
    hyper_type = VisionHyper


VISION = VisionFamily()
