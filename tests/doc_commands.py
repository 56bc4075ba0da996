"""The shell commands shown in the README and docs/*.md, collected from their fenced code blocks.

A block is shell when its fence says bash, sh, shell or console. Lines ending in a backslash and quoted arguments over several lines are joined, a
heredoc (`cat > f <<'END'` … `END`) is one command, `#` comments outside quotes are dropped, and leading
`NAME=value` assignments become the command's environment; `a && b` is two commands. tests/unit/test_doc_commands.py checks each one
against the code (targets, selections, run config, flags); tests/serving/test_doc_curl.py sends the REST
calls to a real ztdl-serve.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHELL_FENCES = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^```(\w*)\s*$")
HEREDOC = re.compile(r"<<-?\s*'?\"?(\w+)'?\"?")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
CONTROL = {"&&", "||", "|", ";"}  # words that end one simple command and start the next


@dataclass(frozen=True)
class Command:
    doc: str  # path relative to the repository
    line: int  # first line of the command in that file
    text: str  # as shown, continuation lines joined
    env: dict[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def program(self) -> str:
        """The program's name without its folder: `.venv/bin/dagster` -> `dagster`."""
        return (Path(self.argv[0]).name or self.argv[0]) if self.argv else ""  # `.` (source) stays `.`


def documents(repo: Path = REPO) -> list[Path]:
    return [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]


