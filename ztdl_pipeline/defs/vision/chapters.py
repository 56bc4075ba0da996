"""reports/<experiment>: ch9/ch10's chapter reports over many training runs (catalog/vision.EXPERIMENTS), each one
call into core/vision_experiments.py returning a core.chapter.Chapter, written with assets/chapters.chapter_output."""


import dagster as dg

from ztdl_pipeline.assets.base import asset_in, ref, settings_metadata, versioned_asset
from ztdl_pipeline.assets.base import key as asset_key
from ztdl_pipeline.assets.chapters import chapter_output
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import vision as catalog
from ztdl_pipeline.core.image_specs import Experiment
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.storage import Storage


def chapter_asset(spec: Experiment, group: str = "vision") -> dg.AssetsDefinition:
    config_cls = values_config(spec.name, dict(spec.settings), spec.description)
    card = next((c for c in catalog.CARDS if c.name == spec.card), None)
    inputs = {"card": card} if card else {}  # the card whose builder the experiment trains

    @versioned_asset(spec, card, ref(spec.function), key=asset_key("reports", spec.name),
                     ins={"data": asset_in(*spec.upstream)}, group_name=group, io_manager_key="report_io",
                     kinds={"keras", "markdown"}, pool=spec.pool, description=spec.description)
    def _chapter(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                 compute: TensorFlowCompute, storage: Storage, data) -> dg.Output[dict]:
        from ztdl_pipeline.core.chapter import Run
        from ztdl_pipeline.core.profile import resolve_config
        from ztdl_pipeline.core.refs import resolve

        device = compute.setup()
        settings = resolve_config(config, storage.run_profile(), spec.fast)
        settings_metadata(context, settings)
        run = Run(profile=settings.profile, device=device, strategy=compute.strategy(),
                  jit_compile=compute.jit_compile, seed_fn=compute.seed_everything, log=context.log.info)
        chapter = resolve(spec.function)(data, **settings.values, **inputs, run=run)
        return chapter_output(storage, spec.name, chapter, settings.adjustments)

    return _chapter


defs = dg.Definitions(assets=[chapter_asset(spec) for spec in catalog.EXPERIMENTS])
