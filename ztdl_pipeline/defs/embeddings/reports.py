"""reports/embeddings_<word2vec|glove>: king − man + woman, the ch26 analogies and neighbours next to the book's,
coverage of the review vocabularies, a PCA plot and TensorBoard projector files (core/embedding_report.py)."""

import dagster as dg

from ztdl_pipeline.assets.base import asset_in, key, versioned_asset
from ztdl_pipeline.assets.chapters import chapter_output
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import embeddings as catalog
from ztdl_pipeline.resources.storage import Storage

EmbeddingReportConfig = values_config("embedding_report", catalog.EMBEDDING_REPORT,
                                      "words written for the TensorBoard projector; points in the PCA plot")


def embedding_report_asset(short: str) -> dg.AssetsDefinition:
    name, model = f"embeddings_{short}", catalog.EMBEDDINGS[short]
    ins = {"embedding": asset_in("models", model)}
    for vocab in catalog.TEXT_CORPORA:
        ins[f"{vocab}_vocabulary"] = asset_in("features", f"{vocab}_vocabulary")
        ins[f"{vocab}_matrix"] = asset_in("features", f"{vocab}_{short}")

    @versioned_asset(key=key("reports", name), ins=ins, group_name="embeddings", io_manager_key="report_io",
                     kinds={"gensim", "markdown"},
                     description=f"{short}: king − man + woman, the ch26 analogies and neighbours next to the "
                                 "book's, coverage of the review vocabularies, a PCA plot and TensorBoard projector "
                                 "files")
    def _report(config: EmbeddingReportConfig, storage: Storage,  # type: ignore[valid-type]
                embedding: dict, **tables) -> dg.Output[dict]:
        from ztdl_pipeline.core.embedding_report import embedding_report
        from ztdl_pipeline.core.embeddings import load_keyed_vectors

        with storage.working_folder("reports", name) as folder:
            chapter = embedding_report(load_keyed_vectors(embedding["path"]), embedding, tables, catalog.TEXT_CORPORA,
                                       short, model, config.n_viz, config.n_plot, folder)
        return chapter_output(storage, name, chapter)

    return _report


defs = dg.Definitions(assets=[embedding_report_asset(short) for short in catalog.EMBEDDINGS])
