"""Autoloaded Dagster definitions (`dg.load_from_defs_folder`): one folder per domain, each a few lines.

A domain's `examples/defs.yaml` turns its catalogue module into asset chains (ztdl_pipeline/assets/chain.py);
its other modules hold the chapter experiments, each a short asset around one core function.
"""
