"""The time-series family (ch7): window tables in, core/sequence_models.py steps, core/sequence_report.py
reports; run config resolved into core/sequence_specs.SequenceHyper (early stopping, window sub-samples, steps
per call). Keras is imported only when a step runs."""


import pyarrow as pa

from ztdl_pipeline.assets.family import Family
from ztdl_pipeline.core import timeseries as ts
from ztdl_pipeline.core.sequence_specs import SequenceHyper


class SeriesFamily(Family):
    resumable = True  # its core train takes backup_dir: a killed training resumes
    features_type = pa.Table
    hyper_type = SequenceHyper
    metadata_splits = ("train", "test", "naive_test", "test_stateless")
    search_chronological, search_stratify = True, None  # a card search validates on the end of the training period

    @staticmethod
    def _core():
        from ztdl_pipeline.core import sequence_models

        return sequence_models

    @staticmethod
    def _report():
        from ztdl_pipeline.core import sequence_report

        return sequence_report

    def train(self, card, features, hyper, **kwargs):
        return self._core().train(card, ts.from_table(features), hyper, **kwargs)

    def evaluate(self, card, trained, features) -> dict:
        return self._core().evaluate(card, trained, ts.from_table(features))

    def report_images(self, card, trained, features, metrics: dict) -> dict[str, bytes]:
        return self._report().report_images(card, trained, ts.from_table(features), metrics)

    def report_markdown(self, card, trained, metrics: dict, images: dict, threshold: float, embed: bool) -> str:
        return self._report().report_markdown(card, trained, metrics, images, threshold, embed)

    def view(self, card, features):
        return self._core().view(ts.from_table(features), card)

    def serving(self, card, trained, data) -> tuple:
        return self._core().serving_model(trained, data)

    def verify(self, path, card, trained, data, signature: dict, **inputs) -> float:
        return self._core().verify_savedmodel(path, trained, data, inputs["raw"], signature)

    def test_outputs(self, card, trained, features) -> tuple:
        result = self._core().forecasts(trained, self.view(card, features), "test")
        return result["y"], result["pred"]

    def outputs(self, data) -> dict:
        return self._core().describe_outputs(data.attrs)


SERIES = SeriesFamily()
