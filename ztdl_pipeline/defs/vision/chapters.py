"""reports/<experiment>: ch9/ch10's chapter reports over many training runs (catalog/vision.EXPERIMENTS), each one
call into core/vision_experiments.py returning a core.chapter.Chapter, written with assets/chapters.chapter_output."""


import dagster as dg

from ztdl_pipeline.assets.chapters import experiment_asset
from ztdl_pipeline.catalog import vision as catalog

defs = dg.Definitions(assets=[experiment_asset(spec, "vision", catalog.CARDS) for spec in catalog.EXPERIMENTS])
