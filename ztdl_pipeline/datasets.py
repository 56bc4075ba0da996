"""Moved to ztdl_pipeline/catalog/datasets.py; this name stays until every domain imports the catalogue."""

from ztdl_pipeline.catalog.datasets import CATALOG, FOLDERS, DatasetFile, DatasetFolder, get  # noqa: F401
