"""A storage root is a local folder or an object-store URL (`s3://bucket/prefix`): the one place that knows which.

A local root is a plain `pathlib.Path` and every local branch below is the code that ran before object stores
(no extra import, one `isinstance` test). A remote root is a `upath.UPath` on s3fs, which reads the usual AWS
variables itself (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL_S3 for an
S3-compatible server). What an object store cannot do the way a file system does, and what is done instead:

- no rename: a folder is uploaded object by object (each PUT is atomic on its own, the folder is not), so
  readers must be pointed at a folder only once it is complete: the export registry is that pointer;
- no lock: a write that must not lose a concurrent one is a conditional PUT (If-Match on the ETag read, or
  If-None-Match: * to create), retried by the caller when the condition fails (`write_if`);
- no local path for Keras or TensorFlow to open: `local_view` downloads a folder into a temporary one.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any

REMOTE_SCHEMES = ("s3",)


def is_remote(path: Any) -> bool:
    """True for an object-store path (a UPath or an `s3://` string); False for local paths."""
    if isinstance(path, PurePath):
        return False
    if isinstance(path, str):
        return "://" in path and not path.startswith("file://")
    return getattr(path, "protocol", "") not in ("", "file", "local")


def root_of(value: str | PurePath) -> Any:
    """A storage root from a setting: a resolved `Path` for a folder (exactly as before), a UPath for a URL."""
    if not is_remote(value):
        return Path(value).resolve()
    text = str(value).rstrip("/")
    scheme = text.split("://", 1)[0]
    if scheme not in REMOTE_SCHEMES:
        raise ValueError(f"{text}: unsupported storage root; use a folder or s3://bucket/prefix "
                         f"(supported schemes: {', '.join(REMOTE_SCHEMES)})")
    try:
        import s3fs  # noqa: F401
        from upath import UPath
    except ImportError:
        raise ValueError(f"{text}: an object-store storage root needs s3fs and universal-pathlib: "
                         "pip install 'ztdl-pipeline[s3]'") from None
    # no listing cache: another machine may publish at any moment, and a stale listing would hide it
    return UPath(text, use_listings_cache=False)


def native(path: Any) -> Any:
    """A local path as a plain `Path` (a local UPath becomes one), a remote one as it is."""
    return Path(str(path)) if isinstance(path, PurePath) else path


def as_path(value: Any) -> Any:
    """A path, a local path string or a URL string (as stored in a registry entry) as a path object."""
    if isinstance(value, str):
        return root_of(value) if is_remote(value) else Path(value)
    return native(value)


# ---------------------------------------------------------------- objects


def _client(path) -> tuple[Any, str, str]:
    fs = path.fs
    bucket, key, _ = fs.split_path(path.path)
    return fs, bucket, key


def _code(exc: BaseException) -> str:
    """The S3 error code behind an s3fs exception ('PreconditionFailed', 'NoSuchKey', ...), or ''."""
    while exc is not None:
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            return str(response.get("Error", {}).get("Code", ""))
        exc = exc.__cause__
    return ""


def read_versioned(path) -> tuple[bytes | None, str | None]:
    """An object's bytes and ETag from one GET (so the ETag is that of these bytes); (None, None) if absent."""
    from fsspec.asyn import sync

    fs, bucket, key = _client(path)

    async def get() -> tuple[bytes, str]:
        answer = await fs._call_s3("get_object", Bucket=bucket, Key=key)
        async with answer["Body"] as body:
            return await body.read(), answer["ETag"]

    try:
        return sync(fs.loop, get)
    except FileNotFoundError:
        return None, None


def etag(path) -> str | None:
    """An object's ETag without its bytes (a HEAD request: the cheap poll); None if absent."""
    fs, bucket, key = _client(path)
    try:
        return fs.call_s3("head_object", Bucket=bucket, Key=key)["ETag"]
    except FileNotFoundError:
        return None


class ConditionFailed(Exception):
    """A conditional write lost: the object changed (or appeared) since it was read."""


def write_if(path, data: bytes, expected_etag: str | None) -> str:
    """PUT `data` only if the object still has `expected_etag` (None: only if it does not exist yet); the new
    ETag, or ConditionFailed. One PUT: readers see the old object or the new one, never a part."""
    fs, bucket, key = _client(path)
    condition = {"IfMatch": expected_etag} if expected_etag else {"IfNoneMatch": "*"}
    try:
        return fs.call_s3("put_object", Bucket=bucket, Key=key, Body=data, **condition)["ETag"]
    except (OSError, ValueError) as exc:
        code = _code(exc)
        if isinstance(exc, FileExistsError) or code in ("PreconditionFailed", "ConditionalRequestConflict", "412",
                                                        "409"):
            raise ConditionFailed(f"{path}: changed since it was read ({code or type(exc).__name__})") from None
        raise


def write_bytes(path, data: bytes) -> None:
    """One object in one PUT (atomic for readers)."""
    path.write_bytes(data)


def list_names(folder) -> list[str]:
    """The names directly under a folder (files and sub-folders); [] if there is none."""
    if isinstance(folder, PurePath):
        return [p.name for p in folder.iterdir()] if folder.is_dir() else []
    try:
        return [entry.rstrip("/").rsplit("/", 1)[-1] for entry in folder.fs.ls(folder.path, detail=False)]
    except FileNotFoundError:
        return []


