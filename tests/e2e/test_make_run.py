"""`make run` does the work once (issue 14): the real Makefile target in subprocesses, with its own DAGSTER_HOME
and storage root. A second run with nothing changed materializes nothing; a changed source file
($ZTDL_SOURCE_IRIS) reruns exactly its chain and publishes export version 2; FORCE=1 reruns everything
selected; a selection whose source cannot be read here is left out with the reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SELECT = 'SELECT=+key:"exports/iris_softmax_export"'


@pytest.fixture(scope="module")
def env(tmp_path_factory, mirror):
    base = tmp_path_factory.mktemp("make_run")
    mine = base / "my_iris.csv"
    shutil.copyfile(mirror / "iris.csv", mine)
    (base / "home").mkdir()  # each test stands alone (`make run` would write the instance file in it)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    environment.update({"DAGSTER_HOME": str(base / "home"), "ZTDL_DATA_DIR": str(base / "data"),
                        "ZTDL_DATA_MIRROR": str(mirror), "ZTDL_PROFILE": "fast", "ZTDL_SOURCE_IRIS": str(mine),
                        "TF_CPP_MIN_LOG_LEVEL": "2", "DAGSTER_DISABLE_TELEMETRY": "yes"})
    return environment, base


def _make_run(env: dict, *variables: str) -> tuple[str, float]:
    started = time.monotonic()
    proc = subprocess.run(["make", "--no-print-directory", "run", *variables], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    return output, time.monotonic() - started


def _python(env: dict, code: str, *args: str) -> str:
    proc = subprocess.run([str(BIN / "python"), "-c", code, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    return proc.stdout.strip()


def _replays(env: dict, select_variable: str) -> bool:
    """Whether `make run` with this selection would replay its stamp (the same check run.py makes first)."""
    code = "import sys; from ztdl_pipeline import run_stamp; print(run_stamp.replay(sys.argv[1], run_stamp.environment()) is not None)"
    return _python(env, code, select_variable.split("=", 1)[1]) == "True"


def _wipe(env: dict, key: str) -> bool:
    code = ("import sys, dagster as dg\nwith dg.DagsterInstance.get() as i:\n"
            "    i.wipe_assets([dg.AssetKey.from_user_string(sys.argv[1])])\nprint('wiped')")
    return _python(env, code, key) == "wiped"


def _versions(base: Path) -> list[str]:
    folder = base / "data" / "fast" / "exports" / "iris_softmax"
    return sorted(p.name for p in folder.iterdir() if p.name.isdigit())


def test_make_run_does_the_work_once_and_again_only_for_a_change(env):
    environment, base = env
    first, _ = _make_run(environment, SELECT)
    assert "run: 5 to materialize" in first and "RUN_SUCCESS" in first
    assert _versions(base) == ["1"]

    second, _ = _make_run(environment, SELECT)
    assert "run: nothing to do: every selected asset is fresh" in second and "RUN_SUCCESS" not in second
    # the first run checked afterwards that a rerun would have nothing to do (run_check.py): replayed, nothing loaded
    assert "run: nothing changed since the check at" in second and "recovery:" not in second
    # any write to the run history (here a wipe through Dagster's API) makes the next `make run` look again
    assert _replays(environment, SELECT) and _wipe(environment, "reports/iris_softmax_report")
    assert not _replays(environment, SELECT)

    with Path(environment["ZTDL_SOURCE_IRIS"]).open("a") as handle:
        handle.write("6.1,3.0,5.0,1.9,virginica\n")
    third, _ = _make_run(environment, SELECT)
    assert "sources/iris_source changed" in third and "run: 5 to materialize" in third
    assert _versions(base) == ["1", "2"]

    forced, _ = _make_run(environment, SELECT, "FORCE=1")
    assert "run: 5 to materialize" in forced and "RUN_SUCCESS" in forced


def test_a_selection_whose_source_cannot_be_read_is_left_out_with_the_reason(env):
    environment, _ = env
    proc = subprocess.run([str(BIN / "python"), "-m", "ztdl_pipeline.run", "--dry-run", "--select",
                           'key:"raw/cifar10_raw"+'], cwd=REPO, env=environment, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "left out raw/cifar10_raw: its source cifar10 cannot be read here" in proc.stdout
    assert "run: nothing to do" in proc.stdout
