"""DatasetSource: find a catalog file locally or fetch it, and prove its bytes are the right ones."""

from __future__ import annotations

import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from ztdl_pipeline import settings
from ztdl_pipeline.catalog.datasets import DatasetFile, DatasetFolder
from ztdl_pipeline.core import atomic
from ztdl_pipeline.core.errors import DataError, FetchFailed
from ztdl_pipeline.core.names import user_key
from ztdl_pipeline.core.progress import copy_stream, response_size
from ztdl_pipeline.core.schema import sha256_file


def _validated(path: Path, validate: Callable[[Path], Any] | None, *, remove: bool, digest: str = "") -> str:
    """Run `validate` on `path`; on a DataError remove the file first when it is our cached copy."""
    if validate is not None:
        try:
            validate(path)
        except DataError:
            if remove:
                path.unlink(missing_ok=True)
            raise
    return digest


class DatasetSource(dg.ConfigurableResource):
    """Resolves a raw file: cache (data/raw) -> mirror folder -> canonical URL; sha256 checked every time.

    A file found in the mirror or downloaded is copied into the cache, so later runs work offline.
    """

    cache_dir: str | None = None  # default: $ZTDL_DATA_DIR/raw ($ZTDL_LOCAL_DIR/raw with an object-store root)
    mirror_dir: str | None = None  # default: $ZTDL_DATA_MIRROR (same file names as the book's data/)
    allow_download: bool = True
    timeout_seconds: float = 60.0

    def cache_folder(self, name: str = "") -> Path:
        """The download cache (shared by every profile), or a named folder in it for files that are unpacked or
        gathered rather than fetched one by one (GloVe's text, the sports pictures)."""
        cache = Path(self.cache_dir) if self.cache_dir else settings.local_dir() / "raw"
        return cache / name if name else cache

    def _cache(self) -> Path:
        return self.cache_folder()

    def _mirror(self) -> Path | None:
        return Path(self.mirror_dir) if self.mirror_dir else settings.mirror_dir()

    def fetch(self, entry: DatasetFile, log=None, validate: Callable[[Path], Any] | None = None
              ) -> tuple[Path, str, str]:
        """Return (cached path, sha256, where it came from: cache|mirror|file|download).

        A file without a pinned sha256 cannot be proven by its hash, so `validate` (a parser that raises
        DataError) judges it instead: before a mirror copy enters the cache, right after a download (a bad
        one is removed again), and on every cache hit; nothing invalid stays in the cache."""
        configured = settings.configured_source(entry.name)
        if configured is not None:
            return self._configured(entry, configured, validate, log)
        cached = self._cache() / entry.filename
        check = validate if entry.sha256 is None else None
        mirror_copy = self._mirror_copy(entry)
        if cached.exists():
            digest = sha256_file(cached)
            good = entry.sha256 is None or digest in entry.accepted_sha256  # None: hash unknown, recorded only
            if good and mirror_copy is not None and sha256_file(mirror_copy) != digest:
                good = False  # the mirror's copy changed: the cache never hides it (verified just below)
                if log:
                    log.info(f"{mirror_copy} differs from the cached copy {cached}; reading the mirror again")
            elif not good and log:
                log.warning(f"{cached}: sha256 {digest} does not match the catalog; fetching a good copy")
            if good:
                if entry.sha256 is None and log:
                    log.warning(f"{cached}: the catalog has no sha256 for {entry.filename}; using it unverified "
                                f"(sha256 {digest})")
                _validated(cached, check, remove=True)
                return cached, digest, "cache"
        mirror = self._mirror()
        if mirror_copy is not None:
            source = mirror_copy
            digest = self._verify(source, entry)
            _validated(source, check, remove=False)
            with atomic.atomic_path(cached) as tmp:
                shutil.copyfile(source, tmp)
            return cached, digest, "mirror"
        if entry.url.startswith("file:"):  # a local copy (e.g. the one scikit-learn ships): no network needed
            return cached, _validated(cached, check, remove=True, digest=self._download(entry, cached)), "file"
        if not entry.url:  # no public copy: only the user's own file can stand in for it
            env = settings.source_env(entry.name)
            raise DataError(entry.filename, f"not in the cache ({cached}) nor in a mirror "
                                            f"({mirror or 'none configured'}), and no public copy is known",
                            f"set {env} to your copy of {entry.filename} (columns "
                            f"{', '.join(entry.column_names)})")
        if not self.allow_download:
            raise DataError(entry.filename, f"not in the cache ({cached}) nor in a mirror "
                                            f"({mirror or 'none configured'}) and downloads are disabled",
                            f"set {settings.MIRROR_ENV} to a folder holding the book's data files, "
                            "or allow downloads")
        return cached, _validated(cached, check, remove=True, digest=self._download(entry, cached)), "download"

    # ------------------------------------------------------------ observing (the source sensor, make run)

    @staticmethod
    def source_variable(dataset: str) -> str:
        """The environment variable that points `dataset` at a user's own file (ZTDL_SOURCE_<NAME>)."""
        return settings.source_env(dataset)

    def observe(self, entry: DatasetFile | DatasetFolder, stats: dict | None = None):
        """What `entry`'s source holds now (core/sources.Observation): the configured file, else the mirror's
        copy, else the canonical URL's ETag / Last-Modified (when downloads are allowed)."""
        from ztdl_pipeline.core import sources

        if isinstance(entry, DatasetFile):
            configured = settings.configured_source(entry.name)
            if configured is not None:
                if not configured.is_file():
                    return sources.Observation(None, "unavailable", f"{settings.source_env(entry.name)} points "
                                                                    f"at {configured}, which is not a file")
                return sources.Observation(sources.file_version(configured, stats), "configured", str(configured))
            copy = self._mirror_copy(entry)
            if copy is not None:
                return sources.Observation(sources.file_version(copy, stats), "mirror", str(copy))
        else:
            mirror = self._mirror()
            if mirror is not None and (mirror / entry.folder).is_dir():
                return sources.Observation(sources.folder_version(mirror / entry.folder), "mirror",
                                           str(mirror / entry.folder))
        url = entry.url
        if url.startswith("file:"):
            path = Path(urllib.parse.urlparse(url).path)
            if path.is_file():
                return sources.Observation(sources.file_version(path, stats), "file", str(path))
            return sources.Observation(None, "unavailable", f"{path} does not exist")
        if not url:
            return sources.Observation(None, "unavailable", "the catalog gives no URL and no mirror holds it")
        if not self.allow_download:
            return sources.Observation(None, "unavailable", f"not in a mirror, no {settings.source_env(entry.name)}"
                                                            ", and downloads are disabled")
        version, detail = sources.url_version_checked(url, stats, timeout=min(self.timeout_seconds, 5.0))
        return sources.Observation(version, "url" if version else "unavailable", detail)

    def _mirror_copy(self, entry: DatasetFile) -> Path | None:
        mirror = self._mirror()
        return mirror / entry.filename if mirror is not None and (mirror / entry.filename).is_file() else None

    @staticmethod
    def _configured(entry: DatasetFile, path: Path, validate: Callable[[Path], Any] | None, log
                    ) -> tuple[Path, str, str]:
        """The user's own file ($ZTDL_SOURCE_<NAME>), read in place: no pinned hash can vouch for it, so its
        schema and values are checked instead, and no cached copy stands in for it."""
        env = settings.source_env(entry.name)
        if not path.is_file():
            raise DataError(path, f"{env} points at {path}, which is not a file",
                            f"point {env} at a {entry.filename}-like file, or unset it to use the book's file")
        if validate is not None:
            validate(path)
        digest = sha256_file(path)
        if log:
            log.info(f"{user_key('raw', entry.name)}: reading {path} ({env}; sha256 {digest[:12]}; no pinned "
                     "hash, its columns and values were checked)")
        return path, digest, "configured"

    def _download(self, entry: DatasetFile, target: Path) -> str:
        try:
            with atomic.atomic_path(target) as tmp:
                with urllib.request.urlopen(entry.url, timeout=self.timeout_seconds) as response, \
                        open(tmp, "wb") as handle:
                    copy_stream(response, handle, f"downloading {entry.filename}", dg.get_dagster_logger().info,
                                response_size(response))
                digest = self._verify(tmp, entry, shown=entry.url)
            return digest
        except DataError:
            raise  # a hash mismatch is reported as such, not as a failed download
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError, ValueError) as exc:
            raise FetchFailed(entry.filename, f"download from {entry.url} failed ({exc})",
                            f"check the network, or set {settings.MIRROR_ENV} to a local folder with "
                            f"{entry.filename} (sha256 {entry.sha256}), or copy it to {target}") from None

    @staticmethod
    def _verify(path: Path, entry: DatasetFile, shown: str | None = None) -> str:
        digest = sha256_file(path)
        if entry.sha256 is not None and digest not in entry.accepted_sha256:
            expected = entry.sha256 if not entry.alt_sha256 else "one of " + ", ".join(entry.accepted_sha256)
            raise DataError(shown or path, f"sha256 mismatch for {entry.filename}: expected {expected}, "
                                           f"got {digest}",
                            f"replace the file with the original from {entry.url}, or, if the data really "
                            "changed, update its sha256 in ztdl_pipeline/catalog/datasets.py")
        return digest

    # ------------------------------------------------------------ folders

    def fetch_folder(self, entry: DatasetFolder, log=None) -> tuple[Path, str, str, dict[str, str]]:
        """Return (cached folder, data version, cache|mirror|download, {relative path: sha256}).

        The data version is the catalog's manifest hash for a folder whose every file matches the manifest
        (mirror, per-file download), or the archive's sha256 for a folder unpacked from an archive. The
        files actually in the cache are listed, with their hashes, in a sidecar `<folder>.sha256` written
        after the folder is complete; every fetch re-hashes them.
        """
        target = self._cache() / entry.folder
        cached = self._cached_folder(entry, target, log)
        if cached is not None:
            return target, cached[0], "cache", cached[1]
        mirror = self._mirror()
        if mirror is not None and (mirror / entry.folder).is_dir():
            files = self._verify_folder(mirror / entry.folder, entry)
            with atomic.atomic_dir(target) as tmp:
                for relative in files:
                    (tmp / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(mirror / entry.folder / relative, tmp / relative)
            self._write_sidecar(target, entry.sha256, files)
            return target, entry.sha256, "mirror", files
        if not self.allow_download:
            raise DataError(f"{entry.folder}/", f"not in the cache ({target}) nor in a mirror "
                                                f"({mirror or 'none configured'}) and downloads are disabled",
                            f"set {settings.MIRROR_ENV} to a folder holding the book's {entry.folder}/ "
                            "folder, or allow downloads")
        if entry.archive_url:
            digest, files = self._download_archive(entry, target)
        elif entry.base_url:
            files = entry.files()
            with atomic.atomic_dir(target) as tmp:
                for relative, sha256 in files.items():
                    url = entry.base_url + urllib.parse.quote(relative)
                    one = DatasetFile(name=entry.name, filename=f"{entry.folder}/{relative}", url=url,
                                      sha256=sha256, columns=(), description=entry.description)
                    self._download(one, tmp / relative)
            digest = entry.sha256
        else:
            raise DataError(f"{entry.folder}/", "the catalog gives no URL to download this folder from",
                            f"set {settings.MIRROR_ENV} to a folder holding {entry.folder}/")
        self._write_sidecar(target, digest, files)
        return target, digest, "download", files

    @staticmethod
    def _sidecar(target: Path) -> Path:
        return target.with_name(target.name + ".sha256")

    def _write_sidecar(self, target: Path, digest: str, files: dict[str, str]) -> None:
        lines = [f"# data version {digest}", *(f"{h}  {relative}" for relative, h in sorted(files.items()))]
        atomic.write_text(self._sidecar(target), "\n".join(lines) + "\n")

    def _cached_folder(self, entry: DatasetFolder, target: Path, log) -> tuple[str, dict[str, str]] | None:
        sidecar = self._sidecar(target)
        if not (target.is_dir() and sidecar.exists()):
            return None
        header, *lines = sidecar.read_text().splitlines()
        digest = header.removeprefix("# data version ").strip()
        files = dict(reversed(line.split("  ", 1)) for line in lines if line.strip())
        if digest not in (entry.sha256, entry.archive_sha256):
            problem = f"holds data version {digest}, which the catalog does not pin"
        else:
            bad = [r for r, h in files.items() if not (target / r).is_file() or sha256_file(target / r) != h]
            if not bad:
                return digest, files
            problem = f"{len(bad)} file(s) changed or missing since they were fetched, e.g. {bad[0]}"
        if log:
            log.warning(f"{target}: {problem}; fetching a good copy")
        return None

    @staticmethod
    def _verify_folder(folder: Path, entry: DatasetFolder) -> dict[str, str]:
        files = entry.files()
        for relative, expected in files.items():
            path = folder / relative
            if not path.is_file():
                raise DataError(path, f"missing: the catalog's manifest for {entry.folder}/ lists "
                                      f"{len(files)} files",
                                f"restore the file, or point {settings.MIRROR_ENV} at a complete copy of the "
                                "folder")
            digest = sha256_file(path)
            if digest != expected:
                raise DataError(path, f"sha256 mismatch for {entry.folder}/{relative}: expected {expected}, "
                                      f"got {digest}",
                                "replace the file with the original "
                                f"(ztdl_pipeline/manifests/{entry.manifest} pins every file of the folder)")
        return files

    def _download_archive(self, entry: DatasetFolder, target: Path) -> tuple[str, dict[str, str]]:
        name = Path(urllib.parse.urlparse(entry.archive_url).path).name
        if not entry.archive_sha256:
            raise DataError(entry.archive_url, "the catalog pins no sha256 for this archive, so a download "
                                               "could not be verified",
                            "download it once, check it, and pass its sha256 in the "
                            f"{user_key('raw', entry.name)} asset's run config (sha256), or set {settings.MIRROR_ENV} to "
                            f"a folder holding {entry.folder}/")
        archive = self._cache() / name
        as_file = DatasetFile(name=entry.name, filename=name, url=entry.archive_url,
                              sha256=entry.archive_sha256, columns=(), description=entry.description)
        digest = sha256_file(archive) if archive.exists() else None
        if digest != entry.archive_sha256:
            digest = self._download(as_file, archive)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{target.name}.unpack-", dir=target.parent) as unpack:
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(unpack, filter="data")  # refuses absolute paths, links out, devices
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise DataError(archive, f"cannot be unpacked ({type(exc).__name__}: {exc})") from None
            # the archive holds the folder itself (male_female/train/...) or its content (train/...)
            root = Path(unpack) / entry.folder if (Path(unpack) / entry.folder).is_dir() else Path(unpack)
            files = {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*"))
                     if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}
            if not files:
                raise DataError(archive, f"the archive holds no files (looked in {entry.folder}/ and at its "
                                         "top)")
            with atomic.atomic_dir(target) as tmp:
                for child in root.iterdir():
                    os.replace(child, tmp / child.name)
        return digest, files
