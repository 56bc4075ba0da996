"""Serving from an object store: a local copy of its export folder that ModelStore serves as usual.

TensorFlow loads SavedModels from local files, so `ztdl-serve --exports s3://bucket/prefix/exports` keeps a
mirror on this machine (settings.local_dir()/serving/<hash of the URL>/<model>/<version>/). A poller asks
for each model's registry.json ETag (one HEAD per model per interval); when it changed, it reads the registry,
downloads the version it names as current into a temporary folder, checks the files against the
`content_sha256` recorded at publishing, renames the folder into place, and only then writes the registry
locally. ModelStore sees the new registry by its folder's mtime, as with a local export folder: hot reload
works the same, and a version that failed its check is never served (the previous one stays; it is not
downloaded again until the registry changes, while a failed download is tried again at every poll).
A version folder already mirrored is kept while its recorded hash is the registry's (`.<version>.sha256`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from ztdl_pipeline.core import atomic, stores
from ztdl_pipeline.core.registry import MANIFEST
from ztdl_pipeline.serving.registry import NAME_PATTERN

log = logging.getLogger("ztdl_serve.mirror")


class ContentMismatch(ValueError):
    """The objects of a version are not those recorded at publishing: not retried until the registry changes."""


def mirror_folder(remote, cache: Path) -> Path:
    """The local folder mirroring `remote`: one per store URL, so two stores never share versions."""
    return cache / "serving" / hashlib.sha256(str(remote).encode()).hexdigest()[:16]


class ExportMirror:
    """Keeps `local` a copy of the current versions under the remote export folder `remote`."""

    def __init__(self, remote, local: Path, poll_interval: float = 5.0):
        self.remote, self.local, self.poll_interval = remote, local, poll_interval
        self._tags: dict[str, str] = {}
        self._failures: dict[str, str] = {}  # model -> the last error logged (tried again every pass, logged once)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sync(self) -> list[str]:
        """One pass over every model; returns the models whose registry changed. A model that fails is logged
        and tried again at the next pass; the others go on."""
        changed = []
        for name in sorted(n for n in stores.list_names(self.remote) if NAME_PATTERN.fullmatch(n)):
            try:
                if self._sync_model(name):
                    changed.append(name)
                self._failures.pop(name, None)
            except Exception as exc:  # noqa: BLE001 - a damaged or half-published model must not stop the rest
                if self._failures.get(name) != str(exc):
                    log.error("mirroring %s from %s failed (the copy already here is kept): %s", name, self.remote,
                              exc)
                self._failures[name] = str(exc)
        return changed

    def _sync_model(self, name: str) -> bool:
        registry = self.remote / name / MANIFEST
        if stores.etag(registry) in (None, self._tags.get(name)):
            return False
        data, tag = stores.read_versioned(registry)
        if data is None:
            return False
        manifest = json.loads(data)
        current = manifest.get("current")
        if current is not None:
            try:
                self._fetch_version(name, int(current), manifest["versions"][str(current)])
            except ContentMismatch:
                self._tags[name] = tag  # downloading it again would give the same objects
                raise
        atomic.write_bytes(self.local / name / MANIFEST, data)  # after the version it names is in place
        self._tags[name] = tag
        log.info("mirrored %s: current version %s", name, current)
        return True

    def _fetch_version(self, name: str, version: int, entry: dict[str, Any]) -> None:
        from ztdl_pipeline.core.schema import folder_sha256  # pandas: only once there is something to fetch

        folder, recorded = self.local / name / str(version), entry.get("content_sha256")
        marker = self.local / name / f".{version}.sha256"
        if folder.is_dir() and recorded and marker.is_file() and marker.read_text().strip() == recorded:
            return
        folder.parent.mkdir(parents=True, exist_ok=True)
        download = Path(tempfile.mkdtemp(prefix=f".download-{version}-", dir=folder.parent))
        try:
            stores.fetch_folder(self.remote / name / str(version), download)
            if recorded and folder_sha256(download) != recorded:
                raise ContentMismatch(f"{self.remote / name / str(version)}: the objects differ from the sha256 "
                                 f"{recorded[:12]}… recorded when version {version} was published; not served")
            if folder.exists():
                shutil.rmtree(folder)
            download.rename(folder)
            if recorded:
                atomic.write_text(marker, recorded + "\n")
        finally:
            shutil.rmtree(download, ignore_errors=True)

    def start(self) -> None:
        """Poll in a daemon thread until `stop`."""
        def loop() -> None:
            while not self._stop.wait(self.poll_interval):
                try:
                    self.sync()
                except Exception as exc:  # noqa: BLE001 - e.g. the store unreachable for a while: keep polling
                    log.error("listing %s failed (serving what is here): %s", self.remote, exc)

        self._thread = threading.Thread(target=loop, name="ztdl-serve-mirror", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
