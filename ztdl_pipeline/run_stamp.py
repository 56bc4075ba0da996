"""A no-op `make run` without loading anything: the last verified "nothing to do", replayed while nothing it read changed.

`make run` with nothing changed used to take seconds: three interpreters importing Dagster, the code location
(about 290 assets) loaded, every source observed, the staleness resolver asked. All of that reads only files, so
after a run (or a no-op) whose plan came out "nothing to do", run.py records a stamp: a fingerprint of
everything that plan and its summary read, and the lines it printed. The next `make run` of the same selection
computes the fingerprint again (stdlib only, a few milliseconds) and, if it matches, prints those lines and stops.

The fingerprint covers (any difference means the full check runs):
- the selection, the environment's ZTDL_*, DAGSTER_* and PYTHONPATH, the working folder and the interpreter;
- the code: size and modification time of every file of this package and its pyproject.toml, and of the
  installed packages' folders (an install or upgrade changes them);
- the run history: every file of the instance's SQLite storage and its dagster.yaml (a run, an observation, a
  wipe, the daemon's ticks all write there);
- every source file the selection reads (size and modification time: what the source sensor trusts too,
  core/sources.file_version) and the report and export registry files the summary reads.

Run.py writes a stamp only when the storage is SQLite, every source is a local file or folder, no run is in
progress, the dead-run sweep and the key migration have nothing to do, and the fingerprint taken before and
after that check is the same (nothing changed while it looked). FORCE=1 and --dry-run never use a stamp.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
import time
from pathlib import Path

import ztdl_pipeline

FORMAT = 1
STAMPS_FOLDER = "ztdl-run-stamps"  # under $DAGSTER_HOME, beside (not inside) the storage folders it watches
ENV_PREFIXES = ("ZTDL_", "DAGSTER_")


def environment() -> dict:
    """What of the process's setting decides the plan: read before run.py changes anything."""
    package = Path(ztdl_pipeline.__file__).resolve().parent
    variables = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES) or k == "PYTHONPATH"}
    return {"format": FORMAT, "env": dict(sorted(variables.items())), "cwd": os.getcwd(),
            "python": [sys.executable, sys.version], "code": _code_digest(package),
            "packages": [_stat(Path(p)) for p in sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})]}


def _code_digest(package: Path) -> str:
    digest = hashlib.sha256()
    files = [p for p in package.rglob("*") if "__pycache__" not in p.parts and p.is_file()]
    for path in sorted([*files, package.parent / "pyproject.toml"]):
        digest.update(f"{path}\0{_stat(path)}\n".encode())
    return digest.hexdigest()


def _stat(path: Path) -> list | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def fingerprint(settings: dict, select: str, folders: list[str], files: list[str]) -> str:
    """sha256 of `settings` (environment()), the selection, every file under `folders` and each of `files`."""
    digest = hashlib.sha256(json.dumps([settings, select], sort_keys=True).encode())
    for folder in sorted(folders):
        digest.update(f"folder {folder}\n".encode())
        for path in _files_under(Path(folder)):
            digest.update(f"{path}\0{_stat(path)}\n".encode())
    for name in sorted(files):
        digest.update(f"file {name}\0{_stat(Path(name))}\n".encode())
    return digest.hexdigest()


def stamp_path(select: str) -> Path | None:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return None  # no instance kept between commands: nothing to remember against
    return Path(home) / STAMPS_FOLDER / (hashlib.sha256(select.encode()).hexdigest()[:20] + ".json")


def save(select: str, settings: dict, folders: list[str], files: list[str], lines: list[str], before: str) -> bool:
    """Record `lines` as the plan of `select` if the fingerprint still equals `before` (taken before the check)."""
    path = stamp_path(select)
    if path is None or fingerprint(settings, select, folders, files) != before:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"fingerprint": before, "folders": folders, "files": files, "lines": lines,
              "checked": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record, indent=1) + "\n")
    temporary.replace(path)
    return True


def replay(select: str, settings: dict) -> list[str] | None:
    """The recorded lines of `select`'s last verified no-op if nothing it read changed since; else None."""
    path = stamp_path(select)
    try:
        record = json.loads(path.read_text()) if path is not None else None
    except (OSError, ValueError):
        return None
    if not record or fingerprint(settings, select, record["folders"], record["files"]) != record["fingerprint"]:
        return None
    return [f"run: nothing changed since the check at {record['checked']} (sources, code, settings and run "
            "history as they were then): its plan stands", *record["lines"]]
