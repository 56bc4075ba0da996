"""The models a server answers for: discovered under the export folder, loaded lazily, cached.

New versions are picked up without a restart, as TF Serving's file-system polling does: every lookup
stats the model's folder (a published version or a rewritten registry.json changes its mtime) and
rescans it when the mtime changed or the last scan is older than `poll_interval` seconds (for file
systems with coarse timestamps). Versions whose folder disappeared are dropped from the cache.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ztdl_pipeline.core import registry as manifest_io
from ztdl_pipeline.core.names import user_key
from ztdl_pipeline.serving import registry
from ztdl_pipeline.serving.registry import InvalidName, NotFound
from ztdl_pipeline.serving.rest import BadRequest, TensorSpec

__all__ = ["BadRequest", "InvalidName", "LoadError", "ModelStore", "NotFound", "Servable"]


class LoadError(RuntimeError):
    """A version folder exists but does not load as a SavedModel."""


def _check_content(path: Path, recorded: str | None, name: str) -> None:
    """Refuse to serve a version whose files changed since it was published (flipped bytes, a partial copy)."""
    from ztdl_pipeline.core.schema import folder_sha256

    if recorded is not None and folder_sha256(path) != recorded:
        raise LoadError(f"{path}: the files differ from the sha256 {recorded[:12]}… recorded when it was published "
                        f"(damaged or replaced); fix: rematerialize {user_key('exports', name)}, or restore the folder")


@dataclass
class Signature:
    key: str
    function: Any
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]


class Servable:
    """One loaded version: its signatures as callables on numpy arrays."""

    def __init__(self, name: str, version: int, path: Path, input_order: list[str] | None = None,
                 batching: bool = False, max_batch_rows: int = 512, input_rules: dict[str, Any] | None = None):
        import tensorflow as tf

        self.name, self.version, self.path = name, version, path
        self.input_rules = input_rules or {}  # per input: finite, missing, vocabulary, unknown (registry.json)
        self.batching, self.max_batch_rows = batching, max_batch_rows
        self._batchers: dict[str, Batcher] = {}
        self._tf = tf
        self.loaded = tf.saved_model.load(str(path))  # keep: the variables live on this object
        self.signatures: dict[str, Signature] = {}
        for key, function in self.loaded.signatures.items():
            _, kwargs = function.structured_input_signature
            names = sorted(kwargs, key=lambda n: (input_order.index(n) if input_order and n in input_order
                                                  else len(input_order or ()), n))
            inputs = {n: _spec(n, kwargs[n]) for n in names}
            outputs = {n: _spec(n, s) for n, s in sorted(function.structured_outputs.items())}
            self.signatures[key] = Signature(key, function, inputs, outputs)

    def signature(self, key: str) -> Signature:
        try:
            return self.signatures[key]
        except KeyError:
            raise BadRequest(f"Serving signature name: {key!r} not found in signature def (model {self.name!r} "
                             f"version {self.version} has {', '.join(map(repr, sorted(self.signatures)))})"
                             ) from None

    def run(self, key: str, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run one signature on a batch; concurrent calls are merged into one batch when batching is on."""
        signature = self.signature(key)
        if self.batching:
            batcher = self._batchers.get(key)
            if batcher is None:
                batcher = self._batchers.setdefault(key, Batcher(lambda a: self._call(signature, a),
                                                                 self.max_batch_rows))
            return batcher.run(arrays)
        return self._call(signature, arrays)

    def _call(self, signature: Signature, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        tf = self._tf
        tensors = {name: tf.constant(arrays[name], dtype=spec.dtype if spec.dtype != "string" else tf.string)
                   for name, spec in signature.inputs.items()}
        try:
            outputs = signature.function(**tensors)
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as exc:
            raise BadRequest(f"the model rejected the input: {_first_line(exc)}") from None
        return {name: value.numpy() for name, value in outputs.items()}


class _Job:
    __slots__ = ("arrays", "done", "error", "result", "rows")

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        self.arrays = arrays
        self.rows = len(next(iter(arrays.values()))) if arrays else 0
        self.result: dict[str, np.ndarray] | None = None
        self.error: BaseException | None = None
        self.done = False

    def key(self) -> tuple:
        return tuple((name, a.dtype.str, a.shape[1:]) for name, a in sorted(self.arrays.items()))


class Batcher:
    """Opportunistic micro-batching: while the model runs one batch, requests that arrive queue up; the
    next free request thread runs everything queued (same per-example shapes, up to `max_rows` rows) as
    one call and splits the outputs by rows. No timer: a lone request runs at once, so batching adds no
    latency at low load and forms batches only under concurrency. A failed batch is retried request by
    request, so one bad request cannot fail the others."""

    def __init__(self, call, max_rows: int = 512):
        self._call, self._max_rows = call, max_rows
        self._cond = threading.Condition()
        self._pending: list[_Job] = []
        self._busy = False
        self.batches = 0
        self.requests = 0

    def run(self, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not arrays or any(a.ndim == 0 for a in arrays.values()) or len({len(a) for a in arrays.values()}) > 1:
            return self._call(arrays)  # no common batch dimension to merge along
        job = _Job(arrays)
        with self._cond:
            self._pending.append(job)
            while not job.done and self._busy:
                self._cond.wait()
            if job.done:
                return self._finish(job)
            self._busy = True
            batch = self._take(job)
        try:
            self._execute(batch)
        finally:
            with self._cond:
                self._busy = False
                for item in batch:
                    item.done = True
                self._cond.notify_all()
        return self._finish(job)

    def _take(self, leader: _Job) -> list[_Job]:
        key, rows, batch = leader.key(), 0, []
        for item in [leader, *[j for j in self._pending if j is not leader]]:
            if item.key() == key and (not batch or rows + item.rows <= self._max_rows):
                batch.append(item)
                rows += item.rows
        taken = set(map(id, batch))
        self._pending = [j for j in self._pending if id(j) not in taken]
        return batch

    def _execute(self, batch: list[_Job]) -> None:
        with self._cond:
            self.batches += 1
            self.requests += len(batch)
        if len(batch) == 1:
            self._single(batch[0])
            return
        merged = {name: np.concatenate([j.arrays[name] for j in batch]) for name in batch[0].arrays}
        try:
            outputs = self._call(merged)
        except Exception:  # noqa: BLE001 - find the request that caused it
            for job in batch:
                self._single(job)
            return
        start = 0
        for job in batch:
            job.result = {name: value[start:start + job.rows] for name, value in outputs.items()}
            start += job.rows

    def _single(self, job: _Job) -> None:
        try:
            job.result = self._call(job.arrays)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the request's own thread
            job.error = exc

    @staticmethod
    def _finish(job: _Job) -> dict[str, np.ndarray]:
        if job.error is not None:
            raise job.error
        return job.result


def _spec(name: str, spec) -> TensorSpec:
    shape = None if spec.shape.rank is None else tuple(spec.shape.as_list())
    return TensorSpec(name=name, dtype=spec.dtype.name, shape=shape)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else type(exc).__name__


@dataclass
class _Scan:
    mtime_ns: int
    at: float
    versions: list[int]
    current: int | None
    input_order: dict[int, list[str]] = field(default_factory=dict)
    input_rules: dict[int, dict[str, Any]] = field(default_factory=dict)  # registry signature: what inputs accept
    content: dict[int, str] = field(default_factory=dict)  # registry: sha256 of each version folder when published


class ModelStore:
    """Every model under `root` (the export folder), discovered on demand, loaded on first use."""

    def __init__(self, root: str | Path, poll_interval: float = 1.0, batching: bool = False,
                 max_batch_rows: int = 512):
        self.root = Path(root).resolve()
        self.poll_interval = poll_interval
        self.batching, self.max_batch_rows = batching, max_batch_rows
        self._lock = threading.Lock()
        self._scans: dict[str, _Scan] = {}
        self._servables: dict[tuple[str, int], Servable] = {}
        self._load_locks: dict[tuple[str, int], threading.Lock] = {}
        self._errors: dict[tuple[str, int], str] = {}
        self._metadata: dict[tuple[str, int], dict[str, Any]] = {}

    # ------------------------------------------------------------ discovery

    def models(self) -> list[str]:
        return registry.list_models(self.root)

    def scan(self, name: str) -> _Scan:
        registry.check_name(name)  # InvalidName for path characters
        folder = self.root / name
        try:
            mtime_ns = os.stat(folder).st_mtime_ns  # one stat per request: a new version changes the mtime
        except (FileNotFoundError, NotADirectoryError):
            self._forget(name, keep=())
            raise NotFound(f"Could not find any versions of model {name!r} (no folder {name!r} in the export "
                           f"folder; models: {', '.join(self.models()) or 'none'})") from None
        now = time.monotonic()
        with self._lock:
            scan = self._scans.get(name)
            if scan is not None and scan.mtime_ns == mtime_ns and now - scan.at < self.poll_interval:
                return scan
        try:
            registry.model_dir(name, self.root)  # on a rescan: refuse a symlink leading out of the folder
        except NotFound:
            self._forget(name, keep=())
            raise
        versions = registry.scan_versions(folder)
        current, order, rules, content = None, {}, {}, {}
        try:
            manifest = manifest_io.read(folder)
            current = manifest.get("current")
            for key, entry in manifest.get("versions", {}).items():
                if isinstance(entry, dict) and isinstance(entry.get("signature"), dict) and str(key).isdigit():
                    order[int(key)] = list(entry["signature"])
                    rules[int(key)] = entry["signature"]
                    if isinstance(entry.get("content_sha256"), str):
                        content[int(key)] = entry["content_sha256"]
        except (OSError, ValueError):  # a manifest being replaced or unreadable: serve what is on disk
            pass
        scan = _Scan(mtime_ns, now, versions, registry.default_version(versions, current), order, rules,
                     content)
        with self._lock:
            self._scans[name] = scan
        self._forget(name, keep=versions)
        return scan

    def _forget(self, name: str, keep) -> None:
        with self._lock:
            for cache in (self._servables, self._errors, self._metadata):
                for key in [k for k in cache if k[0] == name and k[1] not in keep]:
                    del cache[key]

    def resolve(self, name: str, version: int | str | None = None) -> int:
        scan = self.scan(name)
        if not scan.versions:
            raise NotFound(f"Could not find any versions of model {name!r}")
        if version is None:
            return scan.current
        number = registry.check_version(version)
        if number not in scan.versions:
            raise NotFound(f"Servable not found for request: Specific({name}, {number}) (versions: "
                           f"{', '.join(map(str, scan.versions))})")
        return number

    # ------------------------------------------------------------ loading

    def servable(self, name: str, version: int | str | None = None) -> Servable:
        number = self.resolve(name, version)
        key = (name, number)
        servable = self._servables.get(key)
        if servable is not None:
            return servable
        with self._lock:
            lock = self._load_locks.setdefault(key, threading.Lock())
        with lock:  # one load per version, however many requests arrive at once
            servable = self._servables.get(key)
            if servable is None:
                path = self.root / name / str(number)
                try:
                    _check_content(path, self._scans[name].content.get(number), name)
                    servable = Servable(name, number, path, self._scans[name].input_order.get(number),
                                        batching=self.batching, max_batch_rows=self.max_batch_rows,
                                        input_rules=self._scans[name].input_rules.get(number))
                except Exception as exc:  # noqa: BLE001 - reported as the version's status
                    message = f"version {number} of model {name!r} failed to load: {_first_line(exc)}"
                    with self._lock:
                        self._errors[key] = message
                    raise LoadError(message) from None
                with self._lock:
                    self._servables[key] = servable
                    self._errors.pop(key, None)
        return servable

    def batching_stats(self) -> dict[str, Any]:
        """Requests answered through the batchers and the model calls they took (fewer calls: merged)."""
        with self._lock:
            batchers = [b for servable in self._servables.values() for b in servable._batchers.values()]
        return {"enabled": self.batching, "max_batch_rows": self.max_batch_rows,
                "requests": sum(b.requests for b in batchers), "model_calls": sum(b.batches for b in batchers)}

    def preload(self) -> None:
        """Load the default version of every model now (optional; loading is lazy otherwise)."""
        for name in self.models():
            try:
                self.servable(name)
            except (LoadError, NotFound):
                pass

    # ------------------------------------------------------------ answers

    def status(self, name: str, version: int | str | None = None) -> dict[str, Any]:
        """TF Serving's GetModelStatus answer: newest version first."""
        scan = self.scan(name)
        versions = [self.resolve(name, version)] if version is not None else list(reversed(scan.versions))
        if not versions:
            raise NotFound(f"Could not find any versions of model {name!r}")
        statuses = []
        for number in versions:
            error = self._errors.get((name, number))
            statuses.append({"version": str(number), "state": "END" if error else "AVAILABLE",
                             "status": {"error_code": "UNKNOWN" if error else "OK", "error_message": error or ""}})
        return {"model_version_status": statuses}

    def metadata(self, name: str, version: int | str | None = None) -> dict[str, Any]:
        """TF Serving's GetModelMetadata answer: every signature_def of the version, read from saved_model.pb."""
        number = self.resolve(name, version)
        key = (name, number)
        cached = self._metadata.get(key)
        if cached is None:
            cached = _signature_defs(self.root / name / str(number))
            with self._lock:
                self._metadata[key] = cached
        return {"model_spec": {"name": name, "signature_name": "", "version": str(number)},
                "metadata": {"signature_def": cached}}

    def predict(self, name: str, version: int | str | None, payload: Mapping[str, Any]) -> dict[str, Any]:
        from ztdl_pipeline.serving import rest

        key = rest.signature_name(payload)
        rest.request_form(payload)  # before loading anything: both or neither of instances/inputs
        servable = self.servable(name, version)
        signature = servable.signature(key)
        form, arrays = rest.to_arrays(payload, signature.inputs)
        if key == "serving_default":  # the registry's signature describes the default endpoint
            rest.check_values(arrays, servable.input_rules)
        return rest.response(form, servable.run(key, arrays))


def _signature_defs(path: Path) -> dict[str, Any]:
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString((path / "saved_model.pb").read_bytes())
    except Exception as exc:  # noqa: BLE001
        raise LoadError(f"{path.name}: unreadable saved_model.pb: {_first_line(exc)}") from None
    graph = next((g for g in saved.meta_graphs if "serve" in g.meta_info_def.tags), None)
    if graph is None:
        raise LoadError(f"{path}: no meta graph tagged 'serve'")
    defs = {key: json_format.MessageToDict(value, preserving_proto_field_name=True,
                                           always_print_fields_with_no_presence=True)
            for key, value in sorted(graph.signature_def.items()) if not key.startswith("__")}
    return {"signature_def": defs}
