"""raw/<images>: a verified file or folder of catalog/vision.RAW_SOURCES as an index, one row per file; its sha256
(a folder: the manifest's or the archive's) is the data version. A run config may point it at another copy."""


import json
from typing import Any

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import key, source_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.catalog import vision as catalog
from ztdl_pipeline.catalog.datasets import DatasetFile, DatasetFolder
from ztdl_pipeline.resources.data_source import DatasetSource

SourceConfig = values_config(
    "source", {"url": None, "sha256": None},
    "Read this raw asset from another copy of its file (or of a folder's archive) in the same format: its URL "
    "(https://, file://) and that copy's sha256, which then is the data version.",
    {"url": "another copy's URL (https://, file://); unset: the catalogue's",
     "sha256": "that copy's sha256 (required with a url; it becomes the data version)"})


def source_of(config, entry: DatasetFile | DatasetFolder) -> DatasetFile | DatasetFolder:
    """The catalogue entry as this run reads it: another copy where `config` names one."""
    from ztdl_pipeline.core.image_features import with_source

    return with_source(entry, config.url, config.sha256)


def raw_source_asset(entry: DatasetFile | DatasetFolder, group: str = "vision") -> dg.AssetsDefinition:
    folder = isinstance(entry, DatasetFolder)

    @source_asset(entry.name, key=key("raw", entry.name), group_name=group, io_manager_key="parquet_io",
                     kinds={"pandas", "parquet"},
                     description=f"{entry.folder + '/' if folder else entry.filename}: {entry.description}")
    def _raw(context: dg.AssetExecutionContext, config: SourceConfig,  # type: ignore[valid-type]
             data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
        from ztdl_pipeline.core.image_features import index_counts
        from ztdl_pipeline.core.images import file_index

        source = source_of(config, entry)
        if folder:
            path, digest, origin, files = data_source.fetch_folder(source, log=context.log)
            index = file_index(path, files, labelled=True)
        else:
            path, digest, origin = data_source.fetch(source, log=context.log)
            index = file_index(path.parent, {path.name: digest})
        metadata: dict[str, Any] = {
            "files": len(index), "bytes": int(index.bytes.sum()), "sha256": digest, "fetched_from": origin,
            "source": dg.MetadataValue.path(str(path)), "canonical_url": dg.MetadataValue.url(source.url),
            "dagster/row_count": len(index)}
        if folder:
            metadata["files per split/class"] = json.dumps(index_counts(index))
        return dg.Output(index, data_version=dg.DataVersion(digest), metadata=metadata)

    return _raw


defs = dg.Definitions(assets=[raw_source_asset(datasets.get(name)) for name in catalog.RAW_SOURCES])
