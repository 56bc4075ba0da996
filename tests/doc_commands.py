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


def commands_in(path: Path, repo: Path = REPO) -> list[Command]:
    found, fence, pending, start, heredoc_end = [], None, "", 0, None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = FENCE.match(line.strip())
        if fence is None:
            if match:
                fence = match.group(1).lower()
            continue
        if match and not heredoc_end:  # the closing fence
            fence = None
            continue
        if fence not in SHELL_FENCES:
            continue
        if heredoc_end:  # inside a heredoc: the body belongs to the command
            pending += "\n" + line
            if line.strip() == heredoc_end:
                found.append(Command(str(path.relative_to(repo)), start, pending, *_split(pending.split("\n")[0])))
                pending, heredoc_end = "", None
            continue
        if not pending:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            start = number
        pending = f"{pending} {line.strip()}" if pending else line.strip()
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        heredoc = HEREDOC.search(pending)
        if heredoc:
            heredoc_end = heredoc.group(1)
            continue
        if _open_quote(pending):  # a quoted argument (a JSON run config) goes on over several lines
            continue
        doc = str(path.relative_to(repo))
        found.extend(Command(doc, start, shlex.join(argv), env, argv) for env, argv in _segments(pending))
        pending = ""
    return found


def all_commands(repo: Path = REPO) -> list[Command]:
    return [command for path in documents(repo) for command in commands_in(path, repo)]
