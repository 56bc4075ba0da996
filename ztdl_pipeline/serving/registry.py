"""The registry of exports, as a small public Python API.

Layout (TF Serving's, written by the `exports/<model>` assets)::

    <exports>/<model>/<integer version>/saved_model.pb, variables/ ...
    <exports>/<model>/registry.json      {"model", "current", "versions": {"1": {...}, ...}}

Each manifest entry holds the signature (input names, dtypes, shapes, the raw column each input takes),
the output signature, the metrics, the gate, the profile, the Dagster run id and the upstream data
versions the export was built from. Versions only grow; a version folder is never overwritten.

    from ztdl_pipeline.serving import registry
    registry.list_models()                     # ['iris_softmax', 'wifi_fc', ...]
    registry.list_versions("wifi_fc")          # [1, 2]
    registry.manifest("wifi_fc")["current"]    # 2
    model = registry.load("wifi_fc")           # tf.saved_model.load of the current version
    model.serve({"a_1": tf.constant([-62.0]), ...})

`<exports>` is `$ZTDL_DATA_DIR/exports` (default ./data/exports) unless `root` is given. Only folders
inside it are ever read: model names are plain identifiers and versions are integers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ztdl_pipeline import settings
from ztdl_pipeline.core import registry as _manifest
from ztdl_pipeline.core import requirements

MANIFEST = _manifest.MANIFEST
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,127}")
VERSION_PATTERN = re.compile(r"[0-9]{1,18}")


class InvalidName(ValueError):
    """A model name or version that is not a plain identifier / integer (e.g. contains path characters)."""


class NotFound(LookupError):
    """No such model, or no such version of it, under the export folder."""


def exports_root(root: str | Path | None = None) -> Path:
    return Path(root).resolve() if root is not None else settings.data_dir() / "exports"


def check_name(name: str) -> str:
    """The model name itself if it is a plain identifier (letters, digits, '_' and '-'); else InvalidName."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidName(f"invalid model name {name!r}: use letters, digits, '_' and '-' only "
                          "(no path characters)")
    return name


def check_version(version: int | str) -> int:
    if isinstance(version, bool) or not (isinstance(version, int) or
                                         (isinstance(version, str) and VERSION_PATTERN.fullmatch(version))):
        raise InvalidName(f"invalid version {version!r}: a version is a positive integer")
    number = int(version)
    if number < 1:
        raise InvalidName(f"invalid version {version!r}: a version is a positive integer")
    return number


def model_dir(model: str, root: str | Path | None = None) -> Path:
    base = exports_root(root)
    path = base / check_name(model)
    if path.resolve().parent != base.resolve():  # a symlinked model folder pointing elsewhere
        raise NotFound(f"model {model!r} is not a folder of {base}")
    return path


def list_models(root: str | Path | None = None) -> list[str]:
    """Models with at least one servable version, sorted by name."""
    base = exports_root(root)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir()
                  if NAME_PATTERN.fullmatch(p.name) and p.is_dir() and p.resolve().parent == base.resolve()
                  and scan_versions(p))


def scan_versions(folder: Path) -> list[int]:
    """Integer-named subfolders holding a saved_model.pb (TF Serving's rule; staging folders are skipped,
    and so is a symlink leading out of the folder)."""
    try:
        entries = list(folder.iterdir())
        real = folder.resolve()
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(int(p.name) for p in entries
                  if VERSION_PATTERN.fullmatch(p.name) and int(p.name) > 0 and (p / "saved_model.pb").is_file()
                  and (not p.is_symlink() or p.resolve().parent == real))


def list_versions(model: str, root: str | Path | None = None) -> list[int]:
    return scan_versions(model_dir(model, root))


def manifest(model: str, root: str | Path | None = None) -> dict[str, Any]:
    """The model's registry.json ({"model", "current", "versions"}); NotFound if the model has none."""
    folder = model_dir(model, root)
    if not (folder / MANIFEST).is_file():
        raise NotFound(f"no {MANIFEST} for model {model!r} under {exports_root(root)}")
    return _manifest.read(folder)


def default_version(versions: list[int], current: Any) -> int | None:
    """The version served when none is asked for: the manifest's `current` if it is on disk, else the
    highest (TF Serving's choice; the export asset always makes the newest version current)."""
    if current is not None and str(current).isdigit() and int(current) in versions:
        return int(current)
    return versions[-1] if versions else None


def current_version(model: str, root: str | Path | None = None) -> int | None:
    folder = model_dir(model, root)
    current = _manifest.read(folder).get("current") if (folder / MANIFEST).is_file() else None
    return default_version(scan_versions(folder), current)


def version_dir(model: str, version: int | str | None = None, root: str | Path | None = None) -> Path:
    """The folder of one version (default: the current one); NotFound if it is not a servable version."""
    versions = list_versions(model, root)
    if not versions:
        raise NotFound(f"no exported versions of model {model!r} under {exports_root(root)}")
    number = current_version(model, root) if version is None else check_version(version)
    if number not in versions:
        raise NotFound(f"model {model!r} has no version {number} (versions: {', '.join(map(str, versions))})")
    path = model_dir(model, root) / str(number)
    if path.resolve().parent != model_dir(model, root).resolve():
        raise NotFound(f"version {number} of {model!r} is not a folder of {model_dir(model, root)}")
    return path


def entry(model: str, version: int | str | None = None, root: str | Path | None = None) -> dict[str, Any] | None:
    """The manifest entry of one version (metrics, signature, lineage); None if it was never recorded."""
    number = int(version_dir(model, version, root).name)
    return manifest(model, root)["versions"].get(str(number))


def signature(model: str, version: int | str | None = None, root: str | Path | None = None,
              signature_name: str = "serving_default") -> dict[str, Any]:
    """Input/output names, dtypes and shapes as stored in the version's saved_model.pb (imports TensorFlow)."""
    return _manifest.savedmodel_signature(version_dir(model, version, root), signature_name)


def load(model: str, version: int | str | None = None, root: str | Path | None = None):
    """`tf.saved_model.load` of the current (or a given) version. Keep the returned object alive while
    you use its functions: the variables live on it."""
    tf = requirements.require_tensorflow("loading an exported SavedModel")
    return tf.saved_model.load(str(version_dir(model, version, root)))
