"""Runs the documented shell commands as written (issue 18): a scratch copy of the repository, one bash per
document that reads the steps in order (so `export`, `cd` and `&` jobs carry over as in a reader's terminal),
and the servers a reader leaves running (tests/doc_commands.py: server_of) started in the background, asked
over HTTP until they answer, and stopped with their process group when the document ends.

The scratch copy's `.venv` is a link to the venv running the tests, and its pyproject.toml is no newer than
that venv's install stamp, so `make` finds everything installed (checked with `make -q` before any step).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.doc_commands import REPO, Server, Step, server_of

VENV = Path(sys.prefix)
READY_TIMEOUT_S = 240.0
STEP_TIMEOUT_S = 1200.0  # the longest documented command here: a group run at the fast profile on 2 loaded cores
QUICK_TIMEOUT_S = 300.0  # any command that runs no pipeline (a curl, an `until` loop waiting for a server)
PIPELINE_PROGRAMS = {"make", "dg", "dagster"}
TAIL = 4000


def scratch_copy(target: Path, mirror: Path) -> dict[str, str]:
    """Copy the repository's files (tracked and untracked, not ignored) into target, the data mirror beside it
    as ../shared/data; return the environment of a reader's terminal there: the venv's programs on PATH, the
    fast profile, the data mirror."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(VENV)
    shared = target.parent / "shared"  # the project's layout: the mirror at ../shared/data (docs/chapters.md)
    shared.mkdir(exist_ok=True)
    if not (shared / "data").exists():
        (shared / "data").symlink_to(mirror)
    stamp = VENV / ".installed-cpu"
    # in nanoseconds: a float mtime can round up past the stamp's, and make would then reinstall
    os.utime(target / "pyproject.toml", ns=(stamp.stat().st_mtime_ns,) * 2)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZTDL_", "DAGSTER_", "MAKE", "MFLAGS", "PYTEST_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update({"PATH": f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}", "PYTHONPATH": str(target),
                "ZTDL_PROFILE": "fast", "ZTDL_DATA_MIRROR": str(mirror), "TF_CPP_MIN_LOG_LEVEL": "2",
                "ZTDL_LOCAL_DIR": str(target / ".local-cache")})
    question = subprocess.run(["make", "-q", str(Path(".venv") / stamp.name)], cwd=target, env=env,
                              capture_output=True, text=True, check=False)
    assert question.returncode == 0, f"make would reinstall {VENV} from the scratch copy: {question.stderr}"
    return env


@dataclass
class Outcome:
    step: Step
    returncode: int | None  # None: still running after the timeout (the shell was stopped)
    output: str
    seconds: float
    answers: dict = field(default_factory=dict)  # a server's answers to the checks' GETs

    def report(self) -> str:
        return (f"{self.step.where}: exit {self.returncode} after {self.seconds:.0f} s\n$ {self.step.raw}\n"
                f"--- output (tail) ---\n{self.output[-TAIL:]}")


@dataclass
class Running:
    server: Server
    step: Step
    pid: int  # its process group (the shell runs with job control, so each job leads its own group)
    log: Path


