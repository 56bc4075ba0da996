"""Schedules. Both are STOPPED by default: start them in the UI (Automation) or with
`dagster schedule start weekly_retrain` while a dagster daemon runs (`make dev` starts one)."""

from __future__ import annotations

import dagster as dg

from ztdl_pipeline.jobs import retrain_job

weekly_retrain = dg.ScheduleDefinition(
    name="weekly_retrain", job=retrain_job, cron_schedule="0 3 * * 1", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every Monday 03:00 UTC: retrain all models; the export gates decide what ships")
