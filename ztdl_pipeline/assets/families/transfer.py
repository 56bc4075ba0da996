"""The transfer family (ch11): models of raw uint8 pixels built on Xception; features are bottleneck tables (with
file paths). Reports use the generic report asset with these steps; the export writes a two-endpoint SavedModel
(`export`: raw image bytes and uint8 pixels). Each step is one call into core/transfer.py or
core/transfer_experiments.py (imported when the step runs: they pull in Keras)."""


import pyarrow as pa

from ztdl_pipeline.assets.family import Family


class TransferFamily(Family):
    features_type = pa.Table

    def evaluate(self, card, trained, features) -> dict:
        from ztdl_pipeline.core.transfer import evaluate

        return evaluate(card, trained, features)

    def report_images(self, card, trained, features, metrics: dict) -> dict[str, bytes]:
        from ztdl_pipeline.core.transfer import report_images

        return report_images(card, trained, features, metrics)

    def report_markdown(self, card, trained, metrics: dict, images: dict, threshold: float, embed: bool) -> str:
        from ztdl_pipeline.core.transfer import report_markdown

        return report_markdown(card, trained, metrics, images, threshold, embed)

    def view(self, card, features):
        return features

    def verify(self, path, card, trained, data, raw, signature: dict) -> float:
        from ztdl_pipeline.core.transfer import verify_export

        return verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        from ztdl_pipeline.core.transfer_experiments import outputs

        return outputs(data)

    def export(self, staged, card, trained, data) -> tuple[dict, float, dict]:
        """Write and verify the SavedModel in `staged`: (input signature, max difference, registry extras)."""
        from ztdl_pipeline.core.transfer_experiments import export_savedmodel

        return export_savedmodel(staged, trained, data)


TRANSFER = TransferFamily()
