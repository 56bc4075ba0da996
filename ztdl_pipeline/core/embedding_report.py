"""The ch12 embeddings report: analogies and neighbours next to the book's, coverage of the review
vocabularies, a PCA plot and TensorBoard projector files; `embedding_report` returns its sections, images and
numbers (the asset only writes them)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ztdl_pipeline.core import atomic
from ztdl_pipeline.core import embeddings as E
from ztdl_pipeline.core.chapter import Chapter

SOURCE = ("book ch12.gensim_glove_similarity_analogy, ch12.tensorboard_projector (L17070–17378), sol.ch12.ex1 "
          "(L24135–24302)")


def embedding_report(kv, record: Mapping[str, Any], tables: Mapping[str, Any], corpora: Iterable[str], short: str,
                     tensor_name: str, n_viz: int, n_plot: int, folder: str | Path) -> Chapter:
    """One embedding's report (its numbers as the chapter's metadata). Writes the projector files under
    `folder`/projector. `tables` holds <corpus>_vocabulary and <corpus>_matrix for each corpus."""
    result = E.analogy_report(kv)
    result["coverage"] = {vocab: E.coverage(tables[f"{vocab}_vocabulary"],
                                            tables[f"{vocab}_matrix"].column("found").to_numpy())
                          for vocab in corpora}
    projector = write_projector(Path(folder) / "projector", projector_files(kv, n_viz, tensor_name))
    highlight = [*E.PROBE_WORDS, *(w for t in E.ANALOGIES for w in t), "queen", "berlin", "puppy"]
    images = {"projection": projection_plot(kv, n_plot, highlight, f"{short}: PCA of the first {n_plot} words")}
    about = (f"{record['vocabulary_size']:,} words × {record['dim']} dimensions, from "
             f"{record.get('source', 'the review corpora')}. ")
    if "documents" in record:  # trained here (Word2Vec), not read from a file
        about += (f"Trained here on {record['tokens']:,} tokens of {sum(record['documents'].values()):,} "
                  f"reviews ({json.dumps(record['settings'])}). The book's Word2Vec column is Google's "
                  "GoogleNews vectors (about 100 billion words): a model trained on a few million tokens of "
                  "movie reviews is not expected to find the same neighbours or analogies; reproducible "
                  "with workers=1, the seed and a stable hash function.")
    book_key = "glove" if short == "glove" else "word2vec_googlenews"
    sections = [("Embedding", about), *report_markdown_sections(result, short, book_key),
                ("TensorBoard projector", (
                    f"`{projector}`: vectors.tsv and metadata.tsv for the first {min(n_viz, len(kv.index_to_key))} "
                    "words and projector_config.pbtxt (the book's n_viz = 4000). View with "
                    f"`tensorboard --logdir {projector}` (Projector tab) or load the two TSV files at "
                    "https://projector.tensorflow.org.")),
                ("Source", SOURCE)]
    result.update({"embedding": short, "record": dict(record), "projector": str(projector), "n_viz": n_viz})
    king = result["king_man_woman"]
    numbers: dict[str, Any] = {"king_man_woman_top": str(king["top"]), "book_queen_similarity": E.BOOK_KING_QUEEN}
    if king["queen_similarity"] is not None:
        numbers["queen_similarity"] = king["queen_similarity"]
    for vocab, share in result["coverage"].items():
        numbers[f"{vocab}_share_tokens"] = share["share_tokens"]
        numbers[f"{vocab}_share_occurrences"] = share["share_occurrences"]
    return Chapter(f"Word embeddings: {short}", sections, images, result, numbers)


def report_markdown_sections(result: Mapping[str, Any], name: str, book_key: str) -> list[tuple[str, str]]:
    """Markdown sections for one embedding: king − man + woman, analogies, neighbours, coverage."""
    from ztdl_pipeline.core.report import markdown_table

    def words(pairs) -> str:
        return "—" if pairs is None else ", ".join(f"{w} ({s:.3f})" for w, s in pairs)

    king = result["king_man_woman"]
    king_text = (f"**{name}**: king − man + woman → `{king['top']}` ({king['similarity']:.4f}); queen's "
                 f"similarity {king['queen_similarity']:.4f}." if king["top"] else
                 f"**{name}**: king, man or woman is not in the vocabulary.") + (
        f" Book (GloVe 6B 50d, ch12 L17160): `queen` {E.BOOK_KING_QUEEN:.4f}.")
    analogies = markdown_table(
        ["a : b = c : ?", f"ours ({name}, top 3)", f"book ({book_key})", "book (GloVe)"],
        [[f"{r['a']} : {r['b']} = {r['c']} : ?", words(r["ours"]), ", ".join(r["book"].get(book_key, [])),
          ", ".join(r["book"]["glove"])] for r in result["analogies"]])
    neighbours_table = markdown_table(
        ["word", f"ours ({name}, top 5)", f"book ({book_key})", "book (GloVe)"],
        [[w, words(r["ours"]), ", ".join(r["book"].get(book_key, [])), ", ".join(r["book"]["glove"])]
         for w, r in result["neighbours"].items()])
    coverage_rows = [[vocab, int(c["tokens"]), int(c["tokens_found"]), c["share_tokens"], c["share_occurrences"]]
                     for vocab, c in result.get("coverage", {}).items()]
    sections = [("king − man + woman", king_text), ("Analogies (sol.ch12.ex1, L24277–24300)", analogies),
                ("Nearest neighbours (sol.ch12.ex1, L24201–24238)", neighbours_table)]
    if coverage_rows:
        sections.append(("Coverage of the vocabularies", markdown_table(
            ["vocabulary", "tokens (ids ≥ 2)", "found", "share of tokens", "share of occurrences (train)"],
            coverage_rows)))
    return sections


# ---------------------------------------------------------------- plots and projector files


def projection_plot(kv, n_points: int, highlight: Iterable[str], title: str) -> bytes:
    """PCA (scikit-learn) of the first `n_points` words to 2-D; the highlighted words labelled."""
    from sklearn.decomposition import PCA

    from ztdl_pipeline.core import plots

    n = min(n_points, len(kv.index_to_key))
    words = [w for w in dict.fromkeys(highlight) if w in kv.key_to_index]
    vectors = kv.vectors[:n]
    pca = PCA(n_components=2, random_state=0).fit(vectors)
    cloud = pca.transform(vectors)
    fig, ax = plots.plt.subplots(figsize=(7, 6))
    ax.scatter(cloud[:, 0], cloud[:, 1], s=2, alpha=0.25, color="grey", label=f"first {n} words")
    if words:
        points = pca.transform(np.stack([kv.get_vector(w) for w in words]))
        ax.scatter(points[:, 0], points[:, 1], s=14, color="tab:red")
        for (x, y), word in zip(points, words):
            ax.annotate(word, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    ratio = pca.explained_variance_ratio_
    ax.set_xlabel(f"PC 1 ({ratio[0]:.1%} of variance)")
    ax.set_ylabel(f"PC 2 ({ratio[1]:.1%} of variance)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    return plots._png(fig)


def _tsv_word(word: str) -> str:
    return word.replace("\t", " ").replace("\n", " ").replace("\r", " ") or " "


def projector_files(kv, n_viz: int, tensor_name: str) -> dict[str, bytes]:
    """TensorBoard projector files for the first `n_viz` words: vectors.tsv (one tab-separated vector per
    line), metadata.tsv (one word per line, no header: a single column) and projector_config.pbtxt, which
    TensorBoard's projector plugin and projector.tensorflow.org read."""
    n = min(n_viz, len(kv.index_to_key))
    vectors = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in kv.vectors[:n]) + "\n"
    metadata = "\n".join(_tsv_word(w) for w in kv.index_to_key[:n]) + "\n"
    config = ("embeddings {\n"
              f'  tensor_name: "{tensor_name}"\n'
              f"  tensor_shape: {n}\n"
              f"  tensor_shape: {int(kv.vector_size)}\n"
              '  tensor_path: "vectors.tsv"\n'
              '  metadata_path: "metadata.tsv"\n'
              "}\n")
    return {"vectors.tsv": vectors.encode("utf-8"), "metadata.tsv": metadata.encode("utf-8"),
            "projector_config.pbtxt": config.encode("utf-8")}


def write_projector(folder: str | Path, files: Mapping[str, bytes]) -> Path:
    """The projector files as one folder, replaced atomically."""
    with atomic.atomic_dir(folder) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return Path(folder)
