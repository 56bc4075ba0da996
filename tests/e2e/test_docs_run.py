"""Every shell command of the README and docs/*.md, run as written (issue 18; `make test-docs`).

One scratch copy of the repository (tests/doc_shell.py) for all documents, the README first and the docs in
name order, so a document sees what the ones before it made, as a reader who followed the README would; each
document gets a fresh terminal (its `export`s and `&` jobs end with it). Everything runs at the fast profile.
A server a reader leaves running (`make dev`, `make serve`, `make tensorboard`, ...) is started in the
background, asked over HTTP until it answers with its own JSON, and stopped when its document ends. A block
with a program this machine lacks (docker, a cluster, the system's services), and a command naming a file
this machine lacks (/models/..., /srv/exports), are skipped with the reason; a command too long to run here
stands in NOT_LITERAL with the reason, and a test keeps that table small. A command its document says fails
offline (FAILS_OFFLINE) runs too and must fail with the message the document promises. A failure names the
file and line, the command and the tail of its output.
"""

from __future__ import annotations

import time

import pytest

from tests.doc_commands import absent_paths, all_steps, not_here, server_of
from tests.doc_shell import Reader, failure, scratch_copy

pytestmark = [pytest.mark.docs, pytest.mark.e2e]

STEPS = all_steps()
BLOCKED = not_here(STEPS)
NOT_LITERAL = {  # (doc, the command without its comment) -> why that command does not run here as written
    ("README.md", "make test"): "`make test` is the whole suite (about 15 minutes on 2 cores), this test among it",
    ("docs/benchmarks.md", "make bench"): "`make bench` runs every benchmark (tens of minutes); bench/ has its own "
                                          "tests",
    ("docs/benchmarks.md", ".venv/bin/python bench/whole_graph.py"): "the whole graph at book settings, the book's "
                                                                     "code beside it (about 50 minutes on 2 cores); "
                                                                     "tests/e2e/test_whole_graph_bench.py runs ch1",
}
FAILS_OFFLINE = {  # (doc, command) -> the message its document says it stops with on a machine without network
    ("docs/chapters.md", "make run SELECT='group:transfer'"): "raw/sports_images_raw: 60 of 60 downloads failed",
}


def _command(step) -> tuple[str, str]:
    """What the tables above are keyed by: the document and the command as typed, without its comment (a line
    number would move whenever the document grows); a whole_graph.py line with arguments is the same command."""
    command = step.raw.split("#")[0].strip() if "#" in step.raw and "'" not in step.raw.split("#")[0] else step.raw
    command = " ".join(command.split())
    if command.startswith(".venv/bin/python bench/whole_graph.py"):
        command = ".venv/bin/python bench/whole_graph.py"
    return step.doc, command


PREPARE = {  # doc -> (what it takes for granted, the command that makes it so, run before its first step)
    "docs/serving.md": ("the README's `make run` at the book's settings published wifi_fc (served by `make serve`)",
                        "ZTDL_PROFILE=book make run SELECT='+key:\"exports/wifi_fc_export\"'"),
}


@pytest.fixture(scope="module")
def reader(tmp_path_factory, mirror):
    base = tmp_path_factory.mktemp("docs_run")
    (base / "clone").mkdir()
    env = scratch_copy(base / "clone", mirror)
    reading = Reader(base / "clone", env, base / "logs", prepare=PREPARE)
    started = time.monotonic()
    yield reading
    print("\n" + reading.close(time.monotonic() - started))


def _skip_reason(step) -> str | None:
    if step.block in BLOCKED:
        return BLOCKED[step.block]
    if absent_paths(step):
        return f"names {', '.join(absent_paths(step))}, which this machine lacks (a reader's own copy)"
    return NOT_LITERAL.get(_command(step))


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.where)
def test_the_documented_command_runs_as_written(step, reader):
    reason = _skip_reason(step)
    if reason:
        reader.skipped[reason.split(" (")[0]].append(step.where)
        pytest.skip(reason)
    outcome = reader.read(step)
    if _command(step) in FAILS_OFFLINE:  # run as written all the same: it must fail the way its document says
        expected = FAILS_OFFLINE[_command(step)]
        assert outcome.returncode not in (0, None) and expected in outcome.output, outcome.report()
        return
    problem = failure(outcome)
    assert problem is None, problem


def _answers(reader, doc: str, kind: str) -> list[dict]:
    return [o.answers for o in reader.outcomes.values()
            if o.step.doc == doc and o.answers and server_of(o.step).kind == kind]


def test_tensorboard_lays_two_trainings_curves_side_by_side(reader):
    """docs/tracking.md: after two trainings of banknotes_logreg, `make tensorboard` serves both runs, each
    with a loss value per epoch (what its chart draws)."""
    answers = _answers(reader, "docs/tracking.md", "tensorboard")
    assert answers, "docs/tracking.md's `make tensorboard` did not answer (see its step)"
    curves = {run: points for run, points in answers[-1]["curves"].items()
              if run.startswith("banknotes_logreg/") and run.endswith("/train")}
    assert len(curves) >= 2, f"two trainings' runs expected, TensorBoard shows {sorted(answers[-1]['curves'])}"
    for run, points in curves.items():
        assert len(points) >= 2 and [p[1] for p in points] == sorted(p[1] for p in points), (run, points)


def test_mlflow_lays_two_trainings_curves_side_by_side(reader):
    """docs/tracking.md: `make mlflow` after two recorded trainings of banknotes_logreg serves both runs, each
    with its per-epoch loss history."""
    answers = _answers(reader, "docs/tracking.md", "mlflow")
    assert answers, "docs/tracking.md's `make mlflow` did not answer (see its step)"
    runs = {run: c["loss"] for run, c in answers[-1]["curves"].items() if c["experiment"] == "banknotes_logreg"}
    assert len(runs) >= 2, f"two trainings expected in MLflow, found {answers[-1]}"
    for run, history in runs.items():
        assert len(history) >= 2, (run, history)


def test_the_commands_not_run_as_written_stay_few():
    assert len(NOT_LITERAL) <= 3, "run them (a smaller SELECT in the docs, or a faster target) instead"
    known = {_command(s) for s in STEPS}
    stale = (set(NOT_LITERAL) | set(FAILS_OFFLINE)) - known
    assert not stale, f"entries for commands the docs no longer show: {stale}"
