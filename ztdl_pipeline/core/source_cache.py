"""core/versioning's readings of the package's source, kept across processes so that loading the code
location does not parse and walk every module again when nothing changed.

A module's reading (its imports, and each top-level definition's lines and the package definitions it
names) depends only on its source text, on which files of the package are modules (whether `from x import
y` imports a module or a name), on the Python version and on the reader's own code (core/versioning.py and
this file). Each reading is stored under a key made of exactly those, so a stored reading can never be
stale: a changed source asks for another key, and so does any module file added or removed. A function made
inside a factory (`_nested`) is kept under its module's key and its first line.

Entries are files `<key>.json` holding a sha256 of their body and the key they were written for: a file
that is truncated, damaged or misnamed reads as absent, and the reading is made from the source again.
Writes go to a temporary file in the same folder and are renamed into place, so concurrent writers (code
servers starting together) never leave a partial entry; writers of one key write the same bytes.

The folder is $ZTDL_CODE_VERSION_CACHE (set it empty or to `off` to keep nothing), else
$XDG_CACHE_HOME/ztdl-pipeline/code-versions (~/.cache/... by default). Readings of edited sources stay
behind: when a process first writes to a folder holding more than LIMIT entries, it deletes the least
recently written down to three quarters of that (a deleted reading is only made again). Deleting the folder
is always safe.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import linecache
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ENV = "ZTDL_CODE_VERSION_CACHE"
LIMIT = 5000  # entries (a few kB each; one load of the package reads about 130)
_OFF = ("", "0", "off", "none", "false")

# ------------------------------------------------------------------ the store


def directory() -> Path | None:
    """Where entries live (read at call time, so tests can point it elsewhere); None when caching is off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ztdl-pipeline" / "code-versions"


def digest(*parts: Any) -> str:
    """A key for `parts` (JSON-able)."""
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def load(key: str) -> Any | None:
    """The value stored under `key`, or None when there is none or the file is not intact."""
    folder = directory()
    if folder is None:
        return None
    try:
        raw = (folder / f"{key}.json").read_bytes()
    except OSError:
        return None
    checksum, _, body = raw.partition(b"\n")
    if hashlib.sha256(body).hexdigest().encode() != checksum:
        return None
    try:
        record = json.loads(body)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("key") != key:
        return None
    return record.get("value")


