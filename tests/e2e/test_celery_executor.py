"""ZTDL_EXECUTOR=celery against real parts: a Redis broker on loopback, `dagster-celery worker` processes and a
`dagster asset materialize` from the CLI, all sharing one SQLite DAGSTER_HOME on this machine (the instance the
Makefile writes). Worker `cpu` serves the default queue `dagster`, worker `gpu` the `gpu` queue that training steps
are sent to (core/placement.py). One run materializes the iris and banknotes chains (fast profile); when the
second training step has started, the `gpu` worker is killed with SIGKILL and a replacement `gpu-2` is started,
as a supervisor would restart it. The run's settings file is ztdl_pipeline/instance/celery.yaml with a short
visibility timeout, so the killed step's task, never acknowledged, is delivered again within the test.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.e2e.celery_cluster import BIN, Worker, missing_reason, redis_server, start_worker, stop_process
from ztdl_pipeline import settings
from ztdl_pipeline.instance import CELERY_SETTINGS, TEMPLATE

pytestmark = [pytest.mark.e2e, pytest.mark.fault,
              pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")]

REPO = Path(__file__).resolve().parents[2]
EXPORTS = ("exports/iris_softmax_export", "exports/banknotes_logreg_export")
SELECTION = " or ".join(f'+key:"{export}"' for export in EXPORTS)
VISIBILITY_S = 20  # the test's visibility timeout: longer than any step here, short enough to wait for
SUBMITTED = re.compile(r'Submitting celery task for step "([^"]+)" to queue "([^"]+)"')


@dataclass
class CeleryRun:
    status: str
    output: str
    queues: dict[str, list[str]]  # step -> queues it was submitted to
    executed: dict[str, list[tuple[str, float]]]  # step -> (worker name, time) per delivery, in order
    started: dict[str, list[str]]  # step -> the worker of each STEP_START
    succeeded: dict[str, list[str]]  # step -> the worker of each STEP_SUCCESS
    materialized: set[str]
    killed_step: str
    killed_at: float
    workers: dict[str, Worker]


def _settings_file(folder: Path) -> Path:
    """The project's Celery settings with a visibility timeout of VISIBILITY_S, swept for every second."""
    config = yaml.safe_load(CELERY_SETTINGS.read_text())
    options = config["execution"]["config"]["config_source"]["broker_transport_options"]
    options.update(visibility_timeout=VISIBILITY_S, unacked_restore_interval=1)
    path = folder / "celery.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _collect(instance, run_id: str) -> dict:
    """From the run's event log: the queue each step was sent to, the worker of each delivery (the engine event a
    worker writes before it runs a step), and which worker's process (by pid: the step's STEP_START follows the
    worker's engine event) wrote each step's start and success."""
    import dagster as dg

    queues, executed, worker_of_pid, steps = defaultdict(list), defaultdict(list), {}, []
    materialized = set()
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.ENGINE_EVENT and (found := SUBMITTED.search(entry.message)):
            queues[found[1]].append(found[2])
        elif event.event_type == dg.DagsterEventType.ENGINE_EVENT and "in celery worker" in entry.message:
            node = event.engine_event_data.metadata["Celery worker"].value  # "<name>@<host>"
            executed[entry.step_key].append((node.split("@")[0], entry.timestamp))
        elif event.event_type == dg.DagsterEventType.STEP_START:  # in the process of the step's latest delivery
            worker_of_pid[event.pid] = executed[entry.step_key][-1][0]
            steps.append((event.event_type, entry.step_key, event.pid))
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            steps.append((event.event_type, entry.step_key, event.pid))
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialized.add(event.asset_key.to_user_string())
    started, succeeded = defaultdict(list), defaultdict(list)  # step -> the workers that wrote the event
    for kind, step, pid in steps:
        (started if kind == dg.DagsterEventType.STEP_START else succeeded)[step].append(worker_of_pid.get(pid, pid))
    return dict(queues=dict(queues), executed=dict(executed), started=dict(started), succeeded=dict(succeeded),
                materialized=materialized)


