"""The code location: one Definitions object with every asset, check, job, schedule and resource.

Importing this module must not import TensorFlow (bench/import_time.py measures it).
"""

from __future__ import annotations

import dagster as dg

from ztdl_pipeline.assets import serving, tabular, timeseries, vision
from ztdl_pipeline.jobs import group_jobs, retrain_job
from ztdl_pipeline.resources import (
    DatasetSource,
    JsonIOManager,
    KerasModelIOManager,
    ParquetIOManager,
    TensorFlowCompute,
)
from ztdl_pipeline.schedules import weekly_retrain


def resources() -> dict:
    """Default resources; every path follows $ZTDL_DATA_DIR and $ZTDL_DATA_MIRROR at run time."""
    return {
        "data_source": DatasetSource(),
        "compute": TensorFlowCompute(),
        "parquet_io": ParquetIOManager(),
        "keras_io": KerasModelIOManager(),
        "report_io": JsonIOManager(file_name="metrics"),
        "export_record_io": JsonIOManager(file_name="export"),
    }


ALL_ASSETS = [*tabular.assets, *serving.assets, *timeseries.assets, *vision.assets]
ALL_CHECKS = [*tabular.checks, *serving.checks, *timeseries.checks, *vision.checks]

# In-process execution: every step of a run shares one Python process, so TensorFlow is imported and
# configured once per run instead of once per step (see "Runs use the in-process executor" in the README).
defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[*group_jobs, retrain_job],
    schedules=[weekly_retrain],
    resources=resources(),
    executor=dg.in_process_executor,
)