def get_json(port: int, path: str, timeout: float = 10.0):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as answer:  # noqa: S310
        return json.loads(answer.read())


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class DocShell:
    """One document's terminal: a bash reading the steps from a pipe, each step's output in its own file."""

    def __init__(self, cwd: Path, env: dict[str, str], logs: Path):
        self.cwd, self.logs, self.count, self.servers = cwd, logs, 0, []
        logs.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc"], stdin=subprocess.PIPE, cwd=cwd, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
        self._send("set -m")  # job control: every job (a documented `&`, a server) leads its own process group

    def _send(self, script: str) -> None:
        self.proc.stdin.write(script + "\n")
        self.proc.stdin.flush()

    def _wait_for(self, path: Path, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.2)
        return False

    def run(self, step: Step, timeout: float) -> Outcome:
        """Run one step as written; its output goes to a file, its exit status comes back through another."""
        self.count += 1
        log, status = self.logs / f"{self.count:03d}.log", self.logs / f"{self.count:03d}.rc"
        started = time.monotonic()
        self._send(f"{{\n{step.raw}\n}} < /dev/null > {shlex.quote(str(log))} 2>&1\n"
                   f"echo $? > {shlex.quote(str(status))}.part && mv {shlex.quote(str(status))}.part "
                   f"{shlex.quote(str(status))}")
        done = self._wait_for(status, timeout)
        output = log.read_text(errors="replace") if log.exists() else ""
        if not done:
            self.close()
            return Outcome(step, None, output + f"\n[still running after {timeout:.0f} s: stopped]",
                           time.monotonic() - started)
        return Outcome(step, int(status.read_text()), output, time.monotonic() - started)

    def start(self, step: Step, server: Server, check) -> Outcome:
        """Start a server step in the background, ask it until `check(port)` answers (JSON), and keep it running
        until the document ends; an earlier server of this document on the same port is stopped first."""
        for running in [r for r in self.servers if r.server.port == server.port]:
            self.stop(running)
        started = time.monotonic()
        if not port_is_free(server.port):
            return Outcome(step, 1, f"port {server.port} is taken by a process this test did not start", 0.0)
        self.count += 1
        log, pid_file = self.logs / f"{self.count:03d}.log", self.logs / f"{self.count:03d}.pid"
        self._send(f"{{\n{step.raw}\n}} < /dev/null > {shlex.quote(str(log))} 2>&1 &\n"
                   f"echo $! > {shlex.quote(str(pid_file))}.part && mv {shlex.quote(str(pid_file))}.part "
                   f"{shlex.quote(str(pid_file))}\ndisown")  # out of the job table: a document's %1 stays its own
        assert self._wait_for(pid_file, 30), f"{step.where}: the shell did not start the server"
        running = Running(server, step, int(pid_file.read_text()), log)
        self.servers.append(running)
        deadline, last = time.monotonic() + READY_TIMEOUT_S, ""
        while time.monotonic() < deadline:
            if not _alive(running.pid):
                return Outcome(step, 1, log.read_text(errors="replace") + "\n[the server exited]",
                               time.monotonic() - started)
            try:
                answers = check(server.port)
                return Outcome(step, 0, log.read_text(errors="replace"), time.monotonic() - started, answers)
            except (OSError, ValueError) as error:  # not up yet (refused, reset, an HTML or partial answer)
                last = repr(error)
            time.sleep(1.0)
        return Outcome(step, 1, log.read_text(errors="replace") + f"\n[no answer in {READY_TIMEOUT_S:.0f} s: {last}]",
                       time.monotonic() - started)

    def stop(self, running: Running) -> None:
        _kill_group(running.pid)
        self.servers.remove(running)

    def close(self) -> None:
        """Stop the servers, the document's own `&` jobs and the shell: every process of the shell's session."""
        for running in list(self.servers):
            self.stop(running)
        session = self.proc.pid
        listed = subprocess.run(["ps", "-s", str(session), "-o", "pgid="], capture_output=True, text=True,
                                check=False).stdout.split()
        for group in sorted({int(g) for g in listed}, reverse=True):
            _kill_group(group)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_group(group: int) -> None:
    """SIGTERM to the group, SIGKILL to what is left after 15 s."""
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _alive(group):
            time.sleep(0.2)


# ---------------------------------------------------------------- what a reader checks


def _dagster(port: int) -> dict:
    info = get_json(port, "/server_info")
    assert "dagster_webserver_version" in info, info
    return info


def _serve(port: int) -> dict:
    return {"models": get_json(port, "/v1/models")}


class _TensorBoard:
    """Every run's per-epoch loss curve, as TensorBoard's scalars plugin serves it to the charts. TensorBoard
    answers before it has read the logs: an answer without curves counts only after 30 s of them."""

    def __init__(self):
        self.first = None

    def __call__(self, port: int) -> dict:
        runs = get_json(port, "/data/runs")
        tags = get_json(port, "/data/plugin/scalars/tags")
        curves = {run: get_json(port, f"/data/plugin/scalars/scalars?run={urllib.request.quote(run)}&tag=loss")
                  for run, run_tags in tags.items() if "loss" in run_tags}
        self.first = self.first or time.monotonic()
        if not curves and time.monotonic() - self.first < 30:
            raise ValueError("TensorBoard has not read any curve yet")
        return {"runs": runs, "curves": curves}


