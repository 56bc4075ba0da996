"""Downloading many images: bounded concurrency, per-image timeouts, retries with backoff, atomic writes,
every image validated by decoding it, and per-image failure tolerance (the book's ch11 `get_images`
with a ThreadPoolExecutor of 20 workers and `urlretrieve`, made robust).

Only the standard library and PIL; no dagster, no TensorFlow.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ztdl_pipeline.core import atomic

USER_AGENT = "ztdl-pipeline/0.1 (book image download)"
RETRYABLE_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ImageJob:
    url: str
    target: Path  # where the image is stored (relative layout chosen by the caller)


@dataclass
class ImageResult:
    url: str
    target: str
    status: str  # ok (downloaded now) | skipped (already there and valid) | failed
    attempts: int = 0
    error: str = ""
    sha256: str = ""
    bytes: int = 0
    seconds: float = 0.0


@dataclass
class DownloadSummary:
    results: list[ImageResult]
    seconds: float
    max_in_flight: int  # the most downloads that ran at the same time (bounded by `workers`)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = {s: sum(r.status == s for r in self.results) for s in ("ok", "skipped", "failed")}

    @property
    def failed_share(self) -> float:
        return self.counts["failed"] / len(self.results) if self.results else 0.0

    def failures(self, limit: int = 10) -> list[dict]:
        return [asdict(r) for r in self.results if r.status == "failed"][:limit]


class _Permanent(Exception):
    """A failure that retrying cannot fix (404, not an image)."""


def validate_image(data: bytes) -> tuple[int, int]:
    """Decode the bytes fully (not just the header); (width, height) or ValueError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValueError(f"not a decodable image ({type(exc).__name__}: {exc})") from None


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in RETRYABLE_HTTP:
            raise
        raise _Permanent(f"HTTP {exc.code} {exc.reason}") from None


def download_one(job: ImageJob, *, timeout: float = 15.0, retries: int = 2, backoff: float = 0.5,
                 fetch: Callable[[str, float], bytes] = _fetch) -> ImageResult:
    """One image: skip it if a valid copy is already there; else fetch (retrying transient errors with
    exponential backoff), decode it to prove it is an image, and write it atomically."""
    start = time.perf_counter()
    target = Path(job.target)
    if target.is_file():
        try:
            data = target.read_bytes()
            validate_image(data)
            return ImageResult(job.url, str(target), "skipped", 0, sha256=hashlib.sha256(data).hexdigest(),
                               bytes=len(data))
        except ValueError:
            pass  # a broken leftover: download again
    error, attempts = "", 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        try:
            data = fetch(job.url, timeout)
            validate_image(data)
            atomic.write_bytes(target, data)
            return ImageResult(job.url, str(target), "ok", attempts, sha256=hashlib.sha256(data).hexdigest(),
                               bytes=len(data), seconds=round(time.perf_counter() - start, 3))
        except (_Permanent, ValueError) as exc:
            error = str(exc)
            break
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt < retries:
                time.sleep(backoff * 2 ** attempt)
    return ImageResult(job.url, str(target), "failed", attempts, error=error,
                       seconds=round(time.perf_counter() - start, 3))


def download_images(jobs: Sequence[ImageJob], *, workers: int = 16, timeout: float = 15.0, retries: int = 2,
                    backoff: float = 0.5, fetch: Callable[[str, float], bytes] = _fetch,
                    progress: Callable[[int, int], None] | None = None) -> DownloadSummary:
    """Download every job with at most `workers` in flight; results in the jobs' order."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    lock = threading.Lock()
    state = {"in_flight": 0, "max": 0, "done": 0}

    def run(job: ImageJob) -> ImageResult:
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
        try:
            return download_one(job, timeout=timeout, retries=retries, backoff=backoff, fetch=fetch)
        finally:
            with lock:
                state["in_flight"] -= 1
                state["done"] += 1
                done = state["done"]
            if progress and (done % 100 == 0 or done == len(jobs)):
                progress(done, len(jobs))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="download") as pool:
        results = list(pool.map(run, jobs))
    return DownloadSummary(results, round(time.perf_counter() - start, 3), state["max"])
