"""Asset jobs: one per domain group, and the retraining job the schedule runs."""

from __future__ import annotations

import dagster as dg

# text: ch8; embeddings: ch12/ch26 (GloVe and Reuters need config offline); transfer: ch11 (the Xception
# weights and the sports pictures need network or local paths; see the README); fundamentals: DataCamp's
# forward-propagation and gradient lessons in NumPy (no data file); tuned: the hyper-parameter searches beyond the
# book's settings (models/<card>_tuned, assets/tuned.py)
GROUPS = ("tabular", "serving", "timeseries", "vision", "text", "embeddings", "transfer", "fundamentals", "tuned")

group_jobs = [
    dg.define_asset_job(f"{group}_job", selection=dg.AssetSelection.groups(group),
                        description=f"Materialize the {group} group: raw -> features -> models -> reports -> exports")
    for group in GROUPS
]

# retraining re-verifies the raw files (cheap) so new data flows in, then retrains, reports and exports
retrain_job = dg.define_asset_job(
    "retrain_job", selection=dg.AssetSelection.groups(*GROUPS),
    description="Retrain every model on its current data, re-evaluate it and export it if it passes its gate")
