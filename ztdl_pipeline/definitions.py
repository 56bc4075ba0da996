"""The code location: one Definitions object with every asset, check, job, schedule and resource.

Importing this module must not import TensorFlow (bench/import_time.py measures it).
"""

from __future__ import annotations

import dagster as dg

from ztdl_pipeline.assets import embeddings, serving, tabular, text, timeseries, transfer, vision
from ztdl_pipeline.jobs import group_jobs, retrain_job
from ztdl_pipeline.resources import (
    DatasetSource,
    JsonIOManager,
    KerasModelIOManager,
    ParquetIOManager,
    PretrainedModels,
    Storage,
    TensorFlowCompute,
)
from ztdl_pipeline.schedules import weekly_retrain


def resources() -> dict:
    """Default resources; every path follows $ZTDL_DATA_DIR, $ZTDL_PROFILE and $ZTDL_DATA_MIRROR at run time.

    One Storage instance is shared by the IO managers and the assets, so the profile set for a run
    (`resources.storage.config.profile`) moves every output of that run to the profile's storage root."""
    storage = Storage.configure_at_launch()  # one instance, so run config reaches the IO managers too
    return {
        "storage": storage,
        "data_source": DatasetSource(),
        "compute": TensorFlowCompute(),
        "pretrained": PretrainedModels(),  # Xception weights (transfer group): local path, cache or download
        "parquet_io": ParquetIOManager(storage=storage),
        "keras_io": KerasModelIOManager(storage=storage),
        "report_io": JsonIOManager(storage=storage, file_name="metrics"),
        "export_record_io": JsonIOManager(storage=storage, file_name="export"),
    }


# one module per domain group (the group has the module's name)
DOMAINS = (tabular, serving, timeseries, vision, text, embeddings, transfer)
ALL_ASSETS = [asset for domain in DOMAINS for asset in domain.assets]
ALL_CHECKS = [check for domain in DOMAINS for check in domain.checks]

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
