"""Atomic writes: write next to the target, then rename, so a failed or killed run never leaves a
half-written file (or folder) where a good one was. On an object store (core/stores.py) a file is one PUT,
atomic by itself, and a folder is written locally and then uploaded."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ztdl_pipeline.core import stores


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces the target."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: str | Path, data: bytes) -> Path:
    if stores.is_remote(target):
        stores.write_bytes(target, data)
        return target
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: str | Path, obj: Any) -> Path:
    return write_bytes(target, json_bytes(obj))


def json_bytes(obj: Any) -> bytes:
    """The project's JSON files: indented, keys in insertion order, numpy values as plain numbers."""
    return (json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n").encode("utf-8")


def _json_default(value: Any) -> Any:
    # numpy scalars and arrays show up in metrics; keep them readable in JSON
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside `target`; on success it takes the target's place.

    An existing target is moved aside first and deleted only after the new folder is in place,
    so at every instant either the old or the new complete folder exists. On an object store the folder is
    uploaded when the block ends (object by object: each object is whole, the folder is not switched at once).
    """
    if stores.is_remote(target):
        with tempfile.TemporaryDirectory(prefix=f"ztdl-{target.name}-") as tmp:
            yield Path(tmp)
            stores.put_folder(Path(tmp), target)
        return
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
