"""Reading raw tables against an expected schema, with errors that point at the bad cell."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ztdl_pipeline.core.errors import DataError

ColumnKind = Literal["float", "int", "str"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    nullable: bool = False


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def folder_sha256(folder: str | Path) -> str:
    """sha256 over a folder's files (relative path and bytes, in sorted order): e.g. a SavedModel's content."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def read_csv_checked(path: str | Path, columns: Sequence[Column],
                     read_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read a CSV as text, then coerce it to `columns`; any problem raises a DataError naming the file."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    if path.stat().st_size == 0:
        raise DataError(path, "the file is empty (0 bytes)",
                        "delete it so it is fetched again, or point the dataset at a good copy")
    try:
        frame = pd.read_csv(path, dtype=str, **dict(read_options or {}))
    except pd.errors.EmptyDataError:
        raise DataError(path, "the file has no header and no data") from None
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
        raise DataError(path, f"cannot be parsed as CSV ({type(exc).__name__}: {exc})") from None
    if frame.empty:
        raise DataError(path, "the file has a header but no data rows")
    return coerce_columns(frame, columns, source=path)


def coerce_columns(frame: pd.DataFrame, columns: Sequence[Column], source: str | Path) -> pd.DataFrame:
    """Check that every expected column is there and holds values of its kind; return typed columns.

    Row numbers in messages are 1-based data rows (line numbers in a CSV with one header line: +1).
    Extra columns are kept as they are.
    """
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise DataError(source, f"missing column(s) {', '.join(map(repr, missing))}; "
                                f"found {', '.join(map(repr, frame.columns))}",
                        "use the file the dataset catalog names (ztdl_pipeline/catalog/datasets.py)")
    out = frame.copy()
    for column in columns:
        raw = frame[column.name]
        if column.kind == "str":
            values = raw.astype("string")
        else:
            values = pd.to_numeric(raw, errors="coerce")
            bad = raw.notna() & values.isna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(source, f"column {column.name!r}, data row {row + 1}: "
                                        f"{raw.iloc[row]!r} is not a number "
                                        f"({int(bad.sum())} non-numeric value(s) in that column)")
            infinite = values.notna() & np.isinf(values.astype("float64"))
            if infinite.any():  # "inf", "-Infinity", "1e999": a number to pandas, never a valid measurement here
                row = int(np.flatnonzero(infinite.to_numpy())[0])
                raise DataError(source, f"column {column.name!r}, data row {row + 1}: {raw.iloc[row]!r} is not "
                                        f"a finite number ({int(infinite.sum())} infinite value(s) in that column)")
            if column.kind == "int" and values.notna().any():
                finite = values.dropna()
                if not np.all(np.equal(np.mod(finite, 1), 0)):
                    row = int(np.flatnonzero((values.notna() & (np.mod(values, 1) != 0)).to_numpy())[0])
                    raise DataError(source, f"column {column.name!r}, data row {row + 1}: "
                                            f"{raw.iloc[row]!r} is not an integer")
        nulls = values.isna()
        if nulls.any() and not column.nullable:
            row = int(np.flatnonzero(nulls.to_numpy())[0])
            raise DataError(source, f"column {column.name!r}, data row {row + 1}: missing value "
                                    f"({int(nulls.sum())} missing in that column, none allowed)")
        if column.kind == "int":
            values = values.astype("Int64" if column.nullable else "int64")
        elif column.kind == "float":
            values = values.astype("float64")
        out[column.name] = values
    return out
