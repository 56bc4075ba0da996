"""reports/airline_passengers_exploration_report: ch2 exercise 1's airline passengers profiled (describe, head,
the series, a histogram, box plots by year; catalog/exploration.py), made by assets/chapters.experiment_asset."""


import dagster as dg

from ztdl_pipeline.assets.chapters import experiment_asset
from ztdl_pipeline.catalog import timeseries as catalog

defs = dg.Definitions(assets=[experiment_asset(spec, "timeseries") for spec in catalog.EXPERIMENTS])
