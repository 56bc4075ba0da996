"""Where the run profile records its trainings, for the tools that open them:

    python -m ztdl_pipeline.where tensorboard   # the TensorBoard log folder (`make tensorboard`)
    python -m ztdl_pipeline.where mlflow        # the MLflow tracking URI (`make mlflow`)

Both follow $ZTDL_DATA_DIR and $ZTDL_PROFILE, as the runs that wrote them did; the MLflow URI is
$ZTDL_MLFLOW_URI's, the local store when it is unset or `local`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ztdl_pipeline import settings
from ztdl_pipeline.resources import ExperimentTracking, Storage
from ztdl_pipeline.resources.tracking import LOCAL


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Where the run profile's trainings are recorded.")
    parser.add_argument("what", choices=("tensorboard", "mlflow"))
    what = parser.parse_args(argv).what
    # unset, MLflow shows the local store (where ZTDL_MLFLOW_URI=local runs record)
    tracking = ExperimentTracking(storage=Storage(), mlflow_uri=settings.mlflow_uri() or LOCAL)
    if what == "tensorboard":
        print(tracking.tensorboard_root())
        return
    uri = tracking.tracking_uri()
    if uri is None:
        raise SystemExit(f"MLflow is off ({settings.MLFLOW_ENV}={settings.mlflow_uri()})")
    if uri.startswith("sqlite:///"):  # the local store's folder, so `mlflow ui` opens before the first training
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    print(uri)


if __name__ == "__main__":
    main()
