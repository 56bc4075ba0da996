"""The vision family: features are pyarrow Tables of uint8 image tensors, the run config resolves into
core.image_specs.VisionHyper, and the exported model takes raw pixels. Each step is one call into
core/vision_models.py."""

from ztdl_pipeline.assets.family import CoreFamily
from ztdl_pipeline.core.image_specs import VisionHyper


class VisionFamily(CoreFamily):
    core_module = "ztdl_pipeline.core.vision_models"
    hyper_type = VisionHyper

    def test_outputs(self, card, trained, features) -> tuple:
        from ztdl_pipeline.core.images import split_arrays

        x, y = split_arrays(features, "test")
        return y, self.core().predict(trained.model, x)


VISION = VisionFamily()