def _mlflow(port: int) -> dict:
    """Every run's per-epoch loss history, as MLflow's REST API serves it to its charts."""
    experiments = get_json(port, "/api/2.0/mlflow/experiments/search?max_results=100")["experiments"]
    ids = {e["experiment_id"]: e["name"] for e in experiments}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search", method="POST",
                                     data=json.dumps({"experiment_ids": list(ids)}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        runs = json.loads(answer.read()).get("runs", [])
    curves = {}
    for run in runs:
        run_id = run["info"]["run_id"]
        history = get_json(port, f"/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=loss")
        curves[run_id] = {"experiment": ids[run["info"]["experiment_id"]], "loss": history.get("metrics", [])}
    return {"experiments": sorted(ids.values()), "curves": curves}


CHECKS = {"dagster": lambda: _dagster, "ztdl-serve": lambda: _serve, "tensorboard": _TensorBoard, "mlflow": lambda: _mlflow}


@dataclass
class Reader:
    """The scratch clone and the terminal of the document being read; a document's `prepare` command runs
    before its first step."""

    root: Path
    env: dict
    logs: Path
    shell: DocShell | None = None
    doc: str = ""
    prepare: dict = field(default_factory=dict)  # doc -> (what it takes for granted, the command that makes it so)
    outcomes: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=lambda: defaultdict(list))  # reason -> the steps it kept from running

    def terminal(self, doc: str) -> DocShell:
        if doc != self.doc:
            if self.shell:
                self.shell.close()  # the previous document's servers and jobs end with it
            self.doc, self.shell = doc, DocShell(self.root, self.env, self.logs / doc.replace("/", "_"))
            if doc in self.prepare:
                reason, command = self.prepare[doc]
                outcome = self.shell.run(Step(doc, 0, 0, command), STEP_TIMEOUT_S)
                assert outcome.returncode == 0, f"preparing {doc} ({reason}) failed:\n{outcome.report()}"
        return self.shell

    def read(self, step: Step) -> Outcome:
        """Run a step in its document's terminal: a server started and asked, any other command to its end."""
        shell = self.terminal(step.doc)
        server = server_of(step)
        starts = server or server_of(step, background=True)
        for running in [r for r in shell.servers if starts and r.server.port == starts.port]:
            shell.stop(running)  # the port goes to the server this step starts, as a reader would free it
        timeout = STEP_TIMEOUT_S if {c.program for c in step.commands} & PIPELINE_PROGRAMS else QUICK_TIMEOUT_S
        outcome = shell.start(step, server, CHECKS[server.kind]()) if server else shell.run(step, timeout)
        self.outcomes[step.where] = outcome
        return outcome

    def close(self, seconds: float) -> str:
        """Stop the last document's terminal; the summary: each command's seconds, the counts."""
        if self.shell:
            self.shell.close()
        lines = [f"{o.seconds:7.1f} s  exit {o.returncode}  {where}  {o.step.raw.splitlines()[0][:90]}"
                 for where, o in self.outcomes.items()]
        skipped = ", ".join(f"{len(v)}: {k}" for k, v in self.skipped.items())
        lines.append(f"docs run: {len(self.outcomes)} commands run as written, "
                     f"{sum(map(len, self.skipped.values()))} skipped ({skipped}) in {seconds:.0f} s")
        return "\n".join(lines)


def failure(outcome: Outcome) -> str | None:
    """Why a finished step failed as written: its exit status, or a REST call that answered an error."""
    if outcome.returncode != 0:
        return outcome.report()
    commands = outcome.step.commands
    if len(commands) == 1 and commands[0].program == "curl" and server_of(outcome.step) is None:
        try:
            answer = json.loads(outcome.output)
        except ValueError:
            return outcome.report() + "\n(the answer is not JSON)"
        if isinstance(answer, dict) and "error" in answer:
            return outcome.report() + "\n(the server answered an error)"
    return None
