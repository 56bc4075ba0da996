"""ztdl_pipeline.recovery's decisions: which runs in progress are dead, and which are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ztdl_pipeline.recovery import RunProcesses, failure_message, pid_alive, verdict

pytestmark = pytest.mark.fault


def _run(pids=(4242,), host=None, status="STARTED", started_at=None) -> RunProcesses:
    return RunProcesses(run_id="r1", status=status, pids=tuple(pids), host=host, started_at=started_at)


def test_a_run_whose_processes_are_all_gone_is_dead():
    dead, why = verdict(_run(pids=(11, 12)), "here", local_storage=True, alive=lambda pid, _: False)
    assert dead and "11, 12" in why and "here" in why


def test_a_run_with_one_living_process_is_left_alone():
    dead, why = verdict(_run(pids=(11, 12)), "here", local_storage=True, alive=lambda pid, _: pid == 12)
    assert not dead and "12" in why


def test_runs_of_other_hosts_and_unknown_places_are_never_touched():
    never = lambda pid, _: False  # noqa: E731
    assert not verdict(_run(host="other"), "here", local_storage=True, alive=never)[0]
    assert verdict(_run(host="here"), "here", local_storage=False, alive=never)[0]
    dead, why = verdict(_run(host=None), "here", local_storage=False, alive=never)
    assert not dead and "shared" in why
    dead, why = verdict(_run(pids=()), "here", local_storage=True, alive=never)
    assert not dead and "no process recorded" in why


def test_pid_alive_sees_exit_and_reuse():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)  # reaped: the pid names no process
    assert pid_alive(os.getpid(), run_started_at=time.time())
    if sys.platform.startswith("linux"):
        # this process started long after a run that began at the epoch: its pid would be a reused one
        assert not pid_alive(os.getpid(), run_started_at=0.0)
    assert not pid_alive(0) and not pid_alive(-1)


def test_failure_message_names_the_sweep_the_pool_and_the_fix():
    message = failure_message(_run(), "its process (pid 4242 on host here) no longer exists", ["gpu", "gpu"])
    assert "ztdl_pipeline.recovery" in message and "pool gpu" in message and "Materialize" in message
    assert "canceled" in failure_message(_run(status="CANCELING"), "gone", [])
