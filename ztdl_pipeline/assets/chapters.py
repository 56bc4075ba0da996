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


def experiment_asset(spec: Any, group: str, cards: Sequence[Any] = ()) -> dg.AssetsDefinition:
    """reports/<spec.name>: a chapter experiment (core.image_specs.Experiment) as one report asset. It calls the
    core function `spec.function` on its upstream asset (several: {name: value}, in the spec's order) with the
    run's settings (the book's values, the fast profile's `spec.fast`, explicit run config winning), `card=` the
    card `spec.card` names among `cards` (whose builder it trains), `book=` the numbers the book prints for it
    (`spec.book`, where any), and `run=` a core.chapter.Run. With `spec.tensorboard`, the run's per-epoch hook
    writes TensorBoard scalars under tensorboard/<name>/<code version>/<run>/ (what `make tensorboard` serves)."""
    from ztdl_pipeline.assets.base import asset_in, key, ref, versioned_asset
    from ztdl_pipeline.assets.config import values_config

    config_cls = values_config(spec.name, dict(spec.settings), spec.description)
    config_cls.FAST = dict(spec.fast)  # what run_settings applies under the fast profile
    card = next((c for c in cards if c.name == spec.card), None) if spec.card else None
    inputs = {**({"card": card} if card else {}), **({"book": spec.book} if getattr(spec, "book", ()) else {})}

    # one upstream (layer, name) arrives as `data`; several ((layer, name), ...) as {name: value}
    several = isinstance(spec.upstream[0], tuple)
    ins = ({name: asset_in(layer, name) for layer, name in spec.upstream} if several
           else {"data": asset_in(*spec.upstream)})

    def _chapter(context, config, **upstream):
        data = {name: upstream[name] for _, name in spec.upstream} if several else upstream["data"]
        from ztdl_pipeline.core.chapter import Run
        from ztdl_pipeline.core.refs import resolve
        from ztdl_pipeline.core.tracking import EpochLog

        compute, storage = context.resources.compute, context.resources.storage
        device = compute.setup()
        settings = run_settings(context, config, storage)
        epochs = None
        if getattr(spec, "tensorboard", False):
            version = context.assets_def.code_versions_by_key[context.asset_key] or "unversioned"
            folder = context.resources.tracking.tensorboard_folder(spec.name, version, context.run_id)
            epochs = EpochLog(f"training {spec.name}", int(settings.values.get("epochs", 0)), context.log.info, folder)
        run = Run(profile=settings.profile, device=device, strategy=compute.strategy(),
                  jit_compile=compute.jit_compile, seed_fn=compute.seed_everything, log=context.log.info,
                  on_epoch_end=epochs, files_dir=str(storage.local_folder("checkpoints", spec.name)))
        try:
            chapter = resolve(spec.function)(data, **settings.values, **inputs, run=run)
        finally:
            if epochs is not None:
                epochs.close()
        if epochs is not None:
            chapter.metadata["tensorboard"] = dg.MetadataValue.path(str(epochs.tensorboard.folder))
        return chapter_output(storage, spec.name, chapter, settings.adjustments)

    # real types, not this module's string annotations: Dagster reads the config class from them
    _chapter.__annotations__ = {"context": dg.AssetExecutionContext, "config": config_cls, "return": dg.Output[dict]}
    return versioned_asset(spec, card, ref(spec.function), key=key("reports", spec.name),
                           ins=ins, group_name=group, io_manager_key="report_io",
                           required_resource_keys={"compute", "storage", "tracking"},
                           kinds={"keras", "markdown"}, pool=spec.pool, description=spec.description)(_chapter)
