"""sources/<dataset>: where a raw asset's bytes come from, observed so that a changed source is noticed.

Each raw asset that reads a catalogue file or folder depends on an observable source asset
`sources/<dataset>_source`. Its data version is what the source holds now (core/sources.py): the user's file
($ZTDL_SOURCE_<NAME>), the mirror's copy, or the canonical URL's ETag. The `observe_sources` sensor records a
new observation only when that version changed, so a changed file marks exactly its raw asset (and all that
follows) unsynced, and declarative automation (ztdl_pipeline/automation.py) takes it from there. A source
that cannot be read here (no mirror, no configured file, no network) gets no observation, so its raw asset is
never requested and nothing fails on every tick; the sensor's skip message names those sources and why.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping

import dagster as dg

from ztdl_pipeline.assets.base import key
from ztdl_pipeline.catalog import datasets
from ztdl_pipeline.core import names
from ztdl_pipeline.resources.data_source import DatasetSource

DATA_VERSION_TAG = "dagster/data_version"


def source_key(dataset: str) -> dg.AssetKey:
    return key("sources", dataset)


def source_names(assets: Iterable) -> dict[str, str]:
    """{dataset: group} of every source some asset depends on (a raw asset declares `deps=[source_key(x)]`)."""
    found: dict[str, str] = {}
    for asset in assets:
        for spec in getattr(asset, "specs", ()):
            for dep in spec.deps:
                layer, name = names.split_key(dep.asset_key.path)
                if layer == "sources":
                    found.setdefault(name, spec.group_name or "default")
    return found


def source_asset(dataset: str, group: str) -> dg.AssetsDefinition:
    """An observable source asset built from an AssetSpec (not a SourceAsset), so that it carries an owner and
    code references like every other asset (ztdl_pipeline/ui.py)."""
    entry = datasets.get(dataset)
    spec = dg.AssetSpec(source_key(dataset), group_name=group,
                        description=f"Where raw/{dataset}'s bytes come from: "
                                    f"${DatasetSource.source_variable(dataset)} if set, else the data "
                                    f"mirror, else {entry.url or 'nowhere (no canonical URL)'}")

    def _source(context) -> dg.ObserveResult:
        seen = context.resources.data_source.observe(entry)
        if not seen.available:
            raise dg.Failure(f"{source_key(dataset).to_user_string()}: {seen.detail}", allow_retries=False)
        return dg.ObserveResult(data_version=dg.DataVersion(seen.data_version),
                                metadata={"origin": seen.origin, "observed": seen.detail})

    with warnings.catch_warnings():  # marked beta in Dagster 1.13, as observable_source_asset was
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.multi_observable_source_asset(specs=[spec], name=names.op_name("sources", dataset),
                                                required_resource_keys={"data_source"})(_source)


def latest_version(instance: dg.DagsterInstance, asset_key: dg.AssetKey) -> str | None:
    record = instance.get_latest_data_version_record(asset_key, is_source=True)
    return (record.asset_event.tags or {}).get(DATA_VERSION_TAG) if record and record.asset_event else None


def changed_sources(instance: dg.DagsterInstance, data_source: DatasetSource, datasets_to_observe: Iterable[str],
                    stats: dict | None = None) -> tuple[list[dg.AssetObservation], dict[str, str]]:
    """(observations of the sources whose version differs from the last one recorded, {dataset: why it cannot
    be observed here}). Used by the sensor and by `make run` (ztdl_pipeline/run.py)."""
    events, unavailable = [], {}
    for dataset in sorted(datasets_to_observe):
        seen = data_source.observe(datasets.get(dataset), stats)
        if not seen.available:
            unavailable[dataset] = seen.detail
            continue
        asset_key = source_key(dataset)
        if latest_version(instance, asset_key) != seen.data_version:
            events.append(dg.AssetObservation(asset_key=asset_key, tags={DATA_VERSION_TAG: seen.data_version},
                                              metadata={"origin": seen.origin, "observed": seen.detail}))
    return events, unavailable


def observation_sensor(groups: Mapping[str, str], interval_s: int) -> dg.SensorDefinition:
    """`observe_sources`: running by default, so `make dev` notices a changed source without a command; every
    `interval_s` seconds (hashing is skipped for files whose size and time held)."""

    @dg.sensor(name="observe_sources", minimum_interval_seconds=interval_s,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Record a new data version for every source (configured file, mirror copy, URL) that "
                           "changed; declarative automation then rematerializes what depends on it")
    def _observe(context: dg.SensorEvaluationContext, data_source: DatasetSource):
        stats = json.loads(context.cursor) if context.cursor else {}
        events, unavailable = changed_sources(context.instance, data_source, groups, stats)
        context.update_cursor(json.dumps(stats))
        if events:
            return dg.SensorResult(asset_events=events)
        reasons = "; ".join(f"{name}: {why}" for name, why in sorted(unavailable.items())[:5])
        return dg.SkipReason(f"no source changed ({len(groups) - len(unavailable)} observed"
                             + (f"; {len(unavailable)} cannot be read here, e.g. {reasons})" if unavailable else ")"))

    return _observe
