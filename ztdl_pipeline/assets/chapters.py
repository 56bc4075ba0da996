"""Chapter experiments' report assets: a core function returns a `core.chapter.Chapter`, and these helpers write
it with the one report writer (assets/reports.write_report) and return its output. metrics.json is the asset's
output value, written next to report.md by the report IO manager (`report_io`).

A report whose Markdown is not plain sections passes `sections` as a function of `embed` (True: plots as data
URIs for the UI; False: links to the PNG files beside report.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg

from ztdl_pipeline.assets.base import explicit_config, settings_metadata
from ztdl_pipeline.core.chapter import Chapter
from ztdl_pipeline.resources.storage import Storage

Sections = Sequence[tuple[str, str]] | Callable[[bool], str]


def write_chapter_report(storage: Storage, name: str, title: str, sections: Sections,
                         images: Mapping[str, bytes], result: Mapping[str, Any],
                         numbers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write <profile root>/reports/<name>/ (report.md, <image>.png) and return the UI metadata: a summary
    shown inline (the title, the headline `numbers`, what the report holds), the report, its folder and, where
    `result` records one, the profile it was made under."""
    from ztdl_pipeline.assets.reports import write_report
    from ztdl_pipeline.core.report import headline, render

    def markdown(embed: bool) -> str:
        return sections(embed) if callable(sections) else render(title, sections, images, embed=embed)

    on_disk = markdown(False)
    headings = [line[3:] for line in on_disk.splitlines() if line.startswith("## ")]
    shown = {k: v for k, v in (numbers or {}).items() if isinstance(v, int | float) and not isinstance(v, bool)}
    metadata = write_report(storage, name, markdown, dict(images), headline(title, shown, headings), "summary")
    if isinstance(result.get("profile"), str):
        metadata["profile"] = result["profile"]
    return metadata


def chapter_output(storage: Storage, name: str, chapter: Chapter,
                   adjustments: Mapping[str, Any] | None = None) -> dg.Output[dict]:
    """The output of a chapter report asset: the chapter's result, its numbers, the written report, and what
    the run profile changed (core/profile.Settings.adjustments, as JSON)."""
    # a chapter's numbers stay as it set them (fundamentals' must equal the book's to the last digit)
    metadata = {**chapter.metadata, **write_chapter_report(
        storage, name, chapter.title, chapter.sections, chapter.images, chapter.result, chapter.metadata)}
    if adjustments is not None:
        metadata["profile_adjustments"] = dg.MetadataValue.json(dict(adjustments))
    return dg.Output(chapter.result, metadata=metadata)


def run_settings(context: dg.AssetExecutionContext, config: dg.Config, storage: Storage) -> Any:
    """The run's values for `config` (core/profile.resolve_config with the config class's FAST overrides of
    its book values; explicit run config wins), each change the profile made logged."""
    from ztdl_pipeline.core.profile import resolve_config

    settings = resolve_config(config, storage.run_profile(), type(config).FAST, explicit_config(context))
    settings_metadata(context, settings)  # logs each change
    return settings
