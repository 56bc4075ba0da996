"""IO managers: parquet tables, Keras models (.keras + history) and JSON records under the data root.

Paths mirror asset keys: features/iris -> <root>/features/iris.parquet, models/x -> <root>/models/x/,
reports/x -> <root>/reports/x/metrics.json. Local writes are atomic (temp file + rename); other
UPath filesystems (object stores) write whole objects, which is atomic there by construction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from ztdl_pipeline import settings
from ztdl_pipeline.core import atomic

ATTRS_KEY = b"ztdl.attrs"


def _root(base_dir: str | None) -> UPath:
    return UPath(base_dir) if base_dir else UPath(settings.data_dir())


def _is_local(path: UPath) -> bool:
    return getattr(path, "protocol", "") in ("", "file", "local")


def write_parquet(frame: pd.DataFrame, path: UPath | Path) -> None:
    """DataFrame -> parquet (zstd); `frame.attrs` (fitted state, column roles) goes in the schema metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), ATTRS_KEY: json.dumps(frame.attrs).encode()}
    table = table.replace_schema_metadata(metadata)
    if _is_local(UPath(path)):
        with atomic.atomic_path(Path(str(path))) as tmp:
            pq.write_table(table, tmp, compression="zstd")
    else:
        with UPath(path).open("wb") as handle:
            pq.write_table(table, handle, compression="zstd")


def read_parquet(path: UPath | Path) -> pd.DataFrame:
    with UPath(path).open("rb") as handle:
        table = pq.read_table(handle)
    frame = table.to_pandas()
    raw = (table.schema.metadata or {}).get(ATTRS_KEY)
    frame.attrs = json.loads(raw) if raw else {}
    return frame


class _ParquetManager(dg.UPathIOManager):
    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        write_parquet(obj, path)  # UPathIOManager records the path in the output metadata

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        return read_parquet(path)


class ParquetIOManager(dg.ConfigurableIOManagerFactory):
    """pandas DataFrames as parquet files via pyarrow."""

    base_dir: str | None = None  # default: $ZTDL_DATA_DIR (./data)

    def create_io_manager(self, context) -> _ParquetManager:
        return _ParquetManager(base_path=_root(self.base_dir))


class _KerasManager(dg.UPathIOManager):
    extension = ""

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        from ztdl_pipeline.core.training import TrainedModel

        if not isinstance(obj, TrainedModel):
            raise TypeError(f"KerasModelIOManager stores TrainedModel objects, got {type(obj).__name__}")
        target = Path(str(path))
        with atomic.atomic_dir(target) as tmp:
            obj.model.save(tmp / "model.keras")
            atomic.write_json(tmp / "history.json", obj.history)
            atomic.write_json(tmp / "training.json", obj.info)
        context.add_output_metadata({"model_file": dg.MetadataValue.path(str(target / "model.keras"))})

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        import keras

        from ztdl_pipeline.core import export  # noqa: F401  (registers the custom layers)
        from ztdl_pipeline.core.training import TrainedModel

        folder = Path(str(path))
        model = keras.models.load_model(folder / "model.keras")
        return TrainedModel(model=model, history=json.loads((folder / "history.json").read_text()),
                            info=json.loads((folder / "training.json").read_text()))


class KerasModelIOManager(dg.ConfigurableIOManagerFactory):
    """Trained Keras models in the native .keras format (never pickle), with history and training info."""

    base_dir: str | None = None

    def create_io_manager(self, context) -> _KerasManager:
        return _KerasManager(base_path=_root(self.base_dir))


class _JsonManager(dg.UPathIOManager):
    extension = ".json"

    def __init__(self, base_path: UPath, file_name: str):
        super().__init__(base_path=base_path)
        self._file_name = file_name

    def get_asset_relative_path(self, context) -> UPath:
        # reports/x -> reports/x/metrics(.json): the record sits in the folder with its plots
        return UPath(*context.asset_key.path, self._file_name)

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        atomic.write_json(Path(str(path)), obj)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        return json.loads(UPath(path).read_text())


class JsonIOManager(dg.ConfigurableIOManagerFactory):
    """JSON-serialisable records (report metrics, export records) as <root>/<key>/<file_name>.json."""

    base_dir: str | None = None
    file_name: str = "metrics"

    def create_io_manager(self, context) -> _JsonManager:
        return _JsonManager(base_path=_root(self.base_dir), file_name=self.file_name)
