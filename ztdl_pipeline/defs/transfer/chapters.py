"""ch11's chapter reports: reports/xception_zero_shot_report (Xception's ImageNet top on a few photos) and
reports/<set>_image_search (a cosine index over the bottleneck vectors), each one call into
core/transfer_experiments.py, written with assets/chapters.chapter_output."""


import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, key, settings_metadata, versioned_asset
from ztdl_pipeline.assets.chapters import chapter_output
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.catalog import transfer as catalog
from ztdl_pipeline.core.image_specs import Bottlenecks
from ztdl_pipeline.defs.transfer.features import folder_index, run_of
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.pretrained import PretrainedModels
from ztdl_pipeline.resources.storage import Storage

ZeroShotConfig = values_config("zero_shot", catalog.ZERO_SHOT, "the photos labelled and how")
ImageSearchConfig = values_config("image_search", catalog.IMAGE_SEARCH, "neighbours shown and queries per class")


@versioned_asset(key=key("reports", "xception_zero_shot"), ins={"class_index": asset_in("raw", "imagenet_class_index")},
                 deps=[key("raw", catalog.ZERO_SHOT_PICTURES)], group_name="transfer", io_manager_key="report_io",
                 kinds={"keras", "markdown"}, pool="gpu",
                 description="ch11.xception_imagenet_predict: Xception with its ImageNet top (299×299), top-5 classes "
                             "of a few photos (decode_predictions with imagenet_class_index.json)")
def xception_zero_shot(context: dg.AssetExecutionContext, config: ZeroShotConfig,  # type: ignore[valid-type]
                       compute: TensorFlowCompute, pretrained: PretrainedModels, data_source: DatasetSource,
                       storage: Storage, class_index: pd.DataFrame) -> dg.Output[dict]:
    from ztdl_pipeline.core.profile import resolve_config
    from ztdl_pipeline.core.transfer_experiments import zero_shot_chapter

    settings = resolve_config(config, storage.run_profile(), {})
    settings_metadata(context, settings)
    values = dict(settings.values)
    photos = [str(data_source.fetch(datasets.get(p), log=context.log)[0]) for p in values.pop("photos")]
    pictures = folder_index(data_source, catalog.ZERO_SHOT_PICTURES, context.log)
    chapter = zero_shot_chapter(photos, pictures, class_index, pretrained.xception, **values,
                                run=run_of(context, compute, settings.profile))
    return chapter_output(storage, "xception_zero_shot", chapter)


def image_search_asset(images: Bottlenecks) -> dg.AssetsDefinition:
    name = f"{images.name}_image_search"

    @versioned_asset(images, key=key("reports", name), ins={"features": asset_in("features", images.dataset)},
                     group_name="transfer", io_manager_key="report_io", kinds={"numpy", "markdown"},
                     description=f"ch11.sports_image_search on {images.name}: a cosine nearest-neighbour index over "
                                 "the bottleneck vectors (data/indexes/), query pictures with their k nearest "
                                 "neighbours, precision@k by class")
    def _search(config: ImageSearchConfig, storage: Storage,  # type: ignore[valid-type]
                features: pa.Table) -> dg.Output[dict]:
        from ztdl_pipeline.core.transfer_experiments import image_search_chapter

        with storage.working_folder("indexes", name) as folder:
            chapter = image_search_chapter(features, images.name, folder, **config.model_dump())
        return chapter_output(storage, name, chapter)

    return _search


defs = dg.Definitions(assets=[xception_zero_shot, *(image_search_asset(images) for images in catalog.IMAGE_SETS)])
