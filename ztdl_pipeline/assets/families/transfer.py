"""The transfer family (ch11): models of raw uint8 pixels built on Xception; features are bottleneck tables (with
file paths). A model trains with the `pretrained` resource's Xception, a fine-tuned card from the model it
continues from (`start`); the export writes a two-endpoint SavedModel (raw image bytes and uint8 pixels) verified
on the test pictures its features list, so it reads no raw asset. Each step is one call into core/transfer.py or
core/transfer_experiments.py (imported when the step runs: they pull in Keras)."""


import pyarrow as pa

from ztdl_pipeline.assets.family import Family, Fit


class TransferFamily(Family):
    features_type = pa.Table
    resumable = True  # its fits take the run's backup folder
    model_resources = ("pretrained",)
    export_description = ("as one versioned SavedModel: serving_default takes raw image bytes (JPEG/PNG, decoded "
                          "and resized in the graph), serve_pixels uint8 pixels")
    reload_description = ("tf.saved_model.load of the published version, fed real test picture bytes "
                          "(serving_default) and their pixels (serve_pixels), predicts what the Keras model predicts")
    difference_name = "max_abs_difference"

    def model_inputs(self, card) -> dict[str, tuple[str, str]]:
        return {"start": ("models", card.start)} if card.start else {}  # a fine-tuning continues from `start`

    def export_inputs(self, card) -> dict[str, tuple[str, str]]:
        return {}  # the features carry the test pictures' files

    def fit(self, card, features, hyper, fit: Fit) -> tuple:
        from ztdl_pipeline.core.chapter import Run
        from ztdl_pipeline.core.transfer_experiments import train

        run = Run(profile=fit.settings.profile, device=fit.device, jit_compile=fit.compute.jit_compile,
                  seed_fn=fit.compute.seed_everything, log=fit.log, backup_dir=fit.backup_dir,
                  on_epoch_end=fit.on_epoch_end)
        return train(card, features, fit.inputs.get("start"), hyper, fit.settings.values,
                     fit.resources["pretrained"].xception, run)

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

    def write_export(self, staged, card, trained, data, **inputs) -> tuple[dict, float, dict]:
        from ztdl_pipeline.core.transfer_experiments import export_savedmodel

        return export_savedmodel(staged, trained, data)

    def verify(self, path, card, trained, data, signature: dict, **inputs) -> float:
        from ztdl_pipeline.core.transfer import verify_export

        return verify_export(path, trained, data)

    def outputs(self, data) -> dict:
        from ztdl_pipeline.core.transfer_experiments import outputs

        return outputs(data)


TRANSFER = TransferFamily()
