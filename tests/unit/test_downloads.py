"""The image downloader (core/downloads.py) and raw/sports_images_raw against a local HTTP server on 127.0.0.1 that
serves generated JPEGs, broken files (not an image), 404s, and flaky answers (503 before success)."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from ztdl_pipeline.core import downloads


def jpeg(seed: int, size=(40, 30)) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


class Server:
    """Paths: .../missing* -> 404; .../broken* -> 200 with text; .../flaky* -> 503 on the first request,
    then a JPEG; anything else -> a JPEG generated from the path. Counts requests and concurrency."""

    def __init__(self, delay: float = 0.0):
        self.delay, self.requests, self.lock = delay, Counter(), threading.Lock()
        self.in_flight = self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with server.lock:
                    server.requests[self.path] += 1
                    count = server.requests[self.path]
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                    if "missing" in self.path:
                        self.send_error(404)
                        return
                    if "flaky" in self.path and count == 1:
                        self.send_error(503)
                        return
                    body = b"<html>not an image</html>" if "broken" in self.path else jpeg(hash(self.path) % 1000)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_ok_broken_missing_flaky_and_skip(tmp_path):
    names = ["ok1.jpg", "ok2.jpg", "broken.jpg", "missing.jpg", "flaky.jpg"]
    with Server() as server:
        jobs = [downloads.ImageJob(server.url + n, tmp_path / "img" / n) for n in names]
        summary = downloads.download_images(jobs, workers=4, timeout=5, retries=2, backoff=0.01)
        status = {r.url.rsplit("/", 1)[1]: r for r in summary.results}
        assert [r.url for r in summary.results] == [j.url for j in jobs]  # the jobs' order
        assert summary.counts == {"ok": 3, "skipped": 0, "failed": 2}
        assert status["flaky.jpg"].status == "ok" and status["flaky.jpg"].attempts == 2  # 503 retried
        assert "HTTP 404" in status["missing.jpg"].error and status["missing.jpg"].attempts == 1  # not retried
        assert "not a decodable image" in status["broken.jpg"].error
        assert not (tmp_path / "img" / "broken.jpg").exists() and not (tmp_path / "img" / "missing.jpg").exists()
        assert Image.open(tmp_path / "img" / "ok1.jpg").size == (40, 30)
        assert not [p for p in (tmp_path / "img").iterdir() if p.name.startswith(".")]  # no temp files left
        again = downloads.download_images(jobs, workers=4, timeout=5, retries=0, backoff=0.01)
        assert again.counts == {"ok": 0, "skipped": 3, "failed": 2}
        assert server.requests["/ok1.jpg"] == 1  # a valid file on disk is not fetched again


def test_concurrency_is_bounded(tmp_path):
    with Server(delay=0.05) as server:
        jobs = [downloads.ImageJob(f"{server.url}img{i}.jpg", tmp_path / f"{i}.jpg") for i in range(24)]
        summary = downloads.download_images(jobs, workers=3, timeout=5)
    assert summary.counts["ok"] == 24
    assert server.max_in_flight <= 3 and summary.max_in_flight <= 3
    assert server.max_in_flight >= 2  # it did run in parallel


def test_transient_failures_exhaust_retries(tmp_path):
    calls = []

    def always_down(url, timeout):
        calls.append(url)
        raise TimeoutError("timed out")

    result = downloads.download_one(downloads.ImageJob("http://x/a.jpg", tmp_path / "a.jpg"), retries=2,
                                    backoff=0.001, fetch=always_down)
    assert result.status == "failed" and result.attempts == 3 and len(calls) == 3 and "timed out" in result.error


def _materialize(root, mirror, config):
    from ztdl_pipeline.defs.transfer.sources import sports_images
    from ztdl_pipeline.resources import DatasetSource, ParquetIOManager, Storage

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTDL_DATA_DIR", str(root))
        patch.setenv("ZTDL_DATA_MIRROR", str(mirror))
        patch.setenv("ZTDL_PROFILE", "fast")
        storage = Storage()
        return dg.materialize([sports_images], resources={"data_source": DatasetSource(), "storage": storage,
                                                          "parquet_io": ParquetIOManager(storage=storage)},
                              run_config={"ops": {"raw__sports_images_raw": {"config": config}}}, raise_on_error=False)


def test_sports_images_asset_against_local_server(tmp_path, mirror):
    with Server() as server:
        result = _materialize(tmp_path / "data", mirror, {"url_prefix": server.url, "per_class": 3,
                                                          "workers": 4})
    assert result.success
    index = result.output_for_node("raw__sports_images_raw")
    assert len(index) == 18  # 3 per class and split: 3 classes × (train, test)
    assert sorted(index.class_name.unique()) == ["Beach volleyball", "Cross-country skiing", "Formula racing"]
    assert index.groupby("split").size().to_dict() == {"test": 9, "train": 9}
    assert all(Image.open(f).size == (40, 30) for f in index.file)
    assert index.file.str.contains("/raw/sports_images/").all()
    meta = result.asset_materializations_for_node("raw__sports_images_raw")[0].metadata
    assert meta["ok"].value == 18.0 and meta["failed"].value == 0.0
    assert "random_state=2" in meta["split"].value


def test_sports_images_offline_fails_clearly(tmp_path, mirror):
    with Server() as server:
        closed = server.url  # nothing listens here once the server is shut down
    result = _materialize(tmp_path / "data", mirror, {"url_prefix": closed, "per_class": 2, "retries": 0,
                                                      "timeout_seconds": 2})
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.event_specific_data.error.message
    assert "12 of 12 downloads failed" in message and "needs network access" in message


def test_sports_images_core_call_limits_splits_and_tolerates_failures(tmp_path):
    """core/downloads.sports_images, the raw asset's one call: csv halves, per-class limit, hosts replaced,
    missing pictures tolerated up to max_failed_share, then refused with the failures counted."""
    import pandas as pd

    host = downloads.SPORTS_HOST

    def read(name):
        names = ["a.jpg", "b.jpg", "missing.jpg"] if name == "sports_train" else ["c.jpg"]
        frame = pd.DataFrame({"image_url": [host + n for n in names], "class": ["Formula racing"] * len(names)})
        return frame, f"digest-{name}"

    options = dict(split="csv", test_size=0.3, random_state=2, workers=2, timeout_seconds=5, retries=0,
                   backoff_seconds=0.01)
    with Server() as server:
        index, version, summary = downloads.sports_images(read, tmp_path, per_class=0, url_prefix=server.url,
                                                          max_failed_share=0.5, **options)
        assert index.relative.tolist() == ["train/Formula_racing/a.jpg", "train/Formula_racing/b.jpg",
                                           "test/Formula_racing/c.jpg"]
        assert index.url.str.startswith(server.url).all() and summary["failed"] == 1.0
        assert version == hashlib.sha256("\n".join(index.sha256.tolist() + ["digest-sports_train",
                                                                             "digest-sports_test"]).encode()).hexdigest()
        limited, _, _ = downloads.sports_images(read, tmp_path, per_class=1, url_prefix=server.url,
                                                max_failed_share=0.5, **options)
        assert limited.relative.tolist() == ["train/Formula_racing/a.jpg", "test/Formula_racing/c.jpg"]
        with pytest.raises(downloads.DownloadsFailed, match="1 of 4 downloads failed") as failed:
            downloads.sports_images(read, tmp_path, per_class=0, url_prefix=server.url, max_failed_share=0.1,
                                    **options)
        assert failed.value.metadata["failed"] == 1.0
    with pytest.raises(ValueError, match="split must be"):
        downloads.sports_images(read, tmp_path, per_class=0, url_prefix=None, max_failed_share=0.1,
                                **{**options, "split": "random"})
