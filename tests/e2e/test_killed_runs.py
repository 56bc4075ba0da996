"""A `dagster asset materialize` killed with SIGKILL during training, under the Makefile's instance settings
(ztdl_pipeline/instance/dagster.yaml: pool limit 1, so the `gpu` pool runs one training step at a time).

Without a sweep the dead run stays STARTED and keeps its `gpu` slot, so any later training step would wait
for good ("Step blocked by limit for pool gpu"); `python -m ztdl_pipeline.recovery` (which `make run` calls
first) marks it failed and frees the slot, and the same materialization then succeeds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.serving.helpers import stop_process_group
from ztdl_pipeline.recovery import INSTANCE_TEMPLATE

pytestmark = [pytest.mark.e2e, pytest.mark.fault]

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = "models/banknotes_logreg_model"  # a cheap training asset in the gpu pool
STEP = MODEL.replace("/", "__")
POOL = "gpu"
# many epochs so that the kill lands inside training however slow the machine is (killed long before the end)
LONG_TRAINING = {"ops": {STEP: {"config": {"epochs": 5000}}}}


def _env(home: Path, data: Path, mirror: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "ZTDL_DATA_DIR": str(data), "ZTDL_DATA_MIRROR": str(mirror),
                "ZTDL_PROFILE": "fast", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1",
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    return env


def _materialize(env: dict[str, str], log: Path, config: dict | None = None) -> subprocess.Popen:
    args = [str(BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions",
            "--select", f'+key:"{MODEL}"']
    if config:
        args += ["--config-json", json.dumps(config)]
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)  # its own process group, killed as one


def _claimed(instance) -> list[tuple[str, str]]:
    info = instance.event_log_storage.get_concurrency_info(POOL)
    return [(slot.run_id, slot.step_key) for slot in info.claimed_slots]


def _wait_for_training(instance, proc: subprocess.Popen, log: Path, timeout: float = 150) -> str:
    """The id of the run once its training step has started and holds the gpu slot."""
    import dagster as dg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the first materialization ended before training ({proc.returncode}):\n"
                        f"{log.read_text()[-4000:]}")
        for run_id, step in _claimed(instance):
            run = instance.get_run_by_id(run_id)
            starts = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
            if step == STEP and run.status == dg.DagsterRunStatus.STARTED and any(
                    e.step_key == STEP for e in starts):
                return run_id
        time.sleep(0.2)
    pytest.fail(f"the training step did not start within {timeout} s:\n{log.read_text()[-4000:]}")


def _probe_claim(instance) -> bool:
    """Whether another run's step could take the gpu slot now (the probe's claim is withdrawn after)."""
    storage = instance.event_log_storage
    status = storage.claim_concurrency_slot(POOL, "probe-run", "probe-step")
    storage.free_concurrency_slots_for_run("probe-run")
    return status.is_claimed


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_TEMPLATE, home / "dagster.yaml")  # exactly what the Makefile writes
    return home


def _killed_training_run(instance, env: dict[str, str], log: Path) -> str:
    """The id of a run SIGKILLed inside its training step, checked to be STARTED and to hold the gpu slot."""
    import dagster as dg

    first = _materialize(env, log, LONG_TRAINING)
    try:
        run_id = _wait_for_training(instance, first, log)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    # the dead run is still STARTED and still holds the slot: any other training step would block
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
    assert _claimed(instance) == [(run_id, STEP)]
    assert not _probe_claim(instance), "a second run could take the slot: the test did not reproduce the fault"
    return run_id


def test_killed_training_run_is_failed_and_frees_the_gpu_slot(tmp_path, mirror):
    import dagster as dg

    home = _home(tmp_path)
    env = _env(home, tmp_path / "data", mirror)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.event_log_storage.get_pool_config().default_pool_limit == 1
        assert instance.run_monitoring_enabled

        # (1) a training run killed with SIGKILL
        run_id = _killed_training_run(instance, env, tmp_path / "first.log")

        # (2) the sweep ends the dead run and frees its slot
        sweep = subprocess.run([sys.executable, "-m", "ztdl_pipeline.recovery"], cwd=REPO, env=env,
                               capture_output=True, text=True, timeout=120, check=False)
        assert sweep.returncode == 0, sweep.stderr[-3000:]
        assert f"run {run_id}: STARTED -> FAILURE" in sweep.stdout, sweep.stdout
        assert POOL in sweep.stdout
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        failure = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[-1]
        assert "ztdl_pipeline.recovery" in failure.dagster_event.message
        assert "no longer exists" in failure.dagster_event.message
        assert _claimed(instance) == []
        assert _probe_claim(instance)

        # a second sweep finds nothing more to do
        again = subprocess.run([sys.executable, "-m", "ztdl_pipeline.recovery"], cwd=REPO, env=env,
                               capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0 and "nothing to sweep" in again.stdout, again.stdout

        # (3) the same materialization now runs to the end, within a bounded time
        second = _materialize(env, tmp_path / "second.log")
        try:
            second.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait()
            pytest.fail(f"the second materialization did not finish in 180 s:\n"
                        f"{(tmp_path / 'second.log').read_text()[-4000:]}")
        output = (tmp_path / "second.log").read_text()
        assert second.returncode == 0, output[-4000:]
        # the console is at INFO (the template's python_logs): the run's own events say how it went
        latest = instance.get_runs(limit=1)[0]
        assert latest.run_id != run_id and latest.status == dg.DagsterRunStatus.SUCCESS
        assert not [e for e in instance.all_logs(latest.run_id) if "blocked by limit" in (e.message or "")]
        assert (tmp_path / "data" / "fast" / "models" / "banknotes_logreg" / "model.keras").is_file()
        assert _claimed(instance) == []


def test_the_daemon_sweeps_a_killed_run_by_itself(tmp_path, mirror):
    """While the daemon runs (`make dev`), nobody has to run `make sweep`: its `sweep_dead_runs` sensor ends the
    killed run and frees its slot within a few ticks, so the next `dagster asset materialize` of the same
    chain (docs/tuning.md: "kill the command and run it again") never waits for the dead run's slot."""
    import dagster as dg

    home = _home(tmp_path)
    env = _env(home, tmp_path / "data", mirror)
    env["ZTDL_SENSOR_INTERVAL_S"] = "5"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_id = _killed_training_run(instance, env, tmp_path / "killed.log")
        log = tmp_path / "daemon.log"
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO, env=env,
                                  stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and instance.get_run_by_id(run_id).status != dg.DagsterRunStatus.FAILURE:
                if daemon.poll() is not None:
                    pytest.fail(f"the daemon ended ({daemon.returncode}):\n{log.read_text()[-4000:]}")
                time.sleep(1)
        finally:
            stop_process_group(daemon)
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE, log.read_text()[-4000:]
        failure = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[-1]
        assert "no longer exists" in failure.dagster_event.message
        assert "sweep_dead_runs sensor" in failure.dagster_event.message  # the daemon did it, not a command
        assert _claimed(instance) == [] and _probe_claim(instance)
