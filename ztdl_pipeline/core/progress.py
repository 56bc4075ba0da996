"""Progress lines for long steps (trainings, downloads, bottleneck extraction): at most one line every
`every` seconds, each with the share done and an estimate of the time left, so a book-profile training of
200 short epochs logs a dozen lines instead of 200, and a step shorter than `every` logs only its last line.

No Dagster, no TensorFlow: the caller hands a `log` function (a Dagster logger's info, print, ...) and, in
tests, a fake `clock`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

EVERY_SECONDS = 15.0  # the most often a step reports


def duration(seconds: float) -> str:
    """A short human duration: 42s, 4m05s, 1h02m."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def seconds_left(elapsed: float, done: float, start: float, total: float) -> float | None:
    """The time left at the rate measured so far: `done - start` units took `elapsed` seconds (`start` is
    what was already done when timing began, e.g. the epochs before a resume); None before any unit ran."""
    ran = done - start
    if ran <= 0 or elapsed <= 0:
        return None
    return max(0.0, total - done) * elapsed / ran


class Progress:
    """Rate-limited progress of a step of `total` units, each line starting with `what`.

    `update(done, detail)` after each unit (or batch, or chunk of bytes) logs when `every` seconds passed since
    the last line; the last unit (`done >= total`) logs its line too (`final=True`), never (`False`), or only
    after earlier lines (`None`: a quick step stays silent, a long one says it ended). When `start` is
    None, the first update counts as one unit (a resumed training reports epoch 101 first: 100 were done
    before the clock started). Safe to call from several threads."""

    def __init__(self, what: str, total: float, log: Callable[[str], None], *, unit: str = "",
                 every: float = EVERY_SECONDS, final: bool | None = True, start: float | None = 0,
                 clock: Callable[[], float] = time.monotonic, fmt: Callable[[float], str] = lambda n: f"{n:g}"):
        self.what, self.total, self.log, self.unit, self.every, self.final = what, total, log, unit, every, final
        self.start, self.clock, self.fmt = start, clock, fmt
        self.began = self.last = clock()
        self.lines = self.done = 0
        self._lock = threading.Lock()

    def line(self, done: float, now: float, detail: str = "") -> str:
        """The progress line at `done` units, `now` on the clock."""
        elapsed = now - self.began
        share = f" ({done / self.total:.0%})" if self.total else ""
        unit = f" {self.unit}" if self.unit else ""
        head = f"{self.what}: {self.fmt(done)}/{self.fmt(self.total)}{unit}{share}"
        if done >= self.total:
            timing = f"done in {duration(elapsed)}"
        else:
            left = seconds_left(elapsed, done, self.start or 0, self.total)
            timing = f"{duration(elapsed)} elapsed" + (f", about {duration(left)} left" if left is not None else "")
        return f"{head}{': ' + detail if detail else ''} — {timing}"

    def tick(self, detail: str = "") -> str | None:
        """One more unit done (a chapter's trainings, counted as they end): `update` with the running count."""
        self.done += 1
        return self.update(self.done, detail)

    def update(self, done: float, detail: str = "") -> str | None:
        """Report `done` units; returns the line logged, or None when it is not yet time for one."""
        with self._lock:
            now = self.clock()
            if self.start is None:
                self.start = done - 1
            if done >= self.total:
                if self.final is False or (self.final is None and not self.lines):
                    return None
            elif now - self.last < self.every:
                return None
            self.last = now
            self.lines += 1
            text = self.line(done, now, detail)
        self.log(text)
        return text


def trainings(what: str, total: int, log: Callable[[str], None]) -> Progress:
    """A chapter's progress over its `total` trainings (a sweep's settings, repeated runs, devices): a line at
    most every EVERY_SECONDS (read at each call) and the last one, `what: 3/7 trainings (43%): lr=0.1 — 1m02s
    elapsed, about 1m20s left`."""
    return Progress(what, total, log, unit="trainings", every=EVERY_SECONDS, final=True)


def response_size(response) -> int | None:
    """The byte size a urllib response announces: `length` for HTTP, the Content-Length header otherwise
    (file:// responses have no `length`); None when unknown."""
    size = getattr(response, "length", None)
    if size is None:
        header = getattr(response, "headers", None)
        value = header.get("Content-Length") if header is not None else None
        size = int(value) if value and str(value).isdigit() else None
    return size


def copy_stream(source, target, what: str, log: Callable[[str], None] | None, total: int | None, *,
                chunk: int = 1 << 20, every: float = EVERY_SECONDS, clock: Callable[[], float] = time.monotonic) -> int:
    """`shutil.copyfileobj` for a download of `total` bytes that logs its progress in MB (at most every `every`
    seconds, with the time left) and, once it has logged, its end; silent when the size is unknown or it is
    quick. Returns the bytes copied."""
    progress = Progress(what, total / 1e6, log, unit="MB", every=every, final=None, clock=clock,
                        fmt=lambda n: f"{n:.1f}") if log and total else None
    copied = 0
    while block := source.read(chunk):
        target.write(block)
        copied += len(block)
        if progress is not None:
            progress.update(copied / 1e6)
    return copied
