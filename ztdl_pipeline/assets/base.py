"""What every asset of the building blocks shares: asset keys, code versions, metadata helpers, data versions.

Keys are `<layer>/<name>_<suffix>` (core/names.py; docs/architecture.md, "Names in the graph"); every module
builds them here.
"""


import functools
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg
import pandas as pd

from ztdl_pipeline.core import names, versioning
from ztdl_pipeline.core.placement import placement_tags


def key(layer: str, name: str) -> dg.AssetKey:
    """The asset key of `name` in `layer` (one of LAYERS): `raw/iris_raw`, `models/iris_softmax_model`."""
    return dg.AssetKey(names.key_parts(layer, name))


def asset_in(layer: str, name: str) -> dg.AssetIn:
    return dg.AssetIn(key(layer, name))


def versioned_asset(*parts: Any, **asset_kwargs: Any) -> Callable[[Callable], dg.AssetsDefinition]:
    """`dg.asset` with a code_version derived from the function's source, everything of this package it
    reaches, the values its factory closed over, and `parts` (e.g. the builder a card names). An asset in a
    pool gets that pool's placement tags (core/placement.py: the Celery queue, the Kubernetes GPU request)."""
    op_tags = {**placement_tags(asset_kwargs.get("pool")), **asset_kwargs.pop("op_tags", {})}

    def wrap(fn: Callable) -> dg.AssetsDefinition:
        return dg.asset(code_version=versioning.code_version(fn, *parts), op_tags=op_tags or None,
                        **asset_kwargs)(fn)

    return wrap


# a raw asset's fetch is retried on transient failures (network, server); see `source_asset`
RAW_RETRY = dg.RetryPolicy(max_retries=3, delay=2.0, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def permanent_errors(fn: Callable) -> Callable:
    """Bad input (core.errors.DataError: a hash mismatch, wrong columns, a bad configured path) fails at once
    and is never retried; a FetchFailed (network) and any other error go to the asset's retry policy."""
    from ztdl_pipeline.core.errors import DataError

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DataError as exc:
            if getattr(exc, "transient", False):
                raise
            raise dg.Failure(description=str(exc), allow_retries=False) from exc

    return guarded


def source_asset(source: str, *parts: Any, **asset_kwargs: Any) -> Callable[[Callable], dg.AssetsDefinition]:
    """`versioned_asset` for a raw asset that reads catalogue dataset `source`: it depends on the observed
    source `sources/<source>_source` (assets/sources.py), retries transient failures and fails at once on bad
    input."""

    def wrap(fn: Callable) -> dg.AssetsDefinition:
        deps = [*asset_kwargs.pop("deps", ()), key("sources", source)]
        return dg.asset(code_version=versioning.code_version(fn, *parts), deps=deps, retry_policy=RAW_RETRY,
                        **asset_kwargs)(permanent_errors(fn))

    return wrap


def ref(path: str | None) -> versioning.Ref | None:
    """A catalogue reference ("package.module:name") as a code-version part, so editing it changes versions."""
    from ztdl_pipeline.core.refs import split

    return versioning.Ref(*split(path)) if path else None


def rounded(metadata: Mapping[str, Any], digits: int = 4) -> dict[str, Any]:
    """Float entries rounded to `digits` significant digits (core/report.significant), still floats: the UI
    shows a float as it is (0.9208333333333333) and plots float entries across materializations; rounded, an
    entry still plots and reads 0.9208. Every digit stays in the stored files (metrics.json, registry.json)."""
    from ztdl_pipeline.core.report import significant

    # a whole number (a parameter count stored as a float) is a count, not a measurement: kept exact
    return {name: significant(value, digits) if isinstance(value, float) and not value.is_integer() else value
            for name, value in metadata.items()}


def md_table(frame: pd.DataFrame) -> dg.MetadataValue:
    from ztdl_pipeline.core.report import markdown_table

    rows = [[str(index), *row] for index, row in zip(frame.index, frame.itertuples(index=False))]
    return dg.MetadataValue.md(markdown_table(["column", *map(str, frame.columns)], rows))


def table_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


def explicit_config(context: dg.AssetExecutionContext) -> set[str]:
    """The config fields this run's config sets for this asset, even to their default value (which Dagster
    drops before it builds the Config object, so `model_fields_set` cannot tell)."""
    ops = (context.run.run_config or {}).get("ops") or {}
    return set((ops.get(context.op_def.name) or {}).get("config") or {})


def settings_metadata(context: dg.AssetExecutionContext, settings) -> dict[str, Any]:
    """Log what the profile changed and what the run config set (core/profile.Settings); return metadata that
    records both values of every change."""
    for line in settings.notes():
        context.log.info(line)
    return {"settings_sources": dg.MetadataValue.json(dict(sorted(settings.sources.items()))),
            "profile_adjustments": dg.MetadataValue.json(dict(sorted(settings.adjustments.items())))}


def data_versions(context: dg.AssetExecutionContext, keys: list) -> dict[str, str]:
    """The data versions of the latest materializations of `keys` (this run's, for assets it materialized)."""
    versions = {}
    for asset_key in map(dg.AssetKey.from_coercible, keys):
        record = context.instance.get_latest_data_version_record(asset_key)
        event = record.asset_event if record else None
        versions[asset_key.to_user_string()] = (event.tags or {}).get("dagster/data_version", "") if event else ""
    return versions
