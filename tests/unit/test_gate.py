"""core.gate: the export decision."""

from __future__ import annotations

import pytest

from ztdl_pipeline.core.gate import decide


def test_passes_above_threshold_without_previous():
    decision = decide("test/accuracy", 0.9, 0.8, baseline=0.0)
    assert decision.passed
    assert decision.reasons == []
    assert (decision.metric, decision.value, decision.threshold, decision.previous) == ("test/accuracy", 0.9, 0.8, None)


def test_value_equal_to_threshold_passes():
    assert decide("m", 0.8, 0.8, baseline=0.0).passed


def test_below_threshold_fails_with_reason():
    decision = decide("test/accuracy", 0.7, 0.8, baseline=0.0)
    assert not decision.passed
    assert len(decision.reasons) == 1
    assert "test/accuracy 0.7000 is below the threshold 0.8000" in decision.reasons[0]


@pytest.mark.parametrize("value", [None, float("nan")])
def test_unmeasured_metric_fails(value):
    decision = decide("test/r2", value, 0.0, baseline=0.0)
    assert not decision.passed
    assert decision.reasons == ["test/r2 was not measured"]


def test_regression_against_previous_export():
    worse = decide("m", 0.85, 0.8, previous=0.9, baseline=0.0)
    assert not worse.passed
    assert "worse than the current export's 0.9000" in worse.reasons[0]
    assert decide("m", 0.85, 0.8, previous=0.9, max_regression=0.06, baseline=0.0).passed  # within the allowance
    assert not decide("m", 0.85, 0.8, previous=0.9, max_regression=0.04, baseline=0.0).passed
    assert decide("m", 0.9, 0.8, previous=0.9, baseline=0.0).passed  # equal to the current export is no regression
    assert decide("m", 0.95, 0.8, previous=0.9, baseline=0.0).passed  # better than before


def test_both_reasons_are_reported():
    decision = decide("m", 0.5, 0.8, previous=0.9, baseline=0.0)
    assert not decision.passed
    assert len(decision.reasons) == 2


def test_lower_is_better():
    assert decide("mse", 10.0, 12.0, higher_is_better=False, baseline=100.0).passed
    below = decide("mse", 13.0, 12.0, higher_is_better=False, baseline=100.0)
    assert not below.passed and "threshold" in below.reasons[0]
    assert not decide("mse", 11.0, 12.0, previous=10.0, higher_is_better=False, baseline=100.0).passed
    assert decide("mse", 9.0, 12.0, previous=10.0, higher_is_better=False, baseline=100.0).passed


def test_no_better_than_the_baseline_fails_even_above_the_threshold():
    # a fast-profile floor of 0.5 on a table where 0.9 of the rows are one class: 0.9 learned nothing
    decision = decide("test/accuracy", 0.9, 0.5, baseline=0.9)
    assert not decision.passed
    assert decision.reasons == ["test/accuracy 0.9000 is no better than the baseline 0.9000"]
    assert decide("test/accuracy", 0.91, 0.5, baseline=0.9).passed
    assert decision.bar == "test/accuracy ≥ 0.5000 and > baseline 0.9000"


@pytest.mark.parametrize("baseline", [None, float("nan")])
def test_an_unmeasured_baseline_fails_the_gate(baseline):
    decision = decide("test/r2", 0.99, 0.0, baseline=baseline)
    assert not decision.passed and "no baseline was measured" in decision.reasons[0]


def test_baseline_of_reads_the_metrics_section():
    from ztdl_pipeline.core.gate import baseline_of

    metrics = {"baselines": {"test": {"accuracy": 0.6, "rule": "majority"}}}
    assert baseline_of(metrics, "test", "accuracy") == 0.6
    assert baseline_of(metrics, "train", "accuracy") is None
    assert baseline_of(metrics, "test", "rule") is None
    assert baseline_of({}, "test", "accuracy") is None
