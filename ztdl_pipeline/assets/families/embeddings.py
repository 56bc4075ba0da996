"""The Reuters family (group `embeddings`, ch12 exercise 2): features are a pyarrow Table of padded id sequences,
the run config resolves into core/reuters.ReutersHyper (embedding size, how frozen rows are filled), the steps
are core/reuters.py's; the export takes the id sequences."""

import pyarrow as pa

from ztdl_pipeline.assets.family import Family
from ztdl_pipeline.core.reuters import ReutersHyper


def _core():
    from ztdl_pipeline.core import reuters

    return reuters


class ReutersFamily(Family):
    resumable = True  # its core train takes backup_dir: a killed training resumes
    features_type = pa.Table
    hyper_type = ReutersHyper
    metadata_splits = ("train", "test")

    def train(self, card, features, hyper, **kwargs):
        """The trainable random Embedding (a frozen one is trained by core/reuters_steps.train_frozen)."""
        return _core().train(card, features, hyper, embedding_dim=hyper.embedding_dim, **kwargs)

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


REUTERS = ReutersFamily()
