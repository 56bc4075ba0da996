"""Loading the code location (importing the definitions and building their repository, as Dagster does) stays
free of the heavy libraries the steps use: they are imported inside the steps that need them
(bench/import_time.py times the load; its goal is issue 17's)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("tensorflow", "keras", "sklearn", "optuna", "mlflow", "s3fs", "boto3", "botocore")


def test_loading_the_code_location_imports_none_of_the_step_libraries():
    code = ("import sys, json, ztdl_pipeline.definitions as d; d.defs.get_repository_def(); "
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
