"""The export gate ("blessing"): is a model good enough to publish?

A model passes when it (1) beats its trivial baseline on the gated split and metric (the majority class,
the train mean, the naive "repeat the last value" forecast: whatever a model that learned nothing would
score), (2) clears its threshold (book profile: the book's number minus the example's stated tolerance;
fast profile: a floor), and (3) is no worse than the export currently published under the same profile.
A gate without a measured baseline fails: every example must state what "learned nothing" scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BASELINES = "baselines"  # metrics[BASELINES][split][metric]: what a trivial predictor scores
BASELINE_RULE = "baseline_rule"  # metrics[BASELINE_RULE]: which trivial predictor, in words


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    metric: str
    value: float | None
    threshold: float
    previous: float | None
    baseline: float | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def bar(self) -> str:
        """The rule as one line, e.g. 'test/accuracy ≥ 0.9282 and > baseline 0.5554'."""
        beyond = f" and > baseline {self.baseline:.4f}" if self.baseline is not None else ""
        return f"{self.metric} ≥ {self.threshold:.4f}{beyond}"


def _missing(value: float | None) -> bool:
    return value is None or value != value  # None or NaN


def decide(metric: str, value: float | None, threshold: float, *, baseline: float | None,
           previous: float | None = None, max_regression: float = 0.0,
           higher_is_better: bool = True) -> GateDecision:
    """Pass when `value` beats `baseline` strictly, clears `threshold`, and is not worse than `previous` by
    more than `max_regression`. `baseline=None` (not measured) fails: a gate must be able to fail."""
    sign = 1.0 if higher_is_better else -1.0
    reasons = []
    if _missing(value):
        reasons.append(f"{metric} was not measured")
    else:
        if _missing(baseline):
            reasons.append(f"{metric}: no baseline was measured, so the gate cannot tell a model from chance")
        elif sign * (value - baseline) <= 1e-12:
            reasons.append(f"{metric} {value:.4f} is no better than the baseline {baseline:.4f}")
        if sign * (value - threshold) < -1e-12:  # float noise
            reasons.append(f"{metric} {value:.4f} is below the threshold {threshold:.4f}")
        if previous is not None and sign * (value - previous) < -max_regression - 1e-12:
            reasons.append(f"{metric} {value:.4f} is worse than the current export's {previous:.4f} "
                           f"(allowed regression {max_regression:.4f})")
    return GateDecision(not reasons, metric, value, threshold, previous,
                        None if _missing(baseline) else float(baseline), reasons)


def baseline_of(metrics: Mapping[str, Any], split: str, metric: str) -> float | None:
    """What the trivial predictor scores on `split`/`metric` (metrics[BASELINES]), or None if unmeasured."""
    section = (metrics.get(BASELINES) or {}).get(split) or {}
    value = section.get(metric)
    return float(value) if isinstance(value, (int, float)) else None
