"""Helpers for the serving tests: a real `ztdl-serve` process on 127.0.0.1 driven over raw HTTP, and the
raw rows / in-process predictions the server's answers are compared with."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ztdl_pipeline.core.features import raw_rows, safe_name

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 90.0
MODELS = ("wifi_fc", "titanic_fc", "weight_height_linreg")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    """A running ztdl-serve: `request` speaks raw HTTP (paths and bodies are sent exactly as given)."""

    port: int
    proc: subprocess.Popen
    log: Path
    exports: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | str | dict | list | None = None,
                headers: dict | None = None, timeout: float = 60.0) -> Answer:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers={"Content-Type": "application/json",
                                                                 **(headers or {})})
            response = connection.getresponse()
            return Answer(response.status, response.read(), dict(response.getheaders()))
        finally:
            connection.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, body) -> Answer:
        return self.request("POST", path, body)

    def alive(self) -> bool:
        return self.proc.poll() is None and self.get("/v1/models").status == 200

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_server(exports: Path | str, log_path: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
    """`ztdl-serve --exports <exports> <extra>` with no ZTDL_/DAGSTER_ variables but those in `env`."""
    port = free_port()
    settings = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1", **settings})
    log = open(log_path, "wb")  # noqa: SIM115 - the child writes to it; closed by stop_server
    proc = subprocess.Popen([str(BIN / "ztdl-serve"), "--port", str(port), "--exports", str(exports), *extra],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    server = Server(port=port, proc=proc, log=log_path, exports=exports)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ztdl-serve exited {proc.returncode}:\n{server.log_tail()}")
        try:
            if server.get("/v1/models").status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"ztdl-serve did not answer within {STARTUP_TIMEOUT:.0f} s:\n{server.log_tail()}")


def stop_process_group(proc: subprocess.Popen) -> None:
    """Stop a server started with start_new_session=True, children included: TERM, then KILL."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def stop_server(server: Server) -> None:
    stop_process_group(server.proc)


def raw_test_rows(root, model: str, n: int = 40) -> dict[str, np.ndarray]:
    """Raw test-split values of a model's inputs, keyed by signature input name, as the exports take them."""
    from ztdl_pipeline.catalog import card
    from ztdl_pipeline.core.tabular import view
    from ztdl_pipeline.resources.io import read_parquet

    example = card(model)
    features = view(read_parquet(root / "features" / f"{example.dataset}.parquet"), example)
    raw = read_parquet(root / "raw" / f"{example.dataset}.parquet")
    return {safe_name(k): v[:n] for k, v in raw_rows(raw, features, "test").items()}


def instances(columns: dict[str, np.ndarray]) -> list[dict]:
    n = len(next(iter(columns.values())))
    return [{name: plain(values[i]) for name, values in columns.items()} for i in range(n)]


def plain(value):
    value = value.item() if hasattr(value, "item") else value
    return value.decode() if isinstance(value, bytes) else value


def served_in_process(exports, model: str, version: int, columns: dict[str, np.ndarray]) -> np.ndarray:
    import tensorflow as tf

    from ztdl_pipeline.serving import registry

    loaded = registry.load(model, version, root=exports)
    return np.asarray(loaded.serve({k: tf.constant(v) for k, v in columns.items()}))
