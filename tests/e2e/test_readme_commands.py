"""The README's "Using it" commands that train one example's chain, run as written in a scratch clone at the
fast profile (the part of `make test-docs` that `make test` runs too, so a broken README fails the suite):
`make home && export DAGSTER_HOME=...`, then `dg launch` of the iris chain and of everything downstream of
the Wi-Fi file. The group-wide commands beside them run in tests/e2e/test_docs_run.py (`make test-docs`)."""

from __future__ import annotations

import pytest

from tests.doc_commands import all_steps
from tests.doc_shell import Reader, failure, scratch_copy

pytestmark = pytest.mark.e2e

QUICK = [s for s in all_steps() if s.doc == "README.md" and ("make home" in s.raw or
                                                             ("dg launch" in s.raw and "group:" not in s.raw))]


def test_the_quick_commands_are_the_readmes_single_example_ones():
    assert len(QUICK) >= 3, [s.where for s in QUICK]  # make home && export, dg launch of one chain, of one file
    assert all("group:" not in s.raw for s in QUICK)


@pytest.fixture(scope="module")
def reader(tmp_path_factory, mirror):
    base = tmp_path_factory.mktemp("readme_commands")
    (base / "clone").mkdir()
    reading = Reader(base / "clone", scratch_copy(base / "clone", mirror), base / "logs")
    yield reading
    reading.close(0)


@pytest.mark.parametrize("step", QUICK, ids=lambda s: s.where)
def test_the_readme_command_runs_as_written(step, reader):
    problem = failure(reader.read(step))
    assert problem is None, problem


def test_the_runs_left_what_the_readme_promises(reader):
    """The iris chain's export and report, the Wi-Fi file's chain down to its predictions, under the fast
    profile's root, in the run history of the instance the README's `make home` wrote."""
    root = reader.root / "data" / "fast"
    for example in ("iris_softmax", "wifi_fc"):
        assert (root / "exports" / example / "1" / "saved_model.pb").is_file(), example
        assert (root / "reports" / example / "report.md").is_file(), example
    assert any((root / "predictions").rglob("*wifi*")), "no predictions of wifi_fc"
    assert (reader.root / ".dagster_home" / "dagster.yaml").is_file()
    runs = list((reader.root / ".dagster_home").rglob("*.db"))
    assert runs, "dg launch kept no run history in the README's instance"
