"""Carry an instance's history over the rename of asset keys to `<layer>/<name>_<suffix>` (core/names.py).

Keys were `<layer>/<name>` (`raw/iris`, `models/iris_softmax`) until the graph's node names were made to
tell their layer (`raw/iris_raw`, `models/iris_softmax_model`). Stored files did not move (they stay under
`<layer>/<name>`), but an instance's history is kept per key, so without this step every asset would read
"never materialized" after the upgrade and the whole graph would look missing.

`carry_history(instance, graph)` copies, for every defined asset whose old key has a materialization and
whose new key has none, the latest materialization (metadata, data version, code version and input data
versions with the input keys renamed, so staleness keeps working) and the latest evaluation of each of its
checks (pointed at the copied materialization); a raw asset's copy also records its observed source
(`sources/<name>_source`, which came later) at the version it read, the sha256 of the bytes. The copies are runless events with `migrated_from` in
their metadata. It is idempotent: an asset whose new key has history is left alone. Old keys keep their
history unless `--wipe-old` is given. `make run`, `make dev` and `make sweep` run it after the recovery
sweep (`python -m ztdl_pipeline.migrate`); with nothing to carry it does not load the code location.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

from ztdl_pipeline.core import names

DATA_VERSION_TAG = "dagster/data_version"
INPUT_PREFIXES = ("dagster/input_data_version/", "dagster/input_event_pointer/")


def old_parts(parts: list[str] | tuple[str, ...]) -> list[str] | None:
    """The key a renamed key had before (`["raw", "iris_raw"]` -> `["raw", "iris"]`); None if it was not renamed."""
    layer, name = names.split_key(parts)
    return [layer, name] if list(parts) == names.key_parts(layer, name) else None


def renamed_tag(tag: str, renames: dict[str, str]) -> str:
    """A provenance tag with its input key renamed (`dagster/input_data_version/raw/iris` -> `.../raw/iris_raw`)."""
    for prefix in INPUT_PREFIXES:
        if tag.startswith(prefix) and tag[len(prefix):] in renames:
            return prefix + renames[tag[len(prefix):]]
    return tag


@dataclass
class Report:
    carried: list[str] = field(default_factory=list)  # new keys that received their old key's history
    checks: int = 0
    wiped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.carried:
            return ["no history to carry over: every defined asset's key has its own history"]
        lines = [f"carried the latest materialization of {len(self.carried)} asset(s) and {self.checks} check "
                 f"evaluation(s) over to the renamed keys (e.g. {', '.join(self.carried[:3])})"]
        if self.wiped:
            lines.append(f"wiped the history of {len(self.wiped)} old key(s)")
        return lines


def candidates(instance) -> list:
    """Old-style keys with history in `instance` whose renamed key has none yet (cheap: no code location is
    loaded, so `make run` pays nothing once the history is carried)."""
    import dagster as dg

    keys = {tuple(asset_key.path) for asset_key in instance.get_asset_keys()}
    return [dg.AssetKey(list(parts)) for parts in sorted(keys)
            if len(parts) == 2 and parts[0] in names.SUFFIXES and tuple(names.key_parts(*parts)) not in keys
            and old_parts(parts) is None]


def _latest(instance, asset_key):
    records = instance.fetch_materializations(asset_key, limit=1).records
    return records[0] if records else None


def carry_history(instance, graph, *, wipe_old: bool = False) -> Report:
    """Copy old keys' latest materializations and check evaluations to the renamed keys of `graph`."""
    import dagster as dg
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluationTargetMaterializationData,
    )

    report = Report()
    pairs = {}
    for asset_key in graph.get_all_asset_keys():
        parts = old_parts(asset_key.path)
        if parts is not None and instance.has_asset_key(dg.AssetKey(parts)):
            pairs[dg.AssetKey(parts)] = asset_key
    renames = {old.to_user_string(): new.to_user_string() for old, new in pairs.items()}
    new_ids: dict[int, int] = {}  # old storage id -> storage id of its copy, for input event pointers
    order = {layer: i for i, layer in enumerate(names.LAYERS)}
    for old, new in sorted(pairs.items(), key=lambda pair: order[pair[0].path[0]]):
        record = _latest(instance, old)
        if record is None or _latest(instance, new) is not None:
            continue
        event = record.event_log_entry.asset_materialization
        tags = {renamed_tag(tag, renames): value for tag, value in (event.tags or {}).items()}
        for tag, value in list(tags.items()):  # point at the copies of inputs carried earlier in this pass
            if tag.startswith(INPUT_PREFIXES[1]) and value.isdigit() and int(value) in new_ids:
                tags[tag] = str(new_ids[int(value)])
        for parent in graph.get(new).parent_keys:  # a raw asset read its observed source's bytes: same sha256
            if names.split_key(parent.path)[0] == "sources" and DATA_VERSION_TAG in tags:
                tags.setdefault(INPUT_PREFIXES[0] + parent.to_user_string(), tags[DATA_VERSION_TAG])
        instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key=new, description=event.description, tags=tags,
            metadata={**event.metadata, "migrated_from": f"{old.to_user_string()} (run {record.run_id or '-'})"}))
        copied = _latest(instance, new)
        new_ids[record.storage_id] = copied.storage_id
        report.carried.append(new.to_user_string())
        for check_key in graph.get_check_keys_for_assets({new}):
            history = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(old, check_key.name), limit=1)
            entry = history[0].event if history else None
            if entry is None or entry.dagster_event is None:
                continue
            evaluation = entry.dagster_event.event_specific_data
            target = AssetCheckEvaluationTargetMaterializationData(
                storage_id=copied.storage_id, run_id=copied.run_id or "", timestamp=copied.timestamp)
            instance.report_runless_asset_event(dg.AssetCheckEvaluation(
                asset_key=new, check_name=check_key.name, passed=evaluation.passed,
                metadata=evaluation.metadata, target_materialization_data=target,
                severity=evaluation.severity, description=evaluation.description, blocking=evaluation.blocking))
            report.checks += 1
    if wipe_old and report.carried:
        carried = set(report.carried)
        olds = [old for old, new in pairs.items() if new.to_user_string() in carried]
        instance.wipe_assets(olds)
        report.wiped = [old.to_user_string() for old in olds]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ztdl_pipeline.migrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wipe-old", action="store_true",
                        help="after carrying it over, wipe the old keys' history (it no longer shows in the UI)")
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        print("migrate: DAGSTER_HOME is not set, so no run history is kept: nothing to carry over")
        return 0
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        if not candidates(instance):
            return 0
        from ztdl_pipeline.definitions import defs

        report = carry_history(instance, defs.resolve_asset_graph(), wipe_old=args.wipe_old)
    for line in report.lines():
        print(f"migrate: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
