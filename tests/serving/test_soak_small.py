"""bench/soak.py, small: 4 clients × 400 predict requests against a real ztdl-serve while a new version is
published midway (both versions made by the real CLI). Zero errors, and both versions answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def test_small_soak_has_no_errors_and_both_versions_answer(tmp_path, mirror):
    env = {**os.environ, "ZTDL_DATA_MIRROR": str(mirror), "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "soak.py"), "--requests", "400", "--clients", "4",
                           "--results", str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=420, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    soak = json.loads((tmp_path / "soak.json").read_text())["soak"]
    assert soak["requests"] == 400 and soak["clients"] == 4
    assert soak["errors"] == 0 and soak["dropped"] == 0 and soak["failed"] == 0 and soak["missing"] == 0
    assert soak["answered"] == 400
    assert soak["published_version"] == 2
    assert soak["answers_by_version"]["1"] > 0 and soak["answers_by_version"]["2"] > 0
    assert soak["last_tenth_all_v2"]
    assert soak["before_publish"]["p99_ms"] is not None and soak["after_publish"]["p99_ms"] is not None
    assert "| errors (all kinds) | **0** |" in (tmp_path / "soak.md").read_text()
