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


def savedmodel_signature(path: Path, signature_name: str = "serving_default") -> dict[str, Any]:
    """One signature of a SavedModel as plain JSON: input/output names, dtypes and shapes (-1: any size).

    Read from saved_model.pb itself (no variables are loaded), so the manifest states what TF Serving
    and `tf.saved_model.load` will see. Imports TensorFlow (its protobuf classes live there).
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((Path(path) / "saved_model.pb").read_bytes())
    graph = next((g for g in saved.meta_graphs if "serve" in g.meta_info_def.tags), saved.meta_graphs[0])
    if signature_name not in graph.signature_def:
        raise KeyError(f"{path}: no signature {signature_name!r} (has {', '.join(sorted(graph.signature_def))})")
    signature = graph.signature_def[signature_name]

    def tensors(infos) -> dict[str, dict[str, Any]]:
        return {name: {"dtype": tf.dtypes.as_dtype(info.dtype).name,
                       "shape": None if info.tensor_shape.unknown_rank
                       else [int(d.size) for d in info.tensor_shape.dim]}
                for name, info in sorted(infos.items())}

    return {"signature_name": signature_name, "method_name": signature.method_name,
            "inputs": tensors(signature.inputs), "outputs": tensors(signature.outputs)}
