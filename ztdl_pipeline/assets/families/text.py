"""The text family (group `text`): pyarrow feature tables (sparse or fixed-size lists of ids); the steps are
core/text_models.py's; exports take raw strings."""

import pyarrow as pa

from ztdl_pipeline.assets.family import Family


def _core():
    from ztdl_pipeline.core import text_models  # Keras: imported when a step runs

    return text_models


class TextFamily(Family):
    resumable = True  # its core train takes backup_dir: a killed training resumes
    features_type = pa.Table

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
        return _core().serving(card, trained, data)

    def verify(self, path, card, trained, data, raw, signature: dict) -> float:
        return _core().verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        return _core().describe_outputs(data)


TEXT = TextFamily()
