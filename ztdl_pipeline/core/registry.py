"""The export registry: a JSON manifest beside the version folders of each exported model.

TF Serving ignores non-numeric entries in a model folder, so `registry.json` can live there. In a local folder
its read-modify-write runs under flock; on an object store, where no lock spans machines, it is a conditional
PUT (If-Match on the ETag read, If-None-Match for the first), retried on a lost race: no update is lost and
no reader sees a part of one.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ztdl_pipeline.core import atomic, stores

MANIFEST = "registry.json"
REMOTE_ATTEMPTS = 20  # conditional writes lost to other publishers before giving up


class DamagedRegistry(ValueError):
    """registry.json exists but cannot be read; the message names the file and the repair command."""


def read(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MANIFEST
    if stores.is_remote(path):
        return _parse(model_dir, stores.read_versioned(path)[0])
    return _parse(model_dir, path.read_text() if path.exists() else None)


def _parse(model_dir: Path, text: str | bytes | None) -> dict[str, Any]:
    if text is None:
        return {"model": model_dir.name, "current": None, "versions": {}}
    try:
        manifest = json.loads(text)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("versions"), dict):
            raise ValueError("not a registry (no 'versions' object)")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DamagedRegistry(
            f"{model_dir / MANIFEST}: damaged export registry ({exc}). The SavedModel folders beside it are intact; rebuild "
            f"it from them with: python -m ztdl_pipeline.core.registry --repair {model_dir} "
            "(the gate metrics and provenance of old versions are lost; rematerialize the export to record "
            "them again)") from exc
    return manifest


@contextlib.contextmanager
def locked(model_dir: Path) -> Iterator[None]:
    """An exclusive lock on a model's registry across processes (flock on registry.json.lock), so that
    concurrent exports never lose each other's versions in the read-modify-write of the manifest. None on an
    object store: `record` writes conditionally there instead."""
    if stores.is_remote(model_dir):
        yield
        return
    model_dir.mkdir(parents=True, exist_ok=True)
    with open(model_dir / (MANIFEST + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_entry(model_dir: Path) -> dict[str, Any] | None:
    manifest = read(model_dir)
    current = manifest.get("current")
    return manifest["versions"].get(str(current)) if current is not None else None


def record(model_dir: Path, version: int, entry: dict[str, Any], make_current: bool = True) -> dict[str, Any]:
    if stores.is_remote(model_dir):
        return _record_conditionally(model_dir, version, entry, make_current)
    with locked(model_dir):
        manifest = _with_version(model_dir, read(model_dir), version, entry, make_current)
        atomic.write_json(model_dir / MANIFEST, manifest)
    return manifest


def _with_version(model_dir, manifest: dict[str, Any], version: int, entry: dict[str, Any],
                  make_current: bool) -> dict[str, Any]:
    if str(version) in manifest["versions"]:
        raise ValueError(f"{model_dir / MANIFEST}: version {version} is already registered; versions only grow")
    manifest["versions"][str(version)] = {"version": version, **entry}
    if make_current:
        manifest["current"] = version
    return manifest


def _record_conditionally(model_dir, version: int, entry: dict[str, Any], make_current: bool) -> dict[str, Any]:
    """Read the registry with its ETag, add the version, PUT only if the ETag is unchanged; on a lost race
    read again (the other writer's versions are kept)."""
    path = model_dir / MANIFEST
    for attempt in range(REMOTE_ATTEMPTS):
        data, tag = stores.read_versioned(path)
        manifest = _with_version(model_dir, _parse(model_dir, data), version, entry, make_current)
        try:
            stores.write_if(path, atomic.json_bytes(manifest), tag)
            return manifest
        except stores.ConditionFailed:
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # another publisher wrote first
    raise RuntimeError(f"{path}: lost {REMOTE_ATTEMPTS} conditional writes in a row to other publishers; "
                       f"version {version} is uploaded but not registered: rematerialize the export")


def repair(model_dir: Path) -> dict[str, Any]:
    """Rebuild registry.json from the version folders on disk (path and signature of each; the newest is
    current), keeping the damaged file beside it as registry.json.damaged."""
    with locked(model_dir):
        path = model_dir / MANIFEST
        if stores.is_remote(path) and path.exists():
            stores.write_bytes(model_dir / (MANIFEST + ".damaged"), path.read_bytes())
        elif path.exists():
            os.replace(path, model_dir / (MANIFEST + ".damaged"))
        versions = sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()
                          and (p / "saved_model.pb").is_file())
        manifest: dict[str, Any] = {"model": model_dir.name, "current": versions[-1] if versions else None,
                                    "versions": {}}
        for version in versions:
            served = savedmodel_signature(model_dir / str(version))
            manifest["versions"][str(version)] = {
                "version": version, "path": str(model_dir / str(version)), "repaired": True,
                "signature": {name: {"dtype": spec["dtype"], "shape": spec["shape"]}
                              for name, spec in served["inputs"].items()},
                "signature_name": served["signature_name"], "method_name": served["method_name"],
                "output_signature": served["outputs"]}
        atomic.write_json(path, manifest)
    return manifest


def savedmodel_signature(path: Path, signature_name: str = "serving_default") -> dict[str, Any]:
    """One signature of a SavedModel as plain JSON: input/output names, dtypes and shapes (-1: any size).

    Read from saved_model.pb itself (no variables are loaded), so the manifest states what TF Serving
    and `tf.saved_model.load` will see. Imports TensorFlow (its protobuf classes live there).
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((stores.as_path(path) / "saved_model.pb").read_bytes())
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Repair a damaged export registry from its version folders.")
    parser.add_argument("--repair", required=True, metavar="MODEL_DIR", help="e.g. data/exports/iris_softmax")
    args = parser.parse_args(argv)
    manifest = repair(stores.as_path(args.repair))
    print(f"{Path(args.repair) / MANIFEST}: rebuilt with versions {sorted(map(int, manifest['versions']))}, "
          f"current {manifest['current']}")


if __name__ == "__main__":
    main()
