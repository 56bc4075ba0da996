"""IO managers: parquet tables, Keras models (.keras + history) and JSON records under the data root.

Paths follow asset keys without their node suffix (core/names.py): features/iris_features ->
<root>/features/iris.parquet, models/x_model -> <root>/models/x/, reports/x_report -> <root>/reports/x/metrics.json. Local writes are atomic (temp file + rename); other
UPath filesystems (object stores) write whole objects, which is atomic there by construction.
"""


import json
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from ztdl_pipeline.core import atomic, stores
from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.names import storage_parts
from ztdl_pipeline.core.schema import sha256_file
from ztdl_pipeline.core.tables import ATTRS_KEY
from ztdl_pipeline.resources.storage import Storage

TABLE_KEY = b"ztdl.table"  # set on parquet written from a pyarrow Table, which is read back as a Table


def _root(base_dir: str | None, storage: Storage) -> UPath:
    """An explicit base_dir (a folder, or an object store's URL as core/stores.py opens it), else the run
    profile's storage root (resources/storage.py)."""
    if base_dir:
        return stores.root_of(base_dir) if stores.is_remote(base_dir) else UPath(base_dir)
    return UPath(storage.root())


def write_parquet(frame: pd.DataFrame, path: UPath | Path) -> None:
    """DataFrame -> parquet (zstd); `frame.attrs` (fitted state, column roles) goes in the schema metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), ATTRS_KEY: json.dumps(frame.attrs).encode()}
    _write(table.replace_schema_metadata(metadata), path)


def write_table(table: pa.Table, path: UPath | Path) -> None:
    """pyarrow Table -> parquet (zstd) as it is, schema metadata included; `read_parquet` gives a Table back."""
    _write(table.replace_schema_metadata({**(table.schema.metadata or {}), TABLE_KEY: b"1"}), path)


CHECKSUM_SUFFIX = ".sha256"  # beside a stored file: the sha256 of its bytes when they were written


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def _write(table: pa.Table, path: UPath | Path) -> None:
    if not stores.is_remote(UPath(path)):
        target = Path(str(path))
        with atomic.atomic_path(target) as tmp:
            pq.write_table(table, tmp, compression="zstd", write_page_checksum=True)
            digest = sha256_file(tmp)
        atomic.write_text(_sidecar(target), digest + "\n")  # after the file: a crash between is caught on read
    else:
        with UPath(path).open("wb") as handle:
            pq.write_table(table, handle, compression="zstd", write_page_checksum=True)


def verify_stored(path: Path, what: str) -> None:
    """Check a stored file against the sha256 recorded when it was written; a changed file (flipped bytes,
    truncation, a copy from elsewhere) fails naming the file, what it holds and the fix."""
    sidecar = _sidecar(path)
    if not path.exists():
        raise DataError(path, f"{what} is missing", f"rematerialize {what}")
    if not sidecar.exists():
        return  # written before checksums were kept: parquet's page checksums still apply
    recorded = sidecar.read_text().strip()
    digest = sha256_file(path)
    if digest != recorded:
        raise DataError(path, f"{what} is damaged: its sha256 {digest} is not the {recorded} recorded when it was "
                              "written", f"rematerialize {what} (its upstream is intact), or restore the file")


def _asset(context) -> str:
    key = getattr(context, "asset_key", None)
    return f"the asset {key.to_user_string()}" if key is not None else "this output"


def read_table(source, batch_rows: int = 1024) -> pa.Table:
    """A parquet file as a Table with one chunk per column, read batch by batch.

    Parquet stores a fixed-shape tensor column as a nested list, and decoding a whole file's list at once
    takes over ten times the column's size (measured here: peak RSS +780 MB for MNIST's 55 MB of pixels);
    batch by batch it takes one batch's worth (+110 MB in all), and each tensor column is copied once into
    its final buffer, of which numpy arrays are then views.
    """
    file = pq.ParquetFile(source, page_checksum_verification=True)
    schema, rows = file.schema_arrow, file.metadata.num_rows
    tensors = {f.name: np.empty((rows, *f.type.shape), dtype=f.type.value_type.to_pandas_dtype())
               for f in schema if isinstance(f.type, pa.FixedShapeTensorType)}
    others: dict[str, list[pa.Array]] = {name: [] for name in schema.names if name not in tensors}
    start = 0
    for batch in file.iter_batches(batch_size=batch_rows):
        for name, array in tensors.items():
            column = batch.column(name)
            if column.null_count:
                raise ValueError(f"{source}: tensor column {name!r} has {column.null_count} null rows")
            array[start:start + batch.num_rows] = column.to_numpy_ndarray()
        for name, parts in others.items():
            parts.append(batch.column(name))
        start += batch.num_rows
    columns = [pa.FixedShapeTensorArray.from_numpy_ndarray(tensors[f.name]) if f.name in tensors
               else pa.concat_arrays(others[f.name]) if others[f.name] else pa.array([], type=f.type)
               for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def read_parquet(path: UPath | Path) -> pd.DataFrame | pa.Table:
    """A DataFrame with its attrs, or the Table itself for parquet written by `write_table`."""
    with UPath(path).open("rb") as handle:
        if (pq.read_schema(handle).metadata or {}).get(TABLE_KEY):
            handle.seek(0)
            return read_table(handle)
        handle.seek(0)
        table = pq.read_table(handle, page_checksum_verification=True)
    frame = table.to_pandas()
    raw = (table.schema.metadata or {}).get(ATTRS_KEY)
    frame.attrs = json.loads(raw) if raw else {}
    return frame


class _StoragePaths(dg.UPathIOManager):
    """Stored files sit under `<layer>/<name>`, the key without its node suffix, so the graph's names can
    change without moving data (core/names.py)."""

    def get_asset_relative_path(self, context) -> UPath:
        return UPath(*storage_parts(context.asset_key.path))


class _ParquetManager(_StoragePaths):
    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame | pa.Table, path: UPath) -> None:
        if isinstance(obj, pa.Table):
            write_table(obj, path)
        else:
            write_parquet(obj, path)  # UPathIOManager records the path in the output metadata

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        what = _asset(context)
        if not stores.is_remote(path):
            verify_stored(Path(str(path)), what)
        try:
            return read_parquet(path)
        except (pa.ArrowException, OSError) as exc:  # e.g. a bad page checksum, a truncated footer
            raise DataError(str(path), f"{what} cannot be read as parquet ({type(exc).__name__}: {exc})",
                            f"rematerialize {what}") from None


class ParquetIOManager(dg.ConfigurableIOManagerFactory):
    """pandas DataFrames (and pyarrow Tables, e.g. image tensors) as parquet files via pyarrow."""

    storage: Storage  # the run's profile root; the module has no `from __future__ import annotations`, which would hide this type from Dagster
    base_dir: str | None = None  # default: the run profile's storage root

    def create_io_manager(self, context) -> _ParquetManager:
        return _ParquetManager(base_path=_root(self.base_dir, self.storage))


class _KerasManager(_StoragePaths):
    extension = ""

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        from ztdl_pipeline.core.training import TrainedModel

        if not isinstance(obj, TrainedModel):
            raise TypeError(f"KerasModelIOManager stores TrainedModel objects, got {type(obj).__name__}")
        target = stores.native(path)
        with atomic.atomic_dir(target) as tmp:  # on an object store: written here, then uploaded
            obj.model.save(tmp / "model.keras")
            atomic.write_text(_sidecar(tmp / "model.keras"), sha256_file(tmp / "model.keras") + "\n")
            atomic.write_json(tmp / "history.json", obj.history)
            atomic.write_json(tmp / "training.json", obj.info)
        context.add_output_metadata({"model_file": dg.MetadataValue.path(str(target / "model.keras"))})

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        import keras

        from ztdl_pipeline.core import export  # noqa: F401  (registers the custom layers)
        from ztdl_pipeline.core.training import TrainedModel

        with stores.local_view(stores.native(path)) as folder:  # Keras opens local files only
            verify_stored(folder / "model.keras", _asset(context))
            model = keras.models.load_model(folder / "model.keras")
            return TrainedModel(model=model, history=json.loads((folder / "history.json").read_text()),
                                info=json.loads((folder / "training.json").read_text()))


class KerasModelIOManager(dg.ConfigurableIOManagerFactory):
    """Trained Keras models in the native .keras format (never pickle), with history and training info."""

    storage: Storage  # the run's profile root; the module has no `from __future__ import annotations`, which would hide this type from Dagster
    base_dir: str | None = None

    def create_io_manager(self, context) -> _KerasManager:
        return _KerasManager(base_path=_root(self.base_dir, self.storage))


class _JsonManager(_StoragePaths):
    extension = ".json"

    def __init__(self, base_path: UPath, file_name: str):
        super().__init__(base_path=base_path)
        self._file_name = file_name

    def get_asset_relative_path(self, context) -> UPath:
        # reports/x_report -> reports/x/metrics(.json): the record sits in the folder with its plots
        return super().get_asset_relative_path(context) / self._file_name

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        atomic.write_json(stores.native(path), obj)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        return json.loads(UPath(path).read_text())


class JsonIOManager(dg.ConfigurableIOManagerFactory):
    """JSON-serialisable records (report metrics, export records) as <root>/<key>/<file_name>.json."""

    storage: Storage  # the run's profile root; the module has no `from __future__ import annotations`, which would hide this type from Dagster
    base_dir: str | None = None
    file_name: str = "metrics"

    def create_io_manager(self, context) -> _JsonManager:
        return _JsonManager(base_path=_root(self.base_dir, self.storage), file_name=self.file_name)
