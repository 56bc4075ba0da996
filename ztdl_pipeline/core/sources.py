"""What a dataset's source holds right now, as a data version, without reading it into a table.

A source is the user's configured file ($ZTDL_SOURCE_<NAME>), the mirror's copy, or the canonical URL. A file's
version is the sha256 of its bytes (hashed again only when its size or modification time changed: `stats`
remembers both per path); a folder's is a fingerprint of its files' names, sizes and times (the raw asset then
hashes the bytes); a URL's is the ETag or Last-Modified the server sends for a HEAD request.
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ztdl_pipeline.core.schema import sha256_file


@dataclass(frozen=True)
class Observation:
    data_version: str | None  # None: the source cannot be read here (the reason says why)
    origin: str  # configured | mirror | file | url | unavailable
    detail: str  # the path or URL observed, or why nothing could be

    @property
    def available(self) -> bool:
        return self.data_version is not None


def file_version(path: Path, stats: dict | None = None) -> str:
    """sha256 of the file's bytes; with `stats` ({path: [size, mtime_ns, sha256]}), hashed only when changed."""
    stat = path.stat()
    known = (stats or {}).get(str(path))
    if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
        return known[2]
    digest = sha256_file(path)
    if stats is not None:
        stats[str(path)] = [stat.st_size, stat.st_mtime_ns, digest]
    return digest


def folder_version(folder: Path) -> str:
    """A fingerprint of every file under `folder`: relative path, size and modification time."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return "files:" + digest.hexdigest()


def url_version(url: str, timeout: float = 5.0) -> tuple[str | None, str]:
    """(version, detail) of a URL from a HEAD request: its ETag, else its Last-Modified; (None, why) when the
    server cannot be reached or sends neither."""
    try:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers = response.headers
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError, ValueError) as exc:
        return None, f"{url} cannot be reached ({exc})"
    if headers.get("ETag"):
        return "etag:" + headers["ETag"].strip('"'), url
    if headers.get("Last-Modified"):
        return "last-modified:" + headers["Last-Modified"], url
    return None, f"{url} sends no ETag or Last-Modified, so a change cannot be seen without downloading"


URL_CHECK_INTERVAL_S = 3600.0  # a remote source is asked at most hourly (the sensor looks every 30 s)


def url_version_checked(url: str, stats: dict | None, timeout: float = 5.0,
                        max_age_s: float = URL_CHECK_INTERVAL_S) -> tuple[str | None, str]:
    """`url_version`, remembered in `stats` (under "url:<url>") for `max_age_s` seconds."""
    remembered = (stats or {}).get("url:" + url)
    if remembered and time.time() - remembered[0] < max_age_s:
        return remembered[1], remembered[2]
    version, detail = url_version(url, timeout)
    if stats is not None:
        stats["url:" + url] = [time.time(), version, detail]
    return version, detail