def _split(text: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """(environment, argv) of one simple command."""
    words = shlex.split(text, comments=True)
    env = {}
    while words and ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return env, tuple(words)


def _segments(text: str) -> list[tuple[dict[str, str], tuple[str, ...]]]:
    """A line's simple commands: `make home && export X=1` is two (split at &&, ||, | and ;)."""
    found, current = [], []
    for word in shlex.split(text, comments=True) + [";"]:
        if word in CONTROL:
            if current:
                found.append(_split(shlex.join(current)))
            current = []
        else:
            current.append(word)
    return found


def _open_quote(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
    except ValueError:
        return True
    return False


@dataclass(frozen=True)
class Step:
    """One command line as a reader types it: its lines as written (continuations, a heredoc's body, a quoted
    argument over several lines), in the fenced block that starts at `block`. tests/doc_shell.py runs it."""

    doc: str
    line: int
    block: int
    raw: str
    heredoc: bool = False

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def commands(self) -> list[Command]:
        if self.heredoc:  # the body is data, not commands
            return [Command(self.doc, self.line, self.raw, *_split(self.raw.split("\n")[0]))]
        text = " ".join(part.strip().removesuffix("\\").rstrip() for part in self.raw.split("\n"))
        return [Command(self.doc, self.line, shlex.join(argv), env, argv) for env, argv in _segments(text)]


def steps_in(path: Path, repo: Path = REPO) -> list[Step]:
    found, fence, lines, start, block, heredoc_end = [], None, [], 0, 0, None
    doc = str(path.relative_to(repo))
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = FENCE.match(line.strip())
        if fence is None:
            if match:
                fence, block = match.group(1).lower(), number
            continue
        if match and not heredoc_end:  # the closing fence
            fence = None
            continue
        if fence not in SHELL_FENCES:
            continue
        if heredoc_end:  # inside a heredoc: the body belongs to the command
            lines.append(line)
            if line.strip() == heredoc_end:
                found.append(Step(doc, start, block, "\n".join(lines), heredoc=True))
                lines, heredoc_end = [], None
            continue
        if not lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            start = number
        lines.append(line)
        joined = " ".join(part.strip().removesuffix("\\").rstrip() for part in lines)
        if line.rstrip().endswith("\\"):
            continue
        heredoc = HEREDOC.search(joined)
        if heredoc:
            heredoc_end = heredoc.group(1)
            continue
        if _open_quote(joined):  # a quoted argument (a JSON run config) goes on over several lines
            continue
        found.append(Step(doc, start, block, "\n".join(lines)))
        lines = []
    return found


def commands_in(path: Path, repo: Path = REPO) -> list[Command]:
    return [command for step in steps_in(path, repo) for command in step.commands]


SHELL_START = re.compile(r"^(make|\.venv/bin/|curl|dagster|dg|python|export|ztdl-serve|(?:[A-Z_]+=\S*\s+)+make)\b")


def untagged_shell_blocks(repo: Path = REPO) -> list[str]:
    """Fenced blocks without a language whose first line reads like a command: the collector would miss them."""
    found = []
    for path in documents(repo):
        fence = None
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = FENCE.match(line.strip())
            if fence is None and match:
                fence = (match.group(1), number)
            elif fence is not None and match:
                fence = None
            elif fence is not None and fence[1] == number - 1 and not fence[0] and SHELL_START.match(line):
                found.append(f"{path.relative_to(repo)}:{fence[1]}")
    return found


def all_steps(repo: Path = REPO) -> list[Step]:
    return [step for path in documents(repo) for step in steps_in(path, repo)]


def all_commands(repo: Path = REPO) -> list[Command]:
    return [command for path in documents(repo) for command in commands_in(path, repo)]


NOT_HERE = {  # program -> what it needs that this machine lacks (its whole block is skipped with this reason)
    "docker": "docker with network access, to pull images (tensorflow/serving, python:3.11-slim)",
    "kubectl": "a Kubernetes cluster",
    "helm": "a Kubernetes cluster",
    "apt-get": "root, to install and start the system's PostgreSQL (tests/e2e/test_postgres_instance.py runs the "
               "same steps on a throwaway server from initdb)",
    "pg_ctlcluster": "the system's PostgreSQL cluster (tests/e2e/test_postgres_instance.py: a throwaway one)",
    "service": "the system's Redis service (tests/e2e/test_celery_executor.py: a throwaway redis-server)",
    "dagster-celery": "a Redis broker at ZTDL_CELERY_BROKER (tests/e2e/test_celery_executor.py starts workers "
                      "against a throwaway redis-server)",
}


@dataclass(frozen=True)
class Server:
    """A documented command that serves until stopped: where it answers and the GET that proves it is up."""

    kind: str
    port: int
    ready: str  # a path whose answer is JSON from this kind of server


SERVER_KINDS = {  # kind -> (default port, readiness path)
    "dagster": (3000, "/server_info"),
    "ztdl-serve": (8501, "/v1/models"),
    "tensorboard": (6006, "/data/runs"),
    "mlflow": (5000, "/api/2.0/mlflow/experiments/search?max_results=100"),
}
MAKE_SERVERS = {"dev": ("dagster", "PORT"), "serve": ("ztdl-serve", "SERVE_PORT"),
                "tensorboard": ("tensorboard", "TENSORBOARD_PORT"), "mlflow": ("mlflow", "MLFLOW_PORT")}
PROGRAM_SERVERS = {  # (program, first argument or None) -> kind; the port comes from --port or -p
    ("ztdl-serve", None): "ztdl-serve", ("dagster", "dev"): "dagster", ("dagster-webserver", None): "dagster",
    ("tensorboard", None): "tensorboard", ("mlflow", "ui"): "mlflow", ("mlflow", "server"): "mlflow",
}


def server_of(step: Step, background: bool = False) -> Server | None:
    """The server a step starts in the foreground (a reader leaves it running in its own terminal); None for
    other steps. With `background`, the server a step sends to the background itself with `&`."""
    commands = step.commands
    if len(commands) != 1 or step.heredoc or (commands[0].argv[-1:] == ("&",)) != background:
        return None
    command = commands[0]
    if command.program == "make":
        targets = [w for w in command.argv[1:] if "=" not in w]
        variables = dict(w.split("=", 1) for w in command.argv[1:] if "=" in w)
        if len(targets) != 1 or targets[0] not in MAKE_SERVERS:
            return None
        kind, port_variable = MAKE_SERVERS[targets[0]]
        port = variables.get(port_variable) or command.env.get(port_variable)
    else:
        kind = PROGRAM_SERVERS.get((command.program, None)) or PROGRAM_SERVERS.get(
            (command.program, command.argv[1] if len(command.argv) > 1 else ""))
        if kind is None:
            return None
        words = [w for w in command.argv if w != "&"]
        port = next((words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--port", "-p")), None)
    default, ready = SERVER_KINDS[kind]
    return Server(kind, int(port or default), ready)


ABSOLUTE_PATH = re.compile(r"(?:(?<=[\s'\"=])|(?<=file://)|^)(/[\w.-]+(?:/[\w.-]+)+)")


def absent_paths(step: Step) -> list[str]:
    """The absolute paths a step names that do not exist on this machine (a reader's own copy of a file, e.g.
    `/models/xception_weights...h5`, `--exports /srv/exports`)."""
    text = step.raw.split("\n")[0] if step.heredoc else step.raw  # a heredoc's body is data (a container's paths)
    return [path for path in ABSOLUTE_PATH.findall(text) if not Path(path).exists()]


def not_here(steps: list[Step]) -> dict[int, str]:
    """block -> why none of its steps can run here (a program of NOT_HERE in it: the block's steps depend on
    each other, so one step that cannot run stops the block)."""
    reasons = {}
    for step in steps:
        for command in step.commands:
            if command.program in NOT_HERE and step.block not in reasons:
                reasons[step.block] = f"`{command.program}` ({step.where}) needs {NOT_HERE[command.program]}"
    return reasons
