"""raw/<file> of the text domain: the verified bytes read by the reader the catalogue names (sha256 = data
version); the SMS table is checked against the second copy of the messages (sms.zip)."""

import json

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import key, ref, source_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.catalog import text as catalog
from ztdl_pipeline.core import text_features as F  # pandas and pyarrow only: no Keras at load time
from ztdl_pipeline.defs.text.text import resolved
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.storage import Storage

RawTextConfig = values_config("raw_text", catalog.RAW, "IMDB: the first per_folder reviews of each train/test × "
                                                       "pos/neg (0: all)")


def raw_text_asset(name: str) -> dg.AssetsDefinition:
    entry, reader = datasets.get(name), catalog.RAW_READERS[name]

    @source_asset(name, ref(reader), catalog.RAW_FAST, key=key("raw", name), group_name="text",
                     io_manager_key="parquet_io", kinds={"pandas", "parquet"},
                     description=f"{entry.filename}: {entry.description}")
    def _raw(context: dg.AssetExecutionContext, config: RawTextConfig, storage: Storage,  # type: ignore[valid-type]
             data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
        values, adjusted = resolved(context, config, storage, catalog.RAW_FAST)
        path, digest, origin = data_source.fetch(entry, log=context.log)
        frame = F.read_raw(reader, path, values["per_folder"])
        metadata = {**F.raw_summary(frame), **adjusted, "sha256": digest, "fetched_from": origin, "source_file": dg.MetadataValue.path(str(path)),
                    "canonical_url": dg.MetadataValue.url(entry.url)}
        if name in catalog.RAW_COPIES:
            zipped, _, _ = data_source.fetch(datasets.get(catalog.RAW_COPIES[name]), log=context.log)
            in_zip = F.T.sms_zip_counts(zipped)
            metadata["sms.zip files (ham, spam)"] = json.dumps(in_zip)
            problem = F.sms_copies_problem(metadata, in_zip)
            if problem:
                raise dg.Failure(f"{key('raw', name).to_user_string()}: {path} {problem} ({zipped}): the two copies of the messages disagree")
        return dg.Output(frame, data_version=dg.DataVersion(digest), metadata=metadata)

    return _raw


raw_assets = [raw_text_asset(name) for name in catalog.RAW_READERS]
defs = dg.Definitions(assets=raw_assets)
