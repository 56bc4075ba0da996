"""features/<set>_bottlenecks: Xception vectors of the pictures raw/<set> lists (core/transfer_experiments.bottlenecks),
with blocking checks (core/tables.py, plus core/transfer.table_problems: float32 vectors)."""


import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, key, settings_metadata, versioned_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.assets.features import table_features_checks
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.catalog import transfer as catalog
from ztdl_pipeline.core.image_specs import Bottlenecks
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.pretrained import PretrainedModels
from ztdl_pipeline.resources.storage import Storage

BottleneckConfig = values_config("bottleneck", catalog.BOTTLENECKS, "Xception input size, resize and images kept")
COLUMNS = {"bottleneck": "vector<float>", "label": "integer", "class_name": "string", "split": "string",
           "file": "string"}


def run_of(context: dg.AssetExecutionContext, compute: TensorFlowCompute, profile: str):
    """The core/chapter.Run of this step: the device (set up now), seeding, JIT and the log."""
    from ztdl_pipeline.core.chapter import Run

    return Run(profile=profile, device=compute.setup(), jit_compile=compute.jit_compile,
               seed_fn=compute.seed_everything, log=context.log.info)


def folder_index(data_source: DatasetSource, name: str, log) -> pd.DataFrame:
    """What the vision group's raw/<name> stores (an index of a catalog folder's verified files), read through
    the same DatasetSource, so this group runs without that asset having been materialized first."""
    from ztdl_pipeline.core.images import file_index

    path, _, _, files = data_source.fetch_folder(datasets.get(name), log=log)
    return file_index(path, files, labelled=True)


def _bottlenecks(context, config, compute: TensorFlowCompute, pretrained: PretrainedModels, storage: Storage,
                 raw: pd.DataFrame, images: Bottlenecks) -> dg.Output[pa.Table]:
    from ztdl_pipeline.core.profile import resolve_config
    from ztdl_pipeline.core.transfer_experiments import bottlenecks

    settings = resolve_config(config, storage.run_profile(), catalog.BOTTLENECKS_FAST)
    table, summary = bottlenecks(raw, images.name, images.raw, pretrained.xception, **settings.values,
                                 run=run_of(context, compute, settings.profile))
    return dg.Output(table, metadata={**summary, "profile": settings.profile, **settings_metadata(context, settings),
                                      "dagster/row_count": table.num_rows})


def bottleneck_asset(images: Bottlenecks) -> dg.AssetsDefinition:
    spec = dict(key=key("features", images.dataset), group_name="transfer", io_manager_key="parquet_io",
                kinds={"tensorflow", "pyarrow", "parquet"}, pool="gpu",
                description=f"Xception bottlenecks of {key('raw', images.raw).to_user_string()}: preprocess_input + global average pooling, "
                            "one 2048-float vector per picture (fixed-size list) with label, class, split and file; "
                            "computed in batches through tf.data (read, decode, resize, batch, prefetch)")
    if images.raw in datasets.FOLDERS:  # a vision-group folder: a dependency, read through the data source
        @versioned_asset(images, catalog.BOTTLENECKS_FAST, deps=[key("raw", images.raw)], **spec)
        def _from_folder(context: dg.AssetExecutionContext, config: BottleneckConfig,  # type: ignore[valid-type]
                         compute: TensorFlowCompute, pretrained: PretrainedModels, data_source: DatasetSource,
                         storage: Storage) -> dg.Output[pa.Table]:
            raw = folder_index(data_source, images.raw, context.log)
            return _bottlenecks(context, config, compute, pretrained, storage, raw, images)

        return _from_folder

    @versioned_asset(images, catalog.BOTTLENECKS_FAST, ins={"raw": asset_in("raw", images.raw)}, **spec)
    def _from_raw(context: dg.AssetExecutionContext, config: BottleneckConfig,  # type: ignore[valid-type]
                  compute: TensorFlowCompute, pretrained: PretrainedModels, storage: Storage,
                  raw: pd.DataFrame) -> dg.Output[pa.Table]:
        return _bottlenecks(context, config, compute, pretrained, storage, raw, images)

    return _from_raw


def _problems(features: pa.Table) -> list[str]:
    from ztdl_pipeline.core.transfer import table_problems

    return table_problems(features)


defs = dg.Definitions(
    assets=[bottleneck_asset(images) for images in catalog.IMAGE_SETS],
    asset_checks=[check for images in catalog.IMAGE_SETS for check in table_features_checks(
        images.dataset, COLUMNS, min_rows=4, extra_problems=_problems)])
