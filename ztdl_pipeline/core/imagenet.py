"""ImageNet class names for zero-shot predictions (ch11.xception_imagenet_predict): Keras'
imagenet_class_index.json read into a table, and decode_predictions over it. numpy/pandas only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ztdl_pipeline.core.errors import DataError

# shown on every report and asset whose Xception has random weights (core/transfer.weights_banner)
RANDOM_WARNING = ("RANDOM WEIGHTS: Xception was built without its ImageNet weights (weights=None); its "
                  "features, predictions and every number derived from them are meaningless for the book's "
                  "comparison and only exercise the code path")


def top_k(probabilities: np.ndarray, class_index: pd.DataFrame, k: int = 5) -> list[list[dict[str, Any]]]:
    """decode_predictions with the imagenet_class_index table (index, wnid, name)."""
    names = class_index.sort_values("index")
    wnids, labels = names["wnid"].tolist(), names["name"].tolist()
    out = []
    for row in np.asarray(probabilities):
        best = np.argsort(-row, kind="stable")[:k]
        out.append([{"wnid": wnids[i], "name": labels[i], "probability": float(row[i])} for i in best])
    return out


def read_class_index(path) -> pd.DataFrame:
    """Keras' imagenet_class_index.json: {"0": ["n01440764", "tench"], ...} -> index, wnid, name."""
    try:
        data = json.loads(open(path, encoding="utf-8").read())
        rows = [(int(k), str(v[0]), str(v[1])) for k, v in data.items()]
    except (OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise DataError(path, f"is not Keras' imagenet_class_index.json ({type(exc).__name__}: {exc})") from None
    frame = pd.DataFrame(rows, columns=["index", "wnid", "name"]).sort_values("index", ignore_index=True)
    if len(frame) != 1000 or frame["index"].tolist() != list(range(1000)):
        raise DataError(path, f"expected the 1000 ImageNet classes indexed 0..999, found {len(frame)} entries")
    return frame


def weights_banner(weights: Mapping[str, Any]) -> str:
    """A report's first words on its Xception weights: the RANDOM WEIGHTS warning, or where they came from."""
    if weights.get("weights") == "random":
        return f"**⚠ {RANDOM_WARNING}.** ({weights.get('origin')})"
    return f"Xception ImageNet weights from {weights.get('path')} ({weights.get('origin')})."


def summary(frame: pd.DataFrame) -> dict[str, Any]:
    """What raw/imagenet_class_index shows: its rows and its first class."""
    return {"rows": len(frame), "dagster/row_count": len(frame),
            "first": json.dumps([int(frame["index"][0]), str(frame["wnid"][0]), str(frame["name"][0])])}
