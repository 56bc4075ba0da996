"""features/<images>: a raw file index read into an image table (core/images.py) with the numbers its asset
shows, and what its checks report (lists of problems; empty: nothing wrong). Framework-free."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.core import images as I
from ztdl_pipeline.core import refs, tables
from ztdl_pipeline.core.names import user_key


def build(raw: pd.DataFrame, name: str, reader: str, *, train_images: int, test_images: int, seed: int,
          profile: str, image_size: int | None = None, resample: str | None = None
          ) -> tuple[pa.Table, dict[str, Any]]:
    """Verify raw/<name>'s files, read them with `reader` (a reference, e.g. "ztdl_pipeline.core.images:
    read_mnist") keeping at most `train_images` / `test_images` per split (class-stratified; 0: all), and
    return the table with a summary (rows per split, image shape, classes, pixel mean, train class counts).
    A folder reader also takes the target `image_size` and `resample` method."""
    I.verify_files(raw, user_key("raw", name))
    limits = {split: n for split, n in (("train", train_images), ("test", test_images)) if n}
    options = {"size": image_size, "resample": resample} if image_size else {}
    pixels, labels, splits, attrs = refs.resolve(reader)(raw, limits, seed, **options)
    table = I.image_table(pixels, labels, splits, {**attrs, "dataset": name, "source": f"raw/{name}",
                                                   "profile": profile})
    meta = I.table_attrs(table)
    summary = {"rows": table.num_rows, "splits": meta["splits"], "image_shape": meta["image_shape"],
               "classes": meta["classes"], "split": meta["split"],
               "pixel_mean": float(pixels.mean()) if len(pixels) else 0.0,
               "train_class_counts": class_counts(labels[splits == "train"], meta["classes"])}
    return table, summary


def class_counts(labels: np.ndarray, classes) -> dict[str, int]:
    return {str(c): int(n) for c, n in zip(classes, np.bincount(labels, minlength=len(classes)))}


def row_problems(table: pa.Table, min_rows: int) -> list[str]:
    """Fewer than `min_rows` images, or no train or no test split."""
    return tables.row_count_problems(table, min_rows)


def class_shares(table: pa.Table) -> dict[str, float]:
    """Each class's share of the train split, by class name."""
    classes = I.table_attrs(table)["classes"]
    shares = tables.train_class_shares(table, len(classes))
    return {str(c): shares[i] for i, c in enumerate(classes)}


def balance_problems(table: pa.Table, min_share: float = 0.01) -> list[str]:
    """A class absent from the train split or below `min_share` of it."""
    return [f"class {c} is {share:.2%} of the train images, below {min_share:.0%}"
            for c, share in class_shares(table).items() if share < min_share]


def index_counts(index: pd.DataFrame) -> dict[str, int]:
    """Files of a labelled raw index per "split/class" ("class" alone where a folder has no split)."""
    counts = index.groupby(["split", "class_name"]).size()
    return {"/".join(filter(None, k)): int(v) for k, v in counts.items()}


def with_source(entry, url: str | None, sha256: str | None):
    """A catalog file or folder read from another copy (a URL and that copy's sha256, which then is the data
    version); unchanged when neither is given."""
    if not (url or sha256):
        return entry
    if not sha256:
        raise ValueError(f"{user_key('raw', entry.name)}: config gives url {url} but no sha256; a copy is read "
                         "only with the hash that proves its bytes")
    if hasattr(entry, "archive_url"):  # a DatasetFolder: the archive it is read from
        return dataclasses.replace(entry, archive_url=url or entry.archive_url, archive_sha256=sha256)
    return dataclasses.replace(entry, url=url or entry.url, sha256=sha256, alt_sha256=())


def summary_metadata(summary: dict[str, Any], profile: str) -> dict[str, Any]:
    """What features/<images> shows in the UI, from `build`'s summary: rows per split, image shape, classes."""
    return {
        "rows": summary["rows"], **{f"rows_{split}": n for split, n in summary["splits"].items()},
        "image": f"uint8 {'×'.join(map(str, summary['image_shape']))}", "classes": json.dumps(summary["classes"]),
        "split": json.dumps(summary["split"]), "profile": profile, "dagster/row_count": summary["rows"],
        "pixel mean (uint8)": summary["pixel_mean"],
        "class counts (train)": json.dumps(summary["train_class_counts"])}


def rounded_shares(table: pa.Table) -> dict[str, float]:
    """class_shares rounded to 4 places, as the label_balance check shows them."""
    return {c: round(v, 4) for c, v in class_shares(table).items()}
