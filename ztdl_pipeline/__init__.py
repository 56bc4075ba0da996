"""ztdl-pipeline: the worked examples of *Zero to Deep Learning* as Dagster assets."""

__version__ = "0.1.0"
