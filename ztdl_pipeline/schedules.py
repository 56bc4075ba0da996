"""The weekly retrain schedule: STOPPED by default. Start it in the UI (Automation) or with
`dagster schedule start weekly_retrain` while a dagster daemon runs (`make dev` starts one).

It retrains every group whose data can be read here: an asset downstream of a source that cannot be read on
this machine (not in the mirror, no $ZTDL_SOURCE_<NAME>, no network) is left out of the run, and the tick
says which and why, instead of a run that fails every week. What changes between retrains is picked up on its
own by the source sensor and declarative automation (ztdl_pipeline/automation.py); this schedule is the
"retrain everything on its current data" button on a timer.
"""

from __future__ import annotations

import dagster as dg

from ztdl_pipeline.automation import RETRAIN_CRON, TIMEZONE
from ztdl_pipeline.jobs import GROUPS, retrain_job
from ztdl_pipeline.resources.data_source import DatasetSource


def retrain_selection(graph, data_source: DatasetSource) -> tuple[list[dg.AssetKey], dict[str, str]]:
    """(the keys of GROUPS that can run here, {source: why it cannot be read})."""
    from ztdl_pipeline.catalog import datasets
    from ztdl_pipeline.core import names

    unavailable = {}
    for asset_key in graph.get_all_asset_keys():
        layer, name = names.split_key(asset_key.path)
        if layer == "sources":
            seen = data_source.observe(datasets.get(name))
            if not seen.available:
                unavailable[asset_key] = seen.detail
    blocked = dg.AssetSelection.assets(*unavailable).downstream().resolve(graph) if unavailable else set()
    keys = [k for k in dg.AssetSelection.groups(*GROUPS).resolve(graph) if k not in blocked]
    return sorted(keys, key=lambda k: k.path), {k.to_user_string(): why for k, why in unavailable.items()}


@dg.schedule(name="weekly_retrain", job=retrain_job, cron_schedule=RETRAIN_CRON, execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Every Monday 03:00 UTC: retrain every model whose data can be read here; the export "
                         "gates decide what ships")
def weekly_retrain(context: dg.ScheduleEvaluationContext, data_source: DatasetSource):
    keys, unavailable = retrain_selection(context.repository_def.asset_graph, data_source)
    for source, why in sorted(unavailable.items()):
        context.log.info(f"left out what reads {source}: {why}")
    if not keys:
        return dg.SkipReason("no source can be read here: " + "; ".join(sorted(unavailable)))
    return dg.RunRequest(asset_selection=keys, tags={"ztdl/left_out_sources": str(len(unavailable))})
