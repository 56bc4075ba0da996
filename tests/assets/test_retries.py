"""Retries (issue 14): a raw asset retries a transient failure with backoff, and fails at once, never retried, on bad
input (a hash mismatch, wrong columns, a bad configured path)."""

from __future__ import annotations

import dagster as dg
import pytest

from ztdl_pipeline.assets.base import RAW_RETRY, key, permanent_errors
from ztdl_pipeline.core.errors import DataError, FetchFailed


def _step_events(result, kind: str) -> int:
    return sum(1 for e in result.all_events if e.event_type_value == kind)


def test_a_transient_fetch_failure_is_retried_with_backoff():
    attempts = []

    @dg.asset(retry_policy=RAW_RETRY)
    @permanent_errors
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise FetchFailed("https://example.invalid/iris.csv", "download failed (connection reset)")
        return 1

    result = dg.materialize([flaky])
    assert result.success and len(attempts) == 3
    assert _step_events(result, "STEP_UP_FOR_RETRY") == 2


@pytest.mark.fault
def test_bad_input_fails_at_once_and_is_not_retried():
    attempts = []

    @dg.asset(retry_policy=RAW_RETRY)
    @permanent_errors
    def wrong_columns() -> int:
        attempts.append(1)
        raise DataError("/data/iris.csv", "missing column 'species'", "fix the file")

    result = dg.materialize([wrong_columns], raise_on_error=False)
    assert not result.success and len(attempts) == 1
    assert _step_events(result, "STEP_UP_FOR_RETRY") == 0
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "/data/iris.csv: missing column 'species'" in failure.step_failure_data.error.message


@pytest.mark.fault
def test_the_real_raw_asset_fails_once_on_a_bad_configured_file(tmp_path, mirror, monkeypatch):
    bad = tmp_path / "iris.csv"
    bad.write_text("sepal_length,sepal_width\n1,2\n")
    for name, value in {"ZTDL_DATA_DIR": str(tmp_path / "data"), "ZTDL_DATA_MIRROR": str(mirror),
                        "ZTDL_PROFILE": "fast", "ZTDL_SOURCE_IRIS": str(bad)}.items():
        monkeypatch.setenv(name, value)
    from ztdl_pipeline.definitions import ALL_ASSETS, resources

    result = dg.materialize(ALL_ASSETS, resources=resources(), selection=[key("raw", "iris")], raise_on_error=False)
    assert not result.success
    assert _step_events(result, "STEP_START") == 1 and _step_events(result, "STEP_UP_FOR_RETRY") == 0
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert str(bad) in failure.step_failure_data.error.message
    assert "missing column" in failure.step_failure_data.error.message
