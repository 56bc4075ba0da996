"""raw/<dataset>: a catalogue file fetched and verified by the DatasetSource, or a dataset the book generates.

A raw file's data version is the sha256 of its bytes, so a changed file makes exactly its downstream stale.
"""


import hashlib
import json

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import key, ref, source_asset, table_schema, versioned_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog.datasets import DatasetFile
from ztdl_pipeline.core.specs import GeneratedData
from ztdl_pipeline.resources.data_source import DatasetSource


def raw_file_asset(entry: DatasetFile, group: str) -> dg.AssetsDefinition:
    @source_asset(entry.name, ref(entry.reader), key=key("raw", entry.name), group_name=group, io_manager_key="parquet_io",
                     kinds={"pandas", "parquet"}, description=f"{entry.filename}: {entry.description}")
    def _raw(context: dg.AssetExecutionContext, data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
        # a file without a pinned hash is parsed before it may enter the cache (the hash cannot vouch for it)
        path, digest, origin = data_source.fetch(entry, log=context.log, validate=lambda p: read_raw(p, entry))
        frame = read_raw(path, entry)
        return dg.Output(frame, data_version=dg.DataVersion(digest), metadata={
            "rows": len(frame), "columns": list(map(str, frame.columns)), "sha256": digest,
            "source_file": dg.MetadataValue.path(str(path)), "fetched_from": origin,
            **({"canonical_url": dg.MetadataValue.url(entry.url)} if entry.url else {}),
            "dagster/column_schema": table_schema(frame), "dagster/row_count": len(frame),
        })

    return _raw


def read_raw(path, entry: DatasetFile) -> pd.DataFrame:
    """A CSV checked against the catalogue's columns, or a file read by the reader the catalogue names."""
    if entry.reader:  # not a plain CSV (compressed, JSON, notes around the data)
        from ztdl_pipeline.core.refs import resolve

        return resolve(entry.reader)(path, entry.columns)
    from ztdl_pipeline.core.schema import read_csv_checked

    return read_csv_checked(path, entry.columns, entry.read_options)


def generated_asset(data: GeneratedData, group: str) -> dg.AssetsDefinition:
    config_cls = values_config(f"{data.name}_data", dict(data.params), f"arguments of {data.generator}")

    @versioned_asset(data, ref(data.generator), key=key("raw", data.name), group_name=group,
                     io_manager_key="parquet_io", kinds={"pandas", "parquet"}, description=data.description)
    def _generated(config: config_cls) -> dg.Output[pd.DataFrame]:  # type: ignore[valid-type]
        from ztdl_pipeline.core.refs import resolve

        frame = resolve(data.generator)(**config.model_dump())
        digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()
        return dg.Output(frame, data_version=dg.DataVersion(digest), metadata={
            "rows": len(frame), "generator": json.dumps(config.model_dump()), "sha256": digest,
            "dagster/column_schema": table_schema(frame), "dagster/row_count": len(frame),
        })

    return _generated
