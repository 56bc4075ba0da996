"""A chapter experiment's outcome: what a report asset writes and shows, as plain data (no Dagster).

Chapter experiments (sweeps, learning curves, variant tables, device timings, zero-shot predictions, image
search) are core functions returning a `Chapter`; the asset wrapping one hands it to the shared report writer
(assets/chapters.py): `sections` and `images` become reports/<name>/report.md and its PNGs, `result` the
report's metrics.json, and `metadata` the numbers shown in the UI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Chapter:
    title: str
    sections: list[tuple[str, str]]  # (heading, Markdown body), in order
    images: dict[str, bytes] = field(default_factory=dict)  # name -> PNG
    result: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable: the report's metrics.json
    metadata: dict[str, Any] = field(default_factory=dict)  # a few numbers for the UI

    def markdown(self, embed: bool) -> str:
        """report.md (embed=False: images as files beside it) or the UI's copy (embed=True: images inline)."""
        from ztdl_pipeline.core.report import render

        return render(self.title, self.sections, self.images, embed)


def _quiet(message: str) -> None:
    pass


@dataclass
class Run:
    """What a chapter experiment gets from the run besides its settings: the profile, the device it runs on
    (the compute resource's description), the distribution strategy, whether to JIT-compile, how to seed
    everything, and where to log."""

    profile: str = "book"
    device: dict[str, Any] = field(default_factory=dict)
    strategy: Any = None
    jit_compile: Any = "auto"
    seed_fn: Callable[[int], None] | None = None
    log: Callable[[str], None] = _quiet
    backup_dir: str | None = None  # where a training keeps what it needs to resume after a kill
    on_epoch_end: Callable[[int, dict], None] | None = None  # a model asset's per-epoch hook (core/tracking.EpochLog)
    files_dir: str | None = None  # where an experiment keeps files a user opens afterwards (a best-weights checkpoint)
