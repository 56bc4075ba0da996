"""Per-file sha256 manifests of the image folders in the dataset catalog (ztdl_pipeline/catalog/datasets.py)."""
