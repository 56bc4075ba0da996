"""The Reuters family (group `embeddings`, ch12 exercise 2): features are a pyarrow Table of padded id sequences,
the run config resolves into core/reuters.ReutersHyper (embedding size, how frozen rows are filled), the steps
are core/reuters.py's; the export takes the id sequences."""

from ztdl_pipeline.assets.family import CoreFamily
from ztdl_pipeline.core.reuters import ReutersHyper


class ReutersFamily(CoreFamily):
    core_module = "ztdl_pipeline.core.reuters"
    hyper_type = ReutersHyper
    metadata_splits = ("train", "test")

    def train(self, card, features, hyper, **kwargs):
        """The trainable random Embedding (a frozen one is trained by core/reuters_steps.train_frozen)."""
        return self.core().train(card, features, hyper, embedding_dim=hyper.embedding_dim, **kwargs)


REUTERS = ReutersFamily()
