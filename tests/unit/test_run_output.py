"""What a run prints (issue 18 item 3), the parts that need no run: the closing summary's wording, the filter that
drops TensorFlow's import notices from file descriptor 2 and keeps everything else, and the log-level setting."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ztdl_pipeline.core.run_summary import ExampleOutcome, Gate, lines, publication

PASSED = Gate("test/accuracy", 0.9667, 0.6, True)
REFUSED = Gate("test/accuracy", 0.41, 0.6, False, ("test/accuracy 0.4100 is below the threshold 0.6000",))


@pytest.mark.parametrize("selected, planned, materialized, gate, current, expected", [
    (True, "run", "new version 3", PASSED, 3, "published version 3"),
    (True, "run", "unchanged, version 2", PASSED, 2, "unchanged: version 2 was built from this model"),
    (True, "run", None, REFUSED, 2, "not published: refused by the gate (test/accuracy 0.4100 is below the "
                                    "threshold 0.6000) (current: version 2)"),
    (True, "run", None, PASSED, None, "not published: the run did not materialize it (see the errors above)"),
    (True, "fresh", None, PASSED, 4, "unchanged: version 4 is current"),
    (True, "its report's export gate refused the current model", None, REFUSED, None,
     "not published: its report's export gate refused the current model"),
    (False, "run", None, PASSED, 1, "not in the selection (current: version 1)"),
])
def test_the_summary_says_what_was_published_or_why_not(selected, planned, materialized, gate, current, expected):
    assert publication(selected, planned, materialized, gate, current) == expected


def test_the_summary_names_each_example_with_its_metric_threshold_version_and_paths(tmp_path):
    outcomes = [ExampleOutcome("iris_softmax", PASSED, "published version 1", tmp_path / "r" / "report.md",
                               tmp_path / "e" / "1"),
                ExampleOutcome("banknotes_logreg", None, "not in the selection", None, None)]
    text = lines(outcomes, "fast", "abc", cwd=tmp_path)
    assert text[0] == "summary (fast profile, run abc): 2 examples"
    assert text[1] == "  iris_softmax      test/accuracy 0.9667 (threshold 0.6000, passed) -> published version 1"
    assert text[2] == "                    report r/report.md, export e/1"
    assert text[3] == "  banknotes_logreg  gate not evaluated yet -> not in the selection"
    assert text[4].strip() == "report none yet, export none yet"


def test_tensorflows_import_notices_are_dropped_and_everything_else_is_kept():
    """The C++ side writes to descriptor 2 directly: the filter works there, not on sys.stderr."""
    code = textwrap.dedent(r"""
        import os, sys
        from ztdl_pipeline.core.quiet_tensorflow import stderr_without
        with stderr_without():
            os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
            os.write(2, b"I0000 00:00:1796673000.743833    5052 port.cc:153] oneDNN custom operations are on. "
                        b"You may see slightly different numerical results\n")
            os.write(2, b"E0000 00:00:1.2 3 cuda_dnn.cc:8] a real error stays\n")
            print("python's own stderr stays", file=sys.stderr)
        os.write(2, b"after\n")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stderr.splitlines() == ["E0000 00:00:1.2 3 cuda_dnn.cc:8] a real error stays",
                                        "python's own stderr stays", "after"]


def test_the_log_level_is_info_by_default_and_refuses_a_typo(monkeypatch):
    from ztdl_pipeline import settings

    monkeypatch.delenv(settings.LOG_LEVEL_ENV, raising=False)
    assert settings.log_level() == "info"
    monkeypatch.setenv(settings.LOG_LEVEL_ENV, "DEBUG")
    assert settings.log_level() == "debug"
    monkeypatch.setenv(settings.LOG_LEVEL_ENV, "verbose")
    with pytest.raises(ValueError, match="ZTDL_LOG_LEVEL='verbose': expected one of debug, info, warning, error"):
        settings.log_level()
