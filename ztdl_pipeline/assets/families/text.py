"""The text family (group `text`): pyarrow feature tables (sparse or fixed-size lists of ids); the steps are
core/text_models.py's; exports take raw strings."""

from ztdl_pipeline.assets.family import CoreFamily


class TextFamily(CoreFamily):
    core_module = "ztdl_pipeline.core.text_models"

    def serving(self, card, trained, data) -> tuple:
        return self.core().serving(card, trained, data)  # the text vectorization goes inside the export

    def test_outputs(self, card, trained, features) -> tuple:
        from ztdl_pipeline.core.text import split_xy

        x, y = split_xy(features, "test")
        return y, self.core().predict(trained.model, x)


TEXT = TextFamily()
