"""DatasetSource: find a catalog file locally or fetch it, and prove its bytes are the right ones."""

from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import dagster as dg

from ztdl_pipeline import settings
from ztdl_pipeline.core import atomic
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.schema import sha256_file
from ztdl_pipeline.datasets import DatasetFile


class DatasetSource(dg.ConfigurableResource):
    """Resolves a raw file: cache (data/raw) -> mirror folder -> canonical URL; sha256 checked every time.

    A file found in the mirror or downloaded is copied into the cache, so later runs work offline.
    """

    cache_dir: str | None = None  # default: $ZTDL_DATA_DIR/raw
    mirror_dir: str | None = None  # default: $ZTDL_DATA_MIRROR (same file names as the book's data/)
    allow_download: bool = True
    timeout_seconds: float = 60.0

    def _cache(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else settings.data_dir() / "raw"

    def _mirror(self) -> Path | None:
        return Path(self.mirror_dir) if self.mirror_dir else settings.mirror_dir()

    def fetch(self, entry: DatasetFile, log=None) -> tuple[Path, str, str]:
        """Return (cached path, sha256, where it came from: cache|mirror|download)."""
        cached = self._cache() / entry.filename
        if cached.exists():
            digest = sha256_file(cached)
            if digest == entry.sha256:
                return cached, digest, "cache"
            if log:
                log.warning(f"{cached}: sha256 {digest} does not match the catalog; fetching a good copy")
        mirror = self._mirror()
        if mirror is not None and (mirror / entry.filename).exists():
            source = mirror / entry.filename
            self._verify(source, entry)
            with atomic.atomic_path(cached) as tmp:
                shutil.copyfile(source, tmp)
            return cached, entry.sha256, "mirror"
        if not self.allow_download:
            raise DataError(entry.filename, f"not in the cache ({cached}) nor in a mirror "
                                            f"({mirror or 'none configured'}) and downloads are disabled",
                            f"set {settings.MIRROR_ENV} to a folder holding the book's data files, "
                            "or allow downloads")
        self._download(entry, cached)
        return cached, entry.sha256, "download"

    def _download(self, entry: DatasetFile, target: Path) -> None:
        try:
            with atomic.atomic_path(target) as tmp:
                with urllib.request.urlopen(entry.url, timeout=self.timeout_seconds) as response, \
                        open(tmp, "wb") as handle:
                    shutil.copyfileobj(response, handle)
                self._verify(tmp, entry, shown=entry.url)
        except DataError:
            raise  # a hash mismatch is reported as such, not as a failed download
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError, ValueError) as exc:
            raise DataError(entry.filename, f"download from {entry.url} failed ({exc})",
                            f"check the network, or set {settings.MIRROR_ENV} to a local folder with "
                            f"{entry.filename} (sha256 {entry.sha256}), or copy it to {target}") from None

    @staticmethod
    def _verify(path: Path, entry: DatasetFile, shown: str | None = None) -> None:
        digest = sha256_file(path)
        if digest != entry.sha256:
            raise DataError(shown or path, f"sha256 mismatch for {entry.filename}: expected {entry.sha256}, "
                                           f"got {digest}",
                            f"replace the file with the original from {entry.url}, or, if the data really "
                            "changed, update its sha256 in ztdl_pipeline/datasets.py")
