"""reports/<experiment>_report: the ch1, ch3 and ch5 experiments that the book shows as plots
(catalog/tabular_chapters.py), one report each, made by assets/chapters.experiment_asset."""


import dagster as dg

from ztdl_pipeline.assets.chapters import experiment_asset
from ztdl_pipeline.catalog import tabular as catalog

defs = dg.Definitions(assets=[experiment_asset(spec, "tabular", catalog.CARDS) for spec in catalog.EXPERIMENTS])
