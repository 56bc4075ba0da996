"""The tuned export's gate: a tuned model is published only when it beats the book-settings model on the test
split by more than the noise of that comparison.

The noise is measured with a paired bootstrap of the test split: resample its rows with replacement (seeded),
score both models on each resample, and take the spread of the difference. Why this and not the spread over
training seeds: the test splits here are small (20 to 3,000 rows), so which rows landed in the test split moves
a score by 1/n per row, and that is exactly what could make a tuned model look better than it is; the
bootstrap measures it on the very rows and predictions being compared, needs no extra training, and is
reproducible from its seed. The noise is 1.96 standard deviations of the bootstrapped difference (the half
width of a 95 % interval); the gate requires difference > noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ztdl_pipeline.core.gate import GateDecision, decide
from ztdl_pipeline.core.metrics import predicted_labels

Z95 = 1.96


@dataclass(frozen=True)
class TunedDecision(GateDecision):
    @property
    def bar(self) -> str:
        beyond = f" and > baseline {self.baseline:.4f}" if self.baseline is not None else ""
        return f"{self.metric} > {self.threshold:.4f} (book settings + noise){beyond}"


@dataclass(frozen=True)
class Comparison:
    """The tuned and book-settings models on the same test rows, and how much of the gap is noise."""

    metric: str
    tuned: float
    book_settings: float
    difference: float  # tuned − book settings
    noise: float  # Z95 × standard deviation of the bootstrapped difference
    low: float  # 2.5th percentile of the bootstrapped difference
    high: float  # 97.5th percentile
    resamples: int
    seed: int
    rows: int


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim > 1 else y.reshape(-1)


def _scores(metric: str, y: np.ndarray, output: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The metric on each resample (`rows`: resamples × n indices), vectorised."""
    if metric == "accuracy":
        correct = (predicted_labels(output) == _labels(y)).astype(np.float64)
        return correct[rows].mean(axis=1)
    if metric == "r2":
        truth, pred = np.asarray(y, np.float64).reshape(-1), np.asarray(output, np.float64).reshape(-1)
        t = truth[rows]
        sse = ((t - pred[rows]) ** 2).sum(axis=1)
        sst = ((t - t.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        return 1.0 - sse / np.where(sst > 0, sst, np.nan)
    raise ValueError(f"metric {metric!r}: the tuned gate compares accuracy or r2")


def compare(metric: str, y: np.ndarray, tuned_output: np.ndarray, book_output: np.ndarray, *, resamples: int,
            seed: int) -> Comparison:
    """Both models on all test rows, and the paired bootstrap of their difference."""
    n = len(_labels(y)) if metric == "accuracy" else len(np.asarray(y).reshape(-1))
    if n == 0:
        raise ValueError("the test split is empty: nothing to compare the tuned model on")
    everything = np.arange(n)[None, :]
    tuned, book = _scores(metric, y, tuned_output, everything)[0], _scores(metric, y, book_output, everything)[0]
    rows = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    differences = _scores(metric, y, tuned_output, rows) - _scores(metric, y, book_output, rows)
    differences = differences[np.isfinite(differences)]
    spread = float(np.std(differences)) if len(differences) else float("nan")
    low, high = (np.percentile(differences, [2.5, 97.5]) if len(differences) else (float("nan"),) * 2)
    return Comparison(metric, float(tuned), float(book), float(tuned - book), Z95 * spread, float(low), float(high),
                      resamples, seed, n)


def decide_tuned(comparison: Comparison, *, baseline: float | None, previous: float | None = None) -> GateDecision:
    """Pass when the tuned model beats the book-settings model by more than the noise, beats the trivial
    baseline, and is no worse than the tuned export already published. The decision's threshold is
    book settings + noise (the value to beat, strictly)."""
    c = comparison
    name = f"test/{c.metric}"
    threshold = c.book_settings + c.noise
    base = decide(name, c.tuned, float("-inf"), baseline=baseline, previous=previous)
    reasons = list(base.reasons)
    if not (c.noise == c.noise):  # nan: the bootstrap could not measure it
        reasons.append(f"{name}: the noise of the comparison could not be measured")
    elif not c.difference > c.noise + 1e-12:  # "more than": a difference equal to the noise (up to float error) fails
        reasons.append(f"{name} {c.tuned:.4f} beats the book-settings model's {c.book_settings:.4f} by "
                       f"{c.difference:+.4f}, not by more than the noise {c.noise:.4f} (paired bootstrap of "
                       f"{c.rows} test rows, {c.resamples} resamples)")
    return TunedDecision(not reasons, name, c.tuned, threshold, previous, base.baseline, reasons)