def store(key: str, value: Any) -> None:
    """Write `value` under `key` atomically; a folder that cannot be written is skipped (the cache is optional)."""
    folder = directory()
    if folder is None:
        return
    body = json.dumps({"key": key, "value": value}, separators=(",", ":")).encode()
    data = hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _prune(str(folder))
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{key[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, folder / f"{key}.json")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass


@cache
def _prune(folder: str) -> None:
    """Keep a folder under LIMIT entries (once per process and folder), and drop temporary files that a
    killed writer left an hour or more ago."""
    try:
        found = [(entry.stat().st_mtime, entry.path, entry.name) for entry in os.scandir(folder)]
    except OSError:
        return
    entries = sorted((when, path) for when, path, name in found if name.endswith(".json"))
    stale = [path for when, path, name in found if name.endswith(".tmp") and when < time.time() - 3600]
    for path in stale + ([path for _, path in entries[: len(entries) - LIMIT * 3 // 4]] if len(entries) > LIMIT
                         else []):
        with contextlib.suppress(OSError):
            os.unlink(path)


# ------------------------------------------------------------------ the readers core/versioning uses

_versioning: dict[str, Any] = {}  # core.versioning's namespace (live: its readers are the ones below)
_uncached: dict[str, Any] = {}  # versioning's own readers, used on a miss


def install(namespace: dict[str, Any]) -> None:
    """Put the cached readers in the place of versioning's `_module`, `_definition`, `_nested`, `_closure`."""
    global _versioning
    _versioning = namespace
    _uncached.update(module=namespace["_module"].__wrapped__, nested=namespace["_nested"].__wrapped__)
    namespace.update(_module=cache(_module), _definition=cache(_definition), _nested=cache(_nested),
                     _closure=cache(_closure))


def forget() -> None:
    """Drop this process's readings (tests: the next code_version reads the stored readings or the source)."""
    for memo in (*(_versioning[name] for name in ("_module", "_definition", "_nested", "_closure")),
                 _analyser, _prune):
        memo.cache_clear()


@dataclass
class _Reading:
    """A module as versioning's readers need it (what its `_Module` holds, with line ranges for syntax trees)."""

    name: str
    path: Path
    key: str  # its key (readings of the functions made inside its factories are stored under it)
    definitions: dict[str, tuple[int, int, list]]  # name -> (first line, last line, [[module, name], ...])
    imports: dict[str, tuple[str, str | None]]  # alias -> (module, attribute or None for a module)
    lines: list[str]
    package: str

    def text(self, first: int, last: int) -> str:
        return "".join(self.lines[first - 1:last])


@cache
def _analyser() -> str:
    """What every reading depends on besides its module: the reader's own code, the Python version, and which
    files of the package are modules (versioning's `_module_file` looks for `x.py` or `x/__init__.py`)."""
    root = _versioning["_PACKAGE_DIR"]
    modules, seen = [], set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        if os.path.realpath(folder) in seen:
            subfolders.clear()
            continue
        seen.add(os.path.realpath(folder))
        subfolders.sort()
        modules += [os.path.relpath(os.path.join(folder, f), root) for f in sorted(files)
                    if f.endswith(".py") and os.path.isfile(os.path.join(folder, f))]
    return digest(sys.version_info[:2], Path(_versioning["__file__"]).read_text(), Path(__file__).read_text(),
                  sorted(modules))


def _pairs(refs: Any) -> bool:
    return isinstance(refs, list) and all(
        isinstance(ref, list) and len(ref) == 2 and isinstance(ref[0], str) and isinstance(ref[1], str)
        for ref in refs)


def _valid(reading: Any, length: int) -> bool:
    """Whether a stored reading is whole and still true for a source of `length` lines."""
    try:
        return (all(isinstance(alias, str) and isinstance(module, str)
                    and (attribute is None or isinstance(attribute, str))
                    for alias, (module, attribute) in reading["imports"].items())
                and all(isinstance(first, int) and isinstance(last, int) and 1 <= first <= last <= length
                        and _pairs(refs) for first, last, refs in reading["definitions"].values()))
    except (TypeError, ValueError, KeyError, AttributeError):
        return False


def _read(name: str, source: str) -> dict[str, Any] | None:
    """A module's reading by versioning's own reader; None if the file changed while it was read."""
    module = _uncached["module"](name)
    if "".join(module.lines) != source:
        return None
    references, local_imports = _versioning["_references"], _versioning["_local_imports"]
    definitions = {}
    for label, node in module.definitions.items():  # what versioning's _definition makes of each
        refs = () if isinstance(node, (ast.Assign, ast.AnnAssign)) else references(
            node, module, local_imports(node, module.package))
        definitions[label] = [node.lineno, node.end_lineno, [[ref.module, ref.name] for ref in refs]]
    return {"imports": {alias: list(target) for alias, target in module.imports.items()},
            "definitions": definitions}


def _module(name: str) -> _Reading | None:
    path = _versioning["_module_file"](name)
    if path is None:
        return None
    source = path.read_text()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    key = digest("module", _analyser(), name, path.relative_to(_versioning["_PACKAGE_DIR"]).as_posix(), source)
    lines = source.splitlines(keepends=True)
    reading = load(key)
    if not _valid(reading, len(lines)):
        reading = _read(name, source)
        if reading is None:  # edited while being read: read it as it is now, keep nothing
            return _module(name)
        store(key, reading)
    return _Reading(name, path, key,
                    {label: tuple(entry) for label, entry in reading["definitions"].items()},
                    {alias: (module, attribute) for alias, (module, attribute) in reading["imports"].items()},
                    lines, package)


def _definition(ref: Any) -> tuple[str, tuple[Any, ...]] | None:
    module = _versioning["_module"](ref.module)
    entry = module.definitions.get(ref.name) if module else None
    if module is None or entry is None:
        return None  # outside the package, or a name set at run time: the name is all we know
    first, last, refs = entry
    ref_type = _versioning["Ref"]
    return module.text(first, last), tuple(ref_type(m, n) for m, n in refs)


def _nested(code: Any, module_name: str) -> tuple[str, tuple[Any, ...]]:
    """versioning's `_nested`, kept under the module's reading when the code comes from that module's file
    (its source is then the block at its first line)."""
    module = _versioning["_module"](module_name)
    if module is None or os.path.realpath(code.co_filename) != os.path.realpath(module.path):
        return _uncached["nested"](code, module_name)
    key = digest("nested", module.key, code.co_firstlineno)
    stored = load(key)
    ref_type = _versioning["Ref"]
    try:
        if isinstance(stored["source"], str) and _pairs(stored["refs"]):
            return stored["source"], tuple(ref_type(m, n) for m, n in stored["refs"])
    except (TypeError, KeyError):
        pass
    source, refs = _uncached["nested"](code, module_name)
    if "".join(linecache.getlines(code.co_filename)) == "".join(module.lines):  # inspect read the same text
        store(key, {"source": source, "refs": [[ref.module, ref.name] for ref in refs]})
    return source, refs


def _closure(root: Any) -> tuple[tuple[str, str], ...]:
    """versioning's `_closure`, sorted by label alone (labels are unique, so the order is the same)."""
    found: dict[str, str] = {}
    stack = [root]
    definition = _versioning["_definition"]
    while stack:
        ref = stack.pop()
        label = f"{ref.module}:{ref.name}"
        if label in found:
            continue
        read = definition(ref)
        found[label] = read[0] if read else ""
        if read:
            stack.extend(read[1])
    return tuple(sorted(found.items(), key=_label))


def _label(item: tuple[str, str]) -> str:
    return item[0]
