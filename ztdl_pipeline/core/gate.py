"""The export gate ("blessing"): is a model good enough to publish?"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    metric: str
    value: float | None
    threshold: float
    previous: float | None
    reasons: list[str] = field(default_factory=list)


def decide(metric: str, value: float | None, threshold: float, previous: float | None = None,
           max_regression: float = 0.0, higher_is_better: bool = True) -> GateDecision:
    """Pass when `value` clears `threshold` and is not worse than `previous` by more than `max_regression`."""
    sign = 1.0 if higher_is_better else -1.0
    reasons = []
    if value is None or value != value:  # None or NaN
        reasons.append(f"{metric} was not measured")
    else:
        if sign * (value - threshold) < 0:
            reasons.append(f"{metric} {value:.4f} is below the threshold {threshold:.4f}")
        if previous is not None and sign * (value - previous) < -max_regression - 1e-12:  # float noise
            reasons.append(f"{metric} {value:.4f} is worse than the current export's {previous:.4f} "
                           f"(allowed regression {max_regression:.4f})")
    return GateDecision(not reasons, metric, value, threshold, previous, reasons)
