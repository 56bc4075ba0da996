"""raw/intro_to_ann and reports/intro_ann_mlp_report: seed 003's MLP from scratch in NumPy next to the same network
in Keras (core/intro_ann.py). intro_to_ann.csv has no public copy: the raw asset reads $ZTDL_SOURCE_INTRO_TO_ANN
(or a mirror holding the file) and otherwise fails naming that setting; `make run` leaves it out while its source
cannot be read here (assets/sources.py)."""

import dagster as dg

from ztdl_pipeline.assets.chapters import experiment_asset
from ztdl_pipeline.assets.raw import raw_file_asset
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.catalog import fundamentals as catalog

defs = dg.Definitions(assets=[raw_file_asset(datasets.get("intro_to_ann"), "fundamentals"),
                              experiment_asset(catalog.INTRO_ANN, "fundamentals")])
