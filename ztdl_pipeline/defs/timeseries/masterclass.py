"""raw/ontario_demand_raw's check against the masterclass's copy of the same series (catalog MASTERCLASS_COPY)."""


import json

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import key
from ztdl_pipeline.assets.raw import read_raw
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.catalog.timeseries import MASTERCLASS_COPY
from ztdl_pipeline.core.window_checks import same_series_problems
from ztdl_pipeline.resources.data_source import DatasetSource

OTHER, COLUMN = MASTERCLASS_COPY


@dg.asset_check(asset=key("raw", "ontario_demand"), name="matches_masterclass_copy",
                description=f"the hourly total equals {datasets.get(OTHER).filename}, the masterclass's copy of "
                            "the same series (same timestamps, same MW)")
def ontario_matches_masterclass_copy(raw: pd.DataFrame, data_source: DatasetSource) -> dg.AssetCheckResult:
    entry = datasets.get(OTHER)
    path, digest, _ = data_source.fetch(entry)
    problems, compared = same_series_problems(raw, read_raw(path, entry), COLUMN)
    return dg.AssetCheckResult(passed=not problems, metadata={**compared, "other_sha256": digest,
                                                              "problems": json.dumps(problems)})


defs = dg.Definitions(asset_checks=[ontario_matches_masterclass_copy])
