"""Alerts for failed runs: the record one failed run becomes, one JSON line in an append-only file, and a POST of
the same JSON to a webhook. Plain Python (no Dagster): ztdl_pipeline/alerts.py's run-failure sensor gathers the
facts and calls these."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MAX_ERROR_CHARS = 2000  # an error's message is cut here (a stack trace stays in the run's logs)


def _cut(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS - 1] + "…"


def alert_payload(*, run_id: str, job: str, error: str | None, failed_steps: Sequence[Mapping[str, str]] = (),
                  failed_assets: Sequence[str] = (), tags: Mapping[str, str] | None = None,
                  when: dt.datetime | None = None) -> dict[str, Any]:
    """The alert for one failed run: run id, job, the failed steps (each with its error), the assets that failed
    to materialize, the run's error message, its profile and commit tags where set, and the time (UTC ISO 8601)."""
    when = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    steps = [{"step": str(s["step"]), "error": _cut(s.get("error"))} for s in failed_steps]
    return {
        "kind": "run_failure",
        "time": when.isoformat(timespec="seconds"),
        "run_id": run_id,
        "job": job,
        "failed_steps": steps,
        "failed_assets": sorted(set(failed_assets)),
        "error": _cut(error) or (steps[0]["error"] if steps else ""),
        "tags": {k: v for k, v in sorted((tags or {}).items()) if k.startswith("ztdl/")},
    }


def summary(payload: Mapping[str, Any]) -> str:
    """One log line: which run, job, steps or assets failed, and the first line of the error."""
    failed = payload["failed_assets"] or [s["step"] for s in payload["failed_steps"]]
    first_line = (payload["error"] or "no error message").splitlines()[0]
    return (f"run {payload['run_id']} of {payload['job']} failed"
            + (f" ({', '.join(failed)})" if failed else "") + f": {first_line}")


def append_line(path: Path, payload: Mapping[str, Any]) -> Path:
    """Append `payload` as one JSON line, atomically: the whole line goes in one write(2) to a file opened with
    O_APPEND, under an exclusive lock, so concurrent writers never interleave or tear lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(payload, sort_keys=True, default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"{path}: wrote {written} of {len(line)} bytes of an alert line")
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock
    return path


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every alert recorded in a JSON-lines file (none when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def post_json(url: str, payload: Mapping[str, Any], timeout: float = 5.0) -> str | None:
    """POST `payload` as JSON to `url`; None when the server answered 2xx, else what went wrong (never raises)."""
    request = urllib.request.Request(url, data=json.dumps(payload, sort_keys=True, default=str).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        return f"{url} answered HTTP {exc.code}"
    except Exception as exc:  # noqa: BLE001 - an unreachable or slow webhook must never fail the sensor
        return f"{url} unreachable: {type(exc).__name__}: {exc}"
    return None if 200 <= status < 300 else f"{url} answered HTTP {status}"
