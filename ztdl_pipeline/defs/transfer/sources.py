"""raw/imagenet_class_index_raw (Keras' class names) and raw/sports_images_raw (ch11's pictures downloaded from
sports.csv's URLs, core/downloads.sports_images)."""


import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import key, settings_metadata, source_asset, versioned_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.catalog import transfer as catalog
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.storage import Storage

SportsImagesConfig = values_config("sports_images", catalog.SPORTS_IMAGES, "how ch11's sports pictures are "
                                   "split and downloaded (bounded concurrency, retries, tolerated failures)")


@source_asset("imagenet_class_index", key=key("raw", "imagenet_class_index"), group_name="transfer", io_manager_key="parquet_io",
                 kinds={"pandas", "parquet"},
                 description="keras_models/imagenet_class_index.json (byte-identical to Keras'): index, wnid, name "
                             "of the 1000 ImageNet classes")
def imagenet_class_index(context: dg.AssetExecutionContext, data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core.imagenet import read_class_index, summary

    entry = datasets.get("imagenet_class_index")
    path, digest, origin = data_source.fetch(entry, log=context.log)
    frame = read_class_index(path)
    return dg.Output(frame, data_version=dg.DataVersion(digest), metadata={
        "sha256": digest, "fetched_from": origin, "source_file": dg.MetadataValue.path(str(path)),
        "canonical_url": dg.MetadataValue.url(entry.url), **summary(frame)})


@versioned_asset(catalog.SPORTS_IMAGES_FAST, key=key("raw", "sports_images"), group_name="transfer",
                 io_manager_key="parquet_io", kinds={"pandas", "parquet"},
                 description="ch11 sports pictures (Beach volleyball, Cross-country skiing, Formula racing) "
                             "downloaded from sports.csv's URLs into data/raw/sports_images/<split>/<class>/ "
                             "(bounded concurrency, retries, per-image tolerance, each image decoded to validate "
                             "it); needs network")
def sports_images(context: dg.AssetExecutionContext, config: SportsImagesConfig,  # type: ignore[valid-type]
                  storage: Storage, data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
    from ztdl_pipeline.core import downloads
    from ztdl_pipeline.core.profile import resolve_config
    from ztdl_pipeline.core.schema import read_csv_checked

    def read(name: str) -> tuple[pd.DataFrame, str]:
        entry = datasets.get(name)
        path, digest, _ = data_source.fetch(entry, log=context.log)
        return read_csv_checked(path, entry.columns, entry.read_options), digest

    settings = resolve_config(config, storage.run_profile(), catalog.SPORTS_IMAGES_FAST)
    # beside the raw cache; DatasetSource has no public accessor for its cache folder yet (resources/ not ours)
    root = data_source.cache_folder("sports_images")
    try:
        index, version, summary = downloads.sports_images(
            read, root, **settings.values, log=context.log.info)
    except downloads.DownloadsFailed as failed:
        raise dg.Failure(str(failed), metadata=failed.metadata) from None
    return dg.Output(index, data_version=dg.DataVersion(version), metadata={
        **summary, "profile": settings.profile, **settings_metadata(context, settings),
        "folder": dg.MetadataValue.path(str(root)), "dagster/row_count": len(index)})


defs = dg.Definitions(assets=[imagenet_class_index, sports_images])
