"""core.gate: the export decision."""

from __future__ import annotations

import pytest

from ztdl_pipeline.core.gate import decide


def test_passes_above_threshold_without_previous():
    decision = decide("test/accuracy", 0.9, 0.8)
    assert decision.passed
    assert decision.reasons == []
    assert (decision.metric, decision.value, decision.threshold, decision.previous) == ("test/accuracy", 0.9, 0.8, None)


def test_value_equal_to_threshold_passes():
    assert decide("m", 0.8, 0.8).passed


def test_below_threshold_fails_with_reason():
    decision = decide("test/accuracy", 0.7, 0.8)
    assert not decision.passed
    assert len(decision.reasons) == 1
    assert "test/accuracy 0.7000 is below the threshold 0.8000" in decision.reasons[0]


@pytest.mark.parametrize("value", [None, float("nan")])
def test_unmeasured_metric_fails(value):
    decision = decide("test/r2", value, 0.0)
    assert not decision.passed
    assert decision.reasons == ["test/r2 was not measured"]


def test_regression_against_previous_export():
    worse = decide("m", 0.85, 0.8, previous=0.9)
    assert not worse.passed
    assert "worse than the current export's 0.9000" in worse.reasons[0]
    assert decide("m", 0.85, 0.8, previous=0.9, max_regression=0.06).passed  # within the allowance
    assert not decide("m", 0.85, 0.8, previous=0.9, max_regression=0.04).passed
    assert decide("m", 0.9, 0.8, previous=0.9).passed  # equal to the current export is no regression
    assert decide("m", 0.95, 0.8, previous=0.9).passed  # better than before


def test_both_reasons_are_reported():
    decision = decide("m", 0.5, 0.8, previous=0.9)
    assert not decision.passed
    assert len(decision.reasons) == 2


def test_lower_is_better():
    assert decide("mse", 10.0, 12.0, higher_is_better=False).passed
    below = decide("mse", 13.0, 12.0, higher_is_better=False)
    assert not below.passed and "threshold" in below.reasons[0]
    assert not decide("mse", 11.0, 12.0, previous=10.0, higher_is_better=False).passed
    assert decide("mse", 9.0, 12.0, previous=10.0, higher_is_better=False).passed
