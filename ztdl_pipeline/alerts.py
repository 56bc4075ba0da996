"""Alerts on failed runs: a run-failure sensor (on by default; it runs wherever the daemon runs, e.g. `make dev`)
records every failed run of the code location

- as a log line (the sensor's tick log in the UI, and the daemon's log),
- as one JSON line appended atomically to `$DAGSTER_HOME/alerts.jsonl` (the instance's folder where DAGSTER_HOME
  is unset): run id, job, failed steps with their errors, assets that failed to materialize, error, time,
- and, when `ZTDL_ALERT_WEBHOOK` is set, as a POST of the same JSON to that URL (5 s timeout; a webhook that
  fails is logged and never fails the sensor).

The record itself is built by core/alerts.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

WEBHOOK_ENV = "ZTDL_ALERT_WEBHOOK"
ALERTS_FILE = "alerts.jsonl"
WEBHOOK_TIMEOUT = 5.0


def alerts_path(instance: dg.DagsterInstance | None) -> Path:
    """$DAGSTER_HOME/alerts.jsonl; the instance's root folder where DAGSTER_HOME is unset."""
    home = os.environ.get("DAGSTER_HOME") or (instance.root_directory if instance is not None else None)
    return Path(home or ".").expanduser().resolve() / ALERTS_FILE


def _failed_assets(instance: dg.DagsterInstance, run: dg.DagsterRun, failed_steps: set[str]) -> list[str]:
    """The assets of the failed steps (from the run's execution plan), and any the run reported as failed."""
    keys = set()
    records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_FAILED_TO_MATERIALIZE)
    keys |= {r.dagster_event.asset_key for r in records if r.dagster_event and r.dagster_event.asset_key}
    plan = (instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
            if run.execution_plan_snapshot_id else None)
    for step in plan.steps if plan else ():
        if step.key in failed_steps:
            keys |= {o.properties.asset_key for o in step.outputs if o.properties and o.properties.asset_key}
    return [k.to_user_string() for k in keys]


def _error(event: dg.DagsterEvent | None) -> str:
    """The user's error of a failure event (the cause Dagster wraps in a step-execution error), else its message."""
    error = getattr(getattr(event, "event_specific_data", None), "error", None)
    while error is not None and error.cause is not None and error.cls_name == "DagsterExecutionStepExecutionError":
        error = error.cause
    return (error.message if error is not None else None) or (event.message if event is not None else "") or ""


@dg.run_failure_sensor(name="failure_alerts", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Records every failed run: a log line, a JSON line in $DAGSTER_HOME/alerts.jsonl "
                                   f"and a POST to ${WEBHOOK_ENV} when it is set")
def failure_alerts(context: dg.RunFailureSensorContext) -> None:
    from ztdl_pipeline.core import alerts

    run = context.dagster_run
    steps = [{"step": event.step_key or "", "error": _error(event)} for event in context.get_step_failure_events()]
    try:
        assets = _failed_assets(context.instance, run, {step["step"] for step in steps})
    except Exception as exc:  # noqa: BLE001 - the alert matters more than its asset list
        context.log.warning(f"could not list the failed assets of run {run.run_id}: {exc}")
        assets = []
    payload = alerts.alert_payload(run_id=run.run_id, job=run.job_name, error=_error(context.failure_event),
                                   failed_steps=steps, failed_assets=assets, tags=run.tags)
    context.log.error("ALERT " + alerts.summary(payload))
    path = alerts.append_line(alerts_path(context.instance), payload)
    context.log.info(f"alert recorded in {path}")
    url = os.environ.get(WEBHOOK_ENV)
    if url:
        problem = alerts.post_json(url, payload, timeout=WEBHOOK_TIMEOUT)
        if problem:
            context.log.warning(f"alert webhook ({WEBHOOK_ENV}) failed: {problem}; the alert is in {path}")
        else:
            context.log.info(f"alert posted to {WEBHOOK_ENV}")
