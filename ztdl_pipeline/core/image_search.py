"""Image search (ch11.sports_image_search): a cosine nearest-neighbour index over bottleneck vectors, and
precision@k by class (the share of an image's k nearest other images that have its class).

numpy only (the book's sklearn DistanceMetric is replaced by one matrix product of unit vectors); the
index is stored as .npy (unit vectors, float32) beside a parquet of its rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ztdl_pipeline.core import atomic


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass
class CosineIndex:
    unit: np.ndarray  # (n, d) float32, each row of length 1 (0 for a zero vector)
    rows: pd.DataFrame  # one row per vector: label, class_name, split, file

    @classmethod
    def build(cls, vectors: np.ndarray, rows: pd.DataFrame) -> CosineIndex:
        if len(vectors) != len(rows):
            raise ValueError(f"{len(vectors)} vectors but {len(rows)} rows")
        return cls(unit_rows(vectors), rows.reset_index(drop=True))

    def query(self, vectors: np.ndarray, k: int, exclude: Sequence[int] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """(indices, cosine similarities) of the k nearest index rows of each query vector, best first;
        `exclude[i]` (an index row, e.g. the query itself) is left out of query i's answer."""
        similarity = unit_rows(vectors) @ self.unit.T
        if exclude is not None:
            similarity[np.arange(len(similarity)), np.asarray(exclude)] = -np.inf
        k = min(k, self.unit.shape[0] - (1 if exclude is not None else 0))
        best = np.argpartition(-similarity, k - 1, axis=1)[:, :k] if k > 0 else np.zeros((len(similarity), 0),
                                                                                        dtype=np.int64)
        order = np.take_along_axis(similarity, best, axis=1)
        # best first; ties broken by the lower row number, so results are deterministic
        ranked = np.lexsort((best, -order), axis=1)
        best = np.take_along_axis(best, ranked, axis=1)
        return best, np.take_along_axis(similarity, best, axis=1)

    def neighbours_of_rows(self, rows: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        return self.query(self.unit[rows], k, exclude=rows)

    def save(self, folder: Path) -> dict[str, str]:
        folder = Path(folder)
        with atomic.atomic_path(folder / "vectors.npy") as tmp, open(tmp, "wb") as handle:
            np.save(handle, self.unit)  # a handle: np.save would append .npy to the temporary name
        with atomic.atomic_path(folder / "rows.parquet") as tmp:
            self.rows.to_parquet(tmp, index=False)
        atomic.write_text(folder / "index.json", json.dumps({"metric": "cosine", "rows": len(self.rows),
                                                             "dim": int(self.unit.shape[1])}))
        return {"vectors": str(folder / "vectors.npy"), "rows": str(folder / "rows.parquet")}

    @classmethod
    def load(cls, folder: Path) -> CosineIndex:
        folder = Path(folder)
        return cls(np.load(folder / "vectors.npy", allow_pickle=False), pd.read_parquet(folder / "rows.parquet"))


def precision_at_k(index: CosineIndex, labels: np.ndarray, k: int, batch: int = 1024) -> dict:
    """Every indexed image queries the others: mean share of its k neighbours with its label, overall and
    per class (keyed by label)."""
    labels = np.asarray(labels)
    hits = np.zeros(len(labels), dtype=np.float64)
    for start in range(0, len(labels), batch):
        rows = np.arange(start, min(start + batch, len(labels)))
        neighbours, _ = index.neighbours_of_rows(rows, k)
        hits[rows] = (labels[neighbours] == labels[rows, None]).mean(axis=1) if neighbours.shape[1] else 0.0
    per_class = {int(c): float(hits[labels == c].mean()) for c in np.unique(labels)}
    return {"k": int(min(k, max(len(labels) - 1, 0))), "overall": float(hits.mean()) if len(hits) else 0.0,
            "per_class": per_class, "per_image": hits}
