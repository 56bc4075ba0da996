"""Downloading many images: bounded concurrency, per-image timeouts, retries with backoff, atomic writes,
every image validated by decoding it, and per-image failure tolerance (the book's ch11 `get_images`
with a ThreadPoolExecutor of 20 workers and `urlretrieve`, made robust).

Only the standard library, PIL and pandas; no dagster, no TensorFlow. `sports_images` is ch11's raw asset's
one call: URL lists in, downloaded pictures' index out.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ztdl_pipeline.core import atomic
from ztdl_pipeline.core.names import user_key

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
            if progress:  # every completion; core/progress.Progress decides when a line is due
                progress(done, len(jobs))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="download") as pool:
        results = list(pool.map(run, jobs))
    return DownloadSummary(results, round(time.perf_counter() - start, 3), state["max"])


# ---------------------------------------------------------------- ch11: the sports pictures sports.csv lists

SPORTS_HOST = "https://multimedia-commons.s3-us-west-2.amazonaws.com/"
# split -> the URL lists it reads: the book's code splits sports.csv; the book repository has both halves
SPORTS_LISTS = {"stratified": ("sports",), "csv": ("sports_train", "sports_test")}


class DownloadsFailed(Exception):
    """Too many downloads failed; `metadata` counts them and lists the first failures."""

    def __init__(self, message: str, metadata: dict):
        super().__init__(message)
        self.metadata = metadata


def sports_images(read: Callable[[str], tuple[pd.DataFrame, str]], root: Path, *, split: str, test_size: float,
                  random_state: int, per_class: int, url_prefix: str | None, workers: int, timeout_seconds: float,
                  retries: int, backoff_seconds: float, max_failed_share: float,
                  log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, str, dict[str, Any]]:
    """Download the pictures the URL lists name into root/<split>/<class>/ (`read(name)` gives a list, e.g.
    "sports", as a frame with its sha256). Returns the index of the pictures kept (file, relative, sha256,
    bytes, split, class_name, url), its data version (the pictures' and lists' hashes) and a summary; raises
    DownloadsFailed when more than `max_failed_share` of them failed. `log` gets a progress line at most every
    15 s (core/progress) with the time left."""
    from ztdl_pipeline.core.images import stratified_split
    from ztdl_pipeline.core.progress import Progress

    if split not in SPORTS_LISTS:
        raise ValueError(f"{user_key('raw', 'sports_images')}: split must be 'stratified' or 'csv', not {split!r}")
    read_lists = [read(name) for name in SPORTS_LISTS[split]]
    digests = [digest for _, digest in read_lists]
    if split == "stratified":
        frame = read_lists[0][0]
        frame["split"] = stratified_split(frame["class"].to_numpy(), test_size, random_state)
    else:
        frame = pd.concat([f.assign(split=s) for (f, _), s in zip(read_lists, ("train", "test"))],
                          ignore_index=True)
    if per_class:
        frame = frame.groupby(["split", "class"], sort=False).head(per_class).reset_index(drop=True)
    frame["url"] = frame.image_url.str.replace(SPORTS_HOST, url_prefix, regex=False) if url_prefix \
        else frame.image_url
    frame["relative"] = [f"{s}/{c.replace(' ', '_')}/{Path(u).name}"
                         for s, c, u in zip(frame.split, frame["class"], frame.image_url)]
    jobs = [ImageJob(u, root / r) for u, r in zip(frame.url, frame.relative)]
    progress = None
    if log:
        log(f"downloading {len(jobs)} pictures with {workers} workers into {root}")
        progress = Progress("downloading pictures", len(jobs), log, unit="pictures")
    summary = download_images(jobs, workers=workers, timeout=timeout_seconds, retries=retries,
                              backoff=backoff_seconds, progress=progress and (lambda done, _: progress.update(done)))
    counts = summary.counts
    if not jobs or summary.failed_share > max_failed_share:
        examples = "; ".join(f"{f['url']}: {f['error']}" for f in summary.failures(3))
        raise DownloadsFailed(
            f"{user_key('raw', 'sports_images')}: {counts['failed']} of {len(jobs)} downloads failed (more than "
            f"{max_failed_share:.0%} allowed), e.g. {examples or 'no URLs'}. The sports pictures are "
            "not in the data mirror: this asset needs network access to multimedia-commons (or config "
            "url_prefix pointing at a copy); raise max_failed_share to accept more missing pictures.",
            {**{k: float(v) for k, v in counts.items()}, "failures": json.dumps(summary.failures())})
    kept = [r.status != "failed" for r in summary.results]
    rows = frame[kept].reset_index(drop=True)
    good = [r for r in summary.results if r.status != "failed"]
    index = pd.DataFrame({
        "file": [r.target for r in good], "relative": rows.relative, "sha256": [r.sha256 for r in good],
        "bytes": [r.bytes for r in good], "split": rows.split, "class_name": rows["class"], "url": rows.url})
    version = hashlib.sha256("\n".join(index.sha256.tolist() + digests).encode()).hexdigest()
    per = index.groupby(["split", "class_name"]).size()
    return index, version, {
        "ok": float(counts["ok"]), "skipped (already there)": float(counts["skipped"]),
        "failed": float(counts["failed"]), "requested": float(len(jobs)), "seconds": summary.seconds,
        "max_in_flight": float(summary.max_in_flight), "workers": float(workers),
        "failed_share": summary.failed_share, "failures": json.dumps(summary.failures()),
        "split": (f"train_test_split(sports.csv, test_size={test_size}, random_state={random_state}, "
                  "stratify=class) — the book's code" if split == "stratified"
                  else "the book repository's sports/sports_{train,test}.csv"),
        "files per split/class": json.dumps({"/".join(k): int(v) for k, v in per.items()})}