def _files(folder) -> dict[str, dict[str, Any]]:
    """Remote folder -> {relative name: object info} for every object under it."""
    fs, base = folder.fs, folder.path.rstrip("/")
    found = fs.find(base, detail=True)
    return {name[len(base) + 1:]: info for name, info in found.items() if info.get("type") != "directory"}


def _local_files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def put_folder(local: Path, target, replace: bool = True) -> None:
    """Upload a local folder's files under `target`; with `replace`, then delete the objects there that the
    folder does not hold, so `target` ends as a copy of `local`. Object by object: not atomic as a whole."""
    files = _local_files(local)
    fs, base = target.fs, target.path.rstrip("/")
    for name, path in files.items():
        fs.put_file(str(path), f"{base}/{name}")
    stale = [f"{base}/{name}" for name in _files(target) if name not in files] if replace else []
    if stale:
        fs.rm(stale)


def copy_folder(source, target) -> None:
    """Server-side copy of every object under `source` to the same names under `target`."""
    fs, base, to = source.fs, source.path.rstrip("/"), target.path.rstrip("/")
    for name in _files(source):
        fs.copy(f"{base}/{name}", f"{to}/{name}")


def remove(target) -> None:
    """Delete a folder (every object under it); nothing if it is absent."""
    if isinstance(target, PurePath):
        shutil.rmtree(target, ignore_errors=True)
        return
    names = [f"{target.path.rstrip('/')}/{name}" for name in _files(target)]
    if names:
        target.fs.rm(names)


def differences(local: Path, remote) -> list[str]:
    """What differs between a local folder and its uploaded copy: missing or extra objects, sizes, and the MD5
    of each single-part object (its ETag; a multipart ETag is not an MD5, so only its size is compared)."""
    mine, theirs = _local_files(local), _files(remote)
    problems = [f"{name}: not uploaded" for name in sorted(set(mine) - set(theirs))]
    problems += [f"{name}: not in the staged folder" for name in sorted(set(theirs) - set(mine))]
    for name in sorted(set(mine) & set(theirs)):
        size, info = mine[name].stat().st_size, theirs[name]
        if int(info.get("size", -1)) != size:
            problems.append(f"{name}: {info.get('size')} bytes uploaded, {size} staged")
            continue
        tag = str(info.get("ETag", info.get("etag", ""))).strip('"')
        if tag and "-" not in tag and tag != hashlib.md5(mine[name].read_bytes(), usedforsecurity=False).hexdigest():
            problems.append(f"{name}: the uploaded bytes differ (MD5)")
    return problems


def fetch_folder(source, local: Path) -> Path:
    """Download every object under `source` into `local` (created; existing files are overwritten)."""
    local.mkdir(parents=True, exist_ok=True)
    fs, base = source.fs, source.path.rstrip("/")
    files = _files(source)
    if not files:
        raise FileNotFoundError(f"{source}: no such folder in the object store")
    for name in files:
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(f"{base}/{name}", str(local / name))
    return local


@contextlib.contextmanager
def local_view(path) -> Iterator[Path]:
    """A local folder with the files of `path`: the folder itself when it is local, else a temporary download
    (deleted afterwards), for what only opens local files (Keras, tf.saved_model.load)."""
    path = as_path(path)
    if isinstance(path, PurePath):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="ztdl-view-") as tmp:
        yield fetch_folder(path, Path(tmp) / path.name)


# ---------------------------------------------------------------- publishing a version folder

CLAIM = ".claim"  # <version>.claim beside the version folders: that number is taken


def taken_versions(model_dir) -> list[int]:
    """Every numeric name under a model's folder and every claimed number (a publish killed after its claim
    never gives its number away)."""
    names = [n.removesuffix(CLAIM) for n in list_names(model_dir)]
    return sorted({int(n) for n in names if n.isdigit()})


def publish(staged: Path, model_dir) -> tuple[int, Any]:
    """Publish a complete local folder as the next version under `model_dir`: upload it under a temporary key
    and compare it with the staged folder; take the next free number by creating `<version>.claim`
    conditionally; copy the objects there (server side) and compare again. Only the registry, written after
    this returns, makes the version visible (to ztdl-serve, the gate, predictions): a publish that dies on the
    way leaves objects nobody reads."""
    import json
    import os
    import socket
    import time
    import uuid

    upload = model_dir / f".staging-{uuid.uuid4().hex}"
    try:
        put_folder(staged, upload)
        _same_or_raise(staged, upload)
        version = (taken_versions(model_dir) or [0])[-1] + 1
        claim = json.dumps({"staged": str(upload), "host": socket.gethostname(), "pid": os.getpid(),
                            "time": time.time()}).encode()
        while True:
            try:
                write_if(model_dir / f"{version}{CLAIM}", claim, None)
                break
            except ConditionFailed:  # another publisher took this number first
                version = max(version + 1, (taken_versions(model_dir) or [0])[-1] + 1)
        target = model_dir / str(version)
        copy_folder(upload, target)
        _same_or_raise(staged, target)
        return version, target
    finally:
        remove(upload)


def _same_or_raise(staged: Path, uploaded) -> None:
    problems = differences(staged, uploaded)
    if problems:
        raise OSError(f"{uploaded}: the uploaded folder differs from the staged one ({'; '.join(problems[:5])}); "
                      "nothing was registered")
