"""The docs' REST calls, sent as written with the real curl to a real ztdl-serve (issue 18: no command fails as
written). Only the port changes: the test server listens on a free port instead of 8501. Calls to models this
session does not export (iris_softmax, shown with TF Serving in docker) are checked statically by
tests/unit/test_doc_commands.py."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest

from tests.doc_commands import all_commands
from tests.serving.helpers import MODELS

CALLS = [c for c in all_commands() if c.program == "curl" and any(f"/v1/models/{m}" in c.text for m in MODELS)]


def test_the_docs_show_rest_calls_to_the_served_examples():
    assert len(CALLS) >= 3  # predict, status and metadata of wifi_fc (docs/serving.md)


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.where)
def test_the_documented_call_answers(call, server):
    assert shutil.which("curl"), "curl is needed to send the documented calls"
    argv = [w.replace(":8501", f":{server.port}") for w in call.argv]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, (call.where, shlex.join(argv), proc.stderr)
    answer = json.loads(proc.stdout)
    assert "error" not in answer, (call.where, answer)
    assert {"predictions", "model_version_status", "metadata"} & set(answer), (call.where, answer)
    if "predictions" in answer:
        assert len(answer["predictions"]) == len(json.loads(call.argv[call.argv.index("-d") + 1])["instances"])
