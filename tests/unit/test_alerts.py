"""Alerts on failed runs (ztdl_pipeline/alerts.py, core/alerts.py): a real failed run in a temporary instance,
the run-failure sensor evaluated on it with Dagster's test helpers, the JSON line it appends to
$DAGSTER_HOME/alerts.jsonl and the POST a real HTTP server on 127.0.0.1 receives."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from ztdl_pipeline.alerts import WEBHOOK_ENV, failure_alerts
from ztdl_pipeline.core import alerts


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def webhook():
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/ztdl", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dg.asset(key=["raw", "broken_raw"])
def broken():
    raise ValueError("the source file is gone: /nowhere/broken.csv")


@dg.asset(key=["features", "fine_features"])
def fine():
    return 1


def _failed_run(instance):
    result = dg.materialize([broken, fine], instance=instance, raise_on_error=False, tags={"ztdl/profile": "fast"})
    assert not result.success
    return result


def _evaluate(instance, result):
    context = dg.build_run_status_sensor_context(
        sensor_name="failure_alerts", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event()).for_run_failure()
    failure_alerts(context)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        yield tmp_path, instance


def test_a_failed_run_is_recorded_and_posted_to_the_webhook(home, webhook, monkeypatch, caplog):
    folder, instance = home
    url, receiver = webhook
    monkeypatch.setenv(WEBHOOK_ENV, url)
    result = _failed_run(instance)
    _evaluate(instance, result)

    [line] = alerts.read_lines(folder / "alerts.jsonl")
    assert line["run_id"] == result.run_id and line["job"] == result.dagster_run.job_name
    assert line["kind"] == "run_failure" and line["failed_assets"] == ["raw/broken_raw"]
    assert [s["step"] for s in line["failed_steps"]] == ["raw__broken_raw"]
    assert "the source file is gone" in line["failed_steps"][0]["error"]
    assert line["error"] and line["tags"] == {"ztdl/profile": "fast"}
    assert abs(dt.datetime.fromisoformat(line["time"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)

    [(path, content_type, posted)] = receiver.received
    assert path == "/hooks/ztdl" and content_type == "application/json" and posted == line

    # a second failure appends a second line; the first stays as it was
    again = _failed_run(instance)
    _evaluate(instance, again)
    lines = alerts.read_lines(folder / "alerts.jsonl")
    assert [entry["run_id"] for entry in lines] == [result.run_id, again.run_id] and lines[0] == line
    assert len(receiver.received) == 2


@pytest.mark.parametrize("answer", ["refused", "error status"])
def test_a_failing_webhook_is_logged_and_never_raises(home, webhook, monkeypatch, answer):
    folder, instance = home
    url, receiver = webhook
    if answer == "refused":
        import socket

        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    else:
        receiver.status = 500
    monkeypatch.setenv(WEBHOOK_ENV, url)
    result = _failed_run(instance)
    _evaluate(instance, result)  # does not raise
    assert [entry["run_id"] for entry in alerts.read_lines(folder / "alerts.jsonl")] == [result.run_id]
    problem = alerts.post_json(url, {"x": 1}, timeout=2.0)
    assert problem and (("unreachable" in problem) if answer == "refused" else "HTTP 500" in problem)


def test_no_webhook_set_still_records_the_alert(home):
    folder, instance = home
    result = _failed_run(instance)
    _evaluate(instance, result)
    assert alerts.read_lines(folder / "alerts.jsonl")[0]["run_id"] == result.run_id


def test_the_payload_is_plain_data_and_lines_never_tear(tmp_path):
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    payload = alerts.alert_payload(run_id="r1", job="__ASSET_JOB", error=None, when=when,
                                   failed_steps=[{"step": "models__x_model", "error": "boom\n" + "y" * 5000}],
                                   failed_assets=["models/x_model", "models/x_model"],
                                   tags={"ztdl/profile": "book", "dagster/run_key": "k"})
    assert payload["time"] == "2026-01-02T03:04:05+00:00" and payload["failed_assets"] == ["models/x_model"]
    assert payload["error"].startswith("boom") and len(payload["error"]) == alerts.MAX_ERROR_CHARS
    assert payload["tags"] == {"ztdl/profile": "book"}
    assert alerts.summary(payload) == "run r1 of __ASSET_JOB failed (models/x_model): boom"
    json.dumps(payload)

    path = tmp_path / "deep" / "alerts.jsonl"
    threads = [threading.Thread(target=lambda i=i: [alerts.append_line(path, {**payload, "run_id": f"{i}-{j}"})
                                                     for j in range(20)]) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = alerts.read_lines(path)
    assert len(lines) == 160 and len({entry["run_id"] for entry in lines}) == 160


def test_the_code_location_runs_the_sensor_by_default():
    from ztdl_pipeline.definitions import defs

    sensor = defs.resolve_sensor_def("failure_alerts")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
