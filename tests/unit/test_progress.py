"""core/progress: long steps log at most one line per interval, each with the share done and the time left,
measured on a fake clock; and the per-epoch hook built on it (core/tracking.EpochLog)."""

from __future__ import annotations

import threading

import pytest

from ztdl_pipeline.core.progress import Progress, duration, seconds_left
from ztdl_pipeline.core.tracking import EpochLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_durations_read_short():
    assert [duration(s) for s in (0, 42.4, 245, 3720, 90061)] == ["0s", "42s", "4m05s", "1h02m", "25h01m"]


def test_time_left_is_the_rate_so_far_times_what_remains():
    assert seconds_left(elapsed=30, done=10, start=0, total=100) == pytest.approx(270)
    # resumed at unit 100: only the 10 units run since the clock started count towards the rate
    assert seconds_left(elapsed=30, done=110, start=100, total=200) == pytest.approx(270)
    assert seconds_left(elapsed=0, done=0, start=0, total=10) is None


def test_two_hundred_quick_epochs_log_one_line_per_interval_and_the_last():
    clock, lines = Clock(), []
    progress = Progress("training x", 200, lines.append, unit="epochs", every=15, clock=clock)
    for epoch in range(1, 201):
        clock.now += 0.5  # 100 s in all
        progress.update(epoch, f"loss={1 / epoch:.3f}")
    assert len(lines) == 100 // 15 + 1  # one every 15 s, and the last epoch's
    first = lines[0]
    assert first.startswith("training x: 30/200 epochs (15%): loss=0.033") and "15s elapsed" in first
    assert first.endswith("about 1m25s left")  # 170 epochs at 0.5 s
    assert lines[-1] == "training x: 200/200 epochs (100%): loss=0.005 — done in 1m40s"


def test_a_step_shorter_than_the_interval_logs_only_its_end_or_nothing():
    clock, lines = Clock(), []
    progress = Progress("downloading", 3, lines.append, every=15, clock=clock)
    for done in (1, 2, 3):
        clock.now += 1
        progress.update(done)
    assert lines == ["downloading: 3/3 (100%) — done in 3s"]
    quiet, silent = Progress("extracting", 3, lines.append, every=15, final=False, clock=clock), []
    quiet.log = silent.append
    for done in (1, 2, 3):
        clock.now += 1
        quiet.update(done)
    assert silent == []


def test_a_resumed_fit_estimates_from_the_epochs_it_ran():
    clock, lines = Clock(), []
    progress = Progress("training", 200, lines.append, unit="epochs", every=10, start=None, clock=clock)
    for epoch in range(101, 121):  # 100 epochs were done before the kill; each takes 1 s now
        clock.now += 1
        progress.update(epoch)
    assert lines[0].startswith("training: 110/200 epochs (55%)") and lines[0].endswith("about 1m30s left")


def test_updates_from_several_threads_log_each_line_once():
    clock, lines = Clock(), []
    progress = Progress("pictures", 400, lines.append, every=15, clock=clock)
    clock.now += 20

    def work(offset: int) -> None:
        for done in range(offset, 400, 4):
            progress.update(done)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lines) == 1  # the clock stood still after the first line


def test_the_epoch_hook_starts_a_new_progress_when_a_fit_starts_over():
    clock, lines = Clock(), []
    hook = EpochLog("training y", 3, lines.append, every=100, clock=clock)
    for _ in range(2):  # two seeds, each 3 epochs
        for epoch in (1, 2, 3):
            clock.now += 1
            hook(epoch, {"loss": 0.5})
    assert lines == ["training y: 3/3 epochs (100%): loss=0.5 — done in 3s",
                     "training y: 3/3 epochs (100%): loss=0.5 — done in 2s"]  # the second clock starts after epoch 1


def test_a_download_logs_megabytes_with_the_time_left_and_its_end_only_when_long():
    import io

    from ztdl_pipeline.core.progress import copy_stream

    clock, lines = Clock(), []

    class Slow(io.BytesIO):
        def read(self, size=-1):
            clock.now += 4  # 4 s per MB read
            return super().read(size)

    target = io.BytesIO()
    assert copy_stream(Slow(b"x" * 5_000_000), target, "downloading big.h5", lines.append, 5_000_000,
                       chunk=1_000_000, clock=clock) == 5_000_000 == len(target.getvalue())
    assert lines == ["downloading big.h5: 4.0/5.0 MB (80%) — 16s elapsed, about 4s left",
                     "downloading big.h5: 5.0/5.0 MB (100%) — done in 20s"]
    quick: list[str] = []
    copy_stream(io.BytesIO(b"x" * 100), io.BytesIO(), "downloading small.csv", quick.append, 100, clock=clock)
    assert quick == []  # quick, so silent


def test_a_file_url_response_has_a_size_too(tmp_path):
    """urllib's file:// responses have no `length` (HTTP ones do): the size comes from Content-Length."""
    import urllib.request

    from ztdl_pipeline.core.progress import response_size

    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 1234)
    with urllib.request.urlopen(path.as_uri()) as response:
        assert not hasattr(response, "length") or response.length is None or response.length == 1234
        assert response_size(response) == 1234
