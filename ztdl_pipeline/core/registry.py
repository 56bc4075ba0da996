"""The export registry: a JSON manifest beside the version folders of each exported model.

TF Serving ignores non-numeric entries in a model folder, so `registry.json` can live there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ztdl_pipeline.core import atomic

MANIFEST = "registry.json"


def read(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MANIFEST
    if not path.exists():
        return {"model": model_dir.name, "current": None, "versions": {}}
    return json.loads(path.read_text())


def current_entry(model_dir: Path) -> dict[str, Any] | None:
    manifest = read(model_dir)
    current = manifest.get("current")
    return manifest["versions"].get(str(current)) if current is not None else None


def record(model_dir: Path, version: int, entry: dict[str, Any], make_current: bool = True) -> dict[str, Any]:
    manifest = read(model_dir)
    if str(version) in manifest["versions"]:
        raise ValueError(f"{model_dir / MANIFEST}: version {version} is already registered; versions only grow")
    manifest["versions"][str(version)] = {"version": version, **entry}
    if make_current:
        manifest["current"] = version
    atomic.write_json(model_dir / MANIFEST, manifest)
    return manifest
