"""Real parts of a Celery deployment for the tests: a throwaway Redis server (Debian's `redis-server` on a free
loopback port, nothing saved to disk) and `dagster-celery worker` processes, each in its own session so that
stopping or killing one takes its Celery process with it. Everything started here is stopped by the context
managers, also when a test fails."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.postgres_server import free_port

BIN = Path(sys.executable).parent


def missing_reason() -> str | None:
    """Why no broker or worker can be started here, or None when they can."""
    if shutil.which("redis-server") is None:
        return "redis-server not found: `apt-get install redis-server` (.ci/run installs it)"
    for module, extra in (("dagster_celery", "celery"), ("redis", "celery")):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[{extra}]')"
    return None


def stop_process(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM to the process's session (a warm shutdown for Celery), SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):  # whatever is left of the session (a Celery child)
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Start redis-server on 127.0.0.1 with no persistence; yield its URL (database 0)."""
    import redis

    folder = Path(tempfile.mkdtemp(prefix="ztdl-redis-"))
    port = free_port()
    log = folder / "redis.log"
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder), "--logfile", str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"redis-server exited: {log.read_text() if log.exists() else ''}"
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    break
            assert time.monotonic() < deadline, "redis-server did not answer PING within 30 s"
            time.sleep(0.1)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc, grace=10)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Worker:
    """One `dagster-celery worker start` process: its Celery node name is `<name>@<host>`."""

    name: str
    queues: tuple[str, ...]
    log: Path
    proc: subprocess.Popen

    def ready(self) -> bool:
        """Celery logs `<name>@<host> ready.` once it consumes its queues."""
        return re.search(rf"\b{re.escape(self.name)}@\S+ ready\.", self.log.read_text(errors="replace")) is not None

    def kill(self) -> None:
        """SIGKILL to the worker's whole session: the machine is gone, nothing is shut down cleanly."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def start_worker(name: str, queues: tuple[str, ...], config: Path, env: dict, folder: Path,
                 preload: tuple[str, ...] = ("ztdl_pipeline.definitions",)) -> Worker:
    """A worker serving `queues` with the solo pool (one step at a time, in the worker's own process), the
    settings file `config` (the same file the run's executor reads), and `preload` imported at start."""
    log = folder / f"worker-{name}.log"
    command = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(config),
               "-n", name, *[arg for queue in queues for arg in ("-q", queue)],
               *[arg for module in preload for arg in ("-i", module)], "--", "--pool", "solo"]
    proc = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    return Worker(name, queues, log, proc)
