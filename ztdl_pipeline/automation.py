"""When assets rematerialize on their own: every automation condition and freshness policy, in one place.

- `sources/*` are observed by the `observe_sources` sensor (assets/sources.py), which records a new data version
  only when a source changed.
- `raw/*` rematerializes when its source changed, and only once it has been materialized by someone: a fresh
  instance launches nothing, however many sources the sensor observes.
- `features/*`: when an input's data version changed (a raw asset that reran on identical bytes starts
  nothing), or when missing while everything it reads exists.
- `models/*`, `reports/*`, `predictions/*`: Dagster's eager() on data versions (an input's data version
  changed, or the input is requested in the same tick, or the asset is missing while everything it reads
  exists), so new data retrains exactly its downstream in one run, and starting an example's chain by hand
  (its raw asset) completes the chain.
- `exports/*`: the same, and only when every blocking check of what it reads passed (the export gate).
- The expensive groups of a profile (core/profile.rules: vision, transfer and embeddings at book settings)
  wait for the weekly tick instead, then run if anything upstream changed since they last ran.
- The `automation` sensor evaluates all of it, every 30 s while the daemon runs (`make dev`).
- Exports declare a freshness policy: a model not re-exported for a week warns, after a month it fails.

Nothing here interprets a profile name: `rules(profile).cron_groups` says which groups wait.
"""

from __future__ import annotations

import socket
import warnings
from datetime import timedelta

import dagster as dg

from ztdl_pipeline.core import names
from ztdl_pipeline.core.provenance import HOST_TAG

RETRAIN_CRON = "0 3 * * 1"  # Mondays 03:00 UTC, the same tick as the weekly_retrain schedule
TIMEZONE = "UTC"
EXPORT_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(days=30), warn_window=timedelta(days=7))

AC = dg.AutomationCondition
_READY = ~AC.any_deps_missing() & ~AC.any_deps_in_progress() & ~AC.in_progress()


def on_source_change() -> dg.AutomationCondition:
    """raw/*: its source has a new data version, and the asset was materialized before."""
    return (AC.any_deps_updated().since_last_handled() & ~AC.missing() & _READY).with_label("on source change")


def on_new_input_data() -> dg.AutomationCondition:
    """features/*: an input's data version changed (not merely rematerialized), or this one is missing and all it
    reads exists. A raw asset that reran on identical bytes (same sha256) starts nothing downstream."""
    changed = AC.newly_missing() | AC.any_deps_match(AC.data_version_changed())
    return (changed.since_last_handled() & _READY).with_label("on new input data")


def on_upstream_change() -> dg.AutomationCondition:
    """Dagster's eager(), but on data versions: an input's data version changed or the input is requested in the
    same tick (so a chain retrains in one run; a raw input counts once its data changed, see on_new_input_data), or
    this one is missing and all it reads exists."""
    requested = AC.any_deps_match(AC.will_be_requested()).ignore(dg.AssetSelection.key_prefixes("raw"))
    changed = AC.newly_missing() | AC.any_deps_match(AC.data_version_changed()) | requested
    return (changed.since_last_handled() & _READY).with_label("on upstream change")


def on_weekly_tick() -> dg.AutomationCondition:
    """At the weekly tick, if anything upstream changed (or it is missing) since this asset last ran."""
    changed = (AC.any_deps_updated() | AC.newly_missing()).since(AC.newly_requested() | AC.newly_updated())
    return (AC.cron_tick_passed(RETRAIN_CRON, TIMEZONE).since_last_handled() & changed & _READY).with_label(
        f"weekly ({RETRAIN_CRON} {TIMEZONE}) if changed")


def condition(layer: str, group: str | None, cron_groups: tuple[str, ...]) -> dg.AutomationCondition | None:
    """The automation condition of an asset in `layer` of `group`."""
    if layer == "raw":
        return on_source_change()
    if layer not in ("features", "models", "reports", "exports", "predictions"):
        return None
    if group in cron_groups:
        base = on_weekly_tick()
    else:
        base = on_new_input_data() if layer == "features" else on_upstream_change()
    if layer == "exports":
        return base & AC.all_deps_blocking_checks_passed()
    return base


def automation_sensor(interval_s: int) -> dg.AutomationConditionSensorDefinition:
    """The daemon's evaluator of the conditions above, running by default: `make dev` starts it, and on a fresh
    instance it requests nothing (raw assets wait to be materialized once; the rest wait for their inputs)."""
    return dg.AutomationConditionSensorDefinition(
        "automation", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_s,
        # the host lets the recovery sweep end this machine's dead runs on shared (PostgreSQL) storage too
        run_tags={"ztdl/launched_by": "automation", HOST_TAG: socket.gethostname()},
        description="Declarative automation: rematerialize what changed (ztdl_pipeline/automation.py)")


def apply(defs: dg.Definitions, profile: str) -> dg.Definitions:
    """`defs` with every asset's automation condition (and the exports' freshness policy) set."""
    from ztdl_pipeline.core.profile import rules

    cron_groups = rules(profile).cron_groups

    def with_automation(spec: dg.AssetSpec) -> dg.AssetSpec:
        layer, _ = names.split_key(spec.key.path)
        reads_a_source = any(names.split_key(dep.asset_key.path)[0] == "sources" for dep in spec.deps)
        if layer == "raw" and not reads_a_source:  # generated by code: nothing outside can change it
            return spec
        changes = {"automation_condition": condition(layer, spec.group_name, cron_groups)}
        if layer == "exports":
            changes["freshness_policy"] = EXPORT_FRESHNESS
        return spec.replace_attributes(**changes)

    with warnings.catch_warnings():  # map_asset_specs is marked beta in Dagster 1.13
        warnings.simplefilter("ignore")
        return defs.map_asset_specs(func=with_automation)