@pytest.fixture(scope="module")
def celery_run(tmp_path_factory, mirror) -> CeleryRun:
    import dagster as dg

    folder = tmp_path_factory.mktemp("celery")
    home = folder / "dagster_home"
    home.mkdir()
    shutil.copy(TEMPLATE, home / "dagster.yaml")  # the instance the Makefile writes
    config = _settings_file(folder)
    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(redis_server())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
        env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(folder / "data"), "ZTDL_DATA_MIRROR": str(mirror),
                    "ZTDL_PROFILE": "fast", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
                    settings.EXECUTOR_ENV: "celery", settings.CELERY_CONFIG_ENV: str(config),
                    "ZTDL_CELERY_BROKER": broker, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
        # the SQLite tables exist before two workers open the instance at once
        instance = stack.enter_context(dg.DagsterInstance.from_config(str(home)))
        instance.get_runs(limit=1)
        workers: dict[str, Worker] = {}

        def start(name: str, queues: tuple[str, ...]) -> None:
            workers[name] = start_worker(name, queues, config, env, folder,
                                         preload=("ztdl_pipeline.definitions", "tensorflow"))
            stack.callback(stop_process, workers[name].proc)

        start("cpu", ("dagster",))  # TensorFlow is imported at start, before a report or an export needs it
        start("gpu", ("gpu",))
        # the run starts at once: its tasks wait in Redis until a worker of their queue is ready
        log = folder / "materialize.log"
        run = subprocess.Popen([str(BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions",
                                "--select", SELECTION], cwd=REPO, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(stop_process, run)
        killed_step, killed_at, deadline = None, 0.0, time.monotonic() + 300
        while run.poll() is None:
            assert time.monotonic() < deadline, f"the run did not end within 300 s:\n{log.read_text()[-4000:]}"
            for name, worker in workers.items():
                assert worker.proc.poll() is None or name == "gpu", f"worker {name} died:\n{worker.log.read_text()}"
            runs = instance.get_runs(limit=1)
            if killed_step is None and runs:
                starts = [e.step_key for e in instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_START)
                          if e.step_key.startswith("models__")]
                if len(starts) == 2:  # the second training step has begun on `gpu`: the machine goes away
                    workers["gpu"].kill()
                    killed_step, killed_at = starts[1], time.time()
                    start("gpu-2", ("gpu",))
            time.sleep(0.3)
        assert killed_step is not None, f"no second training step started:\n{log.read_text()[-4000:]}"
        (record,) = instance.get_runs(limit=1)
        yield CeleryRun(status=record.status.value, output=log.read_text(), killed_step=killed_step,
                        killed_at=killed_at, workers=workers, **_collect(instance, record.run_id))


def test_training_steps_go_to_the_gpu_queue_and_the_rest_to_the_default_queue(celery_run):
    queues = celery_run.queues
    training = sorted(step for step in queues if step.startswith("models__"))
    assert training == ["models__banknotes_logreg_model", "models__iris_softmax_model"], queues
    assert len(queues) == 20, queues  # raw, features, model, report, export and their checks, of both chains
    for step, sent in queues.items():
        assert set(sent) == {"gpu" if step in training else "dagster"}, (step, sent)
    # and each ran on a worker of that queue only
    for step, deliveries in celery_run.executed.items():
        assert {worker for worker, _ in deliveries} <= ({"gpu", "gpu-2"} if step in training else {"cpu"}), step


def test_the_chains_ran_across_both_workers(celery_run):
    assert celery_run.status == "SUCCESS", celery_run.output[-4000:]
    finished_on = {step: workers for step, workers in celery_run.succeeded.items()}
    training = {step for step in celery_run.queues if step.startswith("models__")}
    (first_training,) = training - {celery_run.killed_step}
    assert finished_on[first_training] == ["gpu"], finished_on
    assert all(finished_on[step] == ["cpu"] for step in set(celery_run.queues) - training), finished_on  # 18
    assert set(EXPORTS) <= celery_run.materialized, celery_run.materialized


def test_a_worker_killed_in_the_middle_of_a_step_hands_it_to_another_and_the_run_succeeds(celery_run):
    step = celery_run.killed_step
    killed, replacement = celery_run.workers["gpu"], celery_run.workers["gpu-2"]
    assert killed.proc.returncode == -9  # SIGKILL: no warm shutdown, nothing handed back by the worker
    # delivered to the killed worker and started there, delivered again once the visibility timeout had passed
    (first, at_first), (second, at_second) = celery_run.executed[step][:2]
    assert (first, second) == ("gpu", "gpu-2")
    assert at_first < celery_run.killed_at < at_second and at_second - at_first >= VISIBILITY_S - 1
    assert celery_run.started[step][:2] == ["gpu", "gpu-2"] and set(celery_run.succeeded[step]) == {"gpu-2"}
    task_ids = re.findall(r"Task execute_plan\[([0-9a-f-]+)\] received", killed.log.read_text())
    assert task_ids and f"execute_plan[{task_ids[-1]}] succeeded" not in killed.log.read_text()
    assert f"execute_plan[{task_ids[-1]}] succeeded" in replacement.log.read_text()  # the same task, finished
    # the run finished: every step succeeded, every other step ran exactly once (none outlived the timeout)
    assert celery_run.status == "SUCCESS", celery_run.output[-4000:]
    assert set(celery_run.succeeded) == set(celery_run.queues) and "STEP_FAILURE" not in celery_run.output
    assert all(len(d) == 1 for s, d in celery_run.executed.items() if s != step), celery_run.executed
