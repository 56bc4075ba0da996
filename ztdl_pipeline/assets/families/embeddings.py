"""The Reuters family (group `embeddings`, ch12 exercise 2): features are a pyarrow Table of padded id sequences,
the run config resolves into core/reuters.ReutersHyper (embedding size, how frozen rows are filled), the steps
are core/reuters.py's; the export takes the id sequences. A frozen card (catalog/embeddings.FROZEN) reads one
more input, its pretrained matrix features/reuters_<embedding>, frozen in its Embedding by
core/reuters_steps.train_frozen."""

from ztdl_pipeline.assets.family import CoreFamily, Fit
from ztdl_pipeline.catalog import embeddings as catalog
from ztdl_pipeline.core.reuters import ReutersHyper


def frozen_embedding(card) -> str | None:
    """The pretrained embedding a card freezes (its short name: word2vec, glove); None for a trainable one."""
    return next((short for short, frozen in catalog.FROZEN.items() if frozen.name == card.name), None)


class ReutersFamily(CoreFamily):
    core_module = "ztdl_pipeline.core.reuters"
    hyper_type = ReutersHyper
    metadata_splits = ("train", "test")

    def model_inputs(self, card) -> dict[str, tuple[str, str]]:
        short = frozen_embedding(card)
        return {"matrix": ("features", f"reuters_{short}")} if short else {}

    def fit(self, card, features, hyper, fit: Fit) -> tuple:
        """A frozen card: its matrix frozen in the Embedding, with how many rows the vectors knew as metadata;
        the trainable one: the family's train, with the standard numbers."""
        short = frozen_embedding(card)
        if short is None:
            return super().fit(card, features, hyper, fit)
        from ztdl_pipeline.core.reuters_steps import train_frozen

        trained = train_frozen(card, features, fit.inputs["matrix"], hyper, short, strategy=fit.compute.strategy(),
                               jit_compile=fit.compute.jit_compile, seed_fn=fit.compute.seed_everything,
                               on_epoch_end=fit.on_epoch_end, backup_dir=fit.backup_dir)
        from ztdl_pipeline.assets.models import training_metadata

        return trained, {**training_metadata(trained, hyper), "embedding": short,
                         "embedding rows found": float(trained.info["rows_found"])}

    def train(self, card, features, hyper, **kwargs):
        """The trainable random Embedding."""
        return self.core().train(card, features, hyper, embedding_dim=hyper.embedding_dim, **kwargs)


REUTERS = ReutersFamily()
